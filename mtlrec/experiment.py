"""One run end to end: prepare the data, build the model, train it, evaluate it on the test rows."""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from mtlrec.config import PREDICTION_COLUMNS, ExperimentConfig
from mtlrec.data import Loaded, Prepared, prepare
from mtlrec.diagnostics import final_diagnostics
from mtlrec.encode import Encoder
from mtlrec.metrics import task_metrics
from mtlrec.models import build_model, count_parameters, start_at_base_rates
from mtlrec.resources import check_memory, estimate_memory
from mtlrec.schema import epoch_units, parse_time
from mtlrec.train import Progress, RunRandom, Trainer, predict_raw, resolve_device
from mtlrec.weighting import build_weighting


@dataclass
class RunResult:
    """A finished, stopped or failed run: what the run store saves and the pages show."""

    config: ExperimentConfig
    status: str  # finished | stopped | failed
    message: str
    history: pd.DataFrame  # one row per epoch (see mtlrec.train.history_row)
    metrics: dict  # the content of metrics.json
    model: nn.Module | None = None
    encoder: Encoder | None = None
    predictions: pd.DataFrame | None = None  # test rows: ids, labels and per-task predictions
    notes: list[str] = field(default_factory=list)


def predict_frame(model: nn.Module, encoder: Encoder, encoded, device: torch.device) -> np.ndarray:
    """Per-task predictions for encoded rows, on the labels' own scale."""
    return encoder.to_label_scale(predict_raw(model, encoded, device))


def label_values(prepared_frame: pd.DataFrame, encoder: Encoder, encoded) -> np.ndarray:
    """Labels on their own scale: 0/1 for binary tasks, original values for regression, shape (N, T)."""
    y = np.empty((len(encoded), len(encoder.tasks)), dtype=np.float64)
    for j, task in enumerate(encoder.tasks):
        if task.type == "binary":
            y[:, j] = encoded.labels[:, j]
        else:
            y[:, j] = pd.to_numeric(prepared_frame[task.name], errors="coerce").to_numpy(dtype=np.float64)
    return y


def evaluate(
    config: ExperimentConfig,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    users: np.ndarray | None,
    ranking: bool,
    raw: np.ndarray | None = None,
) -> dict[str, dict[str, float]]:
    """Per-task metrics (see mtlrec.metrics.task_metrics) for every task of the config; the ranking metrics rank by
    the model's `raw` outputs when given (no ties where the label's scale clips them). A task trained on its
    labelled rows only is measured on them (its ranking metrics rank each user's labelled rows)."""
    result = {}
    for j, task in enumerate(config.tasks):
        rows = labelled_rows(task, y_true[:, j])
        result[task.name] = task_metrics(
            task.type,
            y_true[rows, j],
            y_pred[rows, j],
            users=None if users is None else np.asarray(users)[rows],
            k=config.k,
            ranking=ranking,
            scores=None if raw is None else raw[rows, j],
        )  # fmt: skip
    return result


def labelled_rows(task, y: np.ndarray) -> slice | np.ndarray:
    """The rows a task is measured on: every row, or where its label is present for a task trained on its labelled
    rows only (TaskSpec.labelled_only)."""
    return ~np.isnan(y) if task.labelled_only else slice(None)


class ValidationMetrics:
    """Validation metrics from raw outputs (no ranking metrics: they are for the final test evaluation). A plain
    picklable object (a sweep sends it to its training processes): the config, the validation labels and users,
    and the labels' scale, without the data or the vocabularies."""

    def __init__(self, prepared: Prepared):
        self.config = prepared.config
        self.y_true = label_values(prepared.frame.iloc[prepared.val_idx], prepared.encoder, prepared.val)
        self.users = prepared.group("val")
        self.scale = prepared.encoder.label_scale()

    def __call__(self, raw: np.ndarray) -> dict[str, dict[str, float]]:
        return evaluate(self.config, self.y_true, self.scale.to_label_scale(raw), self.users, ranking=False)


def validation_metrics(prepared: Prepared) -> Callable[[np.ndarray], dict[str, dict[str, float]]]:
    """Validation metrics from raw outputs: see ValidationMetrics."""
    return ValidationMetrics(prepared)


def prediction_table(prepared: Prepared, y_true: np.ndarray, y_pred: np.ndarray) -> pd.DataFrame:
    """Test predictions for export: user, item and time (when set), then per task its label (`<task>`) and its
    prediction (`<task>_pred`, see ExperimentConfig.prediction_columns), which attrs["prediction_columns"] maps."""
    d = prepared.config.data
    columns: dict[str, np.ndarray] = {}
    for col in (d.user_col, d.item_col, d.time_col):
        if col:
            columns[col] = prepared.test_frame[col].to_numpy()
    if d.time_col and epoch_units(prepared.test_frame[d.time_col]) is not None:
        # Epoch numbers in several units are the seconds the split read (schema.parse_time), not the mixed numbers.
        columns[d.time_col] = parse_time(prepared.test_frame[d.time_col]).to_numpy()
    predicted = prepared.config.prediction_columns()
    for j, task in enumerate(prepared.config.tasks):
        columns[task.name] = y_true[:, j]
        columns[predicted[task.name]] = y_pred[:, j]
    table = pd.DataFrame(columns)
    table.attrs[PREDICTION_COLUMNS] = predicted
    return table


ENVIRONMENT_PACKAGES = ("torch", "numpy", "pandas", "scikit-learn", "pyarrow")


def environment() -> dict:
    """What a run's numbers depend on beyond its config (metrics.json's "environment"): the versions of Python,
    mtlrec and the packages that compute them, torch's thread count and the machine's architecture. A re-run
    elsewhere is exact only where these match (and the CPU's bfloat16 support, see the README's Mixed precision)."""
    import platform
    from importlib import metadata

    import mtlrec

    versions = {"python": platform.python_version(), "mtlrec": mtlrec.__version__}
    for package in ENVIRONMENT_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {**versions, "threads": torch.get_num_threads(), "machine": platform.machine()}


def environment_changes(recorded: dict | None) -> list[str]:
    """The versions that differ between a run's recorded environment and this one ("torch 2.12.0 then, 2.13.0
    now"); [] for a run recorded before environments were (none to compare) or when all match. The thread count
    is left out: a run is the same whatever it is."""
    if not recorded:
        return []
    now = environment()
    keys = ["python", "mtlrec", *ENVIRONMENT_PACKAGES, "machine"]
    return [
        f"{key} {recorded[key]} then, {now[key]} now" for key in keys if key in recorded and recorded[key] != now[key]
    ]


def run_experiment(
    config: ExperimentConfig,
    frame: pd.DataFrame | None = None,
    test_frame: pd.DataFrame | None = None,
    *,
    prepared: Prepared | None = None,
    loaded: Loaded | None = None,
    callback: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """Train and evaluate one run. Bad data or settings raise MtlrecError before training starts.

    The data: `frame` (and `test_frame`), or `prepared`, or the config's files (`loaded` when already read).
    The run works on its own copy of `config`: changing yours afterwards (for the next run) changes neither this
    result's config, nor what RunStore.save writes, nor its encoder's tasks.
    """
    config = config.copy()
    if prepared is None:
        prepared = prepare(config, frame, test_frame, loaded=loaded)
    device = resolve_device(config.train.device)
    model, random = initial_model(config, prepared, device)
    weighting = build_weighting(config.weighting, config.tasks)
    trainer = Trainer(config.train, config.tasks, weighting, callback, stop, validation_metrics(prepared), random)
    trainer.fit(model, prepared.train, prepared.val, device)
    return trained_result(config, prepared, model, trainer, device, trainer.notes_)


def initial_model(config: ExperimentConfig, prepared: Prepared, device: torch.device) -> tuple[nn.Module, RunRandom]:
    """A run's model before training, after the memory check, drawn from its seed's stream (RunRandom: this run's
    draws, whatever other threads draw meanwhile), and the stream where the initialisation left it (for dropout).
    run_experiment and a sweep's reference trained in a process (mtlrec.sweep_engine) both start here."""
    encoder = prepared.encoder
    check_memory(estimate_memory(config, len(prepared.frame), encoder.cardinalities, encoder.numeric_width))
    random = RunRandom(config.train.seed, device)
    with random.drawing():
        model = build_model(
            config.model, encoder.cardinalities, encoder.numeric_width, len(config.tasks), tasks=config.tasks
        )
    start_at_base_rates(model, config.tasks, prepared.train.labels)
    return model, random


# A task's test predictions spread less than this (sd of the log-odds for a binary task, of the values over their size
# for regression): one value for every row.
CONSTANT_SPREAD = 1e-4


def constant_outputs(config: ExperimentConfig, y_pred: np.ndarray) -> list[str]:
    """A note per task whose test predictions are one value for every row: the model learned nothing for it (a
    tower whose ReLUs all switched off, a task of one class), which its AUC of 0.5 alone does not say. Binary
    predictions are judged on the log-odds scale: a rare task's probabilities (0.03% positives) spread by under
    1e-4 while ranking its rows well."""
    notes = []
    for j, task in enumerate(config.tasks):
        values = y_pred[:, j]
        values = values[np.isfinite(values)]
        if len(values) < 2:
            continue
        if task.type == "binary":
            p = np.clip(values.astype(np.float64), 1e-12, 1 - 1e-12)
            spread = float(np.log(p / (1 - p)).std())
        else:
            spread = float(values.std()) / max(1.0, float(np.abs(values).mean()))
        if spread < CONSTANT_SPREAD:
            mean = float(values.mean())
            shown = (f"{mean:.1%}" if mean >= 0.01 else f"{mean:.3g}") if task.type == "binary" else f"{mean:.4g}"
            # Its AUC still ranks the rows by differences of about 1e-6 (PLE on a Taobao log: AUC 0.58 and 0.38
            # beside GAUC 0.5): said, so that it is not read as something learned.
            ranks = " (its AUC compares differences of rounding size: read it as 0.5)" if task.type == "binary" else ""
            notes.append(
                f"task '{task.name}' predicts one value for every test row ({shown}): the model learned nothing "
                f"for it{ranks}; try another seed, a lower learning rate or a larger size"
                + ("" if task.weight > 0 else " (its loss weight is 0: it was not trained)")
            )
    return notes


LOG1P_LOW = 0.5  # a log1p task's predictions whose mean is under this share of its labels' mean: a note


def log1p_typical(config: ExperimentConfig, y_true: np.ndarray, y_pred: np.ndarray) -> list[str]:
    """A note per log1p task whose test predictions average well under its labels: a model of log(1 + y) back on
    the label's scale predicts a typical value (about a median), not a mean. On the sample's zero-heavy watch time
    (small, 3 epochs): log1p gave MAE 3.36 and RMSE 11.90 (a constant mean: 11.97), without log1p MAE 4.67 and RMSE
    11.32. Which to train is the user's choice; the note says which it is (a review read it as a bias)."""
    notes = []
    for j, task in enumerate(config.tasks):
        if task.type != "regression" or not task.log1p:
            continue
        known = np.isfinite(y_true[:, j]) & np.isfinite(y_pred[:, j])
        if not known.any():
            continue
        labels, predictions = float(y_true[known, j].mean()), float(y_pred[known, j].mean())
        if labels > 0 and predictions < LOG1P_LOW * labels:
            notes.append(
                f"task '{task.name}' trains on log1p: its predictions are typical values, about a median (their mean "
                f"{predictions:.4g} against the labels' {labels:.4g}), which MAE rewards and RMSE does not; to predict "
                f"means (for RMSE, or a sum of expected values), train it without log1p (CLI: --no-log1p "
                f"{shlex.quote(task.name)}; on Train or Data: untick its log1p)"
            )
    return notes


def trained_result(
    config: ExperimentConfig,
    prepared: Prepared,
    model: nn.Module,
    fit,
    device: torch.device,
    notes: list[str],
    y_test: np.ndarray | None = None,
    **extra_metrics,
) -> RunResult:
    """The RunResult of a trained model: metrics.json (test metrics when an epoch was kept), test predictions.

    `fit` is what trained it: a Trainer, or a sweep's StackedFit (the same attribute names). `notes` follow the
    data's; `y_test` (label_values of the test rows) saves recomputing them; `extra_metrics` end metrics.json.
    """
    encoder = prepared.encoder
    metrics: dict = {
        "tasks": {},
        "params": count_parameters(model),
        "epochs_run": fit.epochs_run_,
        "best_epoch": fit.best_epoch_,
        # the single-task model's networks, each at its own best epoch (mtlrec.train.OwnBest), when they differ
        **({"best_epochs": fit.best_epochs_} if len(set(getattr(fit, "best_epochs_", {}).values())) > 1 else {}),
        "train_seconds": round(fit.train_seconds_, 3),
        # The rows stepped on: a run stopped in its first epoch after 27 of 282 batches reported ten times its rate
        "samples_per_second": round(fit.rows_trained_ / max(fit.train_seconds_, 1e-9), 1),
        "train_rows": len(prepared.train),
        "val_rows": len(prepared.val),
        "test_rows": len(prepared.test),
        "device": str(device),
        "precision": fit.precision_,
        "status": fit.status_,
        "diagnostics": final_diagnostics(fit.history_, fit.best_epoch_),  # of the model kept
        "data_files": prepared.files,
        "environment": environment(),
        **extra_metrics,
    }
    predictions = None
    if fit.status_ != "failed" and fit.best_epoch_ > 0:
        y_true = label_values(prepared.test_frame, encoder, prepared.test) if y_test is None else y_test
        raw = predict_raw(model, prepared.test, device)
        y_pred = encoder.to_label_scale(raw)
        ranking = prepared.ranking_note is None
        metrics["tasks"] = evaluate(config, y_true, y_pred, prepared.group("test"), ranking, raw)
        predictions = prediction_table(prepared, y_true, y_pred)
        notes = [*notes, *constant_outputs(config, y_pred), *log1p_typical(config, y_true, y_pred)]
    return RunResult(
        config=config,
        status=fit.status_,
        message=fit.message_,
        history=pd.DataFrame(fit.history_),
        metrics=metrics,
        model=model.cpu(),
        encoder=encoder,
        predictions=predictions,
        notes=list(prepared.notes) + list(notes),
    )
