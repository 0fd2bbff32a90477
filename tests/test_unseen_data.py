"""Files laid out as real public datasets (MovieLens, KuaiRand, KuaiRec, Ali-CCP) and as other people export them
(Excel in Europe, pandas' to_csv with its index): inference proposes what a person would, loading reads what the
file means, and a mistake on the command line is answered with the column that was meant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import open_app

from mtlrec.config import DataConfig, ExperimentConfig, TaskSpec
from mtlrec.errors import MtlrecError
from mtlrec.io import read_table
from mtlrec.schema import validate

ROWS = 300


@pytest.fixture
def log() -> pd.DataFrame:
    """A small interaction log with string ids, a category, a price and a click."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in rng.integers(0, 40, ROWS)],
            "item_id": [f"i{i}" for i in rng.integers(0, 60, ROWS)],
            "device": rng.choice(["ios", "android", "web"], ROWS),
            "price": np.round(rng.random(ROWS) * 3000, 2),
            "click": rng.integers(0, 2, ROWS),
        }
    )


def kuairand(rows: int = ROWS) -> pd.DataFrame:
    """KuaiRand's layout: a YYYYMMDD day, the time in epoch milliseconds, feedback flags and times in ms."""
    rng = np.random.default_rng(1)
    time_ms = 1_649_376_000_000 + np.sort(rng.integers(0, 10**9, rows))
    return pd.DataFrame(
        {
            "user_id": rng.integers(0, 30, rows) * 1_000_003,
            "video_id": rng.integers(0, 50, rows) * 7919 + 10**9,
            "date": pd.to_datetime(time_ms, unit="ms").strftime("%Y%m%d").astype(int),
            "time_ms": time_ms,
            "is_click": rng.integers(0, 2, rows),
            "is_forward": (rng.random(rows) < 0.1).astype(int),
            "is_hate": (rng.random(rows) < 0.1).astype(int),
            "long_view": rng.integers(0, 2, rows),
            "play_time_ms": rng.exponential(20_000, rows).astype(int),
            "duration_ms": rng.integers(5_000, 60_000, rows),
            "tab": rng.integers(0, 15, rows),
        }
    )


def test_movielens_double_colon_file_is_read_with_its_four_columns():
    text = "user_id::item_id::rating::timestamp\n" + "".join(
        f"{u}::{i}::{r}::{978300760 + u}\n" for u, i, r in zip(range(30), range(30, 60), [1, 3, 5] * 10, strict=True)
    )

    table = read_table(text.encode(), "ratings.dat")

    assert list(table.frame.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert table.frame["rating"].tolist()[:3] == [1, 3, 5]
    assert "delimiter detected: '::'" in table.notes


def test_movielens_double_colon_file_without_a_header_asks_for_one():
    with pytest.raises(MtlrecError) as caught:
        read_table(b"1::1193::5::978300760\n1::661::3::978302109\n2::1357::5::978298709\n", "ratings.dat")

    assert caught.value.message == (
        "ratings.dat: the first line holds numbers (1, 1193, 5, 978300760), not column names: add a header line "
        "naming the columns"
    )


def test_european_numbers_with_thousands_dots_and_a_decimal_comma_are_numbers():
    text = "user_id;price;click\nu1;1.234,5;1\nu2;12,25;0\nu3;2.000.000,0;1\nu4;7;0\n"

    table = read_table(text.encode(), "excel.csv")

    assert table.frame["price"].tolist() == [1234.5, 12.25, 2_000_000.0, 7.0]
    assert "decimal commas read as numbers in 'price'" in table.notes


def test_placeholders_for_no_value_in_a_numeric_column_become_missing_values():
    text = "user_id,device,price,click\nu1,-,3.5,1\nu2,ios,-,0\nu3,web,?,1\nu4,-,12,0\n"

    table = read_table(text.encode(), "export.csv")

    assert table.frame["price"].tolist()[::3] == [3.5, 12.0] and table.frame["price"].isna().sum() == 2
    assert table.frame["device"].tolist() == ["-", "ios", "web", "-"]  # a text column keeps its '-'
    assert "column 'price': 2 values '-'/'?' read as missing (the rest are numbers)" in table.notes


def test_a_question_mark_in_a_label_is_reported_as_a_missing_label(log):
    text = log.assign(click=log["click"].astype(str).where(log.index != 4, "?")).to_csv(index=False)
    frame = read_table(text.encode(), "log.csv").frame
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", item_col="item_id", categorical=["device"]), tasks=[TaskSpec("click")]
    )

    with pytest.raises(MtlrecError) as caught:
        validate(config, frame)

    assert caught.value.problems == [
        "column 'click' (task) has missing values in 1 row (row 5, e.g. nan): fill or drop those rows"
    ]


def test_data_page_reads_a_double_colon_upload(home):
    text = "user_id::item_id::device::click\n" + "".join(f"u{i % 7}::i{i % 11}::d{i % 3}::{i % 2}\n" for i in range(60))
    at = open_app("pages/data.py")

    at.file_uploader(key="data_upload").set_value(("ratings.dat", text.encode(), "text/plain")).run()

    assert not at.exception and not at.error
    assert "Loader: delimiter detected: '::'" in [info.value for info in at.info]
    assert list(at.data_editor(key="schema_editor").value["column"]) == ["device", "click"]
