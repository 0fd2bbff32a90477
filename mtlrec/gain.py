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

import pandas as pd

from mtlrec.config import ExperimentConfig, TaskSpec, WeightingConfig
from mtlrec.errors import MtlrecError
from mtlrec.metrics import higher_is_better
from mtlrec.runs import atomic_write_text

BASELINE_FILE = "baseline.json"
# Per task type: the metrics compared, the main one first (it is the one charted).
GAIN_METRICS = {"binary": ("auc", "logloss"), "regression": ("rmse", "mae")}
GAIN_COLUMNS = ["task", "metric", "main", "multi_task", "single_task", "gain", "relative_gain", "transfer"]
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
) -> pd.DataFrame:
    """One row per task and compared metric (GAIN_METRICS; `main` marks the task's main metric, AUC or RMSE).

    The metrics are metrics.json's "tasks" parts ({task: {metric: value}}) of the multi-task and the baseline run.
    gain is signed so that positive means the multi-task model is better: multi − single for AUC, single − multi
    for log loss, RMSE and MAE. relative_gain is the gain in % of the single-task value; transfer says "positive",
    "negative", "none" (equal within SAME_TOLERANCE: with one trained task the two models are the same up to
    rounding), "unknown" (a value is missing) or UNTRAINED (no loss trained the task in the multi-task run:
    `untrained`, ExperimentConfig.untrained_tasks, by default the tasks with loss weight 0; its tower kept its
    initial weights, so the difference is no transfer but the baseline's training).
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
            rows.append([task.name, metric, i == 0, multi, single, gain, relative, transfer])
    return pd.DataFrame(rows, columns=GAIN_COLUMNS).astype({"main": bool})


def link_baseline(store, run_id: str, baseline_id: str) -> None:
    """Remember that `baseline_id` is the single-task baseline of run `run_id` (in the run's folder)."""
    folder = store.folder(run_id)
    store.folder(baseline_id)  # checks the id
    atomic_write_text(folder / BASELINE_FILE, json.dumps({"single_task_run": baseline_id}))


def baseline_of(store, run_id: str) -> str | None:
    """The single-task baseline run linked to `run_id`, or None (no link, or an unreadable one)."""
    path = store.folder(run_id) / BASELINE_FILE
    try:
        baseline_id = json.loads(path.read_text(encoding="utf-8"))["single_task_run"]
        store.folder(baseline_id)
    except (OSError, ValueError, KeyError, TypeError, MtlrecError):
        return None
    return baseline_id
