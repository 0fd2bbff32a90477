"""Files laid out as real public datasets (MovieLens, KuaiRand, KuaiRec, Ali-CCP) and as other people export them
(Excel in Europe, pandas' to_csv with its index): inference proposes what a person would, loading reads what the
file means, and a mistake on the command line is answered with the column that was meant."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from conftest import open_app, schema_editor

from mtlrec.cli import main
from mtlrec.config import DataConfig, ExperimentConfig, SplitConfig, TaskSpec
from mtlrec.data import prepare
from mtlrec.errors import MtlrecError
from mtlrec.io import read_table
from mtlrec.schema import infer_schema, parse_time, validate

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


def test_epoch_milliseconds_named_time_ms_are_the_timestamp_and_the_day_column_is_ignored():
    proposal = infer_schema(kuairand())

    assert proposal.data.time_col == "time_ms"
    assert proposal.ignored["date"] == "a date/time that is not the timestamp column"
    assert proposal.data.numeric == ["duration_ms"]  # neither time is standardised as a feature


def test_a_duration_in_milliseconds_is_not_taken_for_a_time():
    proposal = infer_schema(kuairand().drop(columns=["date", "time_ms"]))

    assert proposal.data.time_col is None
    assert ("play_time_ms", "regression") in [(t.name, t.type) for t in proposal.tasks]


def test_kuairand_feedback_flags_are_tasks_not_features():
    names = [t.name for t in infer_schema(kuairand()).tasks]

    assert names == ["is_click", "is_forward", "is_hate", "long_view", "play_time_ms"]


def test_a_time_split_on_epoch_milliseconds_holds_out_the_latest_rows():
    frame = kuairand()
    proposal = infer_schema(frame)
    config = ExperimentConfig(data=proposal.data, tasks=proposal.tasks, split=SplitConfig(method="time"))

    prepared = prepare(config, frame)

    assert prepared.test_frame["time_ms"].min() >= frame["time_ms"].iloc[prepared.train_idx].max()


def test_epoch_times_win_over_a_column_merely_named_time(log):
    rng = np.random.default_rng(5)
    log["time"] = np.round(rng.exponential(30.0, ROWS), 3)  # seconds spent: many distinct values, not a time
    log["timestamp"] = 1_700_000_000 + np.arange(ROWS) * 60

    proposal = infer_schema(log)

    assert proposal.data.time_col == "timestamp"
    assert proposal.data.numeric == ["price", "time"]


def test_dates_written_as_text_are_the_timestamp_whatever_the_column_is_called(log):
    log["created"] = pd.date_range("2024-01-01", periods=ROWS, freq="h").strftime("%Y-%m-%d %H:%M:%S")

    proposal = infer_schema(log)

    assert proposal.data.time_col == "created"
    assert "created" not in proposal.ignored


def test_kuairec_keeps_the_finest_time_and_watch_ratio_is_a_regression_task(log):
    times = pd.date_range("2020-07-05", periods=ROWS, freq="37min")
    log["time"] = times.strftime("%Y-%m-%d %H:%M:%S.%f")
    log["date"] = times.strftime("%Y%m%d").astype(float)
    log["watch_ratio"] = np.random.default_rng(2).random(ROWS) * 2

    proposal = infer_schema(log.drop(columns="click"))

    assert proposal.data.time_col == "time"
    assert "date" in proposal.ignored
    assert proposal.tasks == [TaskSpec("watch_ratio", "regression")]


def test_day_first_dates_are_read_day_first_in_every_row():
    seconds = parse_time(pd.Series(["03/04/2021 10:00", "13/04/2021 10:00", "01.02.2021"]))

    assert pd.to_datetime(seconds, unit="s").dt.strftime("%Y-%m-%d").tolist() == [
        "2021-04-03",  # parsed value by value, 03/04 was 4 March next to 13 April
        "2021-04-13",
        "2021-02-01",
    ]


def test_iso_dates_are_not_taken_for_day_first_ones():
    seconds = parse_time(pd.Series(["2021-04-03", "2021-04-13", None]))

    assert pd.to_datetime(seconds, unit="s").dt.strftime("%Y-%m-%d").tolist()[:2] == ["2021-04-03", "2021-04-13"]


@pytest.mark.parametrize("name", ["Unnamed: 0", "id", "sample_id"])
def test_a_row_index_is_ignored_not_standardised_as_a_numeric_feature(log, name):
    log.insert(0, name, np.arange(ROWS))

    proposal = infer_schema(log)

    assert proposal.ignored[name] == "300 distinct integers in 300 rows: looks like a row id or index"
    assert proposal.data.numeric == ["price"]


def test_an_integer_id_feature_is_categorical_whatever_its_number_of_values(log):
    log["author_id"] = np.random.default_rng(3).integers(0, 120, ROWS)

    proposal = infer_schema(log)

    assert "author_id" in proposal.data.categorical and "author_id" not in proposal.data.numeric


def test_an_id_column_distinct_in_most_but_not_nearly_all_rows_is_a_feature_not_a_row_id(log):
    rng = np.random.default_rng(5)
    log["seller_id"] = rng.integers(0, 10**6, ROWS) // 2 * 2  # about 300 sellers in 300 rows, a few repeated
    log.loc[::4, "seller_id"] = log.loc[1::4, "seller_id"].to_numpy()[: len(log.loc[::4])]  # 3 of 4 rows distinct
    log["request_id"] = np.arange(ROWS) * 7 + 10**9  # distinct in every row, not 0..n-1

    proposal = infer_schema(log)

    assert "seller_id" in proposal.data.categorical
    assert proposal.ignored["request_id"] == "300 distinct integers in 300 rows: looks like a row id or index"


def test_statistics_about_past_clicks_are_features_not_tasks(log):
    rng = np.random.default_rng(4)
    log["click_cnt_7d"] = rng.integers(0, 40, ROWS)
    log["user_ctr"] = rng.random(ROWS)
    log["like_count"] = rng.integers(0, 1000, ROWS)
    log["clicked_before"] = rng.integers(0, 2, ROWS)

    proposal = infer_schema(log)

    assert [t.name for t in proposal.tasks] == ["click"]
    assert proposal.data.numeric == ["price", "click_cnt_7d", "user_ctr", "like_count"]
    assert "clicked_before" in proposal.data.categorical


def test_movielens_double_colon_file_is_read_with_its_four_columns():
    text = "user_id::item_id::rating::timestamp\n" + "".join(
        f"{u}::{i}::{r}::{978300760 + u}\n" for u, i, r in zip(range(30), range(30, 60), [1, 3, 5] * 10, strict=True)
    )

    table = read_table(text.encode(), "ratings.dat")

    assert list(table.frame.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert table.frame["rating"].tolist()[:3] == [1, 3, 5]
    assert "delimiter detected: '::'" in table.notes


def test_movielens_double_colon_file_without_a_header_asks_for_names():
    data = b"1::1193::5::978300760\n1::661::3::978302109\n2::1357::5::978298709\n"
    with pytest.raises(MtlrecError) as caught:
        read_table(data, "ratings.dat")

    assert caught.value.message == (
        "ratings.dat: the first line looks like data, not column names (1, 1193, 5, 978300760): add a header line "
        "naming the columns, or name them where the file is read (on Data: Name the columns; CLI: --names "
        "user_id,item_id,…)"
    )
    assert caught.value.fields == 4  # the Data page's form offers four names
    named = read_table(data, "ratings.dat", names=["user_id", "item_id", "rating", "timestamp"])
    assert named.frame["item_id"].tolist() == [1193, 661, 1357]


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


def test_decimal_commas_and_placeholders_in_one_column_are_numbers_and_missing_values():
    # An Excel export from a European locale: semicolons, decimal commas and '-' for "no price" in the same column.
    text = "user_id;price;click\nu1;1.234,5;1\nu2;-;0\nu3;12,25;1\nu4;7;0\n"

    table = read_table(text.encode(), "excel.csv")

    assert table.frame["price"].tolist()[::2] == [1234.5, 12.25] and table.frame["price"].tolist()[3] == 7.0
    assert table.frame["price"].isna().tolist() == [False, True, False, False]
    assert "column 'price': 1 value '-' read as missing (the rest are numbers)" in table.notes
    comma = read_table(text.replace(";", ",").replace("1.234,5", "1234").replace("12,25", "12").encode(), "x.csv")
    assert comma.frame["price"].tolist()[::2] == [1234.0, 12.0]  # a comma file: commas stay delimiters


def test_prices_with_a_currency_sign_and_shares_with_a_percent_sign_are_numbers():
    text = 'user_id,price,share,city,click\nu1,"$1,234.50",45%,Paris,1\nu2,$12,12.5 %,Rome,0\nu3,-$3.25,-,Oslo,1\n'

    table = read_table(text.encode(), "shop.csv")

    assert table.frame["price"].tolist() == [1234.5, 12.0, -3.25]
    assert table.frame["share"].tolist()[:2] == [45.0, 12.5] and np.isnan(table.frame["share"].iloc[2])
    assert table.frame["city"].tolist() == ["Paris", "Rome", "Oslo"]  # text stays text
    assert "column 'price': read as numbers without the currency sign '$'" in table.notes
    assert "column 'share': read as numbers without the percent sign (1 placeholder such as '-' read as missing)" in (
        table.notes
    )
    euro = read_table("user_id;price;click\nu1;12,50 €;1\nu2;1.234,00 €;0\n".encode(), "eu.csv")
    assert euro.frame["price"].tolist() == [12.5, 1234.0]  # a semicolon file: the comma is the decimal mark
    mixed = read_table(b"user_id,code,click\nu1,$a,1\nu2,10%,0\nu3,$5,1\n", "codes.csv")
    assert mixed.frame["code"].tolist() == ["$a", "10%", "$5"]  # not all numbers, or two signs: left as text


def test_placeholders_keep_large_integer_ids_exact_and_codes_with_leading_zeros_as_text():
    text = "author_id,zip,price,click\n1234567890123456789,02134,1,1\n1234567890123456790,-,2,0\n-,00123,?,1\n"

    frame = read_table(text.encode(), "ids.csv").frame

    # As float64 the two authors would be one (2^53 < 1.2e18); as text the zip codes keep their zeros.
    assert frame["author_id"].tolist()[:2] == [1234567890123456789, 1234567890123456790]
    assert frame["author_id"].isna().tolist() == [False, False, True]
    assert frame["zip"].tolist() == ["02134", "-", "00123"]
    assert frame["price"].dtype == "float64"  # small numbers: floats, as before


def test_a_sign_on_only_some_values_or_dots_without_commas_are_not_misread():
    mixed = read_table(b"user_id,share,click\nu1,45%,1\nu2,0.5,0\n", "mixed.csv").frame
    assert mixed["share"].tolist() == ["45%", "0.5"]  # 45 beside 0.5 would mix two scales: left as text
    euro = read_table("user_id;price;click\nu1;0.125 €;1\nu2;1.500 €;0\n".encode(), "eu.csv").frame
    assert euro["price"].tolist() == [0.125, 1.5]  # no comma anywhere: the dot is the decimal mark, as without €


def test_a_column_that_looks_like_prices_at_first_but_not_later_stays_text():
    # The readers look at a column's first rows before reading all of it; the rule must still hold for every row.
    rows = [f"u{i},${i},{i % 2}" for i in range(1500)] + ["u9,ask us,1"]
    table = read_table(("user_id,price,click\n" + "\n".join(rows) + "\n").encode(), "late.csv")
    assert table.frame["price"].iloc[-1] == "ask us" and table.frame["price"].iloc[0] == "$0"
    assert not [n for n in table.notes if "price" in n]


def test_a_question_mark_in_a_label_is_reported_as_a_missing_label(log):
    text = log.assign(click=log["click"].astype(str).where(log.index != 4, "?")).to_csv(index=False)
    frame = read_table(text.encode(), "log.csv").frame
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", item_col="item_id", categorical=["device"]), tasks=[TaskSpec("click")]
    )

    with pytest.raises(MtlrecError) as caught:
        validate(config, frame)

    assert caught.value.problems == [
        "column 'click' (task) has missing values in 1 row (row 5, e.g. empty): drop or fill those rows (on Data: "
        "Fix the rows; CLI: `--drop 'click missing'`)"
    ]


def test_a_yes_no_label_padded_with_spaces_is_noted_without_the_spaces(log):
    log["click"] = np.where(log["click"] == 1, " yes", "no ")
    config = ExperimentConfig(data=DataConfig(categorical=["device"]), tasks=[TaskSpec("click")])

    assert validate(config, log) == ["column 'click': values no/yes read as 0/1"]


def test_cli_names_the_column_a_task_was_meant_to_be(log, tmp_path, capsys):
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)

    assert main(["train", str(path), "--tasks", "Click,purchase"]) == 2

    err = capsys.readouterr().err
    assert err == (
        "error: log.csv: --tasks names columns that are not in the data: 'Click' (did you mean 'click'?), "
        "'purchase'; the columns are: user_id, item_id, device, price, click\n"
    )


def test_data_page_reads_a_double_colon_upload(home):
    text = "user_id::item_id::device::click\n" + "".join(f"u{i % 7}::i{i % 11}::d{i % 3}::{i % 2}\n" for i in range(60))
    at = open_app("pages/data.py")

    at.file_uploader(key="data_upload").set_value(("ratings.dat", text.encode(), "text/plain")).run()

    assert not at.exception and not at.error
    assert "Loader: delimiter detected: '::'" in [info.value for info in at.info]
    assert list(schema_editor(at).value["column"]) == ["device", "click"]


def test_parquet_saved_with_the_pyarrow_backend_is_read_as_plain_columns(log):
    log["price"] = log["price"].where(log.index % 10 != 3)  # a few missing prices
    frame = log.convert_dtypes(dtype_backend="pyarrow")
    buffer = io.BytesIO()
    frame.to_parquet(buffer)

    loaded = read_table(buffer.getvalue(), "arrow.parquet").frame
    proposal = infer_schema(loaded)  # raised NotImplementedError ("mod not implemented") on double[pyarrow]

    assert loaded["price"].dtype == np.float64 and loaded["price"].isna().sum() == 30
    assert proposal.data.numeric == ["price"] and [t.name for t in proposal.tasks] == ["click"]
    assert validate(ExperimentConfig(data=proposal.data, tasks=proposal.tasks), loaded) == []


def test_parquet_durations_are_seconds_that_inference_proposes(log):
    # polars' Duration and pandas' timedelta64 were ignored as "a date/time that is not the timestamp column", even a
    # label named watch_time.
    rng = np.random.default_rng(1)
    log["watch_time"] = pd.to_timedelta(rng.integers(0, 600_000, ROWS), unit="ms")
    log["session_length"] = pd.to_timedelta(rng.integers(0, 10**6, ROWS), unit="ms").where(log.index != 5)
    for frame in (log, log.convert_dtypes(dtype_backend="pyarrow")):
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        table = read_table(buffer.getvalue(), "durations.parquet")
        loaded = table.frame
        proposal = infer_schema(loaded)

        assert "duration column(s) 'watch_time', 'session_length' read as seconds" in table.notes
        assert loaded["watch_time"].tolist() == (log["watch_time"].dt.total_seconds()).tolist()
        assert loaded["session_length"].dtype == np.float64 and loaded["session_length"].isna().sum() == 1
        assert ("watch_time", "regression") in [(t.name, t.type) for t in proposal.tasks]
        assert "session_length" in proposal.data.numeric and not proposal.ignored


def test_ids_excel_saved_in_scientific_notation_are_named_in_a_note():
    # Excel shows 18-digit numbers as 7.00000E+17 and saves them so: 1,000 order ids became one value, ignored as
    # constant, and 200 users 199, without a word.
    rng = np.random.default_rng(5)
    users = rng.integers(10**17, 10**18, 50)

    def csv(written: str) -> bytes:
        rows = [
            f"{7 * 10**17 + i:{written}},{users[i % 50]:{written}},{rng.integers(1, 50)},{1.5e6 + i:.1E},{i % 2}"
            for i in range(ROWS)
        ]
        return ("order_id,user_id,item_id,views,click\n" + "\n".join(rows) + "\n").encode()

    table = read_table(csv(".5E"), "excel.csv")

    assert table.frame["order_id"].nunique() == 1  # read as written: the digits are gone from the file
    assert table.notes == [
        f"column '{column}': written in scientific notation by Excel, which rounded them to 6 digits (e.g. "
        f"'{example}'): distinct ids may have merged; format the column as text in Excel before saving"
        for column, example in (("order_id", "7.00000E+17"), ("user_id", f"{users[0]:.5E}"))
    ]  # not views (1.5E+06...): Excel writes numbers below 10^11 in full, so these were written so on purpose
    assert read_table(csv("d"), "plain.csv").notes == []  # the ids in full
    assert read_table(csv(".9E"), "precise.csv").notes == []  # ten digits: not Excel's rounding


def test_a_code_column_of_numbers_and_a_few_text_codes_is_categorical_and_validates():
    # Yoochoose's category is a number or "S" (a special offer) and Online Retail's InvoiceNo a number or "C536405"
    # (a cancellation): proposed as numbers, training refused them ("numeric feature but has text in 1,662 rows").
    rng = np.random.default_rng(6)
    n = 2000
    category = np.where(rng.random(n) < 0.03, "S", rng.integers(0, 300, n).astype(str))
    invoice = np.where(rng.random(n) < 0.03, "C", "") + (536365 + rng.integers(0, 600, n)).astype(str)
    rows = [f"{i % 400},{214_800_000 + i % 150},{category[i]},{invoice[i]},{i % 7 // 6}" for i in range(n)]
    text = "session_id,item_id,category,InvoiceNo,buy\n" + "\n".join(rows) + "\n"
    frame = read_table(text.encode(), "yoochoose.csv").frame

    proposal = infer_schema(frame)

    assert "category" in proposal.data.categorical and "category" not in proposal.data.numeric
    assert proposal.ignored["InvoiceNo"].startswith("looks like an invoice key (")  # a basket, as order_id is
    validate(ExperimentConfig(data=proposal.data, tasks=proposal.tasks), frame)
    # Unnamed, numbers with a few words stay numbers: validation names the rows holding text.
    frame["weight"] = np.where(np.arange(n) % 40 == 0, "heavy", rng.random(n).round(3).astype(str))
    proposal = infer_schema(frame)
    assert "weight" in proposal.data.numeric
    with pytest.raises(MtlrecError, match="column 'weight' is a numeric feature but has text in 50 rows"):
        validate(ExperimentConfig(data=proposal.data, tasks=proposal.tasks), frame)


def test_a_flag_written_as_1_or_empty_is_a_feature_not_a_constant(log):
    # H&M's customers.csv has FN and Active as 1.0 or empty (1 in 35% of the rows): both were ignored as "constant:
    # it carries no information", though present against missing is what they say.
    rng = np.random.default_rng(7)
    log["FN"] = np.where(rng.random(ROWS) < 0.35, 1.0, np.nan)
    log["club_member_status"] = np.where(rng.random(ROWS) < 0.9, "ACTIVE", None)
    log["country"] = "SE"  # one value in every row: constant

    proposal = infer_schema(log)

    assert {"FN", "club_member_status"} <= set(proposal.data.categorical)  # missing is a category of its own
    assert proposal.ignored == {"country": "constant: it carries no information"}
    # A label written so is a task, and validation says how to fill it.
    log["liked"] = np.where(np.arange(ROWS) % 3 == 0, 1.0, np.nan)
    proposal = infer_schema(log)
    assert [t.name for t in proposal.tasks] == ["click", "liked"]
    with pytest.raises(MtlrecError) as info:
        validate(ExperimentConfig(data=proposal.data, tasks=proposal.tasks), log)
    assert info.value.problems == [
        "column 'liked' (task) has missing values in 200 rows (rows 2, 3, 5, ..., e.g. empty): drop or fill those "
        "rows (every other row holds 1: if empty means 0, fill them with 0; on Data: Fix the rows; CLI: `--fill liked=0`)"
    ]
    log["liked"] = log["liked"] - 1  # 0 or empty: what empty means is not said
    with pytest.raises(MtlrecError) as info:
        validate(ExperimentConfig(data=proposal.data, tasks=proposal.tasks), log)
    assert info.value.problems[0].endswith(
        "e.g. empty): drop or fill those rows (on Data: Fix the rows; CLI: `--drop 'liked missing'`)"
    )


def douban(rows: int = 2000) -> pd.DataFrame:
    """Douban's DMSC layout: a 1-5 Star rating and Like, the votes a comment got (0 or 1 in most rows)."""
    rng = np.random.default_rng(8)
    return pd.DataFrame(
        {
            "Movie_Name_EN": rng.choice([f"Movie {i}" for i in range(40)], rows),
            "Username": [f"user{i}" for i in rng.integers(0, 300, rows)],
            "Date": pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), unit="D"),
            "Star": rng.integers(1, 6, rows),
            "Like": np.where(rng.random(rows) < 0.93, rng.integers(0, 2, rows), rng.zipf(1.6, rows) + 1),
        }
    )


def test_a_vote_count_named_like_is_a_regression_task_not_a_binary_one_with_odd_rows():
    # Douban's Like (0 or 1 in 93% of the rows, 529 distinct counts) was a binary task, and training said "values
    # that are not 0/1 are in 3,664 rows: fix or drop those rows".
    frame = douban()
    assert frame["Like"].nunique() > 20

    tasks = {t.name: t for t in infer_schema(frame).tasks}

    assert tasks["Like"] == TaskSpec("Like", "regression", log1p=True)  # counts: a long right tail
    # A few odd values beside 0/1 are still mistakes in a binary label, which validation names.
    frame["Like"] = np.where(np.arange(len(frame)) % 100 == 0, 2, frame["Like"].clip(0, 1))
    assert {t.name: t for t in infer_schema(frame).tasks}["Like"].type == "binary"


def diginetica(rows: int = ROWS) -> pd.DataFrame:
    """Diginetica's layout: sessions, a userId known in 12% of the rows only, items and a purchase flag."""
    rng = np.random.default_rng(9)
    return pd.DataFrame(
        {
            "sessionId": np.arange(rows) // 5,
            "userId": np.where(rng.random(rows) < 0.12, rng.integers(0, 40, rows), np.nan),
            "itemId": rng.integers(0, 60, rows),
            "eventdate": pd.Timestamp("2016-03-18") + pd.to_timedelta(rng.integers(0, 90, rows), unit="D"),
            "purchase": rng.integers(0, 2, rows),
        }
    )


def test_an_id_column_with_empty_rows_is_not_proposed_as_the_user_and_the_note_says_why(tmp_path, capsys):
    # Diginetica's userId (88% empty), Online Retail's CustomerID (25%) and Last.fm's track_id (12%) were proposed,
    # and training with the proposal refused them: "user column 'userId' has missing values in 52,820 rows".
    frame = diginetica()
    empty = int(frame["userId"].isna().sum())

    proposal = infer_schema(frame)

    assert (proposal.data.user_col, proposal.data.item_col) == (None, "itemId")
    assert proposal.notes == [
        f"column 'userId' is not proposed as the user column: it is empty in {empty:,} of {ROWS} rows "
        f"({empty / ROWS:.0%}), and GAUC, ranking metrics and recommendations group rows by user (as a plain "
        "categorical feature, empty is a category). To make it the user column, fill or drop those rows and name it "
        "(CLI: --user-col userId; on Data, choose it as the user column)"
    ]
    assert "userId" in proposal.data.categorical
    validate(ExperimentConfig(data=proposal.data, tasks=proposal.tasks), frame)  # trains as proposed
    # The next column named as the user is taken instead.
    frame["visitorid"] = np.arange(ROWS) % 30
    assert infer_schema(frame).data.user_col == "visitorid"
    # The CLI says it.
    diginetica().to_csv(tmp_path / "diginetica.csv", index=False)
    assert main(["infer", str(tmp_path / "diginetica.csv")]) == 0
    assert "note: column 'userId' is not proposed as the user column: it is empty in " in capsys.readouterr().out


def test_ids_named_as_in_netflix_jester_spotify_and_tmall_are_the_user_and_item():
    # Netflix Prize's Cust_Id, Jester's joke_id and Spotify's track_id_clean were features; Tmall's repeat-buyer pairs
    # (user_id, merchant_id, label: will the user buy from that merchant again) had no item, so no GAUC per user
    # over merchants nor recommendations of merchants.
    rng = np.random.default_rng(10)

    def ids(prefix: str, count: int) -> list[str]:
        return [f"{prefix}{i}" for i in rng.integers(0, count, ROWS)]

    netflix = pd.DataFrame({"Movie_Id": ids("", 50), "Cust_Id": ids("", 80), "Rating": rng.integers(1, 6, ROWS)})
    jester = pd.DataFrame({"user_id": ids("u", 40), "joke_id": ids("", 100), "rating": rng.normal(0, 5, ROWS)})
    spotify = pd.DataFrame({"session_id": ids("s", 60), "track_id_clean": ids("t_", 90),
                            "not_skipped": rng.integers(0, 2, ROWS)})  # fmt: skip
    tmall = pd.DataFrame({"user_id": ids("", 90), "merchant_id": ids("", 40), "label": rng.integers(0, 2, ROWS)})

    def roles(frame: pd.DataFrame) -> tuple:
        data = infer_schema(frame).data
        return data.user_col, data.item_col

    assert roles(netflix) == ("Cust_Id", "Movie_Id")
    assert roles(jester) == ("user_id", "joke_id")
    assert roles(spotify) == (None, "track_id_clean")
    assert roles(tmall) == ("user_id", "merchant_id")
    tmall["item_id"] = ids("i", 70)  # beside an item, the merchant is one of its features (Tmall's user log)
    assert roles(tmall) == ("user_id", "item_id")


def test_labels_named_as_in_alimama_talkingdata_and_douban_are_tasks():
    # IJCAI-18 Alimama's is_trade and TalkingData's is_attributed (0/1) were categorical features beside "no label
    # column was recognised"; Douban's Star (a 1-5 rating, as rating and stars are) a feature.
    frame = douban(ROWS)
    frame["is_trade"] = (np.arange(ROWS) % 9 == 0).astype(int)
    frame["is_attributed"] = (np.arange(ROWS) % 7 == 0).astype(int)
    frame["user_star_level"] = np.arange(ROWS) % 10  # "star" inside a name is no label

    tasks = {t.name: t.type for t in infer_schema(frame).tasks}

    assert tasks == {"Star": "regression", "Like": "regression", "is_trade": "binary", "is_attributed": "binary"}


def test_event_types_written_as_integer_codes_get_the_hint_to_split_them(tmp_path, capsys):
    # Tmall's user log has action_type 0-3 (click, cart, buy, favourite) and no label: the hint looked at text only.
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 40, ROWS),
            "item_id": rng.integers(0, 60, ROWS),
            "event_hour": rng.integers(0, 24, ROWS),  # an hour of an event, not a type of one
            "action_type": rng.choice([0, 0, 0, 1, 2, 3], ROWS),
        }
    )
    frame.to_csv(tmp_path / "user_log.csv", index=False)

    assert main(["train", str(tmp_path / "user_log.csv")]) == 2

    assert capsys.readouterr().err.strip() == (
        "error: no label columns were recognised in user_log.csv: name them with --tasks a,b,c; column 'action_type' "
        "holds event types as codes (0, 1, 2, 3): add a 0/1 column per type you want to predict (e.g. action_type_3 "
        "= 1 where action_type is 3, else 0: on Data: Fix the rows; CLI: `--label 'action_type_3=action_type == 3'`) "
        "and name those; a row per event makes them exclusive (no row is both a cart and a purchase): to predict several (an ESMM "
        "funnel), first group the rows to one per user (or session) and item, each 0/1 column the max over its rows"
    )
    args = ["--size", "tiny", "--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]
    assert main(["train", str(tmp_path / "user_log.csv"), "--label", "action_type_3=action_type == 3", *args]) == 0
    frame.drop(columns="action_type").to_csv(tmp_path / "hours.csv", index=False)
    assert main(["train", str(tmp_path / "hours.csv")]) == 2  # no hint for the hour
    err = capsys.readouterr().err.strip()  # no hint for the hour: the log holds positives only
    assert "column 'hour" not in err
    assert err.endswith(
        "(on Data: Fix the rows, Sample negatives; CLI: --negatives 4), or add the items shown but not chosen"
    )


def test_a_seller_is_no_item_beside_an_item_id_passed_over_for_empty_rows():
    # item_id empty in 5% of the rows was passed over, and the seller beside it became the item: recommendations of
    # sellers, GAUC over a user's sellers. The seller is the item only where the data has no item column at all.
    rng = np.random.default_rng(12)
    frame = pd.DataFrame({"user_id": rng.integers(0, 40, ROWS), "item_id": rng.integers(0, 80, ROWS).astype(float),
                          "seller_id": rng.integers(0, 30, ROWS), "click": rng.integers(0, 2, ROWS)})  # fmt: skip
    frame.loc[::20, "item_id"] = np.nan

    proposal = infer_schema(frame)

    assert (proposal.data.user_col, proposal.data.item_col) == ("user_id", None)
    assert {"item_id", "seller_id"} <= set(proposal.data.categorical)
    assert [note.split(":")[0] for note in proposal.notes] == ["column 'item_id' is not proposed as the item column"]
    assert infer_schema(frame.drop(columns="item_id")).data.item_col == "seller_id"  # Tmall's user-seller pairs


def test_a_cleaned_text_column_is_no_item_and_an_id_written_with_a_qualifier_is():
    # content_clean (a cleaned text) lost its 'clean' and read as 'content', an item name: it was proposed as the item
    # instead of news_id. A qualifier is stripped only after an id word (track_id_clean) or when it is one (user_idx).
    rng = np.random.default_rng(13)
    texts = [f"headline number {i} cleaned" for i in range(60)]
    frame = pd.DataFrame({"user_id": rng.integers(0, 40, ROWS), "news_id": rng.integers(0, 60, ROWS),
                          "click": rng.integers(0, 2, ROWS)})  # fmt: skip
    frame["content_clean"] = [texts[i] for i in frame["news_id"]]

    assert infer_schema(frame).data.item_col == "news_id"
    renamed = frame.drop(columns="content_clean").rename(columns={"news_id": "track_id_clean", "user_id": "user_idx"})
    data = infer_schema(renamed).data
    assert (data.user_col, data.item_col) == ("user_idx", "track_id_clean")


def test_a_click_with_a_few_bad_values_stays_binary_and_a_count_needs_counts_in_enough_rows():
    # A 0/1 click with -1 and 2..5 in 1% of its rows was silently made a regression (more than 3 distinct numbers
    # besides 0/1 read as a count); as binary, validation names the rows.
    rng = np.random.default_rng(14)
    n = 3000
    click = rng.integers(0, 2, n)
    click[::100] = rng.choice([-1, 2, 3, 4, 5], len(click[::100]))
    frame = pd.DataFrame({"user_id": rng.integers(0, 90, n), "item_id": rng.integers(0, 90, n), "click": click})

    assert [(t.name, t.type) for t in infer_schema(frame).tasks] == [("click", "binary")]
    config = ExperimentConfig(data=DataConfig(user_col="user_id", item_col="item_id"), tasks=[TaskSpec("click")])
    with pytest.raises(MtlrecError, match="values that are not 0/1 are in 2[0-9] rows"):
        validate(config, frame)
    frame["click"] = np.where(click == -1, 0, click)  # counts (>= 0) but in 1% of the rows: still mistakes
    assert infer_schema(frame).tasks[0].type == "binary"
    frame.loc[::10, "click"] = rng.integers(2, 9, len(frame.loc[::10]))  # counts in 10% of the rows: a count
    assert infer_schema(frame).tasks[0].type == "regression"


def test_an_action_column_of_0_1_gets_the_0_1_hint_not_the_event_codes_one(tmp_path, capsys):
    # With no label found, an 'action' column of 0/1 got "add a 0/1 column per type (action_1 = 1 where action is
    # 1)": a 0/1 column from a 0/1 column. It is named among the columns that read as 0/1, as before.
    rng = np.random.default_rng(15)
    frame = pd.DataFrame({"user_id": rng.integers(0, 40, ROWS), "item_id": rng.integers(0, 60, ROWS),
                          "action": rng.integers(0, 2, ROWS)})  # fmt: skip
    frame.to_csv(tmp_path / "actions.csv", index=False)

    assert main(["train", str(tmp_path / "actions.csv")]) == 2

    error = capsys.readouterr().err
    assert "columns holding only two values that read as 0/1, which may be labels: action" in error
    assert "event types" not in error


def test_no_note_advises_naming_a_user_column_the_flags_named(tmp_path, capsys):
    # train --user-col userId printed "column 'userId' is not proposed as the user column... name it (--user-col
    # userId)": advice already followed. Validation still says what its empty rows need.
    diginetica().to_csv(tmp_path / "diginetica.csv", index=False)

    assert main(["train", str(tmp_path / "diginetica.csv"), "--user-col", "userId", "--size", "tiny"]) == 2

    out, err = capsys.readouterr()
    assert "is not proposed as the user column" not in out
    assert "user column 'userId' has missing values" in err
