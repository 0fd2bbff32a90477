"""Top-K recommendations: score a user's candidate items with a trained model and rank by fused task scores.

A candidate row is the user's most recent row (user and context features) with the item's own features put in
(taken from the item's most recent row), and a column saying where the item was shown (position, rank, slot) at its
top value. Per-task scores are probabilities for binary tasks and standardised
predictions for regression tasks, fused as sum_j a_j * s_j. Those scores are not on one scale across items: a rare
task's probabilities (a purchase) vary far less from item to item than a common one's or a regression's, and barely
move the order at weight 1. With equal_spread each task's scores are standardised over the candidates first (z-scores
per user), so that equal weights move the order equally.

A task trained on its labelled rows only whose labels sit where another binary task is 1 (a purchase logged after
clicks only) predicts its outcome given that one: a purchase given a click. Ranked as trained, an item rarely clicked
but often bought once clicked rises above items that sell far more. So by default (joint=True) such a binary task is
ranked by the chance of both, the product of the two probabilities (click x purchase, as ESMM's pCTCVR); see
conditions().
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from scipy.stats import binom  # scikit-learn depends on SciPy
from scipy.stats import f as f_distribution
from torch import nn

from mtlrec import fmt
from mtlrec.config import ExperimentConfig, RecommendColumns, TaskSpec, chance_name, free_name, funnel_chain
from mtlrec.encode import Encoded, Encoder, category_keys, ids_as_keys
from mtlrec.errors import MtlrecError
from mtlrec.fixes import apply_fixes
from mtlrec.negatives import negatives_fix
from mtlrec.schema import _parts, binary_coding, check_frame, epoch_units, negative_feedback, parse_time
from mtlrec.tokens import canonical, lists_as_text, whole_numbers
from mtlrec.train import predict_raw, resolve_device

ASSOCIATION = 0.5  # a column belongs to the item (or the user) when its rows agree on it this much beyond chance
SIGNIFICANCE = 3.0  # ... and that agreement is this many standard errors of chance agreement above chance
MIN_GROUPS = 10  # items (users) with two or more rows needed to measure that
AGREEMENT_ROWS = 200_000  # rows sampled to measure it


class Agreement(NamedTuple):
    """How the rows of one key (an item, a user) agree on a column, over the keys with two or more rows."""

    agree: float  # the share of a key's row pairs holding the same value, averaged over the keys
    chance: float  # the same for two random rows
    keys: int

    @property
    def kappa(self) -> float:
        """Cohen's kappa: 1 when every key's rows agree, about 0 when no more than chance."""
        return (self.agree - self.chance) / (1.0 - self.chance)

    def strong(self) -> bool:
        """Every key's rows agree, or they agree well beyond chance (kappa >= ASSOCIATION) and by more than chance
        would over this many keys (with 10 items seen twice, a 3-valued context column such as the device agrees
        on 7 of them 2% of the time: kappa 0.55). A rare flag constant within items (2% of 200 items) passes by
        the first rule: its kappa, however high, is hard to tell from chance over few items."""
        if self.agree >= 1.0:
            return True
        margin = SIGNIFICANCE * np.sqrt(self.chance * (1.0 - self.chance) / self.keys)
        return self.kappa >= ASSOCIATION and self.agree - self.chance >= margin


def agreement(keys: np.ndarray, values: np.ndarray) -> Agreement | None:
    """How the rows of each key agree on a value (Agreement); None with fewer than MIN_GROUPS keys of two or more
    rows, or one value in every row. `keys` and `values` are codes 0..n-1 per row (pd.factorize)."""
    sizes = np.bincount(keys)
    multi = sizes >= 2
    if multi.sum() < MIN_GROUPS:
        return None
    share = np.bincount(values) / len(values)
    chance = float((share**2).sum())
    if chance >= 1.0:
        return None
    width = int(values.max()) + 1
    cells, combined = pd.factorize(keys.astype(np.int64) * width + values)  # (key, value) pairs, hashed: no sort
    pairs = np.bincount(cells).astype(np.float64)
    agreeing = np.bincount(combined // width, weights=pairs * (pairs - 1.0) / 2, minlength=len(sizes))
    agree = float((agreeing[multi] / (sizes[multi] * (sizes[multi] - 1.0) / 2)).mean())
    return Agreement(agree, chance, int(multi.sum()))


class Explained(NamedTuple):
    """How much of a numeric column's variance the keys (items, users) explain, over the keys with two or more rows:
    for values that belong to an item but are never exactly equal (a price with discounts, a rating average)."""

    share: float  # epsilon squared, (SS_between - (g - 1) MS_within) / SS_total: about 0 for keys that explain nothing
    p_value: float  # of the one-way ANOVA's F test
    keys: int

    @property
    def kappa(self) -> float:
        """The share, on kappa's scale (1: the keys say it all, about 0: no more than chance), to compare with it."""
        return self.share

    def strong(self) -> bool:
        return self.share >= ASSOCIATION and self.p_value < 1e-3


# A numeric column with more distinct values than this is judged by the variance its keys explain, not by equality.
CONTINUOUS = 32


def explained(keys: np.ndarray, values: np.ndarray) -> Explained | None:
    """Explained for codes `keys` (pd.factorize) and float `values` (NaN rows left out); None with fewer than
    MIN_GROUPS keys of two or more rows, or no variance."""
    present = ~np.isnan(values)
    keys, values = keys[present], values[present]
    sizes = np.bincount(keys) if len(keys) else np.zeros(0, dtype=np.int64)
    rows = sizes[keys] >= 2
    keys, values = pd.factorize(keys[rows])[0], values[rows]
    groups, n = int(keys.max()) + 1 if len(keys) else 0, len(values)
    if groups < MIN_GROUPS or n <= groups:
        return None
    centred = values - values.mean()
    total = float((centred**2).sum())
    if total <= 0.0:
        return None
    counts = np.bincount(keys).astype(np.float64)
    between = float((np.bincount(keys, weights=centred) ** 2 / counts).sum())
    within_mean = max(total - between, 0.0) / (n - groups)
    share = (between - (groups - 1) * within_mean) / total
    f_value = (between / (groups - 1)) / within_mean if within_mean > 0 else np.inf
    return Explained(float(share), float(f_distribution.sf(f_value, groups - 1, n - groups)), groups)


# Words naming where a row's item was shown (Trivago's position, a feed's slot, a search rank): a recommended item
# will be shown at the top, not where the user's last item was.
SHOWN_AT = {"position", "pos", "rank", "slot"}


def shown_at(frame: pd.DataFrame, user_col: str, columns: list[str]) -> dict[str, object]:
    """The context columns (of `columns`) that say where the row's item was shown: numbers, named so (SHOWN_AT), not
    the user's own (a user's rank or level agrees within their rows). Each with its top value in the data (its
    smallest: position 1, or 0), at which candidates are scored: at the user's last row's position 25 every item of
    a Trivago log scored 0.0005 against a click rate of 0.1 at the top."""
    sample = frame.sample(n=AGREEMENT_ROWS, random_state=0) if len(frame) > AGREEMENT_ROWS else frame
    users = pd.factorize(sample[user_col], use_na_sentinel=False)[0]
    chosen = {}
    for column in columns:
        words = set(_parts(str(column)))
        numbers = pd.to_numeric(frame[column], errors="coerce")
        if not words & SHOWN_AT or numbers.notna().mean() < 0.9 or numbers.nunique() < 2:
            continue
        by_user = agreement(users, pd.factorize(sample[column], use_na_sentinel=False)[0])
        if by_user is not None and by_user.strong():
            continue
        chosen[column] = frame[column].iloc[int(np.nanargmin(numbers.to_numpy(dtype=np.float64)))]
    return chosen


def item_features(frame: pd.DataFrame, user_col: str, item_col: str, columns: list[str]) -> list[str]:
    """The columns that describe the item (its category, its price, even one that changes now and then), as
    opposed to the user (age) or the moment (hour, device): those whose rows of one item agree strongly
    (Agreement.strong; for a numeric column of many values, whose variance the items explain, Explained.strong),
    unless the rows of one user agree as much (kappa). When too few items have two rows to
    tell, a column counts as the item's unless it is the user's (an item seen once has one value of everything,
    so constancy within items says nothing: user columns would be taken from other users' rows)."""
    if len(frame) > AGREEMENT_ROWS:  # a fixed sample tells as well, at a fraction of the cost on large logs
        frame = frame.sample(n=AGREEMENT_ROWS, random_state=0)
    items = pd.factorize(frame[item_col], use_na_sentinel=False)[0]
    users = pd.factorize(frame[user_col], use_na_sentinel=False)[0]
    chosen = []
    for column in columns:
        series = frame[column]
        if _numeric(series) and series.nunique() > CONTINUOUS:  # equal values are rare: the variance items explain
            numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
            by_item, by_user = explained(items, numbers), explained(users, numbers)
        else:
            values = pd.factorize(series, use_na_sentinel=False)[0]  # a missing value is a value of its own
            by_item, by_user = agreement(items, values), agreement(users, values)
        item_strong = by_item is not None and by_item.strong()
        if by_user is not None and by_user.strong() and (not item_strong or by_user.kappa >= by_item.kappa):
            continue
        if by_item is None or item_strong:
            chosen.append(column)
    return chosen


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)


def default_fusion(tasks: list[TaskSpec], untrained: set[str] | None = None) -> dict[str, float]:
    """1 per task; -1 for negative feedback (is_hate, dislike, skipped: with +1 the items users hate ranked first);
    0 for a task no loss trained (`untrained`, ExperimentConfig.untrained_tasks; by default those with loss weight
    0), whose scores come from a tower that never learned."""
    if untrained is None:
        untrained = {t.name for t in tasks if t.weight <= 0}
    return {t.name: 0.0 if t.name in untrained else -1.0 if negative_feedback(t.name) else 1.0 for t in tasks}


def top_k(k) -> int:
    """`k` as an int, or MtlrecError when it is no whole number >= 1 (k=-1 kept every item but one)."""
    if isinstance(k, numbers.Real) and not isinstance(k, bool) and float(k).is_integer() and k >= 1:
        return int(k)
    raise MtlrecError(f"k must be a whole number >= 1, got {k!r}")


def fused_scores(scores: Mapping, fusion: Mapping[str, float], shape, equal_spread: bool = False) -> np.ndarray:
    """sum_j a_j * s_j, term by term in `fusion`'s order (a task weighted 0 is left out): the one sum that fuse() and
    Recommender.recommend_all rank by, so that both give the same order. equal_spread: each s_j standardised over
    the candidates first (the last axis: one user's items), see standardised()."""
    fused = np.zeros(shape)
    for task, weight in fusion.items():
        if weight:
            score = np.asarray(scores[task], dtype=float)
            fused += float(weight) * (standardised(score) if equal_spread else score)
    return fused


def standardised(score: np.ndarray) -> np.ndarray:
    """A task's scores as z-scores over the candidates (the last axis); 0 where they are all one value (a spread of
    rounding error only: 0.4 three times has a float SD of 6e-17)."""
    mean = score.mean(axis=-1, keepdims=True)
    sd = score.std(axis=-1, keepdims=True)
    flat = sd <= 1e-12 * np.maximum(np.abs(mean), 1.0)
    return np.divide(score - mean, sd, out=np.zeros_like(score), where=~flat)


def spread(scores: pd.DataFrame, tasks: list[str]) -> dict[str, float]:
    """How far each task's score varies over the candidates (its standard deviation): with the fusion weights as
    they are, a task of a small spread barely moves the order (see equal_spread)."""
    return {t: float(np.asarray(scores[t], dtype=float).std()) for t in tasks}


def ranking_scores(tasks: list[TaskSpec], raw: np.ndarray, values: np.ndarray) -> dict[str, np.ndarray]:
    """Each task's score to rank by, from the model's raw outputs and their label-scale values (N, T): the
    probability of a binary task, the standardised prediction of a regression task (in standard deviations of its
    training label)."""
    return {t.name: values[:, j] if t.type == "binary" else raw[:, j].astype(np.float64) for j, t in enumerate(tasks)}


CONDITION_SHARE = 0.99  # of a task's labelled rows where another binary task is 1, to read it as logged under that one
# ... and that other task 0 in at least this many times as large a share of all rows: a click that is 1 on 99.5% of
# rows holds 99.5% of any labels by chance, not because they were logged after clicks
CONDITION_CONTRAST = 10
# ... and so few 0s among the labelled rows no more than this likely were they placed at random (binomial): 60 labels
# with none where a click is 0 on 2% of the rows happen by chance 30% of the time
CONDITION_CHANCE = 1e-3


def conditions(frame: pd.DataFrame, tasks: list[TaskSpec], untrained: set[str] | None = None) -> dict[str, str]:
    """{task: the binary task it is logged under} for each task trained on its labelled rows only whose labels sit
    where another trained binary task is 1: in at least CONDITION_SHARE of them, while that task is 0 in a share of
    all rows at least CONDITION_CONTRAST times the share of labelled rows where it is 0 (and in at least 1 - share
    of them), and labels placed at random would find that task 0 so seldom with a chance of CONDITION_CHANCE at
    most (a few labels say nothing): a purchase logged after clicks only, a dwell time after a click. Labels spelled yes/no, true/false or
    -1/1 count as 0/1 (schema.binary_coding). Where several tasks hold it (a purchase logged after likes, and every
    like after a click), the one with the fewest 1s, the nearest step of the funnel."""
    untrained = set() if untrained is None else untrained
    found = {}
    binary = [t.name for t in tasks if t.type == "binary" and t.name not in untrained and t.name in frame]
    coded: dict[str, np.ndarray | None] = {}  # read once, and only when some task is labelled on part of the rows

    def values_of(name: str) -> np.ndarray | None:
        if name not in coded:
            coding = binary_coding(frame[name])
            coded[name] = None if coding is None else frame[name].map(coding[0]).to_numpy(dtype=float, na_value=np.nan)
        return coded[name]

    for task in tasks:
        if not task.labelled_only or task.name not in frame:
            continue
        labelled = frame[task.name].notna().to_numpy()
        if not labelled.any() or labelled.all():  # labelled everywhere: no other task's 1s can hold it apart
            continue
        held = []
        for other in binary:
            values = values_of(other) if other != task.name else None
            if values is None:
                continue
            zero_share = float(np.mean(values == 0))
            zeros = int(np.sum(values[labelled] != 1))
            zero_labelled = zeros / int(labelled.sum())
            if (
                zero_labelled <= 1 - CONDITION_SHARE
                and zero_share >= max(CONDITION_CONTRAST * zero_labelled, 1 - CONDITION_SHARE)
                and binom.cdf(zeros, int(labelled.sum()), zero_share) <= CONDITION_CHANCE
            ):
                held.append((int(np.sum(values == 1)), other))
        if held:
            found[task.name] = min(held)[1]
    return found


def chain_formula(task: str, joint: Mapping[str, str]) -> str:
    """'P(click) × P(like | click) × P(purchase | like)'."""
    chain = funnel_chain(task, joint)
    return " × ".join([f"P({chain[0]})", *(f"P({b} | {a})" for a, b in zip(chain, chain[1:], strict=False))])


def joint_tasks(tasks: list[TaskSpec], conditions: Mapping[str, str]) -> dict[str, str]:
    """The binary tasks of `conditions` (see conditions()) that joint_scores ranks by the chance of both; a
    regression task's value given a click stays as it is (no probability to multiply)."""
    binary = {t.name for t in tasks if t.type == "binary"}
    return {task: given for task, given in conditions.items() if task in binary}


def joint_scores(scores: Mapping, joint: Mapping[str, str]) -> dict:
    """The scores with each task of `joint` (joint_tasks: a purchase logged under clicks) as the chance of both, its
    probability times that of the task it is logged under (itself a chance of both when that one is logged under
    a third): the other scores as they are."""
    out = {name: scores[name] for name in scores}

    def chance(task: str, depth: int = 0):
        given = joint.get(task)
        if given is None or depth > len(joint):  # (a loop cannot arise from data; guarded all the same)
            return np.asarray(scores[task], dtype=float)
        return chance(given, depth + 1) * np.asarray(scores[task], dtype=float)

    for task in joint:
        out[task] = chance(task)
    return out


def with_joint(scores: pd.DataFrame, joint: Mapping[str, str] | None) -> pd.DataFrame:
    """A score table with the tasks of `joint` as the chance of both (joint_scores); the table itself when none."""
    if not joint:
        return scores
    both = joint_scores(scores, joint)
    return scores.assign(**{task: both[task] for task in joint})


def fuse(
    scores: pd.DataFrame,
    fusion: dict[str, float],
    k: int = 10,
    exclude_seen: bool = True,
    columns: RecommendColumns | None = None,
    equal_spread: bool = False,
    joint: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Rank candidates by sum_j a_j * s_j over the tasks in `fusion`; keep the top k with a 1-based rank.

    `columns` names the table's own columns (Recommender.columns; by default the plain names `seen`, `fused`, `rank`).
    equal_spread: each task's scores standardised over all the candidates (seen items included) before weighting.
    joint: {task: the task it is logged under} (Recommender.joint): those tasks' columns become the chance of both
    (joint_scores) before fusing, and the table shows them so.
    """
    columns = columns or RecommendColumns()
    k = top_k(k)
    scores = with_joint(scores, joint)
    out = scores.assign(**{columns.fused: fused_scores(scores, fusion, len(scores), equal_spread)})
    if exclude_seen and columns.seen in out:
        out = out[~out[columns.seen].to_numpy(dtype=bool)]
    top = np.argsort(-out[columns.fused].to_numpy(), kind="stable")[:k]
    out = out.iloc[top].reset_index(drop=True)
    out.insert(0, columns.rank, np.arange(1, len(out) + 1))
    return out


BATCH_ROWS = 500_000  # user x item rows scored at once by Recommender.recommend_all (a few hundred MB at most)


def history_rows(frame: pd.DataFrame, test_frame: pd.DataFrame | None) -> pd.DataFrame:
    """The rows Recommend knows users by: the training file's, and a test file's after them (load_frames' frames,
    fixed alike). A user's latest row and the items they have seen may be in the test file: without it, a top-K
    held items the user had already interacted with there (a review)."""
    if test_frame is None or test_frame.empty:
        return frame
    both = pd.concat([frame, test_frame[[c for c in test_frame.columns if c in frame.columns]]], ignore_index=True)
    both.attrs = dict(frame.attrs)  # fixed as the training rows were: not fixed again
    return both


def whole_ids(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """The frame with each id column of floats that are all whole numbers (ids read as floats beside a missing
    one: 20.0) as integers (pandas' Int64, missing kept): recommendations listed item 20 as 20.0000 (an audit). The
    encoder keys 20.0 and 20 alike, so the model's scores are the same."""
    floats = [c for c in dict.fromkeys(columns) if c and c in frame.columns and pd.api.types.is_float_dtype(frame[c])]
    whole = []
    for c in floats:
        values = frame[c].to_numpy(dtype=float, na_value=np.nan)
        present = values[~np.isnan(values)]
        if len(present) and whole_numbers(present).all():
            whole.append(c)
    return frame.astype({c: "Int64" for c in whole}) if whole else frame


class Recommender:
    """Recommends items to the users of an interaction table with a trained model and its encoder.

    `device` is where the model scores ('cpu', 'cuda', or 'auto': CUDA when present); the model is moved there.
    """

    def __init__(
        self,
        model: nn.Module,
        encoder: Encoder,
        config: ExperimentConfig,
        frame: pd.DataFrame,
        device: str | torch.device = "cpu",
    ):
        d = config.data
        if not d.user_col or not d.item_col:
            raise MtlrecError("recommendations need a user column and an item column: set both in the schema")
        check_frame(frame, "the rows")  # None, a dict: said, not an AttributeError
        # The rows the run was trained on: its fixes (dropped rows are no history), unless the frame holds them.
        frame = apply_fixes(frame, d.fixes, source=Path(d.path).name if d.path else None)[0]
        negatives = negatives_fix(d.fixes)  # sampled negatives are no history: the real rows hold 1
        if negatives is not None and negatives["label"] in frame.columns:
            frame = frame[frame[negatives["label"]] == 1]
        frame = lists_as_text(frame)  # Python lists (a frame built in Python) as the run read them
        keyed = whole_ids(ids_as_keys(frame, (d.user_col, d.item_col)), (d.user_col, d.item_col))
        self._keyed = keyed is not frame and not keyed[d.user_col].equals(frame[d.user_col])
        frame = keyed
        # A multi-valued column's tokens in one order: an item's rows listing its genres in other orders agree.
        multi = {c: canonical(frame[c], encoder.token_sep_.get(c, "|")) for c in d.multi if c in frame.columns}
        frame = frame.assign(**multi) if multi else frame
        used = [d.user_col, d.item_col, d.time_col, *d.features]
        missing = [c for c in dict.fromkeys(used) if c and c not in frame.columns]
        if missing:  # the file changed since the run was trained
            shown = ", ".join(f"'{c}'" for c in missing)
            raise MtlrecError(
                f"the data no longer has column{'s' if len(missing) > 1 else ''} {shown}, which the run was trained "
                "with: restore the file, or train a new run on the file as it is now",
                source=Path(d.path).name if d.path else None,
            )
        self.device = resolve_device(device)
        self.model, self.encoder, self.config = model.to(self.device).eval(), encoder, config
        self.columns = RecommendColumns.around(config.tasks)  # the tables' own columns, clear of the task names
        self.user_col, self.item_col = d.user_col, d.item_col
        if d.time_col:
            # Rows without a time count as the oldest: the latest row is one with a time when the user has one.
            seconds = parse_time(frame[d.time_col]).to_numpy()
            order = np.argsort(np.nan_to_num(seconds, nan=-np.inf), kind="stable")
            mixed = d.time_col not in d.features and epoch_units(frame[d.time_col]) is not None
            frame = frame.iloc[order]
            if mixed:  # epoch numbers in several units: a user's history shows the seconds it was ordered by
                frame = frame.assign(**{d.time_col: seconds[order]})
        self.frame = frame.reset_index(drop=True)  # oldest first: "last" below means most recent
        features = [c for c in d.features if c not in (self.user_col, self.item_col)]
        self.item_features = item_features(self.frame, self.user_col, self.item_col, features)
        self.items = self.frame.drop_duplicates(self.item_col, keep="last")[[self.item_col, *self.item_features]]
        context = [c for c in features if c not in self.item_features]
        self.shown_at = shown_at(self.frame, self.user_col, context)  # candidates are scored at the top position
        # Items the model never trained on (only in the validation or test rows, or added to the file since): with
        # the item id embedded and no training row mapped to the unknown-id vector, that vector is as initialised,
        # so these items would all get one arbitrary score and be ranked among the real ones. They are left out.
        untrained = self._untrained(self.items[self.item_col])
        self.untrained_items = self.items.loc[untrained, self.item_col].tolist()
        self.items = self.items[~untrained].reset_index(drop=True)
        self._user_rows = self.frame.groupby(self.user_col, sort=False).indices
        # Tasks logged under another (a purchase after clicks only): ranked by the chance of both unless joint=False.
        self.conditions = conditions(self.frame, config.tasks, config.untrained_tasks())
        self.joint = joint_tasks(config.tasks, self.conditions)
        self._users: list | None = None  # users(), once asked for

    def _untrained(self, items: pd.Series) -> np.ndarray:
        """Whether each item would be scored with the unknown-id vector that no training row trained (all False
        when the item id is not embedded, or when ids rarer than data.min_count trained that vector)."""
        if self.item_col not in self.encoder.vocab_ or self.encoder.oov_share_.get(self.item_col, 0.0) > 0:
            return np.zeros(len(items), dtype=bool)
        return self.encoder.codes(self.item_col, items) == 0

    def notes(self, joint: bool | None = True) -> list[str]:
        """What the candidates leave out, how tasks trained on their labelled rows only are ranked (condition_notes;
        `joint` as in recommend(), None to leave those out) and where items are shown, said once (the Recommend page
        and the CLI)."""
        notes = [note] if (note := self.untrained_note()) else []
        if joint is not None:
            notes += self.condition_notes(joint)
        for c, value in self.shown_at.items():
            notes.append(
                f"column '{c}' says where an item was shown: every candidate is scored at {c} = {value} "
                "(its top value in the data, where a recommended item would be shown), not at the user's last row's"
            )
        return notes

    def condition_notes(self, joint: bool = True) -> list[str]:
        """What the score of each task trained on its labelled rows only is, and how it is ranked (`joint` as in
        recommend())."""
        notes = []
        for task, given in self.conditions.items():
            trained = (
                f"'{task}' was trained on its labelled rows only, which are rows where '{given}' is 1: it predicts"
            )
            # down a longer funnel (a purchase after likes, likes after clicks) every step is multiplied
            chance = f"the {chance_name(task, self.joint)}"
            if task in self.joint and joint:  # a purchase given a click, as trained: ranked by the chance of both
                notes.append(
                    f"{trained} '{task}' given '{given}', so it is ranked by {chance}, "
                    f"{chain_formula(task, self.joint)} (to rank by the conditional probability as trained, turn off "
                    "Recommend's 'Chance of both' toggle or pass recommend --no-joint)"
                )
            elif task in self.joint:
                notes.append(
                    f"{trained} '{task}' given '{given}' and is ranked so, as trained: items of a low P({given}) but a "
                    f"high P({task} | {given}) rank high ({chance}, {chain_formula(task, self.joint)}, is "
                    "Recommend's 'Chance of both' toggle, and recommend's default)"
                )
            else:
                notes.append(
                    f"'{task}' was trained on its labelled rows only, which are rows where '{given}' is 1: its score "
                    f"is its value given '{given}', not over every candidate, so a fusion weight on it weighs that "
                    "conditional value"
                )
        partial = [t.name for t in self.config.tasks if t.labelled_only and t.name not in self.conditions]
        if partial:  # labelled on rows no other task marks (a like logged since some day): as trained
            shown = fmt.listing([f"'{n}'" for n in partial], 4)
            one = len(partial) == 1
            notes.append(
                f"{shown} {'was' if one else 'were'} trained on {'its' if one else 'their'} labelled rows only: each "
                "score is the outcome's value where it is logged, so a fusion weight on it weighs that value"
            )
        return notes

    def untrained_note(self) -> str | None:
        """What the candidates leave out; None when nothing."""
        if not self.untrained_items:
            return None
        n = len(self.untrained_items)
        if n == 1:  # "1 item … never trained on them … they would all get" (a browser walk)
            return (
                f"1 item of the data ({fmt.listing(self.untrained_items, 3)}) is not recommended: the model never "
                "trained on it (it is only in the validation or test rows, or new in the file), so it would get the "
                "untrained unknown-item score"
            )
        return (
            f"{n:,} items of the data ({fmt.listing(self.untrained_items, 3)}) are not recommended: "
            "the model never trained on them (they are only in the validation or test rows, or new in the file), "
            "so they would all get the untrained unknown-item score"
        )

    def unknown_users(self, users: list) -> np.ndarray:
        """Whether each user has no embedding of their own (no training row: only validation or test rows under the
        user split, or new in the file); all False when the user id is not embedded."""
        if self.user_col not in self.encoder.vocab_:
            return np.zeros(len(users), dtype=bool)
        return self.encoder.codes(self.user_col, pd.Series(users, dtype=object)) == 0

    def unknown_user_note(self, user) -> str | None:
        """What to know of a user the model has no embedding for (None for a user it has one for)."""
        if not self.unknown_users([user])[0]:
            return None
        trained = self.encoder.oov_share_.get(self.user_col, 0.0) > 0
        vector = (
            "the vector shared by rare and unknown users"
            if trained
            else "the unknown-user vector, which no training row trained"
        )
        rare = f", or fewer than min_count ({self.config.data.min_count:,})" if self.config.data.min_count > 1 else ""
        return (
            f"user {user!r} has no embedding of their own (no training rows: only validation or test rows, or new in "
            f"the file{rare}): the model scores them with {vector}, so such users get much the same list, differing "
            "only by their own features and what they have seen"
        )

    def users(self) -> list:
        """Users that have at least one row, most active first (ties by their text), worked out once: sorting 1M
        users in Python took 2.9 s on every move of a fusion slider on Recommend."""
        if self._users is None:
            keys = list(self._user_rows)
            sizes = np.fromiter((len(rows) for rows in self._user_rows.values()), dtype=np.int64, count=len(keys))
            text = np.array([str(u) for u in keys], dtype=object)
            order = np.lexsort((text, -sizes)) if keys else np.zeros(0, dtype=np.int64)
            self._users = [keys[i] for i in order]
        return list(self._users)

    def _rows_of(self, user) -> np.ndarray:
        rows = self._user_rows.get(user)
        if rows is None and self._keyed:  # ids of mixed kinds are keyed (ids_as_keys): 7 is the user "7"
            rows = self._user_rows.get(category_keys(pd.Series([user], dtype=object)).iloc[0])
        if rows is None:
            raise MtlrecError(f"user {user!r} is not in the data")
        return rows

    def history(self, user) -> pd.DataFrame:
        """The user's rows, most recent first: item, time (when set) and every task's label."""
        d = self.config.data
        columns = [c for c in (self.item_col, d.time_col, *self.config.task_names) if c and c in self.frame]
        return self.frame.iloc[self._rows_of(user)[::-1]][columns].reset_index(drop=True)

    def candidate_rows(self, user, candidates: list | None = None) -> pd.DataFrame:
        """One row per candidate item: the user's latest row with the item's own features put in."""
        items = self.items
        if candidates is not None:
            if isinstance(candidates, str | bytes) or not np.iterable(candidates):
                kind = "the text" if isinstance(candidates, str | bytes) else type(candidates).__name__
                raise MtlrecError(
                    f"candidates must be a list of item ids, got {kind} {candidates!r}: pass [{candidates!r}] "
                    "for one item"
                )
            wanted = pd.Series(list(dict.fromkeys(candidates)), name=self.item_col, dtype=object)  # each item once
            unknown = wanted[~wanted.isin(items[self.item_col].tolist())].tolist()
            if wanted.empty:
                raise MtlrecError("the candidate list is empty: pass at least one item, or none to score every item")
            untrained = sorted(set(wanted) & set(self.untrained_items), key=str)
            if untrained:
                shown = fmt.listing(untrained, 5, repr)
                raise MtlrecError(
                    f"{len(untrained):,} candidate item{' was' if len(untrained) == 1 else 's were'} never trained on "
                    f"({shown}: only in the validation or test rows, or new in the file): the model would give "
                    "them the untrained unknown-item score; pass items of the training rows"
                )
            if unknown:
                # An unknown item has no features: it would be scored as the out-of-vocabulary item and ranked
                # among real ones, so it is refused rather than guessed.
                shown = fmt.listing(unknown, 5, repr)
                raise MtlrecError(
                    f"{len(unknown):,} candidate item{' is' if len(unknown) == 1 else 's are'} not in the data "
                    f"({shown}): pass items of column '{self.item_col}'"
                )
            # The items' own rows, in the order asked: the ids as the data has them (20, not the 20.0 passed in;
            # a float key finds its whole-number item, hash(20.0) == hash(20))
            at = {item: i for i, item in enumerate(items[self.item_col].tolist())}
            items = items.iloc[[at[item] for item in wanted.tolist()]].reset_index(drop=True)
        last = self.frame.iloc[[self._rows_of(user)[-1]]]
        rows = last.loc[last.index.repeat(len(items))].reset_index(drop=True)
        for c in items.columns:
            rows[c] = items[c].to_numpy()
        for c, value in self.shown_at.items():
            rows[c] = value
        return rows

    def score(self, user, candidates: list | None = None) -> pd.DataFrame:
        """Per-task scores for every known item (or the given candidates), with a `seen` flag (the columns' names:
        self.columns)."""
        rows = self.candidate_rows(user, candidates)
        raw = predict_raw(self.model, self.encoder.transform(rows, labels=False), self.device)
        values = self.encoder.to_label_scale(raw)
        own = self.columns
        out = pd.DataFrame({own.item: rows[self.item_col].to_numpy()})
        scores = ranking_scores(self.config.tasks, raw, values)
        for j, task in enumerate(self.config.tasks):
            out[task.name] = scores[task.name]
            if task.type == "regression":
                out[own.values[task.name]] = values[:, j]
        seen_items = set(self.frame[self.item_col].to_numpy()[self._rows_of(user)].tolist())
        out[own.seen] = out[own.item].isin(seen_items).to_numpy()
        return out

    def fusion_weights(self, fusion: Mapping[str, float] | None = None) -> dict[str, float]:
        """Every task's fusion weight: default_fusion's (1 per task, -1 for negative feedback such as is_hate, 0 for
        a task no loss trained), with the weights of `fusion` put in: a task it does not name keeps its default.
        MtlrecError when it names a task the run does not have or gives a weight that is no finite number."""
        default = default_fusion(self.config.tasks, self.config.untrained_tasks())
        if fusion is None:
            return default
        if not isinstance(fusion, Mapping):
            raise MtlrecError(f"fusion must map task names to weights, e.g. {{'click': 2.0}}, got {fusion!r}")
        unknown = sorted(set(fusion) - set(default), key=str)
        if unknown:
            raise MtlrecError(f"fusion weights name unknown tasks {unknown}; tasks are {self.config.task_names}")
        wrong = [
            f"{task}={weight!r}"
            for task, weight in fusion.items()
            if not isinstance(weight, numbers.Real) or isinstance(weight, bool) or not np.isfinite(float(weight))
        ]
        if wrong:
            raise MtlrecError(f"fusion weights must be finite numbers, got {', '.join(wrong)}")
        return {**default, **{task: float(weight) for task, weight in fusion.items()}}

    def recommend(
        self,
        user,
        k: int = 10,
        fusion: Mapping[str, float] | None = None,
        exclude_seen: bool = True,
        candidates: list | None = None,
        equal_spread: bool = False,
        joint: bool = True,
    ) -> pd.DataFrame:
        """Top-k items for a user: item, per-task scores, fused score and rank.

        `k` is a whole number >= 1. `fusion` weights the tasks' scores (see fusion_weights): the tasks it names take
        its weights and the others keep default_fusion's (1 per task, -1 for negative feedback such as is_hate, 0
        for a task no loss trained), so fusion={"purchase": 3} triples purchase and leaves click at 1 (give a task 0
        to leave it out). `candidates` is a list of item ids to rank instead of every item; `exclude_seen` leaves
        out the items the user has rows with. `equal_spread` standardises each task's scores over the candidates
        before weighting (z-scores), so that equal weights move the order equally (see the module's docstring).
        `joint`: the tasks logged under another (self.joint: a purchase after clicks only) are scored, shown and
        fused as the chance of both (P(click) x P(purchase | click)); False ranks them as trained (conditional).
        """
        k = top_k(k)
        fusion = self.fusion_weights(fusion)
        both = self.joint if joint else None
        return fuse(self.score(user, candidates), fusion, k, exclude_seen, self.columns, equal_spread, both)

    def _encoded_items(self) -> tuple[Encoded, np.ndarray, np.ndarray]:
        """Every candidate item encoded once, and which categorical and numeric inputs are the item's own (its id,
        its columns): recommend_all puts them beside each user's encoded latest row. Before, every user x item
        row was built as a table and encoded (each user's row once per item)."""
        rows = self.frame.iloc[np.zeros(len(self.items), dtype=np.int64)].reset_index(drop=True)
        for c in self.items.columns:
            rows[c] = self.items[c].to_numpy()
        categorical, numeric = self.encoder.input_columns()
        own = set(self.items.columns)
        return (
            self.encoder.transform(rows, labels=False),
            np.array([c in own for c in categorical], dtype=bool),
            np.array([c in own for c in numeric], dtype=bool),
        )

    def _pairs(self, users: list, items: tuple[Encoded, np.ndarray, np.ndarray]) -> Encoded:
        """The inputs of every (user, item) pair, users outer: each user's latest row (at the top position, see
        shown_at) encoded once, the items' own inputs put in: equal to candidate_rows() encoded, user by user."""
        encoded, item_categorical, item_numeric = items
        n_items = len(encoded)
        rows = self.frame.iloc[[self._rows_of(user)[-1] for user in users]].reset_index(drop=True)
        for c, value in self.shown_at.items():
            rows[c] = value
        mine = self.encoder.transform(rows, labels=False)
        categorical = np.repeat(mine.categorical, n_items, axis=0)
        numeric = np.repeat(mine.numeric, n_items, axis=0)
        categorical[:, item_categorical] = np.tile(encoded.categorical[:, item_categorical], (len(users), 1))
        numeric[:, item_numeric] = np.tile(encoded.numeric[:, item_numeric], (len(users), 1))
        return Encoded(categorical, numeric, None)

    def recommend_all(
        self,
        k: int = 10,
        fusion: Mapping[str, float] | None = None,
        exclude_seen: bool = True,
        users: list | None = None,
        progress: Callable[[int, int], None] | None = None,
        equal_spread: bool = False,
        joint: bool = True,
    ) -> pd.DataFrame:
        """Top-k items for every user (or `users`), as recommend() ranks them for each, in one table: user, rank, item,
        per-task scores and the fused score. Users are scored many at a time (about BATCH_ROWS user x item rows per
        model call) instead of one call per user; `progress(done, total)` is called after each batch of users.
        `joint` as in recommend()."""
        k = top_k(k)
        weights = self.fusion_weights(fusion)
        users = self.users() if users is None else list(users)
        own, n_items = self.columns, len(self.items)
        taken = {own.item, own.rank, own.fused, *self.config.task_names, *own.values.values()}
        user_column = free_name(str(self.user_col), taken)  # the user's id column, named as in the data
        item_ids = self.items[self.item_col].to_numpy()
        position, interacted = pd.Index(item_ids), self.frame[self.item_col].to_numpy()
        per = max(1, BATCH_ROWS // max(n_items, 1))
        parts = []
        items = self._encoded_items()
        for start in range(0, len(users), per):
            chunk = users[start : start + per]
            raw = predict_raw(self.model, self._pairs(chunk, items), self.device)
            values = self.encoder.to_label_scale(raw)
            scores = {
                name: score.reshape(len(chunk), n_items)
                for name, score in ranking_scores(self.config.tasks, raw, values).items()
            }
            if joint and self.joint:
                scores = joint_scores(scores, self.joint)
            fused = fused_scores(scores, weights, (len(chunk), n_items), equal_spread)
            for i, user in enumerate(chunk):
                keep = np.ones(n_items, dtype=bool)
                if exclude_seen:
                    seen = position.get_indexer(pd.unique(interacted[self._rows_of(user)]))
                    keep[seen[seen >= 0]] = False
                candidates = np.flatnonzero(keep)
                top = candidates[np.argsort(-fused[i, candidates], kind="stable")[:k]]
                part = {user_column: np.repeat(np.array([user], dtype=object), len(top))}
                part[own.rank] = np.arange(1, len(top) + 1)
                part[own.item] = item_ids[top]
                for j, task in enumerate(self.config.tasks):
                    part[task.name] = scores[task.name][i, top]
                    if task.type == "regression":
                        part[own.values[task.name]] = values[i * n_items + top, j]
                part[own.fused] = fused[i, top]
                parts.append(pd.DataFrame(part))
            if progress is not None:
                progress(min(start + per, len(users)), len(users))
        if not parts:
            return pd.DataFrame(columns=[user_column, own.rank, own.item, *self.config.task_names, own.fused])
        return pd.concat(parts, ignore_index=True)
