"""Sampled negatives for logs of positives only (mtlrec.negatives), as a fix to the rows: what the sampled rows
hold, reproducibility, the test file sampled together with the training file, the CLI, training and Recommend."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mtlrec.cli import main
from mtlrec.errors import MtlrecError
from mtlrec.fixes import apply_fixes, apply_fixes_together, describe, fix_problems

FIX = {"negatives": 3, "user": "user", "item": "item", "label": "interacted", "zero": ["buy"], "seed": 0}


def purchases(n: int = 3000, users: int = 200, items: int = 80, seed: int = 0) -> pd.DataFrame:
    """A log of positives: users buy items (the popular ones more), each item of one category and one price."""
    rng = np.random.default_rng(seed)
    item = rng.zipf(1.5, n) % items
    return pd.DataFrame(
        {
            "user": [f"u{u}" for u in rng.integers(0, users, n)],
            "item": [f"i{i:03d}" for i in item],
            "category": [f"c{i % 5}" for i in item],
            "price": np.round(5 + item * 0.5, 2),
            "hour": rng.integers(0, 24, n),
            "buy": rng.integers(0, 2, n),
        }
    )


def test_sampled_rows_are_items_the_user_has_none_of_with_the_items_own_columns_and_the_rows_context():
    frame = purchases()
    fixed, notes = apply_fixes(frame, [FIX])
    real, sampled = fixed[fixed["interacted"] == 1], fixed[fixed["interacted"] == 0]
    assert len(real) == len(frame) and len(sampled) == 3 * len(frame)
    pd.testing.assert_frame_equal(real.drop(columns="interacted"), frame)  # the real rows first, as they were
    seen = set(zip(frame["user"], frame["item"], strict=True))
    assert not any(pair in seen for pair in zip(sampled["user"], sampled["item"], strict=True))
    # the item's own columns are the item's; the row's context (hour) is the row's it was sampled for
    by_item = frame.drop_duplicates("item").set_index("item")
    assert (sampled["category"].to_numpy() == by_item.loc[sampled["item"], "category"].to_numpy()).all()
    assert (sampled["price"].to_numpy() == by_item.loc[sampled["item"], "price"].to_numpy()).all()
    assert (sampled["hour"].to_numpy() == np.repeat(frame["hour"].to_numpy(), 3)).all()
    assert (sampled["buy"] == 0).all()  # no interaction: no purchase
    # uniform over the items: every item is drawn, the rare ones too, but one that every user has
    everyone = {i for i, users in frame.groupby("item")["user"].nunique().items() if users == frame["user"].nunique()}
    assert set(sampled["item"]) == set(frame["item"]) - everyone
    assert notes == [
        f"fix 1: {3 * len(frame):,} sampled rows added, 3 per row: items the user has no row with, from the "
        f"{frame['item'].nunique()} items, label 'interacted' 0 (1 on the {len(frame):,} rows of the data); the "
        "item's own columns from its last row: 'category', 'price'; 'buy' 0 in the sampled rows"
    ]
    again, _ = apply_fixes(frame, [FIX])
    pd.testing.assert_frame_equal(again, fixed)  # a seed fixes the sample
    other, _ = apply_fixes(frame, [{**FIX, "seed": 1}])
    assert not other["item"].equals(fixed["item"])


def test_a_test_file_is_sampled_with_the_training_file():
    frame = purchases()
    train, test = frame.iloc[:2000], frame.iloc[2000:].reset_index(drop=True)
    fixed, fixed_test, _, test_notes = apply_fixes_together(train, test, [FIX])
    seen = set(zip(frame["user"], frame["item"], strict=True))  # a user's items in either file are never drawn
    for rows in (fixed, fixed_test):
        sampled = rows[rows["interacted"] == 0]
        assert not any(pair in seen for pair in zip(sampled["user"], sampled["item"], strict=True))
    assert len(fixed_test) == 4 * len(test) and test_notes[0].startswith(f"fix 1: {3 * len(test):,} sampled rows")


def test_a_user_with_most_items_gets_what_is_left_and_it_is_said():
    frame = pd.DataFrame({"user": ["a"] * 9 + ["b"], "item": [f"i{i}" for i in range(9)] + ["i0"]})
    fixed, notes = apply_fixes(frame, [{**FIX, "zero": [], "negatives": 2}])
    sampled = fixed[fixed["interacted"] == 0]
    assert set(sampled.loc[sampled["user"] == "a", "item"]) == set()  # "a" has every item: none to draw
    assert (sampled["user"] == "b").sum() == 2
    assert "18 sampled rows fewer than 2 per row: their users have most of the items" in notes[0]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"negatives": 0}, "'negatives' is how many per row, a whole number from 1 to 20, got 0"),
        ({"negatives": 2.5}, "'negatives' is how many per row, a whole number from 1 to 20, got 2.5"),
        ({"user": ""}, "'user' must name a column, got ''"),
        ({"zero": "buy"}, "'zero' must list column names, got 'buy'"),
        ({"seed": -1}, "'seed' must be a whole number >= 0, got -1"),
        ({"extra": 1}, "has unknown keys 'extra'"),
    ],
)
def test_a_malformed_negatives_fix_is_one_problem(change, problem):
    (found,) = fix_problems([{**FIX, **change}])
    assert found.startswith("fix 1 (negatives)") and problem in found


def test_a_missing_column_or_a_taken_label_name_is_said():
    frame = purchases()
    with pytest.raises(MtlrecError, match=r"the data has no column 'buyer'"):
        apply_fixes(frame, [{**FIX, "user": "buyer"}])
    with pytest.raises(MtlrecError, match=r"the data already has a column 'buy': give the new label another name"):
        apply_fixes(frame, [{**FIX, "label": "buy", "zero": []}])
    assert describe(FIX) == (
        "sample 3 negatives per row (items of 'item' its 'user' has no row with), new 0/1 label 'interacted', 'buy' 0 "
        "in them"
    )


def test_the_cli_trains_a_log_of_positives_and_recommends_from_its_real_rows(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MTLREC_HOME", str(tmp_path / "home"))
    frame = purchases().drop(columns="buy")
    frame["timestamp"] = 1_700_000_000 + np.arange(len(frame)) * 60
    frame.to_csv(tmp_path / "purchases.csv", index=False)
    assert main(["train", str(tmp_path / "purchases.csv"), "--epochs", "1", "--size", "tiny"]) == 2
    assert "CLI: --negatives 4" in capsys.readouterr().err  # no label: the advice names the flag

    run = tmp_path / "run"
    args = ["train", str(tmp_path / "purchases.csv"), "--negatives", "2", "--epochs", "2", "--size", "tiny"]
    assert main([*args, "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert "negatives sampled after the split (" in out  # the run's own counts (the whole file's are not its)
    import json

    config = json.loads((run / "config.json").read_text())
    assert config["data"]["fixes"] == [
        {"negatives": 2, "user": "user", "item": "item", "label": "interacted", "zero": [], "seed": 0}
    ]
    assert [t["name"] for t in config["tasks"]] == ["interacted"]
    metrics = json.loads((run / "metrics.json").read_text())["tasks"]["interacted"]
    assert 0.5 < metrics["auc"] <= 1 and metrics["pos_rate"] == pytest.approx(1 / 3, abs=0.02)

    # the re-run from the config samples the same rows: the same metrics
    assert main(["train", "--config", str(run / "config.json"), "--out", str(tmp_path / "again")]) == 0
    capsys.readouterr()
    again = json.loads((tmp_path / "again" / "metrics.json").read_text())["tasks"]["interacted"]
    assert again == metrics

    # Recommend's history is the real rows: a user's bought items are "seen", sampled ones are not
    user = frame["user"].iloc[0]
    bought = set(frame.loc[frame["user"] == user, "item"])
    assert main(["recommend", "--run", str(run), "--user", user, "--k", "100", "--include-seen"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    table = [line.split() for line in lines[1:]]
    header = lines[0].split()
    seen = {row[header.index("item")] for row in table if row[header.index("seen")] == "True"}
    assert seen == bought & {row[header.index("item")] for row in table}


def test_the_cli_reads_the_file_once_for_negatives_and_training(tmp_path, capsys, monkeypatch):
    import mtlrec.data

    monkeypatch.setenv("MTLREC_HOME", str(tmp_path / "home"))
    purchases().drop(columns="buy").to_csv(tmp_path / "purchases.csv", index=False)
    reads = []
    read_table = mtlrec.data.read_table
    monkeypatch.setattr(mtlrec.data, "read_table", lambda path, **kw: reads.append(path) or read_table(path, **kw))
    args = ["--negatives", "2", "--epochs", "1", "--size", "tiny"]

    assert main(["train", str(tmp_path / "purchases.csv"), *args, "--out", str(tmp_path / "run")]) == 0
    assert len(reads) == 1  # it was read twice: once to sample the negatives on, once more to train

    # a saved run without negatives, re-run with them: also read once
    purchases().to_csv(tmp_path / "bought.csv", index=False)
    assert main(["train", str(tmp_path / "bought.csv"), "--tasks", "buy", "--epochs", "1", "--size", "tiny", "--out",
                 str(tmp_path / "plain")]) == 0  # fmt: skip
    reads.clear()
    assert (
        main(["train", "--config", str(tmp_path / "plain" / "config.json"), *args[:2], "--out", str(tmp_path / "b")])
        == 0
    )
    capsys.readouterr()
    assert len(reads) == 1


def test_the_user_and_item_the_negatives_were_sampled_for_stay_the_runs_ids(tmp_path, capsys, monkeypatch):
    # hetrec's user_artists: 7 users with 50 artists each is a user column in 350 rows, and "few for ids" in the
    # 1,050 rows with 2 negatives each: the run lost its user column (no ranking metrics, no recommend), silently.
    monkeypatch.setenv("MTLREC_HOME", str(tmp_path / "home"))
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"userID": np.repeat(np.arange(2, 9), 50), "artistID": rng.permutation(350) % 120 + 51})
    frame["weight"] = rng.integers(10, 20_000, len(frame))
    frame.to_csv(tmp_path / "user_artists.dat", sep="\t", index=False)
    path = str(tmp_path / "user_artists.dat")

    assert main(["infer", path, "--negatives", "2", "--item-col", "artistID"]) == 0
    out = capsys.readouterr().out
    assert "user: userID\nitem: artistID\n" in out and "few for ids" not in out
    run = tmp_path / "run"
    args = ["train", path, "--item-col", "artistID", "--negatives", "2", "--epochs", "1", "--size", "tiny"]
    assert main([*args, "--out", str(run)]) == 0
    config = json.loads((run / "config.json").read_text())["data"]
    assert (config["user_col"], config["item_col"]) == ("userID", "artistID")
    assert config["categorical"][:2] == ["userID", "artistID"]
    assert "ndcg@10" in json.loads((run / "metrics.json").read_text())["tasks"]["interacted"]
    capsys.readouterr()
    assert main(["recommend", "--run", str(run), "--user", "2", "--k", "3"]) == 0


def test_without_a_user_or_item_column_the_flag_says_what_it_needs(tmp_path, capsys):
    frame = pd.DataFrame({"a": np.arange(300) % 7, "b": np.arange(300) % 5})
    frame.to_csv(tmp_path / "x.csv", index=False)
    assert main(["infer", str(tmp_path / "x.csv"), "--negatives", "2"]) == 2
    assert "--negatives needs a user column and an item column" in capsys.readouterr().err


@pytest.mark.parametrize("k", ["0", "21", "two"])
def test_a_count_out_of_range_is_refused_by_the_flag_before_the_data_is_read(tmp_path, capsys, k):
    with pytest.raises(SystemExit) as exit:
        main(["train", str(tmp_path / "never_read.csv"), "--negatives", k, "--out", str(tmp_path / "run")])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --negatives: how many sampled rows per row, a whole number from 1 to 20, got '{k}'" in err
    assert "Traceback" not in err and "never_read" not in err


@pytest.mark.usefixtures("home")
def test_the_data_page_samples_negatives_and_makes_their_label_a_task():
    from conftest import open_app, upload

    from mtlrec.config import ExperimentConfig

    frame = purchases().drop(columns="buy")
    at = upload(open_app("pages/data.py"), "purchases.csv", frame.to_csv(index=False).encode())
    assert any("CLI: --negatives 4" in e.value for e in at.error)  # no label: the advice names the fix
    at.radio(key="schema_fix_action").set_value("Sample negatives").run()
    assert not at.exception
    at.number_input(key="schema_fix_negatives").set_value(2).run()
    at.button(key="schema_fix_add").click().run()
    assert not at.exception
    config = ExperimentConfig.from_dict(at.session_state["experiment"])
    assert config.data.fixes == [
        {"negatives": 2, "user": "user", "item": "item", "label": "interacted", "zero": [], "seed": 0}
    ]
    assert config.task_names == ["interacted"]
    assert not at.error  # a label now: the data validates
    assert any("sampled rows added, 2 per row" in m.value for m in at.markdown)
    at.button(key="schema_fix_add").click().run()  # a second sample is refused, not stacked
    assert any("The rows have sampled negatives already" in e.value for e in at.error)


def test_training_rows_draw_training_items_only_and_ids_are_keyed_as_the_encoder_keys_them():
    # A test file's new items were drawn as training negatives (28% of them: the model learnt they are negatives);
    # 7 and "7" counted as two items, so a user's own item could be drawn.
    frame = purchases()
    train, test = frame.iloc[:2000].copy(), frame.iloc[2000:].reset_index(drop=True)
    test.loc[:99, "item"] = [f"new{i % 20}" for i in range(100)]  # items only in the test file
    fixed, fixed_test, notes, _ = apply_fixes_together(train, test, [FIX])
    assert not fixed.loc[fixed["interacted"] == 0, "item"].str.startswith("new").any()
    assert fixed_test.loc[fixed_test["interacted"] == 0, "item"].str.startswith("new").any()  # the test rows may
    assert f"from the {train['item'].nunique()} items" in notes[0]

    ids = pd.DataFrame({"user": ["a"] * 6 + ["b"] * 2, "item": [1, 2, 3, 4, 5, 6, 1, 2]})
    as_text = pd.DataFrame({"user": ["a", "b"], "item": ["7", "3"]})
    fixed, fixed_test, _, _ = apply_fixes_together(ids, as_text, [{**FIX, "zero": [], "negatives": 3}])
    drawn = fixed_test.loc[(fixed_test["interacted"] == 0) & (fixed_test["user"] == "a"), "item"].astype(str)
    assert set(drawn) == {"7"} or set(drawn) <= {"7"}  # "a" has 1..6 in the training file and 7 in the test file
    assert len(drawn) == 0  # every item is one "a" has: none to draw


def test_rows_without_a_user_get_no_sampled_rows():
    frame = purchases(300)
    frame.loc[:9, "user"] = None
    fixed, notes = apply_fixes(frame, [{**FIX, "zero": []}])
    sampled = fixed[fixed["interacted"] == 0]
    assert sampled["user"].notna().all() and len(sampled) == 3 * 290
    assert "none for the 10 rows without a user or an item" in notes[0]


def test_the_cli_zeroes_labels_made_by_fixes_and_trains_regression_outcomes_on_the_real_rows(
    tmp_path, capsys, monkeypatch
):
    # A --label column kept its 1s in the sampled rows (39% of them trained as positives), and a rating was set to
    # 0 (a review). A rating is empty in the sampled rows, and trains on the real rows only (it was left out).
    import json

    monkeypatch.setenv("MTLREC_HOME", str(tmp_path / "home"))
    rng = np.random.default_rng(0)
    frame = purchases().drop(columns="buy").assign(stars=lambda f: rng.integers(1, 6, len(f)))
    frame.to_csv(tmp_path / "reviews.csv", index=False)
    out = tmp_path / "run"
    args = ["train", str(tmp_path / "reviews.csv"), "--label", "good=stars >= 4", "--negatives", "2", "--tasks",
            "good", "--epochs", "1", "--size", "tiny", "--out", str(out)]  # fmt: skip
    assert main([*args[:6], *args[8:]]) == 0  # without --tasks: stars (regression) trains on the real rows
    printed = capsys.readouterr().out
    assert "task 'stars' is trained and measured on its labelled rows only" in printed
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["fixes"][1]["zero"] == ["good"] and config["data"]["fixes"][1]["unlabelled"] == ["stars"]
    assert [(t["name"], t["labelled_only"]) for t in config["tasks"]] == [
        ("interacted", False), ("stars", True), ("good", False)
    ]  # fmt: skip
    assert "stars" not in config["data"]["numeric"] + config["data"]["categorical"]
    predictions = pd.read_csv(out / "predictions.csv")
    real = predictions["interacted"] == 1
    assert predictions.loc[real, "stars"].notna().all() and predictions.loc[~real, "stars"].isna().all()
    assert main([*args[:7], "interacted,good,stars", *args[8:-1], str(tmp_path / "named")]) == 0  # named: the same
    capsys.readouterr()
    old_fix = {**config["data"]["fixes"][1]}
    old_fix.pop("unlabelled")  # a run saved before: stars copied the real row's value, and is refused
    config["data"]["fixes"][1] = old_fix
    (tmp_path / "old.json").write_text(json.dumps(config))
    assert main(["train", "--config", str(tmp_path / "old.json"), "--out", str(tmp_path / "old")]) == 2
    assert "task 'stars' has no value in the rows sampled by fix 2" in capsys.readouterr().err

    # a drop added to the saved run comes before its negatives (after them it dropped every sampled row)
    again = tmp_path / "again"
    assert main(["train", "--config", str(out / "config.json"), "--drop", "stars < 2", "--out", str(again)]) == 0
    fixes = json.loads((again / "config.json").read_text())["data"]["fixes"]
    assert [next(iter(f)) for f in fixes] == ["label", "drop", "negatives"]


def test_an_unlabelled_column_is_empty_in_the_sampled_rows_and_said_so():
    frame = purchases().assign(stars=lambda f: np.arange(len(f)) % 5 + 1.0)
    fixed, notes = apply_fixes(frame, [{**FIX, "unlabelled": ["stars"]}])
    sampled = fixed[fixed["interacted"] == 0]
    assert sampled["stars"].isna().all() and fixed.loc[fixed["interacted"] == 1, "stars"].notna().all()
    assert "'stars' empty in them (trained on the real rows only)" in notes[0]
    assert "'stars' empty in them" in describe(FIX | {"unlabelled": ["stars"]})
    assert fix_problems([FIX | {"unlabelled": "stars"}]) == [
        "fix 1 (negatives): 'unlabelled' must list column names, got 'stars'"
    ]


def test_a_task_chosen_after_the_negatives_fix_is_refused_by_validation():
    from mtlrec.config import DataConfig, ExperimentConfig, TaskSpec
    from mtlrec.schema import negatives_problems

    config = ExperimentConfig(
        data=DataConfig(user_col="user", item_col="item", categorical=["user", "item"], fixes=[FIX]),
        tasks=[TaskSpec("interacted"), TaskSpec("buy"), TaskSpec("like")],
    )
    assert negatives_problems(config) == [
        "task 'like' has no value in the rows sampled by fix 1 (the fix sets the binary tasks chosen before it to 0 "
        "there; any other task would copy the value of the row they were sampled for): choose the tasks first, then add the negatives fix (it sets the binary tasks to 0 in the sampled rows), or "
        "leave this task out"
    ]


@pytest.mark.usefixtures("home")
def test_the_data_page_zeroes_a_label_made_before_and_trains_a_regression_task_on_the_real_rows():
    from conftest import open_app, upload
    from test_fixes import _fix

    from mtlrec.config import ExperimentConfig

    rng = np.random.default_rng(0)
    frame = purchases().drop(columns="buy").assign(stars=lambda f: rng.integers(1, 6, len(f)))
    at = upload(open_app("pages/data.py"), "reviews.csv", frame.to_csv(index=False).encode())
    at = _fix(at, "Make a 0/1 label", "stars", ">=", "4", name="good")
    at.radio(key="schema_fix_action").set_value("Sample negatives").run()
    at.button(key="schema_fix_add").click().run()
    assert not at.exception
    config = ExperimentConfig.from_dict(at.session_state["experiment"])
    assert config.data.fixes[-1]["zero"] == ["good"] and config.data.fixes[-1]["unlabelled"] == ["stars"]
    # stars, a rating, has no value in the sampled rows: trained on the real rows only
    assert [(t.name, t.labelled_only) for t in config.tasks] == [
        ("stars", True), ("good", False), ("interacted", False)
    ]  # fmt: skip
    assert any("'stars' has no value in the sampled rows: it is trained on the real rows only" in i.value
               for i in at.info)  # fmt: skip
    assert [s.value for s in at.success][0].startswith("Ready to train: 3 tasks")
    # a drop added afterwards goes before the negatives, which stay last
    at = _fix(at, "Drop rows", "stars", "<", "2")
    fixes = ExperimentConfig.from_dict(at.session_state["experiment"]).data.fixes
    assert [next(iter(f)) for f in fixes] == ["label", "drop", "negatives"]


@pytest.mark.parametrize("method", ["random", "time", "user"])
def test_negatives_are_sampled_after_the_split_so_held_out_items_are_no_hint(method):
    # Sampled before the split, a user's test item was never a training negative while every other item the user
    # lacked could be: a model that learnt "drawn as a negative in training" scored the test rows above chance.
    from mtlrec.config import DataConfig, ExperimentConfig, SplitConfig, TaskSpec
    from mtlrec.data import prepare

    frame = purchases(4000, users=60, items=30).assign(day=lambda f: np.arange(len(f)) // 40)
    fix = {**FIX, "zero": [], "negatives": 4}
    config = ExperimentConfig(
        data=DataConfig(user_col="user", item_col="item", time_col="day", categorical=["user", "item"], fixes=[fix]),
        tasks=[TaskSpec("interacted")],
        split=SplitConfig(method=method),
    )
    prepared = prepare(config, frame)
    train = prepared.frame.iloc[prepared.train_idx]
    held_out = pd.concat([prepared.frame.iloc[prepared.val_idx], prepared.test_frame])

    def of(rows, label):
        rows = rows[rows["interacted"] == label]
        return set(zip(rows["user"], rows["item"], strict=True))

    train_real, held_real = of(train, 1), of(held_out, 1)
    train_drawn, held_drawn = of(train, 0), of(held_out, 0)
    assert len(train_real | held_real) == len(set(zip(frame["user"], frame["item"], strict=True)))
    assert not train_drawn & train_real  # a training negative is never the user's training item
    assert not held_drawn & (train_real | held_real)  # a held-out negative is no item the user has at all
    if method != "user":  # (a user split has no user on both sides)
        assert train_drawn & (held_real - train_real)  # a held-out item can be a training negative, as in NCF
    assert len(train) == 5 * (train["interacted"] == 1).sum()  # 4 per row (few items: none short here)
    # a validation negative is an item of the training or validation rows, with its columns (a test-only item had
    # none: NaN category and price, in the rows early stopping reads)
    val = prepared.frame.iloc[prepared.val_idx]
    drawn = val[val["interacted"] == 0]
    assert drawn["category"].notna().all() and drawn["price"].notna().all()
    assert set(drawn["item"]) <= set(prepared.frame["item"].iloc[np.r_[prepared.train_idx, prepared.val_idx]])
    assert any(n.startswith("negatives sampled after the split") for n in prepared.notes)
    assert not any("sampled rows added" in n for n in prepared.notes)  # the whole file's sample: not the run's
    again = prepare(config, frame)
    pd.testing.assert_frame_equal(again.frame, prepared.frame)  # a seed fixes the sample
    pd.testing.assert_frame_equal(again.test_frame, prepared.test_frame)


def test_validation_negatives_are_items_with_columns_not_test_only_ones():
    # 105 of 960 validation negatives were items of the test part only, with NaN category and price (a review)
    from mtlrec.config import DataConfig, ExperimentConfig, TaskSpec
    from mtlrec.data import prepare

    frame = purchases(3000, users=100, items=400)
    config = ExperimentConfig(
        data=DataConfig(user_col="user", item_col="item", categorical=["user", "item", "category"], numeric=["price"],
                        fixes=[{**FIX, "zero": [], "negatives": 4}]),
        tasks=[TaskSpec("interacted")],
    )  # fmt: skip
    prepared = prepare(config, frame)
    val = prepared.frame.iloc[prepared.val_idx]
    drawn = val[val["interacted"] == 0]
    assert len(drawn) and drawn["category"].notna().all() and drawn["price"].notna().all()


def test_a_note_says_when_many_training_negatives_are_the_users_held_out_items():
    # Users with most of the items: 86% of the training negatives were their own held-out positives and test AUC fell
    # below chance, with the generic "a held-out item can be drawn" only (an audit). Sparse users: no such note.
    from mtlrec.negatives import sample_after_split

    fix = {"negatives": 4, "user": "u", "item": "i", "label": "y"}
    rng = np.random.default_rng(3)
    dense = pd.DataFrame([(u, i) for u in range(30) for i in range(40) if rng.random() < 0.95], columns=["u", "i"])
    dense = dense.sample(frac=1.0, random_state=0).reset_index(drop=True)
    parts = [dense.iloc[:700], dense.iloc[700:900], dense.iloc[900:]]
    _, note = sample_after_split(parts, fix)
    share = float(note.split(" of the training negatives are")[0].rsplit("; ", 1)[-1].rstrip("%")) / 100
    assert share > 0.5 and note.endswith(
        "of the training negatives are items the user has in the validation or test rows (users with most of the "
        "items): they teach the model to score those test positives low; sample fewer negatives, or leave out the "
        "users who have most of the items"
    )

    sparse = pd.DataFrame({"u": rng.integers(0, 300, 3000), "i": rng.integers(0, 2000, 3000)})
    _, note = sample_after_split([sparse.iloc[:2000], sparse.iloc[2000:2500], sparse.iloc[2500:]], fix)
    assert "of the training negatives are items the user has" not in note


# Pinned by a mutation audit (2026-12-07): each test fails on a plausible one-line change that the suite let pass.


def test_sampled_rows_take_the_items_columns_from_its_latest_row():
    from mtlrec.negatives import sample_negatives

    frame = pd.DataFrame({"u": ["a", "a", "b", "b", "c"], "i": ["x", "y", "x", "z", "z"],
                          "cat": ["old", "p", "new", "q", "q"]})  # fmt: skip
    out, _ = sample_negatives([frame], {"negatives": 4, "user": "u", "item": "i", "label": "lab", "seed": 0})

    sampled = out[0][out[0]["lab"] == 0]
    assert (sampled["i"] == "x").any() and (sampled.loc[sampled["i"] == "x", "cat"] == "new").all()


def test_a_missing_item_is_never_drawn_as_a_negative():
    from mtlrec.negatives import sample_negatives

    frame = pd.DataFrame({"u": ["a", "a", "b", "b", "c", "c"], "i": ["x", "y", None, "z", "x", None]})
    out, _ = sample_negatives([frame], {"negatives": 3, "user": "u", "item": "i", "label": "lab", "seed": 0})

    assert out[0].loc[out[0]["lab"] == 0, "i"].notna().all()
