"""A training configuration as short URL query parameters, so a teacher can share a link that pre-fills Train.

Example: ?data=synthetic&tasks=click:binary:1,watch_time:regression:2:log1p&size=tiny&epochs=5&lr=0.002&seed=3
A task trained on its labelled rows only carries :labelled (like:binary:1:labelled).
An ESMM funnel travels as funnel=purchase>click;like>click (each task, then the task it follows).
Only settings are carried, never data: an uploaded file cannot travel in a link, a bundled sample can, and so can a
synthetic world generated in the app, as its recipe (data=world:-0.8:20000:0: task correlation, rows, seed). A link can be
edited by hand: a value the Train page's controls cannot show (out of their range, not one of their choices) is
skipped with a problem, like one that does not parse.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from urllib.parse import quote, unquote

from mtlrec import fmt
from mtlrec.config import (
    MAX_CROSS,
    MONITOR_METRICS,
    OPTIMIZERS,
    PRECISIONS,
    SIZE_PRESETS,
    SPLIT_METHODS,
    TASK_TYPES,
    WEIGHTING_METHODS,
    ExperimentConfig,
    split_monitor,
)
from mtlrec.data import SAMPLE_PREFIX


def link_flag(value: str) -> bool:
    """'1' -> True, '0' -> False (a checkbox in a link: Train's and Recommend's); ValueError for anything else."""
    if value not in ("0", "1"):
        raise ValueError(value)
    return value == "1"


def _funnel(value: str) -> dict[str, str]:
    """'purchase>click;like>click' -> {"purchase": "click", "like": "click"}: each task given the one it follows."""
    funnel = {}
    for part in value.split(";"):
        child, sep, parent = part.partition(">")
        if not (sep and child and parent):
            raise ValueError(part)
        funnel[unquote(child)] = unquote(parent)
    return funnel


# query key -> (section, field, parser)
_FIELDS = {
    "model": ("model", "kind", str),
    "size": ("model", "size", str),
    "embed_dim": ("model", "embed_dim", int),  # not "embed": Streamlit reserves ?embed= for embedding apps
    "bottom": ("model", "bottom", lambda v: [int(x) for x in v.split("-") if x]),
    "tower": ("model", "tower", lambda v: [int(x) for x in v.split("-") if x]),
    "dropout": ("model", "dropout", float),
    "cross": ("model", "cross", int),
    "experts": ("model", "experts", int),
    "task_experts": ("model", "task_experts", int),
    "levels": ("model", "levels", int),
    "funnel": ("model", "funnel", _funnel),
    "weighting": ("weighting", "method", str),
    "alpha": ("weighting", "alpha", float),
    "temperature": ("weighting", "temperature", float),
    "diagnostics": ("train", "diagnostics", link_flag),
    "opt": ("train", "optimizer", str),
    "lr": ("train", "lr", float),
    "wd": ("train", "weight_decay", float),
    "bs": ("train", "batch_size", int),
    "epochs": ("train", "epochs", int),
    "patience": ("train", "patience", int),
    "monitor": ("train", "monitor", str),
    "seed": ("train", "seed", int),
    "precision": ("train", "precision", str),
    "split": ("split", "method", str),
    "test": ("split", "test_frac", float),
    "val": ("split", "val_frac", float),
}
# the Train page's batch-size choices (16: a small file)
BATCH_SIZES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
MAX_WEIGHT = 5.0  # the Train page's loss-weight sliders go from 0 to this
_CHOICES = {
    "size": SIZE_PRESETS,
    "split": SPLIT_METHODS,
    "opt": OPTIMIZERS,
    "weighting": WEIGHTING_METHODS,
    "bs": BATCH_SIZES,
    "precision": PRECISIONS,
}
# The ranges of the Train page's controls (both ends included; the page reads them from here); NaN is in none.
RANGES = {
    "embed_dim": (0, 512),
    "dropout": (0.0, 0.8),
    "cross": (0, MAX_CROSS),
    "lr": (1e-6, 10.0),
    "wd": (0.0, 1.0),
    "epochs": (1, 100),
    "patience": (0, 10),
    "seed": (0, 2**31 - 1),
    "test": (0.05, 0.5),
    "val": (0.05, 0.5),
    "experts": (1, 16),
    "task_experts": (1, 8),
    "levels": (1, 2),
    "alpha": (0.0, 5.0),
    "temperature": (0.1, 10.0),
}
# Settings that only some architectures or weightings read travel only with them, to keep links short.
_RELEVANT = {
    "experts": lambda c: c.model.kind in ("mmoe", "ple"),
    "task_experts": lambda c: c.model.kind == "ple",
    "levels": lambda c: c.model.kind == "ple",
    "funnel": lambda c: c.model.kind == "esmm" and bool(c.model.funnel),
    "alpha": lambda c: c.weighting.method == "gradnorm",
    "temperature": lambda c: c.weighting.method == "dwa",
    "precision": lambda c: c.train.precision != "auto",
    "cross": lambda c: c.model.cross > 0,
}


WORLD = "world:"  # data=world:<task correlation>:<rows>:<seed>, a synthetic world generated in the app


def world_recipe(path: str | None) -> str | None:
    """'world:-0.8:20000:0' for the data of a synthetic world generated in the app (a synthetic.parquet beside its
    spec), None for any other data (the bundled sample travels by its own name) or an unreadable spec (the link then
    carries settings only)."""
    from mtlrec.sample import generated_world

    world = generated_world(path)
    if world is None:
        return None
    correlation, rows, seed = world
    return f"{WORLD}{correlation:g}:{rows}:{seed}"


def parse_world(value: str) -> tuple[float, int, int]:
    """(task correlation, rows, seed) from 'world:-0.8:20000:0'; MtlrecError saying what is wrong."""
    from mtlrec.errors import MtlrecError

    parts = value[len(WORLD) :].split(":")
    if len(parts) == 3:
        try:
            return float(parts[0]), int(parts[1]), int(parts[2])
        except ValueError:
            pass
    raise MtlrecError(
        f"'{value}' is not a synthetic world: write data=world:<task correlation>:<rows>:<seed>, e.g. world:-0.8:20000:0"
    )


def to_query(config: ExperimentConfig, active: list[str] | None = None) -> dict[str, str]:
    """The config's training settings as query parameters (tasks: name:type:weight, comma-separated)."""
    query: dict[str, str] = {}
    if config.data.path and str(config.data.path).startswith(SAMPLE_PREFIX):
        query["data"] = str(config.data.path)[len(SAMPLE_PREFIX) :]
    elif recipe := world_recipe(config.data.path):
        query["data"] = recipe
    tasks = [t for t in config.tasks if active is None or t.name in active]
    if tasks:
        query["tasks"] = ",".join(_task_part(t) for t in tasks)
    for key, (section, name, _) in _FIELDS.items():
        value = getattr(getattr(config, section), name)
        if value is None or (key in _RELEVANT and not _RELEVANT[key](config)):
            continue
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, list):
            value = "-".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = ";".join(f"{quote(child, safe='')}>{quote(parent, safe='')}" for child, parent in value.items())
        elif isinstance(value, float):
            value = _number(value)
        query[key] = str(value)
    return query


def apply_query(
    config: ExperimentConfig, params: Mapping[str, str]
) -> tuple[ExperimentConfig, list[str] | None, list[str]]:
    """(new config, active task names or None, problems) from query parameters; bad values are skipped."""
    config = copy.deepcopy(config)
    monitor, funnel = config.train.monitor, config.model.funnel
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
            choices = ", ".join(str(c) for c in _CHOICES[key])
            problems.append(f"link setting {key}={raw!r} is not one of {choices}; ignored")
            continue
        if key in RANGES and not RANGES[key][0] <= value <= RANGES[key][1]:
            low, high = (fmt.setting(v) for v in RANGES[key])
            problems.append(f"link setting {key}={raw!r} is not between {low} and {high}; ignored")
            continue
        if key in ("bottom", "tower") and (not value or min(value) < 1):
            problems.append(f"link setting {key}={raw!r} is not a list of widths >= 1 such as 256-128; ignored")
            continue
        if key == "model" and value not in _model_kinds():
            problems.append(f"link setting model={raw!r} is not one of {', '.join(_model_kinds())}; ignored")
            continue
        setattr(getattr(config, section), name, value)
    active = None
    if str(params.get("tasks") or "").strip(","):  # tasks= with nothing in it: as if not given
        known = {t.name: t for t in config.tasks}
        active = []
        for part in str(params["tasks"]).split(","):
            bits = part.split(":")
            name = unquote(bits[0])
            if not name:  # tasks= empty, or a doubled comma: nothing named, nothing to say about a column ''
                continue
            if name not in known:
                problems.append(f"link task '{name}' is not a label column of this dataset; ignored")
                continue
            if name in active:  # the second silently won, and Train showed the task's chip twice (an app audit)
                problems.append(f"link task '{name}' is given twice; the first one kept")
                continue
            task = known[name]
            if len(bits) > 1:
                if bits[1] in TASK_TYPES:
                    task.type = bits[1]
                else:
                    problems.append(f"link type '{bits[1]}' for task '{name}' is not one of {', '.join(TASK_TYPES)}")
            if len(bits) > 2:
                try:
                    weight = float(bits[2])
                    if not 0 <= weight <= MAX_WEIGHT:
                        raise ValueError
                    task.weight = weight
                except ValueError:
                    problems.append(
                        f"link weight '{bits[2]}' for task '{name}' is not a number from 0 to {MAX_WEIGHT:g}; ignored"
                    )
            if len(bits) > 3:
                task.log1p = "log1p" in bits[3:]
                for flag in (b for b in bits[3:] if b not in ("log1p", "raw", LABELLED)):
                    problems.append(f"link flag '{flag}' for task '{name}' is not log1p, raw or {LABELLED}; ignored")
            # named without the flag: unticked (a binary task's part has no 4th piece, and a tick stayed: a review)
            task.labelled_only = LABELLED in bits[3:]
            task.log1p = task.log1p and task.type == "regression"
            active.append(name)
    if config.model.funnel is not funnel:  # after the tasks too: each pair must be two binary tasks
        types, kept = {t.name: t.type for t in config.tasks}, {}
        for child, parent in config.model.funnel.items():
            if child == parent or types.get(child) != "binary" or types.get(parent) != "binary":
                problems.append(
                    f"link funnel step {child}>{parent} does not join two different binary tasks of this dataset; "
                    "ignored"
                )
            else:
                kept[child] = parent
        config.model.funnel = kept
    if config.train.monitor != monitor:  # checked last: the link may change the tasks' types
        task, metric = split_monitor(config.train.monitor)
        types = {t.name: t.type for t in config.tasks}
        if config.train.monitor != "loss" and (task not in types or metric not in MONITOR_METRICS[types[task]]):
            problems.append(
                f"link setting monitor={config.train.monitor!r} is not 'loss' or '<task>:<metric>' of a label "
                "column of this dataset; ignored"
            )
            config.train.monitor = monitor
    return config, active, problems


def _number(value: float) -> str:
    """A float as short as it can be written and still read back exactly (6 digits, as :g writes, had made a link
    rebuild another run: lr 0.0012345678 came back as 0.00123457)."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def _task_part(task) -> str:
    """name:type:weight, plus :log1p or :raw for a regression task and :labelled for a task trained on its labelled
    rows only (names are quoted: ',' and ':' are separators)."""
    part = f"{quote(task.name, safe='')}:{task.type}:{_number(task.weight)}"
    if task.type == "regression":
        part += ":log1p" if task.log1p else ":raw"
    if task.labelled_only:
        part += f":{LABELLED}"
    return part


LABELLED = "labelled"  # a task's flag in a link: trained on its labelled rows only


def _model_kinds() -> list[str]:
    from mtlrec.models import REGISTRY  # imports torch: only when a link names a model

    return list(REGISTRY)
