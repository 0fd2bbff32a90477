"""Results page (AppTest): metric cards from metrics.json, deltas against a reference run, ROC, failed runs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

import mtlrec.runs
from mtlrec import fmt
from mtlrec.config import ExperimentConfig, ModelConfig, TrainConfig
from mtlrec.data import propose_schema
from mtlrec.experiment import RunResult, run_experiment
from mtlrec.runs import RunStore
from mtlrec.sample import SyntheticSpec, generate
from ui import state

APP = str(Path(__file__).resolve().parent.parent / "app.py")
DIVERGED = "training diverged: the loss of task 'like' became inf in epoch 2, batch 3; lower the learning rate"
CRASHED = "training failed unexpectedly (RuntimeError: boom)"


def build_store(home: Path) -> tuple[dict[str, str], RunResult]:
    """A run store with two trained runs (different loss weights), a run that diverged after one epoch, one
    that failed before saving anything, and a damaged one; returns run ids by name and a result to save again."""
    frame = generate(SyntheticSpec(n_rows=4000, n_users=200, n_items=100))
    proposal = propose_schema(frame)
    proposal.data.path = "synthetic_4k.parquet"
    store = RunStore(home)
    ids = {}
    for name, like_weight in (("balanced", 1.0), ("like heavy", 4.0)):
        tasks = [dataclasses.replace(t, weight=like_weight if t.name == "like" else 1.0) for t in proposal.tasks]
        config = ExperimentConfig(
            data=proposal.data,
            tasks=tasks,
            model=ModelConfig(size="tiny"),
            train=TrainConfig(epochs=2, batch_size=512, patience=0, device="cpu"),
        )
        result = run_experiment(config, frame)
        ids[name] = store.save(result, name=name)
    diverged = dataclasses.replace(
        result,
        status="failed",
        message=DIVERGED,
        history=result.history.iloc[:1],
        metrics={**result.metrics, "tasks": {}, "epochs_run": 1, "best_epoch": 1},
        predictions=None,
    )
    ids["diverged"] = store.save(diverged, name="diverged")
    ids["crashed"] = store.start(config, name="crashed")
    store.fail(ids["crashed"], CRASHED)
    ids["damaged"] = store.save(result, name="damaged")
    (store.folder(ids["damaged"]) / "metrics.json").write_text('{"tasks": {"click": ', encoding="utf-8")
    return ids, result


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    home = tmp_path_factory.mktemp("mtlrec_home")
    return home, build_store(home)[0]


def use_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Point the app's run store at `home` (the store is a cached resource: rebuild it)."""
    monkeypatch.setenv("MTLREC_HOME", str(home))
    monkeypatch.setattr(mtlrec.runs, "DEFAULT_HOME", home)
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def app(saved, monkeypatch) -> AppTest:
    use_home(monkeypatch, saved[0])
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


def open_results(at: AppTest, run_id: str) -> AppTest:
    at.session_state[state.RESULTS_RUN] = run_id
    at.switch_page("pages/results.py").run()
    assert not at.exception
    return at


def metrics_of(home: Path, run_id: str) -> dict:
    return json.loads((home / "runs" / run_id / "metrics.json").read_text(encoding="utf-8"))["tasks"]


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


BINARY = ["click", "like", "purchase"]


def test_metric_cards_show_the_runs_test_metrics_formatted(app, saved):
    home, ids = saved
    at = open_results(app, ids["balanced"])
    metrics = metrics_of(home, ids["balanced"])
    cards = [m for m in at.metric if m.label == "AUC"]
    assert [c.value for c in cards] == [fmt.metric(metrics[t]["auc"]) for t in BINARY]
    rmse = [m for m in at.metric if m.label == "RMSE"]
    assert [c.value for c in rmse] == [fmt.metric(metrics["watch_time"]["rmse"])]
    assert all(not m.delta for m in at.metric)  # no reference run picked
    assert "balanced" in [h.value for h in at.subheader]


def test_reference_run_gives_each_card_its_difference(app, saved):
    home, ids = saved
    at = open_results(app, ids["balanced"])
    at.selectbox(key="results_reference").set_value(ids["like heavy"]).run()
    assert not at.exception
    run, reference = metrics_of(home, ids["balanced"]), metrics_of(home, ids["like heavy"])
    for label, key in (("AUC", "auc"), ("LogLoss", "logloss")):
        cards = [m for m in at.metric if m.label == label]
        assert [c.delta for c in cards] == [fmt.delta(run[t][key], reference[t][key]) for t in BINARY]
    # Green means better: up for AUC, down for log loss (its cards invert the colours).
    for card in (m for m in at.metric if m.label in ("AUC", "LogLoss") and m.delta.strip("+-0.")):
        better = card.delta.startswith("+") == (card.label == "AUC")
        assert Metric.MetricColor.Name(card.proto.color) == ("GREEN" if better else "RED")


def test_reference_choices_exclude_the_run_shown(app, saved):
    _, ids = saved
    at = open_results(app, ids["balanced"])
    options = at.selectbox(key="results_reference").options
    assert len(options) == 2 and options[0] == "(none)" and ids["like heavy"] in options[1]


def test_roc_has_one_curve_per_binary_task_plus_the_diagonal(app, saved):
    home, ids = saved
    at = open_results(app, ids["balanced"])
    metrics = metrics_of(home, ids["balanced"])
    roc = next(f for f in figures(at) if "ROC" in json.dumps(f["layout"].get("title", "")))
    assert len(roc["data"]) == len(BINARY) + 1
    legend = [trace["name"] for trace in roc["data"]]
    assert legend[1:] == [f"{task} (AUC {metrics[task]['auc']:.4f})" for task in BINARY]


def test_tabs_include_regression_and_predictions_download(app, saved):
    _, ids = saved
    at = open_results(app, ids["balanced"])
    assert [t.label for t in at.tabs] == ["Learning curves", "ROC", "Calibration", "Regression", "Predictions"]
    assert [b.label for b in at.get("download_button")] == ["predictions.csv"]


def test_failed_run_shows_its_message_and_learning_curves_only(app, saved):
    _, ids = saved
    at = open_results(app, ids["diverged"])
    assert any(DIVERGED in e.value for e in at.error)
    assert not at.metric
    assert at.get("plotly_chart")  # its learning curves


def test_a_run_that_failed_before_saving_results_does_not_break_the_page(app, saved):
    _, ids = saved
    at = open_results(app, ids["crashed"])
    assert not at.exception


def test_without_runs_the_page_explains_and_links_to_train(monkeypatch, tmp_path):
    use_home(monkeypatch, tmp_path)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/results.py").run()
    assert not at.exception
    assert "No saved run" in at.info[0].value
    assert [link.proto.page for link in at.get("page_link")][-1].endswith("train")
