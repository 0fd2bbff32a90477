"""Infer a schema proposal from a table, coerce labels, and validate a config against the data.

Inference only proposes; every choice can be overridden in the config. Validation lists every problem at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mtlrec.config import DataConfig, ExperimentConfig, TaskSpec
from mtlrec.errors import MtlrecError

_USER_NAMES = {"user", "userid", "uid", "customer", "customerid", "member", "memberid", "visitor", "account"}
_ITEM_NAMES = {
    "item", "itemid", "iid", "product", "productid", "movie", "movieid", "video", "videoid", "article",
    "articleid", "song", "songid", "track", "trackid", "sku", "asin", "photo", "photoid", "post", "postid",
    "doc", "docid", "ad", "adid", "content", "contentid", "business", "businessid", "book", "bookid",
}  # fmt: skip
_TIME_NAMES = {
    "timestamp",
    "time",
    "ts",
    "datetime",
    "date",
    "eventtime",
    "createdat",
    "event_time",
    "unixtime",
}
# Tokens that mark a label column. Regression tokens make a numeric label a regression task.
_BINARY_LABEL_TOKENS = {
    "click", "clicked", "clk", "like", "liked", "follow", "followed", "purchase", "purchased", "buy", "bought",
    "order", "ordered", "cart", "convert", "converted", "conversion", "cvr", "ctr", "share", "shared", "comment",
    "commented", "favorite", "favourite", "fav", "finish", "finished", "complete", "completed", "label",
    "target", "is_click", "collect", "download", "install", "subscribe", "skip", "dislike", "engaged",
}  # fmt: skip
_REGRESSION_LABEL_TOKENS = {"watch_time", "watchtime", "dwell", "dwell_time", "play_time", "playtime", "rating",
                            "stay_time", "view_time", "revenue", "gmv", "watch", "listen_time"}  # fmt: skip

# Accepted spellings of a binary label, mapped to 0/1. Anything else in a binary label is a problem.
_TRUE_WORDS = {"1", "1.0", "true", "yes", "y", "t"}
_FALSE_WORDS = {"0", "0.0", "false", "no", "n", "f"}


@dataclass
class SchemaProposal:
    """What inference suggests: column roles, tasks, and why some columns are ignored."""

    data: DataConfig
    tasks: list[TaskSpec]
    ignored: dict[str, str] = field(default_factory=dict)  # column -> reason


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _tokens(name: str) -> set[str]:
    lower = name.lower()
    parts = [p for p in re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()) if p]
    joined = {"_".join(parts[i : i + 2]) for i in range(len(parts) - 1)}
    return set(parts) | joined | {lower}


def binary_coding(series: pd.Series) -> tuple[dict, str | None] | None:
    """How a column's distinct values map to 0/1, plus a note when they are not plain 0/1; None if not binary.

    Accepts 0/1, true/false, yes/no (any case) and -1/1 (-1 read as negative). Missing values are ignored here.
    """
    values = pd.unique(series.dropna())
    if len(values) == 0 or len(values) > 2:
        return None
    mapping: dict = {}
    words = set()
    for v in values:
        if isinstance(v, bool | np.bool_):
            mapping[v] = float(v)
            words.add("true/false")
            continue
        if isinstance(v, int | float | np.integer | np.floating):
            if v in (0, 1):
                mapping[v] = float(v)
                if float(v) != int(v) or isinstance(v, float | np.floating):
                    words.add("0.0/1.0")
                continue
            if v == -1:
                mapping[v] = 0.0
                words.add("-1/1")
                continue
            return None
        text = str(v).strip().lower()
        if text in _TRUE_WORDS:
            mapping[v] = 1.0
        elif text in _FALSE_WORDS:
            mapping[v] = 0.0
        elif text == "-1":
            mapping[v] = 0.0
            words.add("-1/1")
            continue
        else:
            return None
        if text not in ("0", "1"):
            words.add(f"{text}")
    if len(set(mapping.values())) < len(mapping):
        return None  # e.g. "yes" and "1" both meaning positive: ambiguous spelling, not a clean binary column
    note = None
    if "-1/1" in words:
        note = "values -1/1 read as 0/1 (-1 = negative)"
    elif words - {"0.0/1.0"}:
        shown = "/".join(sorted(str(k) for k in mapping))
        note = f"values {shown} read as 0/1"
    return mapping, note


def binary_labels(series: pd.Series) -> np.ndarray:
    """A binary label column as float32 0/1 (assumes validate() accepted it)."""
    coding = binary_coding(series)
    if coding is None:
        raise MtlrecError(f"column '{series.name}' is not a binary 0/1 label")
    return series.map(coding[0]).to_numpy(dtype=np.float32)


def is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def infer_schema(frame: pd.DataFrame) -> SchemaProposal:
    """Propose user/item/time columns, tasks and feature types from names, dtypes and cardinality."""
    n = len(frame)
    columns = list(frame.columns)
    nunique = {c: int(frame[c].nunique(dropna=True)) for c in columns}
    ignored: dict[str, str] = {}

    def id_column(names: set[str], exclude: set[str]) -> str | None:
        for c in columns:
            if c in exclude:
                continue
            squashed = _squash(c)
            if (squashed in names or squashed.rstrip("s") in names) and nunique[c] >= min(20, max(2, n // 50)):
                return c
        return None

    user_col = id_column(_USER_NAMES, set())
    item_col = id_column(_ITEM_NAMES, {user_col})
    time_col = None
    for c in columns:
        if c in (user_col, item_col):
            continue
        if pd.api.types.is_datetime64_any_dtype(frame[c]) or (
            _squash(c) in {_squash(t) for t in _TIME_NAMES} and nunique[c] > 1
        ):
            time_col = c
            break

    tasks: list[TaskSpec] = []
    categorical: list[str] = [c for c in (user_col, item_col) if c]
    numeric: list[str] = []
    for c in columns:
        if c in (user_col, item_col, time_col):
            continue
        s = frame[c]
        tokens = _tokens(c)
        if nunique[c] <= 1:
            ignored[c] = "constant: it carries no information"
            continue
        if tokens & _BINARY_LABEL_TOKENS or tokens & _REGRESSION_LABEL_TOKENS:
            if binary_coding(s) is not None:
                tasks.append(TaskSpec(c, "binary"))
                continue
            if is_numeric(s):
                skewed = bool(s.min() >= 0 and s.skew() > 2)
                tasks.append(TaskSpec(c, "regression", log1p=skewed))
                continue
        if pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s):
            ignored[c] = "a date/time that is not the timestamp column"
        elif is_numeric(s):
            integer = pd.api.types.is_integer_dtype(s) or bool(np.all(np.mod(s.dropna(), 1) == 0))
            (categorical if integer and nunique[c] <= 32 else numeric).append(c)
        elif nunique[c] > 0.5 * n and n > 100:
            ignored[c] = f"{nunique[c]:,} distinct values in {n:,} rows: looks like a row id or free text"
        else:
            categorical.append(c)
    data = DataConfig(user_col=user_col, item_col=item_col, time_col=time_col, categorical=categorical, numeric=numeric)
    return SchemaProposal(data=data, tasks=tasks, ignored=ignored)


def show_value(value) -> str:
    """A value as a person would write it in a message: 3, 0.5, 'abc' (long text cut)."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _where(series: pd.Series, mask: np.ndarray) -> str:
    """'row 17' / 'rows 3, 9, ...' (1-based data rows) and an example value, for messages."""
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r + 1) for r in rows[:3]) + (", ..." if len(rows) > 3 else "")
    word = "row" if len(rows) == 1 else "rows"
    return f"{len(rows):,} {word} ({word} {shown}, e.g. {show_value(series.iloc[rows[0]])})"


def _label_problems(frame: pd.DataFrame, task: TaskSpec, notes: list[str], source: str) -> list[str]:
    s = frame[task.name]
    where = f"{source}column '{task.name}'"
    numeric = pd.to_numeric(s, errors="coerce") if not is_numeric(s) else s
    missing = s.isna().to_numpy()
    if missing.any():
        return [f"{where} (task) has missing values in {_where(s, missing)}: fill or drop those rows"]
    if is_numeric(s):
        inf = ~np.isfinite(s.to_numpy(dtype=float))
        if inf.any():
            return [f"{where} (task) has infinite values in {_where(s, inf)}: fix or drop those rows"]
    if task.type == "binary":
        coding = binary_coding(s)
        if coding is None:
            shown = ", ".join(show_value(v) for v in pd.unique(s)[:6])
            nunique = s.nunique()
            return [
                f"{where} is a binary task but has {nunique} distinct values ({shown}{', ...' if nunique > 6 else ''}): "
                "a binary label holds 0/1 (or true/false, yes/no); make it a regression task or recode it"
            ]
        if coding[1]:
            notes.append(f"{where}: {coding[1]}")
    else:
        bad = numeric.isna().to_numpy()
        if bad.any():
            return [f"{where} is a regression task but has non-numeric values in {_where(s, bad)}: clean them"]
        if task.log1p and float(numeric.min()) < 0:
            return [f"{where}: log1p needs values >= 0 but the minimum is {float(numeric.min()):g}; turn log1p off"]
    if s.nunique() < 2:
        return [
            f"{where} (task) has the same value ({show_value(s.iloc[0])}) in every row: nothing can be learned from it; "
            "drop the task or use data where it varies"
        ]
    return []


def validate(config: ExperimentConfig, frame: pd.DataFrame, test_frame: pd.DataFrame | None = None) -> list[str]:
    """Check the config against the data; return notes (decisions taken) or raise MtlrecError listing problems."""
    problems: list[str] = []
    try:
        config.check()
    except MtlrecError as exc:
        problems.extend(exc.problems)
    d = config.data
    notes: list[str] = []
    roles: dict[str, list[str]] = {}
    for role, cols in (
        ("user", [d.user_col]),
        ("item", [d.item_col]),
        ("time", [d.time_col]),
        ("categorical feature", d.categorical),
        ("numeric feature", d.numeric),
        ("task", config.task_names),
    ):
        for c in cols:
            if c:
                roles.setdefault(c, []).append(role)
    for c, r in roles.items():
        if "task" in r and len(r) > 1:
            problems.append(f"column '{c}' is both a task and a {r[0]}: a label must not also be an input")
        elif r.count("categorical feature") > 1 or r.count("numeric feature") > 1:
            problems.append(f"column '{c}' is listed twice as a feature")
        elif "categorical feature" in r and "numeric feature" in r:
            problems.append(f"column '{c}' is both categorical and numeric: choose one")
    if not d.categorical and not d.numeric:
        problems.append("no feature columns are selected: choose at least one categorical or numeric feature")
    frames = [("", frame)] + ([("test file: ", test_frame)] if test_frame is not None else [])
    for prefix, f in frames:
        if f.columns.duplicated().any():
            dup = sorted(set(f.columns[f.columns.duplicated()]))
            problems.append(f"{prefix}duplicate column names {dup}: give every column a unique name")
            continue
        missing = [c for c in roles if c not in f.columns]
        for c in missing:
            problems.append(
                f"{prefix}column '{c}' ({roles[c][0]}) is not in the data; columns are: "
                f"{', '.join(map(str, f.columns[:20]))}{' ...' if f.shape[1] > 20 else ''}"
            )
        present = {t.name: t for t in config.tasks if t.name in f.columns}
        for task in present.values():
            problems.extend(_label_problems(f, task, notes if not prefix else [], prefix))
        for c in d.numeric:
            if c in f.columns and not is_numeric(f[c]):
                converted = pd.to_numeric(f[c], errors="coerce")
                bad = (converted.isna() & f[c].notna()).to_numpy()
                if bad.any():
                    problems.append(
                        f"{prefix}column '{c}' is a numeric feature but has text in {_where(f[c], bad)}: "
                        "clean those values or make the column categorical"
                    )
        for c in d.numeric:
            if c in f.columns and is_numeric(f[c]) and not prefix:
                values = f[c].to_numpy(dtype=float, na_value=np.nan)
                if np.isinf(values).any():
                    notes.append(f"column '{c}': {int(np.isinf(values).sum()):,} infinite values treated as missing")
                if np.isnan(values).all():
                    problems.append(f"column '{c}' is a numeric feature with no values at all: drop it")
        if d.time_col and d.time_col in f.columns:
            parsed = parse_time(f[d.time_col])
            bad = (parsed.isna() & f[d.time_col].notna()).to_numpy() | f[d.time_col].isna().to_numpy()
            if bad.any():
                problems.append(
                    f"{prefix}timestamp column '{d.time_col}' has values that are not times in {_where(f[d.time_col], bad)}: "
                    "use numbers (epoch seconds) or dates like 2024-05-01 12:00"
                )
    problems.extend(_split_problems(config, frame, test_frame))
    if problems:
        raise MtlrecError(problems)
    return notes


MIN_TRAIN_ROWS = 10
MIN_EVAL_ROWS = 2


def _split_problems(config: ExperimentConfig, frame: pd.DataFrame, test_frame: pd.DataFrame | None) -> list[str]:
    n = len(frame)
    s = config.split
    test_rows = len(test_frame) if test_frame is not None else int(n * s.test_frac)
    train_rows = n if test_frame is not None else n - test_rows
    val_rows = int(train_rows * s.val_frac)
    train_rows -= val_rows
    problems = []
    if train_rows < MIN_TRAIN_ROWS or val_rows < MIN_EVAL_ROWS or test_rows < MIN_EVAL_ROWS:
        problems.append(
            f"too few rows for the split: {n:,} rows give {max(train_rows, 0):,} train / {val_rows:,} validation / "
            f"{test_rows:,} test rows; at least {MIN_TRAIN_ROWS} / {MIN_EVAL_ROWS} / {MIN_EVAL_ROWS} are needed: "
            "add data or change the test and validation fractions"
        )
    if s.method == "user" and test_frame is None and config.data.user_col in frame.columns:
        users = frame[config.data.user_col].nunique()
        if users < 3:
            problems.append(
                f"the user split needs at least 3 users in '{config.data.user_col}', found {users}: "
                "use the random split"
            )
    return problems


def parse_time(series: pd.Series) -> pd.Series:
    """A time column as float seconds (numbers stay as they are; dates and datetimes are converted)."""
    if is_numeric(series):
        return series.astype(float)
    if pd.api.types.is_datetime64_any_dtype(series):
        return _datetime_seconds(series)
    numbers = pd.to_numeric(series, errors="coerce")
    # Mostly numbers: epoch seconds, and the few values that are not numbers are bad times (not every row).
    if 2 * numbers.notna().sum() > series.notna().sum():
        return numbers.astype(float)
    # utc=True: ISO strings with different offsets (summer/winter time) would otherwise raise.
    return _datetime_seconds(pd.to_datetime(series, errors="coerce", format="mixed", utc=True))


# Dates outside these years are taken as misread values (e.g. "1,5" parsed as 5 January of year 1), not times.
PLAUSIBLE_YEARS = (1900, 2200)


def _datetime_seconds(series: pd.Series) -> pd.Series:
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    plausible = series.dt.year.between(*PLAUSIBLE_YEARS)
    seconds = series.astype("datetime64[s]").astype("int64").astype(float)  # seconds: no ns overflow
    return seconds.where(series.notna() & plausible)
