"""Results page (AppTest): metric cards from metrics.json, deltas against a reference run, ROC, failed runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DIVERGED, figures, open_app, use_home
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from mtlrec import fmt, gain
from mtlrec.runs import RunStore
from ui import state


@pytest.fixture(scope="module")
def saved(saved_runs) -> tuple[Path, dict[str, str]]:
    return saved_runs[:2]


@pytest.fixture
def app(saved, monkeypatch) -> AppTest:
    use_home(monkeypatch, saved[0])
    return open_app()


def open_results(at: AppTest, run_id: str) -> AppTest:
    at.session_state[state.RESULTS_RUN] = run_id
    at.switch_page("pages/results.py").run()
    assert not at.exception
    return at


def metrics_of(home: Path, run_id: str) -> dict:
    return json.loads((home / "runs" / run_id / "metrics.json").read_text(encoding="utf-8"))["tasks"]


BINARY = ["click", "like", "purchase"]


def test_metric_cards_show_the_runs_test_metrics_formatted(app, saved):
    home, ids = saved
    at = open_results(app, ids["balanced"])
    metrics = metrics_of(home, ids["balanced"])
    cards = [m for m in at.metric if m.label == "test AUC"]  # "test": not the validation AUC Train shows
    assert [c.value for c in cards] == [fmt.metric(metrics[t]["auc"]) for t in BINARY]
    rmse = [m for m in at.metric if m.label == "test RMSE"]
    assert [c.value for c in rmse] == [fmt.metric(metrics["watch_time"]["rmse"])]
    assert all(not m.delta for m in at.metric)  # no reference run picked
    assert "balanced" in [h.value for h in at.subheader]


def test_reference_run_gives_each_card_its_difference(app, saved):
    home, ids = saved
    at = open_results(app, ids["balanced"])
    at.selectbox(key="results_reference").set_value(ids["like heavy"]).run()
    assert not at.exception
    run, reference = metrics_of(home, ids["balanced"]), metrics_of(home, ids["like heavy"])
    # Tested on the same rows (same data, split and seed): each difference beside its noise, two paired standard
    # errors (a teaching audit saw click +0.0042 in green beside a noise of ±0.0077).
    store = RunStore(home)
    first, second = store.load(ids["balanced"]), store.load(ids["like heavy"])
    noise = gain.paired_noise(first.predictions(), second.predictions(), first.config.tasks)
    for label, key in (("test AUC", "auc"), ("test LogLoss", "logloss")):
        cards = [m for m in at.metric if m.label == label]
        expected = []
        for t in BINARY:
            delta, within = fmt.delta(run[t][key], reference[t][key]), noise[t if key == "auc" else (t, key)]
            inside = abs(run[t][key] - reference[t][key]) < within
            expected.append(
                delta if fmt.unchanged(delta) else f"{delta} ({'within ' if inside else ''}noise ±{within:.4f})"
            )
        assert [c.delta for c in cards] == expected
    # Green means better: up for AUC, down for log loss (its cards invert the colours); grey within the noise.
    for card in (m for m in at.metric if m.label in ("test AUC", "test LogLoss") and "within" not in m.delta):
        if fmt.unchanged(card.delta):  # equal after rounding: neither
            assert Metric.MetricColor.Name(card.proto.color) == "GRAY"
            continue
        better = card.delta.startswith("+") == (card.label == "test AUC")
        assert Metric.MetricColor.Name(card.proto.color) == ("GREEN" if better else "RED")
    for card in (m for m in at.metric if m.delta and "within noise" in m.delta):
        assert Metric.MetricColor.Name(card.proto.color) == "GRAY"
    assert any("within noise" in m.delta for m in at.metric if m.delta)
    assert any("tested on the same rows" in c.value for c in at.caption)


def test_reference_choices_exclude_the_run_shown(app, saved):
    _, ids = saved
    at = open_results(app, ids["balanced"])
    options = at.selectbox(key="results_reference").options
    assert len(options) == 2 and options[0] == "(none)" and ids["like heavy"] in options[1]


def test_a_reload_shows_the_run_in_the_address_not_the_newest(saved, monkeypatch):
    home, ids = saved
    use_home(monkeypatch, home)
    at = open_results(open_app(), ids["like heavy"])
    assert at.query_params["run"] == ids["like heavy"]

    reloaded = open_app("pages/results.py", query={"run": ids["like heavy"]})  # a new session

    assert reloaded.selectbox(key="results_run").value == ids["like heavy"]
    assert "like heavy" in [h.value for h in reloaded.subheader]


def test_a_link_shows_its_run_though_the_session_holds_another(saved, monkeypatch):
    # The session's run (back with the workspace after a reload, or set by visiting Sweep) beat the address: a
    # link to one run showed another and rewrote the address (found by an audit).
    home, ids = saved
    use_home(monkeypatch, home)
    at = open_app("pages/results.py", session={state.RESULTS_RUN: ids["balanced"]}, query={"run": ids["like heavy"]})

    assert at.selectbox(key="results_run").value == ids["like heavy"]
    assert at.query_params["run"] == ids["like heavy"] and at.session_state[state.RESULTS_RUN] == ids["like heavy"]
    # The page's own address does not pin the run: a run opened from elsewhere in the session (a button that
    # switches pages, a training that ended) is shown, and so is a run picked here.
    at.switch_page("pages/runs.py").run()
    at.session_state[state.RESULTS_RUN] = ids["balanced"]
    at.switch_page("pages/results.py").run()
    assert at.selectbox(key="results_run").value == ids["balanced"]
    at.selectbox(key="results_run").set_value(ids["like heavy"]).run()
    assert at.selectbox(key="results_run").value == ids["like heavy"]
    assert at.session_state[state.RESULTS_RUN] == ids["like heavy"] == at.query_params["run"]
    # The browser's Back to the address before: its run again.
    at.query_params["run"] = ids["balanced"]
    at.run()
    assert at.selectbox(key="results_run").value == ids["balanced"]


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
    assert any(fmt.md(DIVERGED) in e.value for e in at.error)  # plain text, shown as itself in Markdown
    assert not at.metric
    assert at.get("plotly_chart")  # its learning curves


def test_a_run_that_failed_before_saving_results_does_not_break_the_page(app, saved):
    _, ids = saved
    at = open_results(app, ids["crashed"])
    assert not at.exception


def test_without_runs_the_page_explains_and_links_to_train(monkeypatch, tmp_path):
    use_home(monkeypatch, tmp_path)
    at = open_app("pages/results.py")
    assert "No saved run" in at.info[0].value
    assert [link.proto.page for link in at.get("page_link")][-1].endswith("train")


def test_reference_choices_share_a_task_same_data_first_and_other_data_is_flagged(saved_runs, tmp_path, monkeypatch):
    # Every run was offered: one sharing no task showed nothing, one on another file showed deltas without a word.
    import dataclasses

    from mtlrec.config import ExperimentConfig
    from mtlrec.runs import RunStore

    _, _, result = saved_runs
    store = RunStore(tmp_path)

    def variant(change) -> ExperimentConfig:
        config = ExperimentConfig.from_dict(result.config.to_dict())
        change(config)
        return config

    def on_file(path: str, sha256: str) -> dict:
        return {**result.metrics, "data_files": [{"path": path, "bytes": 1, "mtime_ns": 1, "sha256": sha256}]}

    shown = dataclasses.replace(result, metrics=on_file("/uploads/a/data.csv", "a" * 64))
    other_data = variant(lambda c: setattr(c.data, "path", "other.parquet"))
    same_name = variant(lambda c: setattr(c.data, "path", "/uploads/b/data.csv"))  # another upload, same name
    no_shared = variant(lambda c: [setattr(t, "name", f"x_{t.name}") for t in c.tasks])
    metrics = {**result.metrics, "tasks": {f"x_{t}": v for t, v in result.metrics["tasks"].items()}}
    shown.config.data.path = "/uploads/a/data.csv"
    ids = {
        "shown": store.save(shown, name="shown"),
        "same data": store.save(shown, name="same data"),
        "other data": store.save(
            dataclasses.replace(result, config=other_data, metrics=on_file("other.parquet", "b" * 64)),
            name="other data",
        ),
        "no shared": store.save(dataclasses.replace(result, config=no_shared, metrics=metrics), name="no shared"),
    }
    use_home(monkeypatch, tmp_path)
    at = open_results(open_app(), ids["shown"])

    options = at.selectbox(key="results_reference").options
    assert [o.split(" · ")[0] for o in options[1:]] == ["same data", "other data"]  # "no shared" is not offered
    assert options[2].endswith("· other.parquet")
    at.selectbox(key="results_reference").set_value(ids["other data"]).run()
    # These runs share their test predictions (the same labels in the same order): tested on the same rows, as the
    # noise caption says; "other test rows" had stood beside it (a browser audit: the same rows renamed).
    assert not [w.value for w in at.warning if "baseline" not in w.value]
    assert [i.value for i in at.info if i.value.startswith("The reference")] == [
        "The reference was trained on other.parquet, this run on data.csv, but both were tested on the same rows "
        "(the same labels in the same order)."
    ]
    assert any("Both runs were tested on the same rows" in c.value for c in at.caption)
    assert (
        "Settings of this run that differ from the reference's (reference → this run): data file\\: other.parquet → "
        "/uploads/a/data.csv." in [c.value for c in at.caption]  # (Markdown escaped)
    )
    tested_elsewhere = result.predictions.iloc[::-1].reset_index(drop=True)  # other rows (in another order)
    ids["elsewhere"] = store.save(
        dataclasses.replace(result, config=other_data, metrics=on_file("other.parquet", "b" * 64),
                            predictions=tested_elsewhere),
        name="elsewhere",
    )  # fmt: skip
    at.run()
    at.selectbox(key="results_reference").set_value(ids["elsewhere"]).run()
    assert [w.value for w in at.warning if "baseline" not in w.value] == [
        "The reference was trained on other.parquet, this run on data.csv: their metrics come from other "
        "test rows, so the differences compare the data as much as the models."
    ]  # (these runs' files are not on disk: the baseline says it cannot train)
    # Two uploads both named data.csv are two datasets: by name alone they were "the same data", without a word.
    ids["same name"] = store.save(
        dataclasses.replace(result, config=same_name, metrics=on_file("/uploads/b/data.csv", "c" * 64)),
        name="same name",
    )
    at.run()
    # Same data first; then the others, newest first: the second data.csv is not sorted with the shown run's.
    assert [o.split(" · ")[0] for o in at.selectbox(key="results_reference").options[1:]] == [
        "same data", "same name", "elsewhere", "other data"
    ]  # fmt: skip
    at.selectbox(key="results_reference").set_value(ids["same name"]).run()
    assert [w.value for w in [*at.warning, *at.info] if w.value.startswith("The reference")] == [
        "The reference was trained on another file named data.csv, this run on data.csv, but both were tested on the "
        "same rows (the same labels in the same order)."
    ]
    at.selectbox(key="results_reference").set_value(ids["same data"]).run()
    assert not [w for w in at.warning if "baseline" not in w.value]


def test_a_task_keeps_its_colour_on_the_roc_and_calibration_charts_after_a_regression_task(saved_runs, tmp_path,
                                                                                          monkeypatch):  # fmt: skip
    # With a regression task first, ROC and calibration coloured the binary tasks from their own subset: the first
    # binary task took the regression task's colour.
    import dataclasses

    from mtlrec import charts
    from mtlrec.config import ExperimentConfig
    from mtlrec.runs import RunStore

    _, _, result = saved_runs
    config = ExperimentConfig.from_dict(result.config.to_dict())
    config.tasks = config.tasks[-1:] + config.tasks[:-1]  # watch_time (regression) first
    run_id = RunStore(tmp_path).save(dataclasses.replace(result, config=config))
    use_home(monkeypatch, tmp_path)
    at = open_results(open_app(), run_id)

    colors = charts.task_colors(config.tasks)
    roc = next(f for f in figures(at) if "ROC" in json.dumps(f["layout"].get("title", "")))
    drawn = {t["name"].split(" (")[0]: t["line"]["color"] for t in roc["data"][1:]}
    assert drawn == {t: colors[t] for t in ("click", "like", "purchase")}
    assert len(set(charts.task_colors([f"t{i}" for i in range(12)]).values())) == 12  # 12 tasks, 12 colours


def test_recommend_for_a_run_deleted_meanwhile_says_so_as_its_link_does(saved_runs, tmp_path, monkeypatch):
    # Deleted in another tab, the run shown was replaced by the newest one in the click's own rerun, and the click
    # opened that run on Recommend without a word; its link (?run=<id>) said "is not in this lab (deleted, or its id was cut short or mistyped)".
    from mtlrec.runs import RunStore

    _, _, result = saved_runs
    store = RunStore(tmp_path)
    gone = store.save(result, name="deleted in another tab")
    store.save(result, name="newest")
    use_home(monkeypatch, tmp_path)
    at = open_results(open_app(), gone)
    store.delete(gone)

    next(b for b in at.button if b.label == "Recommend for this run").click().run()

    assert at.title[0].value == "Recommend"
    notice = f"Run `{gone}` is not in this lab (deleted, or its id was cut short or mistyped), so the newest run that can be is shown."
    assert notice in [i.value for i in at.info]
    assert notice in [i.value for i in open_app("pages/recommend.py", query={"run": gone}).info]


def test_a_reload_keeps_the_reference_run_in_the_address_and_a_deleted_one_is_named(saved_runs, tmp_path, monkeypatch):
    # The reference ("Compare with") was lost on a reload: the address held the run shown only.
    from mtlrec.runs import RunStore

    _, _, result = saved_runs
    store = RunStore(tmp_path)
    shown, reference = store.save(result, name="shown"), store.save(result, name="reference")
    use_home(monkeypatch, tmp_path)
    at = open_results(open_app(), shown)
    at.selectbox(key="results_reference").set_value(reference).run()
    assert (at.query_params["run"], at.query_params["ref"]) == (shown, reference)

    reloaded = open_app("pages/results.py", query={"run": shown, "ref": reference})  # a new session
    assert reloaded.selectbox(key="results_reference").value == reference
    assert all(m.delta for m in reloaded.metric if m.label == "test AUC")  # the cards show their differences
    reloaded.selectbox(key="results_reference").set_value("(none)").run()
    assert "ref" not in reloaded.query_params

    store.delete(reference)
    gone = open_app("pages/results.py", query={"run": shown, "ref": reference})
    assert (
        f"Run `{reference}` is not in this lab (deleted, or its id was cut short or mistyped), so there is no reference run: the cards show no "
        "differences." in [i.value for i in gone.info]
    )
    assert gone.selectbox(key="results_reference").value == "(none)" and "ref" not in gone.query_params


def test_a_reference_shares_a_task_only_of_the_same_type(saved_runs, tmp_path, monkeypatch):
    # A run where click was made a regression task was "a run sharing click": its card showed an NDCG difference
    # between a binary click and a regression one, and a run sharing nothing else was offered as a reference.
    import dataclasses

    from mtlrec.config import ExperimentConfig
    from mtlrec.runs import RunStore

    _, _, result = saved_runs
    store = RunStore(tmp_path)
    retyped = ExperimentConfig.from_dict(result.config.to_dict())
    retyped.tasks[0].type = "regression"  # click
    regression_click = {"rmse": 0.4, "mae": 0.3, "ndcg@10": 0.9}
    metrics = {**result.metrics, "tasks": {**result.metrics["tasks"], "click": regression_click}}
    only_click = ExperimentConfig.from_dict(retyped.to_dict())
    only_click.tasks = only_click.tasks[:1]
    ids = {
        "shown": store.save(result, name="shown"),
        "retyped": store.save(dataclasses.replace(result, config=retyped, metrics=metrics), name="retyped"),
        "only click": store.save(
            dataclasses.replace(result, config=only_click, metrics={**metrics, "tasks": {"click": regression_click}}),
            name="only click",
        ),
    }
    use_home(monkeypatch, tmp_path)
    at = open_results(open_app(), ids["shown"])

    assert [o.split(" · ")[0] for o in at.selectbox(key="results_reference").options[1:]] == ["retyped"]
    at.selectbox(key="results_reference").set_value(ids["retyped"]).run()
    assert not at.exception
    assert any(
        c.value == "Differences on the tasks both runs have (same name and type): like, purchase, watch_time."
        for c in at.caption
    )
    cards = [m for m in at.metric if m.label == "test AUC"]
    assert [bool(c.delta) for c in cards] == [False, True, True]  # click, like, purchase


def test_a_download_of_a_run_deleted_since_the_page_was_drawn_says_so(saved_runs, tmp_path, monkeypatch):
    # Deleted on Runs in another tab, the run stayed on this page (a click on a download ran no script), and its
    # predictions.csv button did nothing: its reader raised inside Streamlit, with a traceback in the server's log.
    from conftest import a_run_to_delete

    store, run_id, drawn = a_run_to_delete(saved_runs[2], tmp_path, monkeypatch)
    at = open_results(open_app(), run_id)
    [button] = at.get("download_button")
    assert drawn[f"{run_id}_predictions.csv"]().startswith(b'"user_id","item_id",')

    store.delete(run_id)  # another session, on Runs
    note = drawn[f"{run_id}_predictions.csv"]()  # the click's download
    assert note.decode().startswith(f"Run {run_id} was deleted (on the Runs page, maybe in another tab")

    button.click().run()  # and the click reruns the page
    assert not at.exception
    assert at.info[0].value.startswith(f"Run `{run_id}` is not in this lab (deleted")
    assert "kept" in [h.value for h in at.subheader]


def test_a_metric_equal_to_the_references_after_rounding_is_no_loss():
    # "-0.0000" in red beside two RMSEs 6e-6 apart (a browser audit): shown as 0.0000 ("±0.0000" read as a noise
    # value, a later walk), and the page greys it without an arrow.
    assert fmt.delta(0.81234, 0.812346) == "0.0000" and fmt.delta(0.8124, 0.8123) == "+0.0001"
    assert fmt.unchanged("0.0000") and not fmt.unchanged("+0.0001") and not fmt.unchanged("-0.0001")
    assert fmt.delta(0.8122, 0.8123) == "-0.0001"


def test_a_loss_weight_is_written_as_the_runs_name_writes_it():
    # A sweep's 2/3 read 0.666667 on Results, 0.667 in the run's name (a browser walk)
    from mtlrec.config import ExperimentConfig, TaskSpec
    from mtlrec.runs import default_run_name

    assert [fmt.weight(w) for w in (2 / 3, 1.0, 0.05, 2.5)] == ["0.667", "1", "0.05", "2.5"]
    assert [fmt.weight(w) for w in (1000.0, 1234.4, 250.0)] == ["1000", "1234", "250"]  # not 1e+03, 1.23e+03
    assert [fmt.weight(w) for w in (999.6, 999.4, 1e6)] == ["1000", "999", "1000000"]  # 999.6 read 1e+03 too
    config = ExperimentConfig(tasks=[TaskSpec("click", weight=2 / 3), TaskSpec("like", weight=1 / 3)])
    assert "click=0.667, like=0.333" in default_run_name(config)
