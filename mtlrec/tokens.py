"""Multi-valued columns: a film's genres 'Action|Comedy', tags 'a;b', a list written as text, a Parquet/JSON list.

How a value splits into tokens, shared by schema inference (which proposes such columns) and the encoder (which
gives each kept token an input, see mtlrec.encode).
"""

from __future__ import annotations

import ast
import json
import re

import numpy as np
import pandas as pd

EXACT_INTEGERS = 2**53  # floats below this size hold every whole number exactly


def whole_numbers(values: np.ndarray) -> np.ndarray:
    """Which floats are whole numbers a float holds exactly (finite, no fraction, under 2**53): 20.0, read as a
    float beside a missing value, is the id 20 (ids keyed, listed and fixed alike: encode, recommend, fixes)."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (np.mod(values, 1) == 0) & (np.abs(values) < EXACT_INTEGERS)


# How a multi-valued column's text is split, tried in this order: the separator found in most values wins. "[,]" is
# a list written as text: JSON, as mtlrec.io writes Parquet/JSON lists ('["Action", "Comedy"]'), or Python's repr,
# as pandas' to_csv writes a list column ("['Action', 'Comedy']"). A space is tried last, only for a column chosen
# as multi-valued (MIND's "N1 N2 N3"): inference never proposes one (titles have spaces).
TOKEN_SEPARATORS = ("[,]", "|", ";", ",")
LIST_TEXT = "[,]"
STRAY_SHARE = 0.05  # a separator in fewer values than this, where most hold spaces, is a stray one
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
    spaced = float(text.str.contains(" ", regex=False).mean()) if spaces and len(text) else 0.0
    holding = text[text.str.contains(best, regex=False)] if found[best] else text.iloc[:0]
    # A stray separator: in few values, each of them holding spaces too (MIND's 'N1,N2 N3' among 'N1 N2 N3'); a
    # few 'Action|Comedy' beside many 'Science Fiction' keep '|'.
    stray = spaced >= 0.5 and found[best] < STRAY_SHARE * len(text) and holding.str.contains(" ", regex=False).all()
    if found[best] and not stray:
        return best
    if spaced:  # MIND's history "N1 N2 N3" (one stray 'N1,N2' among them split it all at commas)
        return " "
    return "|"


def split_tokens(series: pd.Series, sep: str) -> tuple[np.ndarray, pd.Series]:
    """A multi-valued column's tokens: (row positions 0..N-1, token keys), missing values and empty tokens left
    out, spaces around tokens removed ("Action | Comedy"). A list written as text is read as the list it is (JSON,
    or Python's repr as pandas' to_csv writes it: "['Tolkien, J.R.R.', 'Gaiman']" holds two tokens), each distinct
    value once. Numbers key as category_keys keys them: 7.0 and "7" are the token "7"."""
    series = series.reset_index(drop=True)
    if sep == LIST_TEXT:
        codes, distinct = pd.factorize(series)
        items = [_list_items(str(value)) for value in distinct]
        lengths = np.array([len(i) for i in items], dtype=np.int64)
        kept = codes[codes >= 0]
        per_row = lengths[kept]
        rows = np.repeat(np.flatnonzero(codes >= 0), per_row)
        flat = np.array([token for i in items for token in i], dtype=object)
        starts = np.cumsum(lengths) - lengths  # each distinct value's first token in `flat`
        within = np.arange(len(rows)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        tokens = pd.Series(flat[np.repeat(starts[kept], per_row) + within], index=rows, dtype=object)
        return rows, tokens
    if pd.api.types.is_float_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        from mtlrec.encode import category_keys  # (mtlrec.encode imports this module)

        text = category_keys(series).where(series.notna()).astype("string")  # a list of one number read as one: 7
    elif series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
        text = series.map(lambda v: v if pd.isna(v) else _item_key(v)).astype("string")  # 7.0 beside "a|b"
    else:
        text = series.astype("string")
    tokens = text.str.split(sep, regex=False).explode().str.strip()
    present = tokens.notna() & tokens.ne("")
    tokens = tokens[present.fillna(False)]
    return tokens.index.to_numpy(dtype=np.int64), tokens.astype(object)


_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")
_NUMPY_ITEMS = re.compile(r"""['"]\s+['"]""")  # quoted items with only spaces between them: numpy's repr


def _list_items(text: str) -> list[str]:
    """The tokens of a list written as text: numpy's repr ("['a' 'b, c']", "[ 8 30 16]": to_csv of
    pd.read_parquet's arrays), JSON ('["a", "b"]', as mtlrec.io writes Parquet/JSON lists) or a Python literal
    ("['a', 'b']", pandas' to_csv of lists), the same items however many; else a bracketed text of no commas is one
    token ("[Science Fiction]"), or numbers separated by spaces, and any other is split at its commas."""
    text = text.strip()
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    value = None
    if _NUMPY_ITEMS.search(inner):  # Python would join them: ['a' 'b'] is ['ab']
        value = [(a or b).replace("\\'", "'").replace('\\"', '"') for a, b in _QUOTED.findall(inner)]
    else:
        try:
            value = json.loads(text, strict=False)
        except ValueError:
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
                value = None
    if not isinstance(value, list | tuple):
        parts = inner.split()
        if "," not in inner and parts and all(_is_number(p) or p == "..." for p in parts):
            value = parts  # numpy's numbers: "[ 8 30 16]" (a long array's "..." is dropped below)
        elif "," not in inner:
            value = [inner.strip().strip("'\"")]
        else:
            value = [part.strip().strip("'\"") for part in inner.split(",")]
    return [key for item in value if item is not None and (key := _item_key(item)) and key != "..."]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _item_key(item) -> str:
    """A list item as a token: text stripped, whole numbers without '.0', true/false in lower case."""
    if isinstance(item, bool | np.bool_):
        return "true" if item else "false"
    if isinstance(item, float | np.floating):
        if not np.isfinite(item):
            return ""  # NaN inside a list is no token
        if float(item).is_integer() and abs(item) < EXACT_INTEGERS:
            return str(int(item))
    return str(item).strip()


_SEPARATOR_CHARS = r"[|;,\[]"  # a value that splits holds one of these
MULTI_MIN_SHARE = 0.05  # of a column's values holding two tokens or more, for inference to propose it
_GROUPED_NUMBER = r"-?\d{1,3}(,\d{3})+(\.\d+)?"  # 1,299.00: one number with its thousands grouped
# 12,99 or 15: decimals all of one length (ids "3,17", "5,9" have any number of digits, and lists of 3)
_DECIMAL_COMMA = r"-?\d+(?:,(?P<decimals>\d+))?"


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
        # Grouped thousands (1,299) and decimal commas beside whole numbers ("12,99", "15": a quoted price in a
        # comma file) are numbers, not lists.
        decimals = stripped.str.extract(_DECIMAL_COMMA)["decimals"].dropna().str.len()
        prices = stripped.str.fullmatch(_DECIMAL_COMMA).mean() >= 0.9 and decimals.nunique() == 1
        if stripped.str.fullmatch(_GROUPED_NUMBER).mean() >= 0.5 or prices:
            return None
    cut_list = sep in ("|", LIST_TEXT) and per_row[0] >= 3 and _recurring(rows, tokens) and not _decimals(tokens)
    if (per_row == per_row[0]).all() and not cut_list:
        # The same number of parts in every value: fields of one value (a decimal comma 3,5, a point "2.35,48.85",
        # "Lyon, France", a path "Electronics|Phones"), not a list, whose length varies; but a list cut to its
        # first N ("Action|Comedy|Drama", a history's last 5 "[6, 2, 14, 2, 12]") has N >= 3 tokens everywhere,
        # each token at any place; a pair "1080|720" and a vector of decimals "[0.1, -0.3, 0.7]" keep their order.
        return None
    return sep


def _decimals(tokens: pd.Series) -> bool:
    """Whether most tokens are numbers with a fractional part (an embedding or a point, not ids)."""
    return bool(tokens.astype(str).str.fullmatch(r"-?\d*\.\d+(e-?\d+)?").mean() >= 0.5)


def _recurring(rows: np.ndarray, tokens: pd.Series) -> bool:
    """Whether most distinct tokens appear at more than one place in the values (a list's tokens, where one value's
    fields each have their own)."""
    place = pd.Series(np.arange(len(rows)) - np.searchsorted(rows, rows), index=tokens.index)
    places = pd.DataFrame({"token": tokens.to_numpy(), "place": place.to_numpy()}).groupby("token")["place"].nunique()
    return bool((places > 1).mean() >= 0.5)


def distinct_tokens(series: pd.Series, rows: int = 20_000) -> int:
    """The number of distinct tokens in a column's first `rows` values (an estimate of its inputs before fitting)."""
    values = series.iloc[:rows]
    return int(split_tokens(values, token_separator(values))[1].nunique())


def lists_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its columns of Python lists (a frame built in Python, pd.read_parquet's arrays) as JSON text,
    as mtlrec.io reads lists from files: a multi-valued feature, where lists could not be counted or hashed (a bare
    "unhashable type: 'list'"). Columns of pandas' pyarrow backend (pd.read_parquet(..., dtype_backend="pyarrow"))
    are read as those columns in a Parquet file are (mtlrec.io.arrow_columns: numpy's operations refused them,
    "mod not implemented"). The frame itself when it has neither."""
    arrow = [c for c, t in frame.dtypes.items() if isinstance(t, pd.ArrowDtype)]
    if arrow:
        from mtlrec.io import arrow_columns  # (mtlrec.io reads lists with this module)

        frame = arrow_columns(frame, arrow)
    columns = [c for c in frame.columns if _holds_lists(frame[c])]
    if not columns:
        return frame
    frame = frame if arrow else frame.copy()
    for c in columns:
        frame[c] = list_text(frame[c])
    return frame


def list_text(series: pd.Series) -> pd.Series:
    """A column of Python lists as JSON text (see lists_as_text); the column itself when it holds none."""
    if not _holds_lists(series):
        return series
    return pd.Series([_as_list_text(value) for value in series], index=series.index, dtype=object)


def _as_list_text(value) -> str | None:
    """One value as JSON list text: a list's items, a present scalar as a list of one (a column mixing the two)."""
    if isinstance(value, list | tuple | np.ndarray):
        items = [key for item in value if item is not None and (key := _item_key(item))]
    elif value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    else:
        items = [key] if (key := _item_key(value)) else []
    return json.dumps(items, ensure_ascii=False) if items else None


def _holds_lists(series: pd.Series) -> bool:
    """Whether a column holds Python lists: any of its first 1,000 present values (a column may mix lists with
    text; the first value alone missed them, and the lists after it raised 'unhashable')."""
    if series.dtype != object:
        return False
    head = series.dropna().iloc[:1000]
    return any(isinstance(value, list | tuple | np.ndarray) for value in head)


def canonical(series: pd.Series, sep: str) -> pd.Series:
    """A multi-valued column with each value's tokens in sorted order, joined as they were split (a missing value
    or one without tokens stays missing): an item's rows that list its genres in other orders agree then (Recommend
    told the item's columns from the user's by their agreement, and took a shuffled genres column for the user's)."""
    codes, distinct = pd.factorize(series)
    rows, tokens = split_tokens(pd.Series(distinct, dtype=object), sep)
    ordered = pd.Series(tokens.to_numpy(), index=rows).groupby(level=0).agg(sorted)
    joiner = (lambda t: json.dumps(t, ensure_ascii=False)) if sep == LIST_TEXT else sep.join
    text = np.full(len(distinct), None, dtype=object)
    text[ordered.index.to_numpy()] = [joiner(t) for t in ordered]
    out = np.full(len(series), None, dtype=object)
    present = codes >= 0
    out[present] = text[codes[present]]
    return pd.Series(out, index=series.index, dtype=object)
