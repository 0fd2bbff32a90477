"""Turn table rows into model inputs: categorical indices, standardised numerics and scaled labels.

Fitted on the training split only. High-cardinality columns keep their ``max_vocab`` most frequent values (and
values seen at least ``min_count`` times); all other values — rare, or unseen at fit time — share index 0 (OOV).
We cap by frequency rather than hash: every kept value gets its own row in the embedding table (no collisions
between popular ids), and the tail that a hash would scatter over shared buckets is learned as one OOV vector.
Missing categorical values are a category of their own ("<NA>"). Numeric columns are standardised with the
training mean and standard deviation; missing (and infinite) values become 0 (the mean) and, for every column
that had missing values in training, an extra 0/1 "<column>__missing" input tells the model so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mtlrec.config import TaskSpec
from mtlrec.errors import MtlrecError
from mtlrec.schema import binary_labels

MISSING = "<NA>"
ENCODER_VERSION = 1


@dataclass
class Encoded:
    """Model-ready arrays for N rows."""

    categorical: np.ndarray  # (N, C) int64, 0 = out of vocabulary
    numeric: np.ndarray  # (N, F) float32, standardised (+ missing indicators)
    labels: np.ndarray | None  # (N, T) float32: 0/1 for binary tasks, standardised values for regression

    def __len__(self) -> int:
        return len(self.categorical)


def category_keys(series: pd.Series) -> pd.Series:
    """Values as strings, consistently across files: 3, 3.0 and "3" all become "3"; missing is "<NA>"."""
    keys = series.astype("string")
    # infer_dtype also catches a bool column that a missing value made object dtype: True -> "true" either way.
    if pd.api.types.infer_dtype(series, skipna=True) == "boolean":
        keys = keys.str.lower()
    keys = keys.fillna(MISSING).astype(object)
    if pd.api.types.is_float_dtype(series):
        # Value by value, so that a float column with a NaN, a 3.5 or an inf still gives "3" for 3.0 (as an int
        # column in another file would); beyond 2**53 floats are not exact integers and keep their float text.
        values = series.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            integral = np.isfinite(values) & (np.mod(values, 1) == 0) & (np.abs(values) < 2**53)
        keys[integral] = values[integral].astype(np.int64).astype(str)
    return keys


def _numeric_values(series: pd.Series) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    values[~np.isfinite(values)] = np.nan
    return values


class Encoder:
    """Fit on training rows (`fit`), then encode any rows with the same columns (`transform`)."""

    def __init__(
        self,
        categorical: list[str],
        numeric: list[str],
        tasks: list[TaskSpec],
        max_vocab: int = 100_000,
        min_count: int = 1,
    ):
        self.categorical = list(categorical)
        self.numeric = list(numeric)
        self.tasks = list(tasks)
        self.max_vocab = max_vocab
        self.min_count = min_count

    def fit(self, frame: pd.DataFrame) -> Encoder:
        self.vocab_: dict[str, list[str]] = {}
        self.oov_share_: dict[str, float] = {}  # share of training rows mapped to OOV by the cap
        for c in self.categorical:
            counts = category_keys(frame[c]).value_counts(sort=True)
            kept = counts[counts >= self.min_count].iloc[: self.max_vocab]
            self.vocab_[c] = [str(v) for v in kept.index]
            self.oov_share_[c] = float(1 - kept.sum() / max(len(frame), 1))
        self.numeric_stats_: dict[str, tuple[float, float]] = {}
        self.missing_indicators_: list[str] = []
        for c in self.numeric:
            values = _numeric_values(frame[c])
            mean = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
            std = float(np.nanstd(values)) if np.isfinite(values).any() else 1.0
            self.numeric_stats_[c] = (mean, std if std > 0 else 1.0)
            if np.isnan(values).any():
                self.missing_indicators_.append(c)
        self.target_stats_: dict[str, tuple[float, float]] = {}
        for t in self.tasks:
            if t.type == "regression":
                y = self._regression_target(frame[t.name], t)
                std = float(y.std())
                self.target_stats_[t.name] = (float(y.mean()), std if std > 0 else 1.0)
        return self

    @property
    def cardinalities(self) -> list[int]:
        """Embedding table size per categorical column (vocabulary + the OOV index 0)."""
        return [len(self.vocab_[c]) + 1 for c in self.categorical]

    @property
    def numeric_width(self) -> int:
        return len(self.numeric) + len(self.missing_indicators_)

    @property
    def numeric_names(self) -> list[str]:
        return self.numeric + [f"{c}__missing" for c in self.missing_indicators_]

    def transform(self, frame: pd.DataFrame, labels: bool = True) -> Encoded:
        n = len(frame)
        categorical = np.zeros((n, len(self.categorical)), dtype=np.int64)
        for j, c in enumerate(self.categorical):
            # get_indexer, not pd.Categorical(..., categories=...): unknown values there are deprecated (pandas 4).
            codes = pd.Index(self.vocab_[c], dtype=object).get_indexer(category_keys(frame[c]))
            categorical[:, j] = codes.astype(np.int64) + 1  # -1 (unknown) becomes 0, the OOV index
        numeric = np.zeros((n, self.numeric_width), dtype=np.float32)
        for j, c in enumerate(self.numeric):
            mean, std = self.numeric_stats_[c]
            values = (_numeric_values(frame[c]) - mean) / std
            missing = np.isnan(values)
            values[missing] = 0.0
            numeric[:, j] = values
            if c in self.missing_indicators_:
                numeric[:, len(self.numeric) + self.missing_indicators_.index(c)] = missing
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

    def inverse_regression(self, task: TaskSpec, standardised: np.ndarray) -> np.ndarray:
        """Model output for a regression task back on the label's original scale."""
        mean, std = self.target_stats_[task.name]
        y = np.asarray(standardised, dtype=np.float64) * std + mean
        return np.expm1(y) if task.log1p else y

    def to_label_scale(self, raw: np.ndarray) -> np.ndarray:
        """Model outputs (N, T) on the labels' own scale: probabilities (binary) or original values (regression)."""
        out = np.empty(raw.shape, dtype=np.float64)
        for j, task in enumerate(self.tasks):
            if task.type == "binary":
                out[:, j] = 1.0 / (1.0 + np.exp(-raw[:, j].astype(np.float64)))
            else:
                out[:, j] = self.inverse_regression(task, raw[:, j])
        return out

    # Persistence: plain JSON (vocabularies and statistics), never pickle.
    def to_dict(self) -> dict:
        return {
            "version": ENCODER_VERSION,
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
        }

    @classmethod
    def from_dict(cls, d: dict) -> Encoder:
        if d.get("version") != ENCODER_VERSION:
            raise MtlrecError(f"encoder version {d.get('version')} is not supported (expected {ENCODER_VERSION})")
        enc = cls(
            d["categorical"],
            d["numeric"],
            [TaskSpec(**t) for t in d["tasks"]],
            d["max_vocab"],
            d["min_count"],
        )
        enc.vocab_ = {k: list(v) for k, v in d["vocab"].items()}
        enc.oov_share_ = dict(d["oov_share"])
        enc.numeric_stats_ = {k: tuple(v) for k, v in d["numeric_stats"].items()}
        enc.missing_indicators_ = list(d["missing_indicators"])
        enc.target_stats_ = {k: tuple(v) for k, v in d["target_stats"].items()}
        return enc

    def save(self, path: str | Path) -> None:
        from mtlrec.runs import atomic_write_text

        atomic_write_text(Path(path), json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> Encoder:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
