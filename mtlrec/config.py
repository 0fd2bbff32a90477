"""One config object describes a run completely; it round-trips through JSON.

The app, the CLI and the sweep all build an :class:`ExperimentConfig`; a saved run is re-run from it alone.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtlrec.errors import MtlrecError
from mtlrec.fixes import fix_problems

TASK_TYPES = ("binary", "regression")
SPLIT_METHODS = ("random", "user", "time")
OPTIMIZERS = ("adam", "adamw")
DEVICES = ("auto", "cpu", "cuda")
MAX_CROSS = 6  # DCN-v2 cross layers at most (each holds (input width)^2 weights)
PRECISIONS = ("auto", "fp32", "bf16")  # see mtlrec.train.resolve_precision
WEIGHTING_METHODS = ("fixed", "uncertainty", "gradnorm", "dwa", "pcgrad")  # see mtlrec.weighting
# The adaptive ones as run names and pages write them
WEIGHTING_LABELS = {"uncertainty": "uncertainty weighting", "gradnorm": "GradNorm", "dwa": "DWA", "pcgrad": "PCGrad"}
MODEL_KINDS = ("shared_bottom", "mmoe", "ple", "esmm", "single_task")  # see mtlrec.models
# A predictions table's attrs key: task name -> its prediction column (ExperimentConfig.prediction_columns)
PREDICTION_COLUMNS = "prediction_columns"
# Validation metrics early stopping can monitor, per task type ("gauc" needs a user column).
MONITOR_METRICS = {"binary": ("auc", "gauc", "logloss"), "regression": ("rmse", "mae")}

# Size presets: embedding width, shared-bottom widths, per-task tower widths. On the bundled synthetic sample they
# span ~21 thousand (tiny) to ~18 million (xl) parameters; the count on other data depends on its vocabularies.
SIZE_PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"embed_dim": 4, "bottom": [32], "tower": [8]},
    "small": {"embed_dim": 16, "bottom": [256, 128], "tower": [64]},
    "medium": {"embed_dim": 32, "bottom": [512, 256], "tower": [128]},
    "large": {"embed_dim": 64, "bottom": [1024, 512, 256], "tower": [256]},
    "xl": {"embed_dim": 128, "bottom": [4096, 2048, 1024], "tower": [512, 256]},
}


@dataclass
class TaskSpec:
    name: str  # label column in the data
    type: str = "binary"  # "binary" (0/1) or "regression" (real values)
    weight: float = 1.0  # loss weight w_j >= 0; 0 means "evaluated but not trained"
    log1p: bool = False  # regression only: train on log1p(y) (skewed targets such as watch time)
    # Rows where the label is missing (each outcome logged for some events only) are left out of this task's loss
    # and metrics; the other tasks still use them. Off: a missing label is a validation problem.
    labelled_only: bool = False


def untrained(weights: dict, funnel: dict) -> set:
    """The tasks (keys of `weights`: names or indices) that no loss trains: loss weight 0, except a task that a
    trained conditional task depends on (`funnel`: conditional task -> the task it is conditional on; ESMM trains
    its pCTR through pCTCVR = pCTR * pCVR)."""
    reached = {parent for child, parent in funnel.items() if weights.get(child, 0) > 0}
    return {task for task, weight in weights.items() if weight <= 0 and task not in reached}


def split_monitor(monitor: str) -> tuple[str, str]:
    """'<task>:<metric>' as (task, metric), split at the last colon: a task may be named a:b, a metric never is."""
    task, _, metric = monitor.rpartition(":")
    return task, metric


def free_name(name: str, taken: set[str]) -> str:
    """`name`, or `name_2`, `name_3`… the first not in `taken` (which then holds it): a column of our own beside
    the user's columns, which may have any name."""
    column, n = name, 1
    while column in taken:
        n += 1
        column = f"{name}_{n}"
    taken.add(column)
    return column


def funnel_chain(task: str, joint: Mapping[str, str]) -> list[str]:
    """The tasks whose chances joint_scores multiplies for `task`, first step first: ['click', 'like', 'purchase']
    for a purchase logged under likes and likes under clicks (a label 'like × purchase' hid the click)."""
    chain = [task]
    while chain[0] in joint and joint[chain[0]] not in chain:
        chain.insert(0, joint[chain[0]])
    return chain


def chain_label(task: str, joint: Mapping[str, str]) -> str:
    """A chance-of-both score's name: 'click × like × purchase'; the task's own where `joint` holds none."""
    return " × ".join(funnel_chain(task, joint))


def chance_name(task: str, joint: Mapping[str, str]) -> str:
    """What a joint score is: 'chance of both' (click × purchase), or 'chance of every step' down a longer funnel."""
    return "chance of both" if len(funnel_chain(task, joint)) <= 2 else "chance of every step"


@dataclass(frozen=True)
class RecommendColumns:
    """A recommendation table's own columns beside one per task: the item, whether the user has seen it, the fused
    score, the rank and, per regression task, its prediction on the label's scale (`<task>_value`). Each takes
    `_2`, `_3`… where a task already has its name (a label named `rank`, or `watch_value` beside `watch`)."""

    item: str = "item"
    seen: str = "seen"
    fused: str = "fused"
    rank: str = "rank"
    values: dict[str, str] = field(default_factory=dict)  # regression task -> its value column

    @classmethod
    def around(cls, tasks: list[TaskSpec]) -> RecommendColumns:
        taken = {t.name for t in tasks}
        own = {key: free_name(key, taken) for key in ("item", "seen", "fused", "rank")}
        values = {t.name: free_name(f"{t.name}_value", taken) for t in tasks if t.type == "regression"}
        return cls(**own, values=values)


@dataclass
class DataConfig:
    path: str | None = None  # interaction file (CSV, CSV.gz, Parquet, JSON lines); None when a DataFrame is passed in
    test_path: str | None = None  # explicit test file (the split method then carves only the validation rows)
    name: str | None = None  # an uploaded file's name as given, for display only (never a path); None: path's own
    user_col: str | None = None  # optional: enables GAUC, ranking metrics and recommendations
    item_col: str | None = None
    time_col: str | None = None  # optional: enables the time split and "most recent row" lookups
    categorical: list[str] = field(default_factory=list)  # embedded features (ids included when listed)
    numeric: list[str] = field(default_factory=list)  # standardised features
    max_vocab: int = 100_000  # per categorical column: the most frequent values kept, the rest share the OOV index
    min_count: int = 1  # values seen fewer times in training share the OOV index
    # Multi-valued features: each value a list of tokens (genres 'Action|Comedy', split at '|', ';' or ',', a list
    # written as text "['a', 'b']", or a Parquet/JSON list), encoded as the mean of its tokens' indicators (see
    # mtlrec.encode). max_tokens: per column, the most frequent tokens with an input of their own; the rest share one.
    multi: list[str] = field(default_factory=list)
    max_tokens: int = 64
    # Changes to the rows made where they are read, in order (mtlrec.fixes): drop rows, fill missing values, make a
    # 0/1 label, e.g. [{"drop": "purchase", "where": "missing"}, {"label": "liked", "from": "rating", "where": ">=",
    # "value": 4}]. The file itself is never changed.
    fixes: list[dict] = field(default_factory=list)
    # The column names of CSV files without a header line (MovieLens' ratings.dat), in the files' order; the training
    # and test files alike. None: the files' first lines name their columns.
    names: list[str] | None = None

    # The feature roles, as the Data page names them: categorical, numeric and multi-valued.
    FEATURE_ROLES = ("categorical", "numeric", "multi-valued")

    def _role_lists(self) -> dict[str, list[str]]:
        return {"categorical": self.categorical, "numeric": self.numeric, "multi-valued": self.multi}

    @property
    def features(self) -> list[str]:
        """Every feature column once: the categorical, numeric and multi-valued ones."""
        return list(dict.fromkeys([*self.categorical, *self.numeric, *self.multi]))

    def role_of(self, column: str) -> str | None:
        """A feature column's role ('categorical', 'numeric' or 'multi-valued'); None when it is no feature."""
        return next((role for role, columns in self._role_lists().items() if column in columns), None)

    def drop_feature(self, column: str) -> None:
        """The column is no feature any more, in whichever role it had."""
        self.categorical = [c for c in self.categorical if c != column]
        self.numeric = [c for c in self.numeric if c != column]
        self.multi = [c for c in self.multi if c != column]

    def add_feature(self, column: str, role: str) -> None:
        """The column is a feature in `role` (one of FEATURE_ROLES), after the others of that role."""
        self._role_lists()[role].append(column)


@dataclass
class SplitConfig:
    method: str = "random"  # random | user (no user in both train and test) | time (latest fraction is test)
    test_frac: float = 0.2  # of all rows (ignored with an explicit test file)
    val_frac: float = 0.1  # of the training rows, drives early stopping


@dataclass
class ModelConfig:
    kind: str = "shared_bottom"  # registry name, see mtlrec.models
    size: str = "small"  # preset: tiny | small | medium | large | xl
    embed_dim: int | None = None  # overrides the preset
    bottom: list[int] | None = None  # shared MLP widths, overrides the preset
    tower: list[int] | None = None  # per-task tower widths, overrides the preset
    dropout: float = 0.0
    cross: int = 0  # DCN-v2 cross layers on the embedded input, before the shared layers / experts (0: none)
    experts: int = 4  # MMoE: experts shared by all tasks; PLE: shared experts per level
    task_experts: int = 1  # PLE: experts owned by each task, per level
    levels: int = 1  # PLE: number of CGC (extraction) levels, 1 or 2
    funnel: dict[str, str] = field(default_factory=dict)  # ESMM: task -> the task it is conditional on

    def resolved(self) -> dict[str, Any]:
        """The preset with explicit overrides applied: embed_dim, bottom, tower, dropout."""
        preset = SIZE_PRESETS[self.size]
        return {
            "embed_dim": self.embed_dim or preset["embed_dim"],
            "bottom": list(self.bottom) if self.bottom else list(preset["bottom"]),
            "tower": list(self.tower) if self.tower else list(preset["tower"]),
            "dropout": self.dropout,
            "cross": self.cross,
        }


@dataclass
class WeightingConfig:
    method: str = "fixed"  # how per-task losses are combined; "fixed" is L = sum_j w_j * L_j
    alpha: float = 1.5  # GradNorm: strength of the pull towards equal training rates
    temperature: float = 2.0  # DWA: softmax temperature over the tasks' loss ratios


@dataclass
class TrainConfig:
    optimizer: str = "adam"  # adam | adamw
    lr: float = 2e-3
    weight_decay: float = 0.0
    batch_size: int = 256  # DeepCTR-Torch's default too; see the README on why not 1024
    epochs: int = 10
    patience: int = 2  # early stopping: epochs without validation improvement; 0 disables
    monitor: str = "loss"  # "loss" (weighted validation loss) or "<task>:<metric>", e.g. "click:auc"
    seed: int = 0
    device: str = "auto"  # auto (CUDA when present) | cpu | cuda
    # Matrix products of the training steps: auto (bfloat16 where the processor computes it natively, else fp32) |
    # fp32 | bf16. Weights, optimiser state, losses and every evaluation stay in float32 (mixed precision).
    precision: str = "auto"
    log_every: int = 50  # batches between progress callbacks inside an epoch
    diagnostics: bool = True  # record per-task gradient norms and cosines on the shared layers each epoch


@dataclass
class ExperimentConfig:
    data: DataConfig = field(default_factory=DataConfig)
    tasks: list[TaskSpec] = field(default_factory=list)
    split: SplitConfig = field(default_factory=SplitConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    weighting: WeightingConfig = field(default_factory=WeightingConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    k: int = 10  # cut-off for NDCG@K, Recall@K and HitRate@K

    @property
    def task_names(self) -> list[str]:
        return [t.name for t in self.tasks]

    def untrained_tasks(self) -> set[str]:
        """Tasks no loss trains: loss weight 0, except under ESMM a task that a trained conditional task depends on
        (its pCTR is trained through pCTCVR = pCTR * pCVR)."""
        funnel = self.model.funnel if self.model.kind == "esmm" else {}
        return untrained({t.name: t.weight for t in self.tasks}, funnel or {})

    def prediction_columns(self) -> dict[str, str]:
        """Each task's column in the test predictions (predictions.csv): `<task>_pred`, or `<task>_pred_2`, `_3`…
        where that name is already a column of the table (a label `click_pred` beside a task `click`)."""
        d = self.data
        taken = {c for c in (d.user_col, d.item_col, d.time_col) if c} | set(self.task_names)
        return {name: free_name(f"{name}_pred", taken) for name in self.task_names}

    def copy(self) -> ExperimentConfig:
        """A deep copy holding JSON values (plain): lists where a config built in Python holds tuples
        (categorical=('user_id', 'device')), Python numbers where it holds numpy ones (a weight np.float32(0.5) went
        into the run index's summary as the text '0.5')."""
        config = copy.deepcopy(self)
        tasks = config.tasks if isinstance(config.tasks, list) else []
        for part in (config, *(getattr(config, name) for name in _PARTS), *tasks):
            if dataclasses.is_dataclass(part) and not isinstance(part, type):
                for f in dataclasses.fields(part):
                    value = getattr(part, f.name)
                    if not dataclasses.is_dataclass(value) and f.name != "tasks":
                        setattr(part, f.name, plain(value))
        return config

    def to_dict(self) -> dict[str, Any]:
        return plain(dataclasses.asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExperimentConfig:
        if not isinstance(d, dict):
            raise MtlrecError("the config must be a JSON object")
        problems: list[str] = []
        parts = {f.name: f for f in dataclasses.fields(cls)}
        nested = {
            "data": DataConfig,
            "split": SplitConfig,
            "model": ModelConfig,
            "weighting": WeightingConfig,
            "train": TrainConfig,
        }
        kwargs: dict[str, Any] = {}
        for key, value in d.items():
            if key not in parts:
                problems.append(f"unknown config key '{key}'; known keys: {', '.join(parts)}")
            elif key in nested:
                kwargs[key] = _build(nested[key], value, key, problems)
            elif key == "tasks":
                if isinstance(value, list) or value is None:
                    kwargs[key] = [_build(TaskSpec, t, f"tasks[{i}]", problems) for i, t in enumerate(value or [])]
                else:  # {"click": 1} was reported as "'tasks[0]' must be a JSON object"
                    problems.append(
                        '\'tasks\' must be a list of task objects, e.g. [{"name": "click", "type": "binary", '
                        f'"weight": 1.0}}], got {type(value).__name__ if not isinstance(value, dict) else "an object"}'
                    )
            else:
                problem = _type_problem(key, parts[key].type, value)
                if problem:
                    problems.append(problem)
                kwargs[key] = value
        if problems:
            raise MtlrecError(problems, source="config")
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> ExperimentConfig:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise MtlrecError(f"the config is not valid JSON ({exc})", source="config") from None

    @classmethod
    def load(cls, path: str | Path) -> ExperimentConfig:
        """A config.json; a run folder stands for the config.json in it."""
        path = Path(path)
        if path.is_dir() and (path / "config.json").is_file():
            path = path / "config.json"
        if not path.is_file():
            where = f"folder '{path}' holds no config.json" if path.is_dir() else f"config file '{path}' does not exist"
            raise MtlrecError(where)
        try:  # utf-8-sig: a config saved by an editor that writes a byte-order mark (Notepad) reads too
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MtlrecError(f"config file '{path}' is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        return cls.from_json(text)

    def conform(self) -> list[str]:
        """Fit settings that depend on the schema to it (split method, early-stopping monitor); say what changed."""
        notes = []
        needs = {"user": self.data.user_col, "time": self.data.time_col}
        if self.split.method in needs and not needs[self.split.method]:
            notes.append(
                f"the {self.split.method} split needs a {self.split.method} column: training will use the random split"
            )
            self.split.method = "random"
        monitored = split_monitor(self.train.monitor)[0]
        if self.train.monitor != "loss" and monitored not in self.task_names:
            notes.append(f"early stopping watched '{monitored}', which is no longer a task: it now watches the loss")
            self.train.monitor = "loss"
        funnel = self.model.funnel or {}
        if gone := {c: p for c, p in funnel.items() if c not in self.task_names or p not in self.task_names}:
            # An ESMM funnel of the previous dataset: "funnel 'purchase' → 'click': 'purchase' is not a task" blocked
            # a file without them, and did not say where it was set (a browser audit)
            self.model.funnel = {c: p for c, p in funnel.items() if c not in gone}
            shown = ", ".join(f"'{c}' after '{p}'" for c, p in gone.items())
            notes.append(f"the ESMM funnel ({shown}) names tasks this data does not have: set it again on Train")
        return notes

    def type_problems(self) -> tuple[list[str], ExperimentConfig | None]:
        """A sentence per field whose value has the wrong type (as from_dict finds them in JSON), for configs built
        in Python: numpy numbers count as numbers, a bare string is no list, a task is a TaskSpec. Also the config
        with the default value in each such field, for the checks of values (None when the tasks or a part such as
        `train` are not even of their class: nothing more can be checked)."""
        problems: list[str] = []
        parts: dict[str, Any] = {}
        whole = True
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _PARTS:
                if not isinstance(value, _PARTS[f.name]):
                    problems.append(f"'{f.name}' must be a {_PARTS[f.name].__name__}, got {value!r}")
                    whole = False
                else:
                    parts[f.name] = _typed(value, f.name, problems)
            elif f.name == "tasks":
                if not isinstance(value, list | tuple):
                    problems.append(f"'tasks' must be a list of TaskSpec, got {value!r}{_hint(value, 'TaskSpec')}")
                    whole = False
                    continue
                tasks = []
                for i, task in enumerate(value):
                    if isinstance(task, TaskSpec):
                        tasks.append(_typed(task, f"tasks[{i}]", problems))
                    else:
                        shown = f"the text {task!r}: use TaskSpec({task!r})" if isinstance(task, str) else repr(task)
                        problems.append(f"'tasks[{i}]' must be a TaskSpec, got {shown}")
                        whole = False
                parts["tasks"] = tasks
            else:
                problem = _type_problem(f.name, f.type, value)
                if problem:
                    problems.append(problem)
                    value = f.default
                parts[f.name] = value
        return problems, (dataclasses.replace(self, **parts) if whole else None)

    def check(self) -> None:
        """Raise MtlrecError listing every setting that cannot work."""
        problems, typed = self.type_problems()
        if typed is None:
            raise MtlrecError(problems, source="config")
        typed._check_values(problems)
        if problems:
            raise MtlrecError(problems, source="config")

    def _check_values(self, problems: list[str]) -> None:
        """Append a sentence per setting whose value cannot work; every field has its type (type_problems)."""
        if not self.tasks:
            problems.append("choose at least one task (a label column)")
        names = self.task_names
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"task '{name}' is listed more than once")
        for t in self.tasks:
            if t.type not in TASK_TYPES:
                problems.append(f"task '{t.name}': type '{t.type}' is not one of {', '.join(TASK_TYPES)}")
            if not math.isfinite(t.weight) or t.weight < 0:
                problems.append(f"task '{t.name}': loss weight must be a number >= 0, got {t.weight!r}")
            if t.log1p and t.type != "regression":
                problems.append(f"task '{t.name}': log1p applies to regression tasks only")
        if self.tasks and all(t.weight == 0 for t in self.tasks):
            problems.append("every task has loss weight 0: give at least one task a weight > 0 to train")
        s = self.split
        if s.method not in SPLIT_METHODS:
            problems.append(f"split method '{s.method}' is not one of {', '.join(SPLIT_METHODS)}")
        if not 0 < s.test_frac < 1:
            problems.append(f"test fraction must be between 0 and 1, got {s.test_frac}")
        if not 0 < s.val_frac < 1:
            problems.append(f"validation fraction must be between 0 and 1, got {s.val_frac}")
        problems.extend(fix_problems(self.data.fixes))
        if self.data.user_col and self.data.user_col == self.data.item_col:
            problems.append(
                f"column '{self.data.user_col}' is both the user and the item column: choose two different columns"
            )
        # Also with a test file: the split method then carves the validation rows out of the training file.
        if s.method == "user" and not self.data.user_col:
            problems.append("the 'user' split needs a user column: set one or choose the random split")
        if s.method == "time" and not self.data.time_col:
            problems.append("the 'time' split needs a timestamp column: set one or choose the random split")
        m = self.model
        if m.size not in SIZE_PRESETS:
            problems.append(f"model size '{m.size}' is not one of {', '.join(SIZE_PRESETS)}")
        if m.embed_dim is not None and m.embed_dim < 1:
            problems.append(f"embedding size must be >= 1, got {m.embed_dim}")
        for label, widths in (("bottom", m.bottom), ("tower", m.tower)):
            if widths is not None and any(w < 1 for w in widths):
                problems.append(f"{label} layer widths must be >= 1, got {widths}")
        if not 0 <= m.dropout < 1:
            problems.append(f"dropout must be in [0, 1), got {m.dropout}")
        if not 0 <= m.cross <= MAX_CROSS:
            problems.append(f"cross layers must be from 0 to {MAX_CROSS}, got {m.cross}")
        if m.kind not in MODEL_KINDS:
            problems.append(f"model '{m.kind}' is not one of {', '.join(MODEL_KINDS)}")
        if m.kind in ("mmoe", "ple") and m.experts < 1:
            problems.append(f"{m.kind} needs at least 1 shared expert, got {m.experts}")
        if m.kind == "ple" and (m.task_experts < 1 or m.levels < 1):
            problems.append(f"PLE needs at least 1 task expert and 1 level, got {m.task_experts} and {m.levels}")
        if m.kind == "esmm" and self.tasks:
            try:
                resolve_funnel(m.funnel, self.tasks)
            except MtlrecError as exc:
                problems.extend(exc.problems)
        w = self.weighting
        if w.method not in WEIGHTING_METHODS:
            problems.append(f"loss weighting '{w.method}' is not one of {', '.join(WEIGHTING_METHODS)}")
        if not (math.isfinite(w.alpha) and w.alpha >= 0):
            problems.append(f"GradNorm alpha must be a number >= 0, got {w.alpha!r}")
        if not (math.isfinite(w.temperature) and w.temperature > 0):
            problems.append(f"DWA temperature must be a number > 0, got {w.temperature!r}")
        tr = self.train
        if tr.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer '{tr.optimizer}' is not one of {', '.join(OPTIMIZERS)}")
        if not (math.isfinite(tr.lr) and tr.lr > 0):
            problems.append(f"learning rate must be > 0 (and finite), got {tr.lr!r}")
        if not (math.isfinite(tr.weight_decay) and tr.weight_decay >= 0):
            problems.append(f"weight decay must be a number >= 0, got {tr.weight_decay!r}")
        if not 0 <= tr.seed < 2**32:
            problems.append(f"seed must be a whole number from 0 to {2**32 - 1}, got {tr.seed!r}")
        if tr.batch_size < 1:
            problems.append(f"batch size must be >= 1, got {tr.batch_size}")
        if tr.epochs < 1:
            problems.append(f"epochs must be >= 1, got {tr.epochs}")
        if tr.patience < 0:
            problems.append(f"patience must be >= 0, got {tr.patience}")
        if tr.device not in DEVICES:
            problems.append(f"device '{tr.device}' is not one of {', '.join(DEVICES)}")
        if tr.precision not in PRECISIONS:
            problems.append(f"precision '{tr.precision}' is not one of {', '.join(PRECISIONS)}")
        if tr.monitor != "loss":
            task, metric = split_monitor(tr.monitor)
            types = {t.name: t.type for t in self.tasks}
            if task not in names or not metric:
                problems.append(f"monitor '{tr.monitor}' must be 'loss' or '<task>:<metric>' with a chosen task")
            elif types[task] in MONITOR_METRICS:
                allowed = [m for m in MONITOR_METRICS[types[task]] if m != "gauc" or self.data.user_col]
                if metric not in allowed:
                    problems.append(
                        f"monitor '{tr.monitor}': a {types[task]} task is monitored by one of {', '.join(allowed)}"
                    )
        if self.k < 1:
            problems.append(f"K must be >= 1, got {self.k}")


_PARTS: dict[str, type] = {
    "data": DataConfig,
    "split": SplitConfig,
    "model": ModelConfig,
    "weighting": WeightingConfig,
    "train": TrainConfig,
}


def _typed(part: Any, where: str, problems: list[str]) -> Any:
    """`part` (a dataclass) with its default in each field of the wrong type; a sentence per such field."""
    wrong = {}
    for f in dataclasses.fields(part):
        value = getattr(part, f.name)
        problem = _type_problem(f"{where}.{f.name}", f.type, value)
        if problem:
            problems.append(problem)
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            wrong[f.name] = str(value) if default is dataclasses.MISSING else default  # a task's name has none
    return dataclasses.replace(part, **wrong) if wrong else part


def plain(value: Any) -> Any:
    """A config's values as JSON values: numpy numbers as Python numbers, tuples as lists (a config built in Python
    may hold them; json.dumps refuses numpy numbers)."""
    if isinstance(value, dict):
        return {key: plain(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if _from_numpy(value):
        return value.item()
    return value


def _from_numpy(value: Any) -> bool:
    """A numpy scalar (np.float32(0.5), np.bool_(True)), told apart without importing numpy: `import mtlrec` stays
    light."""
    return type(value).__module__ == "numpy" and hasattr(value, "item")


def _build(cls: type, value: Any, where: str, problems: list[str]) -> Any:
    if not isinstance(value, dict):
        problems.append(f"'{where}' must be a JSON object")
        return None
    fields = {f.name: f for f in dataclasses.fields(cls)}
    known = set(fields)
    for key in sorted(set(value) - known):
        problems.append(f"unknown key '{where}.{key}'; known keys: {', '.join(sorted(known))}")
    for key in sorted(set(value) & known):
        problem = _type_problem(f"{where}.{key}", fields[key].type, value[key])
        if problem:
            problems.append(problem)
    required = [
        name
        for name, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and name not in value
    ]
    if required:  # the dataclass' own TypeError spoke of TaskSpec.__init__ and positional arguments
        problems.append(f"'{where}' needs {' and '.join(repr(n) for n in required)}")
        return None
    try:
        return cls(**{k: v for k, v in value.items() if k in known})
    except TypeError as exc:
        problems.append(f"'{where}': {exc}")
        return None


# JSON value types of the annotations used above; a wrong type would otherwise crash check() with a TypeError.
# numbers.Integral/Real also admit numpy scalars, which widgets and DataFrames hand over.
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (numbers.Integral,),
    "float": (numbers.Real,),
    "bool": (bool,),
}


def _type_problem(where: str, annotation: str, value: Any) -> str | None:
    """A sentence when `value` does not match a field annotation such as 'int', 'float', 'list[int] | None'."""
    for option in (a.strip() for a in str(annotation).split("|")):
        if option == "None":
            if value is None:
                return None
            continue
        is_list = option.startswith("list[")
        kinds = _JSON_TYPES.get(option[5:-1] if is_list else option)
        if kinds is None:
            return None  # a type this check does not cover
        if is_list and not isinstance(value, list | tuple):
            continue
        if all(_is_json_type(v, kinds) for v in (value if is_list else [value])):
            return None
    expected = str(annotation).replace(" | ", " or ")
    return f"'{where}' must be {expected}, got {value!r}{_hint(value, expected[5:-1] if 'list[' in expected else '')}"


def _hint(value: Any, item: str) -> str:
    """How to give a value that has the wrong type in a config built in Python."""
    if isinstance(value, str) and item:  # iterated, it would be one setting per character
        names = [name.strip() for name in value.split(",")] if "," in value else [value]  # 'click,like'
        examples = [f"TaskSpec({name!r})" if item == "TaskSpec" else repr(name) for name in names]
        return f": a list is expected, e.g. [{', '.join(examples)}]"
    if isinstance(value, os.PathLike):
        return ": pass the path as a string, str(path)"
    if type(value).__name__ == "device":  # torch.device
        return f": pass a string, e.g. {str(value)!r}"
    return ""


def _is_json_type(value: Any, kinds: tuple[type, ...]) -> bool:
    # JSON true is not 1. numpy's bool is no bool instance, but a pandas table's True is one.
    numpy_bool = _from_numpy(value) and isinstance(value.item(), bool)
    if bool in kinds:
        return isinstance(value, bool) or numpy_bool
    return isinstance(value, kinds) and not isinstance(value, bool) and not numpy_bool


def resolve_funnel(funnel: dict[str, str], tasks: list[TaskSpec]) -> dict[int, int]:
    """{conditional task index: the index of the task it is conditional on}; MtlrecError lists every problem."""
    if not isinstance(funnel, dict) or not all(isinstance(n, str) for pair in funnel.items() for n in pair):
        raise MtlrecError(f"the ESMM funnel must map task names to task names, got {funnel!r}", source="model")
    if not funnel:
        binary = [t.name for t in tasks if t.type == "binary"]
        if len(binary) < 2:
            raise MtlrecError(
                "ESMM needs two binary tasks, one conditional on the other (a purchase only after a click); this run "
                f"has {len(binary)} binary task{'' if len(binary) == 1 else 's'} ({', '.join(binary) or 'none'}): "
                "choose another architecture (on Train, or --model), or add a binary task",
                source="model",
            )
        parent, child = binary[:2]
        raise MtlrecError(
            f"ESMM needs at least one conditional task: mark e.g. {child} as conditional on {parent} (--funnel "
            f"{child}={parent} on the command line, the funnel setting on Train)",
            source="model",
        )
    types = {t.name: t.type for t in tasks}
    index = {t.name: i for i, t in enumerate(tasks)}
    problems = []
    for child, parent in funnel.items():
        missing = [name for name in (child, parent) if name not in types]
        if missing:
            for name in missing:
                problems.append(f"funnel '{child}' -> '{parent}': '{name}' is not a task ({', '.join(types)})")
            continue
        if child == parent:
            problems.append(f"task '{child}' cannot be conditional on itself")
            continue
        for name in (child, parent):
            if types[name] != "binary":
                problems.append(
                    f"funnel '{child}' -> '{parent}': '{name}' is a {types[name]} task; both must be binary"
                )
        if parent in funnel:
            problems.append(
                f"'{child}' is conditional on '{parent}', which is itself conditional on '{funnel[parent]}': "
                "ESMM supports one step (e.g. click -> purchase), not chains or cycles"
            )
    if problems:
        raise MtlrecError(problems, source="model")
    return {index[child]: index[parent] for child, parent in funnel.items()}
