"""Multi-task gain: how much each task wins or loses by sharing, against single-task baselines.

A multi-task run is paired with a baseline run of the same settings in which every task has a network of its own
(`single_task_config`). `mtl_gain` compares their test metrics per task: a positive gain is positive transfer (the
task is better for sharing), a negative one negative transfer. The pair is kept in the multi-task run's folder
(`baseline.json`), so it survives restarts.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from mtlrec.config import PREDICTION_COLUMNS, ExperimentConfig, TaskSpec, WeightingConfig
from mtlrec.errors import MtlrecError
from mtlrec.metrics import PROB_CLIP, higher_is_better
from mtlrec.runs import atomic_write_text

BASELINE_FILE = "baseline.json"
BASELINE_OF_FILE = "baseline_of.json"  # in a baseline's own folder: the run it is the baseline of
# Per task type: the metrics compared, the main one first (it is the one charted).
GAIN_METRICS = {"binary": ("auc", "logloss"), "regression": ("rmse", "mae")}
GAIN_COLUMNS = ["task", "metric", "main", "multi_task", "single_task", "gain", "relative_gain", "transfer", "noise"]
# A main metric's gain smaller than its `noise` (two standard errors of the paired difference on the same test rows:
# DeLong's for AUC, the squared errors' for RMSE; see paired_noise) is this transfer: the test rows cannot tell.
NOISE = "within noise"
# A task with loss weight 0 in the multi-task run: evaluated, never trained, so its gain is not transfer.
UNTRAINED = "not trained (weight 0)"
# Relative difference within which two metrics are the same (float rounding, not transfer).
SAME_TOLERANCE = 1e-6


def single_task_config(config: ExperimentConfig) -> ExperimentConfig:
    """The single-task baseline of a multi-task config: the same data, tasks, split, size and training settings,
    with one independent network per task (model "single_task").

    Each network is trained on its own task alone: every task gets loss weight 1 (the networks share nothing, so a
    task's weight only scales its own network's gradient), including a task with weight 0 in the multi-task run,
    whose baseline then shows what training it would give. Loss weighting is fixed: the adaptive strategies
    balance tasks on shared layers, and there are none. The ESMM funnel does not apply either.
    """
    baseline = copy.deepcopy(config)
    baseline.model.kind = "single_task"
    baseline.model.funnel = {}
    baseline.weighting = WeightingConfig(method="fixed")
    for task in baseline.tasks:
        task.weight = 1.0
    return baseline


def _value(metrics: Mapping, task: str, metric: str) -> float:
    value = (metrics.get(task) or {}).get(metric)
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else math.nan


def mtl_gain(
    mtl_metrics: Mapping[str, Mapping[str, float]],
    single_metrics: Mapping[str, Mapping[str, float]],
    tasks: Sequence[TaskSpec],
    untrained: set[str] | None = None,
    noise: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One row per task and compared metric (GAIN_METRICS; `main` marks the task's main metric, AUC or RMSE).

    The metrics are metrics.json's "tasks" parts ({task: {metric: value}}) of the multi-task and the baseline run.
    gain is signed so that positive means the multi-task model is better: multi − single for AUC, single − multi
    for log loss, RMSE and MAE. relative_gain is the gain in % of the single-task value; transfer says "positive",
    "negative", "none" (equal within SAME_TOLERANCE: with one trained task the two models are the same up to
    rounding), "unknown" (a value is missing) or UNTRAINED (no loss trained the task in the multi-task run:
    `untrained`, ExperimentConfig.untrained_tasks, by default the tasks with loss weight 0; its tower kept its
    initial weights, so the difference is no transfer but the baseline's training). `noise` (paired_noise: task ->
    the main metric's, (task, metric) -> the other's) is the noise column, and a gain within it is NOISE.
    """
    if untrained is None:
        untrained = {t.name for t in tasks if t.weight <= 0}
    rows = []
    for task in tasks:
        for i, metric in enumerate(GAIN_METRICS[task.type]):
            multi, single = _value(mtl_metrics, task.name, metric), _value(single_metrics, task.name, metric)
            gain = (multi - single) if higher_is_better(metric) else (single - multi)
            relative = 100 * gain / abs(single) if single else math.nan
            if task.name in untrained:
                transfer = UNTRAINED
            elif math.isnan(gain):
                transfer = "unknown"
            elif math.isclose(multi, single, rel_tol=SAME_TOLERANCE, abs_tol=1e-12):
                transfer = "none"
            else:
                transfer = "positive" if gain > 0 else "negative"
            within = (noise or {}).get(task.name if i == 0 else (task.name, metric), math.nan)
            if transfer in ("positive", "negative") and abs(gain) < within:
                transfer = NOISE
            rows.append([task.name, metric, i == 0, multi, single, gain, relative, transfer, within])
    return pd.DataFrame(rows, columns=GAIN_COLUMNS).astype({"main": bool})


def log1p_disagreements(table: pd.DataFrame, tasks: Sequence[TaskSpec]) -> list[tuple[str, float, float]]:
    """(task, RMSE's relative gain, MAE's) for each log1p regression task of an mtl_gain table whose two gains point
    different ways. Trained on log(1 + y), its loss weighs every row's ratio alike, while RMSE on the label's own
    scale weighs the largest values most: a teaching audit read watch time's RMSE (-0.6%) as negative transfer while
    its MAE (+0.4%) and log-scale error were better."""
    out = []
    for task in (t for t in tasks if t.type == "regression" and t.log1p):
        rows = table[table["task"] == task.name].set_index("metric")
        if {"rmse", "mae"} <= set(rows.index) and rows.loc["rmse", "gain"] * rows.loc["mae", "gain"] < 0:
            out.append((task.name, float(rows.loc["rmse", "relative_gain"]), float(rows.loc["mae", "relative_gain"])))
    return out


def paired_noise(
    multi: pd.DataFrame | None, single: pd.DataFrame | None, tasks: Sequence[TaskSpec]
) -> dict[str | tuple[str, str], float]:
    """Per task, two standard errors of the difference of its main metric between two runs' predictions on the same
    test rows (predictions.csv of each, rows in the same order: the same data, split and seed): DeLong's paired
    variance for AUC (Sun & Xu's midrank form), the paired squared errors' for RMSE (the delta method on the mean
    squared error). A gain within it is no evidence of transfer: the test rows alone could give it (a retrained
    seed may differ more). The other compared metric's (log loss, MAE: means of per-row losses, whose paired
    differences give it) under (task, metric). Empty when the tables do not hold the same rows."""
    if multi is None or single is None or len(multi) != len(single) or not len(multi):
        return {}
    out = {}
    for task in tasks:
        predicted = multi.attrs.get(PREDICTION_COLUMNS, {}).get(task.name, f"{task.name}_pred")
        if not {task.name, predicted} <= set(multi.columns) & set(single.columns):
            continue
        y = pd.to_numeric(multi[task.name], errors="coerce").to_numpy(float)
        if not np.array_equal(y, pd.to_numeric(single[task.name], errors="coerce").to_numpy(float), equal_nan=True):
            continue  # other rows, or in another order
        a = pd.to_numeric(multi[predicted], errors="coerce").to_numpy(float)
        b = pd.to_numeric(single[predicted], errors="coerce").to_numpy(float)
        kept = np.isfinite(y) & np.isfinite(a) & np.isfinite(b)
        se = (
            _auc_difference_se(y[kept], a[kept], b[kept])
            if task.type == "binary"
            else _rmse_difference_se(y[kept], a[kept], b[kept])
        )
        if math.isfinite(se):
            out[task.name] = 2 * se
        # The other metric is a mean of per-row losses (log loss, absolute error): its paired standard error is
        # that of the rows' differences (a LogLoss 0.0002 apart had been called negative transfer).
        other = GAIN_METRICS[task.type][1]
        se = _mean_loss_difference_se(y[kept], a[kept], b[kept], other)
        if math.isfinite(se):
            out[(task.name, other)] = 2 * se
    return out


def _mean_loss_difference_se(y: np.ndarray, a: np.ndarray, b: np.ndarray, metric: str) -> float:
    """The standard error of the difference of two mean per-row losses on the same rows: log loss (probabilities
    clipped as mtlrec.metrics clips them) or absolute error."""
    if len(y) < 3:
        return math.nan
    if metric == "logloss":
        a, b = np.clip(a, PROB_CLIP, 1 - PROB_CLIP), np.clip(b, PROB_CLIP, 1 - PROB_CLIP)
        terms = -(y * np.log(a) + (1 - y) * np.log(1 - a)) + (y * np.log(b) + (1 - y) * np.log(1 - b))
    else:
        terms = np.abs(y - a) - np.abs(y - b)
    return float(np.std(terms, ddof=1)) / math.sqrt(len(y))


def _auc_difference_se(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """DeLong's standard error of AUC(a) − AUC(b) on the same rows, labels y in {0, 1}."""
    from scipy.stats import rankdata

    positive, negative = y == 1, y == 0
    m, n = int(positive.sum()), int(negative.sum())
    if m < 2 or n < 2:
        return math.nan
    v10, v01 = [], []
    for scores in (a, b):
        ranks = rankdata(scores)
        v10.append((ranks[positive] - rankdata(scores[positive])) / n)  # per positive: the negatives it outranks
        v01.append(1 - (ranks[negative] - rankdata(scores[negative])) / m)  # per negative: the positives above it
    s10, s01 = np.cov(v10), np.cov(v01)
    variance = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    return math.sqrt(max(float(variance), 0.0))


def _rmse_difference_se(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """The standard error of RMSE(a) − RMSE(b) on the same rows, by the delta method: RMSE = sqrt(mean squared
    error) has the derivative 1 / (2·RMSE), so the paired terms e_a / (2·RMSE_a) − e_b / (2·RMSE_b) of the squared
    errors e. (Dividing by the baseline's RMSE alone was close while the two are, and up to 1.8x too wide when one
    run's RMSE is twice the other's.)"""
    if len(y) < 3:
        return math.nan
    errors_a, errors_b = (y - a) ** 2, (y - b) ** 2
    rmse_a, rmse_b = math.sqrt(float(np.mean(errors_a))), math.sqrt(float(np.mean(errors_b)))
    if rmse_a == 0 or rmse_b == 0:
        return math.nan
    terms = errors_a / (2 * rmse_a) - errors_b / (2 * rmse_b)
    return float(np.std(terms, ddof=1)) / math.sqrt(len(y))


def link_baseline(store, run_id: str, baseline_id: str) -> None:
    """Remember that `baseline_id` is the single-task baseline of run `run_id` (in the run's folder)."""
    folder = store.folder(run_id)
    own = store.folder(baseline_id)  # checks the id
    atomic_write_text(folder / BASELINE_FILE, json.dumps({"single_task_run": baseline_id}))
    # ...and in the baseline's folder, which run it serves: a baseline trained again (the link moves on) or one of
    # a run trained elsewhere is still known as a baseline (Train's panel showed one as the browser's own run)
    atomic_write_text(own / BASELINE_OF_FILE, json.dumps({"multi_task_run": run_id}))


def is_baseline(store, run_id: str) -> bool:
    """Whether run `run_id` was trained as another run's single-task baseline (link_baseline marked it so)."""
    try:
        return (store.folder(run_id) / BASELINE_OF_FILE).is_file()
    except MtlrecError:
        return False


def baseline_of(store, run_id: str) -> str | None:
    """The single-task baseline run linked to `run_id`, or None (no link, or an unreadable one)."""
    path = store.folder(run_id) / BASELINE_FILE
    try:
        baseline_id = json.loads(path.read_text(encoding="utf-8"))["single_task_run"]
        store.folder(baseline_id)
    except (OSError, ValueError, KeyError, TypeError, MtlrecError):
        return None
    return baseline_id
