"""Sampled negatives for a log of positives only: every row an interaction (a purchase, a listen, a check-in).

A binary task needs rows where the outcome did not happen. In such a log they are made the way recommender papers
make them (NCF, He et al. 2017): for each row, `k` items the user has no row with, drawn uniformly from the items of
the data, each as a new row whose user and context columns (the time, the device) are the row's own and whose item
columns (its category, its price) are the item's, from its last row; a new 0/1 column says which rows are real (1)
and which sampled (0), and the columns named in `zero` (the log's other outcomes: a purchase after the click) are 0
in the sampled rows; those named in `unlabelled` (a rating, a watch time: no value where nothing happened) are empty
there, and their tasks train on their labelled rows only (TaskSpec.labelled_only). Which columns are the item's is decided as Recommend decides it (mtlrec.recommend.
item_features).

It is a fix to the rows (mtlrec.fixes): {"negatives": 4, "user": "customer_id", "item": "article_id", "label":
"interacted", "zero": [], "seed": 0}, saved in the run's config and made again, the same, each time the data is read;
with a test file, the two files are sampled together (a user's items in either are never drawn as a negative, and
the test rows draw from every item of both). Training samples them again after the split (sample_after_split, from
mtlrec.data.prepare): a training row's negatives avoid the user's training items only. Recommend's history keeps
the real rows only.

Sampling is vectorised: one draw for every new row, the draws that hit an item of the user drawn again (a sorted
array of user x item codes, searched), up to REDRAWS times; a user who has nearly every item may get fewer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mtlrec.encode import category_keys
from mtlrec.fixes import FrameProblem
from mtlrec.schema import binary_coding

MAX_PER_ROW = 20  # negatives per row at most (each multiplies the rows: 20 turns 1M rows into 21M)
HELDOUT_SHARE = "heldout_negatives"  # frame attribute: the share of a training part's negatives that are held-out items
HELDOUT_NOTE = 0.1  # ...from which the run's note says so
REDRAWS = 30  # rounds of drawing again the negatives that hit an item the user has


def zero_columns(frame: pd.DataFrame, names: list[str], user: str, item: str) -> list[str]:
    """Of the task columns `names` (labels made by earlier fixes included), those the fix sets to 0 in its sampled
    rows: the binary outcomes (no interaction, no purchase). A regression one has no value there (unlabelled_columns)."""
    return [
        c
        for c in dict.fromkeys(names)
        if c in frame.columns and c not in (user, item) and binary_coding(frame[c]) is not None
    ]


def unlabelled_columns(
    frame: pd.DataFrame, names: list[str], user: str, item: str, label: str, zero: list[str]
) -> list[str]:
    """Of the task columns `names`, those the fix leaves empty in its sampled rows: the other outcomes than the fix's
    label and the `zero` ones (zero_columns: a rating, a watch time), which have no value where nothing happened;
    their tasks then train on their labelled rows only. (They had copied the value of the row a sampled row was made
    from, and were refused as tasks beside the fix.)"""
    return [c for c in dict.fromkeys(names) if c in frame.columns and c not in (user, item, label, *zero)]


def sample_negatives(
    frames: list[pd.DataFrame], fix: dict, train_alone: bool = False
) -> tuple[list[pd.DataFrame], list[str]]:
    """The frames (a training file and maybe a test file) with their sampled rows after their own rows, and a note
    for each. Raises FrameProblem (naming the frame) for a column missing or the label's name taken.

    train_alone: the frames are the parts of a split (training, validation, test: sample_after_split), and the
    training rows' negatives avoid only the items the user has in the training rows (a user's held-out items can be
    drawn, as in NCF); the other parts' avoid the user's items in every part. Else every frame's avoid the user's
    items in all of them. An empty part then gets no rows."""
    user, item, label, k = fix["user"], fix["item"], fix["label"], int(fix["negatives"])
    zero = list(fix.get("zero") or [])
    empty = list(fix.get("unlabelled") or [])  # outcomes with no value there: trained on their labelled rows only
    for j, rows in enumerate(frames):
        lacking = [c for c in (user, item, *zero, *empty) if c not in rows.columns]
        if lacking:
            raise FrameProblem(j, f"the data has no column {', '.join(repr(c) for c in lacking)}")
        if label in rows.columns:
            raise FrameProblem(j, f"the data already has a column '{label}': give the new label another name")
        if rows.empty and not (train_alone and j):
            raise FrameProblem(j, "there are no rows to sample negatives for")
    # Ids as the encoder keys them (7, 7.0 and "7" are one item, also across the two files); a row without a user
    # or an item gets no sampled rows, and a missing item is never drawn.
    user_keys = pd.concat([category_keys(f[user]) for f in frames], ignore_index=True)
    item_keys = pd.concat([category_keys(f[item]) for f in frames], ignore_index=True)
    absent = np.concatenate([(f[user].isna() | f[item].isna()).to_numpy(dtype=bool) for f in frames])
    items, keys = pd.factorize(item_keys)
    users = pd.factorize(user_keys)[0].astype(np.int64)
    n_items = len(keys)
    originals = pd.concat([f[item] for f in frames], ignore_index=True)  # the ids' own dtype, where the frames share it
    first = np.unique(items, return_index=True)[1]  # each item's first row: its id as written there
    named = originals.iloc[first].reset_index(drop=True)
    seen = np.unique(users * n_items + items)  # sorted: searched below
    # Before a split's held-out rows are known, the training rows avoid them too; after it, only their own items
    # (else a user's test item is never a training negative while every other unseen item can be: a leak).
    train_seen = np.unique((users * n_items + items)[: len(frames[0])]) if train_alone else seen
    rng = np.random.default_rng(int(fix.get("seed", 0)))
    own = _item_columns(frames, user, item, [label, *zero, *empty])
    out, notes, start = [], [], 0
    for j, rows in enumerate(frames):
        n = len(rows)
        if not n:  # an empty part of a split (no validation rows)
            out.append(rows.assign(**{label: 1}))
            notes.append("")
            continue
        avoid = train_seen if j == 0 else seen
        # A frame's rows draw from the items of the frames up to it, whose columns `latest` holds: the training
        # rows from the training items (a test file's new items stay unseen in training), a test file's from both;
        # after a split, validation's from training and validation (a test-only item had NaN category and price).
        reach = sum(map(len, frames[: j + 1]))
        pool = np.unique(items[:reach][~absent[:reach]])
        latest = _last_rows(frames[: j + 1], item, own)
        if len(pool) < 2:
            raise FrameProblem(j, f"column '{item}' holds {len(pool)} item: negatives are other items, and there are "
                                  "none")  # fmt: skip
        source = np.repeat(np.flatnonzero(~absent[start : start + n]), k)
        owner = users[start + source]
        start += n
        draw = pool[rng.integers(0, len(pool), len(source))]
        for _ in range(REDRAWS):
            clash = _holds(avoid, owner * n_items + draw)
            if not clash.any():
                break
            draw[clash] = pool[rng.integers(0, len(pool), int(clash.sum()))]
        clash = _holds(avoid, owner * n_items + draw)
        source, draw = source[~clash], draw[~clash]
        if train_alone and j == 0 and len(draw):  # drawn from the user's held-out items (allowed, as in NCF): how many
            heldout = float(_holds(seen, owner[~clash] * n_items + draw).mean())
        else:
            heldout = 0.0
        sampled = rows.iloc[source].reset_index(drop=True)  # the user's and the moment's columns: the row's own
        picked = named.take(draw)
        sampled[item] = picked.array
        taken = latest.reindex(picked)
        for column in latest.columns:  # the item's own columns: from its last row
            sampled[column] = taken[column].to_numpy()
        for column in zero:
            sampled[column] = 0
        for column in empty:
            sampled[column] = np.nan
        real = rows.assign(**{label: 1})
        sampled[label] = 0
        out.append(pd.concat([real, sampled[real.columns]], ignore_index=True))
        out[-1].attrs = {**out[-1].attrs, HELDOUT_SHARE: heldout}
        note = (
            f"{len(sampled):,} sampled rows added, {k} per row: items the user has no row with, from the "
            f"{len(pool):,} items, label '{label}' 0 (1 on the {n:,} rows of the data)"
        )
        if len(latest.columns):
            note += f"; the item's own columns from its last row: {', '.join(repr(c) for c in latest.columns)}"
        if zero:
            note += f"; {', '.join(repr(c) for c in zero)} 0 in the sampled rows"
        if empty:
            note += f"; {', '.join(repr(c) for c in empty)} empty in them (trained on the real rows only)"
        if absent[start - n : start].any():
            note += f"; none for the {int(absent[start - n : start].sum()):,} rows without a user or an item"
        if clash.any():
            note += (
                f"; {int(clash.sum()):,} sampled rows fewer than {k} per row: their users have most of the items (no other "
                "item was drawn)"
            )
        notes.append(note)
    return out, notes


def _holds(seen: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Whether each user x item code is among the sorted `seen` codes."""
    at = np.searchsorted(seen, pairs)
    return seen[np.minimum(at, len(seen) - 1)] == pairs


def _item_columns(frames: list[pd.DataFrame], user: str, item: str, outcomes: list[str]) -> list[str]:
    """The item's own columns (mtlrec.recommend.item_features: those its rows agree on, not the user's)."""
    from mtlrec.recommend import item_features  # here: recommend imports the fixes

    columns = [c for c in frames[0].columns if c not in (user, item, *outcomes)]
    common = [c for c in columns if all(c in f.columns for f in frames)]
    both = pd.concat([f[[user, item, *common]] for f in frames], ignore_index=True)
    return item_features(both, user, item, common) if common else []


def _last_rows(frames: list[pd.DataFrame], item: str, columns: list[str]) -> pd.DataFrame:
    """The `columns` of each item's last row in the frames, indexed by item."""
    rows = pd.concat([f[[item, *columns]] for f in frames], ignore_index=True)
    return rows.drop_duplicates(item, keep="last").set_index(item)


def negatives_fix(fixes: list) -> dict | None:
    """The config's negatives fix (it is applied last), or None."""
    return next((f for f in fixes if isinstance(f, dict) and "negatives" in f), None)


def real_rows(frame: pd.DataFrame, fix: dict) -> pd.DataFrame:
    """The rows of the data, without the sampled ones and without the fix's label (1 on them)."""
    return frame[frame[fix["label"]].to_numpy() == 1].drop(columns=fix["label"]).reset_index(drop=True)


def sample_after_split(parts: list[pd.DataFrame], fix: dict) -> tuple[list[pd.DataFrame], str]:
    """The training, validation and test rows of a split (the data's own rows: real_rows) with negatives sampled
    for each part as in NCF: the training rows' avoid the user's training items only, the validation and test
    rows' every item the user has. Sampled before the split, the training rows avoided the user's held-out items
    too, and the model could learn which pairs were never drawn (a test item is never a training negative)."""
    try:
        sampled, _ = sample_negatives(parts, fix, train_alone=True)
    except FrameProblem as exc:
        from mtlrec.errors import MtlrecError

        part = ("training", "validation", "test")[exc.frame]
        raise MtlrecError(f"sampled negatives, {part} rows: {exc.text}") from None
    added = [len(out) - len(rows) for out, rows in zip(sampled, parts, strict=True)]
    note = (
        f"negatives sampled after the split ({added[0]:,} training, {added[1]:,} validation, {added[2]:,} test rows):"
        " a training row's from the items the user has no training row with (a held-out item can be drawn, as in "
        "NCF), a validation or test row's from the items the user has no row with"
    )
    heldout = sampled[0].attrs.get(HELDOUT_SHARE, 0.0)
    if heldout >= HELDOUT_NOTE:
        # Users with most of the items: 86% of the training negatives were their own held-out positives, and the
        # test AUC fell below chance (0.45), with the generic line above only (an audit).
        note += (
            f"; {heldout:.0%} of the training negatives are items the user has in the validation or test rows (users "
            "with most of the items): they teach the model to score those test positives low; sample fewer "
            "negatives, or leave out the users who have most of the items"
        )
    return sampled, note
