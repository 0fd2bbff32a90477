"""Turn table rows into model inputs: categorical indices, standardised numerics and scaled labels.

Fitted on the training split only. High-cardinality columns keep their ``max_vocab`` most frequent values (and
values seen at least ``min_count`` times); all other values — rare, or unseen at fit time — share index 0 (OOV).
We cap by frequency rather than hash: every kept value gets its own row in the embedding table (no collisions
between popular ids), and the tail that a hash would scatter over shared buckets is learned as one OOV vector.
Missing categorical values are a category of their own ("<NA>"). Numeric columns are standardised with the
training mean and standard deviation; missing (and infinite) values become 0 (the mean) and, for every column
that had missing values in training, an extra 0/1 "<column>__missing" input tells the model so.

Multi-valued columns (a film's genres 'Action|Comedy', a Parquet or JSON list) are split into tokens; each of the
``max_tokens`` most frequent tokens (seen at least ``min_count`` times) gets one numeric input, and one more input
gathers every other token. A row's inputs are the mean of its tokens' indicators (1/n for each of its n tokens, 0 for
the rest; no tokens: all 0), so the first layer's weights act as a mean-pooled token embedding (torch's
EmbeddingBag, mode "mean"), with no new model input. The inputs are dense, so the cap stays small (64 by default):
a million rows of 65 inputs take 260 MB as float32.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mtlrec.config import TaskSpec
from mtlrec.errors import MtlrecError
from mtlrec.schema import BLOCK_VALUES, TOO_LARGE, binary_labels, text_in_numbers
from mtlrec.tokens import OTHER_TOKEN, list_text, split_tokens, token_separator, whole_numbers

MISSING = "<NA>"
ENCODER_VERSION = 1


@dataclass
class Encoded:
    """Model-ready arrays for N rows."""

    categorical: np.ndarray  # (N, C) int64, 0 = out of vocabulary
    numeric: np.ndarray  # (N, F) float32, standardised (+ missing indicators)
    # (N, T) float32: 0/1 for binary tasks, standardised values for regression; NaN where a task trained on its
    # labelled rows only (TaskSpec.labelled_only) has no label
    labels: np.ndarray | None

    def __len__(self) -> int:
        return len(self.categorical)


def category_keys(series: pd.Series) -> pd.Series:
    """Values as strings, consistently across files: 3, 3.0 and "3" all become "3"; missing is "<NA>".

    Each distinct value is keyed once and the keys are spread over the rows (a 1.5M-row column of 30,000 ids: 0.7 s
    value by value). An object column holding more than one kind of value is keyed value by value: its hashing takes
    True, 1 and 1.0 for one value, which key as "true", "1" and "1.0"."""
    found = _keyed_once(series)
    if found is None:
        return _value_keys(series)
    codes, keys = found
    return pd.Series(keys[codes], index=series.index, dtype=object)


def ids_as_keys(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """The frame with each of `columns` (the user and item ids) that mixes kinds of values (7 and "7", a frame
    built in Python from two sources) as its category keys, missing values kept missing; the frame itself when none
    does. The encoder keys 7 and "7" as one id while the split, the metrics' users and Recommend grouped the raw
    values: one user in both the training and the test part of a user split, items seen as "7" recommended to 7."""
    mixed = [
        c
        for c in dict.fromkeys(columns)
        if c is not None
        and c in frame.columns
        and pd.api.types.is_object_dtype(frame[c].dtype)
        and pd.api.types.infer_dtype(frame[c], skipna=True).startswith("mixed")
    ]
    if not mixed:
        return frame
    frame = frame.copy()
    for c in mixed:
        frame[c] = category_keys(frame[c]).where(frame[c].notna(), None)
    return frame


def category_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """category_keys as (codes, keys): row i's key is keys[codes[i]], each distinct key once, in the order of first
    appearance (as value_counts lists them before sorting). Counting and looking up the distinct keys, not a key per
    row, is what makes fitting and encoding a column of millions of ids fast."""
    found = _keyed_once(series, numbers_always=True)
    if found is None:
        codes, distinct = pd.factorize(_value_keys(series))
        return codes, np.asarray(distinct, dtype=object)
    codes, keys = found
    # Two values of one key (3 and 3.0 in a float column written both ways) are one category, and the keys come in
    # the order of their first rows (a missing value's row may come first).
    present = pd.unique(codes)
    merged, distinct = pd.factorize(keys[present])
    order = np.zeros(len(keys), dtype=np.int64)
    order[present] = merged
    return order[codes], np.asarray(distinct, dtype=object)


def category_counts(series: pd.Series) -> pd.Series:
    """category_keys(series).value_counts(): each key's rows, most first, ties in the order they came; counted over
    the distinct keys (category_codes), not a key per row."""
    codes, keys = category_codes(series)
    counts = pd.Series(np.bincount(codes, minlength=len(keys)), index=pd.Index(keys, dtype=object))
    return counts.sort_values(ascending=False, kind="stable")  # value_counts' own sort


def _keyed_once(series: pd.Series, numbers_always: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, keys) with each distinct value keyed once (a missing value's code is the last key's, "<NA>"), for a
    column of repeats (ids, codes); None for one to key value by value (see category_keys). `numbers_always`: a
    column of numbers (not object dtype) is keyed once whatever its repeats (category_codes: factorizing the numbers
    costs less than factorizing their keys)."""
    plain = not pd.api.types.is_object_dtype(series.dtype)
    if numbers_always and plain:
        codes, uniques = pd.factorize(series)
    elif (
        len(series) > 1_000
        and (plain or pd.api.types.infer_dtype(series, skipna=True) in ("string", "integer"))  # not -0.0 beside 0.0
        and series.iloc[:10_000].nunique() * 2 <= min(len(series), 10_000)
    ):
        codes, uniques = pd.factorize(series)
        if len(uniques) * 2 > len(series):
            return None
    else:
        return None
    first = pd.Series(codes).drop_duplicates()  # each value's first row, in the column's own dtype
    first = first[first.to_numpy() >= 0]
    keys = np.empty(len(uniques) + 1, dtype=object)
    keys[first.to_numpy()] = _value_keys(series.iloc[first.index.to_numpy()]).to_numpy()
    keys[-1] = MISSING  # code -1
    return np.where(codes < 0, len(uniques), codes), keys


FLOATS_WITHIN = ("floating", "mixed-integer-float", "mixed-integer", "mixed")  # infer_dtype's, of object columns


def _value_keys(series: pd.Series) -> pd.Series:
    """category_keys value by value."""
    keys = series.astype("string")
    # infer_dtype also catches a bool column that a missing value made object dtype: True -> "true" either way.
    if pd.api.types.infer_dtype(series, skipna=True) == "boolean":
        keys = keys.str.lower()
    else:
        keys = _truth_words(series, keys)
    keys = keys.fillna(MISSING).astype(object)
    if pd.api.types.is_object_dtype(series.dtype) and pd.api.types.infer_dtype(series, skipna=True) in FLOATS_WITHIN:
        # Floats in an object column (a frame built in Python, alone or among other kinds of values): 7.0 keys as 7
        # does, as in a float column (it keyed as "7.0", another category than 7 and "7", though pandas groups 7 and
        # 7.0 as one).
        values = series.to_numpy()
        floats = np.flatnonzero([isinstance(v, float | np.floating) for v in values])
        number = values[floats].astype(float)
        integral = whole_numbers(number)
        keys.iloc[floats[integral]] = number[integral].astype(np.int64).astype(str)
    if pd.api.types.is_float_dtype(series):
        # Value by value, so that a float column with a NaN, a 3.5 or an inf still gives "3" for 3.0 (as an int
        # column in another file would); beyond 2**53 floats are not exact integers and keep their float text.
        values = series.to_numpy(dtype=float, na_value=np.nan)
        integral = whole_numbers(values)
        keys[integral] = values[integral].astype(np.int64).astype(str)
    return keys


def _truth_words(series: pd.Series, keys: pd.Series) -> pd.Series:
    """The words True and False, in any case, as "true" and "false" in a text or category column: value by value,
    so that a value keys alike whatever else its column holds (a training column with True, False and unknown, and
    a scoring frame holding only True). Looked for among the distinct values, in one vectorised pass."""
    if not (
        isinstance(series.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(series.dtype)
        or pd.api.types.is_string_dtype(series.dtype)
    ):
        return keys
    distinct = pd.Series(pd.unique(keys.dropna()), dtype="string")
    lower = distinct.str.lower()
    spelled = distinct[lower.isin(["true", "false"]) & (lower != distinct)]
    return keys.replace(dict(zip(spelled, spelled.str.lower(), strict=True))) if len(spelled) else keys


def _padded_keys(vocab: list[str]) -> dict[str, int]:
    """Keys with spaces around them in a vocabulary, by their stripped text (where that is not a key itself): their
    place in it."""
    keys = set(vocab)
    return {key.strip(): i for i, key in enumerate(vocab) if key != key.strip() and key.strip() not in keys}


def _truth_keys(vocab: list[str]) -> list[str]:
    """A saved vocabulary with True/False keyed as category_keys keys them now ("true"/"false"): encoders saved
    before 2026-12-06 kept "True" in a column that held other words too, which would now fall out of vocabulary.
    Each keeps its place (its embedding row); a spelling whose lower case is already there stays as it was."""
    seen, keys = set(vocab), []
    for key in vocab:
        lower = key.lower()
        if lower in ("true", "false") and key != lower and lower not in seen:
            seen.add(lower)
            key = lower
        keys.append(key)
    return keys


def _numeric_values(series: pd.Series) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    values[~(np.abs(values) <= TOO_LARGE)] = np.nan  # infinite, and too large to standardise: missing
    return values


def numeric_blocks(frame: pd.DataFrame, columns: list[str]) -> Iterator[tuple[slice, np.ndarray]]:
    """(positions in `columns`, float64 array (N, width)) block by block, non-finite values as NaN.

    Many numeric columns are converted in one call per block (a wide table has thousands); the block size keeps
    a tall table's copy small. Text columns are converted one by one (bad values become NaN).
    """
    width = max(1, BLOCK_VALUES // max(len(frame), 1))
    for start in range(0, len(columns), width):
        chunk = columns[start : start + width]
        part = frame[chunk]
        plain = all(pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_bool_dtype(d) for d in part.dtypes)
        if plain:
            values = part.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
            values[~(np.abs(values) <= TOO_LARGE)] = np.nan  # infinite, and too large to standardise: missing
        else:
            values = np.column_stack([_numeric_values(part.iloc[:, j]) for j in range(len(chunk))])
        yield slice(start, start + len(chunk)), values.reshape(len(frame), len(chunk))


@dataclass
class LabelScale:
    """Model outputs back on the labels' own scale: an Encoder's tasks and regression targets' (mean, std)."""

    tasks: list[TaskSpec]
    target_stats: dict[str, tuple[float, float]]

    def inverse_regression(self, task: TaskSpec, standardised: np.ndarray) -> np.ndarray:
        mean, std = self.target_stats[task.name]
        y = np.asarray(standardised, dtype=np.float64) * std + mean
        with np.errstate(over="ignore"):  # a diverging model's outputs overflow to inf: the trainer reports it
            # log1p is only taken of values >= 0 (validation refuses others), so a prediction below log1p(0) = 0 is
            # 0 on the label's scale: expm1 of it was a negative watch time (an audit found 326 of 20,000), which
            # only added to RMSE and MAE.
            return np.expm1(np.maximum(y, 0.0)) if task.log1p else y

    def to_label_scale(self, raw: np.ndarray) -> np.ndarray:
        out = np.empty(raw.shape, dtype=np.float64)
        for j, task in enumerate(self.tasks):
            if task.type == "binary":
                with np.errstate(over="ignore"):  # exp overflows to inf for very negative logits: 1/(1+inf) is 0
                    out[:, j] = 1.0 / (1.0 + np.exp(-raw[:, j].astype(np.float64)))
            else:
                out[:, j] = self.inverse_regression(task, raw[:, j])
        return out


class Encoder:
    """Fit on training rows (`fit`), then encode any rows with the same feature columns (`transform`)."""

    def __init__(
        self,
        categorical: list[str],
        numeric: list[str],
        tasks: list[TaskSpec],
        max_vocab: int = 100_000,
        min_count: int = 1,
        multi: list[str] | None = None,
        max_tokens: int = 64,
    ):
        self.categorical = list(categorical)
        self.numeric = list(numeric)
        self.tasks = [dataclasses.replace(t) for t in tasks]  # its own specs: a caller's later edits stay theirs
        self.max_vocab = max_vocab
        self.min_count = min_count
        self.multi = list(multi or [])  # multi-valued columns (see the module docstring)
        self.max_tokens = max_tokens
        self.tokens_: dict[str, list[str]] = {}
        self.token_sep_: dict[str, str] = {}
        self.other_share_: dict[str, float] = {}  # share of a multi-valued column's training tokens cut by the cap
        self.padded_: dict[str, dict[str, int]] = {}  # a loaded vocabulary's keys saved with spaces (see codes)

    def fit(self, frame: pd.DataFrame) -> Encoder:
        self.vocab_: dict[str, list[str]] = {}
        self.oov_share_: dict[str, float] = {}  # share of training rows mapped to OOV by the cap
        for c in self.categorical:
            counts = category_counts(frame[c])
            kept = counts[counts >= self.min_count].iloc[: self.max_vocab]
            self.vocab_[c] = [str(v) for v in kept.index]
            self.oov_share_[c] = float(1 - kept.sum() / max(len(frame), 1))
        for c in self.multi:
            column = list_text(frame[c])  # Python lists (a frame built in Python) as files' lists are read
            self.token_sep_[c] = token_separator(column)
            # Each distinct value split once, its tokens counted as often as it occurs (genres: 1M rows, 400 values).
            codes, values = pd.factorize(column)
            occurs = np.bincount(codes[codes >= 0], minlength=len(values))
            rows, tokens = split_tokens(pd.Series(values, dtype=object), self.token_sep_[c])
            counts = pd.Series(occurs[rows], index=tokens.to_numpy()).groupby(level=0).sum()
            counts = counts.sort_values(ascending=False, kind="stable")  # ties in the tokens' order
            kept = counts[counts >= self.min_count].iloc[: self.max_tokens]
            self.tokens_[c] = [str(v) for v in kept.index]
            self.other_share_[c] = float(1 - kept.sum() / counts.sum()) if counts.sum() else 0.0
        self.numeric_stats_: dict[str, tuple[float, float]] = {}
        self.missing_indicators_: list[str] = []
        for where, values in numeric_blocks(frame, self.numeric):
            present = np.isfinite(values)
            counts = present.sum(axis=0)
            filled = np.where(present, values, 0.0)
            means = filled.sum(axis=0) / np.maximum(counts, 1)
            stds = np.sqrt((np.where(present, values - means, 0.0) ** 2).sum(axis=0) / np.maximum(counts, 1))
            for j, c in enumerate(self.numeric[where]):
                mean, std = (float(means[j]), float(stds[j])) if counts[j] else (0.0, 1.0)
                # A spread of 0: constant in training, it teaches nothing, and other values later (a test part
                # where it varies) are read as that constant, not divided by a made-up spread of 1 into inputs of
                # +-30 on untrained weights (click AUC 0.59 with such a column, 0.76 without: an audit).
                self.numeric_stats_[c] = (mean, std if std > 0 else 0.0)
                if counts[j] < len(frame):
                    self.missing_indicators_.append(c)
        self.target_stats_: dict[str, tuple[float, float]] = {}
        for t in self.tasks:
            if t.type == "regression":
                y = self._regression_target(frame[t.name], t)
                y = y[~np.isnan(y)]  # a task trained on its labelled rows only: of those
                std = float(y.std()) if len(y) else 0.0
                self.target_stats_[t.name] = (float(y.mean()) if len(y) else 0.0, std if std > 0 else 1.0)
        return self

    @property
    def cardinalities(self) -> list[int]:
        """Embedding table size per categorical column (vocabulary + the OOV index 0)."""
        return [len(self.vocab_[c]) + 1 for c in self.categorical]

    @property
    def numeric_width(self) -> int:
        return len(self.numeric) + len(self.missing_indicators_) + sum(len(self.tokens_[c]) + 1 for c in self.multi)

    def input_columns(self) -> tuple[list[str], list[str]]:
        """The data column each encoded input comes from: one per categorical input, one per numeric input (a
        standardised column, its missing indicator, a multi-valued column's token inputs), in transform's order.
        Inputs are encoded value by value, so rows put together from the inputs of different rows equal the rows
        put together first and encoded (Recommender.recommend_all relies on it)."""
        tokens = [c for c in self.multi for _ in range(len(self.tokens_[c]) + 1)]
        return list(self.categorical), [*self.numeric, *self.missing_indicators_, *tokens]

    @property
    def numeric_names(self) -> list[str]:
        """The numeric inputs: the standardised columns, their missing indicators, then per multi-valued column one
        input per kept token ('genres=Action') and one for the others ('genres=<other>')."""
        tokens = [f"{c}={t}" for c in self.multi for t in [*self.tokens_[c], OTHER_TOKEN]]
        return self.numeric + [f"{c}__missing" for c in self.missing_indicators_] + tokens

    def token_inputs(self, column: str, values: pd.Series) -> np.ndarray:
        """A multi-valued column's inputs (N, kept tokens + 1) as float32: each row's tokens' mean indicator, the
        last input gathering the tokens not kept (unseen in training, or cut by min_count or max_tokens)."""
        vocab = self.tokens_[column]
        # Each distinct value's inputs once, then one row gather (1M rows of 400 genre lists: 4.2 s row by row).
        codes, distinct = pd.factorize(list_text(values))
        inputs = np.zeros((len(distinct), len(vocab) + 1), dtype=np.float32)
        rows, tokens = split_tokens(pd.Series(distinct, dtype=object), self.token_sep_[column])
        if len(rows):
            found = pd.Index(vocab, dtype=object).get_indexer(tokens)
            found[found < 0] = len(vocab)
            per_row = np.bincount(rows, minlength=len(distinct))
            np.add.at(inputs, (rows, found), (1.0 / per_row[rows]).astype(np.float32))
        out = np.zeros((len(values), len(vocab) + 1), dtype=np.float32)
        present = codes >= 0
        out[present] = inputs[codes[present]]
        return out

    def codes(self, column: str, values: pd.Series) -> np.ndarray:
        """The embedding rows of a categorical column's values: 1.. for its vocabulary, 0 (the OOV index) for a
        value not in it (unseen in training, or cut by min_count or max_vocab)."""
        # get_indexer, not pd.Categorical(..., categories=...): unknown values there are deprecated (pandas 4).
        codes, keys = category_codes(values)  # each distinct key looked up once, then spread over the rows
        found = pd.Index(self.vocab_[column], dtype=object).get_indexer(keys)
        unknown = found < 0
        if unknown.any() and (padded := self.padded_.get(column)):
            # A vocabulary saved from a file read before mtlrec.io removed spaces around values (2026-12-06) holds
            # ' u196' where the data now reads 'u196': the run's users stayed its users, not unknown ones.
            found[unknown] = pd.Series(keys[unknown]).map(padded).fillna(-1).to_numpy(dtype=np.int64)
        return found.astype(np.int64)[codes] + 1  # -1 (unknown) becomes 0

    def transform(self, frame: pd.DataFrame, labels: bool | None = None) -> Encoded:
        """Encode rows with the fitted vocabularies and statistics: model inputs, and labels when asked for.

        `frame` needs the feature columns (`categorical`, `numeric`) that the encoder was fitted on; unknown
        categorical values take the out-of-vocabulary index. `labels`: True encodes the task columns too (each must
        be present), False leaves them out (`Encoded.labels` is None: new rows to score), None (the default) encodes
        them when every task column is present. MtlrecError names a missing column, or text in a numeric feature.
        """
        tasks = [t.name for t in self.tasks]
        if labels is None:
            labels = all(name in frame.columns for name in tasks)
        missing = [c for c in dict.fromkeys(self.categorical + self.numeric + self.multi) if c not in frame.columns]
        if missing:
            raise MtlrecError(
                f"the rows lack the feature column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing))} that the model was trained with: add "
                f"{'them' if len(missing) > 1 else 'it'} (a missing value is allowed)"
            )
        absent = [name for name in tasks if name not in frame.columns] if labels else []
        if absent:
            raise MtlrecError(
                f"labels=True, but the rows lack the task column{'s' if len(absent) > 1 else ''} "
                f"{', '.join(map(repr, absent))}: add {'them' if len(absent) > 1 else 'it'}, or pass labels=False "
                "to encode rows without labels"
            )
        text = [
            f"column '{c}' is a numeric feature but has text in {where}: clean those values (the model was trained on "
            "numbers there)"
            for c in self.numeric
            if (where := text_in_numbers(frame[c]))
        ]
        if text:
            raise MtlrecError(text)
        n = len(frame)
        categorical = np.zeros((n, len(self.categorical)), dtype=np.int64)
        for j, c in enumerate(self.categorical):
            categorical[:, j] = self.codes(c, frame[c])
        numeric = np.zeros((n, self.numeric_width), dtype=np.float32)
        stats = np.array([self.numeric_stats_[c] for c in self.numeric], dtype=np.float64).reshape(-1, 2)
        indicator = {c: len(self.numeric) + k for k, c in enumerate(self.missing_indicators_)}
        scale = np.where(stats[:, 1] > 0, stats[:, 1], np.inf)  # a spread of 0 (constant in training): input 0
        for where, values in numeric_blocks(frame, self.numeric):
            values = (values - stats[where, 0]) / scale[where]
            missing = np.isnan(values)
            values[missing] = 0.0
            numeric[:, where] = values
            for j, c in enumerate(self.numeric[where]):
                if c in indicator:
                    numeric[:, indicator[c]] = missing[:, j]
        start = len(self.numeric) + len(self.missing_indicators_)
        for c in self.multi:
            width = len(self.tokens_[c]) + 1
            numeric[:, start : start + width] = self.token_inputs(c, frame[c])
            start += width
        y = None
        if labels:
            y = np.zeros((n, len(self.tasks)), dtype=np.float32)
            for j, t in enumerate(self.tasks):
                if t.type == "binary":
                    y[:, j] = binary_labels(frame[t.name])
                else:
                    mean, std = self.target_stats_[t.name]
                    y[:, j] = (self._regression_target(frame[t.name], t) - mean) / std
        return Encoded(categorical, numeric, y)

    @staticmethod
    def _regression_target(series: pd.Series, task: TaskSpec) -> np.ndarray:
        y = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
        return np.log1p(y) if task.log1p else y

    def label_scale(self) -> LabelScale:
        """What turns model outputs back into labels (the tasks and the regression targets' statistics): small
        and picklable, without the vocabularies (a sweep's training processes receive it)."""
        return LabelScale(self.tasks, self.target_stats_)

    def inverse_regression(self, task: TaskSpec, standardised: np.ndarray) -> np.ndarray:
        """Model output for a regression task back on the label's original scale."""
        return self.label_scale().inverse_regression(task, standardised)

    def to_label_scale(self, raw: np.ndarray) -> np.ndarray:
        """Model outputs (N, T) on the labels' own scale: probabilities (binary) or original values (regression)."""
        return self.label_scale().to_label_scale(raw)

    # Persistence: plain JSON (vocabularies and statistics), never pickle.
    def to_dict(self) -> dict:
        return {
            # 2 with multi-valued columns: a version of mtlrec without them refuses the file with its version
            # instead of building a model one input block short.
            "version": ENCODER_VERSION + 1 if self.multi else ENCODER_VERSION,
            "categorical": self.categorical,
            "numeric": self.numeric,
            "tasks": [t.__dict__ for t in self.tasks],
            "max_vocab": self.max_vocab,
            "min_count": self.min_count,
            "vocab": self.vocab_,
            "oov_share": self.oov_share_,
            "numeric_stats": self.numeric_stats_,
            "missing_indicators": self.missing_indicators_,
            "target_stats": self.target_stats_,
            "multi": self.multi,
            "max_tokens": self.max_tokens,
            "tokens": self.tokens_,
            "token_sep": self.token_sep_,
            "other_share": self.other_share_,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Encoder:
        if d.get("version") not in (ENCODER_VERSION, ENCODER_VERSION + 1):
            raise MtlrecError(
                f"encoder.json: version {d.get('version')} is not supported (expected {ENCODER_VERSION} or "
                f"{ENCODER_VERSION + 1}): train the run again from its config.json"
            )
        enc = cls(
            d["categorical"],
            d["numeric"],
            [TaskSpec(**t) for t in d["tasks"]],
            d["max_vocab"],
            d["min_count"],
            d.get("multi", []),  # encoders saved before multi-valued columns (2026-12-07) have none
            d.get("max_tokens", 64),
        )
        enc.tokens_ = {k: list(v) for k, v in d.get("tokens", {}).items()}
        enc.token_sep_ = dict(d.get("token_sep", {}))
        enc.other_share_ = dict(d.get("other_share", {}))
        enc.vocab_ = {k: _truth_keys(v) for k, v in d["vocab"].items()}
        enc.padded_ = {k: keys for k, v in enc.vocab_.items() if (keys := _padded_keys(v))}  # see codes()
        enc.oov_share_ = dict(d["oov_share"])
        enc.numeric_stats_ = {k: tuple(v) for k, v in d["numeric_stats"].items()}
        enc.missing_indicators_ = list(d["missing_indicators"])
        enc.target_stats_ = {k: tuple(v) for k, v in d["target_stats"].items()}
        if problems := enc._loaded_problems():
            raise MtlrecError(f"encoder.json is damaged: {'; '.join(problems)}")
        return enc

    def _loaded_problems(self) -> list[str]:
        """What makes a loaded encoder unable to encode (an edited or damaged encoder.json): the vocabularies of its
        columns, unique; statistics that are two finite numbers; a regression task's statistics."""

        def pair(v, constant: bool = False) -> bool:  # constant: a spread of 0 is allowed (a feature's, see fit)
            return (
                isinstance(v, tuple)
                and len(v) == 2
                and all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in v)
                and (v[1] > 0 or constant and v[1] == 0)
            )

        problems = [f"no vocabulary for column '{c}'" for c in self.categorical if c not in self.vocab_]
        problems += [
            f"column '{c}' has repeated vocabulary entries" for c, v in self.vocab_.items() if len(set(v)) < len(v)
        ]
        problems += [f"numeric_stats of '{c}' are not a mean and a deviation" for c in self.numeric
                     if not pair(self.numeric_stats_.get(c), constant=True)]  # fmt: skip
        problems += [f"target_stats of task '{t.name}' are not a mean and a deviation" for t in self.tasks
                     if t.type == "regression" and not pair(self.target_stats_.get(t.name))]  # fmt: skip
        return problems

    def save(self, path: str | Path) -> None:
        from mtlrec.runs import atomic_write_text

        atomic_write_text(Path(path), json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> Encoder:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
