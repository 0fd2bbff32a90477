"""Unusual but legitimate data and settings (AppTest, the library and the CLI): each gets a clear message, never a
traceback, a silent wrong result or a run that cannot be read."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_interactions, open_app, tiny_config, upload

from mtlrec.cli import main
from mtlrec.config import TaskSpec
from mtlrec.errors import MtlrecError
from mtlrec.experiment import run_experiment
from mtlrec.recommend import Recommender
from mtlrec.runs import RunStore, write_run_files
from mtlrec.schema import validate
from mtlrec.sweep import SweepConfig, run_sweep
from ui.state import RESULTS_RUN


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def unnested_funnel(n: int = 1500) -> pd.DataFrame:
    """Interactions with a purchase label that is 1 on some rows without a click (the funnel is not nested)."""
    frame = make_interactions(n)
    frame["purchase"] = 0
    frame.loc[[4, 9, 30], "purchase"] = 1
    frame.loc[[4, 9, 30], "click"] = 0
    frame.loc[frame["click"] == 1, "purchase"] = (np.arange(int(frame["click"].sum())) % 3 == 0).astype(int)
    return frame.drop(columns=["like", "watch_time"])


def test_a_run_stopped_in_its_first_epoch_recommends_nothing_and_says_why(home):
    stop = threading.Event()
    stop.set()  # before the first batch: no epoch is ever evaluated
    config = tiny_config(epochs=1)
    config.data.path = "sample:synthetic"
    result = run_experiment(config, make_interactions(1000), stop=stop)
    assert (result.status, result.metrics["best_epoch"]) == ("stopped", 0)

    run_id = RunStore(home).save(result, name="stopped at once")
    assert not RunStore(home).load(run_id).has_model  # its weights were never measured: nothing to rank with
    at = open_app("pages/recommend.py", session={RESULTS_RUN: run_id})
    assert [e.value for e in at.error] == [
        f"run '{run_id}' has no evaluated model: it stopped or failed before its first epoch ended (any weights it "
        "saved are in its download, never measured)"
    ]


def test_a_finished_run_whose_model_file_was_deleted_says_so_on_recommend_and_results(home):
    config = tiny_config(epochs=1)
    config.data.path = "sample:synthetic"
    run_id = RunStore(home).save(run_experiment(config, make_interactions(1000)), name="model deleted")
    folder = RunStore(home).folder(run_id)
    (folder / "model.pt").unlink()

    at = open_app("pages/recommend.py", session={RESULTS_RUN: run_id})
    [error] = [e.value for e in at.error]
    assert error.startswith(f"run '{run_id}' has no evaluated model: model.pt is not in {folder} (deleted")
    assert "first epoch" not in error  # the run finished: not the message of a run stopped before any epoch
    results = open_app("pages/results.py", session={RESULTS_RUN: run_id})
    button = next(b for b in results.button if b.label == "Recommend for this run")
    assert button.disabled and "model.pt is not in" in button.help


def test_recommend_for_a_run_without_an_item_column_is_off_on_results_saying_why(home):
    # The button led to a page that only explained why it could not recommend (a browser audit).
    config = tiny_config(epochs=1)
    config.data.path = "sample:synthetic"
    config.data.item_col = None
    config.data.categorical = [c for c in config.data.categorical if c != "item_id"]
    run_id = RunStore(home).save(run_experiment(config, make_interactions(1000)), name="no items")

    results = open_app("pages/results.py", session={RESULTS_RUN: run_id})

    button = next(b for b in results.button if b.label == "Recommend for this run")
    assert button.disabled and button.help.startswith("Recommendations need user and item columns: ")


def test_a_sweep_whose_metric_is_undefined_at_every_point_says_why_it_has_no_front(home):
    frame = make_interactions(1500)
    frame.loc[frame.index[-500:], "like"] = 0  # the latest rows, the time split's test rows, hold no like
    base = tiny_config(epochs=1)
    base.split.method = "time"
    run_sweep(SweepConfig(base=base, tasks=["click", "like"], points=3, references=[], baseline=False),
              RunStore(home), frame)  # fmt: skip

    at = open_app("pages/sweep.py")
    assert {m.label: m.value for m in at.metric}["On the Pareto front"] == "0"
    [warning] = [w.value for w in at.warning]
    assert warning.startswith("like AUC is undefined at every point (for a binary task: its test rows hold one")
    assert "so no point can be on the Pareto front: judge like by log loss instead" in warning


def test_an_esmm_funnel_the_rows_break_is_named_on_train_and_in_the_runs_notes(home):
    frame = unnested_funnel()
    config = tiny_config()
    config.data.categorical = ["category"]
    config.tasks = [TaskSpec("click"), TaskSpec("purchase")]
    config.model.kind, config.model.funnel = "esmm", {"purchase": "click"}
    breach = (
        "funnel 'purchase' -> 'click': 3 rows (rows 5, 10, 31) have purchase = 1 but click = 0, and ESMM assumes "
        "purchase happens only after click"
    )
    assert [n for n in validate(config, frame) if n.startswith(breach)]
    config.model.kind = "mmoe"  # no funnel, nothing to say
    assert not [n for n in validate(config, frame) if "funnel" in n]

    at = open_app("pages/data.py")
    upload(at, "funnel.csv", csv_bytes(frame))
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_model_kind").set_value("esmm").run()
    at.selectbox(key="train_task_funnel_purchase").set_value("click").run()
    assert not at.exception
    assert [w.value for w in at.warning if w.value.startswith(breach)]


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    frame = make_interactions(1000)
    config = tiny_config(epochs=1)
    result = run_experiment(config, frame)
    return Recommender(result.model, result.encoder, config, frame)


def test_candidates_must_be_items_of_the_data(recommender):
    user = recommender.users()[0]
    with pytest.raises(MtlrecError, match=r"2 candidate items are not in the data \(999, 'zzz'\)"):
        recommender.recommend(user, candidates=[3, 999, "zzz"])
    with pytest.raises(MtlrecError, match=r"1 candidate item is not in the data \(999\)"):
        recommender.recommend(user, candidates=[3, 999])
    with pytest.raises(MtlrecError, match="the candidate list is empty"):
        recommender.recommend(user, candidates=[])
    top = recommender.recommend(user, candidates=[3, 7, 3], exclude_seen=False)
    assert sorted(top["item"]) == [3, 7]  # each item once


def test_cli_recommend_says_why_it_shows_nothing_or_an_arbitrary_order(tmp_path, capsys):
    frame = make_interactions(1000)
    frame["item_id"] %= 3  # every active user has seen all three items
    frame.to_csv(tmp_path / "few.csv", index=False)
    config = tiny_config(epochs=1)
    config.data.path = str(tmp_path / "few.csv")
    write_run_files(run_experiment(config), tmp_path / "run")
    user = frame["user_id"].value_counts().index[0]
    args = ["recommend", "--run", str(tmp_path / "run"), "--user", user]

    assert main([*args, "--k", "0"]) == 2
    assert "error: --k must be at least 1, got 0" in capsys.readouterr().err
    assert main(args) == 0
    assert capsys.readouterr().out == (
        f"user '{user}' has interacted with every item: nothing is left to recommend (add --include-seen)\n"
    )
    assert main([*args, "--include-seen", "--fusion", "click=0,like=0,watch_time=0"]) == 0
    assert "warning: every fusion weight is 0, so the order is arbitrary" in capsys.readouterr().err


def test_a_run_that_cannot_be_shown_here_is_named_instead_of_silently_replaced(home: Path):
    store = RunStore(home)
    config = tiny_config(epochs=1)
    config.data.user_col = config.data.item_col = None  # and no ranking metrics: Results says why
    failed = store.start(config, name="crashed")
    store.fail(failed, "training failed unexpectedly (RuntimeError: boom)")
    shown = store.save(run_experiment(config, make_interactions(1000)), name="no ids")  # the newest

    at = open_app("pages/results.py", session={RESULTS_RUN: "20990101-000000-abcdef"})
    assert at.info[0].value == (
        "Run `20990101-000000-abcdef` is not in this lab (deleted, or its id was cut short or mistyped), so the newest run that can be is shown."
    )
    assert at.selectbox(key="results_run").value == shown
    assert "No NDCG@10 on the cards: no user and item column chosen: ranking metrics" in [
        c.value[:72] for c in at.caption
    ]

    at = open_app("pages/recommend.py", session={RESULTS_RUN: failed})
    assert at.info[0].value == (
        f"Run “crashed” ({failed}) is failed: this page shows finished or stopped runs only, so the newest run "
        "that can be is shown."
    )


def test_the_cli_sweep_says_why_a_metric_undefined_everywhere_leaves_no_front(tmp_path, capsys):
    # It printed only "0 on the Pareto front", and pareto.html blamed failed runs.
    frame = make_interactions(1500)
    frame.loc[frame.index[-500:], "like"] = 0  # the time split's test rows hold no like
    frame.to_csv(tmp_path / "no like.csv", index=False)
    args = ["sweep", str(tmp_path / "no like.csv"), "--tasks", "click,like", "--points", "3", "--epochs", "1",
            "--size", "tiny", "--split", "time", "--references", "dwa", "--no-baseline", "--home",
            str(tmp_path / "home"), "--out", str(tmp_path / "out")]  # fmt: skip

    assert main(args) == 0

    printed = capsys.readouterr().out
    assert "note: like AUC is undefined at every point (for a binary task: its test rows hold one" in printed
    html = (tmp_path / "out" / "pareto.html").read_text(encoding="utf-8")
    assert "a metric undefined on the test rows" in html and "(failed runs)" not in html
    table = pd.read_csv(tmp_path / "out" / "sweep.csv")
    assert table.loc[table["role"] == "dwa", "pareto"].isna().all()  # a marker beside the front, not "dominated"
    assert table.loc[table["role"] == "point", "pareto"].notna().all()
