"""Specifications of mtlrec.data.prepare: split sizes and guarantees, encoder fitted on training rows only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mtlrec.config import DataConfig, ExperimentConfig, SplitConfig, TaskSpec
from mtlrec.data import load_frames, prepare
from mtlrec.errors import MtlrecError


def users_of(prepared, idx) -> set:
    return set(prepared.frame["user_id"].to_numpy()[idx])


def test_random_split_sizes(interactions, make_config):
    prepared = prepare(make_config(), interactions)

    # 3000 rows: 20% test = 600; 10% of the other 2400 for validation = 240; 2160 train.
    assert (len(prepared.train), len(prepared.val), len(prepared.test)) == (2160, 240, 600)
    assert len(prepared.test_frame) == 600
    assert len(prepared.train_idx) == 2160 and len(prepared.val_idx) == 240


def test_train_and_validation_rows_are_disjoint_and_exclude_the_test_rows(interactions, make_config):
    interactions["row"] = np.arange(len(interactions))
    prepared = prepare(make_config(), interactions)

    train, val = set(prepared.train_idx), set(prepared.val_idx)
    test = set(prepared.test_frame["row"])

    assert not train & val and not train & test and not val & test
    assert len(train | val | test) == 3000


def test_user_split_puts_no_user_in_two_parts(interactions, make_config):
    config = make_config()
    config.split.method = "user"

    prepared = prepare(config, interactions)

    train, val = users_of(prepared, prepared.train_idx), users_of(prepared, prepared.val_idx)
    test = set(prepared.test_frame["user_id"])
    assert not train & test and not train & val and not val & test
    assert len(train | val | test) == 150
    assert 500 <= len(prepared.test) <= 700  # about 20% of the rows: whole users are moved


def test_time_split_puts_the_latest_rows_in_test_and_the_next_latest_in_validation(interactions, make_config):
    config = make_config()
    config.split.method = "time"
    interactions = interactions.sample(frac=1.0, random_state=0)  # the order of rows must not matter

    prepared = prepare(config, interactions)

    times = prepared.frame["timestamp"].to_numpy()
    assert len(prepared.test) == 600 and len(prepared.val) == 240
    assert times[prepared.train_idx].max() <= times[prepared.val_idx].min()
    assert times[prepared.val_idx].max() <= prepared.test_frame["timestamp"].min()


def test_time_split_keeps_rows_of_one_time_on_one_side(interactions, make_config):
    # Daily dates: the boundary day was cut in two, part of it before the test rows and part after.
    config = make_config()
    config.split.method = "time"
    interactions["timestamp"] = 20240101 + np.arange(len(interactions)) * 11 // len(interactions)  # 11 days

    prepared = prepare(config, interactions)

    days = prepared.frame["timestamp"].to_numpy()
    test_days = prepared.test_frame["timestamp"]
    assert days[prepared.train_idx].max() < days[prepared.val_idx].min()
    assert days[prepared.val_idx].max() < test_days.min()
    # 20% of 3000 rows asked, days of ~273 rows: the two latest days (546 rows) are nearer to 600 than three.
    assert test_days.nunique() == 2 and len(prepared.test) == (days >= test_days.min()).sum()


def test_time_split_of_rows_all_at_one_time_still_holds_out_the_asked_share(interactions, make_config):
    config = make_config()
    config.split.method = "time"
    interactions["timestamp"] = 1700000000

    prepared = prepare(config, interactions)

    assert (len(prepared.train), len(prepared.val), len(prepared.test)) == (2160, 240, 600)


def test_split_depends_on_the_seed(interactions, make_config):
    same = prepare(make_config(seed=3), interactions), prepare(make_config(seed=3), interactions)
    other = prepare(make_config(seed=4), interactions)

    assert np.array_equal(same[0].train_idx, same[1].train_idx)
    assert not np.array_equal(same[0].train_idx, other.train_idx)


def test_explicit_test_frame_is_used_as_is(interactions, make_config):
    train_part, test_part = interactions.iloc[:2500], interactions.iloc[2500:]

    prepared = prepare(make_config(), train_part, test_part)

    assert prepared.test_frame.equals(test_part.reset_index(drop=True))
    assert len(prepared.test) == 500
    assert (len(prepared.train), len(prepared.val)) == (2250, 250)
    assert (
        "test rows come from the test file (500 rows); the random split carves the validation rows out of the "
        "training file" in prepared.notes
    )


def test_with_a_test_file_the_split_method_still_chooses_the_validation_rows(interactions, make_config):
    train_part, test_part = interactions.iloc[:2500], interactions.iloc[2500:]
    config = make_config()
    config.split.method = "time"

    prepared = prepare(config, train_part, test_part)

    times = train_part["timestamp"].to_numpy()
    assert times[prepared.val_idx].min() >= times[prepared.train_idx].max()
    assert any("the time split carves the validation rows out of the training file" in n for n in prepared.notes)


def test_a_task_constant_in_the_test_file_is_a_note_not_an_error(interactions, make_config):
    train_part, test_part = interactions.iloc[:2500], interactions.iloc[2500:].assign(click=0)

    prepared = prepare(make_config(), train_part, test_part)

    assert "task 'click' has one class only in the test rows: its AUC is undefined" in prepared.notes


def test_few_positive_validation_rows_get_a_note(interactions, make_config):
    # Train's card read "validation AUC 0.0753" from about 3 positives among 240 rows, with no word (a browser walk)
    config = make_config()
    train_part = interactions.iloc[:2500].assign(click=0)
    train_part.loc[train_part.index[:100], "click"] = 1
    prepared = prepare(config, train_part, interactions.iloc[2500:])
    val = prepared.val.labels[:, 0]
    positives = int((val == 1).sum())
    assert 0 < positives < 30  # a share of the 100 positives: about 1 in 10 rows is validation
    assert (
        f"task 'click' has {positives} positive row{'s' if positives != 1 else ''} among its {len(val):,} validation "
        "rows: its validation AUC (Train's cards and curves, and early stopping where it follows this task) rests on "
        "them; a larger validation share (Train's advanced settings, --val-frac) or more data steadies it"
    ) in prepared.notes
    assert not any("validation rows:" in n for n in prepare(config, interactions).notes)
    # None at all: the worst case, said too (a review: no note at 0)
    from mtlrec.data import _few_validation_rows

    [note] = _few_validation_rows("click", np.zeros(240))
    assert note.startswith(
        "task 'click' has one class only in its 240 validation rows: its validation AUC is undefined"
    )
    assert _few_validation_rows("click", np.r_[np.ones(30), np.zeros(210)]) == []  # 30: enough


def test_few_positive_test_rows_and_few_gauc_users_get_a_note(interactions, make_config):
    # A sweep ranked its points on 8 test positives (AUCs 0.46-0.50), and a run showed GAUC 0.0000 from the one user
    # with both classes, with no word (a browser audit).
    train_part, test_part = interactions.iloc[:2500], interactions.iloc[2500:].assign(click=0)
    test_part.loc[test_part.index[:8], "click"] = 1
    users = test_part["user_id"].iloc[:8]
    positives, rows = 8, len(test_part)
    spread = 2 * ((rows + 1) / (12 * positives * (rows - positives))) ** 0.5

    prepared = prepare(make_config(), train_part, test_part)

    assert (
        f"task 'click' has 8 positive rows among its {rows:,} test rows: its test AUC and LogLoss rest on them (an AUC "
        f"moves by about ±{spread:.2f} by chance alone), so small differences between runs or sweep points mean nothing"
    ) in prepared.notes
    both = sum(test_part.loc[test_part["user_id"] == u, "click"].nunique() == 2 for u in users.unique())
    assert 0 < both <= 8
    assert (
        "task 'click': GAUC averages "
        + (f"the only {both} test users" if both > 1 else "the one test user")
        + " with both a 0 and a 1 (a user with one class has no AUC): read it with care"
    ) in prepared.notes
    assert not any(
        "positive rows among" in n or "GAUC averages" in n for n in prepare(make_config(), interactions).notes
    )
    # One positive (a row, not rows), and no user with both classes: GAUC is nan, and said so (an audit).
    one = test_part.assign(click=0)
    one.loc[one.index[0], "click"] = 1
    one = one[(one["user_id"] != one["user_id"].iloc[0]) | (one.index == one.index[0])]  # the user's one row
    notes = prepare(make_config(), train_part, one).notes
    assert any(n.startswith("task 'click' has 1 positive row among") for n in notes)
    assert any(n.startswith("task 'click': no test user has both a 0 and a 1, so GAUC") for n in notes)


def test_encoder_is_fitted_on_training_rows_only(interactions, make_config):
    config = make_config()
    config.split.method = "time"
    latest = interactions.index >= 2700  # within the latest 20%: always test rows
    interactions.loc[latest, "category"] = "late_only"
    interactions.loc[latest, "price"] = 1e6

    prepared = prepare(config, interactions)

    encoder = prepared.encoder
    category = config.data.categorical.index("category")
    train_prices = prepared.frame["price"].to_numpy()[prepared.train_idx]
    assert "late_only" not in encoder.vocab_["category"]
    assert (prepared.test.categorical[-300:, category] == 0).all()
    assert encoder.numeric_stats_["price"] == pytest.approx((np.nanmean(train_prices), np.nanstd(train_prices)))


def test_encoded_parts_have_one_row_per_row_and_one_label_column_per_task(interactions, make_config):
    prepared = prepare(make_config(), interactions)

    assert prepared.train.categorical.shape == (2160, 3)
    assert prepared.train.numeric.shape == (2160, 2)  # price and its missing indicator
    assert prepared.test.labels.shape == (600, 3)


def test_ranking_note_when_no_item_column(interactions, make_config):
    config = make_config()
    config.data.item_col = None
    config.data.categorical = ["user_id", "category"]

    prepared = prepare(config, interactions)

    note = "no item column chosen: ranking metrics (NDCG@K, Recall@K, HitRate@K) and recommendations are off"
    assert prepared.ranking_note == note
    assert note in prepared.notes


def test_no_ranking_note_with_user_and_item_columns(interactions, make_config):
    assert prepare(make_config(), interactions).ranking_note is None


def test_group_gives_the_users_of_validation_and_test_rows(interactions, make_config):
    prepared = prepare(make_config(), interactions)
    for codes, users in (
        (prepared.group("test"), prepared.test_frame["user_id"]),
        (prepared.group("val"), interactions["user_id"].iloc[prepared.val_idx]),
    ):
        assert codes.dtype.kind == "i" and len(codes) == len(users)
        # same user <=> same code
        pairs = pd.DataFrame({"code": codes, "user": users.to_numpy()}).drop_duplicates()
        assert pairs["code"].is_unique and pairs["user"].is_unique


def test_invalid_data_raises_before_anything_is_fitted(interactions, make_config):
    interactions["click"] = 1

    with pytest.raises(MtlrecError, match="column 'click' \\(task\\) has the same value \\(1\\) in every row"):
        prepare(make_config(), interactions)


def test_prepare_reads_the_config_data_file(interactions, make_config, tmp_path):
    path = tmp_path / "events.csv"
    interactions.to_csv(path, index=False)
    config = make_config()
    config.data.path = str(path)

    frame, test_frame, notes = load_frames(config)
    prepared = prepare(config)

    assert len(frame) == 3000 and test_frame is None and notes == []
    assert len(prepared.test) == 600


def test_load_frames_without_a_path_raises(make_config):
    with pytest.raises(MtlrecError, match="no data file given"):
        load_frames(make_config())


def test_a_user_split_with_one_heavy_user_says_how_few_rows_its_parts_hold():
    # One user with 95% of the rows: the test part held 31 rows where 20% was asked, and nothing said so.
    rng = np.random.default_rng(0)
    n = 3000
    users = np.where(rng.random(n) < 0.95, "whale", np.array([f"u{i}" for i in rng.integers(0, 150, n)]))
    frame = pd.DataFrame({"user_id": users, "c": rng.choice(list("abc"), n), "click": rng.integers(0, 2, n)})
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", categorical=["c"]), tasks=[TaskSpec("click")],
        split=SplitConfig(method="user", test_frac=0.2),
    )  # fmt: skip

    prepared = prepare(config, frame)
    test, val = len(prepared.test_frame), len(prepared.val_idx)
    notes = [note for note in prepared.notes if note.startswith("the user split")]

    assert test < 100 and val < 100
    assert notes == [
        f"the user split put {test:,} rows ({test / n:.1%}) in the test part where 20% was asked: it shares out "
        f"users, not rows, and user 'whale' has {(users == 'whale').mean():.0%} of the rows; its metrics rest on "
        f"{test:,} rows only; the random or time split shares out rows",
        f"the user split put {val:,} rows ({val / (n - test):.1%}) in the validation part where 10% was asked: it "
        f"shares out users, not rows, and user 'whale' has {(users == 'whale').mean():.0%} of the rows; its metrics "
        f"rest on {val:,} rows only; the random or time split shares out rows",
    ]
    frame["user_id"] = [f"u{i}" for i in rng.integers(0, 300, n)]  # users of similar weight: no note
    assert not [note for note in prepare(config, frame).notes if note.startswith("the user split")]


def test_a_data_file_changed_to_the_same_size_is_said_to_hold_other_content(tmp_path):
    from mtlrec.data import changed_files, data_files

    path = tmp_path / "log.csv"
    path.write_text("user,click\nu1,1\nu2,0\n")
    recorded = data_files(ExperimentConfig(data=DataConfig(path=str(path))))
    assert changed_files(recorded) == []

    path.write_text("user,click\nu1,0\nu2,1\n")  # same size, other labels

    assert [str(c) for c in changed_files(recorded)] == [
        "log.csv changed since the run was trained (same size, other content)"
    ]
    assert not changed_files(recorded)[0].missing

    path.unlink()

    (change,) = changed_files(recorded)
    assert change.missing and str(change) == f"{path} is missing"  # told apart by a field, not by its sentence


def test_a_folder_of_parquet_parts_is_recorded_and_a_part_added_or_changed_is_said(tmp_path):
    # A folder of part files got no entry in data_files: a part added later went unnoticed on a re-run (an audit).
    from mtlrec.data import changed_files, data_files

    folder = tmp_path / "table"
    folder.mkdir()
    frame = pd.DataFrame({"user": ["u1", "u2", "u3", "u4"], "click": [1, 0, 1, 0]})
    frame.head(2).to_parquet(folder / "part-0.parquet")
    frame.tail(2).to_parquet(folder / "part-1.parquet")
    (folder / "_SUCCESS").write_text("")
    [recorded] = data_files(ExperimentConfig(data=DataConfig(path=str(folder))))
    size = sum((folder / f"part-{i}.parquet").stat().st_size for i in range(2))
    assert recorded["bytes"] == size and len(recorded["sha256"]) == 64
    (folder / "_SUCCESS").write_text("written again")  # not a part: no change
    assert changed_files([recorded], thorough=True) == []

    frame.tail(2).assign(click=[0, 1]).to_parquet(folder / "part-1.parquet")  # same size, other labels
    assert [str(c) for c in changed_files([recorded])] == [
        "table changed since the run was trained (same size, other content)"
    ]
    frame.head(1).to_parquet(folder / "part-2.parquet")
    assert str(changed_files([recorded])[0]).startswith(f"table changed since the run was trained ({size:,} bytes then")


def test_a_regression_task_with_negative_values_says_how_its_ranking_metrics_count_them(interactions, make_config):
    config = make_config()
    config.tasks[2].log1p = False
    interactions["watch_time"] -= 5.0  # some values below zero, as a rating from -2 to 2 would be

    prepared = prepare(config, interactions)

    negative = int((prepared.test_frame["watch_time"] < 0).sum())
    assert negative > 0
    assert (
        f"task 'watch_time' has negative values in {negative:,} test rows: its ranking metrics (NDCG, Recall, "
        "HitRate) count a negative value as not relevant (0)"
    ) in prepared.notes
    assert not [n for n in prepare(make_config(), interactions.assign(watch_time=interactions["watch_time"] + 5.0)).notes
                if "negative values" in n]  # fmt: skip


def test_a_problem_in_the_test_file_names_the_test_file(interactions, make_config, tmp_path):
    # It was reported under the training file's name ("train.csv: test file: column 'price' ..."), so the faulty
    # file was never named.
    interactions.to_csv(tmp_path / "train.csv", index=False)
    interactions.drop(columns="price").to_csv(tmp_path / "held_out.csv", index=False)
    config = make_config()
    config.data.path, config.data.test_path = str(tmp_path / "train.csv"), str(tmp_path / "held_out.csv")

    with pytest.raises(MtlrecError) as caught:
        prepare(config)
    assert caught.value.message.startswith("held_out.csv: column 'price' (numeric feature) is not in the data")

    interactions.drop(columns="category").to_csv(tmp_path / "train.csv", index=False)  # both files at fault
    with pytest.raises(MtlrecError) as caught:
        prepare(config)
    assert caught.value.source == "train.csv"
    assert any(p.startswith("test file held_out.csv: column 'price'") for p in caught.value.problems)


@pytest.mark.parametrize(
    ("max_vocab", "min_count", "rules"),
    [
        (10, 1, "outside the 10 most frequent"),
        (100_000, 1000, "seen fewer than 1,000 times (min_count)"),
        (10, 12, "outside the 10 most frequent or seen fewer than 12 times (min_count)"),
    ],
)
def test_the_out_of_vocabulary_note_names_the_rule_that_set_values_aside(
    interactions, make_config, max_vocab, min_count, rules
):
    # 150 users of ~14 training rows each: a min_count of 1,000 sets them all aside, and the note blamed the cap of
    # 100,000 values.
    config = make_config()
    config.data.max_vocab, config.data.min_count = max_vocab, min_count

    notes = prepare(config, interactions).notes

    [note] = [n for n in notes if n.startswith("column 'user_id'")]
    assert f"of training rows hold values {rules} and share the out-of-vocabulary embedding" in note


def test_a_time_split_far_from_its_share_because_of_tied_times_says_so(interactions, make_config):
    # Three dates, the last holding 70% of the rows: the test part took 70% where 20% was asked, without a word.
    config = make_config()
    config.split.method = "time"
    n = len(interactions)
    interactions["timestamp"] = np.where(
        np.arange(n) < 0.15 * n, 20240101, np.where(np.arange(n) < 0.3 * n, 20240102, 20240103)
    )

    prepared = prepare(config, interactions)

    assert len(prepared.test) == int(0.7 * n)
    assert (
        f"the time split put {int(0.7 * n):,} rows (70.0%) in the test part where 20% was asked: rows with the same "
        "time stay on one side, and 70% of the rows share the latest time; finer times (or the random split) share "
        "out rows more evenly"
    ) in prepared.notes


def test_users_with_few_test_rows_get_a_note_on_recall_and_hitrate(interactions, make_config):
    # 150 users, 600 test rows: a median of 4 per user, so Recall@10 and HitRate@10 are ~1 for any scores.
    config = make_config()

    notes = prepare(config, interactions).notes

    assert any(n.startswith("users have a median of 4 test rows, no more than K = 10") for n in notes)
    config.k = 2
    assert not any(n.startswith("users have a median") for n in prepare(config, interactions).notes)


@pytest.mark.parametrize(
    ("test_table", "message"),
    [
        (False, "expected a pandas DataFrame, got list: make one, e.g. pd.DataFrame(records)"),
        (True, "expected a pandas DataFrame as the test table, got list: make one, e.g. pd.DataFrame(records)"),
    ],
)
def test_prepare_refuses_a_table_that_is_not_a_dataframe(interactions, make_config, test_table, message):
    records = interactions.to_dict("records")

    with pytest.raises(MtlrecError) as error:
        prepare(make_config(), interactions, records) if test_table else prepare(make_config(), records)

    assert error.value.problems == [message]


def test_prepare_refuses_number_column_names_a_saved_run_could_not_load(interactions, make_config):
    # They trained and saved, then loading the run said config.json was damaged ('data.numeric' must be list[str]).
    frame = interactions.rename(columns={"price": 0})
    config = make_config()
    config.data.numeric = [0]

    with pytest.raises(MtlrecError, match=r"^the table's column names must be text, but 1 is not \(0; "):
        prepare(config, frame)


def test_prepare_refuses_an_empty_test_table(interactions, make_config):
    with pytest.raises(MtlrecError) as error:
        prepare(make_config(), interactions, interactions.iloc[:0])

    assert error.value.problems == ["the test table has no rows: pass the rows to learn from"]


def test_a_test_file_holding_the_training_rows_gets_a_note(interactions, make_config):
    # Ali-CCP's training file given as its own test file reported click AUC 0.80 (0.50 on held-out rows), silently.
    config = make_config()
    train, held_out = interactions.iloc[:1500], interactions.iloc[1500:]
    sample = train.sample(400, random_state=0)

    def note(test_frame):
        return [n for n in prepare(config, train, test_frame).notes if "in the training file too" in n]

    assert note(train) == [
        "the test file's rows are all in the training file too: the test metrics measure how well the model fits "
        "rows it trained on, not how it does on new ones; give a test file of other rows (or no test file: the split "
        "holds rows out)"
    ]
    mixed = pd.concat([sample, held_out.iloc[:100]])
    assert note(mixed)[0].startswith("80% of the test file's rows (400 of 500) are in the training file too")
    assert note(held_out) == []


def test_a_split_whose_test_rows_copy_training_rows_gets_a_note(interactions, make_config):
    # One event logged 1,000 times: 199 copies fell in the test part and like's AUC read 0.87 (0.56 without them),
    # silently (an audit). A log with a user, an item and a time: a copy there is one event twice.
    config = make_config()
    assert config.data.user_col and config.data.item_col and config.data.time_col
    copied = pd.concat([interactions, pd.concat([interactions.iloc[[0]]] * 600)], ignore_index=True)

    def notes(frame, data=config):
        return [n for n in prepare(data, frame).notes if "are copies of training rows" in n]

    [note] = notes(copied)
    test_rows = int(round(len(copied) * config.split.test_frac))
    copies = int(note.split(" of the ")[0])
    assert note.endswith(
        "are copies of training rows (the same value in every column the run reads): the model is scored partly on "
        "rows it trained on, which flatters its metrics; drop repeated rows first (pandas: df.drop_duplicates()) if "
        "they are copies, or split by user or time"
    )
    assert 0.1 * test_rows < copies < 0.3 * test_rows  # about the test fraction of the 601 copies
    assert notes(interactions) == []
    without_time = make_config()
    without_time.data.time_col = None
    assert notes(copied, without_time) == []  # a table of people: equal rows are other people alike


def test_a_regression_task_above_0_on_nearly_every_row_says_recall_and_hitrate_count_every_row(
    interactions, make_config
):
    # Stars from 1 to 5: every rated row was relevant, so Recall@K and HitRate@K of random scores equalled the
    # model's (0.6405 and 1.0 in an audit), without a word.
    config = make_config()
    stars = interactions.assign(watch_time=np.random.default_rng(0).integers(1, 6, len(interactions)).astype(float))

    notes = [n for n in prepare(config, stars).notes if "counts as relevant" in n]

    assert notes == [
        "task 'watch_time' is above 0 in 100% of the test rows, and every such row counts as relevant for Recall@10 "
        "and HitRate@10: they say little about its scores (NDCG@10 weighs rows by their value); to rank by 'good' "
        "rows, add a 0/1 label as a binary task (e.g. 1 from its median up: on Data: Fix the rows; CLI: "
        "`--label 'good=watch_time >= 3'`)"
    ]
    watched = interactions.assign(watch_time=interactions["watch_time"] * interactions["click"])  # 0 unless clicked
    assert not [n for n in prepare(config, watched).notes if "counts as relevant" in n]


def test_a_frame_of_pandas_pyarrow_backend_is_read_as_the_same_parquet_file_read_by_mtlrec(tmp_path):
    # pd.read_parquet(..., dtype_backend="pyarrow"): infer_schema raised "mod not implemented" on its numbers and
    # "no kernel matching list<string>" on its lists, run_experiment the same in the leakage check (audit).
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    from mtlrec.io import load_table
    from mtlrec.schema import infer_schema
    from mtlrec.tokens import lists_as_text

    rng = np.random.default_rng(0)
    n = 1500
    table = pa.table({
        "user_id": [f"u{u}" for u in rng.integers(0, 80, n)],
        "item_id": rng.integers(0, 120, n),
        "ts": pa.array(np.datetime64("2024-01-01") + rng.integers(0, 86400 * 30, n).astype("timedelta64[s]"),
                       pa.timestamp("us", tz="Europe/Berlin")),
        "click": rng.random(n) < 0.3,
        "watch_time": rng.exponential(20, n),
        "genres": [list(rng.choice(["a", "b", "c", "d"], rng.integers(1, 3), replace=False)) for _ in range(n)],
        "price": pa.array([None if v < 1.9 else float(v) for v in rng.uniform(1, 9, n)]),
        "cost": pa.array([decimal.Decimal(f"{v:.2f}") for v in rng.uniform(1, 9, n)], pa.decimal128(6, 2)),
        "meta": pa.array([{"device": ["ios", "web"][i % 2], "geo": {"city": f"c{i % 5}"}} for i in range(n)]),
    })  # fmt: skip
    pq.write_table(table, tmp_path / "rows.parquet")
    arrow = pd.read_parquet(tmp_path / "rows.parquet", dtype_backend="pyarrow")
    assert all(isinstance(t, pd.ArrowDtype) for t in arrow.dtypes)
    numpy_backed = load_table(str(tmp_path / "rows.parquet"))

    assert lists_as_text(arrow).columns.tolist() == numpy_backed.columns.tolist()  # meta.device, meta.geo.city
    proposal = infer_schema(arrow)
    assert proposal.data == infer_schema(numpy_backed).data and proposal.data.multi == ["genres"]
    assert "cost" in proposal.data.numeric and "meta.device" in proposal.data.categorical  # (a review: a category;
    # unhashable dict)
    assert proposal.data.time_col == "ts" and "price" in proposal.data.numeric
    config = ExperimentConfig(data=proposal.data, tasks=proposal.tasks)
    mine, theirs = prepare(config, arrow), prepare(config, numpy_backed)
    np.testing.assert_array_equal(mine.train.categorical, theirs.train.categorical)
    np.testing.assert_allclose(mine.train.numeric, theirs.train.numeric)
    np.testing.assert_allclose(mine.test.labels, theirs.test.labels)


def test_a_test_file_whose_ids_training_never_saw_is_said_to_give_cold_start_metrics():
    # ids written 85 in the test export and u85 in the training file: every test user took the unknown-value
    # embedding and the metrics came with no word (audit)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"user_id": [f"u{u}" for u in rng.integers(0, 40, 600)], "item_id": rng.integers(0, 30, 600),
                          "click": rng.integers(0, 2, 600)})  # fmt: skip
    test = frame.iloc[:200].assign(user_id=lambda f: f["user_id"].str[1:].astype(int))
    data = DataConfig(user_col="user_id", item_col="item_id", categorical=["user_id", "item_id"])
    config = ExperimentConfig(data=data, tasks=[TaskSpec("click")])
    notes = prepare(config, frame, test).notes
    [note] = [n for n in notes if "never saw" in n]
    assert note.startswith("column 'user_id': 100% of the test file's rows hold values training never saw (e.g. ")
    assert not any("column 'item_id'" in n and "never saw" in n for n in notes)  # its items are training's


def test_notes_for_a_task_one_valued_in_training_and_a_batch_larger_than_the_training_rows(interactions, make_config):
    # An audit: "one class only in the training rows: its AUC is undefined" stood beside a defined test AUC (chance);
    # a regression target constant in training and a batch of 8,192 on 2,160 training rows (one step an epoch) went
    # without a word. Time split: the labels vary in the latest rows only.
    config = make_config()
    config.split.method = "time"
    config.train.batch_size = 100_000
    frame = interactions.copy()
    latest = frame["timestamp"].rank(method="first", ascending=False) <= 0.15 * len(frame)
    frame["click"] = np.where(latest, np.arange(len(frame)) % 2, 0)
    frame["watch_time"] = np.where(latest, np.arange(len(frame)) % 7, 3.0)

    prepared = prepare(config, frame)

    assert (
        f"the batch size (100,000) is larger than the {len(prepared.train_idx):,} training rows: one step per epoch, "
        "so the model barely trains; choose a smaller batch"
    ) in prepared.notes
    assert (
        "task 'click' has one class only in the training rows: the model cannot learn it, so its test metrics are "
        "those of a constant guess"
    ) in prepared.notes
    assert (
        "task 'watch_time' has one value in every training row: the model cannot learn it, so its test metrics are "
        "those of a constant guess"
    ) in prepared.notes


def test_under_esmm_a_later_step_one_valued_in_training_is_said_to_rank_as_the_earlier_one(interactions, make_config):
    # Ali-CCP's first rows hold no purchase in training: "a constant guess" stood beside a purchase AUC of 0.89,
    # ESMM's p(click) x p(purchase | click) ranking as click's score does.
    config = make_config()
    config.model.kind, config.model.funnel = "esmm", {"like": "click"}
    config.split.method = "time"
    frame = interactions.copy()
    latest = frame["timestamp"].rank(method="first", ascending=False) <= 0.15 * len(frame)
    frame["like"] = np.where(latest, frame["click"], 0)  # likes only in the latest (test) rows, after a click

    notes = prepare(config, frame).notes

    assert (
        "task 'like' has one class only in the training rows: the model cannot learn it, so its score, p(click) x "
        "p(like | click), ranks as click's does, and its test metrics measure how well click's score ranks like"
    ) in notes
    assert not [n for n in notes if "'like'" in n and "constant guess" in n]


def test_early_stopping_on_a_task_of_weight_0_gets_a_note(interactions, make_config):
    # --monitor like:auc on a task of loss weight 0 was accepted without a word (an audit).
    config = make_config()
    config.tasks[1].weight = 0.0
    config.train.monitor = f"{config.tasks[1].name}:auc"
    assert any(n.startswith(f"early stopping follows task '{config.tasks[1].name}' (") for n in prepare(config,
               interactions).notes)  # fmt: skip
    config.tasks[1].weight = 1.0
    assert not any(n.startswith("early stopping follows task") for n in prepare(config, interactions).notes)
    # A task named with a colon: the monitor splits at its last one (config.split_monitor).
    renamed = interactions.rename(columns={config.tasks[1].name: "like:v2"})
    config.tasks[1].name, config.tasks[1].weight, config.train.monitor = "like:v2", 0.0, "like:v2:auc"
    assert any(n.startswith("early stopping follows task 'like:v2' (") for n in prepare(config, renamed).notes)


def test_a_regression_target_whose_spread_rests_on_a_few_rows_gets_a_note(interactions, make_config):
    # Four watch times of 1e6 among seconds made the target's SD 16,000 without a word (an audit): the note names
    # them, with the drop that removes them and log1p.
    config = make_config()
    config.tasks[2].log1p = False
    frame = interactions.copy()
    frame.loc[frame.index[[3, 50, 400, 900]], "watch_time"] = 1_000_000.0
    train = frame.iloc[prepare(config, frame).train_idx]
    kept = int((train["watch_time"] == 1_000_000.0).sum())

    [note] = [n for n in prepare(config, frame).notes if "of its spread" in n]

    assert note.startswith(f"task 'watch_time': {kept} of its {len(train):,} training values make 100% of its spread")
    assert note.endswith(
        "if they are errors, drop them (on Data: Fix the rows; CLI: `--drop 'watch_time > 999000'`); or train it on "
        "log1p (CLI: --log1p watch_time; on Data: tick its log1p)"
    )
    assert not [n for n in prepare(make_config(), frame).notes if "of its spread" in n]  # log1p: no such note
    assert not [n for n in prepare(config, interactions).notes if "of its spread" in n]


# Pinned by a mutation audit (2026-12-07): each test fails on a plausible one-line change that the suite let pass.


def test_the_time_split_rounds_the_held_out_count():
    from mtlrec.data import _time_split

    _, held = _time_split(np.arange(9), np.arange(9.0), 0.3)  # 9 x 0.3 = 2.7: 3 rows, not 2

    assert held.tolist() == [6, 7, 8]


def test_a_user_split_of_two_users_keeps_them_apart():
    from mtlrec.data import split_rows

    frame = pd.DataFrame({"u": ["a"] * 10 + ["b"] * 10, "i": range(20), "click": [0, 1] * 10})
    config = ExperimentConfig(data=DataConfig(user_col="u", item_col="i", categorical=["u", "i"]),
                              tasks=[TaskSpec("click")], split=SplitConfig(method="user", test_frac=0.5))  # fmt: skip

    kept, held = split_rows(config, frame, 0.5)

    assert not set(frame["u"].iloc[kept]) & set(frame["u"].iloc[held])


def test_a_split_whose_test_items_training_never_saw_gets_a_cold_start_note(make_config):
    # Book-Crossing's ISBNs each appear about once: GAUC 0.5000 and meaningless NDCG, without a word (a browser audit).
    rng = np.random.default_rng(0)
    n = 2_000
    frame = pd.DataFrame({"user_id": [f"u{i % 60}" for i in range(n)], "item_id": [f"isbn{i}" for i in range(n)],
                          "price": rng.random(n), "click": rng.integers(0, 2, n)})  # fmt: skip
    config = ExperimentConfig(
        data=DataConfig(user_col="user_id", item_col="item_id", categorical=["user_id", "item_id"], numeric=["price"]),
        tasks=[TaskSpec("click")],
    )

    notes = prepare(config, frame).notes

    assert [n for n in notes if n.startswith("column 'item_id': 100% of the test rows hold an item training never saw")]
    assert not [n for n in notes if n.startswith("column 'user_id':")]  # users recur: seen


def test_a_user_split_keeps_a_user_written_7_and_7_in_one_part(interactions, make_config):
    # Two sources concatenated in Python: the encoder keys 7 and "7" as one user, the split had grouped the raw
    # values, so one user sat in both parts (60 of 73 test users, a review).
    from mtlrec.encode import category_keys

    frame = interactions.copy()
    codes = frame["user_id"].str[1:].astype(int)
    frame["user_id"] = pd.Series([int(c) if i % 2 else str(c) for i, c in enumerate(codes)], dtype=object)
    config = make_config()
    config.split.method = "user"

    prepared = prepare(config, frame)

    train = set(category_keys(prepared.frame.iloc[prepared.train_idx]["user_id"]))
    test = set(category_keys(prepared.test_frame["user_id"]))
    assert train and test and not train & test
    assert (prepared.test.categorical[:, 0] == 0).all()  # no test row gets a trained user's embedding
