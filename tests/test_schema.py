"""Specifications of mtlrec.schema: schema inference, binary label coding, validation listing every problem."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mtlrec.config import DataConfig, ExperimentConfig, SplitConfig, TaskSpec
from mtlrec.data import ranking_note, split_rows
from mtlrec.errors import MtlrecError
from mtlrec.schema import binary_coding, binary_labels, epoch_units, infer_schema, parse_time, time_notes, validate


@pytest.fixture
def proposal(interactions):
    rng = np.random.default_rng(5)
    frame = interactions.assign(
        age_bucket=rng.integers(0, 6, len(interactions)),  # few distinct integers: a category
        score=rng.normal(size=len(interactions)),
        row_uuid=[f"r{i:05d}" for i in range(len(interactions))],
        country="NL",
    )
    return infer_schema(frame)


def test_infer_schema_finds_user_item_and_time_columns_by_name(proposal):
    assert (proposal.data.user_col, proposal.data.item_col, proposal.data.time_col) == (
        "user_id",
        "item_id",
        "timestamp",
    )


def test_infer_schema_recognises_other_spellings_of_id_columns(interactions):
    frame = interactions.rename(columns={"user_id": "userId", "item_id": "movieId", "timestamp": "ts"})

    data = infer_schema(frame).data

    assert (data.user_col, data.item_col, data.time_col) == ("userId", "movieId", "ts")


@pytest.mark.parametrize(
    ("user", "item"),
    [("user", "adgroup_id"), ("userid", "feedid"), ("user_id", "news_id"), ("user_id", "poi_id"), ("User-ID", "ISBN")],
)
def test_infer_schema_recognises_the_item_columns_of_public_logs(interactions, user, item):
    # Taobao display ads, WeChat Channels, MIND and Meituan-like logs name their items so; Book-Crossing's items are
    # ISBNs (its ISBN was a feature: recommendations off)
    frame = interactions.rename(columns={"user_id": user, "item_id": item})

    data = infer_schema(frame).data

    assert (data.user_col, data.item_col) == (user, item)


def test_infer_schema_takes_a_datetime_column_as_time_whatever_its_name(interactions):
    frame = interactions.rename(columns={"timestamp": "when"})
    frame["when"] = pd.to_datetime(frame["when"], unit="s")

    assert infer_schema(frame).data.time_col == "when"


def test_infer_schema_proposes_binary_and_regression_tasks(proposal):
    assert proposal.tasks == [
        TaskSpec("click", "binary"),
        TaskSpec("like", "binary"),
        TaskSpec("watch_time", "regression", log1p=True),  # skewness 2.98 > 2, all values >= 0
    ]


def test_infer_schema_does_not_log_a_symmetric_regression_label(interactions):
    interactions["watch_time"] = np.random.default_rng(0).normal(50.0, 5.0, len(interactions))

    tasks = {t.name: t for t in infer_schema(interactions).tasks}

    assert tasks["watch_time"] == TaskSpec("watch_time", "regression", log1p=False)


def test_infer_schema_makes_ids_and_low_cardinality_integers_categorical_and_floats_numeric(proposal):
    assert proposal.data.categorical == ["user_id", "item_id", "category", "age_bucket"]
    assert proposal.data.numeric == ["price", "score"]


def test_infer_schema_ignores_a_unique_per_row_string_and_a_constant_column(proposal):
    assert proposal.ignored == {
        "row_uuid": "3,000 distinct values in 3,000 rows: looks like a row id or free text",
        "country": "constant: it carries no information",
    }


def test_a_label_named_column_of_one_value_beside_other_labels_is_said_not_proposed(interactions):
    # Goodreads' is_read is 1 in every row once the unrated rows are dropped: the task left the run without a word.
    proposal = infer_schema(interactions.assign(is_read=1))

    assert "is_read" not in [t.name for t in proposal.tasks] and "click" in [t.name for t in proposal.tasks]
    assert (
        "column 'is_read' is named as a label but holds 1 in every row: it is not proposed as a task (nothing can "
        "be learned from it)"
    ) in proposal.notes


def test_infer_schema_proposal_passes_validation(interactions):
    proposal = infer_schema(interactions)
    config = ExperimentConfig(data=proposal.data, tasks=proposal.tasks)

    assert validate(config, interactions) == []


@pytest.mark.parametrize(
    ("values", "mapping", "note"),
    [
        ([0, 1, 1, 0], {0: 0.0, 1: 1.0}, None),
        ([0.0, 1.0, 0.0], {0.0: 0.0, 1.0: 1.0}, None),
        ([True, False], {True: 1.0, False: 0.0}, "values False/True read as 0/1"),
        (["yes", "no", "no"], {"yes": 1.0, "no": 0.0}, "values no/yes read as 0/1"),
        (["Y", "N"], {"Y": 1.0, "N": 0.0}, "values N/Y read as 0/1"),
        (["0", "1"], {"0": 0.0, "1": 1.0}, None),
        ([-1, 1, -1], {-1: 0.0, 1: 1.0}, "values -1/1 read as 0/1 (-1 = negative)"),
        ([1, 1, 1], {1: 1.0}, None),
        (["positive", "negative"], {"positive": 1.0, "negative": 0.0}, "values negative/positive read as 0/1"),
        ([0, "x", "x"], {0: 0.0, "x": 1.0}, "values 0/x read as 0/1"),  # a tick, its empty rows filled with 0
        (["✓", np.nan], {"✓": 1.0}, "values ✓ read as 0/1"),
    ],
)
def test_binary_coding_accepts_common_spellings(values, mapping, note):
    assert binary_coding(pd.Series(values)) == (mapping, note)


@pytest.mark.parametrize("values", [[1, 2], ["a", "b"], [0, 1, 2], [0.0, 0.5, 1.0], ["yes", "1"], ["x", "y"]])
def test_binary_coding_rejects_values_that_are_not_one_binary_spelling(values):
    assert binary_coding(pd.Series(values)) is None


def test_binary_coding_of_an_all_missing_column_is_none():
    assert binary_coding(pd.Series([np.nan, np.nan])) is None


def test_binary_coding_ignores_missing_values():
    assert binary_coding(pd.Series([0.0, np.nan, 1.0])) == ({0.0: 0.0, 1.0: 1.0}, None)


def test_binary_labels_are_float32_zeros_and_ones():
    labels = binary_labels(pd.Series(["no", "yes", "yes"], name="liked"))

    assert labels.dtype == np.float32
    assert labels.tolist() == [0.0, 1.0, 1.0]


def test_binary_labels_of_a_non_binary_column_raise_naming_it():
    with pytest.raises(MtlrecError, match="column 'stars' is not a binary 0/1 label"):
        binary_labels(pd.Series([1, 2, 3], name="stars"))


def flawed_frame() -> pd.DataFrame:
    """Twelve rows with one flaw per column (0-based row positions; messages count data rows from 1)."""
    n = 12
    frame = pd.DataFrame(
        {
            "user_id": [f"u{i % 4}" for i in range(n)],
            "item_id": [i % 5 for i in range(n)],
            "price": [str(float(i)) for i in range(n)],
            "timestamp": [str(1_700_000_000 + 60 * i) for i in range(n)],
            "click": [float(i % 2) for i in range(n)],
            "like": [1 + i % 2 for i in range(n)],  # 1/2: not a binary spelling
            "watch_time": [10.0 * i for i in range(n)],
            "const": [1] * n,
            "is_fav": [i % 2 for i in range(n)],
        }
    )
    frame.loc[3, "price"] = "abc"
    frame.loc[5, "timestamp"] = "yesterday"
    frame.loc[[4, 9], "click"] = np.nan
    frame.loc[7, "watch_time"] = np.inf
    return frame


def flawed_config() -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(
            user_col="user_id",
            item_col="item_id",
            time_col="timestamp",
            categorical=["user_id", "item_id", "is_fav", "device"],
            numeric=["price"],
        ),
        tasks=[
            TaskSpec("click"),
            TaskSpec("like"),
            TaskSpec("watch_time", "regression"),
            TaskSpec("const"),
            TaskSpec("is_fav"),
        ],
    )


def test_validate_raises_one_error_listing_every_problem():
    with pytest.raises(MtlrecError) as info:
        validate(flawed_config(), flawed_frame())

    problems = info.value.problems
    assert len(problems) == 9
    assert str(info.value).startswith("9 problems found:\n  - ")
    expected_starts = [
        "column 'is_fav' is both a task and a categorical feature",
        "column 'device' (categorical feature) is not in the data; columns are: user_id, item_id, price,",
        "column 'click' (task) has missing values in 2 rows (rows 5, 10, e.g. empty)",
        "column 'like' is a binary task but has 2 distinct values (1, 2)",
        "column 'watch_time' (task) has infinite values in 1 row (row 8, e.g. inf)",
        "column 'const' (task) has the same value (1) in every row",
        "column 'price' is a numeric feature but has text in 1 row (row 4, e.g. 'abc')",
        "timestamp column 'timestamp' has values that are not times in 1 row (row 6, e.g. 'yesterday')",
        "too few rows for the split: 12 rows give 9 train / 1 validation / 2 test rows",
    ]
    for problem, start in zip(problems, expected_starts, strict=True):
        assert problem.startswith(start), (problem, start)


def test_a_task_listed_twice_is_reported_once_as_such(interactions, make_config):
    # It also said "column 'click' is both a task and a task: a label must not also be an input".
    config = make_config()
    config.tasks.append(TaskSpec("click"))

    with pytest.raises(MtlrecError) as error:
        validate(config, interactions)

    assert error.value.problems == ["task 'click' is listed more than once"]


def test_a_task_beside_its_copy_or_its_opposite_is_refused(interactions):
    # Alimama's nonclk (1 - clk) and Tenrec QB's read (= click) trained as second tasks with no word, and a sweep drew
    # a "Pareto front" between clk and nonclk.
    frame = interactions.assign(nonclick=1 - interactions["click"], read=interactions["click"].map({0: "no", 1: "yes"}))
    config = ExperimentConfig(
        data=DataConfig(categorical=["category"]),
        tasks=[TaskSpec("click"), TaskSpec("like"), TaskSpec("nonclick"), TaskSpec("read")],
    )

    with pytest.raises(MtlrecError) as error:
        validate(config, frame)

    assert error.value.problems == [
        "tasks 'click' and 'nonclick' have the opposite label in every row: they are one task written both ways, so "
        "training both learns nothing more (and a sweep between them draws no trade-off); keep one of them",
        "tasks 'click' and 'read' have the same label in every row: they are one task twice, so training both learns "
        "nothing more (and a sweep between them draws no trade-off); keep one of them",
        "tasks 'nonclick' and 'read' have the opposite label in every row: they are one task written both ways, so "
        "training both learns nothing more (and a sweep between them draws no trade-off); keep one of them",
    ]


def test_tasks_differing_on_a_few_rows_only_get_a_note_and_rare_tasks_are_not_twins_by_their_zeros():
    n = 20_000
    rng = np.random.default_rng(0)
    click = (rng.random(n) < 0.3).astype(int)
    read = click.copy()
    read[np.flatnonzero(click)[:3]] = 0  # 3 clicks not read, of about 6,000
    share, follow = np.zeros(n, int), np.zeros(n, int)
    share[:40], follow[40:80] = 1, 1  # 99.6% of the rows agree: both 0
    frame = pd.DataFrame(
        {"item": rng.integers(0, 50, n), "click": click, "read": read, "share": share, "follow": follow}
    )
    tasks = [TaskSpec("click"), TaskSpec("read"), TaskSpec("share"), TaskSpec("follow")]

    notes = validate(ExperimentConfig(data=DataConfig(categorical=["item"]), tasks=tasks), frame)

    assert notes == [
        "tasks 'click' and 'read' have the same label in all but 3 of 20,000 rows: nearly one task twice; unless those "
        "rows matter, keep one of them"
    ]


def test_inference_leaves_out_a_label_that_copies_another():
    frame = pd.DataFrame(
        {"item_id": np.arange(300) % 40, "click": np.arange(300) % 3 == 0, "like": np.arange(300) % 7 == 0}
    )
    frame["read"] = frame["click"].astype(int)

    proposal = infer_schema(frame)

    assert [t.name for t in proposal.tasks] == ["click", "like"]
    assert proposal.ignored["read"] == (
        "the same label as task 'click' in every row: one task twice (make it the task instead of 'click' if you prefer)"
    )


def test_validate_returns_notes_for_labels_read_as_zero_one(interactions):
    interactions["like"] = interactions["like"].map({0: -1, 1: 1})
    config = ExperimentConfig(data=DataConfig(categorical=["category"]), tasks=[TaskSpec("like")])

    assert validate(config, interactions) == ["column 'like': values -1/1 read as 0/1 (-1 = negative)"]


def test_validate_checks_the_test_file_too(interactions):
    config = ExperimentConfig(data=DataConfig(categorical=["category"]), tasks=[TaskSpec("click")])
    test = interactions.drop(columns=["category"]).head(50)

    with pytest.raises(MtlrecError) as info:
        validate(config, interactions, test)

    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith("test file: column 'category' (categorical feature) is not in the data")


def test_empty_strings_in_a_numeric_feature_are_missing_values_not_text(interactions):
    # A Parquet string column keeps "" where a CSV reader gives NaN: the same data was refused as "text (e.g. '')".
    config = ExperimentConfig(data=DataConfig(numeric=["price"]), tasks=[TaskSpec("click")])
    test = interactions.head(50).assign(price=lambda f: f["price"].astype(str).where(f.index % 5 > 0, ""))

    validate(config, interactions, test)

    test.loc[3, "price"] = "n/a"
    with pytest.raises(
        MtlrecError, match=r"test file: column 'price' is a numeric feature but has text in 1 row \(row 4, e.g. 'n/a'\)"
    ):
        validate(config, interactions, test)


def test_validate_requires_three_users_for_the_user_split(interactions):
    interactions["user_id"] = np.where(interactions.index % 2 == 0, "a", "b")
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", categorical=["category"]),
        tasks=[TaskSpec("click")],
        split=SplitConfig(method="user"),
    )

    with pytest.raises(MtlrecError) as info:
        validate(config, interactions)

    assert info.value.problems == ["the user split needs at least 3 users in 'user_id', found 2: use the random split"]


def test_validate_requires_at_least_one_feature(interactions):
    config = ExperimentConfig(tasks=[TaskSpec("click")])

    with pytest.raises(MtlrecError) as info:
        validate(config, interactions)

    assert info.value.problems == [
        "no feature columns are selected: choose at least one categorical, numeric or multi-valued feature"
    ]


def test_parse_time_keeps_epoch_numbers_as_seconds():
    assert parse_time(pd.Series([1_700_000_000, 1_700_000_060])).tolist() == [1_700_000_000.0, 1_700_000_060.0]


def test_parse_time_of_epoch_strings_marks_only_the_bad_value_missing():
    parsed = parse_time(pd.Series(["1700000000", "soon", "1700000060"]))

    assert parsed.iloc[0] == 1_700_000_000.0
    assert np.isnan(parsed.iloc[1])
    assert parsed.iloc[2] == 1_700_000_060.0


def test_parse_time_of_a_long_column_tells_epoch_text_from_dates():
    # Over 10,000 rows, 2,000 values spread over the column decide that dates are no numbers: epoch text with a few
    # bad values stays numbers, date text is read as dates, and a column that turns to numbers late is numbers.
    epochs = pd.Series([str(1_700_000_000 + i) for i in range(20_000)])
    epochs[::500] = "soon"
    dates = pd.Series(["2024-05-01 00:00"] * 20_000)
    late = pd.Series(["2024-05-01 00:00"] * 9_000 + ["1714521600"] * 11_000)

    assert parse_time(epochs).isna().sum() == 40 and parse_time(epochs)[1] == 1_700_000_001.0
    assert (parse_time(dates) == 1_714_521_600.0).all()
    read = parse_time(late)
    assert read[:9_000].isna().all() and (read[9_000:] == 1_714_521_600.0).all()  # mostly numbers: the dates bad


def test_parse_time_converts_dates_to_utc_seconds():
    parsed = parse_time(pd.Series(["2024-05-01 00:00", "2024-05-01T02:00:00+02:00", "2024-05-01T01:00:00Z", None]))

    # 2024-05-01 00:00 UTC is 1714521600 seconds after the epoch; naive times are read as UTC.
    assert parsed.iloc[:3].tolist() == [1_714_521_600.0, 1_714_521_600.0, 1_714_525_200.0]
    assert np.isnan(parsed.iloc[3])


def test_parse_time_of_a_datetime_column():
    parsed = parse_time(pd.Series(pd.to_datetime(["2024-05-01", None])))

    assert parsed.iloc[0] == 1_714_521_600.0
    assert np.isnan(parsed.iloc[1])


def test_validate_names_missing_user_and_item_ids(interactions):
    # Rows without a user cannot be grouped per user (GAUC, ranking) nor looked up for recommendations.
    interactions.loc[[3, 8], "user_id"] = None
    interactions.loc[5, "item_id"] = None
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", item_col="item_id", categorical=["user_id", "item_id"]),
        tasks=[TaskSpec("click")],
    )
    with pytest.raises(MtlrecError) as info:
        validate(config, interactions)
    assert [p.split(":")[0] for p in info.value.problems] == [
        "user column 'user_id' has missing values in 2 rows (rows 4, 9, e.g. empty)",
        "item column 'item_id' has missing values in 1 row (row 6, e.g. empty)",
    ]
    # GAUC groups rows by user, not by item: what an item column is for is recommendations.
    assert info.value.problems[1].split(": ", 1)[1] == (
        "recommendations rank the items it names and leave out those a user has seen; fill or drop those rows (on "
        "Data: Fix the rows; CLI: `--drop 'item_id missing'`), or use the column as a plain categorical feature (no "
        "item column)"
    )
    config.data.user_col = config.data.item_col = None  # as plain categorical features, missing is a category
    validate(config, interactions)


@pytest.mark.parametrize("kind", ["binary", "regression"])
def test_an_event_type_column_named_as_a_task_says_to_make_a_0_1_column_per_type(interactions, kind):
    # Taobao's behavior_type (pv, buy, cart, fav): "a regression task with non-numeric values: clean them" did
    # not help.
    interactions["behavior_type"] = np.array(["pv", "buy", "cart", "fav"])[np.arange(len(interactions)) % 4]
    config = ExperimentConfig(data=DataConfig(categorical=["category"]), tasks=[TaskSpec("behavior_type", kind)])

    with pytest.raises(MtlrecError) as info:
        validate(config, interactions)

    assert info.value.problems == [
        "column 'behavior_type' holds text categories ('pv', 'buy', 'cart', 'fav'), not a label: to predict one of "
        "them, add a 0/1 column per value you want to predict (e.g. 1 where 'behavior_type' is 'pv', else 0: on Data: "
        "Fix the rows; CLI: `--label 'pv=behavior_type == pv'`) and make "
        "those the tasks; or use the column as a categorical feature"
    ]


def test_a_column_of_impression_lists_named_as_a_task_says_to_reshape(interactions):
    interactions["impressions"] = "N4610-1 N2405-0 N5120-0"  # MIND's behaviors.tsv: one list per row
    config = ExperimentConfig(data=DataConfig(categorical=["category"]), tasks=[TaskSpec("impressions", "regression")])

    with pytest.raises(MtlrecError) as info:
        validate(config, interactions)

    [problem] = info.value.problems
    assert problem.startswith("column 'impressions' holds lists of impressions with their labels")
    assert "reshape the file to one row per impressed item with a 0/1 column" in problem
    # its line of pandas, run as given: one row per impressed item, the click a 0/1 column
    line = problem.split("e.g. with pandas (df the file as read): ")[1].split(", and make that column the task")[0]
    scope = {"df": interactions.head(2).copy()}
    exec(line.replace("to_csv('impressions.csv', index=False)", "pipe(lambda rows: scope.update(rows=rows))"),
         {"scope": scope}, scope)  # fmt: skip
    rows = scope["rows"]
    assert rows["item_id"].tolist() == ["N4610", "N2405", "N5120"] * 2 and rows["click"].tolist() == ["1", "0", "0"] * 2
    assert "impressions" not in rows


def test_a_mostly_binary_text_label_still_names_its_odd_rows(interactions):
    interactions["liked"] = np.where(interactions["like"] == 1, "yes", "no").astype(object)
    interactions.loc[[5, 9], "liked"] = "maybe"
    config = ExperimentConfig(data=DataConfig(categorical=["category"]), tasks=[TaskSpec("liked")])

    with pytest.raises(MtlrecError) as info:
        validate(config, interactions)

    assert "values that are not 0/1 are in 2 rows (rows 6, 10" in info.value.problems[0]


def test_ids_and_labels_named_as_in_public_logs_are_recognised():
    # Retailrocket (visitorid, transactionid), Amazon reviews (reviewerID, overall), Spotify skips (not_skipped):
    # visitorid was standardised as a number, overall a categorical feature, not_skipped a feature beside its labels.
    rng = np.random.default_rng(0)
    n = 2000
    retailrocket = pd.DataFrame(
        {
            "timestamp": 1_433_221_332_117 + np.arange(n),
            "visitorid": rng.integers(0, 1_400_000, n),
            "itemid": rng.integers(0, 400, n),
            "transactionid": np.where(rng.random(n) < 0.02, rng.integers(0, 17_000, n), np.nan),
            "bought": (rng.random(n) < 0.1).astype(int),
        }
    )
    amazon = pd.DataFrame(
        {
            "reviewerID": [f"A{i % 300}" for i in range(n)],
            "asin": [f"B{i % 200}" for i in range(n)],
            "overall": rng.integers(1, 6, n).astype(float),
            "overall_rank": rng.integers(1, 6, n),  # "overall" inside a name is no label
        }
    )
    spotify = pd.DataFrame(
        {
            "session_id": [f"s{i % 100}" for i in range(n)],
            "skip_1": rng.random(n) < 0.3,
            "not_skipped": rng.random(n) < 0.4,
        }
    )

    rr, am, sp = infer_schema(retailrocket), infer_schema(amazon), infer_schema(spotify)

    assert (rr.data.user_col, rr.data.item_col) == ("visitorid", "itemid")
    assert {"visitorid", "transactionid"} <= set(rr.data.categorical) and rr.data.numeric == []
    assert am.data.user_col == "reviewerID"
    assert [(t.name, t.type) for t in am.tasks] == [("overall", "regression")]
    assert "overall_rank" in am.data.categorical
    assert [t.name for t in sp.tasks] == ["skip_1", "not_skipped"]


def test_a_placeholder_date_in_the_timestamp_says_it_is_out_of_range(interactions):
    interactions["when"] = pd.to_datetime(interactions["timestamp"], unit="s").astype("datetime64[s]")
    interactions.loc[3, "when"] = pd.Timestamp("9999-12-31")  # a warehouse's "no end date"
    config = ExperimentConfig(data=DataConfig(time_col="when", categorical=["category"]), tasks=[TaskSpec("click")])

    with pytest.raises(MtlrecError) as info:
        validate(config, interactions)

    assert info.value.problems == [
        "timestamp column 'when' has dates outside the years 1900-2200 in 1 row (row 4, e.g. '9999-12-31 00:00:00'): "
        "placeholders such as 9999-12-31? drop those rows or set them to missing"
    ]


def test_avazus_date_hour_code_is_the_timestamp_and_an_hour_of_day_is_not():
    rng = np.random.default_rng(0)
    codes = np.array([14102100 + day * 100 + hour for day in range(10) for hour in range(24)])  # YYMMDDHH
    frame = pd.DataFrame(
        {
            "click": (rng.random(2400) < 0.17).astype(int),
            "hour": np.repeat(codes, 10),
            "C1": rng.choice([1005, 1002, 1010], 2400),
            "C14": rng.integers(15000, 24000, 2400),
        }
    )

    assert infer_schema(frame).data.time_col == "hour"  # was a standardised numeric feature
    frame["hour"] = np.repeat(codes + 5_000_000, 10)  # 2019's codes (19102100...) lie among YYYYMMDD dates' range
    assert infer_schema(frame).data.time_col == "hour"
    frame["hour"] = np.tile(np.arange(24), 100)  # hour of day, as in the bundled sample: a feature
    proposal = infer_schema(frame)
    assert proposal.data.time_col is None and "hour" in proposal.data.categorical


def test_integer_codes_named_as_codes_are_categories_whatever_their_number_of_values():
    # AliExpress's categorical_2, Avazu's C14, Ali-CCP's 101 and 205_14 (over 32 values) were standardised as numbers:
    # click AUC 0.51 instead of 0.67 on an AliExpress-shaped file.
    rng = np.random.default_rng(0)
    n = 500
    frame = pd.DataFrame(
        {name: rng.integers(0, 200, n) for name in ("categorical_2", "C14", "101", "205_14", "I5", "price_cents")}
    )
    frame["click"] = rng.integers(0, 2, n)

    proposal = infer_schema(frame)

    assert set(proposal.data.categorical) == {"categorical_2", "C14", "101", "205_14"}
    assert set(proposal.data.numeric) == {"I5", "price_cents"}  # Criteo's integer counts stay numbers
    counts = pd.DataFrame({n: rng.integers(0, 200, n_rows) for n, n_rows in
                           (("cate_click_cnt_7d", n), ("category_views", n), ("type_count", n), ("1", n))})  # fmt: skip
    counts["click"] = rng.integers(0, 2, n)
    assert set(infer_schema(counts).data.numeric) == {"cate_click_cnt_7d", "category_views", "type_count", "1"}


@pytest.mark.parametrize("fmt", ["%m %d, %Y", "%b %d, %Y", "%d %B %Y"])
def test_dates_written_with_spaces_or_month_names_are_dates_not_categories(fmt):
    # Amazon 2018's reviewTime ('09 13, 2009', the same date as unixReviewTime) became ~2,900 categories.
    n = 300
    frame = pd.DataFrame(
        {
            "reviewerID": [f"A{i % 40}" for i in range(n)],
            "asin": [f"B{i % 50}" for i in range(n)],
            "overall": np.arange(n) % 5 + 1,
            "unixReviewTime": 1252800000 + np.arange(n) * 86400,
            "reviewTime": [pd.Timestamp(1252800000 + i * 86400, unit="s").strftime(fmt) for i in range(n)],
        }
    )
    proposal = infer_schema(frame)
    assert proposal.data.time_col == "unixReviewTime"
    assert proposal.ignored["reviewTime"] == "a date/time that is not the timestamp column"


def test_no_task_chosen_points_at_the_columns_that_read_as_0_1(interactions):
    config = ExperimentConfig(data=DataConfig(categorical=["category"]), tasks=[])
    with pytest.raises(MtlrecError) as info:
        validate(config, interactions)
    [problem] = [p for p in info.value.problems if p.startswith("choose at least one task")]
    assert problem.endswith("which may be labels: click, like")


def test_prices_in_several_currencies_are_ignored_with_that_reason():
    # They were ignored as "2,830 distinct values in 3,000 rows: looks like a row id or free text".
    rng = np.random.default_rng(5)
    n = 300
    currency = rng.choice(["$", "€", "£"], n)
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 20, n),
            "price": [f"{c}{v:,.2f}" for c, v in zip(currency, rng.gamma(2, 20, n), strict=True)],
            "click": rng.integers(0, 2, n),
        }
    )
    reason = infer_schema(frame).ignored["price"]
    assert reason.startswith("numbers with different currencies (e.g. '")
    assert reason.endswith("): convert them to one currency as plain numbers to use them")
    words = pd.DataFrame({"user_id": range(n), "note": [f"free text number {i}" for i in range(n)], "click": 1})
    assert "free text" in infer_schema(words).ignored.get("note", "free text")


def test_the_0_1_hint_looks_at_few_rows_of_most_columns(monkeypatch):
    # It ran nunique() on every full column: validate with no task took 9 s on 1M rows x 100 columns (0.4 s before).
    frame = pd.DataFrame({"x": np.arange(5000.0), "flag": np.arange(5000) % 2, "const": 0})
    seen = []
    original = binary_coding
    monkeypatch.setattr("mtlrec.schema.binary_coding", lambda s: seen.append(len(s)) or original(s))
    from mtlrec.schema import binary_columns_hint

    assert binary_columns_hint(frame) == "; columns holding only two values that read as 0/1, which may be labels: flag"
    assert seen.count(5000) == 2  # only 'flag' and the constant column were read in full ('x' stopped at 1000 rows)


def test_code_names_ending_in_a_code_word_are_codes_and_count_words_are_quantities():
    # last_cate and age_category were taken for quantities, category_click for a code; an array's columns '100'+
    # for Ali-CCP fields. Int column labels are refused (a run trained on them could not be loaded back).
    rng = np.random.default_rng(1)
    n = 400
    names = ("last_cate", "prev_category", "age_category", "size_code", "category_click", "cate_orders", "visit_cnt")
    frame = pd.DataFrame({name: rng.integers(0, 100, n) for name in names})
    frame["click"] = rng.integers(0, 2, n)
    proposal = infer_schema(frame)
    assert set(proposal.data.categorical) == {"last_cate", "prev_category", "age_category", "size_code"}
    assert set(proposal.data.numeric) == {"category_click", "cate_orders", "visit_cnt"}

    array = pd.DataFrame(rng.integers(0, 100, (n, 120)))  # int labels 0..119
    array["click"] = rng.integers(0, 2, n)
    with pytest.raises(MtlrecError, match=r"rename them, e\.g\. df\.columns = df\.columns\.astype\(str\)$"):
        infer_schema(array)
    assert len(infer_schema(array.rename(columns=str)).data.numeric) == 120


def test_the_0_1_hint_finds_a_label_missing_in_the_first_rows():
    # An ESMM-style purchase label, missing wherever click is 0, was missed when the first 1,000 rows had no click.
    frame = pd.DataFrame({"x": np.arange(3000.0), "is_p": [np.nan] * 1500 + [0.0, 1.0] * 750})
    from mtlrec.schema import binary_columns_hint

    assert binary_columns_hint(frame).endswith("which may be labels: is_p")


def test_count_words_win_over_a_final_code_word_and_quantity_words_over_a_code_word():
    rng = np.random.default_rng(2)
    n = 500
    quantities = ("category_price", "cate_score", "class_size", "type_duration", "clicks_per_category",
                  "orders_by_type", "items_in_cat")  # fmt: skip
    codes = ("click_type", "price_class", "age_category")
    frame = pd.DataFrame({name: rng.integers(0, 500, n) for name in quantities + codes})
    frame["click"] = rng.integers(0, 2, n)
    proposal = infer_schema(frame)
    assert set(proposal.data.numeric) == set(quantities) and set(proposal.data.categorical) == set(codes)
    values = rng.integers(0, 100, (n, 120))
    names = [str(i) for i in range(120) if i != 5] + ["²"]  # a column dropped; a digit that int() refuses
    array = pd.DataFrame(np.delete(values, 5, axis=1).tolist(), columns=names[:-1])
    array = pd.concat([array, pd.DataFrame({"²": rng.integers(0, 100, n)})], axis=1)
    assert len(infer_schema(array).data.categorical) == 0


def kinds_of(names: tuple[str, ...], draw, label: str, seed: int) -> tuple[set[str], set[str]]:
    """(categorical, numeric) as inference proposes them for 600 rows of integer columns of these names, each drawn by
    draw(rng, n), beside a random 0/1 label."""
    rng = np.random.default_rng(seed)
    n = 600
    frame = pd.DataFrame({name: draw(rng, n) for name in names})
    frame[label] = rng.integers(0, 2, n)
    proposal = infer_schema(frame)
    return set(proposal.data.categorical), set(proposal.data.numeric)


def test_numbered_category_codes_and_ad_log_ids_without_id_are_categories():
    # Criteo Attribution's cat1..cat9 (hashed 8-digit codes) and campaign (about 200 ids) were standardised as
    # numbers; counts keep being numbers.
    codes = ("cat1", "cat9", "cate2", "category3", "campaign", "Campaign", "ad_group", "advertiser", "brand",
             "customer", "cms_segid")  # Taobao's ad_feature (customer: the advertiser) and user_profile  # fmt: skip
    counts = ("click_nb", "n_clicks", "campaign_cnt", "cat1_count", "campaigns", "items_per_cat1", "price2")

    def draw(rng, n):  # about 200 ids of 7-8 digits
        return rng.choice(rng.integers(1_000_000, 30_000_000, 200), n)

    categorical, numeric = kinds_of(codes + counts, draw, "click", seed=3)

    assert categorical == set(codes)
    assert numeric == set(counts)


def test_request_keys_are_ignored_with_a_note_saying_to_name_them_as_the_user_column():
    # MIND's impression_id and Outbrain's display_id (a few ads shown together, one clicked) were embedded as
    # categorical features: an id per request learns nothing for the next request.
    rng = np.random.default_rng(4)
    n = 1200
    frame = pd.DataFrame(
        {
            "impression_id": np.repeat(np.arange(100), 12),
            "display_id": np.repeat(np.arange(200), 6) + 10**6,
            "Search ID": [f"s{i // 4}" for i in range(n)],
            "news_id": [f"N{i}" for i in rng.integers(0, 300, n)],
            "user": [f"U{i}" for i in rng.integers(0, 80, n)],
            "click": rng.integers(0, 2, n),
        }
    )

    proposal = infer_schema(frame)

    assert proposal.data.categorical == ["user", "news_id"]
    assert proposal.ignored["display_id"] == (
        "looks like a display key (200 keys in 1,200 rows), not a feature: an embedding per display does not "
        "generalise to new ones; to get per-display GAUC and ranking metrics, make it the user column without "
        "embedding it (CLI: --user-col display_id --exclude display_id; on Data, choose it as the user column)"
    )
    assert proposal.ignored["impression_id"].startswith("looks like an impression key (100 keys in 1,200 rows)")
    assert "(CLI: --user-col 'Search ID' --exclude 'Search ID';" in proposal.ignored["Search ID"]
    frame["display_id"] = np.arange(n)  # one row per display: a row id, as before
    assert (
        infer_schema(frame).ignored["display_id"]
        == "1,200 distinct integers in 1,200 rows: looks like a row id or index"
    )


def test_a_count_per_code_is_a_quantity_and_a_code_after_a_count_word_a_code():
    from mtlrec.schema import _code_named

    assert [_code_named(n) for n in ("rate_type", "count_class", "items_cat", "clicks_per_category", "items_in_cat")] == [
        True, True, True, False, False
    ]  # fmt: skip
    # H&M's department_no and section_no were standardised as numbers (an audit); counts and flags are not codes
    assert [_code_named(n) for n in ("department_no", "section_nr", "store_nbr", "order_count_no", "is_no", "no")] == [
        True, True, True, False, False, False
    ]  # fmt: skip


def test_the_index_of_tables_saved_together_is_ignored_not_a_feature():
    # pd.concat(days).to_csv() writes an unnamed index that counts 0..999 three times: row positions, not a feature
    rng = np.random.default_rng(12)
    days = [
        pd.DataFrame(
            {"user_id": rng.integers(0, 300, 1000), "price": rng.random(1000), "click": rng.integers(0, 2, 1000)}
        )
        for _ in range(3)
    ]
    frame = pd.concat(days).reset_index().rename(columns={"index": "Unnamed: 0"})

    proposal = infer_schema(frame)

    assert "Unnamed: 0" not in proposal.data.numeric + proposal.data.categorical
    assert "start again 2 times" in proposal.ignored["Unnamed: 0"]
    # an unnamed column of counts is data, and so is a named column that counts up and restarts
    frame["Unnamed: 0"] = rng.integers(0, 50, len(frame))
    frame["visit_number"] = np.tile(np.arange(1000), 3)
    proposal = infer_schema(frame)
    assert "Unnamed: 0" in proposal.data.numeric + proposal.data.categorical
    assert "visit_number" in proposal.data.numeric + proposal.data.categorical


def test_ali_ccp_field_numbers_give_the_user_and_item_columns():
    # Ali-CCP (ESMM's dataset) numbers its fields: 101 is the user id, 205 the item id, 206 its category
    rng = np.random.default_rng(5)
    n = 2000
    frame = pd.DataFrame(
        {
            "click": rng.integers(0, 2, n),
            "purchase": rng.integers(0, 2, n),
            "101": rng.integers(0, 300, n),
            "121": rng.integers(0, 90, n),
            "205": rng.integers(0, 500, n),
            "206": rng.integers(0, 40, n),
        }
    )

    data = infer_schema(frame).data

    assert (data.user_col, data.item_col) == ("101", "205")
    assert {"121", "206"} <= set(data.categorical)
    assert infer_schema(frame.drop(columns="205")).data.user_col is None  # a lone "101" is any numbered field


@pytest.mark.parametrize(
    ("columns", "item"),
    [(["user_id", "poi_id", "item_id"], "item_id"), (["user_id", "feed", "video_id"], "video_id"),
     (["user_id", "goods_id", "sku"], "sku")],
)  # fmt: skip
def test_a_public_log_item_name_does_not_win_over_a_plain_item_column(columns, item):
    # poi_id before item_id was taken as the item, and sku (2,000 ids) was standardised as a number
    rng = np.random.default_rng(1)
    n = 3000
    frame = pd.DataFrame({c: rng.integers(0, 40 if c == "feed" else 2000, n) for c in columns})
    frame["click"] = rng.integers(0, 2, n)

    data = infer_schema(frame).data

    assert data.item_col == item and item not in data.numeric


def test_empty_times_are_a_note_unless_the_rows_are_split_by_time(interactions):
    # KuaiRec's few rows without a time made every split refuse the file, with no flag around it.
    frame = interactions.copy()
    frame["timestamp"] = frame["timestamp"].astype(float)
    frame.loc[[3, 8], "timestamp"] = np.nan
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", item_col="item_id", time_col="timestamp", categorical=["category"]),
        tasks=[TaskSpec("click")],
    )

    notes = validate(config, frame)

    assert (
        "timestamp column 'timestamp' is empty in 2 rows (rows 4, 9, e.g. empty): they train as the others; a time "
        "split would need their times, and recommendations take a user's latest row among those with a time"
    ) in notes
    config.split = SplitConfig(method="time")
    with pytest.raises(MtlrecError) as info:
        validate(config, frame)
    assert info.value.problems == [
        "timestamp column 'timestamp' is empty in 2 rows (rows 4, 9, e.g. empty): the time split orders the rows by "
        "time; drop those rows (on Data: Fix the rows; CLI: `--drop 'timestamp missing'`) or fill their times, or choose "
        "the random or user split"
    ]
    # A test file is never split: its empty times are a note with a time split too.
    assert (
        "test file: timestamp column 'timestamp' is empty in 2 rows (rows 4, 9, e.g. empty): the test file is not "
        "split, so they are evaluated as the others"
    ) in validate(config, interactions, frame)


def _multi_level(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = pd.MultiIndex.from_tuples([(c, "x") for c in frame.columns])
    return frame


UNUSABLE_FRAMES = {
    "records": (
        lambda f: f.to_dict("records"),
        "expected a pandas DataFrame, got list: make one, e.g. pd.DataFrame(records)",
    ),
    "no rows": (lambda f: f.iloc[:0], "the table has no rows: pass the rows to learn from"),
    "two levels of names": (
        _multi_level,
        "the table's columns have 2 levels of names (e.g. ('user_id', 'x')), but column names must be one level of "
        "text: flatten them, e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns]",
    ),
    "number names": (
        lambda f: f.set_axis(range(f.shape[1]), axis=1),
        "the table's column names must be text, but 8 are not (0, 1, 2, 3, 4, ...; pd.DataFrame(array) names its "
        "columns 0, 1, 2…): rename them, e.g. df.columns = df.columns.astype(str)",
    ),
    "duplicate names": (
        lambda f: pd.concat([f, f[["price"]]], axis=1),
        "the table has duplicate column names: 'price' (columns 4, 9): give every column a unique name",
    ),
}


@pytest.mark.parametrize("case", UNUSABLE_FRAMES)
def test_infer_schema_refuses_a_frame_it_cannot_use_and_says_how_to_fix_it(interactions, case):
    # They crashed inside pandas or numpy (IndexError, TypeError), or gave number names a saved run cannot load.
    make, message = UNUSABLE_FRAMES[case]

    with pytest.raises(MtlrecError) as error:
        infer_schema(make(interactions))

    assert error.value.problems == [message]


def test_instacart_goodreads_and_kuairand_names_from_an_audit():
    # reordered, is_read and is_reviewed were not proposed as labels; KuaiRand's onehot_feat codes (over 32 values)
    # were standardised as numbers; Instacart's order_id, shared by the rows of one basket, was embedded.
    rng = np.random.default_rng(5)
    n = 2000
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 150, n),
            "product_id": rng.integers(0, 300, n),
            "order_id": np.repeat(np.arange(400), 5),
            "onehot_feat1": rng.integers(0, 60, n),
            "reordered": rng.integers(0, 2, n),
            "is_read": rng.integers(0, 2, n),
            "is_reviewed": rng.integers(0, 2, n),
        }
    )

    proposal = infer_schema(frame)

    assert [t.name for t in proposal.tasks] == ["reordered", "is_read", "is_reviewed"]
    assert "onehot_feat1" in proposal.data.categorical
    assert proposal.ignored["order_id"].startswith("looks like an order key (400 keys in 2,000 rows)")


def test_criteo_uplifts_visit_is_a_task_beside_conversion():
    # visit (a site visit after the ad, 4.7% of the rows, in every conversion's row) was a categorical feature: it
    # gave conversion away (AUC 0.79 with it, 0.46 without). It is the funnel's first label; counts stay features.
    rng = np.random.default_rng(0)
    n = 3000
    visit = (rng.random(n) < 0.05).astype(int)
    frame = pd.DataFrame(
        {"f0": rng.normal(0, 1, n), "treatment": rng.integers(0, 2, n), "conversion": visit * (rng.random(n) < 0.2),
         "visit": visit, "has_visited": visit | (rng.random(n) < 0.01), "visit_cnt": rng.integers(0, 9, n), "visitorid": rng.integers(0, 300, n)}
    )  # fmt: skip

    proposal = infer_schema(frame)

    assert [t.name for t in proposal.tasks] == ["conversion", "visit", "has_visited"]
    assert "visit_cnt" in proposal.data.categorical + proposal.data.numeric and proposal.leaks == []


def test_integer_codes_named_as_places_devices_sources_or_sellers_are_categories_but_quantities_about_them_are_not():
    # TalkingData's app, device, os, channel and ip and ICME TikTok's user_city and item_city (over 32 values each)
    # were standardised as numbers: click AUC 0.59 instead of 0.77 with them as codes.
    codes = ("ip", "app", "device", "os", "channel", "user_city", "itemCity", "country", "shop", "merchant", "store")
    quantities = ("device_ratio", "price", "app_usage_seconds", "city_population", "num_device", "clicks_per_city")

    categorical, numeric = kinds_of(codes + quantities, lambda rng, n: rng.integers(0, 300, n), "is_click", seed=2)

    assert categorical == set(codes)
    assert numeric == set(quantities)


def test_integer_codes_of_a_catalogue_a_place_or_a_maker_are_categories():
    # Ta-Feng's PRODUCT_SUBCLASS, Favorita's store_nbr, Instacart's aisle and department, zip codes, authors (an
    # audit's sweep of names): each a six-digit code of 200 values, standardised as numbers.
    codes = ("PRODUCT_SUBCLASS", "genre", "zip", "zipcode", "postcode", "barcode", "department", "aisle", "parentid",
             "model", "occupation", "artist", "author", "publisher", "vendor", "supplier", "tag", "topic", "district",
             "county", "state", "store_nbr", "family", "subfamily", "segment", "geo", "dma", "msa", "postal",
             "detailed_industry_recode")  # fmt: skip
    quantities = ("price", "author_age", "tag_count", "minutes_per_genre", "model_score")

    categorical, numeric = kinds_of(
        codes + quantities, lambda rng, n: rng.choice(np.arange(100101, 100301), n), "is_click", 4
    )

    assert categorical == set(codes)
    assert numeric == set(quantities)


def test_an_item_numbered_nbr_is_the_item_and_an_invoice_a_basket_key():
    # Favorita's item_nbr was standardised as a number and no item column was found; Online Retail II's Invoice (a
    # basket) was embedded as a feature.
    rng = np.random.default_rng(7)
    n = 2_000
    frame = pd.DataFrame(
        {
            "store_nbr": rng.integers(1, 55, n),
            "item_nbr": rng.integers(96995, 2_134_244, 300)[rng.integers(0, 300, n)],
            "Invoice": rng.integers(489_000, 489_400, n).astype(str),
            "unit_sales": rng.gamma(2.0, 3.0, n).round(3),
            "purchase": rng.integers(0, 2, n),
        }
    )

    proposal = infer_schema(frame)

    assert proposal.data.item_col == "item_nbr"
    assert {"store_nbr", "item_nbr"} <= set(proposal.data.categorical)
    assert proposal.ignored["Invoice"].startswith("looks like an invoice key")


def test_votes_and_plays_counted_after_the_event_are_tasks_not_features():
    # Yelp's useful, funny and cool and Amazon's helpful_vote (votes on a review) and Taste Profile's play_count
    # went in as categorical features. A count with missing values (Amazon 2018's vote: none where nobody voted) is
    # set aside with the fill that makes it a task: proposed as one, every run stopped on its missing values.
    rng = np.random.default_rng(8)
    n = 1_500
    votes = {c: rng.poisson(0.7, n) for c in ("useful", "funny", "cool", "helpful_vote", "play_count")}
    frame = pd.DataFrame({"user_id": rng.integers(0, 100, n), "item_id": rng.integers(0, 200, n), **votes})
    frame["stars"] = rng.integers(1, 6, n)
    frame["vote"] = np.where(rng.random(n) < 0.8, np.nan, rng.integers(2, 60, n))

    proposal = infer_schema(frame)

    assert [t.name for t in proposal.tasks] == ["useful", "funny", "cool", "helpful_vote", "play_count", "stars"]
    assert all(t.type == "regression" for t in proposal.tasks)
    assert proposal.ignored["vote"] == (
        f"a count that follows the event (votes, plays): an outcome, not an input; missing in "
        f"{int(frame['vote'].isna().sum()):,} rows, so not proposed as a task: to predict it, fill them and make it "
        "one (CLI: --fill vote=0 and add it to --tasks; on Data: Fix the rows, then role label); if it is missing "
        "where it does not apply (no review to vote on), make it a task trained on its labelled rows only instead "
        "(CLI: add it to --tasks and --labelled-only vote)"
    )


def test_quantities_measured_on_a_place_device_or_seller_are_numbers_not_codes():
    # time_on_site, minutes_in_app... ended in an entity word and became codes: click AUC 0.918 -> 0.879 on a log
    # whose clicks follow time_on_site. A quantity or unit word anywhere, or 'per', is a number; a connector alone
    # names a place (ship_to_country, sold_at_store were made numbers by a first fix), and so does country_of_user.
    quantities = ("time_on_site", "timeOnSite", "minutes_in_app", "distance_to_store", "price_at_shop",
                  "age_of_device", "hours_per_device", "visits_per_app")  # fmt: skip
    codes = ("app", "device", "os", "channel", "ip", "user_city", "item_city", "order_channel", "ship_to_country",
             "sold_at_store", "signup_from_channel", "time_zone_region", "page_on_site", "country_of_user")  # fmt: skip

    categorical, numeric = kinds_of(quantities + codes, lambda rng, n: rng.integers(0, 300, n), "is_click", seed=3)

    assert numeric == set(quantities)
    assert categorical == set(codes)


def _durations(seconds: pd.Series, hours: bool) -> list[str]:
    whole = seconds.astype(int)
    if hours:
        return [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in whole]
    return [f"{s // 60}:{s % 60:02d}" for s in whole]


@pytest.mark.parametrize(
    ("hours", "shown", "pandas"),
    [
        (False, "'0:12', '0:07', '0:45', '0:16', ...", "pd.to_timedelta('0:' + df['watch_time'])"),
        (True, "'00:00:12', '00:00:07', '00:00:45', '00:00:16', ...", "pd.to_timedelta(df['watch_time'])"),
    ],
)
def test_a_label_written_as_durations_is_no_feature_and_says_how_to_convert_it(interactions, hours, shown, pandas):
    # watch_time written 0:00, 0:11... became a categorical feature beside the task click: "0:00" on 98.7% of the
    # rows without a click gave click an AUC of 0.64 (0.46 without it), under the leak check's bar.
    interactions["watch_time"] = _durations(interactions["watch_time"], hours)

    proposal = infer_schema(interactions)

    assert [t.name for t in proposal.tasks] == ["click", "like"]
    assert "watch_time" not in proposal.data.categorical + proposal.data.numeric
    assert proposal.ignored["watch_time"] == (
        f"named as a task, but not readable as a label: it holds durations written {'h:mm:ss' if hours else 'm:ss'} "
        f"({shown}), not numbers: convert them to seconds to make it a task (in pandas: df['watch_time'] = "
        f"{pandas}.dt.total_seconds()); not proposed as a feature either, as a label written with the event gives "
        "itself away (choose it as one if it is known before)"
    )


@pytest.mark.parametrize(
    ("unit", "written"), [("s", "{} s"), ("ms", "{}ms"), ("min", "{} min"), ("%", "{} %"), ("Sekunden", "{} Sekunden")]
)
def test_a_label_written_with_a_unit_says_to_remove_the_unit_in_inference_validation_and_a_test_file(
    interactions, unit, written
):
    # "12.5 s" was set aside as "may leak the label", and as a task it was "text, not a label: choose a 0/1 or
    # numeric column": the fix is to remove the unit.
    frame = interactions.assign(watch_time=[written.format(v) for v in interactions["watch_time"]])
    shown = ", ".join(repr(written.format(v)) for v in interactions["watch_time"][:4]) + ", ..."
    advice = (
        f"holds numbers with a unit ({shown}), not plain numbers: remove the unit {unit!r} to make it a task (in "
        f"pandas: df['watch_time'] = pd.to_numeric(df['watch_time'].str.rstrip({' ' + unit!r})))"
    )

    reason = infer_schema(frame).ignored["watch_time"]
    assert reason.startswith(f"named as a task, but not readable as a label: it {advice}; ")
    config = ExperimentConfig(
        data=DataConfig(categorical=["category"]), tasks=[TaskSpec("click"), TaskSpec("watch_time", "regression")]
    )
    with pytest.raises(MtlrecError) as info:
        validate(config, frame)
    assert info.value.problems == [f"column 'watch_time' {advice}"]
    with pytest.raises(MtlrecError) as info:
        validate(config, interactions, frame)
    assert info.value.problems == [f"test file: column 'watch_time' {advice}"]
    converted = pd.to_numeric(frame["watch_time"].str.rstrip(" " + unit))  # the advice works
    assert converted.tolist() == interactions["watch_time"].tolist()


def test_a_label_in_several_units_says_to_convert_them_to_one(interactions):
    minutes = interactions["watch_time"] > 60
    interactions["watch_time"] = np.where(
        minutes,
        [f"{v / 60:.2f} min" for v in interactions["watch_time"]],
        interactions["watch_time"].map("{} s".format),
    )
    config = ExperimentConfig(data=DataConfig(categorical=["category"]), tasks=[TaskSpec("watch_time", "regression")])

    with pytest.raises(MtlrecError) as info:
        validate(config, interactions)

    shown = ", ".join(map(repr, interactions["watch_time"][:4]))
    assert info.value.problems == [
        f"column 'watch_time' holds numbers in several units ('s', 'min'; e.g. {shown}, ...): convert them to one "
        "unit, as plain numbers, to make it a task"
    ]


def test_label_named_text_that_is_no_quantity_stays_a_feature_and_dates_stay_dates(interactions):
    # Only a label written as a quantity (m:ss, '12.5 s') is set aside: text categories under a label's name are
    # features, as before (content tags named label, a film's rating PG-13, the page visited; a review found them
    # set aside).
    interactions["label"] = np.array(["news", "sports", "music", "games", "film"])[np.arange(len(interactions)) % 5]
    interactions["rating"] = np.array(["PG-13", "R", "TV-MA"])[np.arange(len(interactions)) % 3]
    interactions["visited"] = np.array(["home", "cart", "search"])[np.arange(len(interactions)) % 3]
    interactions["visit"] = np.arange(len(interactions)) % 29 + 1  # a visit counter: no task (visit is one when 0/1)
    interactions["watch_date"] = pd.to_datetime(interactions["timestamp"], unit="s").dt.strftime("%Y-%m-%d")

    proposal = infer_schema(interactions)

    assert {"label", "rating", "visited"} <= set(proposal.data.categorical)
    assert "visit" in proposal.data.categorical + proposal.data.numeric
    assert not {"label", "rating", "visited", "visit"} & {t.name for t in proposal.tasks}
    assert proposal.ignored["watch_date"] == "a date/time that is not the timestamp column"


def test_epoch_times_mixing_seconds_and_milliseconds_are_read_by_magnitude_with_a_note(interactions):
    # Half the rows in seconds, half in milliseconds: the time split took the millisecond rows as the latest, so 599
    # training rows came after the earliest test row, and no note said so.
    ms = np.arange(len(interactions)) % 2 == 1
    seconds = interactions["timestamp"].to_numpy()
    interactions["timestamp"] = np.where(ms, seconds * 1000, seconds)
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", item_col="item_id", time_col="timestamp", categorical=["category"]),
        tasks=[TaskSpec("click")],
        split=SplitConfig(method="time"),
    )

    assert parse_time(interactions["timestamp"]).tolist() == seconds.astype(float).tolist()
    assert epoch_units(interactions["timestamp"]) == {"seconds": 1500, "milliseconds": 1500}
    assert validate(config, interactions) == [
        "timestamp column 'timestamp' mixes epoch units (1,500 in seconds, 1,500 in milliseconds): each number was "
        "read in the unit its magnitude says and converted to seconds, for the time split, the most recent rows and "
        "the predictions' times; write them in one unit to be sure"
    ]
    kept, test = split_rows(config, interactions, 0.2)
    assert seconds[kept].max() <= seconds[test].min()  # the latest rows in real time, of both units
    assert infer_schema(interactions.rename(columns={"timestamp": "created_at"})).data.time_col == "created_at"


@pytest.mark.parametrize(
    "values",
    [
        [1_700_000_000, 1_700_000_060],  # seconds
        [1_700_000_000_000, 1_700_000_060_000],  # milliseconds
        [1_700_000_000, 50_000_000_000, 1_700_000_000_000],  # 5e10 is no time in seconds nor in milliseconds
        [3, 1_700_000_000_000],  # a number below any epoch time
    ],
)
def test_epoch_times_in_one_unit_or_not_all_times_stay_as_they_are_without_a_note(interactions, values):
    interactions["timestamp"] = np.resize(values, len(interactions))
    config = ExperimentConfig(
        data=DataConfig(time_col="timestamp", categorical=["category"]), tasks=[TaskSpec("click")]
    )

    assert parse_time(interactions["timestamp"]).tolist() == interactions["timestamp"].astype(float).tolist()
    assert epoch_units(interactions["timestamp"]) is None
    assert validate(config, interactions) == []


def test_predictions_and_recommendations_see_mixed_epoch_units_as_seconds(interactions):
    from conftest import tiny_config

    from mtlrec.experiment import run_experiment
    from mtlrec.recommend import Recommender

    seconds = interactions["timestamp"].to_numpy()
    interactions["timestamp"] = np.where(np.arange(len(interactions)) % 2 == 1, seconds * 1000, seconds)
    config = tiny_config(epochs=1)
    config.split = SplitConfig(method="time", test_frac=0.2, val_frac=0.1)

    result = run_experiment(config, interactions)

    assert result.predictions["timestamp"].tolist() == sorted(seconds)[-len(result.predictions) :]
    recommender = Recommender(result.model, result.encoder, config, interactions)
    user = interactions["user_id"].iloc[-1]
    latest = interactions.loc[interactions["user_id"] == user].index.max()
    assert recommender.history(user)["timestamp"].iloc[0] == seconds[latest]  # most recent first, in seconds


@pytest.mark.parametrize("prefix", ["", "test file: "])
def test_dates_whose_day_and_month_could_be_either_way_round_say_how_they_were_read(interactions, prefix):
    # 10/09/2024 was read as 9 October with no word: the documented rule, but a day-first file was silently misread.
    days = pd.to_datetime(interactions["timestamp"], unit="s").dt.normalize() + pd.Timedelta(days=240)
    interactions["date"] = days.dt.strftime("%m/%d/%Y").where(days.dt.day <= 12, "05/05/2024")
    config = ExperimentConfig(data=DataConfig(time_col="date", categorical=["category"]), tasks=[TaskSpec("click")])
    first = interactions["date"].iloc[0]
    read = pd.Timestamp(first)  # month first

    notes = validate(config, interactions, interactions) if prefix else validate(config, interactions)

    assert notes[-1] == (
        f"{prefix}timestamp column 'date' holds dates whose day and month could be either way round (none of their "
        f"first two numbers is over 12): read month first, as written in the US ('{first}' is {read.day} "
        f"{read.strftime('%B %Y')}); if the days come first, write the dates year first (ISO, 2024-05-01) so that "
        "they read one way only"
    )
    assert parse_time(interactions["date"]).iloc[0] == read.timestamp()
    interactions.loc[7, "date"] = "13/04/2024"  # a day over 12 settles it: day first, no note
    assert validate(config, interactions) == []
    interactions["date"] = days.dt.strftime("%Y-%m-%d")  # ISO: one reading
    assert validate(config, interactions) == []


def _log(columns: dict[str, int], n: int = 3000, seed: int = 3) -> pd.DataFrame:
    """A log of n rows with integer ids drawn from the given numbers of values, and a 0/1 click."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: rng.integers(0, k, n) for c, k in columns.items()})
    return frame.assign(click=rng.integers(0, 2, n))


@pytest.mark.parametrize("item", ["venueId", "venue_id", "location_id", "place_id"])
def test_check_in_logs_name_their_items_venues_locations_or_places(item):
    # Foursquare's venueId and Gowalla's location_id were features: ranking metrics and recommendations off
    data = infer_schema(_log({"userId": 200, item: 900})).data

    assert (data.user_col, data.item_col) == ("userId", item)


def test_a_thing_id_recurring_across_users_is_the_item_when_none_is_named_as_one():
    # Anime's anime_id beside user_id: no item column, so no ranking metrics nor recommendations
    proposal = infer_schema(_log({"user_id": 150, "anime_id": 800, "city_id": 30}))

    assert proposal.data.item_col == "anime_id"
    assert proposal.notes == [
        "column 'anime_id' is proposed as the item column: no column is named as one, and its 774 ids recur across "
        "users' rows; if it is not the item, choose another (CLI: --item-col NAME, or none)"
    ]


def test_an_attribute_an_event_or_a_per_user_id_is_not_taken_as_the_item():
    frame = _log({"user_id": 150, "category_id": 800, "conversion_id": 900})
    frame["profile_id"] = frame["user_id"] * 7  # one per user: a user attribute
    frame["visit_id"] = np.arange(len(frame)) // 3  # a user's own visits

    proposal = infer_schema(frame)

    assert proposal.data.item_col is None
    assert not any("proposed as the item column" in note for note in proposal.notes)


def test_with_a_user_but_no_item_column_the_note_names_the_likely_one_and_the_flag():
    # KKBox's msno (its user) beside song_id: the note said only "no user column chosen"
    rng = np.random.default_rng(4)
    n = 3000
    users = rng.integers(0, 300, n)
    frame = pd.DataFrame(
        {
            "msno": [f"m{u:04d}=" for u in users],
            "song_id": [f"s{i}" for i in rng.integers(0, 900, n)],
            "city": users % 20,  # a user attribute: does not recur across a song's rows as ids
            "target": rng.integers(0, 2, n),
        }
    )

    proposal = infer_schema(frame)

    hint = (
        "column 'msno' may be the user column (300 values, recurring across items' rows; no column is named as "
        "one): to get ranking metrics and recommendations, name it (CLI: --user-col msno; on Data, choose it as the "
        "user column)"
    )
    assert (proposal.data.user_col, proposal.data.item_col) == (None, "song_id")
    assert proposal.notes == [hint]
    assert ranking_note(proposal.data, frame) == (
        f"no user column chosen: ranking metrics (NDCG@K, Recall@K, HitRate@K) and recommendations are off; {hint}"
    )
    assert ranking_note(proposal.data) == (
        "no user column chosen: ranking metrics (NDCG@K, Recall@K, HitRate@K) and recommendations are off"
    )


@pytest.mark.parametrize("user", ["household_key", "customer_key"])
def test_a_key_is_an_id_word_households_are_users(user):
    # Dunnhumby's household_key (2,500 households) was standardised as a number and not taken as the user
    frame = _log({user: 400, "PRODUCT_ID": 900, "store_key": 300})

    data = infer_schema(frame).data

    assert (data.user_col, data.item_col) == (user, "PRODUCT_ID")
    assert "store_key" in data.categorical and not {user, "store_key"} & set(data.numeric)


def test_integers_that_are_mostly_the_item_columns_ids_are_categories():
    # Tenrec's hist_1..hist_10 (the items of past clicks, 0 for none) were standardised as numbers
    rng = np.random.default_rng(6)
    n = 3000
    frame = _log({"user_id": 200, "item_id": 500}, n=n)
    frame["hist_1"] = np.where(rng.random(n) < 0.3, 0, rng.integers(0, 500, n))
    frame["age"] = rng.integers(18, 80, n)  # in the items' range, but far fewer values: a number
    frame["views"] = rng.integers(0, 2000, n)  # as many values, mostly no item's: a number
    frame["read_time"] = rng.integers(0, 450, n)  # seconds in the items' range (Tenrec's QB-article): a quantity

    data = infer_schema(frame).data

    assert "hist_1" in data.categorical
    assert {"age", "views", "read_time"} <= set(data.numeric)


@pytest.mark.parametrize("name", ["utcTimestamp", "utc_timestamp", "when"])
@pytest.mark.parametrize("fmt", ["%a %b %d %H:%M:%S +0000 %Y", "%a %b %d %H:%M:%S %Y"])
def test_twitter_and_ctime_timestamps_are_the_time_column(name, fmt):
    # Foursquare's utcTimestamp ('Tue Apr 03 18:00:09 +0000 2012') was ignored as a row id or free text
    n = 300
    times = 1333476009 + np.arange(n) * 3607
    frame = _log({"userId": 30, "venueId": 60}, n=n).assign(
        **{name: [pd.Timestamp(t, unit="s").strftime(fmt) for t in times]}
    )

    proposal = infer_schema(frame)

    assert proposal.data.time_col == name
    assert parse_time(frame[name]).tolist() == times.astype(float).tolist()


def test_a_date_about_the_user_is_not_the_time_of_the_rows_however_fine():
    # Santander's fecha_alta (the account's opening) beat fecha_dato (the monthly snapshot); KKBox's
    # registration_init_time was its time column
    rng = np.random.default_rng(8)
    n = 600
    frame = _log({"user_id": 100, "item_id": 200}, n=n)
    frame["fecha_dato"] = rng.choice(["2015-01-28", "2015-02-28", "2015-03-28"], n)
    frame["fecha_alta"] = [f"2012-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}" for _ in range(n)]
    frame["first_seen"] = (1_300_000_000 + frame["user_id"] * 86_400 * 3).astype("int64")  # the same per user
    frame = frame.rename(columns={"first_seen": "first_seen_ts"})

    proposal = infer_schema(frame)

    assert proposal.data.time_col == "fecha_dato"
    reason = (
        "a date/time that is not the timestamp column: a date about the user (named as a registration, expiry or "
        "birth date, or the same in each user's rows), not the time of the rows (choose it as the timestamp if it is)"
    )
    assert proposal.ignored["fecha_alta"] == proposal.ignored["first_seen_ts"] == reason
    only = infer_schema(
        frame[["user_id", "item_id", "click", "fecha_alta"]].rename(columns={"fecha_alta": "signup_date"})
    )
    assert only.data.time_col is None and only.ignored["signup_date"] == reason


@pytest.mark.parametrize(("name", "code", "scale"), [("rating", -1, range(1, 11)), ("Book-Rating", 0, range(1, 11))])
def test_a_frequent_lone_low_value_in_a_regression_label_is_said_to_look_like_a_missing_code(name, code, scale):
    # Anime's rating -1 ("watched, not rated", 19% of the rows) trained as a rating value, with no word
    rng = np.random.default_rng(9)
    n = 500
    frame = _log({"user_id": 50, "item_id": 80}, n=n).drop(columns="click")
    frame[name] = np.where(np.arange(n) % 5 == 0, code, rng.choice(list(scale), n))
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", item_col="item_id", categorical=["user_id", "item_id"]),
        tasks=[TaskSpec(name, "regression")],
    )

    notes = validate(config, frame)

    assert notes == [
        f"column '{name}': {code} in 100 rows (20%) is far below its other values (1 to 10): it looks like a code for "
        f"missing (e.g. watched but not rated), which trains as a value; if so, drop those rows (on Data: Fix the "
        f"rows; CLI: `--drop '{name} == {code}'`; in pandas: df = df[df['{name}'] != {code}]), or, to predict "
        f"whether a value is given, make a 0/1 task of them instead of '{name}' (e.g. on Data: Fix the rows; CLI: "
        f"`--label 'rated={name} != {code}'`) and leave '{name}' out of the tasks (CLI: --exclude {name}; on Data: "
        f"its role ignore): as a task it would still learn {code} as a value"
    ]
    frame["watch_time"] = np.where(np.arange(n) % 5 == 0, 0, rng.integers(1, 600, n))  # a watch time of 0 is a value
    config.tasks = [TaskSpec("watch_time", "regression")]
    assert validate(config, frame.drop(columns=name)) == []


def test_a_frequent_run_of_nines_above_a_regression_labels_values_is_said_to_look_like_a_missing_code():
    # Jester's 99 ("not rated") beside ratings from -10 to 10 trained as a rating: RMSE 50, and no word.
    rng = np.random.default_rng(9)
    n = 500
    frame = _log({"user_id": 50, "item_id": 80}, n=n).drop(columns="click")
    frame["rating"] = np.where(np.arange(n) % 2 == 0, 99, rng.uniform(-10, 10, n).round(2))
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", item_col="item_id", categorical=["user_id", "item_id"]),
        tasks=[TaskSpec("rating", "regression")],
    )
    [note] = validate(config, frame)
    assert note.startswith("column 'rating': 99 in 250 rows (50%) is far above its other values (")
    assert "`--drop 'rating == 99'`" in note
    frame["rating"] = np.where(np.arange(n) % 2 == 0, 99, rng.integers(0, 90, n))  # 99 is near the others: a value
    assert validate(config, frame) == []


def test_a_label_missing_exactly_where_another_column_says_is_to_be_dropped_not_filled():
    # Avito's IsClick is empty exactly where ObjectType is not 3 (no click recorded there): "fill or drop those rows"
    # led to filling them with 0
    n = 300
    frame = _log({"user_id": 30, "item_id": 60}, n=n)
    frame["ObjectType"] = np.arange(n) % 3 + 1
    frame["click"] = frame["click"].where(frame["ObjectType"] == 3)
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", item_col="item_id", categorical=["user_id", "item_id", "ObjectType"]),
        tasks=[TaskSpec("click")],
    )

    with pytest.raises(MtlrecError) as info:
        validate(config, frame)

    assert info.value.problems == [
        "column 'click' (task) has missing values in 200 rows (rows 1, 2, 4, ..., e.g. empty), exactly the rows where "
        "'ObjectType' is 1 or 2: the label is not recorded there, so drop those rows rather than fill them (a filled "
        "value would be made up; on Data: Fix the rows; CLI: `--drop 'click missing'`)"
    ]


def test_an_esmm_funnel_broken_by_most_of_its_rows_is_refused_saying_to_group_the_rows():
    # REES46's is_cart and is_purchase, one row per event, exclude each other: ESMM trained with every purchase
    # breaking the funnel, said in a note among the epochs
    n = 300
    frame = _log({"user_id": 30, "item_id": 60}, n=n).drop(columns="click")
    frame["is_cart"] = (np.arange(n) % 3 == 1).astype(int)
    frame["is_purchase"] = (np.arange(n) % 3 == 2).astype(int)
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", item_col="item_id", categorical=["user_id", "item_id"]),
        tasks=[TaskSpec("is_cart"), TaskSpec("is_purchase")],
    )
    config.model.kind, config.model.funnel = "esmm", {"is_purchase": "is_cart"}

    with pytest.raises(MtlrecError) as info:
        validate(config, frame)

    assert info.value.problems == [
        "funnel 'is_purchase' -> 'is_cart' is broken by most of its rows: 100 of the 100 rows with is_purchase = 1 "
        "have is_cart = 0, and ESMM assumes is_purchase happens only after is_cart. Labels made from one row per "
        "event exclude each other: group the rows to one per user (or session) and item, each label the max over its "
        "rows, or train shared-bottom or MMoE instead"
    ]
    frame["is_cart"] = frame["is_cart"] | frame["is_purchase"]  # grouped: a purchase was carted
    frame.loc[2, "is_cart"] = 0  # one row breaks it: a note
    assert [n for n in validate(config, frame) if n.startswith("funnel 'is_purchase' -> 'is_cart': 1 row (row 3)")]


def test_a_log_with_no_label_nor_0_1_column_is_said_to_hold_positives_only():
    # Gowalla's check-ins and Dunnhumby's transactions: "name them with --tasks" only, with nothing to name
    frame = _log({"user": 40, "location_id": 90}).drop(columns="click")
    frame["latitude"] = np.linspace(30.0, 40.0, len(frame))
    config = ExperimentConfig(data=DataConfig(user_col="user", item_col="location_id", categorical=["user"]))

    with pytest.raises(MtlrecError) as info:
        validate(config, frame)

    assert info.value.problems[0].endswith(
        "; no column reads as a label: if every row is an interaction (a check-in, a purchase), the log holds "
        "positives only, and a binary task needs negatives: sample items each user did not interact with as 0 rows, "
        "with a 0/1 label that is 1 on the logged rows (on Data: Fix the rows, Sample negatives; CLI: --negatives 4), "
        "or add the items shown but not chosen"
    )


def test_iso_dates_beside_day_first_dates_keep_their_own_order():
    # pandas read every value of the column day first once some were (04.09.2024, or 13/09/2024): 2024-09-04 became
    # 9 April (a review).
    cases = {
        ("2024-09-04", "04.09.2024", "05.09.2024"): [(9, 4), (9, 4), (9, 5)],
        ("2024-09-04T10:00:00Z", "13/09/2024", "2024/09/04"): [(9, 4), (9, 13), (9, 4)],
    }
    for column, expected in cases.items():
        read = pd.to_datetime(parse_time(pd.Series(column)), unit="s")
        assert [(t.month, t.day) for t in read] == expected, column


def test_a_label_with_missing_values_and_text_gets_both_problems(interactions):
    # Only the missing values were named; once filled, the text categories blocked the label again (Mercari's
    # category_name made a label; a browser audit). Every validation problem is listed.
    interactions["category_name"] = np.array(["Women/Tops", "Men/Shoes", "Kids/Toys", None])[
        np.arange(len(interactions)) % 4
    ]
    config = ExperimentConfig(
        data=DataConfig(categorical=["category"]), tasks=[TaskSpec("category_name", "regression")]
    )

    with pytest.raises(MtlrecError) as info:
        validate(config, interactions)

    missing, text = info.value.problems
    assert missing.startswith("column 'category_name' (task) has missing values in ")
    assert text.startswith("column 'category_name' holds text categories ('Women/Tops', 'Men/Shoes', 'Kids/Toys')")


def test_the_rating_hint_prefers_a_rating_name_and_writes_commands_that_paste():
    from mtlrec.schema import label_hint

    frame = pd.DataFrame({"device": [0, 1, 2, 3] * 5, "my score": [1, 2, 3, 4, 5] * 4, "r": [1, 2, 3, 4, 5] * 4})

    assert label_hint(frame) == (
        "; column 'my score' holds whole numbers from 1 to 5, as ratings do: if it is one, train it as a regression "
        "task (--tasks 'my score') or make a 0/1 label of it (on Data: Fix the rows; CLI: `--label 'liked=my score "
        ">= 4'`)"
    )
    assert "column 'r' " in label_hint(frame.drop(columns="my score"))  # the most values, not the first column
    assert "--tasks" not in label_hint(pd.DataFrame({"score,1-5": [1, 2, 3, 4, 5] * 4}))  # --tasks splits at commas


def test_epoch_numbers_under_a_name_that_says_no_time_are_named_in_a_note_until_a_time_column_is_chosen(
    tmp_path, capsys
):
    # `unix` (or `clicktime`, in ms) was a numeric feature without a word, and --split time failed without naming it
    from mtlrec.cli import main

    rng = np.random.default_rng(0)
    n = 3_000
    frame = pd.DataFrame({"user_id": rng.integers(0, 100, n), "item_id": rng.integers(0, 50, n),
                          "unix": 1_650_000_000 + rng.integers(0, 5_000_000, n), "price": rng.integers(1, 500, n),
                          "click": rng.integers(0, 2, n)})  # fmt: skip
    proposal = infer_schema(frame)
    assert proposal.data.time_col is None and "unix" in proposal.data.numeric
    [note] = [n for n in proposal.notes if n.startswith("no column is named as a time")]
    assert note == (
        "no column is named as a time, but 'unix' holds whole numbers that read as epoch seconds (2022-04-15 to "
        "2022-06-12): if they say when each row happened, make it the time column (CLI: --time-col unix; on Data: "
        "the time box), for the time split and a user's latest row; it is a numeric feature now"
    )
    in_ms = frame.rename(columns={"unix": "clicktime"}).assign(clicktime=lambda f: f["clicktime"] * 1000 + 7)
    assert "epoch milliseconds (2022-04-15 to 2022-06-12)" in " ".join(infer_schema(in_ms).notes)
    named = frame.rename(columns={"unix": "timestamp"})  # a time column found: no note
    assert infer_schema(named).data.time_col == "timestamp"
    assert not [n for n in infer_schema(named).notes if "epoch" in n]
    few = frame.assign(unix=1_650_000_000 + rng.integers(0, 5, n))  # a code repeated, not times
    assert not [n for n in infer_schema(few).notes if "epoch" in n]
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    args = ["train", str(path), "--size", "tiny", "--epochs", "1", "--quiet", "--split", "time"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 2
    assert "note: no column is named as a time, but 'unix'" in capsys.readouterr().out
    assert main([*args, "--time-col", "unix", "--out", str(tmp_path / "b")]) == 0
    assert "no column is named as a time" not in capsys.readouterr().out


def test_a_rescaled_copy_of_a_regression_label_is_one_task_twice():
    # MovieLens with rating / 5 beside rating: two regression tasks proposed, and a sweep between them would draw a
    # trade-off that is not there (an audit)
    rng = np.random.default_rng(0)
    n = 3_000
    rating = np.clip(np.round(3.5 + rng.normal(0, 1, n)), 1, 5)
    frame = pd.DataFrame({"user_id": rng.integers(0, 300, n), "item_id": rng.integers(0, 200, n), "rating": rating,
                          "rating_norm": rating / 5, "watch_time": rng.exponential(20, n)})  # fmt: skip
    proposal = infer_schema(frame)
    assert [t.name for t in proposal.tasks] == ["rating", "watch_time"]
    assert proposal.ignored["rating_norm"].startswith("a rescaled copy of task 'rating' (rank correlation +1.0000)")
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", item_col="item_id", categorical=["user_id", "item_id"]),
        tasks=[TaskSpec("rating", "regression"), TaskSpec("rating_norm", "regression"),
               TaskSpec("watch_time", "regression")],
    )  # fmt: skip
    with pytest.raises(MtlrecError) as info:
        validate(config, frame)
    assert info.value.problems == [
        "task 'rating_norm' is a rescaled copy of task 'rating' (rank correlation +1.0000 on the rows both have): one "
        "task twice, so training both learns nothing more (and a sweep between them draws no trade-off); keep one of "
        "them"
    ]
    frame["rating_norm"] = -frame["rating"]  # the reverse
    assert (
        infer_schema(frame).ignored["rating_norm"].startswith("the reverse of task 'rating' (rank correlation -1.0000)")
    )
    frame["rating_norm"] = rating + rng.normal(0, 0.3, n)  # a strongly related outcome, not a copy
    validate(config, frame)


def test_times_with_and_without_a_utc_offset_in_one_column_get_a_note():
    # Local times beside times with offsets: those without were read as UTC, up to 5.5 h off, without a word
    mixed = pd.Series(["2024-03-12 08:29:14", "2024-03-12 09:29:14+05:30", "2024-03-12T10:00:00-05:00"] * 40)
    [note] = time_notes("event_time", mixed)
    assert note == (
        "timestamp column 'event_time' mixes times with a UTC offset (80 rows, e.g. '2024-03-12 09:29:14+05:30') and "
        "times without one (40 rows): those without were read as UTC, which moves them by the offset they were "
        "written in; write every time with its offset (or every one in UTC) to be sure"
    )
    for one_way in (mixed[mixed.str.contains(r"\d[+-]\d\d:")], mixed[~mixed.str.contains(r"\d[+-]\d\d:")],
                    pd.Series(["2024-03-12", "2024-03-13Z"] * 30)):  # fmt: skip
        assert not [n for n in time_notes("event_time", one_way) if "UTC offset" in n]


def test_a_table_of_people_is_told_which_two_valued_columns_can_make_a_label_not_to_sample_negatives():
    # Census-Income as its files write it: income ' - 50000.' / ' 50000+.' was met with "sample negatives", which
    # needs user and item columns the table does not have (an audit)
    from mtlrec.fixes import parse_fix
    from mtlrec.schema import label_hint

    rng = np.random.default_rng(0)
    n = 2_000
    frame = pd.DataFrame({"age": rng.integers(18, 90, n), "sex": rng.choice([" Male", " Female"], n),
                          "income": rng.choice([" - 50000.", " 50000+."], n, p=[0.94, 0.06]),
                          "education": rng.choice([" HS", " College", " PhD"], n)})  # fmt: skip
    hint = label_hint(frame)
    assert hint == (
        "; columns holding two values, from which a 0/1 label can be made: sex, income (e.g. 1 where income is "
        "'50000+.': on Data: Fix the rows; CLI: `--label 'income_50000=income == 50000+.'`)"
    )
    fix = parse_fix("label", "income_50000=income == 50000+.")
    assert fix == {"label": "income_50000", "from": "income", "where": "==", "value": "50000+."}


def test_a_plural_name_is_the_item_column_only_when_no_column_is_named_as_the_item_itself():
    # Steam's reviews: 'products' (how many games the reviewer owns) came before 'product_id' and became the item.
    rng = np.random.default_rng(0)
    n = 2000
    frame = pd.DataFrame(
        {
            "products": rng.integers(1, 900, n),
            "product_id": [f"g{i}" for i in rng.integers(0, 150, n)],
            "user_id": [f"u{i}" for i in rng.integers(0, 300, n)],
            "click": rng.integers(0, 2, n),
        }
    )
    assert infer_schema(frame).data.item_col == "product_id"
    assert infer_schema(frame.drop(columns="product_id")).data.item_col == "products"


@pytest.mark.parametrize(("values", "said"), [((1, 2), "two values only (1 and 2)"), ((0, 1), "0 and 1 only")])
def test_a_regression_label_of_two_values_says_a_binary_task_may_fit(values, said):
    # H&M's sales_channel_id (1 or 2), named with --tasks, trained silently as a regression of the two numbers.
    n = 300
    frame = _log({"user_id": 30, "item_id": 60}, n=n).drop(columns="click")
    frame["channel"] = np.where(np.arange(n) % 3 == 0, values[0], values[1])
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", item_col="item_id", categorical=["user_id", "item_id"]),
        tasks=[TaskSpec("channel", "regression")],
    )
    [note] = validate(config, frame)
    assert note.startswith(f"column 'channel': it holds {said}")
    if values == (1, 2):
        assert "`--label 'channel_2=channel == 2'`" in note


def test_a_user_by_item_matrix_without_a_label_says_how_to_make_one_row_per_user_and_item(tmp_path):
    # Jester's wide file (one row per user, joke_1 ... joke_100) was called a log of positives only.
    from mtlrec.schema import label_hint

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"joke_{j}": rng.uniform(-10, 10, 30).round(2) for j in range(1, 21)})
    frame.insert(0, "num_rated", 20)
    hint = label_hint(frame)
    assert "its 20 columns joke_1 … joke_20 look like one item each" in hint
    code = hint.split("with pandas: ")[1].split(", then drop the rows")[0]
    exec(code.replace("'ratings.csv'", repr(str(tmp_path / "r.csv"))), {"df": frame, "pd": pd})  # as pasted
    long = pd.read_csv(tmp_path / "r.csv")
    assert len(long) == 30 * 20 and list(long.columns) == ["user", "item", "rating"]
    features = pd.DataFrame({f"f{j}": rng.random(30) for j in range(20)} | {"emb_1": rng.random(30)})
    assert "look like one item each" not in label_hint(features)


def test_a_timestamp_column_of_small_numbers_is_said_to_be_an_order_not_epoch_times():
    # Goodreads' rating 0-5 as the time column: read as 1970's first seconds, with no word.
    assert time_notes("rating", pd.Series([0, 5, 3, 4, 1, 2])) == [
        "timestamp column 'rating' holds small numbers (0 to 5, 6 distinct), not epoch times (those would be the first "
        "days of 1970): the time split and the most recent rows follow their order; if it is no time or order of the "
        "rows, choose another timestamp column, or none (on Data: Timestamp column; CLI: --time-col C or --time-col "
        "none)"
    ]
    assert time_notes("ts", pd.Series([1_700_000_000, 1_700_000_500])) == []
    assert time_notes("day", pd.Series([20240501, 20240502])) == []  # date codes
    # Excel's serial dates (44927.5 is 2023-01-01 12:00) get the line that reads them, which runs as written.
    serial = pd.Series([44927.5, 44928.25, 45000.0])
    [note] = time_notes("date", serial)
    line = note.split("to read them as dates, ")[1]
    assert line == "pd.to_datetime(df['date'], unit='D', origin='1899-12-30')"
    assert str(eval(line, {"pd": pd, "df": pd.DataFrame({"date": serial})})[0]) == "2023-01-01 12:00:00"


def test_a_binary_labels_odd_values_are_listed_in_order_and_a_verified_purchase_flag_is_no_task(interactions):
    frame = interactions.assign(click=np.array([0, 10, 2, 1, 3])[np.arange(len(interactions)) % 5])
    config = ExperimentConfig(data=infer_schema(interactions).data, tasks=[TaskSpec("click")])
    with pytest.raises(MtlrecError) as info:
        validate(config, frame)
    assert "column 'click' is a binary task but has 5 distinct values (0, 1, 2, 3, 10)" in info.value.problems[0]
    # Amazon 2023's verified_purchase is a review's flag beside its rating, not an outcome to predict
    flagged = interactions.assign(verified_purchase=np.arange(len(interactions)) % 3 == 0)
    assert "verified_purchase" not in [t.name for t in infer_schema(flagged).tasks]


def test_blank_text_times_are_missing_times_and_a_complete_time_column_comes_first():
    # Goodreads' JSON writes an unread book's read_at as "": the column read as "a row id or free text", and once
    # read as times it took the time role from the complete date_added.
    rng = np.random.default_rng(0)
    n = 300
    stamps = ["Thu Dec 17 11:52:03 -0800 2015", "Mon Jan 04 08:00:00 -0800 2016", "Sat Mar 05 21:10:44 -0800 2016"]
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 30, n),
            "book_id": rng.integers(0, 60, n),
            "is_read": rng.integers(0, 2, n),
            "date_added": (stamps * 100)[:n],
            "read_at": [stamps[i % 3] if i % 2 else "" for i in range(n)],
        }
    )

    proposal = infer_schema(frame)

    assert proposal.data.time_col == "date_added"
    assert proposal.ignored["read_at"] == "a date/time that is not the timestamp column"


def test_a_rating_with_one_value_per_item_is_an_item_feature_not_a_task():
    # Anime's rating.csv joined with anime.csv: rating_x the user's rating, rating_y the anime's average. As a task,
    # rating_y was learnt from the item id and drove Recommend's ranking (an audit).
    rng = np.random.default_rng(0)
    n, items = 3000, 200
    item = rng.integers(0, items, n)
    average = np.round(rng.uniform(5, 9, items), 2)
    frame = pd.DataFrame({
        "user_id": rng.integers(0, 300, n),
        "anime_id": item,
        "rating_x": np.clip(np.round(average[item] + rng.normal(0, 1.5, n)), 1, 10),
        "rating_y": average[item],
    })  # fmt: skip
    proposal = infer_schema(frame)
    assert [t.name for t in proposal.tasks] == ["rating_x"]
    assert "rating_y" in proposal.data.numeric
    assert any(note.startswith("column 'rating_y' is named like a label but holds one value per item") for note in
               proposal.notes)  # fmt: skip
    # a rating that differs within items stays a task, and a lone rating (nothing else to train) too
    frame["rating_y"] = average[item] + rng.normal(0, 0.5, n).round(1)
    assert [t.name for t in infer_schema(frame).tasks] == ["rating_x", "rating_y"]
    assert [t.name for t in infer_schema(frame.drop(columns="rating_x").assign(rating_y=average[item])).tasks] == [
        "rating_y"
    ]


def test_a_mostly_empty_column_of_distinct_lists_is_free_text_counted_over_its_filled_rows():
    # Trivago's impressions: empty in 2 of 3 rows, a list of hotel ids almost never repeated in the others; counted
    # over every row it passed the distinct-share rule and became a category of whole lists (an audit).
    rng = np.random.default_rng(0)
    n = 3000
    lists = ["|".join(map(str, rng.integers(10_000, 99_999, 5))) if i % 3 == 0 else None for i in range(n)]
    frame = pd.DataFrame({"user_id": rng.integers(0, 100, n), "clicked": rng.integers(0, 2, n), "impressions": lists})
    proposal = infer_schema(frame)
    assert "impressions" not in proposal.data.features
    assert proposal.ignored["impressions"].startswith("1,000 distinct values in the 1,000 rows holding a value: ")
    assert proposal.ignored["impressions"].endswith("choose it as multi-valued (CLI: --multi impressions)")


def test_the_event_type_example_is_the_rarest_outcome_not_the_last_type_seen():
    # Trivago's action_type: the example was "search for destination" (the last seen), not the clickout.
    from mtlrec.schema import label_hint

    types = ["interaction item image"] * 50 + ["clickout item"] * 10 + ["filter selection"] * 5 + [
        "search for destination"] * 3  # fmt: skip
    hint = label_hint(pd.DataFrame({"user_id": range(len(types)), "action_type": types}))
    assert "(e.g. clickout item = 1 where action_type is 'clickout item', else 0" in hint
    hint = label_hint(pd.DataFrame({"action_type": ["open"] * 9 + ["close"] * 4 + ["scroll"] * 2}))
    assert "(e.g. scroll = 1 where action_type is 'scroll', else 0" in hint  # no outcome named: the rarest


def test_free_text_is_ignored_not_a_category_per_text():
    # A 200-character title per item and reviews of a few thousand values (under half the rows distinct) became
    # categorical features (an audit); short codes and multi-word categories stay categories.
    rng = np.random.default_rng(0)
    n = 4000
    words = np.array(["great", "movie", "bad", "plot", "the", "acting", "was", "fine", "really", "long"])
    reviews = [" ".join(rng.choice(words, 12)) for _ in range(1500)]
    frame = pd.DataFrame({
        "user_id": rng.integers(0, 300, n),
        "item_id": rng.integers(0, 100, n),
        "click": rng.integers(0, 2, n),
        "review": rng.choice(reviews, n),
        "filter": rng.choice(["Sort by Price", "Breakfast Included", "Free WiFi (Rooms)"], n),
    })  # fmt: skip
    proposal = infer_schema(frame)
    assert proposal.ignored["review"].startswith("free text (its values have a median of 12 words)")
    assert "filter" in proposal.data.categorical


def test_a_category_of_many_words_but_few_values_stays_a_category():
    # A category path and a user agent (12 and 4 values) were ignored as free text by the word count alone.
    rng = np.random.default_rng(1)
    n = 3000
    paths = [f"Home & Garden > Kitchen & Dining > Cookware {i}" for i in range(12)]
    agents = [f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) build {i}" for i in range(4)]
    frame = pd.DataFrame({"user_id": rng.integers(0, 200, n), "item_id": rng.integers(0, 80, n),
                          "click": rng.integers(0, 2, n), "path": rng.choice(paths, n), "agent": rng.choice(agents, n)})  # fmt: skip
    proposal = infer_schema(frame)
    assert {"path", "agent"} <= set(proposal.data.categorical)


def test_a_column_of_ids_mixed_with_text_is_not_offered_as_the_item_column():
    # Trivago's reference: a hotel id on clicks, a filter or a city on other actions; taken as the item column on
    # the hint's advice, recommendations listed "Breakfast Included" (an audit).
    rng = np.random.default_rng(0)
    n = 4000
    hotels = rng.integers(100_000, 100_400, n).astype(str)
    words = rng.choice(["Sort by Price", "Breakfast Included", "Lisbon, Portugal"], n)
    frame = pd.DataFrame({"user_id": rng.integers(0, 200, n), "clicked": rng.integers(0, 2, n),
                          "reference": np.where(rng.random(n) < 0.8, hotels, words)})  # fmt: skip
    proposal = infer_schema(frame)
    assert proposal.data.item_col is None
    assert not any("may be the item column" in note for note in proposal.notes)
    frame["reference"] = hotels  # ids alone: offered
    assert any(note.startswith("column 'reference' may be the item column") for note in infer_schema(frame).notes)


@pytest.mark.parametrize(
    ("user", "item"),
    [("user_id", "product_sku"), ("user_id", "product_sku_hash"), ("uid", "track_uri"), ("customer_id", "article_sku"),
     ("user_uuid", "item_uuid"), ("user_guid", "asin"), ("user_id", "ean")],
)  # fmt: skip
def test_skus_uris_and_uuids_name_users_and_items(user, item):
    # Coveo's product_sku_hash, Spotify's track_uri, user_uuid: no item column, so no ranking and no Recommend (audit)
    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame({user: [f"u{u}" for u in rng.integers(0, 300, n)],
                          item: [f"i{i:05d}" for i in rng.integers(0, 500, n)], "click": rng.integers(0, 2, n)})  # fmt: skip
    proposal = infer_schema(frame)
    assert (proposal.data.user_col, proposal.data.item_col) == (user, item)


def test_a_hashed_session_key_is_a_request_key_and_isbns_beside_the_item_are_ids():
    rng = np.random.default_rng(0)
    n = 3000
    books = rng.integers(0, 400, n)
    frame = pd.DataFrame({
        "session_id_hash": [f"s{s:05d}" for s in rng.integers(0, 1500, n)],  # Coveo's: embedded as a feature before
        "user_id": rng.integers(0, 300, n),
        "book_id": books,
        "isbn13": 9.78e12 + books * 7919.0,  # written 9.78000e+12 by Excel: standardised as a number before
        "items": rng.integers(1, 60, n),  # a count, not ids
        "click": rng.integers(0, 2, n),
    })  # fmt: skip
    proposal = infer_schema(frame)
    assert proposal.ignored["session_id_hash"].startswith("looks like a session key")
    assert "--user-col session_id_hash --exclude session_id_hash" in proposal.ignored["session_id_hash"]
    assert proposal.data.item_col == "book_id" and "isbn13" in proposal.data.categorical
    assert "items" in proposal.data.numeric


@pytest.mark.parametrize(("true", "false"), [("WAHR", "FALSCH"), ("Ja", "Nein"), ("VRAI", "FAUX"), ("oui", "non")])
def test_true_and_false_as_spreadsheets_write_them_in_other_languages_are_binary_labels(true, false):
    # German Excel's WAHR/FALSCH in 'purchased' was refused as "2 distinct values, recode them as 0/1" (audit)
    rng = np.random.default_rng(0)
    flags = rng.random(400) < 0.3
    frame = pd.DataFrame({"user_id": rng.integers(0, 40, 400), "item_id": rng.integers(0, 50, 400),
                          "purchased": np.where(flags, true, false)})  # fmt: skip
    proposal = infer_schema(frame)
    assert [(t.name, t.type) for t in proposal.tasks] == [("purchased", "binary")]
    np.testing.assert_array_equal(binary_labels(frame["purchased"]), flags.astype(float))


def test_a_label_with_no_values_at_all_is_told_to_be_left_out_not_to_drop_its_missing_rows():
    # "--drop 'like missing'" would have dropped every row (audit)
    frame = pd.DataFrame({"user_id": np.arange(300) % 20, "click": np.arange(300) % 2, "like": np.nan})
    config = ExperimentConfig(data=DataConfig(user_col="user_id", categorical=["user_id"]),
                              tasks=[TaskSpec("click"), TaskSpec("like", type="regression")])  # fmt: skip
    with pytest.raises(MtlrecError) as info:
        validate(config, frame)
    assert "column 'like' (task) has no values at all (every row is missing): leave it out of the tasks" in (
        info.value.problems
    )
    assert not any("--drop" in p for p in info.value.problems)


def test_a_time_column_of_epoch_numbers_and_dates_as_text_is_said_to_mix_them():
    # '2023-11-14 23:16:20' was called "not a time" with advice to write "dates like 2024-05-01 12:00" (audit)
    seconds = 1_700_000_000 + np.arange(300) * 600
    stamps = pd.Series(seconds.astype(object))
    stamps[1::3] = pd.to_datetime(seconds[1::3], unit="s").astype(str)
    frame = pd.DataFrame({"user_id": np.arange(300) % 20, "ts": stamps, "click": np.arange(300) % 2})
    config = ExperimentConfig(data=DataConfig(user_col="user_id", time_col="ts", categorical=["user_id"]),
                              tasks=[TaskSpec("click")])  # fmt: skip
    with pytest.raises(MtlrecError) as info:
        validate(config, frame)
    [problem] = [p for p in info.value.problems if "'ts'" in p]
    assert problem.startswith("timestamp column 'ts' mixes epoch numbers (200 rows) with dates written as text in 100")


def test_epoch_numbers_among_dates_are_named_as_the_numbers_and_a_total_as_no_time():
    # Dates written as text with an epoch number in 1 row were said to be "epoch numbers (1,200 rows) with dates in 1
    # row", advising to convert the wrong rows; a spreadsheet total (13845.7) in a date column is no epoch time.
    dates = pd.Series(pd.date_range("2024-01-01", periods=300, freq="h").astype(str), dtype=object)
    frame = pd.DataFrame({"user_id": np.arange(300) % 20, "click": np.arange(300) % 2})
    config = ExperimentConfig(data=DataConfig(user_col="user_id", time_col="ts", categorical=["user_id"]),
                              tasks=[TaskSpec("click")])  # fmt: skip
    problems = {}
    for odd in ("1700000000", "13845.7"):
        stamps = dates.copy()
        stamps[299] = odd
        with pytest.raises(MtlrecError) as info:
            validate(config, frame.assign(ts=stamps))
        [problems[odd]] = [p for p in info.value.problems if "'ts'" in p]

    assert problems["1700000000"].startswith(
        "timestamp column 'ts' mixes dates written as text (299 rows) with epoch numbers in 1 row (row 300, "
    )
    assert problems["13845.7"].startswith("timestamp column 'ts' has values that are not times in 1 row (row 300, ")


def test_chinese_column_names_of_tianchi_exports_are_read_for_their_roles():
    # 用户ID, 商品ID, 是否点击: no user, no item, no label found; the CJK characters vanished from the names' words
    rng = np.random.default_rng(0)
    n = 2000
    frame = pd.DataFrame({
        "用户ID": rng.integers(0, 200, n), "商品ID": rng.integers(0, 300, n),
        "时间": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        "是否点击": rng.integers(0, 2, n), "是否购买": (rng.random(n) < 0.05).astype(int), "价格": rng.uniform(1, 99, n),
    })  # fmt: skip
    proposal = infer_schema(frame)
    assert (proposal.data.user_col, proposal.data.item_col, proposal.data.time_col) == ("用户ID", "商品ID", "时间")
    assert [t.name for t in proposal.tasks] == ["是否点击", "是否购买"] and proposal.data.numeric == ["价格"]


def test_a_part_of_a_time_is_never_offered_as_the_user_column():
    # Spotify's hour_of_day (24 values, in every session's rows) was offered as the user column beside the tracks.
    from mtlrec.schema import id_candidate_hint

    rng = np.random.default_rng(5)
    n = 3_000
    frame = pd.DataFrame({"track_id": rng.integers(0, 400, n), "hour_of_day": rng.integers(0, 24, n),
                          "listener": rng.integers(0, 150, n), "skip": rng.integers(0, 2, n)})  # fmt: skip
    data = DataConfig(item_col="track_id", categorical=["track_id", "hour_of_day", "listener"])

    assert id_candidate_hint(frame, data).startswith("column 'listener' may be the user column (150 values")
    alone = DataConfig(item_col="track_id", categorical=["track_id", "hour_of_day"])
    assert id_candidate_hint(frame.drop(columns="listener"), alone) is None


@pytest.mark.parametrize("amount", ["Quantity", "weight", "price", "n_items"])
def test_an_amount_is_never_offered_as_the_item_column(amount):
    # Online Retail's first rows: Quantity (a few recurring integers) was offered as the item column.
    from mtlrec.schema import id_candidate_hint

    rng = np.random.default_rng(6)
    n = 3_000
    frame = pd.DataFrame({"CustomerID": rng.integers(0, 150, n), amount: rng.integers(1, 40, n),
                          "buy": rng.integers(0, 2, n)})  # fmt: skip
    data = DataConfig(user_col="CustomerID", categorical=["CustomerID", amount])

    assert id_candidate_hint(frame, data) is None
    for name in ("sku", "ItemNumber", "PartNum", "account_no", "item_count_id"):  # ids, whatever their other words
        named = DataConfig(user_col="CustomerID", categorical=["CustomerID", name])
        assert id_candidate_hint(frame.rename(columns={amount: name}), named).startswith(f"column '{name}' may be")


def test_the_event_type_hint_names_the_column_whose_types_include_an_outcome():
    # Coveo's browsing log: event_type (pageview, event_product) came first and was offered; product_action
    # (detail, add, remove, click, purchase) holds what one predicts.
    from mtlrec.schema import label_hint

    rng = np.random.default_rng(6)
    n = 800
    frame = pd.DataFrame({
        "session_id_hash": rng.integers(0, 90, n).astype(str), "event_type": rng.choice(["pageview", "event_product"], n),
        "product_action": rng.choice(["detail", "add", "remove", "click", "purchase", None], n),
        "product_sku_hash": rng.integers(0, 200, n).astype(str),
    })  # fmt: skip

    assert label_hint(frame).startswith("; column 'product_action' holds event types (")
    assert label_hint(frame.drop(columns="product_action")).startswith("; column 'event_type' holds event types (")


def test_the_no_label_hint_calls_a_quantity_a_count_not_a_rating():
    # Dunnhumby's QUANTITY (0-3) was said to hold whole numbers "as ratings do", with a label 'liked' of >= 2.
    from mtlrec.schema import label_hint

    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"household_key": rng.integers(0, 50, 400), "PRODUCT_ID": rng.integers(0, 90, 400),
                          "QUANTITY": rng.integers(0, 4, 400)})  # fmt: skip

    assert label_hint(frame) == (
        "; column 'QUANTITY' holds counts from 0 to 3: if it is the outcome to predict, train it as a regression task "
        "(--tasks QUANTITY) or make a 0/1 label of it (on Data: Fix the rows; CLI: `--label 'positive=QUANTITY >= 1'`)"
    )


def test_statistics_of_past_plays_and_positions_are_features_not_tasks_or_ids():
    # A review: user_play_count, avg_play_count became tasks (play_count is one; like_count stays a feature), a
    # track_no (its place on the album) was taken for the item before song_id, Instacart's order_number (the n-th
    # order) for an order key, and seconds since midnight for Excel serial dates.
    rng = np.random.default_rng(12)
    n = 1_500
    frame = pd.DataFrame({"user_id": rng.integers(0, 100, n), "track_no": rng.integers(1, 25, n),
                          "song_id": rng.integers(0, 300, n), "order_number": rng.integers(1, 60, n),
                          "user_play_count": rng.poisson(30, n), "avg_play_count": rng.random(n) * 9,
                          "play_count": rng.poisson(2, n)})  # fmt: skip

    proposal = infer_schema(frame)

    assert [t.name for t in proposal.tasks] == ["play_count"]
    assert proposal.data.item_col == "song_id" and "order_number" not in proposal.ignored
    assert {"user_play_count", "avg_play_count"} <= set(proposal.data.categorical + proposal.data.numeric)
    seconds = pd.Series([21_600, 43_200, 79_200])
    assert not any("Excel" in note for note in time_notes("secs_since_midnight", seconds))


def test_an_item_column_of_few_values_is_not_proposed_but_said_so():
    # An app audit: an item_id of 12 values (a small catalogue) was passed over without a word, and Recommend only
    # said "no item column chosen".
    rng = np.random.default_rng(13)
    n = 1_200
    frame = pd.DataFrame({"user_id": rng.integers(0, 150, n), "item_id": rng.integers(0, 12, n),
                          "click": rng.integers(0, 2, n)})  # fmt: skip

    proposal = infer_schema(frame)

    assert proposal.data.item_col is None
    assert (
        "column 'item_id' is not proposed as the item column: it holds 12 values in 1,200 rows, few for ids; if it is "
        "the item column, name it (CLI: --item-col item_id; on Data, choose it as the item column)"
    ) in proposal.notes


def test_epoch_seconds_under_a_name_that_says_nothing_are_the_time_column():
    # MovieLens' u.data named c1..c4 on the Data page: c4 (881250949...) was a category of 788 values, no time column.
    rng = np.random.default_rng(0)
    n = 2_000
    frame = pd.DataFrame({"c1": rng.integers(1, 300, n), "c2": rng.integers(1, 900, n), "c3": rng.integers(1, 6, n),
                          "c4": 881_250_949 + rng.integers(0, 10**7, n)})  # fmt: skip

    assert infer_schema(frame).data.time_col == "c4"
    # ...not a named id of such numbers, nor one value repeated, nor numbers beyond 2040
    for other in ({"account": frame["c4"]}, {"c5": np.full(n, 1_500_000_000)}, {"c6": 3_000_000_000 + frame["c4"]}):
        assert infer_schema(frame.drop(columns="c4").assign(**other)).data.time_col is None


def test_a_few_0_1_columns_used_as_features_are_named_in_case_one_is_the_outcome():
    # `fraud` (0.04% positives) was proposed as a categorical feature without a word (a large-data audit).
    rng = np.random.default_rng(0)
    n = 2_000
    frame = pd.DataFrame({"user_id": rng.integers(0, 300, n), "item_id": rng.integers(0, 200, n),
                          "click": rng.integers(0, 2, n), "fraud": (rng.random(n) < 0.01).astype(int)})  # fmt: skip
    proposal = infer_schema(frame)
    assert [t.name for t in proposal.tasks] == ["click"] and "fraud" in proposal.data.features
    assert (
        "column 'fraud' holds 0/1 values and is used as a feature: if it is an outcome to predict, make it a task "
        "(CLI: --tasks click,fraud; on Data, its role 'label')"
    ) in proposal.notes
    wide = frame.assign(**{f"genre_{i}": rng.integers(0, 2, n) for i in range(8)})  # one-hot columns: no note
    assert not [note for note in infer_schema(wide).notes if "0/1 values" in note]


def test_the_0_1_feature_note_is_said_again_for_the_columns_and_tasks_of_the_run(tmp_path, capsys):
    # An audit: `train --tasks click,fraud` was told "column 'fraud' … is used as a feature: make it a task", and the
    # Data page said it after 'fraud' was made a label there.
    from mtlrec.cli import main
    from mtlrec.schema import with_flags_note

    rng = np.random.default_rng(0)
    n = 2_000
    frame = pd.DataFrame({"user_id": rng.integers(0, 300, n), "item_id": rng.integers(0, 200, n),
                          "click": rng.integers(0, 2, n), "fraud": (rng.random(n) < 0.05).astype(int),
                          "vip": rng.integers(0, 2, n)})  # fmt: skip
    proposal = infer_schema(frame)
    assert proposal.flags == ["fraud", "vip"]
    tasks = [TaskSpec("click"), TaskSpec("fraud")]
    assert [n for n in with_flags_note(proposal.notes, proposal.flags, proposal.data, tasks) if "0/1" in n] == [
        "column 'vip' holds 0/1 values and is used as a feature: if it is an outcome to predict, make it a task "
        "(CLI: --tasks click,fraud,vip; on Data, its role 'label')"
    ]
    tasks.append(TaskSpec("vip"))
    assert not [n for n in with_flags_note(proposal.notes, proposal.flags, proposal.data, tasks) if "0/1" in n]
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    args = ["train", str(path), "--size", "tiny", "--epochs", "1", "--quiet"]
    assert main([*args, "--tasks", "click,fraud,vip", "--out", str(tmp_path / "a")]) == 0
    assert "0/1 values" not in capsys.readouterr().out
    assert main([*args, "--tasks", "click", "--out", str(tmp_path / "b")]) == 0
    assert "note: columns 'fraud', 'vip' hold 0/1 values and are used as features" in capsys.readouterr().out


def test_a_tick_left_empty_where_the_event_did_not_happen_is_told_to_fill_them_not_to_drop_them(interactions):
    # "x" or empty: the advice was to drop the empty rows, every negative (an audit); filled with 0 it trains
    frame = interactions.assign(click=interactions["click"].map({1: "x", 0: None}))
    config = ExperimentConfig(data=DataConfig(user_col="user_id", categorical=["category"]), tasks=[TaskSpec("click")])
    with pytest.raises(MtlrecError) as info:
        validate(config, frame)
    [problem] = info.value.problems
    assert "every other row holds 'x': if empty means 0, fill them with 0" in problem and "--drop" not in problem
    from mtlrec.fixes import apply_fixes

    filled = apply_fixes(frame, [{"fill": "click", "value": 0}])[0]  # the advised fix, as training applies it
    validate(config, filled)
    assert binary_labels(filled["click"]).tolist() == interactions["click"].astype("float32").tolist()


def test_a_two_valued_label_is_told_how_to_make_a_0_1_label_of_its_rarer_value(interactions):
    frame = interactions.assign(click=interactions["click"].map({1: "converted", 0: "not converted"}))
    config = ExperimentConfig(data=DataConfig(user_col="user_id", categorical=["category"]), tasks=[TaskSpec("click")])
    with pytest.raises(MtlrecError) as info:
        validate(config, frame)
    # 'converted', not its negation, whichever is rarer
    assert "make a 0/1 label of it (e.g. 1 where it is 'converted'" in info.value.problems[0]
    assert "`--label 'click_converted=click == converted'`" in info.value.problems[0]


def test_an_outcome_written_as_words_and_used_as_a_feature_is_noted(interactions):
    # 'clicked' / 'not clicked' became a categorical feature without a word: a purchase task's AUC went 0.57 -> 0.72
    frame = interactions.assign(outcome=interactions["click"].map({1: "clicked", 0: "not clicked"}))
    frame = frame.drop(columns="click")
    proposal = infer_schema(frame)
    assert "outcome" in proposal.data.categorical
    [note] = [n for n in proposal.notes if n.startswith("column 'outcome' holds two values")]
    assert "if it is an outcome to predict (or recorded with one), make a 0/1 label of it" in note
    assert "`--label 'outcome_clicked=outcome == clicked'`" in note
    plain = frame.drop(columns="outcome").assign(os=frame["outcome"].map({"clicked": "ios", "not clicked": "android"}))
    assert not [n for n in infer_schema(plain).notes if "holds two values" in n]  # a device is no outcome


def test_the_rows_own_time_is_the_timestamp_before_a_time_of_the_users_past():
    # last_login_time, finer and with more distinct values, was taken over event_time: the time split cut at logins
    rng = np.random.default_rng(12)
    n = 2000
    event = 1_709_251_200 + np.sort(rng.integers(0, 30 * 86_400, n)) // 60 * 60  # minutes
    frame = pd.DataFrame({
        "user_id": rng.integers(0, 300, n), "item_id": rng.integers(0, 200, n), "event_time": event,
        "last_login_time": event - rng.integers(60, 7 * 86_400, n), "click": rng.integers(0, 2, n),
    })  # fmt: skip
    assert infer_schema(frame).data.time_col == "event_time"
    assert infer_schema(frame.rename(columns={"last_login_time": "prev_click_ts"})).data.time_col == "event_time"
    assert infer_schema(frame.drop(columns="event_time")).data.time_col == "last_login_time"  # the only one
    # A session's login is its own start, no past: logout_time (as many distinct values) had been taken over it
    sessions = frame.drop(columns=["event_time", "last_login_time"]).assign(
        login_time=event,
        logout_time=event + 3_600,  # as many distinct values: no word puts one first
    )
    assert infer_schema(sessions).data.time_col == "login_time"


def test_a_no_label_hint_names_a_two_valued_outcome_before_a_count_and_after_a_rating():
    # Census-Income with its raw income (' - 50000.' / ' 50000+.') was told of num_persons_worked_for_employer only
    from mtlrec.schema import label_hint

    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({
        "age": rng.integers(18, 90, n), "num_persons_worked": rng.integers(0, 7, n),
        "income": np.where(rng.random(n) < 0.1, " 50000+.", " - 50000."),
    })  # fmt: skip
    hint = label_hint(frame)
    assert hint.index("from which a 0/1 label can be made: income") < hint.index("'num_persons_worked' holds counts")
    assert "`--label 'income_50000=income == 50000+.'`" in hint
    rated = frame.rename(columns={"num_persons_worked": "rating"})
    rated["rating"] += 1
    hint = label_hint(rated)
    assert hint.index("'rating' holds whole numbers from 1 to 7, as ratings do") < hint.index("income")


def test_excel_serial_dates_under_a_date_name_are_noted_with_how_to_convert_them():
    # 45352.003 (a spreadsheet's date saved as a number) was a numeric feature without a word (an audit)
    rng = np.random.default_rng(0)
    n = 500
    frame = pd.DataFrame({
        "user_id": rng.integers(0, 50, n), "item_id": rng.integers(0, 40, n),
        "order_date": np.round(45352 + rng.random(n) * 30, 3), "click": rng.integers(0, 2, n),
    })  # fmt: skip
    proposal = infer_schema(frame)
    [note] = [n for n in proposal.notes if "Excel's serial dates" in n]
    assert "'order_date' holds numbers that read as Excel's serial dates (2024-03-01 to 2024-03-3" in note
    converted = pd.to_datetime(frame["order_date"], unit="D", origin="1899-12-30")  # the note's own line
    assert converted.min() >= pd.Timestamp("2024-03-01") and converted.max() < pd.Timestamp("2024-04-01")
    days = frame.assign(order_date=19_700 + rng.integers(0, 30, n))  # days since 1970: no such note
    assert not [n for n in infer_schema(days).notes if "Excel" in n]


def test_readable_times_are_datetimes_of_epoch_seconds_or_milliseconds_and_other_numbers_stay():
    # Recommend's history showed KuaiRand's epoch milliseconds as 1649463659510 (a browser walk)
    from mtlrec.schema import readable_times

    ms = pd.Series([1_649_463_659_510, 1_649_463_700_000])
    expected = pd.to_datetime(["2022-04-09 00:20:59.510", "2022-04-09 00:21:40.000"])
    assert readable_times(ms).tolist() == expected.tolist()
    assert readable_times(ms // 1000).dt.floor("s").tolist() == expected.floor("s").tolist()  # seconds
    assert readable_times(ms * 1000).tolist() == expected.tolist()  # microseconds
    days = pd.Series([19_000, 19_001])  # day numbers: as they are
    assert readable_times(days).tolist() == [19_000, 19_001]
    assert readable_times(pd.Series(["2024-05-01 10:00"])).tolist() == [pd.Timestamp("2024-05-01 10:00")]
    # Written as text, and to the nanosecond (a review: text ms read as seconds, year 54239; ns rounded via floats)
    assert readable_times(ms.astype(str)).tolist() == expected.tolist()
    ns = pd.Series([1_649_463_659_510_123_457])
    assert readable_times(ns).tolist() == [pd.Timestamp(1_649_463_659_510_123_457)]
    assert readable_times(pd.Series(["19000", "19001"])).tolist() == ["19000", "19001"]  # day numbers as text


def test_binary_tasks_never_1_in_the_same_row_get_a_note_when_chance_would_pair_them():
    # Taobao's behavior_type made buy and cart labels: one event per row, so never both; the page said so before the
    # labels were made and not after (a browser walk)
    from mtlrec.config import DataConfig, ExperimentConfig, TaskSpec
    from mtlrec.schema import validate

    rng = np.random.default_rng(0)
    n = 4000
    event = rng.choice(["pv", "cart", "buy"], n, p=[0.8, 0.12, 0.08])
    frame = pd.DataFrame({
        "user": rng.integers(0, 300, n), "item": rng.integers(0, 200, n),
        "cart": (event == "cart").astype(int), "buy": (event == "buy").astype(int),
    })  # fmt: skip
    config = ExperimentConfig(
        data=DataConfig(user_col="user", item_col="item", categorical=["user", "item"]),
        tasks=[TaskSpec("cart"), TaskSpec("buy")],
    )
    expected = (event == "cart").sum() * (event == "buy").sum() / n
    [note] = [m for m in validate(config, frame) if "never 1 in the same row" in m]
    assert note.startswith(f"tasks 'cart' and 'buy' are never 1 in the same row (by chance about {expected:,.0f} rows")
    # independent labels share rows: no note
    frame["buy"] = (rng.random(n) < 0.08).astype(int)
    assert not [m for m in validate(config, frame) if "never 1 in the same row" in m]
