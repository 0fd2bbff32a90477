"""Multi-valued columns: a film's genres 'Action|Comedy', tags 'a;b', a list written as text, a Parquet/JSON list.

How a value splits into tokens, shared by schema inference (which proposes such columns) and the encoder (which
gives each kept token an input, see mtlrec.encode).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# How a multi-valued column's text is split, tried in this order: the separator found in most values wins. "[,]" is
# a list written as text (pandas' to_csv of a list column: "['Action', 'Comedy']"); "\x1f" is what mtlrec.io joins
# Parquet/JSON lists with when their tokens hold '|' and ';'. A space is tried last, only for a column chosen as
# multi-valued (MIND's "N1 N2 N3"): inference never proposes one (titles have spaces).
TOKEN_SEPARATORS = ("[,]", "|", ";", ",", "\x1f")
LIST_TEXT = "[,]"
OTHER_TOKEN = "<other>"


def _bracketed(text: pd.Series) -> pd.Series:
    return text.str.startswith("[") & text.str.endswith("]")


def token_separator(series: pd.Series, spaces: bool = True) -> str:
    """How a multi-valued column's values split into tokens (see TOKEN_SEPARATORS), judged on up to 20,000 present
    values: lists written as text when most are bracketed, else the separator found in the most values. A column
    none of them splits is one token per value ('|')."""
    text = series.dropna().astype(str).str.strip()
    text = text.iloc[:20_000]
    if len(text) and _bracketed(text).mean() >= 0.5:
        return LIST_TEXT
    found = {sep: int(text.str.contains(sep, regex=False).sum()) for sep in TOKEN_SEPARATORS[1:]}
    best = max(found, key=lambda sep: found[sep])  # the first of equals: '|' before ';' before ','
    if found[best]:
        return best
    if spaces and len(text) and text.str.contains(" ", regex=False).any():
        return " "
    return "|"


def split_tokens(series: pd.Series, sep: str) -> tuple[np.ndarray, pd.Series]:
    """A multi-valued column's tokens, one pass: (row positions 0..N-1, token keys), missing values and empty
    tokens left out, spaces around tokens removed ("Action | Comedy"), keys as category_keys writes them."""
    text = series.astype("string").reset_index(drop=True)
    if sep == LIST_TEXT:
        bracketed = _bracketed(text.str.strip()).fillna(False)
        text = text.str.strip().where(~bracketed, text.str.strip().str.slice(1, -1))
        sep = ","
    tokens = text.str.split(sep, regex=False).explode()
    tokens = tokens.str.strip()
    if sep == ",":  # list text's quotes: "['Action', 'Comedy']" and '["Action", "Comedy"]'
        quoted = tokens.str.len().ge(2) & tokens.str[0].isin(["'", '"']) & (tokens.str[0] == tokens.str[-1])
        tokens = tokens.where(~quoted.fillna(False), tokens.str.slice(1, -1))
    present = tokens.notna() & tokens.ne("")
    tokens = tokens[present.fillna(False)]
    return tokens.index.to_numpy(dtype=np.int64), tokens.astype(object)


_SEPARATOR_CHARS = r"[|;,\[\x1f]"  # a value that splits holds one of these
MULTI_MIN_SHARE = 0.05  # of a column's values holding two tokens or more, for inference to propose it
_GROUPED_NUMBER = r"-?\d{1,3}(,\d{3})+(\.\d+)?"  # 1,299.00: one number with its thousands grouped


def multi_valued(series: pd.Series) -> str | None:
    """The separator of a text column whose values read as lists of tokens (None otherwise), judged on up to
    20,000 present values: at least 5% of them hold two tokens or more, and there are at most half as many distinct
    tokens as distinct values (18 genres make 174 combinations in MovieLens; a title split at its commas gives
    about as many tokens as titles, 'Paris, France' more), and not every value has as many (a decimal comma 3,5, a
    pair of coordinates). Numbers with grouped thousands (1,299) are numbers, not lists."""
    if not (
        pd.api.types.is_object_dtype(series.dtype)
        or pd.api.types.is_string_dtype(series.dtype)
        or isinstance(series.dtype, pd.CategoricalDtype)
    ):
        return None
    head = series.iloc[:5_000].dropna().astype(str)
    if not head.str.contains(_SEPARATOR_CHARS, regex=True).any():
        return None  # one cheap pass for most text columns (a table may have thousands of them)
    sample = series.dropna().astype(str).iloc[:20_000].reset_index(drop=True)
    distinct_values = sample.nunique()
    if distinct_values < 10:
        return None
    sep = token_separator(sample, spaces=False)
    rows, tokens = split_tokens(sample, sep)
    per_row = np.bincount(rows, minlength=len(sample))
    if (per_row >= 2).mean() < MULTI_MIN_SHARE or tokens.nunique() * 2 > distinct_values:
        return None
    if sep == ",":
        stripped = sample.str.strip()
        if stripped.str.fullmatch(_GROUPED_NUMBER).mean() >= 0.5:
            return None
    if (per_row == per_row[0]).all():
        # The same number of parts in every value: fields of one value (a decimal comma 3,5, a point "2.35,48.85",
        # "Lyon, France"), not a list, whose length varies.
        return None
    return sep


def distinct_tokens(series: pd.Series, rows: int = 20_000) -> int:
    """The number of distinct tokens in a column's first `rows` values (an estimate of its inputs before fitting)."""
    values = series.iloc[:rows]
    return int(split_tokens(values, token_separator(values))[1].nunique())
