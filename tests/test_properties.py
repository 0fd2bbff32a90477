"""Properties of the input path over generated tables and bytes (hypothesis).

Whatever a file holds, reading it, inferring a schema, validating and encoding either work or raise MtlrecError,
never another exception; and a valid table written as CSV reads back with the same values.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mtlrec.config import ExperimentConfig
from mtlrec.data import prepare
from mtlrec.errors import MtlrecError
from mtlrec.io import read_table
from mtlrec.schema import binary_coding, infer_schema, validate

# derandomize: CI runs the same examples every time (a random draw found a new case in one CI run of many, and a
# suite must pass on a clean clone); widen or reseed them on purpose (HYPOTHESIS_SEED is not read with it).
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

# Names people give columns, and the odd ones: empty, spaces, numbers, quotes, delimiters, unicode, label-like.
NAMES = st.one_of(
    st.sampled_from(["user_id", "item_id", "timestamp", "click", "like", "watch_time", "label", "is_click", "price"]),
    st.text(min_size=0, max_size=8),
    st.sampled_from(["", " ", "1", "0.5", '"', "a,b", "a;b", "\t", "é", "日本", "NaN", "None", "True"]),
)
CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 2, "0", "1", "yes", "no", "True", "n/a", "", " ", "inf", "-inf", "1,5", "2024-05-01"]),
    st.text(max_size=12),
)


@st.composite
def tables(draw, clean: bool = False) -> pd.DataFrame:
    """A small table of messy columns (any value in any cell) and nearly clean ones (ids, 0/1-ish labels, numbers
    with a few gaps), with names that are sometimes odd or repeated. `clean`: user and item ids and a 0/1 click label
    that inference recognises come first, so that the table reaches encoding."""
    n_columns = draw(st.integers(0 if clean else 1, 6))
    n_rows = draw(st.integers(20 if clean else 0, 40))
    unique = clean or draw(st.booleans())
    names = draw(st.lists(NAMES, min_size=n_columns, max_size=n_columns, unique=unique))
    kinds = [draw(st.sampled_from(["any", "binary", "number", "id"])) for _ in names]
    if clean:
        names = ["user_id", "item_id", "click"] + [f"{n}_{j}" for j, n in enumerate(names)]
        kinds = ["id", "id", "clean", *kinds]
    columns = {}
    for j, kind in enumerate(kinds):
        if kind == "any":
            cells = CELLS
        elif kind == "binary":
            spelling = draw(st.sampled_from([(0, 1), ("yes", "no"), (-1, 1), (True, False), (1, 2), ("a", "b")]))
            cells = st.sampled_from([*spelling] * 30 + [None])
        elif kind == "clean":
            cells = st.sampled_from([0, 1])
        elif kind == "number":
            cells = st.floats(-1e6, 1e6) | st.sampled_from([None, math.inf])
        else:
            cells = st.integers(0, 5).map(lambda i: f"u{i}")
        columns[j] = pd.Series(draw(st.lists(cells, min_size=n_rows, max_size=n_rows)), dtype=object)
    frame = pd.DataFrame(columns, index=range(n_rows))
    frame.columns = names
    return frame


def encode(frame: pd.DataFrame, delimiter: str, encoding: str) -> bytes:
    text = frame.to_csv(index=False, sep=delimiter)
    return text.encode(encoding, errors="replace")


def read_infer_validate_prepare(data: bytes, name: str) -> None:
    """The whole input path, as the app and the CLI run it; MtlrecError is the only way to refuse."""
    try:
        table = read_table(data, name)
        proposal = infer_schema(table.frame)
        config = ExperimentConfig(data=proposal.data, tasks=proposal.tasks)
        validate(config, table.frame)
        prepare(config, table.frame)
    except MtlrecError as exc:
        assert exc.message.strip()
        assert len(exc.message) < 5000  # messages show examples, never whole columns or files


@SETTINGS
@given(
    frame=tables(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_any_table_as_csv_loads_or_raises_mtlrec_error(frame: pd.DataFrame, delimiter: str, encoding: str):
    read_infer_validate_prepare(encode(frame, delimiter, encoding), "generated.csv")


@settings(SETTINGS, max_examples=50)  # most of these reach encoding: slower per example
@given(frame=tables(clean=True), delimiter=st.sampled_from([",", ";", "\t"]))
def test_a_recognisable_table_with_messy_columns_encodes_or_raises_mtlrec_error(frame: pd.DataFrame, delimiter: str):
    read_infer_validate_prepare(encode(frame, delimiter, "utf-8"), "generated.csv")


@SETTINGS
@given(frame=tables())
def test_any_table_as_parquet_loads_or_raises_mtlrec_error(frame: pd.DataFrame):
    frame.columns = [str(c) for c in frame.columns]
    buffer = io.BytesIO()
    try:
        frame.astype(str).where(frame.notna(), None).to_parquet(buffer)
    except (ValueError, TypeError):  # duplicate names: pandas refuses to write them
        return
    read_infer_validate_prepare(buffer.getvalue(), "generated.parquet")


MAGIC = st.sampled_from([b"", b"PAR1", b"\x1f\x8b", b"PK\x03\x04", b"\x80\x04", b"\xff\xfe", b"\xef\xbb\xbf", b"<html"])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(head=MAGIC, body=st.binary(max_size=400), text=st.text(max_size=200))
def test_any_bytes_load_or_raise_mtlrec_error(head: bytes, body: bytes, text: str):
    for data in (head + body, head + text.encode("utf-8"), text.encode("utf-8") + body):
        read_infer_validate_prepare(data, "random.csv")


# Strings that survive a CSV round trip as strings: letters (never a number, a boolean or a missing-value word).
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", min_size=1, max_size=10).map(lambda s: "x" + s)


@st.composite
def valid_tables(draw) -> pd.DataFrame:
    n_rows = draw(st.integers(1, 30))
    n_columns = draw(st.integers(2, 6))
    names = draw(st.lists(WORDS, min_size=n_columns, max_size=n_columns, unique=True))
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(["int", "float", "text"]))
        if kind == "int":
            values = draw(st.lists(st.integers(-(2**53), 2**53), min_size=n_rows, max_size=n_rows))
        elif kind == "float":
            values = draw(st.lists(st.floats(-1e12, 1e12, allow_nan=False), min_size=n_rows, max_size=n_rows))
        else:
            values = draw(st.lists(WORDS, min_size=n_rows, max_size=n_rows))
        columns[name] = values
    return pd.DataFrame(columns)


@SETTINGS
@given(frame=valid_tables(), delimiter=st.sampled_from([",", ";", "\t", "|"]))
def test_a_valid_table_reads_back_with_the_same_values(frame: pd.DataFrame, delimiter: str):
    # A row that repeats the header line is read as a second header (files joined with cat), as documented.
    header = delimiter.join(map(str, frame.columns))
    assume(all(delimiter.join(map(str, row)) != header for row in frame.itertuples(index=False)))
    loaded = read_table(frame.to_csv(index=False, sep=delimiter).encode(), "roundtrip.csv").frame

    assert list(loaded.columns) == list(frame.columns)
    for column in frame.columns:
        expected, got = frame[column], loaded[column]
        if pd.api.types.is_numeric_dtype(expected):
            assert pd.api.types.is_numeric_dtype(got), column
            assert np.allclose(got.to_numpy(float), expected.to_numpy(float), rtol=1e-12, atol=0), column
        else:
            assert got.tolist() == expected.tolist(), column


SPELLINGS = [(0, 1), (0.0, 1.0), (-1, 1), ("no", "yes"), ("N", "Y"), ("false", "true"), (False, True), ("0", "1")]


@SETTINGS
@given(pair=st.sampled_from(SPELLINGS), picks=st.lists(st.booleans(), min_size=1, max_size=40))
def test_accepted_binary_spellings_map_negative_to_0_and_positive_to_1(pair: tuple, picks: list[bool]):
    series = pd.Series([pair[int(p)] for p in picks])
    mapping, _ = binary_coding(series)
    assert [mapping[v] for v in series] == [float(p) for p in picks]


@pytest.mark.parametrize("values", [[1, 2], ["a", "b"], [0, 1, 2], [0, 0.5, 1], ["yes", "1", "no"], [math.inf, 0]])
def test_other_label_values_are_not_a_binary_coding(values: list):
    assert binary_coding(pd.Series(values)) is None
