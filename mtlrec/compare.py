"""What differs between runs' settings, in words a person compares runs by: a column's role, a task's loss weight,
the model size, the learning rate... A comparison of two runs' metrics credits whatever differs; a schema edit lost
on reloading a file (a feature's role back to what inference proposed) read as the effect of the weights changed
beside it (a browser audit)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

import pandas as pd

from mtlrec.config import ExperimentConfig

# Settings that do not change what a run learns or how it is measured, left out of the comparison.
IGNORED = {("train", "device"), ("train", "log_every"), ("train", "diagnostics")}
# Settings read only by some models or weightings: compared only where the run uses them (GradNorm's alpha beside
# fixed weights was listed as a difference, a review)
USED_BY = {
    ("weighting", "alpha"): lambda c: c.weighting.method == "gradnorm",
    ("weighting", "temperature"): lambda c: c.weighting.method == "dwa",
    ("model", "experts"): lambda c: c.model.kind in ("mmoe", "ple"),
    ("model", "task_experts"): lambda c: c.model.kind == "ple",
    ("model", "levels"): lambda c: c.model.kind == "ple",
    ("model", "funnel"): lambda c: c.model.kind == "esmm",
}


def settings(config: ExperimentConfig) -> dict[str, str]:
    """A run's settings as {setting: value}, each as shown to a person: one entry per feature column ("role of
    'age'": categorical / numeric / multi-valued), per task ("task 'like'": its type, weight and options), the data
    file, its fixes, and every other field as "<part>.<field>" (model.size, train.lr, split.method...)."""
    d = config.data
    out: dict[str, str] = {"data file": str(d.path or "data in memory")}
    if d.test_path:
        out["test file"] = str(d.test_path)
    for role in ("user", "item", "time"):
        out[f"{role} column"] = str(getattr(d, f"{role}_col") or "none")
    for column in d.features:
        out[f"role of '{column}'"] = d.role_of(column) or "not used"
    if d.fixes:
        out["fixes to the rows"] = "; ".join(json.dumps(f, sort_keys=True) for f in d.fixes)
    for task in config.tasks:
        options = ["log1p"] * task.log1p + ["labelled rows only"] * task.labelled_only
        out[f"task '{task.name}'"] = ", ".join([task.type, f"weight {task.weight:g}", *options])
    skipped = {"path", "test_path", "name", "user_col", "item_col", "time_col", "categorical", "numeric", "multi"}
    for part in ("data", "split", "model", "weighting", "train"):
        for f in dataclasses.fields(getattr(config, part)):
            if (part == "data" and f.name in skipped | {"fixes"}) or (part, f.name) in IGNORED:
                continue
            if (used := USED_BY.get((part, f.name))) is not None and not used(config):
                continue
            value = getattr(getattr(config, part), f.name)
            out[f"{part}.{f.name}"] = _shown(value)
    out["k"] = str(config.k)
    return out


def _shown(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}>{v}" for k, v in sorted(value.items())) or "none"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value)) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return "default" if value is None else str(value)


NOT_SET = "–"  # a setting one run does not have (a column it does not use, a task it does not train)


def differences(configs: Mapping[str, ExperimentConfig]) -> pd.DataFrame:
    """The settings on which runs differ: one row per setting ("setting", then a column per run label, in the
    order given), NOT_SET where a run lacks it (a feature it does not use, a task it does not have). Empty when
    they agree on everything."""
    each = {label: settings(config) for label, config in configs.items()}
    keys = list(dict.fromkeys(key for values in each.values() for key in values))
    rows = []
    for key in keys:
        values = [values.get(key, NOT_SET) for values in each.values()]
        if len(set(values)) > 1:
            rows.append([key, *values])
    return pd.DataFrame(rows, columns=["setting", *each])


def summary(config: ExperimentConfig, reference: ExperimentConfig, limit: int = 6) -> str | None:
    """The settings on which a run differs from a reference run, in one line ("role of 'age' numeric → categorical;
    task 'like' weight 1 → weight 2"): the first `limit`, then how many more; None when they agree."""
    table = differences({"run": config, "reference": reference})
    if table.empty:
        return None
    parts = [f"{row.setting}: {row.reference} → {row.run}" for row in table.itertuples(index=False)]
    more = len(parts) - limit
    return "; ".join(parts[:limit]) + (f"; and {more} more" if more > 0 else "")
