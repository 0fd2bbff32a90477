"""The command line end to end: train on the bundled sample, re-run from the saved config, bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtlrec.cli import main
from mtlrec.config import DataConfig, ExperimentConfig, TaskSpec
from mtlrec.data import propose_schema
from mtlrec.errors import MtlrecError
from mtlrec.sample import SyntheticSpec, generate
from mtlrec.schema import POSITIVES_ONLY

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """One short training run on the bundled synthetic sample, through the CLI."""
    out = tmp_path_factory.mktemp("cli") / "run"
    code = main(["train", "sample:synthetic", "--size", "tiny", "--epochs", "2", "--seed", "3", "--out", str(out)])
    return code, out


@pytest.fixture(scope="module")
def small_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "log.csv"
    generate(SyntheticSpec(n_rows=3000, n_users=200, n_items=100)).to_csv(path, index=False)
    return path


def test_train_on_the_sample_writes_every_run_file(sample_run):
    code, out = sample_run

    assert code == 0
    assert {p.name for p in out.iterdir()} >= {
        "config.json",
        "metrics.json",
        "history.csv",
        "model.pt",
        "encoder.json",
        "predictions.csv",
    }


def test_metrics_json_has_the_documented_shape(sample_run):
    metrics = json.loads((sample_run[1] / "metrics.json").read_text())

    assert set(metrics["tasks"]) == {"click", "like", "purchase", "watch_time"}
    assert {"auc", "logloss", "gauc", "ndcg@10", "recall@10", "hitrate@10"} <= set(metrics["tasks"]["click"])
    assert {"rmse", "mae", "ndcg@10"} <= set(metrics["tasks"]["watch_time"])
    assert metrics["params"] > 0 and metrics["epochs_run"] == 2
    assert metrics["train_seconds"] > 0 and metrics["samples_per_second"] > 0
    assert 0.5 < metrics["tasks"]["click"]["auc"] <= 1


def test_rerun_from_the_saved_config_gives_identical_metrics(sample_run, tmp_path):
    first = json.loads((sample_run[1] / "metrics.json").read_text())

    code = main(["train", "--config", str(sample_run[1] / "config.json"), "--out", str(tmp_path / "again"), "--quiet"])

    again = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert code == 0
    assert again["tasks"] == first["tasks"]
    assert again["params"] == first["params"]


def test_train_prints_a_line_per_epoch_and_a_final_table(small_file, tmp_path, capsys):
    code = main(
        ["train", str(small_file), "--size", "tiny", "--epochs", "2", "--patience", "0", "--out", str(tmp_path)]
    )

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert sum(line.startswith("epoch ") for line in lines) == 2
    header = next(line for line in lines if line.startswith("task"))
    assert header.split()[:3] == ["task", "auc", "gauc"]
    assert any(line.startswith("click ") for line in lines)
    # The header names log1p where it is applied (it said "watch_time (regression, w=1)": an audit).
    assert "click (binary, w=1)" in lines[0] and "watch_time (regression, log1p, w=1)" in lines[0]


def test_flags_override_what_inference_proposes(small_file, tmp_path):
    args = ["train", str(small_file), "--tasks", "click,watch_time", "--weights", "2,0.5", "--log1p", "watch_time"]
    args += ["--exclude", "user_city", "--size", "tiny", "--embed-dim", "3", "--epochs", "1", "--out", str(tmp_path)]
    args += ["--precision", "bf16", "--cross", "1"]

    assert main(args) == 0

    config = json.loads((tmp_path / "config.json").read_text())
    assert [(t["name"], t["type"], t["weight"], t["log1p"]) for t in config["tasks"]] == [
        ("click", "binary", 2.0, False),
        ("watch_time", "regression", 0.5, True),
    ]
    assert "user_city" not in config["data"]["categorical"] + config["data"]["numeric"]
    assert {"like", "purchase"}.isdisjoint(config["data"]["categorical"] + config["data"]["numeric"])
    assert config["model"]["embed_dim"] == 3
    assert config["train"]["precision"] == "bf16"
    assert config["model"]["cross"] == 1
    assert json.loads((tmp_path / "metrics.json").read_text())["precision"] == "bf16"


def test_recommend_prints_top_k_for_a_user(sample_run, capsys):
    user = pd.read_csv(sample_run[1] / "predictions.csv")["user_id"].iloc[0]

    code = main(
        ["recommend", "--run", str(sample_run[1]), "--user", str(user), "--k", "5", "--fusion", "click=1,purchase=2"]
    )

    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert lines[0].split()[:3] == ["rank", "item", "click"]
    assert len(lines) == 6

    out = sample_run[1].parent / "even.csv"  # --equal-spread: each task's scores as z-scores over the candidates
    args = ["recommend", "--run", str(sample_run[1]), "--user", str(user), "--k", "5", "--fusion", "click=1,purchase=2"]
    assert main([*args, "--equal-spread", "--out", str(out)]) == 0
    fused = pd.read_csv(out)["fused"]
    assert fused.is_monotonic_decreasing and fused.iloc[0] > 1.0  # z units: the top items lie standard deviations up


def test_recommend_ranks_a_purchase_logged_after_clicks_by_the_chance_of_both_unless_no_joint(
    small_file, tmp_path, capsys
):
    frame = pd.read_csv(small_file)
    frame["purchase"] = frame["purchase"].astype(float).where(frame["click"] == 1)  # logged after clicks only
    path = tmp_path / "funnel.csv"
    frame.to_csv(path, index=False)
    run = tmp_path / "run"
    args = ["train", str(path), "--tasks", "click,purchase", "--labelled-only", "purchase", "--size", "tiny"]
    assert main([*args, "--epochs", "1", "--out", str(run)]) == 0
    capsys.readouterr()
    user = str(frame["user_id"].iloc[0])
    ask = ["recommend", "--run", str(run), "--user", user, "--k", "1000", "--include-seen"]  # every item

    assert main([*ask, "--out", str(tmp_path / "joint.csv")]) == 0
    said = capsys.readouterr().err
    assert "so it is ranked by the chance of both, P(click) × P(purchase | click)" in said
    assert "*" not in said  # no markdown in a terminal: *Chance of both* printed its asterisks
    assert main([*ask, "--no-joint", "--out", str(tmp_path / "as_trained.csv")]) == 0
    said = capsys.readouterr().err
    assert "and is ranked so, as trained" in said and "*" not in said

    joint = pd.read_csv(tmp_path / "joint.csv")
    as_trained = pd.read_csv(tmp_path / "as_trained.csv")
    both = joint.merge(as_trained, on="item", suffixes=("", "_as_trained"))
    assert len(both) == len(joint) == len(as_trained) > 50
    np.testing.assert_allclose(both["purchase"], both["click"] * both["purchase_as_trained"], rtol=1e-4)
    np.testing.assert_allclose(joint["fused"], joint["click"] + joint["purchase"], rtol=1e-4)
    assert joint["fused"].is_monotonic_decreasing and as_trained["fused"].is_monotonic_decreasing


def test_a_label_made_from_a_two_valued_binary_task_takes_its_place(small_file, tmp_path, capsys):
    # 'converted'/'not converted': the message's --label was followed, and training still failed on the column
    frame = pd.read_csv(small_file)
    frame["purchase"] = frame["purchase"].map({1: "converted", 0: "not converted"})
    path = tmp_path / "conv.csv"
    frame.to_csv(path, index=False)
    args = ["train", str(path), "--size", "tiny", "--epochs", "1", "--out", str(tmp_path / "run")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "`--label 'purchase_converted=purchase == converted'`" in err

    assert main([*args, "--label", "purchase_converted=purchase == converted"]) == 0

    out = capsys.readouterr().out
    assert (
        "note: 'purchase' is not a task: the label 'purchase_converted' is made from it and takes its place (its "
        "values are not 0/1, so it cannot be trained as it is)"  # "name both to train both" failed when followed
    ) in out
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    names = [t["name"] for t in config["tasks"]]
    assert "purchase" not in names and "purchase_converted" in out
    assert "purchase" not in config["data"]["categorical"]
    # in the source's place, so that --weights by position mean what they meant
    inferred = [t.name for t in propose_schema(pd.read_csv(small_file), str(small_file)).tasks]
    assert names == [("purchase_converted" if n == "purchase" else n) for n in inferred]

    # A 0/1 column made a label of: the label is the column again, or its opposite; "name both in --tasks to train
    # both" failed when followed, refused as one task twice (a diff review)
    args = ["train", str(small_file), *args[2:-1], str(tmp_path / "run2"), "--label", "no_like=like == 0"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "takes its place (it holds 'like' again or its opposite, so training both would train one task twice)" in out


def test_a_label_stands_beside_its_source_column_as_both_trainable_one_task_twice_or_no_0_1_label():
    from mtlrec.fixes import apply_fixes, parse_fix
    from mtlrec.schema import beside_source

    frame = pd.DataFrame({
        "like": [1, 0, 1, 0, 1, 0], "stars": [5, 1, 4, 2, 3, 5], "outcome": ["won", "lost"] * 3,
        "seen": [1.0, np.nan, 0.0, 1.0, np.nan, 0.0],
    })  # fmt: skip
    fixes = [
        parse_fix("label", "no_like=like == 0"), parse_fix("label", "liked=like == 1"),
        parse_fix("label", "good=stars >= 4"), parse_fix("label", "won=outcome == won"),
        parse_fix("label", "unseen=seen missing"),
    ]  # fmt: skip
    fixed, _ = apply_fixes(frame, fixes)
    assert beside_source(fixed, "like", "no_like") == beside_source(fixed, "like", "liked") == "repeat"
    assert beside_source(fixed, "outcome", "won") == "not_binary"
    assert beside_source(fixed, "stars", "good") == "not_binary"  # ratings: no 0/1 task to keep
    assert beside_source(fixed, "seen", "unseen") == "both"  # 1 where seen is missing: another outcome


def test_no_diagnostics_turns_the_task_conflict_diagnostics_off(small_file, tmp_path, capsys):
    args = ["train", str(small_file), "--size", "tiny", "--epochs", "1", "--quiet", "--no-diagnostics"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["diagnostics"] is False
    assert "gradient cosine" not in capsys.readouterr().out


@pytest.mark.parametrize("weight", ["nan", "inf", "-inf"])
def test_recommend_refuses_a_fusion_weight_that_is_not_a_finite_number(sample_run, capsys, weight):
    # click=nan gave NaN fused scores and an arbitrary order, with exit code 0.
    user = pd.read_csv(sample_run[1] / "predictions.csv")["user_id"].iloc[0]

    code = main(["recommend", "--run", str(sample_run[1]), "--user", str(user), "--fusion", f"click={weight}"])

    assert code == 2
    assert f"--fusion takes finite numbers, got 'click={weight}'" in capsys.readouterr().err


def test_recommend_refuses_a_fusion_weight_given_twice(sample_run, capsys):
    # click=1,click=5 silently used 5 (an audit).
    user = pd.read_csv(sample_run[1] / "predictions.csv")["user_id"].iloc[0]
    code = main(["recommend", "--run", str(sample_run[1]), "--user", str(user), "--fusion", "click=1,click=5"])
    assert code == 2
    assert "--fusion names 'click' twice: give each name once" in capsys.readouterr().err


def test_recommend_says_a_run_folder_is_missing_or_is_a_file_not_that_a_run_is_damaged(sample_run, tmp_path, capsys):
    user = pd.read_csv(sample_run[1] / "predictions.csv")["user_id"].iloc[0]
    assert main(["recommend", "--run", str(tmp_path / "nonexist"), "--user", str(user)]) == 2
    assert "does not exist: give a run folder (the folder `train --out` wrote)" in capsys.readouterr().err
    assert main(["recommend", "--run", str(sample_run[1] / "metrics.json"), "--user", str(user)]) == 2
    assert "metrics.json is a file, not a run folder" in capsys.readouterr().err


def _edit_json(path: Path, change) -> None:
    value = json.loads(path.read_text())
    path.write_text(json.dumps(change(value)))


@pytest.mark.parametrize(
    ("file", "change", "said"),
    [
        ("metrics.json", lambda m: None, "metrics.json is not a JSON object"),
        ("metrics.json", lambda m: {**m, "data_files": "x"}, "'data_files' is not a list of {path, bytes, sha256}"),
        ("encoder.json", lambda e: {**e, "numeric_stats": {k: ["x", 1] for k in e["numeric_stats"]}},
         "encoder.json is damaged: numeric_stats of"),
        ("encoder.json", lambda e: {**e, "vocab": {k: v + v[:1] for k, v in e["vocab"].items()}},
         "has repeated vocabulary entries"),
        ("encoder.json", lambda e: {**e, "tasks": e["tasks"][:-1]}, "encoder.json is not this run's"),
        ("encoder.json", lambda e: {**e, "version": None}, "encoder.json: version None is not supported"),
    ],
)  # fmt: skip
def test_recommend_on_run_files_of_the_wrong_shape_says_which_file_is_damaged(sample_run, tmp_path, capsys, file,
                                                                              change, said):  # fmt: skip
    # Valid JSON of another shape gave tracebacks (metrics null, data_files text, a text statistic, a repeated
    # vocabulary entry), or silently wrong scores (an encoder without the regression task: every value 0.0) (audit).
    copy = tmp_path / "copy"
    shutil.copytree(sample_run[1], copy)
    _edit_json(copy / file, change)
    user = pd.read_csv(copy / "predictions.csv")["user_id"].iloc[0]
    assert main(["recommend", "--run", str(copy), "--user", str(user), "--k", "3"]) == 2
    err = capsys.readouterr().err
    assert said in err and "run 'copy'" in err and "Traceback" not in err


def test_recommend_and_train_config_take_a_run_folder_copied_without_its_history(sample_run, tmp_path, capsys):
    # history.csv holds the curves only: a folder copied without it was "damaged or incomplete" and could not
    # recommend; `train --config FOLDER` said the existing folder did not exist.
    copy = tmp_path / "copy"
    shutil.copytree(sample_run[1], copy)
    (copy / "history.csv").unlink()
    user = pd.read_csv(copy / "predictions.csv")["user_id"].iloc[0]
    assert main(["recommend", "--run", str(copy), "--user", str(user), "--k", "3"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 4
    out = tmp_path / "again"
    assert main(["train", "--config", str(copy), "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    assert (out / "metrics.json").is_file()


def test_infer_prints_the_proposed_schema(small_file, capsys):
    assert main(["infer", str(small_file)]) == 0

    out = capsys.readouterr().out
    assert "user: user_id" in out and "item: item_id" in out and "time: timestamp" in out
    assert "click (binary)" in out and "watch_time (regression, log1p)" in out


def test_sample_writes_a_reproducible_log(tmp_path):
    assert main(["sample", "--out", str(tmp_path), "--rows", "500"]) == 0

    written = pd.read_parquet(tmp_path / "synthetic.parquet")
    assert len(written) == 500
    pd.testing.assert_frame_equal(written, generate(SyntheticSpec(n_rows=500)), check_dtype=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "missing.csv"], "file 'missing.csv' does not exist"),
        (["train", "{data}", "--tasks", "click,nope"], "--tasks names columns that are not in the data: 'nope'"),
        (["train", "{data}", "--tasks", "click", "--weights", "1,2"], "--weights has 2 values for 1 tasks (click)"),
        (
            ["train", "{data}", "--weights", "1,2"],
            "--weights has 2 values for 4 tasks (click, like, purchase, watch_time): give one per task, in that order",
        ),
        (
            ["train", "{data}", "--tasks", "item_price", "--task-types", "binary"],
            "column 'item_price' is a binary task",
        ),
        (["train", "{data}", "--bottom", "64,x"], "--bottom takes comma-separated int values"),
        (["train", "{data}", "--lr", "-1"], "learning rate must be > 0"),
        (["train", "{data}", "--seed", "-1"], "seed must be a whole number from 0 to 4294967295, got -1"),
        (["train", "{data}", "--weight-decay", "nan"], "weight decay must be a number >= 0, got nan"),
        (["train", "sample:nope"], "unknown sample 'nope'"),
        (
            ["sweep", "{data}"],
            "a sweep weighs 2 or 3 tasks, and 4 were found (click, like, purchase, watch_time): choose them with "
            "--tasks a,b",
        ),
        (
            ["train", "{data}", "--exclude", "User_Activity"],
            "--exclude names columns that are not in the data: 'User_Activity' (did you mean 'user_activity'?)",
        ),
        (
            ["train", "{data}", "--user-col", "user_id", "--item-col", "user_id"],
            "column 'user_id' is both the user and the item column: choose two different columns",
        ),
        (
            ["sweep", "{data}", "--tasks", "click,like", "--workers", "-1"],
            "the number of worker threads must be at least 1",
        ),
        (
            ["sweep", "{data}", "--tasks", "click,like", "--group-size", "0"],
            "the group size (models trained stacked at once) must be at least 1",
        ),
        (
            ["train", "sample:census", "--model", "esmm", "--size", "tiny"],
            "mark e.g. never_married as conditional on income_50k (--funnel never_married=income_50k on the command",
        ),  # the run's own tasks, not purchase and click, which census has not
    ],
)
def test_bad_input_exits_with_2_and_a_message_naming_the_problem(args, message, small_file, capsys):
    args = [a.replace("{data}", str(small_file)) for a in args]

    assert main(args) == 2

    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_file_without_labels_is_named_in_the_message(tmp_path, capsys):
    path = tmp_path / "no labels.csv"
    pd.DataFrame({"user_id": ["u1", "u2", "u3"], "item_id": ["i1", "i2", "i1"]}).to_csv(path, index=False)

    assert main(["train", str(path)]) == 2

    err = capsys.readouterr().err
    assert "no label columns were recognised in no labels.csv: name them with --tasks a,b,c" in err


def test_train_and_sweep_read_the_data_file_once(small_file, tmp_path, monkeypatch):
    import mtlrec.data

    reads = []
    read_table = mtlrec.data.read_table

    def counting(path, *args, **kwargs):
        reads.append(path)
        return read_table(path, *args, **kwargs)

    monkeypatch.setattr(mtlrec.data, "read_table", counting)
    tiny = ["--size", "tiny", "--epochs", "1", "--quiet"]
    assert main(["train", str(small_file), *tiny, "--out", str(tmp_path / "run")]) == 0
    sweep = ["sweep", str(small_file), *tiny, "--tasks", "click,like", "--points", "2", "--references", "none"]
    assert main([*sweep, "--no-baseline", "--out", str(tmp_path / "sweep"), "--home", str(tmp_path / "home")]) == 0
    assert reads == [str(small_file), str(small_file)]


def test_module_entry_point_reports_bad_files_without_a_traceback(tmp_path):
    bad = tmp_path / "table.csv"
    bad.write_bytes(b"PK\x03\x04 not really a zip")

    done = subprocess.run(
        [sys.executable, "-m", "mtlrec", "train", str(bad)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )

    assert done.returncode == 2
    assert "table.csv: this is a zip archive" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--model", "mmoe", "--experts", "2"], {"kind": "mmoe", "experts": 2}),
        (["--model", "ple", "--levels", "2", "--task-experts", "2"], {"kind": "ple", "levels": 2, "task_experts": 2}),
        (["--model", "esmm", "--funnel", "purchase=click"], {"kind": "esmm", "funnel": {"purchase": "click"}}),
    ],
)
def test_architecture_flags_reach_the_saved_config(flags, expected, small_file, tmp_path):
    args = ["train", str(small_file), "--size", "tiny", "--epochs", "1", "--out", str(tmp_path), *flags]

    assert main(args) == 0

    model = json.loads((tmp_path / "config.json").read_text())["model"]
    assert {key: model[key] for key in expected} == expected


def test_weighting_flags_train_and_record_diagnostics(small_file, tmp_path, capsys):
    args = ["train", str(small_file), "--size", "tiny", "--epochs", "2", "--patience", "0", "--out", str(tmp_path)]

    assert main([*args, "--weighting", "dwa", "--temperature", "1.5"]) == 0

    config = json.loads((tmp_path / "config.json").read_text())
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert config["weighting"] == {"method": "dwa", "alpha": 1.5, "temperature": 1.5}
    assert set(metrics["diagnostics"]["grad_norm"]) == {"click", "like", "purchase", "watch_time"}
    assert "gradient cosine on the shared layers" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--model", "esmm", "--funnel", "purchase"], "--funnel takes name=value pairs"),
        (["--model", "esmm", "--funnel", "watch_time=click"], "'watch_time' is a regression task; both must be binary"),
        (["--weighting", "dwa", "--temperature", "0"], "DWA temperature must be a number > 0"),
    ],
)
def test_bad_architecture_or_weighting_settings_exit_with_2(flags, message, small_file, capsys):
    assert main(["train", str(small_file), *flags]) == 2

    assert message in capsys.readouterr().err


def test_a_task_named_with_tasks_keeps_the_log1p_inference_proposes(small_file, tmp_path, capsys):
    # watch_time is skewed: inference proposes log1p; naming the tasks used to drop it without a word.
    main(["infer", str(small_file)])
    assert "watch_time (regression, log1p)" in capsys.readouterr().out
    base = ["train", str(small_file), "--size", "tiny", "--epochs", "1", "--quiet"]

    assert main([*base, "--tasks", "click,watch_time", "--out", str(tmp_path / "named")]) == 0
    assert main([*base, "--tasks", "click,watch_time", "--no-log1p", "watch_time", "--out", str(tmp_path / "off")]) == 0

    def log1p(run: str) -> dict:
        return {t["name"]: t["log1p"] for t in json.loads((tmp_path / run / "config.json").read_text())["tasks"]}

    assert log1p("named") == {"click": False, "watch_time": True}
    assert log1p("off") == {"click": False, "watch_time": False}


def test_a_log_whose_outcome_is_an_event_type_column_says_how_to_make_labels(tmp_path, capsys):
    # Taobao UserBehavior: no 0/1 label, one text column of event types.
    frame = pd.DataFrame(
        {
            "user_id": [f"u{i % 40}" for i in range(400)],
            "item_id": [f"i{i % 70}" for i in range(400)],
            "behavior_type": ["pv", "pv", "cart", "buy"] * 100,
            "timestamp": range(1_511_546_022, 1_511_546_422),
        }
    )
    frame.to_csv(tmp_path / "ub.csv", index=False)

    assert main(["train", str(tmp_path / "ub.csv"), "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: no label columns were recognised in ub.csv: name them with --tasks a,b,c; column 'behavior_type' "
        "holds event types (pv, cart, buy): add a 0/1 column per type you want to predict (e.g. buy = 1 where "
        "behavior_type is 'buy', else 0: on Data: Fix the rows; CLI: `--label 'buy=behavior_type == buy'`) and name "
        "those; a row per event makes them exclusive (no row is both a cart and a purchase): to predict several (an "
        "ESMM funnel), first group the rows to one per user (or session) and item, each 0/1 column the max over its "
        "rows (pandas: df = df.join(pd.get_dummies(df['behavior_type'], dtype=int)).drop(columns='behavior_type')"
        ".groupby(['user_id', 'item_id'], as_index=False).max())"
    )
    # the advice, followed, trains
    args = ["--size", "tiny", "--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]
    assert main(["train", str(tmp_path / "ub.csv"), "--label", "buy=behavior_type == buy", *args]) == 0
    # and the grouping line, run, gives one row per user and item with a 0/1 column per type, which trains
    line = "df = df.join(pd.get_dummies(df['behavior_type'], dtype=int)).drop(columns='behavior_type')" + (
        ".groupby(['user_id', 'item_id'], as_index=False).max()"
    )
    namespace = {"pd": pd, "df": frame}
    exec(line, namespace)  # noqa: S102 - the message's own advice, run as a user would
    grouped = namespace["df"]
    assert not grouped.duplicated(["user_id", "item_id"]).any() and {"pv", "cart", "buy"} <= set(grouped.columns)
    grouped.to_csv(tmp_path / "grouped.csv", index=False)
    assert main(["train", str(tmp_path / "grouped.csv"), "--tasks", "cart,buy", "--size", "tiny", "--epochs", "1",
                 "--quiet", "--out", str(tmp_path / "grouped")]) == 0  # fmt: skip


@pytest.fixture
def moved_run(small_file, tmp_path, monkeypatch):
    """A run trained from a relative path in another folder: (run folder, data file)."""
    data = tmp_path / "data" / "log.csv"
    data.parent.mkdir()
    data.write_bytes(small_file.read_bytes())
    monkeypatch.chdir(tmp_path / "data")
    assert main(["train", "log.csv", "--size", "tiny", "--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]) == 0
    monkeypatch.chdir(tmp_path)
    return tmp_path / "run", data


def test_a_saved_config_finds_its_data_from_any_folder_and_data_given_replaces_it(moved_run, tmp_path, capsys):
    run, data = moved_run
    config = str(run / "config.json")
    first = json.loads((run / "metrics.json").read_text())
    assert json.loads((run / "config.json").read_text())["data"]["path"] == str(data)  # absolute
    assert first["data_files"][0]["path"] == str(data) and first["data_files"][0]["bytes"] == data.stat().st_size

    assert main(["train", "--config", config, "--quiet", "--out", str(tmp_path / "again")]) == 0
    assert json.loads((tmp_path / "again" / "metrics.json").read_text())["tasks"] == first["tasks"]
    assert "warning" not in capsys.readouterr().err

    data.rename(tmp_path / "moved.csv")
    assert main(["train", "--config", config, "--quiet", "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: the data file of {config} is missing: {data}; pass it again (python -m mtlrec train DATA --config "
        f"{config}), or move it back"
    )
    assert main(["train", "moved.csv", "--config", config, "--quiet", "--out", str(tmp_path / "moved")]) == 0
    assert json.loads((tmp_path / "moved" / "metrics.json").read_text())["tasks"] == first["tasks"]


def test_a_rerun_from_the_run_folder_or_of_a_file_copied_with_its_time_still_says_the_data_changed(
    moved_run, tmp_path, capsys
):
    # `--config RUN_DIR` looked for metrics.json beside the folder and said nothing; and a file of the same size
    # whose time was kept (cp -p, rsync -t, tar x) was taken as untouched without being read (an audit).
    run, data = moved_run
    stat = data.stat()
    header, *rows = data.read_text().splitlines(keepends=True)
    data.write_text(header + "".join(reversed(rows)))
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the recorded size and time, other content
    capsys.readouterr()

    for n, given in enumerate((run, run / "config.json")):
        assert main(["train", "--config", str(given), "--quiet", "--out", str(tmp_path / f"again{n}")]) == 0
        assert (
            "warning: log.csv changed since the run was trained (same size, other content): this re-run will not "
            "give the run's metrics"
        ) in capsys.readouterr().err, given


def test_a_run_records_its_environment_and_a_rerun_under_other_versions_says_so(moved_run, tmp_path, capsys):
    import torch

    run, _ = moved_run
    metrics = json.loads((run / "metrics.json").read_text())
    env = metrics["environment"]
    assert (env["torch"], env["threads"]) == (torch.__version__, torch.get_num_threads())
    assert {"python", "mtlrec", "numpy", "pandas", "scikit-learn", "pyarrow", "machine"} <= set(env)
    capsys.readouterr()
    assert main(["train", "--config", str(run), "--quiet", "--out", str(tmp_path / "same")]) == 0
    assert "warning" not in capsys.readouterr().err  # same versions; the thread count does not matter

    metrics["environment"] = {**env, "torch": "2.12.0", "threads": 64}
    (run / "metrics.json").write_text(json.dumps(metrics))
    assert main(["train", "--config", str(run), "--quiet", "--out", str(tmp_path / "other")]) == 0
    assert capsys.readouterr().err.strip() == (
        f"warning: the run was trained with other software (torch 2.12.0 then, {torch.__version__} now): this "
        "re-run may differ from the run's metrics in the last decimals or more"
    )


def test_changed_data_is_a_warning_on_a_rerun_and_a_recommendation(moved_run, tmp_path, capsys):
    run, data = moved_run
    before = data.stat().st_size
    frame = pd.read_csv(data)
    pd.concat([frame, frame.head(50)]).to_csv(data, index=False)
    capsys.readouterr()

    assert main(["train", "--config", str(run / "config.json"), "--quiet", "--out", str(tmp_path / "again")]) == 0
    assert (
        f"warning: log.csv changed since the run was trained ({before:,} bytes then, {data.stat().st_size:,} now): "
        "this re-run will not give the run's metrics"
    ) in capsys.readouterr().err
    user = str(frame["user_id"].iloc[0])
    assert main(["recommend", "--run", str(run), "--user", user, "--k", "3"]) == 0
    assert "log.csv changed since the run was trained" in capsys.readouterr().err
    # another file given with --data is not "changed": it is another file
    other = tmp_path / "other.csv"
    frame.head(len(frame) - 20).to_csv(other, index=False)
    assert main(["recommend", "--run", str(run), "--user", user, "--k", "3", "--data", str(other)]) == 0
    assert "warning: other.csv is not the file the run was trained on (log.csv: " in capsys.readouterr().err


def test_recommend_with_a_data_file_that_lost_a_column_exits_2_naming_it(moved_run, capsys):
    run, data = moved_run
    frame = pd.read_csv(data)
    frame.drop(columns=["device"]).to_csv(data, index=False)
    capsys.readouterr()

    assert main(["recommend", "--run", str(run), "--user", str(frame["user_id"].iloc[0])]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            "error: log.csv: the data no longer has column 'device', which the run was trained with: restore the file, "
            "or train a new run on the file as it is now"
        )
    )


def test_the_final_table_keeps_large_metrics_apart():
    # A gmv RMSE near 1e9 ran into the next column: "1.0000286311329.1247252192686.3037".
    from mtlrec.cli import metrics_text

    text = metrics_text({"tasks": {"gmv": {"rmse": 1286311329.1247, "mae": 252192686.3037}, "click": {"auc": 0.75}}})

    header, gmv, click = text.splitlines()
    assert header.split() == ["task", "rmse", "mae", "auc"]
    assert gmv.split() == ["gmv", "1286311329.1247", "252192686.3037", "-"]
    assert click.split() == ["click", "-", "-", "0.7500"]
    assert len({len(line) for line in text.splitlines()}) == 1  # columns aligned


def test_the_final_table_marks_a_task_of_loss_weight_0_as_not_trained(small_file, tmp_path, capsys):
    # A weight-0 task's AUC (near 0.5, or below it) stood in the table like any other; Results says "not trained".
    out = tmp_path / "run"
    assert main(["train", str(small_file), "--tasks", "click,like", "--weights", "1,0", "--epochs", "1", "--size", "tiny",
                 "--out", str(out)]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    table = lines[next(i for i, line in enumerate(lines) if line.startswith("task ")) :]
    assert [row.split()[0] for row in table[1:3]] == ["click", "like*"]
    assert table[3] == "* like: loss weight 0, evaluated but not trained (the metrics of an untrained tower)"
    metrics = json.loads((out / "metrics.json").read_text())["tasks"]
    assert set(metrics) == {"click", "like"}  # the file keeps the task's own name

    from mtlrec.cli import metrics_text  # a trained task named 'a*' beside an untrained 'a': two rows

    rows = metrics_text({"tasks": {"a": {"auc": 0.5}, "a*": {"auc": 0.75}}}, {"a"}).splitlines()
    assert [row.split() for row in rows[1:3]] == [["a*", "0.5000"], ["a*", "0.7500"]] and rows[3].startswith("* a:")


def test_no_item_column_hint_once_item_col_names_one(tmp_path, capsys, monkeypatch):
    # Online Retail with --item-col StockCode was still told "column 'Description' may be the item column ... no
    # column is named as one".
    monkeypatch.setenv("MTLREC_HOME", str(tmp_path / "home"))
    rng = np.random.default_rng(3)
    n = 2_000
    items = rng.integers(0, 90, n)
    frame = pd.DataFrame({"CustomerID": rng.integers(0, 120, n), "StockCode": [f"C{i}x" for i in items],
                          "Description": [f"thing {i}" for i in items], "bought": rng.integers(0, 2, n)})  # fmt: skip
    frame.to_csv(tmp_path / "retail.csv", index=False)
    args = ["train", str(tmp_path / "retail.csv"), "--tasks", "bought", "--epochs", "1", "--size", "tiny"]

    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert "may be the item column" in capsys.readouterr().out  # the hint, while no item column is chosen

    assert main([*args, "--item-col", "Description", "--out", str(tmp_path / "b")]) == 0  # the hint named StockCode
    assert "may be the item column" not in capsys.readouterr().out
    assert main(["infer", str(tmp_path / "retail.csv"), "--item-col", "Description"]) == 0
    out = capsys.readouterr().out
    assert "item: Description\n" in out and "may be the item column" not in out

    # infer reads --user-col/--item-col as train does
    assert main(["infer", str(tmp_path / "retail.csv"), "--item-col", "none"]) == 0
    assert "item: None\n" in capsys.readouterr().out
    for flags, message in (
        (["--user-col", "StockCode", "--item-col", "StockCode"], "column 'StockCode' is both the user and the item"),
        (["--item-col", "bought"], "column 'bought' is both a task and the item column (--item-col)"),
        (["--item-col", "CustomerID", "--negatives", "1"], "column 'CustomerID' is both the user and the item"),
    ):
        assert main(["infer", str(tmp_path / "retail.csv"), *flags]) == 2
        assert message in capsys.readouterr().err, flags


def test_no_event_hint_for_a_feature_named_type_and_log1p_named_twice_is_refused(small_file, tmp_path, capsys):
    frame = pd.DataFrame({"user_id": [f"u{i % 9}" for i in range(60)], "device_type": ["ios", "android", "web"] * 20})
    frame.to_csv(tmp_path / "no labels.csv", index=False)

    assert main(["train", str(tmp_path / "no labels.csv")]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: no label columns were recognised in no labels.csv: name them with --tasks a,b,c" + POSITIVES_ONLY
    )  # device_type is no event-type column
    assert main(["train", str(small_file), "--log1p", "watch_time", "--no-log1p", "watch_time"]) == 2
    assert "--log1p and --no-log1p both name watch_time: choose one" in capsys.readouterr().err


def test_infer_says_when_no_label_was_recognised_and_points_at_an_event_column(tmp_path, capsys):
    # It printed an empty "tasks:" line; train's message already pointed at the event column.
    path = tmp_path / "events.csv"
    rows = "".join(f"u{i % 7},i{i % 5},{['pv', 'cart', 'buy'][i % 3]},{i}\n" for i in range(60))
    path.write_text("user_id,item_id,behavior_type,ts\n" + rows)

    assert main(["infer", str(path)]) == 0

    out = capsys.readouterr().out
    assert (
        "no label column was recognised: name them with --tasks a,b,c when training; column 'behavior_type' holds"
        in out
    )


def test_without_a_recognised_label_the_messages_point_at_the_0_1_columns(tmp_path, capsys):
    # Census-Income's income and marital (0/1) were not proposed, and nothing pointed at them.
    path = tmp_path / "census.csv"
    rows = "".join(f"{20 + i % 50},{['a', 'b', 'c'][i % 3]},{i % 2},{(i // 2) % 2}\n" for i in range(60))
    path.write_text("age,education,income,marital\n" + rows)

    assert main(["infer", str(path)]) == 0
    assert "0/1, which may be labels: income, marital" in capsys.readouterr().out
    assert main(["train", str(path)]) == 2
    assert "0/1, which may be labels: income, marital" in capsys.readouterr().err


def _interrupt(args: list[str], marker: str, presses: int = 1, sig: int | None = None) -> tuple[int, str]:
    """`python -m mtlrec ARGS` in a process group of its own, sent SIGINT (as a terminal's Ctrl-C is sent to the
    whole group; or `sig`) once a line of its output starts with `marker`, `presses` times 0.2 s apart. Returns the
    exit code and the output."""
    import os
    import signal

    sig = signal.SIGINT if sig is None else sig

    proc = subprocess.Popen(
        [sys.executable, "-m", "mtlrec", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(marker):
            for press in range(presses):
                time.sleep(0.2 if press else 0)
                os.killpg(proc.pid, sig)
            break
    rest, _ = proc.communicate(timeout=180)
    return proc.returncode, "".join(lines) + rest


def test_ctrl_c_during_a_sweep_writes_the_finished_points(small_file, tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", str(small_file), "--tasks", "click,like", "--points", "11", "--references", "none"]
    args += ["--no-baseline", "--size", "tiny", "--epochs", "5", "--patience", "0", "--workers", "1"]
    args += ["--group-size", "1", "--home", str(tmp_path / "home"), "--out", str(out)]

    code, output = _interrupt(args, "[  1/11]")

    assert code == 130, output  # saved, but stopped: `sweep … && next` must not go on
    assert "Traceback" not in output and "stopped: " in output
    table = pd.read_csv(out / "sweep.csv")
    assert 1 <= len(table) < 11
    assert (out / "pareto.html").stat().st_size > 0


@pytest.mark.processes  # the sweep's training processes get the group's SIGTERM too
def test_sigterm_to_the_process_group_during_a_sweep_keeps_the_finished_points(small_file, tmp_path):
    # timeout and CI signal the whole group: the training processes died ("a training process ended unexpectedly")
    # and the sweep wrote nothing.
    import signal

    out = tmp_path / "sweep"
    args = ["sweep", str(small_file), "--tasks", "click,like", "--points", "5", "--references", "none"]
    args += ["--no-baseline", "--size", "tiny", "--epochs", "300", "--patience", "0", "--workers", "2"]
    args += ["--group-size", "1", "--home", str(tmp_path / "home"), "--out", str(out)]

    code, output = _interrupt(args, "[  1/5]", sig=signal.SIGTERM)

    assert code == 143, output
    assert "Traceback" not in output and "ended unexpectedly" not in output
    assert 1 <= len(pd.read_csv(out / "sweep.csv")) <= 5


def test_a_command_refused_after_the_out_check_leaves_no_empty_folder(small_file, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = pd.DataFrame({"user_id": ["u1"] * 40, "click": [1] * 40})  # a constant label: refused after the check
    frame.to_csv(tmp_path / "constant.csv", index=False)

    assert main(["train", str(tmp_path / "constant.csv"), "--size", "tiny", "--out", str(tmp_path / "run")]) == 2

    capsys.readouterr()
    assert not (tmp_path / "run").exists() and not list(tmp_path.glob(".mtlrec-write-test-*"))


@pytest.mark.parametrize("presses", [1, 2], ids=["once", "twice"])
def test_ctrl_c_during_training_saves_the_run_as_stopped_with_its_best_epoch(small_file, tmp_path, presses):
    # A second press while the stopped run was wound down killed the process inside torch: no run folder
    out = tmp_path / "run"
    args = ["train", str(small_file), "--size", "tiny", "--epochs", "200", "--patience", "0", "--out", str(out)]

    code, output = _interrupt(args, "epoch   1/200", presses)

    assert code == 130, output
    assert "Traceback" not in output and "stopped: " in output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "stopped" and 1 <= metrics["best_epoch"] < 200
    assert (out / "model.pt").is_file() and (out / "predictions.csv").is_file()


def test_sigterm_during_training_saves_the_run_as_ctrl_c_does(small_file, tmp_path):
    # kill, timeout, docker stop and CI send SIGTERM: it ended the process (exit -15) before the run was written.
    import signal

    out = tmp_path / "run"
    args = ["train", str(small_file), "--size", "tiny", "--epochs", "200", "--patience", "0", "--out", str(out)]

    code, output = _interrupt(args, "epoch   1/200", sig=signal.SIGTERM)

    assert code == 143, output  # 128 + SIGTERM, as a shell reports it
    assert "Traceback" not in output and "stopped: " in output
    assert json.loads((out / "metrics.json").read_text())["status"] == "stopped"
    assert (out / "model.pt").is_file() and (out / "predictions.csv").is_file()


def test_an_out_folder_that_cannot_be_written_is_refused_before_training(small_file, tmp_path, capsys, monkeypatch):
    import pathlib

    def read_only(self, *args, **kwargs):
        raise OSError(30, "Read-only file system", str(self))

    monkeypatch.setattr(pathlib.Path, "write_bytes", read_only)
    started = []
    monkeypatch.setattr("mtlrec.experiment.run_experiment", lambda *a, **k: started.append(1))

    assert main(["train", str(small_file), "--size", "tiny", "--epochs", "1", "--out", str(tmp_path / "run")]) == 2

    assert not started
    assert f"--out {tmp_path / 'run'} cannot be written (Read-only file system): name another folder" in (
        capsys.readouterr().err
    )


def test_a_full_disk_while_saving_is_said_without_a_traceback(small_file, tmp_path, capsys, monkeypatch):
    import mtlrec.runs

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "run" / "model.pt"))

    monkeypatch.setattr(mtlrec.runs, "write_run_files", full)

    assert main(["train", str(small_file), "--size", "tiny", "--epochs", "1", "--out", str(tmp_path / "run")]) == 2

    err = capsys.readouterr().err
    assert "error: No space left on device (" in err and "free some space or choose a folder that can be written" in err


@pytest.mark.parametrize("quiet", [["--quiet"], []])
def test_train_piped_into_head_keeps_the_run_and_prints_no_traceback(quiet, small_file, tmp_path):
    out = tmp_path / "run"
    args = ["train", str(small_file), "--size", "tiny", "--epochs", "2", "--out", str(out), *quiet]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mtlrec", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )

    assert proc.stdout.readline().startswith("data: ")
    proc.stdout.close()  # as `| head -1` does once it has its line
    err = proc.stderr.read()
    proc.wait(timeout=180)

    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert proc.returncode == 141  # as other tools a closed pipe ends, --quiet or not
    assert json.loads((out / "metrics.json").read_text())["status"] == "finished"
    assert (out / "predictions.csv").is_file()


@pytest.mark.parametrize("command", ["train", "sweep", "sample"])
def test_out_naming_a_file_is_refused_before_anything_trains(command, small_file, tmp_path, capsys, monkeypatch):
    import mtlrec.experiment
    import mtlrec.sweep

    def never(*args, **kwargs):
        raise AssertionError("trained before --out was checked")

    monkeypatch.setattr(mtlrec.experiment, "run_experiment", never)
    monkeypatch.setattr(mtlrec.sweep, "run_sweep", never)
    taken = tmp_path / "notes.txt"
    taken.write_text("hi")
    args = {
        "train": ["train", str(small_file), "--tasks", "click"],
        "sweep": ["sweep", str(small_file), "--tasks", "click,like", "--home", str(tmp_path / "home")],
        "sample": ["sample", "--rows", "100"],
    }[command]

    assert main([*args, "--out", str(taken)]) == 2

    assert f"{taken} is a file, not a folder" in capsys.readouterr().err
    assert taken.read_text() == "hi"


def test_out_holding_a_run_is_refused_unless_force_which_leaves_no_stale_file(small_file, tmp_path, capsys):
    out = tmp_path / "run"
    tiny = [str(small_file), "--tasks", "click", "--size", "tiny", "--epochs", "1", "--quiet", "--out", str(out)]
    assert main(["train", *tiny]) == 0
    first = (out / "config.json").read_text()

    assert main(["train", *tiny, "--lr", "1e9"]) == 2
    err = capsys.readouterr().err
    assert f"--out {out} already holds an earlier run" in err and "add --force to replace it" in err
    assert (out / "config.json").read_text() == first

    assert main(["train", *tiny, "--lr", "1e9", "--force"]) == 1  # diverges: no predictions of its own
    assert json.loads((out / "config.json").read_text())["train"]["lr"] == 1e9
    assert not (out / "predictions.csv").exists()


def test_trainings_started_in_the_same_second_without_out_get_folders_of_their_own(small_file, tmp_path, monkeypatch):
    import time

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(time, "strftime", lambda fmt, *a: "20250101-120000")
    tiny = [str(small_file), "--tasks", "click", "--size", "tiny", "--epochs", "1", "--quiet"]

    assert main(["train", *tiny]) == 0
    assert main(["train", *tiny]) == 0

    folders = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(folders) == 2 and all(f.startswith("20250101-120000-") for f in folders)


def test_recommend_fusion_keeps_the_default_weight_of_the_tasks_it_does_not_name(sample_run, capsys, monkeypatch):
    import mtlrec.recommend

    used = []
    fusion_weights = mtlrec.recommend.Recommender.fusion_weights

    def spy(self, fusion=None):
        used.append(fusion_weights(self, fusion))
        return used[-1]

    monkeypatch.setattr(mtlrec.recommend.Recommender, "fusion_weights", spy)
    monkeypatch.setattr(mtlrec.recommend, "negative_feedback", lambda name: name == "purchase")  # as is_hate
    user = pd.read_csv(sample_run[1] / "predictions.csv")["user_id"].iloc[0]

    assert main(["recommend", "--run", str(sample_run[1]), "--user", str(user), "--fusion", "like=3"]) == 0

    assert used[0] == {"click": 1.0, "like": 3.0, "purchase": -1.0, "watch_time": 1.0}
    header, first = capsys.readouterr().out.strip().splitlines()[:2]
    top = dict(zip(header.split(), first.split(), strict=True))
    top = {name: float(top[name]) for name in ("click", "like", "purchase", "watch_time", "fused")}
    expected = top["click"] + 3 * top["like"] - top["purchase"] + top["watch_time"]
    assert top["fused"] == pytest.approx(expected, abs=3e-4)


def test_data_and_task_flags_change_a_saved_config_as_the_training_flags_do(small_file, tmp_path):
    tiny = ["--size", "tiny", "--epochs", "1", "--quiet"]
    assert main(["train", str(small_file), *tiny, "--out", str(tmp_path / "first")]) == 0
    saved = str(tmp_path / "first" / "config.json")
    flags = ["--tasks", "watch_time,click", "--weights", "2,0.5", "--no-log1p", "watch_time", "--exclude", "device"]
    flags += ["--numeric", "hour", "--item-col", "item_category"]

    assert main(["train", "--config", saved, *tiny, *flags, "--out", str(tmp_path / "again")]) == 0

    config = json.loads((tmp_path / "again" / "config.json").read_text())
    assert config["tasks"] == [
        {"name": "watch_time", "type": "regression", "weight": 2.0, "log1p": False, "labelled_only": False},
        {"name": "click", "type": "binary", "weight": 0.5, "log1p": False, "labelled_only": False},
    ]
    d = config["data"]
    assert d["item_col"] == "item_category" and "device" not in d["categorical"] + d["numeric"]
    assert "hour" in d["numeric"] and "hour" not in d["categorical"]


def test_exclude_leaves_out_a_proposed_task_and_refuses_contradictions(small_file, tmp_path, capsys):
    """--exclude named a task inference proposed and it trained and was evaluated anyway, silently."""
    tiny = ["--size", "tiny", "--epochs", "1", "--quiet"]

    assert main(["train", str(small_file), *tiny, "--exclude", "like,watch_time", "--out", str(tmp_path / "a")]) == 0

    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert [t["name"] for t in config["tasks"]] == ["click", "purchase"]
    assert not {"like", "watch_time"} & set(config["data"]["categorical"] + config["data"]["numeric"])
    assert set(json.loads((tmp_path / "a" / "metrics.json").read_text())["tasks"]) == {"click", "purchase"}
    saved = str(tmp_path / "a" / "config.json")  # a saved config's task is left out the same way
    assert main(["train", "--config", saved, *tiny, "--exclude", "purchase", "--out", str(tmp_path / "b")]) == 0
    assert [t["name"] for t in json.loads((tmp_path / "b" / "config.json").read_text())["tasks"]] == ["click"]
    capsys.readouterr()

    assert main(["train", str(small_file), *tiny, "--tasks", "click,like", "--exclude", "like"]) == 2
    assert "--tasks and --exclude both name like: choose one" in capsys.readouterr().err
    everything = "click,like,purchase,watch_time"
    assert main(["train", str(small_file), *tiny, "--exclude", everything, "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "--exclude leaves no task (click, like, purchase, watch_time were proposed): name the label" in err


def test_task_types_without_tasks_apply_to_the_inferred_tasks_in_order(small_file, tmp_path, capsys):
    tiny = [str(small_file), "--size", "tiny", "--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]

    assert main(["train", *tiny, "--task-types", "binary,binary"]) == 2
    err = capsys.readouterr().err
    assert "--task-types has 2 values for 4 tasks (click, like, purchase, watch_time; name them with --tasks" in err

    assert main(["train", *tiny, "--tasks", "click,like", "--task-types", "binary"]) == 2
    assert "--task-types has 1 value for 2 tasks (click, like): give one type per task" in capsys.readouterr().err
    assert main(["train", *tiny, "--tasks", "click,like", "--task-types", "binray,binary"]) == 2
    assert "--task-types: 'binray' is no task type; use binary or regression" in capsys.readouterr().err

    assert main(["train", *tiny, "--task-types", "binary,binary,regression,regression"]) == 0
    tasks = json.loads((tmp_path / "run" / "config.json").read_text())["tasks"]
    assert [t["type"] for t in tasks] == ["binary", "binary", "regression", "regression"]


def test_recommend_follows_a_moved_data_file_with_data(moved_run, tmp_path, capsys):
    run, data = moved_run
    user = str(pd.read_csv(data)["user_id"].iloc[0])
    data.rename(tmp_path / "moved.csv")
    capsys.readouterr()

    assert main(["recommend", "--run", str(run), "--user", user, "--k", "3"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: the data file of the run in {run} is missing: {data}; pass it where it is now (python -m mtlrec "
        f"recommend --run {run} --data FILE ...), or move it back"
    )  # and no warning that users would be scored as unknown before it

    assert main(["recommend", "--run", str(run), "--user", user, "--k", "3", "--data", "moved.csv"]) == 0
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 4
    assert err.startswith("note: column 'position' says where an item was shown") and err.count("\n") == 1


def test_a_hand_written_config_with_a_relative_path_is_saved_absolute(small_file, tmp_path, monkeypatch):
    monkeypatch.chdir(small_file.parent)
    config = ExperimentConfig(data=DataConfig(path=small_file.name, categorical=["user_id", "item_id"]))
    config.tasks, config.model.size, config.train.epochs = [TaskSpec("click")], "tiny", 1
    (tmp_path / "c.json").write_text(config.to_json())

    assert main(["train", "--config", str(tmp_path / "c.json"), "--quiet", "--out", str(tmp_path / "run")]) == 0

    assert json.loads((tmp_path / "run" / "config.json").read_text())["data"]["path"] == str(small_file)
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["data_files"][0]["path"] == str(small_file)


def test_recommend_on_a_run_without_an_item_column_says_how_to_train_one(small_file, tmp_path, capsys):
    path = tmp_path / "users.csv"
    pd.read_csv(small_file).drop(columns=["item_id"]).to_csv(path, index=False)
    run = tmp_path / "run"
    assert (
        main(["train", str(path), "--tasks", "click", "--size", "tiny", "--epochs", "1", "--quiet", "--out", str(run)])
        == 0
    )
    capsys.readouterr()

    assert main(["recommend", "--run", str(run), "--user", "u1"]) == 2

    err = capsys.readouterr().err
    assert f"the run in {run} has no item column, so it cannot recommend: train it again with --user-col C" in err
    assert "schema" not in err


def test_the_levels_help_says_any_number():
    from mtlrec.cli import build_parser

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    levels = next(a for a in train._actions if a.dest == "levels")
    assert levels.help == "PLE: extraction levels, 1 or more (default 1)"


def test_a_flag_over_a_saved_config_leaves_its_ids_out_of_the_features_when_they_were(small_file, tmp_path):
    # The Data page can leave the user and item ids out of the features; --weights over such a config put them back
    first, second = tmp_path / "a", tmp_path / "b"
    common = ["--size", "tiny", "--epochs", "1", "--quiet"]
    assert main(["train", str(small_file), "--exclude", "user_id,item_id", *common, "--out", str(first)]) == 0
    saved = json.loads((first / "config.json").read_text())["data"]
    assert saved["user_col"] == "user_id" and "user_id" not in saved["categorical"]

    weights = ",".join(["2"] * len(json.loads((first / "config.json").read_text())["tasks"]))
    assert (
        main(["train", "--config", str(first / "config.json"), "--weights", weights, *common, "--out", str(second)])
        == 0
    )

    again = json.loads((second / "config.json").read_text())["data"]
    assert again["categorical"] == saved["categorical"]


def test_a_time_split_with_a_test_file_but_no_time_column_is_refused_not_a_traceback(small_file, tmp_path, capsys):
    # the split still carves the validation rows out of the training file: it was KeyError: None
    frame = pd.read_csv(small_file).drop(columns="timestamp")
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    frame.iloc[:2000].to_csv(train, index=False)
    frame.iloc[2000:].to_csv(test, index=False)
    args = ["train", str(train), "--test-data", str(test), "--split", "time", "--size", "tiny", "--epochs", "1"]

    assert main([*args, "--out", str(tmp_path / "run")]) == 2
    assert "the 'time' split needs a timestamp column" in capsys.readouterr().err


def test_a_training_into_a_sweeps_folder_needs_force_as_into_a_runs(small_file, tmp_path, capsys):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "sweep.csv").write_text("w_click,w_like\n")
    args = ["train", str(small_file), "--size", "tiny", "--epochs", "1", "--quiet", "--out", str(out)]
    assert main(args) == 2
    assert "already holds an earlier run or sweep (sweep.csv)" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    assert not (out / "sweep.csv").exists() and (out / "metrics.json").is_file()


def test_ids_named_with_user_col_and_item_col_are_categorical_features(small_file, tmp_path):
    # inference does not recognise 'shopper' and 'listing': named on the command line they were no features at all
    # (text ids) or standardised as numbers (integer ids)
    frame = pd.read_csv(small_file).rename(columns={"user_id": "shopper", "item_id": "listing"})
    frame["listing"] = frame["listing"].str.replace(r"\D", "", regex=True).astype(int)
    path = tmp_path / "shop.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "run"
    args = ["train", str(path), "--user-col", "shopper", "--item-col", "listing", "--size", "tiny", "--epochs", "1"]
    assert main([*args, "--quiet", "--out", str(out)]) == 0
    data = json.loads((out / "config.json").read_text())["data"]
    assert {"shopper", "listing"} <= set(data["categorical"]) and not {"shopper", "listing"} & set(data["numeric"])


def test_main_gives_back_the_ctrl_c_handler_it_found():
    import signal

    def handler(*_):
        return None

    previous = signal.signal(signal.SIGINT, handler)
    try:
        assert main(["infer", "/nonexistent.csv"]) == 2
        assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_time_col_none_drops_the_inferred_time_column(small_file, tmp_path):
    out = tmp_path / "run"
    base = ["train", str(small_file), "--size", "tiny", "--epochs", "1", "--quiet", "--out", str(out)]
    assert main(base) == 0
    assert json.loads((out / "config.json").read_text())["data"]["time_col"] == "timestamp"

    assert main([*base, "--force", "--time-col", "none"]) == 0

    data = json.loads((out / "config.json").read_text())["data"]
    assert data["time_col"] is None and "timestamp" not in data["categorical"] + data["numeric"]


def test_features_that_give_away_a_task_named_with_tasks_are_set_aside(tmp_path, capsys):
    # Retailrocket one-hot: the view column is 1 exactly when neither addtocart nor transaction is. Inference
    # proposed no task, so no leak check ran for the tasks named, and the run reported AUC 1.0. (Not seed 0: the
    # leak check's folds are drawn from seed 0, and would split these rows by event.)
    rng = np.random.default_rng(7)
    n = 3000
    event = rng.choice(["view", "addtocart", "transaction"], n, p=[0.8, 0.15, 0.05])
    frame = pd.DataFrame(
        {
            "visitorid": rng.integers(0, 300, n),
            "itemid": rng.integers(0, 200, n),
            "device": rng.choice(["ios", "android", "web"], n),
            "view": (event == "view").astype(int),
            "addtocart": (event == "addtocart").astype(int),
            "transaction": (event == "transaction").astype(int),
        }
    )
    frame.to_csv(tmp_path / "events.csv", index=False)
    args = ["train", str(tmp_path / "events.csv"), "--tasks", "addtocart,transaction", "--size", "tiny", "--epochs",
            "1", "--quiet"]  # fmt: skip

    assert main([*args, "--out", str(tmp_path / "run")]) == 0

    assert "note: column 'view' is not used: may leak the label" in capsys.readouterr().out
    data = json.loads((tmp_path / "run" / "config.json").read_text())["data"]
    assert "view" not in data["categorical"] + data["numeric"] and "device" in data["categorical"]
    # Named as a feature, it is used (with the warning of the run's notes).
    assert main([*args, "--categorical", "view", "--out", str(tmp_path / "chosen")]) == 0
    assert "view" in json.loads((tmp_path / "chosen" / "config.json").read_text())["data"]["categorical"]


def test_a_skewed_column_named_as_a_regression_task_gets_log1p(tmp_path):
    # Frappe's cnt (median 2, max 60,000) was proposed as a feature; named with --tasks it trained on raw counts.
    rng = np.random.default_rng(1)
    n = 2000
    frame = pd.DataFrame(
        {
            "user": rng.integers(0, 100, n),
            "item": rng.integers(0, 80, n),
            "weather": rng.choice(["sunny", "rainy"], n),
            "cnt": np.round(rng.pareto(1.2, n) * 3).astype(int),
            "score": rng.normal(5, 1, n),
        }
    )
    frame.to_csv(tmp_path / "frappe.csv", index=False)
    args = ["train", str(tmp_path / "frappe.csv"), "--size", "tiny", "--epochs", "1", "--quiet"]

    assert main([*args, "--tasks", "cnt,score", "--out", str(tmp_path / "run")]) == 0

    tasks = json.loads((tmp_path / "run" / "config.json").read_text())["tasks"]
    assert [(t["name"], t["type"], t["log1p"]) for t in tasks] == [
        ("cnt", "regression", True), ("score", "regression", False)
    ]  # fmt: skip


def test_a_file_of_impression_lists_without_labels_says_how_to_reshape_it(tmp_path, capsys):
    # MIND's behaviors.tsv with a header: the labels sit inside the impression lists, and the message said only
    # that no label column was recognised.
    rows = [
        f"{i}\tU{i % 7}\t11/11/2019 9:05:{i % 60:02d} AM\tN{i} N{i + 1}\tN{i}-1 N{i + 2}-0 N{i + 3}-0"
        for i in range(50)
    ]
    (tmp_path / "behaviors.tsv").write_text("impression_id\tuser_id\ttime\thistory\timpressions\n" + "\n".join(rows))

    assert main(["train", str(tmp_path / "behaviors.tsv"), "--out", str(tmp_path / "run")]) == 2

    assert capsys.readouterr().err.strip() == (
        "error: no label columns were recognised in behaviors.tsv: name them with --tasks a,b,c; column "
        "'impressions' holds lists of impressions with their labels (e.g. 'N0-1 N2-0 N3-0'): reshape the file to one "
        "row per impressed item with a 0/1 column (N4610-1 -> item N4610, click 1), e.g. with pandas (df the file as "
        "read): df = df.assign(impression=df['impressions'].str.split()).explode('impression'); df[['item_id', "
        "'click']] = df['impression'].str.rsplit('-', n=1, expand=True); df.drop(columns=['impressions', "
        "'impression']).to_csv('impressions.csv', index=False), and name that column"
    )


def test_a_column_set_aside_for_an_inferred_task_not_named_is_still_said(tmp_path, capsys):
    # paid_amount gives purchase away; with --tasks click it stayed out of the features without a word.
    rng = np.random.default_rng(3)
    n = 3000
    click = (rng.random(n) < 0.3).astype(int)
    purchase = click * (rng.random(n) < 0.3)
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 200, n),
            "item_id": rng.integers(0, 150, n),
            "device": rng.choice(["ios", "android"], n),
            "paid_amount": np.round(purchase * rng.gamma(2.0, 20.0, n), 2),
            "click": click,
            "purchase": purchase,
        }
    )
    frame.to_csv(tmp_path / "shop.csv", index=False)

    args = ["train", str(tmp_path / "shop.csv"), "--tasks", "click", "--size", "tiny", "--epochs", "1", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 0

    out = capsys.readouterr().out
    assert "note: column 'paid_amount' is not used: may leak the label: its values alone predict task 'purchase'" in out


def test_a_run_trained_on_a_folder_of_parquet_parts_recommends_from_it(tmp_path, capsys):
    # The recommend command took the folder for a missing file ("the data file of the run … is missing").
    frame = generate(SyntheticSpec(n_rows=2000, n_users=100, n_items=80))
    parts = tmp_path / "log.parquet"
    parts.mkdir()
    for k in range(2):
        frame.iloc[1000 * k : 1000 * (k + 1)].to_parquet(parts / f"part-0000{k}.parquet", index=False)
    out = tmp_path / "run"
    assert main(["train", str(parts), "--size", "tiny", "--epochs", "1", "--quiet", "--out", str(out)]) == 0

    assert main(["recommend", "--run", str(out), "--user", str(frame["user_id"].iloc[0]), "--k", "3"]) == 0
    assert capsys.readouterr().out.count("\n") >= 4  # a header and three items


def test_a_task_retyped_as_regression_gets_the_log1p_an_inferred_regression_task_gets(tmp_path):
    # like (0/1 but for a few vote counts) is proposed as binary; retyped with --task-types it trained on raw counts,
    # while the same column named with --tasks only, or made a regression label on the Data page, got log1p.
    rng = np.random.default_rng(2)
    n = 2000
    like = np.where(np.arange(n) % 50 == 0, rng.choice([40, 300, 2000], n), rng.integers(0, 2, n))
    frame = pd.DataFrame({"user": rng.integers(0, 100, n), "item": rng.integers(0, 80, n), "like": like})
    frame.to_csv(tmp_path / "votes.csv", index=False)
    args = ["train", str(tmp_path / "votes.csv"), "--size", "tiny", "--epochs", "1", "--quiet"]

    assert main([*args, "--task-types", "regression", "--out", str(tmp_path / "run")]) == 0

    [task] = json.loads((tmp_path / "run" / "config.json").read_text())["tasks"]
    assert (task["name"], task["type"], task["log1p"]) == ("like", "regression", True)


def test_infer_and_train_say_a_label_written_as_durations_is_not_used_and_how_the_times_were_read(tmp_path, capsys):
    # watch_time written 0:11 became a categorical feature beside click with no word; half the times were in ms.
    rng = np.random.default_rng(4)
    n = 600
    click = (rng.random(n) < 0.4).astype(int)
    seconds = (click * rng.gamma(2.0, 20.0, n)).astype(int)
    times = 1_700_000_000 + np.arange(n) * 60
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 40, n),
            "item_id": rng.integers(0, 30, n),
            "device": rng.choice(["ios", "android"], n),
            "click": click,
            "watch_time": [f"{s // 60}:{s % 60:02d}" for s in seconds],
            "timestamp": np.where(np.arange(n) % 2 == 1, times * 1000, times),
        }
    )
    frame.to_csv(tmp_path / "log.csv", index=False)
    reason = "named as a task, but not readable as a label: it holds durations written m:ss ("
    units = "note: timestamp column 'timestamp' mixes epoch units (300 in seconds, 300 in milliseconds)"

    assert main(["infer", str(tmp_path / "log.csv")]) == 0
    out = capsys.readouterr().out
    assert f"ignored: watch_time: {reason}" in out and units in out
    args = ["train", str(tmp_path / "log.csv"), "--split", "time", "--size", "tiny", "--epochs", "1", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert f"note: column 'watch_time' is not used: {reason}" in out and units in out
    predictions = pd.read_csv(tmp_path / "run" / "predictions.csv")
    assert predictions["timestamp"].min() > times[: len(times) - len(predictions)].max()  # the latest, in seconds


def test_a_file_without_a_header_trains_with_names_and_its_config_reads_it_again(small_file, tmp_path, capsys):
    # MovieLens' ratings.dat and Last.fm's listens have no header line: --names names the columns, and the run's
    # config keeps the names, so that a re-run and Recommend read the file as training did.
    frame = pd.read_csv(small_file)
    headless = tmp_path / "log.dat"
    frame.to_csv(headless, index=False, header=False, sep="|")
    assert main(["infer", str(headless)]) == 2
    assert "--names user_id,item_id" in capsys.readouterr().err

    names = ",".join(frame.columns)
    out = tmp_path / "run"
    args = ["train", str(headless), "--names", names, "--tasks", "click,like", "--size", "tiny", "--epochs", "1"]
    assert main([*args, "--seed", "1", "--out", str(out)]) == 0
    assert "no header line: the columns are named user_id, item_id" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["names"] == list(frame.columns)
    assert main(["train", "--config", str(out / "config.json"), "--out", str(tmp_path / "again")]) == 0
    first, again = (json.loads((d / "metrics.json").read_text())["tasks"] for d in (out, tmp_path / "again"))
    assert first == again
    assert main(["recommend", "--run", str(out), "--user", str(frame["user_id"].iloc[0]), "--k", "3"]) == 0

    assert main([*args[:2], "--names", "user_id,item_id", "--tasks", "click", "--out", str(tmp_path / "x")]) == 2
    assert f"but the rows have {frame.shape[1]} fields" in capsys.readouterr().err


def test_a_column_kept_out_for_a_task_not_in_the_run_says_that_task_is_not_among_them(tmp_path, capsys):
    # KuaiRand's is_profile_enter is set aside for profile_stay_time, which --tasks is_click leaves out: the note
    # named a task the run did not have, with no word on why the column stays out (an audit).
    rng = np.random.default_rng(7)
    n = 3000
    follow = (rng.random(n) < 0.2).astype(int)
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 300, n),
            "video_id": rng.integers(0, 200, n),
            "is_click": rng.integers(0, 2, n),
            "is_follow": follow,
            "follow_source": np.where(follow == 1, rng.choice(["feed", "profile"], n), "none"),
        }
    )
    frame.to_csv(tmp_path / "log.csv", index=False)
    args = ["train", str(tmp_path / "log.csv"), "--tasks", "is_click", "--size", "tiny", "--epochs", "1", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "note: column 'follow_source' is not used: may leak the label" in out
    assert "('is_follow' is not among this run's tasks: a column recorded with that outcome is kept out" in out


def test_recommend_all_users_writes_every_users_top_k_as_csv(small_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(small_file), "--size", "tiny", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    capsys.readouterr()
    top = tmp_path / "top.csv"
    assert main(["recommend", "--run", str(out), "--all-users", "--k", "3", "--out", str(top)]) == 0
    users = pd.read_csv(small_file)["user_id"].nunique()  # the sample's 200 users drawn: those with rows
    printed = capsys.readouterr()
    assert printed.out.startswith(f"wrote the top 3 of {users} users ({3 * users} rows) to")
    assert f"\nscoring {users} users x " in printed.err  # how much, said before; a time left as it goes
    table = pd.read_csv(top)
    assert list(table.columns[:3]) == ["user_id", "rank", "item"] and len(table) == 3 * users
    user = table["user_id"].iloc[0]
    assert main(["recommend", "--run", str(out), "--user", str(user), "--k", "3"]) == 0
    printed = capsys.readouterr().out
    for item in table.loc[table["user_id"] == user, "item"]:
        assert f" {item} " in f" {printed} ".replace("\n", " ")
    assert main(["recommend", "--run", str(out), "--all-users", "--out", str(tmp_path / "none" / "x.csv")]) == 2
    with pytest.raises(SystemExit) as usage:  # argparse: one or the other
        main(["recommend", "--run", str(out), "--user", str(user), "--all-users"])
    assert usage.value.code == 2
    # --out with one user writes its table too (it was ignored), and users left short are said.
    one = tmp_path / "one.csv"
    assert main(["recommend", "--run", str(out), "--user", str(user), "--k", "3", "--out", str(one)]) == 0
    assert pd.read_csv(one)["item"].tolist() == table.loc[table["user_id"] == user, "item"].tolist()
    # Every digit, as the library's table (six significant digits made close fused scores read as ties).
    from mtlrec.recommend import Recommender
    from mtlrec.runs import read_run_folder

    run = read_run_folder(out)
    library = Recommender(*run.load_model(), run.config, pd.read_csv(small_file)).recommend_all(k=3)
    pd.testing.assert_frame_equal(table, library, check_dtype=False, check_exact=True)
    capsys.readouterr()
    items = pd.read_csv(small_file)["item_id"].nunique()
    assert main(["recommend", "--run", str(out), "--all-users", "--k", str(items), "--out", str(top)]) == 0
    assert f"with fewer than {items} unseen items (--include-seen keeps seen items)" in capsys.readouterr().err


def test_a_refused_training_says_what_the_fixes_did_first(small_file, tmp_path, capsys):
    # "too few rows for the split" came alone; the fix's note that explained it was printed only by infer.
    user = pd.read_csv(small_file)["user_id"].iloc[0]
    args = ["train", str(small_file), "--drop", f"user_id != {user}", "--size", "tiny", "--out", str(tmp_path / "r")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "note: log.csv: fix 1: dropped" in err and err.index("note: log.csv: fix 1") < err.index("error:")


def test_a_test_file_of_one_row_is_named_not_the_training_file(small_file, tmp_path, capsys):
    # "base.csv: too few rows for the split ... change the test and validation fractions": the wrong file, and
    # advice that cannot help (audit)
    one = tmp_path / "one_row.csv"
    pd.read_csv(small_file).head(1).to_csv(one, index=False)
    code = main(["train", str(small_file), "--test-data", str(one), "--size", "tiny", "--epochs", "1",
                 "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "error: one_row.csv: it has 1 row, and at least 2 are needed to measure anything" in err
    assert "fractions" not in err


def test_a_config_whose_fixes_are_text_is_one_problem_not_one_per_character(sample_run, tmp_path, capsys):
    config = json.loads((sample_run[1] / "config.json").read_text())
    config["data"]["fixes"] = "drop price"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "data.fixes must be a list of fixes (JSON objects), got 'drop price'" in err and "fix 2" not in err


def test_flags_the_run_does_not_read_are_said_to_be_ignored(small_file, tmp_path, capsys):
    # --experts with shared-bottom, --funnel without ESMM, --test-frac beside a test file: saved, unused, unsaid
    code = main(["train", str(small_file), "--test-data", str(small_file), "--experts", "3", "--funnel",
                 "purchase=click", "--test-frac", "0.3", "--size", "tiny", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "note: --experts is for MMoE and PLE only: the shared_bottom model ignores it" in err
    assert "note: --funnel is for ESMM only: the shared_bottom model ignores it" in err
    assert "note: --test-frac is not used: the test rows are the test file's" in err


def test_a_user_typed_with_spaces_is_found_and_one_in_another_case_is_suggested(sample_run, capsys):
    user = str(pd.read_csv(sample_run[1] / "predictions.csv")["user_id"].iloc[0])
    assert main(["recommend", "--run", str(sample_run[1]), "--user", f" {user} ", "--k", "2"]) == 0
    capsys.readouterr()
    assert main(["recommend", "--run", str(sample_run[1]), "--user", user.upper(), "--k", "2"]) == 2
    assert f"(did you mean '{user}'?)" in capsys.readouterr().err


def test_sweep_metrics_take_one_metric_for_every_task_by_order_or_by_name():
    from mtlrec.cli import _sweep_metrics
    from mtlrec.errors import MtlrecError

    assert _sweep_metrics("auc", ["click", "like"]) == {"click": "auc", "like": "auc"}
    assert _sweep_metrics("auc,logloss", ["click", "like"]) == {"click": "auc", "like": "logloss"}
    assert _sweep_metrics("like=logloss", ["click", "like"]) == {"like": "logloss"}
    with pytest.raises(MtlrecError, match="--metrics has 2 values for 3 tasks"):
        _sweep_metrics("auc,logloss", ["click", "like", "buy"])


def test_train_names_the_columns_inference_left_out_and_counts_those_beyond_ten(tmp_path, capsys):
    # Criteo's hashed C5, C6... (near-unique in a sample) were left out by train without a word: only infer said so.
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({f"h{j}": [f"{v:08x}" for v in rng.integers(0, 2**32, n)] for j in range(12)})
    frame["note"] = "same"
    frame["click"] = rng.integers(0, 2, n)
    frame["price"] = rng.random(n)
    path = tmp_path / "hashed.csv"
    frame.to_csv(path, index=False)

    assert main(["train", str(path), "--size", "tiny", "--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if "is not used" in line or "more columns" in line]

    assert notes[0] == (
        "note: column 'h0' is not used: 600 distinct values in 600 rows: looks like a row id or free text"
    )
    assert len(notes) == 11 and notes[-1].startswith("note: 3 more columns are not used (`python -m mtlrec infer`")
    # A column named by a flag is used, and not said to be left out.
    assert main(["train", str(path), "--categorical", "h0", "--size", "tiny", "--epochs", "1", "--out",
                 str(tmp_path / "named")]) == 0  # fmt: skip
    assert "'h0' is not used" not in capsys.readouterr().out


def test_a_test_file_without_the_label_column_is_said_to_lack_it(tmp_path, capsys):
    # Criteo's test.txt has no label: 39 fields against the 40 names given with --names. The reader's advice, one
    # name per field, could not be taken: the names are the training file's too.
    rng = np.random.default_rng(1)
    rows = [(int(rng.integers(0, 2)), int(rng.integers(0, 50)), f"{rng.integers(0, 2**16):04x}") for _ in range(300)]
    (tmp_path / "train.txt").write_text("".join(f"{y}\t{i}\t{c}\n" for y, i, c in rows))
    (tmp_path / "test.txt").write_text("".join(f"{i}\t{c}\n" for _, i, c in rows[:100]))

    code = main(["train", str(tmp_path / "train.txt"), "--test-data", str(tmp_path / "test.txt"), "--names",
                 "label,I1,C1", "--epochs", "1", "--out", str(tmp_path / "run")])  # fmt: skip

    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "error: test.txt: its rows have 2 fields, 1 fewer than the 3 column names given for both files: a test file "
        "needs the training file's columns, its labels too (the run's metrics are measured on them), and a file "
        "without labels (such as Criteo's test.txt) cannot be the test file: leave it out (the training file is "
        "split), or add the missing columns to it"
    )


def test_a_user_typed_as_the_file_writes_it_is_found_whether_its_ids_are_read_as_whole_numbers_or_not():
    # Online Retail II writes Customer ID 12350.0; read as whole numbers (or after a fix dropped the empty ones),
    # --user 12350.0 was "not in column": the model keys 12350 and 12350.0 alike.
    from mtlrec.cli import _match_user

    as_ints = pd.Series([12350, 13085, 7], name="Customer ID")
    as_floats = as_ints.astype(float)

    assert _match_user(as_ints, "12350.0") == 12350 and _match_user(as_ints, " 7.0 ") == 7
    assert _match_user(as_floats, "13085") == 13085.0
    with pytest.raises(MtlrecError, match="user '12350.5' is not in column 'Customer ID'"):
        _match_user(as_ints, "12350.5")
    # Text codes are matched as written: 0007 is none of the users 7, 07 and 007 (it served user 7's list: an audit)
    codes = pd.Series(["7", "07", "007"], name="user")
    assert _match_user(codes, "07") == "07"
    with pytest.raises(MtlrecError, match=r"user '0007' is not in column 'user' \(did you mean '7'\?\)"):
        _match_user(codes, "0007")


def test_sweep_prints_the_datas_notes_as_train_does(small_file, tmp_path, capsys):
    # A task no training row has a positive of was swept and put on the front without a word (an audit): the sweep
    # prints the notes of its data, as train does.
    frame = pd.read_csv(small_file)
    frame["like"] = 0
    frame.loc[frame.index[-40:], "like"] = 1  # positives only among the latest rows: the time split's test part
    path = tmp_path / "late.csv"
    frame.to_csv(path, index=False)
    code = main(["sweep", str(path), "--size", "tiny", "--epochs", "1", "--quiet", "--tasks", "click,like", "--points",
                 "2", "--references", "none", "--no-baseline", "--split", "time", "--out", str(tmp_path / "sweep"),
                 "--home", str(tmp_path / "home")])  # fmt: skip
    assert code == 0
    assert (
        "note: task 'like' has one class only in the training rows: the model cannot learn it"
        in capsys.readouterr().out
    )


def test_training_takes_fewer_threads_while_other_processes_keep_the_cores_busy(monkeypatch):
    # Two busy processes on 2 cores: torch's 2 threads trained 6,600-9,200 rows/s, 1 thread 42,000-46,000.
    from mtlrec import resources

    for name in ("MTLREC_TORCH_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(resources, "busy_cpus", lambda: (2, 1.6))
    threads, note = resources.training_threads(2)
    assert threads == 1
    assert note == (
        "other processes keep about 1.6 of the 2 cores busy: training on 1 thread instead of 2, faster while they "
        "run (MTLREC_TORCH_THREADS=N chooses)"
    )
    monkeypatch.setattr(resources, "busy_cpus", lambda: (8, 2.4))
    assert resources.training_threads(8)[0] == 6
    monkeypatch.setattr(resources, "busy_cpus", lambda: (2, 0.1))
    assert resources.training_threads(2) == (2, None)  # an idle machine: every core
    monkeypatch.setattr(resources, "busy_cpus", lambda: None)
    assert resources.training_threads(2) == (2, None)  # not measurable: torch's default
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setattr(resources, "busy_cpus", lambda: (2, 1.9))
    assert resources.training_threads(2) == (2, None)  # the user's choice
    monkeypatch.setenv("MTLREC_TORCH_THREADS", "3")
    assert resources.training_threads(2) == (3, None)
    monkeypatch.setenv("MTLREC_TORCH_THREADS", "two")  # a traceback, in the CLI and at the server's start
    with pytest.raises(MtlrecError, match="MTLREC_TORCH_THREADS must be a whole number of 1 or more, got 'two'"):
        resources.training_threads(2)
    from mtlrec.jobs import JobLimiter, server_threads

    assert server_threads(JobLimiter(max_jobs=1)) == (os.cpu_count() or 1)  # the server starts with its default


def test_busy_cpus_reads_the_processs_own_cpus_from_proc_stat(tmp_path, monkeypatch):
    from mtlrec import resources

    stats = iter(
        [
            "cpu  0 0 0 0 0 0 0 0\ncpu0 100 0 0 900 0 0 0 0 0 0\ncpu1 100 0 0 900 0 0 0 0\ncpu2 0 0 0 1000 0 0 0 0\n",
            "cpu  0 0 0 0 0 0 0 0\ncpu0 190 0 0 910 0 0 0 0 0 0\ncpu1 150 0 0 950 0 0 0 0\ncpu2 0 0 0 1100 0 0 0 0\n",
        ]
    )
    path = tmp_path / "stat"

    def read(cpus):
        path.write_text(next(stats))
        return real(cpus)

    real = resources._cpu_times
    monkeypatch.setattr(resources, "PROC_STAT", str(path))
    monkeypatch.setattr(resources, "_cpu_times", read)
    monkeypatch.setattr(resources.os, "sched_getaffinity", lambda pid: {0, 1})  # cpu2 is not ours
    cpus, busy = resources.busy_cpus(window=0)
    assert cpus == 2 and busy == pytest.approx(2 * (140 / 200))  # 90 + 50 busy ticks of 200


def test_a_run_saved_from_python_with_a_relative_path_is_checked_against_its_own_file_from_anywhere(
    small_file, tmp_path, capsys, monkeypatch
):
    # config.json had the path made absolute but metrics.json's data_files kept it relative: `recommend` stopped
    # warning about a changed file, a re-run from another folder warned about that folder's file (a review).
    from mtlrec.data import propose_schema
    from mtlrec.experiment import run_experiment
    from mtlrec.runs import RunStore

    (tmp_path / "a").mkdir()
    data = tmp_path / "a" / "log.csv"
    data.write_bytes(small_file.read_bytes())
    monkeypatch.chdir(tmp_path / "a")
    frame = pd.read_csv(data)
    proposal = propose_schema(frame, "log.csv")
    config = ExperimentConfig(data=proposal.data, tasks=proposal.tasks[:2])
    config.data.path = "log.csv"
    config.model.size, config.train.epochs, config.train.device = "tiny", 1, "cpu"
    store = RunStore(tmp_path / "home")
    run = store.folder(store.save(run_experiment(config)))
    saved = json.loads((run / "config.json").read_text())["data"]["path"]
    assert saved == str(data) == json.loads((run / "metrics.json").read_text())["data_files"][0]["path"]

    (tmp_path / "b").mkdir()
    frame.head(100).to_csv(tmp_path / "b" / "log.csv", index=False)  # another file of the same name
    monkeypatch.chdir(tmp_path / "b")
    capsys.readouterr()
    assert main(["train", "--config", str(run), "--quiet", "--out", str(tmp_path / "again")]) == 0
    assert "warning" not in capsys.readouterr().err  # its own file, unchanged

    pd.concat([frame, frame.head(50)]).to_csv(data, index=False)
    user = str(frame["user_id"].iloc[0])
    assert main(["recommend", "--run", str(run), "--user", user, "--k", "3"]) == 0
    assert "log.csv changed since the run was trained" in capsys.readouterr().err
