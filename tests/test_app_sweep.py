"""Sweep page (AppTest): set up and run a sweep in the background, its front, Cancel, opening a point, the Runs page."""

from __future__ import annotations

import io
import json
import os
import re
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import SAMPLE_SPEC, figure, numbers, open_app, with_sample
from streamlit.testing.v1 import AppTest

from mtlrec import procs
from mtlrec.config import ExperimentConfig, ModelConfig, TrainConfig
from mtlrec.data import propose_schema
from mtlrec.runs import RunStore
from mtlrec.sample import generate
from mtlrec.sweep import SweepConfig, list_sweeps, load_sweep, report_html, run_sweep, sweep_csv
from ui import state

PAGE = "pages/sweep.py"


def saved_sweep(home: Path, points: int = 3, tasks: tuple = ("click", "like"), references: tuple = ("dwa",)) -> str:
    """A finished sweep (of click against like), made with the library (as a past session would have left it)."""
    frame = generate(SAMPLE_SPEC)
    proposal = propose_schema(frame, "sample:synthetic")
    proposal.data.path = "sample:synthetic"
    base = ExperimentConfig(
        data=proposal.data, tasks=proposal.tasks, model=ModelConfig(size="tiny"),
        train=TrainConfig(epochs=1, batch_size=512, patience=0, device="cpu"),
    )  # fmt: skip
    sweep = SweepConfig(base=base, tasks=list(tasks), points=points, references=list(references), baseline=False)
    return run_sweep(sweep, RunStore(home), frame).sweep_id


def set_up(at: AppTest, points: int = 3, epochs: int = 1) -> AppTest:
    """Click against like (the defaults), a tiny model, no references."""
    assert at.multiselect(key="sweep_tasks").value == ["click", "like"]
    at.slider(key="sweep_points_2").set_value(points)
    at.slider(key="sweep_epochs").set_value(epochs)
    at.radio(key="sweep_size").set_value("tiny")
    at.multiselect(key="sweep_references").set_value([])
    at.checkbox(key="sweep_baseline").uncheck()
    at.run()
    assert not at.exception
    return at


def wait_until_done(at: AppTest, timeout: float = 90) -> AppTest:
    """Rerun the page (as its polling fragment would) until the sweep's results replace the live panel."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception
        running = any(b.key == "sweep_cancel" for b in at.button) or any("is running" in i.value for i in at.info)
        if not running and any(s.key == "sweep_shown" for s in at.selectbox):
            return at
        time.sleep(0.3)
    raise AssertionError("the sweep did not finish in time")


def test_without_a_dataset_the_page_says_what_to_do(home):
    at = open_app(PAGE)
    assert "Load a dataset" in at.info[0].value
    assert "No sweeps yet" in at.info[1].value
    assert at.get("page_link")[0].proto.page.endswith("data")


def test_a_dataset_with_one_label_is_told_to_mark_another(home):
    # "Load a dataset with at least two label columns first" was shown with a dataset loaded (an audit).
    at = with_sample(PAGE, change=lambda config: setattr(config, "tasks", config.tasks[:1]))
    assert [i.value for i in at.info][:1] == [
        "This dataset has one label, click: a sweep weighs two or three tasks against each other. Mark another "
        "column as a label on **Data** (or make a 0/1 label there with Fix the rows)."
    ]


def test_epochs_from_train_beyond_the_sweeps_range_are_moved_into_it_with_a_note(home):
    at = with_sample(PAGE, lambda config: setattr(config.train, "epochs", 80))
    assert at.slider(key="sweep_epochs").value == 50
    assert "Epochs per point: 80 is outside this page's range (1 to 50), so it is set to 50." in [
        i.value for i in at.info
    ]


def test_the_caption_names_the_model_set_on_this_page_and_trains_differs(home):
    # "the data and the model settings of Train (mmoe tiny…)" stood beside a Train set to shared-bottom: the page's
    # own model box (the last sweep's) trained, and an analyst swept the wrong model (a browser audit).
    at = with_sample(PAGE, lambda config: setattr(config.model, "size", "tiny"))
    caption = next(c.value for c in at.caption if "every point is saved as a run" in c.value)
    assert "of the model set above (shared_bottom tiny, " in caption and "Train has" not in caption

    at.selectbox(key="sweep_model").set_value("mmoe").run()

    caption = next(c.value for c in at.caption if "every point is saved as a run" in c.value)
    assert "of the model set above (mmoe tiny, " in caption and "; **Train** has shared_bottom tiny)" in caption


def test_the_caption_names_the_labels_a_sweep_leaves_out(home):
    # Every point is a model of the swept tasks only: compared with Train's four-task runs without a word (an audit)
    at = with_sample(PAGE)
    assert at.multiselect(key="sweep_tasks").value == ["click", "like"]
    caption = next(c.value for c in at.caption if "every point is saved as a run" in c.value)
    assert caption.endswith(
        "The other labels (purchase, watch_time) are left out: each point trains the swept tasks only, so compare "
        "it with runs of those tasks."
    )
    at.multiselect(key="sweep_tasks").set_value(["click", "like", "purchase"]).run()
    caption = next(c.value for c in at.caption if "every point is saved as a run" in c.value)
    assert "The other label (watch_time) is left out" in caption


def test_a_reload_keeps_the_sweep_set_up_on_the_page(home, monkeypatch):
    # A reload (a new session of the same browser) brought the dataset and Train's settings back, but the Sweep
    # page's own points, epochs, model and references went back to their defaults; and the page, which ends early
    # while no sweep is saved, ended with st.stop(), after which app.py could not read the session to keep it.
    monkeypatch.setattr(state, "_browser", lambda: "browser-1")
    monkeypatch.setattr(state, "_workspaces", type(state._workspaces)())
    at = with_sample(PAGE)
    at.multiselect(key="sweep_tasks").set_value(["click", "purchase"])
    at.slider(key="sweep_points_2").set_value(7)
    at.slider(key="sweep_epochs").set_value(2)
    at.selectbox(key="sweep_model").set_value("mmoe")
    at.radio(key="sweep_size").set_value("tiny")
    at.multiselect(key="sweep_references").set_value(["gradnorm"])
    at.run()

    reloaded = open_app(PAGE)  # a new session of the same browser

    assert reloaded.multiselect(key="sweep_tasks").value == ["click", "purchase"]
    assert reloaded.slider(key="sweep_points_2").value == 7
    assert reloaded.slider(key="sweep_epochs").value == 2
    assert reloaded.selectbox(key="sweep_model").value == "mmoe"
    assert reloaded.radio(key="sweep_size").value == "tiny"
    assert reloaded.multiselect(key="sweep_references").value == ["gradnorm"]


def test_a_three_point_sweep_trains_in_the_background_and_shows_its_front(home):
    at = set_up(with_sample(PAGE))
    assert "3 weightings, step 0.5" in [c.value for c in at.caption]
    at.button(key="sweep_start").click().run()
    assert not at.exception and not at.error
    wait_until_done(at)
    front = figure(at, "Pareto front")
    points = [t for t in front["data"] if t["mode"] == "markers"]  # the front's line aside
    assert {t["name"] for t in points} <= {"dominated", "Pareto front"}
    assert "Pareto front" in {t["name"] for t in points}
    assert sum(len(numbers(t["x"])) for t in points) == 3
    assert front["layout"]["xaxis"]["title"]["text"] == "click AUC ↑"
    assert {m.label: m.value for m in at.metric}["Points"] == "3 of 3"
    assert any("trained" in c.value and "worker thread" in c.value for c in at.caption)  # how the points trained
    assert any("A task whose weight is 0 is evaluated but not trained" in m.value for m in at.markdown)  # the ends
    [listed] = list_sweeps(RunStore(home))
    assert listed["status"] == "finished" and listed["points_done"] == 3
    assert len(RunStore(home).list(sweep_id=listed["id"])) == 3
    # The sidebar said "No run in this session yet" beside the 3 runs just saved (an audit).
    sidebar = [m.value for m in at.sidebar.markdown]
    assert "Only the sweep's points (below), each a run on **Runs**." in sidebar
    assert any(line.endswith("**finished** · 3/3 points") for line in sidebar)


@pytest.mark.processes
def test_opening_the_page_starts_the_training_processes_and_its_sweep_trains_in_them(home):
    if not procs.enabled() or (os.cpu_count() or 1) < 2:
        pytest.skip("training processes need a fork server and two cores")
    procs.shutdown()  # as in a fresh server: none yet
    try:
        at = set_up(with_sample(PAGE))
        assert procs.wait_ready(2, timeout=120)  # opening the page started them
        at.button(key="sweep_start").click().run()
        assert not at.exception and not at.error
        wait_until_done(at)
        assert {m.label: m.value for m in at.metric}["Points"] == "3 of 3"
        assert any(c.value.endswith("2 of 2 in training processes.") for c in at.caption), [c.value for c in at.caption]
    finally:
        procs.shutdown()


@pytest.mark.processes
def test_a_gpu_device_without_a_gpu_does_not_break_the_page(home):
    # Opening the page starts the training processes for a CPU; deciding that must not raise for "cuda" on a
    # machine without one (the sweep says so when it starts).
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    at = with_sample(PAGE, lambda config: setattr(config.train, "device", "cuda"))
    assert not at.exception
    assert any(b.key == "sweep_start" for b in at.button)
    # Started, it says so and where the device is chosen: this page has no control for it (an audit).
    at.button(key="sweep_start").click().run()
    assert not at.exception
    assert "no CUDA GPU is available here: choose 'auto' or 'cpu' (on Train: Advanced settings, Device)" in (
        at.error[0].value
    )


def test_cancel_stops_the_sweep_within_moments_and_keeps_what_finished(home):
    at = set_up(with_sample(PAGE), points=51, epochs=20)
    at.button(key="sweep_start").click().run()
    at.button(key="sweep_cancel").click().run()
    assert not at.exception
    wait_until_done(at, timeout=30)
    [listed] = list_sweeps(RunStore(home))
    assert listed["status"] == "stopped" and listed["points_done"] < 51
    assert at.warning[0].value.startswith("Stopped by the user")


def test_the_sweep_select_box_gets_the_new_status_when_a_sweep_ends(home):
    # The "Sweep" select box kept "running · 0/11 points" in the browser after the sweep finished or was cancelled:
    # its value (the sweep id) stayed the same, so its new text was never sent (an audit).
    sweep_id = saved_sweep(home)
    info_path = home / "sweeps" / sweep_id / "sweep.json"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    at = open_app(PAGE)
    assert " · finished · 3/3 points · " in at.selectbox(key="sweep_shown").proto.options[0]
    info_path.write_text(json.dumps({**info, "status": "stopped", "message": "stopped by the user"}), encoding="utf-8")
    at.run()
    box = at.selectbox(key="sweep_shown").proto
    assert box.set_value and " · stopped · 3/3 points · " in box.raw_value


def test_the_sweep_picked_stays_shown_after_another_page_and_another_sessions_running_sweep_says_so(home):
    # Back from Runs, the page showed the newest sweep on the server (another session's, drawn as if it were final:
    # "Points 11 of 11 · Time 9.9 s"), and two sweeps of one minute had one label (an audit).
    older = saved_sweep(home, points=2, references=())
    newer = saved_sweep(home, points=2, references=())
    at = open_app(PAGE)
    box = at.selectbox(key="sweep_shown")
    assert box.value == newer and len(set(box.proto.options)) == 2  # told apart by their ids' ends
    assert box.proto.options[1].endswith(f" · {older[-6:]}")
    box.set_value(older).run()
    at.switch_page("pages/runs.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="sweep_shown").value == older
    # Every sweep this browser started is marked, not only the latest (a browser walk)
    marked = open_app(PAGE, session={state.SESSION_SWEEPS: [older, newer]})
    assert all(o.endswith(" (this browser's)") for o in marked.selectbox(key="sweep_shown").proto.options)
    assert not any("(this browser's)" in o for o in at.selectbox(key="sweep_shown").proto.options)  # none of its own

    info_path = home / "sweeps" / newer / "sweep.json"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    info_path.write_text(json.dumps({**info, "status": "running", "pid": os.getpid()}), encoding="utf-8")
    at.selectbox(key="sweep_shown").set_value(newer).run()
    assert any(i.value.startswith("This sweep is still training (started in another session") for i in at.info)
    assert {m.label: m.value for m in at.metric}["Time"] == "–"


def test_choosing_a_point_opens_it_in_results(home):
    sweep_id = saved_sweep(home)
    at = open_app(PAGE)
    assert at.selectbox(key="sweep_shown").value == sweep_id
    point = at.selectbox(key="sweep_point")
    assert len(point.options) == 4 and point.options[0].startswith("★")  # front first; the DWA reference too
    run_id = next(r["id"] for r in RunStore(home).list(sweep_id=sweep_id) if "dwa" in r["name"])
    point.set_value(run_id).run()
    assert at.selectbox(key="sweep_point").value == run_id
    assert at.session_state[state.RESULTS_RUN] == run_id
    # A reference's weights are its method's, not a grid point's: no "0.50 · 0.50" (found by an audit).
    assert "**Loss weights:** set by DWA" in [m.value for m in at.markdown]
    table = at.dataframe[-1].value
    assert (table.loc[table["role"] == "dwa", ["weight of click", "weight of like"]] == "own").all().all()  # not None
    points = table.loc[table["role"] == "point", ["weight of click", "weight of like"]]
    assert sorted(points["weight of click"]) == ["0.00", "0.50", "1.00"]
    # A point whose weights leave a task untrained says so on its card (an AUC of 0.35 read as a result)
    edge = next(r["id"] for r in RunStore(home).list(sweep_id=sweep_id) if "like=0," in r["name"] + ",")
    at.selectbox(key="sweep_point").set_value(edge).run()
    cards = {m.label: m for m in at.metric}
    assert "like AUC (not trained)" in cards and "Loss weight 0" in cards["like AUC (not trained)"].help
    assert "click AUC" in cards and not cards["click AUC"].help
    at.selectbox(key="sweep_point").set_value(run_id).run()
    at.button(key="sweep_open_results").click().run()
    assert not at.exception
    assert at.selectbox(key="results_run").value == run_id


def test_a_reload_keeps_the_sweep_and_the_point_picked(home, monkeypatch):
    # The point picked stayed picked across pages but a reload went back to the one nearest equal weights, and the
    # sweep shown back to the newest (a teaching audit).
    monkeypatch.setattr(state, "_browser", lambda: "browser-1")
    monkeypatch.setattr(state, "_workspaces", type(state._workspaces)())
    older = saved_sweep(home)
    saved_sweep(home, points=2, references=())
    at = open_app()
    at.button(key="home_load_synthetic").click().run()  # a dataset: a workspace is kept only with one
    at.switch_page(PAGE).run()
    at.selectbox(key="sweep_shown").set_value(older).run()
    run_id = next(r["id"] for r in RunStore(home).list(sweep_id=older) if "dwa" in r["name"])
    at.selectbox(key="sweep_point").set_value(run_id).run()

    reloaded = open_app(PAGE)  # a new session of the same browser

    assert reloaded.selectbox(key="sweep_shown").value == older
    assert reloaded.selectbox(key="sweep_point").value == run_id


def test_the_point_shown_first_is_the_one_nearest_equal_weights(home):
    # The page offered the front's first point, click 1.00 · like 0.00, where like is untrained (an audit).
    sweep_id = saved_sweep(home, points=5)
    at = open_app(PAGE)
    point = at.selectbox(key="sweep_point")
    assert point.label == "Point (★ on the front; shown first: the point nearest equal weights)"
    rows = RunStore(home).list(sweep_id=sweep_id)
    assert next(r for r in rows if r["id"] == point.value)["summary"]["weights"] == {"click": 0.5, "like": 0.5}
    # The ends say which task their weights leave untrained (its metric is an untrained head's).
    ends = [o for o in point.options if "0.00" in o]
    assert sorted(o.lstrip("★ ") for o in ends) == [
        "click 0.00 · like 1.00 (click not trained)",
        "click 1.00 · like 0.00 (like not trained)",
    ]


def test_the_point_shown_first_moves_to_a_nearer_one_until_the_user_picks_one(home):
    # While a sweep ran, the first finished point (often an end) became the default and stayed there when the
    # point nearest equal weights finished later, under a label saying it was that point (a review).
    sweep_id = saved_sweep(home, points=5)
    rows = RunStore(home).list(sweep_id=sweep_id)
    end = next(r["id"] for r in rows if r["summary"]["weights"] == {"click": 1.0, "like": 0.0})
    middle = next(r["id"] for r in rows if r["summary"]["weights"] == {"click": 0.5, "like": 0.5})

    at = open_app(PAGE, session={"sweep_point": end})  # shown first while only that end had finished
    assert at.selectbox(key="sweep_point").value == middle
    at.selectbox(key="sweep_point").set_value(end).run()  # picked: it stays
    assert at.selectbox(key="sweep_point").value == end
    at.run()
    assert at.selectbox(key="sweep_point").value == end
    # Back from another page: Streamlit forgot the box's value, and it showed the front's first point.
    back = open_app(PAGE, session={"sweep_point_chosen": end})
    assert back.selectbox(key="sweep_point").value == end


def test_a_three_task_point_shows_every_tasks_weight(home):
    # A metric card cut three tasks' weights to "1.00 · 0.00 · …" (an audit).
    saved_sweep(home, points=2, tasks=("click", "like", "purchase"), references=())
    at = open_app(PAGE)
    [line] = [m.value for m in at.markdown if m.value.startswith("**Loss weights:**")]
    assert re.fullmatch(r"\*\*Loss weights:\*\* click \d\.\d\d · like \d\.\d\d · purchase \d\.\d\d", line), line


def test_visiting_the_page_does_not_change_the_run_results_shows(home):
    # Drawing the page set its default point as the run of Results and Recommend, without a click (an audit).
    sweep_id = saved_sweep(home)
    at = open_app(PAGE, session={state.RESULTS_RUN: "20990101-000000-abcdef"})
    assert at.session_state[state.RESULTS_RUN] == "20990101-000000-abcdef"
    shown = at.selectbox(key="sweep_point").value
    trained = next(r["id"] for r in RunStore(home).list(sweep_id=sweep_id) if r["id"] != shown)
    at.selectbox(key="sweep_point").set_value(trained).run()
    assert at.session_state[state.RESULTS_RUN] == trained  # a point picked is the one Results opens


def test_clicking_a_point_on_the_front_chooses_it(home):
    sweep_id = saved_sweep(home)
    at = open_app(PAGE)
    last = figure(at, "Pareto front")["data"][-1]  # a point's customdata starts with its run id
    run_id = last["customdata"][0][0]
    at.session_state["sweep_pareto"] = {"selection": {"points": [{"customdata": [run_id]}], "point_indices": [0],
                                                      "box": [], "lasso": []}}  # fmt: skip
    at.run()
    assert not at.exception
    assert at.selectbox(key="sweep_point").value == run_id
    assert at.session_state[state.RESULTS_RUN] == run_id
    assert run_id in {r["id"] for r in RunStore(home).list(sweep_id=sweep_id)}


def test_the_runs_page_lists_sweeps_and_opens_one_after_a_restart(home):
    sweep_id = saved_sweep(home)
    at = open_app("pages/runs.py")  # a fresh session: the sweep comes back from disk
    overview = at.dataframe[-1].value
    assert overview["points"].tolist() == ["3 of 3"] and overview["references"].tolist() == [1]
    assert overview["tasks"].tolist() == ["click (AUC) vs like (AUC)"]
    at.button(key="runs_open_sweep").click().run()
    assert not at.exception
    assert at.selectbox(key="sweep_shown").value == sweep_id
    points = [t for t in figure(at, "Pareto front")["data"] if t["name"] in ("dominated", "Pareto front")]
    assert sum(len(numbers(t["x"])) for t in points if t["mode"] == "markers") == 3  # the front's line aside


def test_a_shown_sweep_downloads_its_table_and_charts_as_the_cli_writes_them(home):
    sweep_id = saved_sweep(home)
    at = open_app(PAGE)
    buttons = {b.key: b for b in at.get("download_button")}
    assert [buttons[k].label for k in ("sweep_download_csv", "sweep_download_html")] == ["sweep.csv", "pareto.html"]
    result = load_sweep(RunStore(home), sweep_id)
    assert pd.read_csv(io.StringIO(sweep_csv(result.table)))["run_id"].tolist() == result.table["run_id"].tolist()
    result.config.name = "promo <script>alert(1)</script>"  # typed by another user of the lab
    html = report_html(result)
    assert "Pareto front" in html and "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_references_beating_every_weighting_are_said_above_the_charts(home, monkeypatch):
    # Negative transfer, the lesson of a teaching sweep, was left to the reader of the chart.
    import mtlrec.sweep

    saved_sweep(home)
    monkeypatch.setattr(mtlrec.sweep, "references_beating_every_point", lambda table, config: ["single-task models"])
    at = open_app(PAGE)
    [said] = [i.value for i in at.info if "No loss weighting reaches" in i.value]
    assert said.startswith(
        "No loss weighting reaches the single-task models: they are at least as good as every point that trains all "
        "the tasks, on every task"
    )
    assert "(negative transfer)" in said
