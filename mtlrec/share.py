"""A training configuration as short URL query parameters, so a teacher can share a link that pre-fills Train.

Example: ?data=synthetic&tasks=click:binary:1,purchase:binary:2&size=tiny&epochs=5&lr=0.002&seed=3
Only settings are carried, never data: an uploaded file cannot travel in a link, a bundled sample can.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from urllib.parse import quote, unquote

from mtlrec.config import SIZE_PRESETS, SPLIT_METHODS, TASK_TYPES, ExperimentConfig
from mtlrec.data import SAMPLE_PREFIX

# query key -> (section, field, parser)
_FIELDS = {
    "model": ("model", "kind", str),
    "size": ("model", "size", str),
    "embed": ("model", "embed_dim", int),
    "bottom": ("model", "bottom", lambda v: [int(x) for x in v.split("-") if x]),
    "tower": ("model", "tower", lambda v: [int(x) for x in v.split("-") if x]),
    "dropout": ("model", "dropout", float),
    "weighting": ("weighting", "method", str),
    "opt": ("train", "optimizer", str),
    "lr": ("train", "lr", float),
    "wd": ("train", "weight_decay", float),
    "bs": ("train", "batch_size", int),
    "epochs": ("train", "epochs", int),
    "patience": ("train", "patience", int),
    "seed": ("train", "seed", int),
    "split": ("split", "method", str),
    "test": ("split", "test_frac", float),
    "val": ("split", "val_frac", float),
}
_CHOICES = {"size": SIZE_PRESETS, "split": SPLIT_METHODS}


def to_query(config: ExperimentConfig, active: list[str] | None = None) -> dict[str, str]:
    """The config's training settings as query parameters (tasks: name:type:weight, comma-separated)."""
    query: dict[str, str] = {}
    if config.data.path and str(config.data.path).startswith(SAMPLE_PREFIX):
        query["data"] = str(config.data.path)[len(SAMPLE_PREFIX) :]
    tasks = [t for t in config.tasks if active is None or t.name in active]
    if tasks:
        query["tasks"] = ",".join(f"{quote(t.name, safe='')}:{t.type}:{t.weight:g}" for t in tasks)
    for key, (section, name, _) in _FIELDS.items():
        value = getattr(getattr(config, section), name)
        if value is None:
            continue
        if isinstance(value, list):
            value = "-".join(str(v) for v in value)
        elif isinstance(value, float):
            value = f"{value:g}"
        query[key] = str(value)
    return query


def apply_query(
    config: ExperimentConfig, params: Mapping[str, str]
) -> tuple[ExperimentConfig, list[str] | None, list[str]]:
    """(new config, active task names or None, problems) from query parameters; bad values are skipped."""
    config = copy.deepcopy(config)
    problems: list[str] = []
    for key, (section, name, parse) in _FIELDS.items():
        if key not in params:
            continue
        raw = params[key]
        try:
            value = parse(raw)
        except ValueError:
            problems.append(f"link setting {key}={raw!r} is not valid and was ignored")
            continue
        if key in _CHOICES and value not in _CHOICES[key]:
            problems.append(f"link setting {key}={raw!r} is not one of {', '.join(_CHOICES[key])}; ignored")
            continue
        setattr(getattr(config, section), name, value)
    active = None
    if "tasks" in params:
        known = {t.name: t for t in config.tasks}
        active = []
        for part in str(params["tasks"]).split(","):
            bits = part.split(":")
            name = unquote(bits[0])
            if name not in known:
                problems.append(f"link task '{name}' is not a label column of this dataset; ignored")
                continue
            task = known[name]
            if len(bits) > 1 and bits[1] in TASK_TYPES:
                task.type = bits[1]
            if len(bits) > 2:
                try:
                    weight = float(bits[2])
                    if weight < 0:
                        raise ValueError
                    task.weight = weight
                except ValueError:
                    problems.append(f"link weight '{bits[2]}' for task '{name}' is not a number >= 0; ignored")
            active.append(name)
    return config, active, problems
