"""Inputs that give a label away: a feature that, on its own, separates a task almost perfectly.

Such a column is nearly always written with or after the event it is meant to predict: Retailrocket's
`transactionid` is filled exactly on purchases, a `watch_seconds` column is positive exactly on clicks, an
`event` column spells the label out. A model given it reports an AUC near 1 and learns nothing it could use at
recommendation time, when the column does not exist yet. We cannot know when a column was recorded, so we look
for the symptom and say so; inference sets such a column aside (see mtlrec.schema.infer_schema), explicit choices
are kept and warned about.

Each feature is scored against each task on up to LEAK_ROWS rows (a random sample of larger data that keeps the
rarer class of each binary task, up to RARE_ROWS rows of it, so that a rare label's leaks are checked too):
- a numeric feature by its values (rows where present) and, when some rows miss it, by whether it is missing;
- a categorical feature by its categories' label means, each row scored with the means of the *other* half of the
  rows (out of fold), so that an id-like column whose values each occur once cannot look perfect by memorising;
- binary tasks with the AUC of that score, folded to max(AUC, 1 - AUC) (a column can give the label away either
  way round); regression tasks with the absolute Spearman correlation.

A column written downstream of a rare event can give it away while scoring well under LEAK_SCORE, so one value of
each feature is also checked against each binary task's positives (rows where it is 1, the event):
- a value in all of them (99.9%, of 100 or more) and rare among the other rows, 20 times rarer or more (Criteo
  Uplift's visit = 1: in every conversion's row, in 4.4% of the others; AUC 0.978): the column contains the label.
  A real feature in nearly every positive is common among the negatives too (device = mobile in 99% of purchases
  and 98% of all rows), so the lift is asked; a precondition that is rarer (logged in, in 99.5% of purchases and 9%
  of the other rows) is a strong feature, not flagged (a review found 99% and 10x flagged it);
- a flag (a column of two values) whose value is in a large share of the positives and none of the others
  (Criteo Attribution's attribution = 1, on half of the conversions and nothing else; AUC 0.75): the column records
  a part of the event. A flag on 30% of the positives and 0.2% of the others (is_vip) is a strong feature. Only
  flags: a value of a many-valued code that holds positives only is an ordinary strong feature (Census-Income's
  household status 'Child under 18 never married', 58% of the never-married rows).
The same two rules the other way round, with the negatives as the event (a label can be written either way: Steam's
play is its purchase the other way round, and 'value' = 1.0 in every purchase row was set aside for purchase and
kept for play, AUC 0.97 against 0.43 without it):
- a value in all of the negatives (99.9%, of 100 or more) and 20 times rarer among the positives;
- a column of more than three values that has one value in every negative (1,000 or more) and others in half of
  the positives or more (Tenrec's watching_times: 0 on every non-click, 1 or more on 70% of the clicks; click AUC
  0.83, 0.58 without it): it is written with the event. Not a flag: one that holds a class entirely is a
  precondition (logged in: 99.5% of purchases and 9% of the other rows).
A value with none of the positives, or of the negatives, is left alone: it is as often a condition known before (out
of stock, a control group that is never exposed) as a later record.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from mtlrec.config import DataConfig, TaskSpec

LEAK_SCORE = 0.99  # folded AUC (binary) or |Spearman| (regression) from which a single column gives a label away
# |Spearman| from which a column gives a regression label away: it orders the rows nearly as the label does. A
# rating's bucket (bad/meh/good/great, out of fold) scores 0.965 and a review length of 20 x rating plus noise 0.989,
# each taking the rating's RMSE from 0.97 to 0.27 unflagged at 0.99 (an audit); a watch time against the video's
# duration, a real feature, scores far below.
REGRESSION_LEAK_SCORE = 0.95


# Share of a regression label's variance from which a categorical column's category means (out of fold) give it away
LEAK_VARIANCE = 0.9


def _bar(task: TaskSpec) -> float:
    return LEAK_SCORE if task.type == "binary" else REGRESSION_LEAK_SCORE


LEAK_ROWS = 50_000  # rows scored at most (a fixed random sample of larger data)...
LEAK_CELLS = 4_000_000  # ...and fewer for wide data, down to MIN_ROWS: rows x features at most this
MIN_ROWS = 1_000
RARE_ROWS = 1_000  # rows of a binary task's rarer class scored at least, when the data has them (see _sample)
MIN_CLASS_ROWS = 30  # a binary task needs this many rows of each class among them (among the rows where a column
# is present, for that column's values) to be checked; a regression task twice as many rows
# One value of a feature against a binary task's positives (see the module's docstring):
HOLDS_ALL = 0.999  # a value in this share of the positives or more (all of them, bar a typo)...
HOLDS_ALL_LIFT = 20  # ...and this many times as common among them as among the negatives, or more...
HOLDS_ALL_ROWS = 100  # ...with this many positives at least (30 of a feature in 99.5% of them are all 30 often)
FLAG_SHARE = 0.25  # a flag's value in this share of the positives or more (and in MIN_CLASS_ROWS of them), and in
# none of the negatives, of which there are FLAG_NEGATIVES or more (none of 42 said little: a VIP flag on 5% of them)
FLAG_NEGATIVES = 1_000
# A column of more than three values with one value in every negative is written with the event when at most this
# share of the positives hold that value too (a review: at 0.75 a prior_purchases count, 0 in every non-purchase and
# 65% of purchases, AUC 0.67, was set aside; Tenrec's watching_times is 0 in 30% of the clicks).
MEASURED_SHARE = 0.5


@dataclass(frozen=True)
class Leak:
    column: str
    task: str
    how: str  # "values", "missing", "categories", "variance" (a regression label's, by category means), "value" (one
    # value's share of the positives: see below) or "token" (one token of a multi-valued column, as "value")
    score: float  # folded AUC or |Spearman| (for "value", the AUC of that value against the others; "variance": R²)
    binary: bool
    any_of: tuple[str, ...] = ()  # set for the union of the binary tasks (`task` then joins their names)
    value: object = None  # for "value": the value, and its share of the task's positive and negative rows
    shares: tuple[float, float] = (0.0, 0.0)  # in the rows where the task is `label`, and in the others
    label: int = 1  # the class the value holds: 1 (the positives) or 0 (the negatives: the label the other way round)
    as_task: tuple[str, ...] = ()  # a number that could be a task itself: the tasks with it (--tasks ...,column)

    @property
    def tasks(self) -> tuple[str, ...]:
        return self.any_of or (self.task,)

    def evidence(self) -> str:
        measure = f"AUC {self.score:.3f}" if self.binary else f"rank correlation {self.score:.3f}"
        if self.how in ("value", "token"):
            from mtlrec.schema import show_value

            rows = f"task '{self.task}' is {self.label}"
            if self.any_of:
                tasks = ", ".join(repr(t) for t in self.any_of)
                rows = f"any of the tasks {tasks} is 1" if self.label else f"none of the tasks {tasks} is 1"
            positive, negative = self.shares
            others = (
                "none" if negative == 0 else f"only {_percent(negative)}" if negative <= 0.05 else _percent(negative)
            )
            return (
                f"its {self.how} {show_value(self.value)} is in {_percent(positive)} of the rows where {rows} and in "
                f"{others} of the others ({measure})"
            )
        if self.how == "variance":
            return (
                f"its categories alone explain {self.score:.0%} of the variance of task '{self.task}' (their mean "
                "label, learned on other rows)"
            )
        what = {"values": "its values", "missing": "whether it is missing", "categories": "its categories"}[self.how]
        target = f"task '{self.task}'"
        if self.any_of:
            target = f"whether any of the tasks {', '.join(repr(t) for t in self.any_of)} is 1"
        if not self.binary:  # from 0.95: "almost perfectly" overstated a rating's bucket (0.965)
            return f"{what} alone {'orders' if self.how == 'missing' else 'order'} the rows almost as {target} does ({measure})"
        verb = "predicts" if self.how == "missing" else "predict"  # "whether it is missing" is one thing
        return f"{what} alone {verb} {target} almost perfectly ({measure})"

    def as_task_advice(self, cli: bool = True, page: bool = True) -> str:
        """For a number that may be an outcome itself (Tenrec's watching_times, QB's read_time): how to make it a
        task, in the CLI (--tasks with the tasks checked and it) and/or on the Data page."""
        if not self.as_task:
            return ""
        where = [f"CLI: --tasks {','.join(self.as_task)}"] if cli else []
        where += (["on the Data page: role label"] if cli else ["role label"]) if page else []
        return f"; if it is an outcome to predict, make it a task ({'; '.join(where)})"

    def note(self, cli: bool = True) -> str:
        """The warning for a column chosen as a feature (with the CLI's flag, for a run's notes; the Data page's
        warning leaves it out)."""
        return (
            f"column '{self.column}' may leak the label: {self.evidence()}. A column like this is usually recorded "
            "with or after the event, so the model's scores would be too good to be true and useless for "
            "recommending; unless it is known before the event, set it to ignore"
            + (f" (CLI: --exclude {self.column})" if cli else "")
            + self.as_task_advice(cli=cli, page=not cli)
        )

    def reason(self) -> str:
        """Why inference set it aside."""
        return (
            f"may leak the label: {self.evidence()}; probably recorded with or after the event (make it a feature "
            f"if it is known before){self.as_task_advice()}"
        )


def find_leaks(frame: pd.DataFrame, data: DataConfig, tasks: list[TaskSpec], seed: int = 0) -> list[Leak]:
    """The feature columns of `data` that give one of `tasks` away (at most one Leak per column: its strongest)."""
    ids = {data.user_col, data.item_col, data.time_col} | {t.name for t in tasks}
    columns = set(frame.columns)
    # A multi-valued column is checked as the categories its whole values make (a leak there is one here).
    features = [c for c in data.features if c not in ids and c in columns]
    labels = [t for t in tasks if t.name in columns]
    if not features or not labels:
        return []
    wanted = max(MIN_ROWS, min(LEAK_ROWS, LEAK_CELLS // len(features)))
    rows = frame if len(frame) <= wanted else frame.iloc[_sample(frame, labels, wanted, seed)]
    targets = _targets(rows, labels)
    if not targets:
        return []
    # Rows whose label is missing in any task checked are left out (validation reports them on their own).
    known = np.logical_and.reduce([np.isfinite(y) for _, y in targets])
    if len(targets) > 1 and len(_targets(rows[known], [task for task, _ in targets])) < len(targets):
        # Labels logged for different rows (each task's outcome known for some events only): too few rows hold
        # them all, so each task is checked on its own rows (35 rows of 1M held all four, and a random column
        # scored AUC 1.000 on the 2 of them in the sample).
        return _each_on_its_rows(frame, data, tasks, [task for task, _ in targets], features, seed)
    rows, targets = rows[known], [(task, y[known]) for task, y in targets]
    # The union of the binary tasks too: an is_view column beside is_cart and is_purchase is 1 exactly when neither
    # is, which no single task shows at 0.99 (0.98 and 0.97).
    binary = [(task, y) for task, y in targets if task.type == "binary"]
    any_of: dict[str, tuple[str, ...]] = {}  # the union target's name -> its tasks
    if len(binary) >= 2:
        union = np.max([y for _, y in binary], axis=0)
        if min((union == 1).sum(), (union == 0).sum()) >= MIN_CLASS_ROWS:
            names = tuple(t.name for t, _ in binary)
            any_of[" or ".join(names)] = names
            targets.append((TaskSpec(" or ".join(names), "binary"), union))
    found: dict[str, list[Leak]] = {}
    as_number = set(data.numeric)
    numeric = [c for c in features if c in as_number]
    held = set()  # the numeric columns that may have a value holding the positives (see _numeric_leaks)
    if numeric:
        leaks, held = _numeric_leaks(rows, numeric, targets, any_of)
        for leak in leaks:
            found.setdefault(leak.column, []).append(leak)
    half = np.random.default_rng(seed).random(len(rows)) < 0.5  # the two folds of the categorical check
    binary = [(task, y) for task, y in targets if task.type == "binary"]
    for column in features:
        if column in as_number and (column in found or column not in held):
            continue
        codes, values = pd.factorize(rows[column], use_na_sentinel=False)  # a missing value is a category of its own
        counts = {}  # task -> (positives, rows) per value, as the categories' score counted them
        if column not in as_number:
            for task, y in targets:
                score, counts[task.name] = _categories_score(codes, y, half, task.type == "binary")
                if score >= _bar(task):
                    leak = Leak(
                        column, task.name, "categories", score, task.type == "binary", any_of.get(task.name, ())
                    )
                    found.setdefault(column, []).append(leak)
                elif task.type == "regression" and (r2 := _categories_r2(codes, y, half)) >= LEAK_VARIANCE:
                    found.setdefault(column, []).append(Leak(column, task.name, "variance", r2, False))
        if column in found:
            continue
        for task, y in binary:  # one value against the positives (see the module's docstring)
            if task.name not in counts:
                counts[task.name] = np.bincount(codes, weights=y), np.bincount(codes)
            if (holding := _value_holding_positives(*counts[task.name])) is not None:
                j, shares, label = holding
                score = (1 + shares[0] - shares[1]) / 2  # the AUC of that value against the others
                leak = Leak(
                    column, task.name, "value", score, True, any_of.get(task.name, ()), values[j], shares, label
                )
                found.setdefault(column, []).append(leak)
    for column in [c for c in data.multi if c in features and c not in found]:
        for leak in _token_leaks(column, rows[column], binary, any_of):
            found.setdefault(column, []).append(leak)
    leaks = [max(found[c], key=lambda leak: leak.score) for c in features if c in found]
    names = tuple(t.name for t in tasks)
    return [
        replace(leak, as_task=(*names, leak.column)) if _outcome_like(rows[leak.column]) else leak for leak in leaks
    ]


def _each_on_its_rows(
    frame: pd.DataFrame, data: DataConfig, tasks: list[TaskSpec], checked: list[TaskSpec], features: list, seed: int
) -> list[Leak]:
    """find_leaks for each task of `checked` alone, on the rows where its label is known; per column the strongest,
    named as find_leaks names it for all of `tasks` (a column to make a task beside them)."""
    strongest: dict[str, Leak] = {}
    for task in checked:
        for leak in find_leaks(frame[frame[task.name].notna()], data, [task], seed):
            if leak.column not in strongest or leak.score > strongest[leak.column].score:
                strongest[leak.column] = leak
    names = tuple(t.name for t in tasks)
    return [
        replace(strongest[c], as_task=(*names, c)) if strongest[c].as_task else strongest[c]
        for c in features
        if c in strongest
    ]


def set_aside(frame: pd.DataFrame, data: DataConfig, tasks: list[TaskSpec], keep: set[str] = frozenset()) -> list[Leak]:
    """The features of `data` that give one of `tasks` away, taken out of its features (those in `keep`, named by
    the user, stay), as inference sets them aside for the tasks it proposes; returns their Leaks."""
    found = [leak for leak in find_leaks(frame, data, tasks) if leak.column not in keep] if tasks else []
    gone = {leak.column for leak in found}
    for column in gone:
        data.drop_feature(column)
    return found


LEAK_TOKENS = 64  # a multi-valued column's most frequent tokens checked one by one


def _token_leaks(column: str, values: pd.Series, binary: list, any_of: dict) -> list[Leak]:
    """The tokens of a multi-valued column that each hold a binary task's positives, as one value of a column does
    (_value_holding_positives): a tag 'purchased' in every purchase's row gave purchase AUC 0.85 (GAUC 0.97) unseen,
    since its whole values, the tags' combinations, were checked and no single one held them."""
    from mtlrec.tokens import list_text, split_tokens, token_separator

    values = list_text(values.reset_index(drop=True))
    rows, tokens = split_tokens(values, token_separator(values))
    codes, names = pd.factorize(tokens)  # once: comparing every token 64 times took 8 s on 50,000 rows
    order, counts = np.argsort(codes, kind="stable"), np.bincount(codes, minlength=len(names))
    ends = np.cumsum(counts)  # token `code`'s rows are rows[order[ends[code] - counts[code] : ends[code]]]
    leaks = []
    for code in np.argsort(-counts, kind="stable")[:LEAK_TOKENS]:
        token = names[code]
        present = np.zeros(len(values), dtype=np.int64)
        present[rows[order[ends[code] - counts[code] : ends[code]]]] = 1
        for task, y in binary:
            holding = _value_holding_positives(
                np.bincount(present, weights=y, minlength=2), np.bincount(present, minlength=2)
            )
            if holding is not None and holding[0] == 1:
                _, shares, label = holding
                score = (1 + shares[0] - shares[1]) / 2
                leaks.append(
                    Leak(column, task.name, "token", score, True, any_of.get(task.name, ()), token, shares, label)
                )
    return leaks


def _value_holding_positives(positives: np.ndarray, rows: np.ndarray) -> tuple[int, tuple[float, float], int] | None:
    """From the positive rows and all rows of each value (code) of a column: the code of a value that holds (nearly)
    all of one class while rare in the other, or, in a flag (two values), a large share of the positives and none of
    the negatives, or, in a column of more than three values, every negative and not a large share of the positives
    (see the module's docstring); with its share of the rows of the class it holds and of the others, and
    that class (1 or 0). None when none."""
    n_codes = len(rows)
    negatives = rows - positives
    if min(positives.sum(), negatives.sum()) < MIN_CLASS_ROWS:
        return None
    p, q = positives / positives.sum(), negatives / negatives.sum()
    many = positives.sum() >= HOLDS_ALL_ROWS and negatives.sum() >= HOLDS_ALL_ROWS
    j = int(np.argmax(p))
    if many and p[j] >= HOLDS_ALL and p[j] >= HOLDS_ALL_LIFT * q[j]:
        return j, (float(p[j]), float(q[j])), 1
    if n_codes == 2 and negatives.sum() >= FLAG_NEGATIVES:
        for j in (0, 1):
            if positives[j] >= MIN_CLASS_ROWS and p[j] >= FLAG_SHARE and negatives[j] == 0:
                return j, (float(p[j]), float(q[j])), 1
    # The other way round last: a token's "absent" value in every negative had hidden its flag rule (a review).
    j = int(np.argmax(q))
    if many and q[j] >= HOLDS_ALL and q[j] >= HOLDS_ALL_LIFT * p[j]:
        return j, (float(q[j]), float(p[j])), 0
    if n_codes > 3 and negatives.sum() >= FLAG_NEGATIVES and q[j] == 1 and p[j] <= MEASURED_SHARE:
        return j, (1.0, float(p[j])), 0
    return None


# Words of a name for a point in time (conversion_timestamp), not a duration (read_time, watch_time: outcomes).
_POINT_IN_TIME = {"timestamp", "ts", "date", "datetime", "epoch", "created", "updated", "unixtime"}


def _outcome_like(series: pd.Series) -> bool:
    """Whether a column set aside could be a regression task itself: numbers in every row (more than two values:
    not a flag), not named as an id, a code or a point in time (Tenrec's watching_times, QB's read_time; not
    conversion_id or conversion_timestamp)."""
    from mtlrec.schema import _code_named, _id_named, _parts

    if series.dtype == bool or _id_named(str(series.name)) or _code_named(str(series.name)):
        return False
    if set(_parts(str(series.name))) & _POINT_IN_TIME:
        return False
    try:
        numbers = pd.to_numeric(series, errors="coerce")  # a label must be present in every row: not pay_amount
    except (TypeError, ValueError):  # a pandas category, a list in a cell
        return False
    return bool(numbers.notna().all() and numbers.nunique() > 2)


def _percent(share: float) -> str:
    """A share of rows as a percentage: 100% or 0% only when exact (99.96% is not all of them)."""
    if share in (0.0, 1.0):
        return f"{share:.0%}"
    return f"{share:.1%}" if 0.001 <= share <= 0.999 else f"{share:.2%}"


def _sample(frame: pd.DataFrame, tasks: list[TaskSpec], wanted: int, seed: int) -> np.ndarray:
    """Positions of `wanted` rows to score: random, except that the rarer class of each binary task is taken whole
    (up to RARE_ROWS rows of it) when a plain random sample would hold fewer. A purchase on 0.03% of the rows leaves
    about 15 in 50,000, too few to be checked, and its leaks are the ones that matter (they give an AUC of 1.0).
    An AUC compares the classes with each other, so taking more of one class leaves it as it was."""
    from mtlrec.schema import binary_coding

    rng = np.random.default_rng(seed)
    keep = np.zeros(len(frame), dtype=bool)
    binary = [t for t in tasks if t.type == "binary"]
    quota = min(RARE_ROWS, wanted // (2 * max(len(binary), 1)))  # the rare classes fill half the sample at most
    for task in binary:
        if (coding := binary_coding(frame[task.name])) is None:
            continue
        y = frame[task.name].map(coding[0]).to_numpy(dtype=np.float64, na_value=np.nan)
        rare = min((np.flatnonzero(y == v) for v in (0.0, 1.0)), key=len)
        if len(rare) * wanted / len(frame) < quota:
            keep[rng.choice(rare, size=min(len(rare), quota), replace=False)] = True
    rest = np.flatnonzero(~keep)
    more = max(wanted - int(keep.sum()), 0)
    keep[rng.choice(rest, size=min(more, len(rest)), replace=False)] = True
    return np.flatnonzero(keep)


def _targets(rows: pd.DataFrame, tasks: list[TaskSpec]) -> list[tuple[TaskSpec, np.ndarray]]:
    """The tasks that can be checked, each with its labels as float (NaN where missing or unreadable)."""
    from mtlrec.schema import binary_coding

    targets = []
    for task in tasks:
        series = rows[task.name]
        if task.type == "binary":
            coding = binary_coding(series)
            if coding is None:
                continue
            y = series.map(coding[0]).to_numpy(dtype=np.float64, na_value=np.nan)
            if min((y == 1).sum(), (y == 0).sum()) < MIN_CLASS_ROWS:
                continue
        else:
            from mtlrec.schema import TOO_LARGE  # (mtlrec.schema imports this module)

            y = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
            y[~(np.abs(y) <= TOO_LARGE)] = np.nan  # inf, and 1e308 whose square overflows (validation refuses it)
            if np.isfinite(y).sum() < 2 * MIN_CLASS_ROWS or np.nanstd(y) == 0:
                continue
        targets.append((task, y))
    return targets


def _numeric_leaks(rows: pd.DataFrame, columns: list[str], targets, any_of: dict) -> tuple[list[Leak], set[str]]:
    """Numeric columns scored all at once: the AUC of each column's values (on the rows where it is present) from
    their ranks, and of whether it is present; for regression tasks, the Spearman correlation. Also the columns
    that may have a value holding a binary task's positives (_value_holding_positives), so that the others are not
    factorised for it: a flag (two values and missing at most), or one whose positives' median (or missing) is in
    HOLDS_ALL of them."""
    values = pd.DataFrame({c: pd.to_numeric(rows[c], errors="coerce") for c in columns}).to_numpy(
        dtype=np.float64, na_value=np.nan, copy=True
    )
    values[~np.isfinite(values)] = np.nan
    present = ~np.isnan(values)
    with warnings.catch_warnings():  # a column missing in every (positive) row
        warnings.simplefilter("ignore", RuntimeWarning)
        held = np.all(~present | (values == np.nanmin(values, axis=0)) | (values == np.nanmax(values, axis=0)), axis=0)
        for task, y in targets:
            if task.type == "binary" and (positives := values[y == 1]).size:
                median = np.nanmedian(positives, axis=0)
                held |= np.maximum((positives == median).mean(axis=0), np.isnan(positives).mean(axis=0)) >= HOLDS_ALL
            if task.type == "binary" and (negatives := values[y == 0]).size:  # the same, the label the other way
                median = np.nanmedian(negatives, axis=0)
                held |= np.maximum((negatives == median).mean(axis=0), np.isnan(negatives).mean(axis=0)) >= HOLDS_ALL
    ranks = pd.DataFrame(values).rank(method="average").to_numpy()  # per column, among its present rows
    ranked = np.nan_to_num(ranks)
    leaks = []
    for task, y in targets:
        if task.type == "binary":
            positive = y == 1
            n_pos = (present & positive[:, None]).sum(axis=0).astype(np.float64)
            n_neg = present.sum(axis=0) - n_pos
            rank_sums = positive @ ranked
            with np.errstate(invalid="ignore", divide="ignore"):
                auc = (rank_sums - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
                # Whether a column is present, as a 0/1 score: AUC = (1 + P(present | pos) - P(present | neg)) / 2.
                gap = present[positive].mean(axis=0) - present[~positive].mean(axis=0)
            # Scored on the rows where the column is present: a discount on 3 rows of 5,000 had "AUC 1.000".
            auc[(n_pos < MIN_CLASS_ROWS) | (n_neg < MIN_CLASS_ROWS)] = 0.5
            partly = present.any(axis=0) & ~present.all(axis=0)
            scores = {
                "values": np.nan_to_num(np.maximum(auc, 1 - auc)),
                "missing": np.where(partly, (1 + abs(gap)) / 2, 0),
            }
        else:
            scores = {"values": np.array([_spearman(values[:, j], y, present[:, j]) for j in range(len(columns))])}
        for how, score in scores.items():
            leaks += [Leak(columns[j], task.name, how, float(score[j]), task.type == "binary", any_of.get(task.name, ()))
                      for j in np.flatnonzero(score >= _bar(task))]  # fmt: skip
    return leaks, {c for c, h in zip(columns, held, strict=True) if h}


def _spearman(values: np.ndarray, y: np.ndarray, use: np.ndarray) -> float:
    """|Spearman correlation| on the rows in `use`; 0 when undefined (fewer than 2 rows, constant values)."""
    v, t = values[use], y[use]
    if len(v) < 2 * MIN_CLASS_ROWS or np.ptp(v) == 0 or np.ptp(t) == 0:
        return 0.0
    rho = pd.Series(v).corr(pd.Series(t), method="spearman")
    return 0.0 if np.isnan(rho) else abs(float(rho))


def _categories_score(
    codes: np.ndarray, y: np.ndarray, half: np.ndarray, binary: bool
) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    """The score of a categorical column: each row scored by its category's label mean over the other fold (that
    fold's overall mean for a category it lacks). Computed per (category, fold) rather than per row. With the label
    sums and rows per category, which the check of one value against the positives uses too."""
    known = np.isfinite(y)
    codes, fold, y = codes[known], half[known].astype(np.int64), y[known]
    key, rows, sums = _fold_sums(codes, fold, y)
    counts = sums.sum(axis=1), rows.sum(axis=1)
    if len(y) == 0 or fold.min() == fold.max():
        return 0.0, counts
    scores = _other_fold_means(rows, sums)
    if binary:
        auc = _auc_of_groups(scores.ravel(), sums.ravel(), (rows - sums).ravel())
        return (0.0 if np.isnan(auc) else max(auc, 1.0 - auc)), counts
    return _spearman(scores.ravel()[key], y, np.ones(len(y), bool)), counts


def _categories_r2(codes: np.ndarray, y: np.ndarray, half: np.ndarray) -> float:
    """The share of a regression label's variance that a categorical column's category means explain, out of fold
    (each row predicted by its category's mean over the other half of the rows, as _categories_score scores it):
    a few categories that bin the label (a rating's bad/meh/good/great: 0.92) tie too much for a rank correlation
    to reach the bar (0.93). 0 when undefined."""
    known = np.isfinite(y)
    codes, fold, y = codes[known], half[known].astype(np.int64), y[known]
    if len(y) < 2 * MIN_CLASS_ROWS or fold.min() == fold.max() or np.ptp(y) == 0:
        return 0.0
    key, rows, sums = _fold_sums(codes, fold, y)
    predicted = _other_fold_means(rows, sums).ravel()[key]
    return max(0.0, 1.0 - float(((y - predicted) ** 2).sum()) / float(((y - y.mean()) ** 2).sum()))


def _fold_sums(codes: np.ndarray, fold: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's (category, fold) cell, and the rows and label sums per cell, (categories, 2) each."""
    n_codes = int(codes.max()) + 1 if len(codes) else 0
    key = codes * 2 + fold  # (category, fold)
    rows = np.bincount(key, minlength=2 * n_codes).reshape(n_codes, 2)
    sums = np.bincount(key, weights=y, minlength=2 * n_codes).reshape(n_codes, 2)
    return key, rows, sums


def _other_fold_means(rows: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """Each (category, fold) cell's score: its category's label mean over the other fold (that fold's overall mean
    for a category it lacks)."""
    fold_means = sums.sum(axis=0) / rows.sum(axis=0)
    means = np.where(rows > 0, sums / np.maximum(rows, 1), fold_means)
    return means[:, ::-1]  # a (category, fold) cell is scored with the other fold's mean


def auc_score(scores: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC of 0/1 labels `y` by `scores`, ties counting half (as sklearn's roc_auc_score); NaN with one class.

    From the counts per distinct score, several times faster than roc_auc_score on the same rows: this check scores
    every feature against every task each time the Data page's choices change."""
    distinct, inverse = np.unique(scores, return_inverse=True)
    positives = np.bincount(inverse, weights=y, minlength=len(distinct))
    return _auc_of_groups(distinct, positives, np.bincount(inverse, minlength=len(distinct)) - positives)


def _auc_of_groups(scores: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> float:
    """ROC AUC of groups of rows sharing a score: P(positive scored above negative) + half P(tie)."""
    order = np.argsort(scores, kind="stable")
    scores, positives, negatives = scores[order], positives[order], negatives[order]
    # Groups with equal scores merge (their rows tie).
    starts = np.flatnonzero(np.r_[True, scores[1:] != scores[:-1]])
    positives, negatives = np.add.reduceat(positives, starts), np.add.reduceat(negatives, starts)
    n_pos, n_neg = positives.sum(), negatives.sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    below = np.cumsum(negatives) - negatives  # negatives scored lower than each group
    return float((positives * (below + 0.5 * negatives)).sum() / (n_pos * n_neg))
