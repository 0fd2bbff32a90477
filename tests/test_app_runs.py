"""Runs page (AppTest): the saved-runs table, filters, comparison, rename, delete, downloads, open."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest
from conftest import figure, numbers, open_app, use_home
from streamlit.testing.v1 import AppTest

from mtlrec import fmt, gain
from mtlrec.config import ExperimentConfig
from mtlrec.runs import RunStore
from ui import state

NAMES = {"balanced", "like heavy", "diverged", "crashed", "damaged"}


@pytest.fixture(scope="module")
def saved(saved_runs):
    return saved_runs


@pytest.fixture
def app(saved, monkeypatch) -> AppTest:
    use_home(monkeypatch, saved[0])
    return open_app("pages/runs.py")


def table(at: AppTest):
    return at.dataframe(key=at.session_state["runs_table_key"]).value


def select(at: AppTest, *names: str) -> AppTest:
    """Select table rows by run name, as a click on their boxes would (AppTest cannot click dataframe rows)."""
    shown = list(table(at)["name"])
    rows = [shown.index(name) for name in names]
    at.session_state[at.session_state["runs_table_key"]] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    return at


def test_table_lists_every_run_with_config_highlights_and_main_metrics(app, saved):
    home, ids, _ = saved
    frame = table(app).set_index("name")
    assert set(frame.index) == NAMES
    assert frame.loc["balanced", "status"] == "✓ finished"
    assert frame.loc["diverged", "status"] == "✗ failed"
    assert frame.loc["damaged", "status"] == "⚠ damaged"
    assert frame.loc["like heavy", "weights"] == "click=1, like=4, purchase=1, watch_time=1"
    assert (
        frame.loc["balanced", ["model", "size", "data", "epochs"]]
        == ["shared_bottom", "tiny", "synthetic_4k.parquet", 2]
    ).all()
    metrics = json.loads((home / "runs" / ids["balanced"] / "metrics.json").read_text())["tasks"]
    assert frame.loc["balanced", "click auc"] == pytest.approx(metrics["click"]["auc"])
    assert frame.loc["balanced", "watch_time rmse"] == pytest.approx(metrics["watch_time"]["rmse"])
    assert pd.isna(frame.loc["diverged", "click auc"])  # a failed run has no metric: shown as "–", not "None"
    assert [d.proto.placeholder for d in app.dataframe][:1] == ["–"]
    # the name column at a fixed width: a long name pushed the metrics off a 1280-px page (a browser walk)
    listed = app.dataframe(key=app.session_state["runs_table_key"])
    assert json.loads(listed.proto.columns)["name"]["width"] == 300


def test_runs_are_still_listed_after_a_server_restart(saved, monkeypatch):
    home, ids, _ = saved
    assert {r["id"] for r in RunStore(home).list()} == set(ids.values())  # a new store on the same folder
    use_home(monkeypatch, home)  # a fresh app: nothing cached
    at = open_app("pages/runs.py")
    assert set(table(at)["name"]) == NAMES


def test_live_runs_show_as_running_and_runs_found_mid_training_as_interrupted(monkeypatch, tmp_path):
    store = RunStore(tmp_path)
    live = store.start(ExperimentConfig(), name="live job")  # this process is training it
    orphan = store.start(ExperimentConfig(), name="server died")
    dead_pid = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_pid.wait()
    with sqlite3.connect(store.db_path) as db:
        db.execute("UPDATE runs SET pid=? WHERE id=?", (dead_pid.pid, orphan))
    store.recover_interrupted()  # what the next server start does
    use_home(monkeypatch, tmp_path)
    at = open_app("pages/runs.py")
    frame = table(at).set_index("name")
    assert frame.loc["live job", "status"] == "▶ running"
    assert frame.loc["server died", "status"] == "⚠ interrupted"
    select(at, "live job")
    assert at.checkbox(key=f"runs_confirm_{live}").disabled  # someone's job: not deletable while it trains


def test_filters_by_status_and_name(app):
    app.multiselect(key="runs_status").set_value(["finished"]).run()
    assert set(table(app)["name"]) == {"balanced", "like heavy"}
    app.text_input(key="runs_search").input("HEAVY").run()
    assert list(table(app)["name"]) == ["like heavy"]


def managed(at: AppTest) -> str:
    """The run the Manage section acts on: its name line."""
    return next(m.value for m in at.markdown if m.value.startswith("**") and "· run `" in m.value)


def test_a_selection_follows_its_runs_when_a_filter_or_a_new_run_changes_the_rows(app, saved):
    # The table's selection was a list of row positions: after a search, a status filter or a new run at the top,
    # Manage (rename, delete, downloads) acted on whatever run had moved into the ticked position.
    home, ids, result = saved
    select(app, "like heavy")
    assert managed(app).startswith("**like heavy**")

    RunStore(home).save(result, name="newer run")  # listed first, as a sweep's points are
    app.run()
    assert managed(app).startswith("**like heavy**")
    app.multiselect(key="runs_status").set_value(["finished"]).run()
    assert managed(app).startswith("**like heavy**")
    app.text_input(key="runs_search").input("balanced").run()  # the selected run is no longer listed
    assert not app.get("download_button") and "Select a run" in app.info[-1].value
    app.text_input(key="runs_search").input("").run()
    assert "Select a run" in app.info[-1].value  # a run hidden by a search is unticked, not ticked again later


def test_two_selected_runs_are_compared_bar_by_bar(app, saved):
    home, ids, _ = saved
    select(app, "balanced", "like heavy")
    bars = figure(app, "Test metrics per run")
    tasks = [trace["name"] for trace in bars["data"]]
    assert tasks == ["click", "like", "purchase", "watch_time"]
    for trace in bars["data"]:
        assert trace["x"] == ["balanced", "like heavy"]  # one bar per run
    metrics = {
        name: json.loads((home / "runs" / ids[name] / "metrics.json").read_text())["tasks"]
        for name in ("balanced", "like heavy")
    }
    assert bars["data"][0]["y"] == pytest.approx(
        [metrics["balanced"]["click"]["auc"], metrics["like heavy"]["click"]["auc"]]
    )
    # The bars' numbers with their differences from the first run: bars from 0 hid a third-decimal gap (an audit).
    table = next(d.value for d in app.dataframe if "Δ click auc" in d.value.columns)
    assert table["run"].tolist() == ["balanced", "like heavy"]
    assert table["Δ click auc"].tolist() == pytest.approx(
        [0.0, metrics["like heavy"]["click"]["auc"] - metrics["balanced"]["click"]["auc"]]
    )
    assert "watch_time rmse ↓" in table.columns
    # The newest listed first (as the list shows them): Δ still from the oldest, not from the new run (a browser walk)
    flipped = next(d.value for d in select(app, "like heavy", "balanced").dataframe if "Δ click auc" in d.value.columns)
    assert flipped["run"].tolist() == ["like heavy", "balanced"]
    assert flipped["Δ click auc"].tolist() == pytest.approx(
        [metrics["like heavy"]["click"]["auc"] - metrics["balanced"]["click"]["auc"], 0.0]
    )
    select(app, "balanced", "like heavy")
    # Tested on the same rows: each Δ beside its paired noise (the first run, the base, has none)
    first, second = RunStore(home).load(ids["balanced"]), RunStore(home).load(ids["like heavy"])
    noise = gain.paired_noise(second.predictions(), first.predictions(), second.config.tasks)
    assert pd.isna(table["± click auc"].iloc[0]) and table["± click auc"].iloc[1] == pytest.approx(noise["click"])
    assert table["± watch_time rmse"].iloc[1] == pytest.approx(noise["watch_time"])
    curves = figure(app, "by epoch")
    assert [trace["name"] for trace in curves["data"]] == ["balanced", "like heavy"]
    lines = figure(app, "Loss weights")
    assert lines["data"][0]["type"] == "parcoords"
    like_weight = next(d for d in lines["data"][0]["dimensions"] if d["label"] == "like weight")
    assert sorted(numbers(like_weight["values"])) == [1.0, 4.0]


def test_the_comparison_lists_the_settings_on_which_the_runs_differ(app, saved):
    # A feature's role reset by loading the file again, beside the weight changed, read as the weight's effect (a
    # browser audit): the settings that differ come first.
    home, ids, _ = saved
    select(app, "balanced", "like heavy")
    [expander] = [e for e in app.expander if e.label.startswith("Settings that differ")]
    table = next(d.value for d in app.dataframe if "setting" in d.value.columns)
    configs = {name: RunStore(home).load(ids[name]).config for name in ("balanced", "like heavy")}
    from mtlrec.compare import differences

    assert table.to_dict("records") == differences(configs).to_dict("records")
    row = table.set_index("setting").loc["task 'like'"]
    assert row.tolist() == ["binary, weight 1", "binary, weight 4"]
    assert expander.label == f"Settings that differ ({len(table)})"
    # Headed as the bars' ticks name the runs (a shared start dropped), the full name on hover
    proto = next(d.proto for d in app.dataframe if "setting" in d.value.columns)
    headers = {k: v for k, v in json.loads(proto.columns).items() if k in ("balanced", "like heavy")}
    assert {k: (v["label"], v["help"]) for k, v in headers.items()} == {
        "balanced": ("balanced", "balanced"), "like heavy": ("like heavy", "like heavy")
    }  # fmt: skip


def test_the_weights_chart_warns_when_the_runs_differ_in_more_than_their_weights(saved, tmp_path, monkeypatch):
    home, ids, result = saved
    store = RunStore(tmp_path)
    store.save(result, name="small one")
    bigger = dataclasses.replace(result, config=ExperimentConfig.from_dict(result.config.to_dict()))
    bigger.config.model.size = "small"
    bigger.config.tasks[1].weight = 3.0
    store.save(bigger, name="other size")
    use_home(monkeypatch, tmp_path)
    at = select(open_app("pages/runs.py"), "small one", "other size")
    [warning] = [w.value for w in at.warning if "differ in more than their loss weights" in w.value]
    assert "(model.size; see Settings that differ above)" in warning
    assert not [c for c in at.caption if "differ in more than" in c.value]


def test_a_damaged_run_is_left_out_of_the_comparison(app):
    select(app, "balanced", "damaged")
    assert not [c for c in app.get("plotly_chart") if "Test metrics per run" in c.proto.spec]
    select(app, "damaged", "crashed", "diverged")
    assert not app.exception


def test_downloads_of_a_selected_run(app, saved):
    _, ids, _ = saved
    select(app, "balanced")
    labels = [button.label for button in app.get("download_button")]
    assert labels == ["config.json", "metrics.csv", "predictions.csv", "model.pt", f"{ids['balanced']}.zip"]
    select(app, "damaged")  # its metrics cannot be read: only its plain files
    assert [button.label for button in app.get("download_button")] == ["config.json", "predictions.csv", "model.pt"]


def test_rename_shows_the_new_name(app, saved):
    home, _, result = saved
    run_id = RunStore(home).save(result, name="to rename")
    app.run()
    select(app, "to rename")
    app.text_input(key=f"runs_name_{run_id}").input("renamed run")
    app.button(key="runs_rename").click().run()
    assert not app.exception
    assert "renamed run" in set(table(app)["name"])
    assert RunStore(home).get(run_id)["name"] == "renamed run"
    # Found by a name search the new name no longer holds: the search is cleared, not the run out of the table
    app.text_input(key="runs_search").input("renamed").run()
    select(app, "renamed run")
    app.text_input(key=f"runs_name_{run_id}").input("second name")
    app.button(key="runs_rename").click().run()
    assert app.text_input(key="runs_search").value == "" and "second name" in set(table(app)["name"])
    assert any("the name search is cleared" in t.proto.body for t in app.toast)
    # The test metrics come right after the names (they were off the page, after the weights)
    order = list(app.dataframe(key=app.session_state["runs_table_key"]).proto.column_order)
    assert order[:3] == ["name", "status", "click auc"] and order.index("weights") > order.index("watch_time rmse")


def test_rename_sends_the_new_name_to_the_run_select_box(app, saved):
    # With two runs ticked, the "Run" select box kept the old name in the browser: its value (the run id) did not
    # change, so its new text was never sent (an audit).
    home, _, result = saved
    store = RunStore(home)
    store.save(result, name="the other")
    run_id = store.save(result, name="to rename twice")
    app.run()
    select(app, "to rename twice", "the other")
    assert app.selectbox(key="runs_manage").value == run_id
    app.text_input(key=f"runs_name_{run_id}").input("large baseline v1")
    app.button(key="runs_rename").click().run()
    assert not app.exception
    box = app.selectbox(key="runs_manage").proto
    assert box.set_value and box.raw_value.startswith("large baseline v1 · finished · ")
    app.run()
    assert not app.selectbox(key="runs_manage").proto.set_value  # sent once


def test_a_run_name_with_markdown_characters_is_shown_as_typed(saved, tmp_path, monkeypatch):
    # Manage showed 'promo $5 vs $10 *A/B* test' with "A/B" in italics and "5 vs " as LaTeX.
    _, _, result = saved
    name = "promo $5 vs $10 *A/B* test"
    RunStore(tmp_path).save(result, name="before")
    use_home(monkeypatch, tmp_path)
    at = open_app("pages/runs.py")
    select(at, "before")
    run_id = RunStore(tmp_path).list()[0]["id"]
    at.text_input(key=f"runs_name_{run_id}").input(name)
    at.button(key="runs_rename").click().run()

    shown = r"promo \$5 vs \$10 \*A/B\* test"
    assert fmt.md(name) == shown
    assert [t.value for t in at.toast] == [f"Renamed to “{shown}”"]
    select(at, name)
    assert at.markdown[0].value.startswith(f"**{shown}** · ")
    assert fmt.md("watch_time _x_ [a](b) <i> :material/home: a|b") == (
        "watch_time \\_x\\_ \\[a\\](b) \\<i\\> \\:\u200bmaterial/home\\: a\\|b"
    )  # snake_case stays: CommonMark never reads an underscore inside a word as emphasis


def test_delete_needs_confirmation_and_removes_row_and_folder(app, saved):
    home, _, result = saved
    run_id = RunStore(home).save(result, name="to delete")
    app.session_state[state.RESULTS_RUN] = run_id
    app.run()
    select(app, "to delete")
    assert app.button(key="runs_delete").disabled
    app.checkbox(key=f"runs_confirm_{run_id}").check().run()
    app.button(key="runs_delete").click().run()
    assert not app.exception
    assert "to delete" not in set(table(app)["name"])
    assert not (home / "runs" / run_id).exists()
    assert state.RESULTS_RUN not in app.session_state
    assert "Select a run" in app.info[-1].value  # the selection went with it


def test_open_in_results_shows_that_run(app, saved):
    home, ids, _ = saved
    select(app, "like heavy")
    app.button(key="runs_results").click().run()
    assert not app.exception
    assert app.selectbox(key="results_run").value == ids["like heavy"]
    auc = json.loads((home / "runs" / ids["like heavy"] / "metrics.json").read_text())["tasks"]["click"]["auc"]
    assert next(m for m in app.metric if m.label == "test AUC").value == fmt.metric(auc)


def test_without_runs_the_page_explains_and_links_to_train(monkeypatch, tmp_path):
    use_home(monkeypatch, tmp_path)
    at = open_app("pages/runs.py")
    assert "No saved runs" in at.info[0].value
    assert at.get("page_link")[-1].proto.page.endswith("train")


def test_weights_chart_holds_the_runs_of_one_set_of_tasks_and_says_what_it_left_out(saved, tmp_path, monkeypatch):
    # Runs of two datasets share no axes: the chart was drawn empty, with "N runs with a missing value left out".
    _, _, result = saved
    store = RunStore(tmp_path)
    for weight in (1.0, 2.0, 3.0):
        config = ExperimentConfig.from_dict(result.config.to_dict())
        config.tasks[1].weight = weight
        store.save(dataclasses.replace(result, config=config), name=f"like {weight:g}")
    shuffled = ExperimentConfig.from_dict(result.config.to_dict())
    shuffled.tasks = shuffled.tasks[::-1]  # the same tasks in another order: the same axes
    store.save(dataclasses.replace(result, config=shuffled), name="like 1 reversed")
    other = ExperimentConfig.from_dict(result.config.to_dict())
    other.tasks = other.tasks[:2]
    metrics = {**result.metrics, "tasks": {t: result.metrics["tasks"][t] for t in ("click", "like")}}
    store.save(dataclasses.replace(result, config=other, metrics=metrics), name="two tasks")  # the newest
    use_home(monkeypatch, tmp_path)
    at = open_app("pages/runs.py")

    # Nothing selected: the newest run's tasks (click, like) have one run, so no chart, and the caption says why.
    assert not [c for c in at.get("plotly_chart") if "Loss weights" in c.proto.spec]
    assert any(
        c.value.startswith("No loss weights → metrics chart: it needs two runs of the same tasks")
        and "runs with the tasks click, like: 1 of 5 (4 with other tasks" in c.value
        for c in at.caption
    )
    select(at, "like 1", "like 3", "like 1 reversed", "two tasks")  # the first selected run's tasks
    lines = figure(at, "Loss weights")
    like = next(d for d in lines["data"][0]["dimensions"] if d["label"] == "like weight")
    assert sorted(numbers(like["values"])) == [1.0, 3.0, 4.0]  # the reversed run: the saved result's like weight 4
    assert any("1 with other tasks" in c.value and "3 of 4" in c.value for c in at.caption)


def test_weights_chart_leaves_out_the_weights_every_run_shares_as_its_caption_says(saved, tmp_path, monkeypatch):
    # Two runs with all weights 1 got flat axes "w click", "w like"… (0.9 to 1.1) under a caption saying that
    # weights every run shares are left out; and the info box above did not say that the chart holds every run.
    _, _, result = saved
    store = RunStore(tmp_path)
    for name in ("first", "second"):
        store.save(result, name=name)
    use_home(monkeypatch, tmp_path)
    at = open_app("pages/runs.py")
    assert (
        "the loss weights → metrics view below holds the runs with the newest run's tasks and data" in at.info[0].value
    )
    assert not [c for c in at.get("plotly_chart") if "Loss weights" in c.proto.spec]
    assert any(
        c.value.startswith("No loss weights → metrics chart: these runs share every loss weight") for c in at.caption
    )
    config = ExperimentConfig.from_dict(result.config.to_dict())
    config.tasks[1].weight = 2.0
    store.save(dataclasses.replace(result, config=config), name="like 2")
    at.run()
    dimensions = [d["label"] for d in figure(at, "Loss weights")["data"][0]["dimensions"]]
    assert [d for d in dimensions if d.endswith(" weight")] == ["like weight"]


def test_weights_chart_holds_only_the_reference_runs_data_and_says_what_it_left_out(saved, tmp_path, monkeypatch):
    # Runs on two data files shared one parallel-coordinates chart without a word (the bars warn): their metrics come
    # from other test rows.
    _, _, result = saved
    store = RunStore(tmp_path)
    other = ExperimentConfig.from_dict(result.config.to_dict())
    other.data.path = "b.csv"
    b_metrics = {**result.metrics, "data_files": [{"path": "b.csv", "bytes": 1, "mtime_ns": 1, "sha256": "b" * 64}]}
    for weight in (1.0, 2.0):
        config = ExperimentConfig.from_dict(result.config.to_dict())
        config.tasks[1].weight = weight
        store.save(dataclasses.replace(result, config=config), name=f"like {weight:g}")
    for weight in (3.0, 4.0):  # the newest
        config = ExperimentConfig.from_dict(other.to_dict())
        config.tasks[1].weight = weight
        store.save(dataclasses.replace(result, config=config, metrics=b_metrics), name=f"b like {weight:g}")
    use_home(monkeypatch, tmp_path)
    at = open_app("pages/runs.py")

    def like_weights() -> list[float]:
        lines = figure(at, "Loss weights")
        return sorted(numbers(next(d for d in lines["data"][0]["dimensions"] if d["label"] == "like weight")["values"]))

    assert like_weights() == [3.0, 4.0]  # nothing selected: the newest run's data, b.csv
    assert any("2 of 4 (2 trained on other data than b.csv" in c.value for c in at.caption)
    select(at, "like 1", "b like 3", "like 2")  # the first selected run's data
    assert like_weights() == [1.0, 2.0]
    assert any("2 of 3 (1 trained on other data than synthetic_4k.parquet" in c.value for c in at.caption)


def test_comparing_runs_on_different_data_says_so_and_offers_every_runs_metrics(saved, tmp_path, monkeypatch):
    # Runs on small.csv and nouser.csv were compared without a word, and the metric boxes offered the first run's
    # metrics only: GAUC could not be picked when the newest selected run had no user column.
    _, _, result = saved
    store = RunStore(tmp_path)
    no_users = {
        task: {m: v for m, v in values.items() if m != "gauc"} for task, values in result.metrics["tasks"].items()
    }
    other = {
        **result.metrics,
        "tasks": no_users,
        "data_files": [{"path": "b.csv", "bytes": 1, "mtime_ns": 1, "sha256": "b" * 64}],
    }
    config = ExperimentConfig.from_dict(result.config.to_dict())
    config.data.path = "b.csv"
    store.save(result, name="with users")
    store.save(dataclasses.replace(result, config=config, metrics=other), name="without users")  # the newest
    use_home(monkeypatch, tmp_path)
    at = open_app("pages/runs.py")

    select(at, "without users", "with users")

    assert "gauc" in at.selectbox(key="runs_metric_click").options
    [warning] = [w.value for w in at.warning]
    assert warning.startswith("These runs were trained on different data (b.csv, synthetic_4k.parquet)")
    at.selectbox(key="runs_metric_click").set_value("gauc").run()
    bars = figure(at, "Test metrics per run")
    assert "click: 1 of 2 runs have no gauc (no bar)" in json.dumps(bars["layout"]["annotations"])


def test_a_run_whose_folder_was_deleted_says_nothing_is_left_to_download(saved, tmp_path, monkeypatch):
    # It said "only its readable files can be downloaded" above no download button at all.
    import shutil

    _, _, result = saved
    store = RunStore(tmp_path)
    run_id = store.save(result, name="folder gone")
    shutil.rmtree(store.folder(run_id))
    use_home(monkeypatch, tmp_path)
    at = open_app("pages/runs.py")

    select(at, "folder gone")

    assert not at.get("download_button")
    [warning] = [w.value for w in at.warning]
    assert warning.endswith(
        "none of its files is left to download (its folder was deleted or emptied); delete it from the list."
    )


def compare_warnings(monkeypatch, home, result, runs: list[tuple[str, str | None, str | None, bool]]) -> list[str]:
    """Save `runs` (name, data file name or None for the result's own, SHA-256 letter or None for the result's own
    data_files, indexed before data_key existed), select them all on the Runs page, and return its warnings."""
    store = RunStore(home)
    for name, path, sha, old in runs:
        config = ExperimentConfig.from_dict(result.config.to_dict())
        config.data.path = path or config.data.path
        metrics = result.metrics
        if sha:
            metrics = {**metrics, "data_files": [{"path": "x", "bytes": 1, "mtime_ns": 1, "sha256": sha * 64}]}
        run_id = store.save(dataclasses.replace(result, config=config, metrics=metrics), name=name)
        if old:
            forget_data_key(home, run_id)
    use_home(monkeypatch, home)
    at = open_app("pages/runs.py")
    select(at, *[name for name, *_ in runs])
    return [w.value for w in at.warning]


def test_runs_on_the_same_data_are_told_apart_by_content_and_older_runs_by_file_name(saved, tmp_path, monkeypatch):
    # A run indexed before data_key existed beside a new run on the same file was called "different data"; with one
    # such run every run was compared by file name, hiding two different uploads of one name; the same content
    # under two names was called different; an older run did not join the runs holding its file name.
    result = saved[2]
    cases = {
        "older beside newer, one file": ([("old", None, None, True), ("new", None, None, False)], False),
        "two uploads of one name, and an older run": (
            [("first upload", None, "a", False), ("second upload", None, "b", False), ("old", None, None, True)],
            True,
        ),
        "one content, two names": ([("first name", None, "c", False), ("second name", "d (1).csv", "c", False)], False),
        "an older run joins its file's dataset": (
            [("A", "a.parquet", "d", False), ("B", "b.parquet", "d", False), ("C", "a.parquet", None, True)],
            False,
        ),
    }
    for what, (runs, different) in cases.items():
        home = tmp_path / what.replace(" ", "_").replace(",", "")
        warnings = compare_warnings(monkeypatch, home, result, runs)
        assert bool(warnings) == different, what
        if different:
            assert warnings[0].startswith("These runs were trained on different data (2 different files ("), what


def forget_data_key(home, run_id: str) -> None:
    """Make a saved run look indexed before data_key existed (runs saved before 2026-12-06)."""
    with sqlite3.connect(home / "runs.db") as db:
        summary = json.loads(db.execute("SELECT summary FROM runs WHERE id=?", (run_id,)).fetchone()[0])
        del summary["data_key"]
        db.execute("UPDATE runs SET summary=? WHERE id=?", (json.dumps(summary), run_id))


def test_a_task_of_two_types_gets_a_column_per_type_and_names_keep_their_underscores(saved, tmp_path, monkeypatch):
    # One column per task name showed the type of the oldest run and blanks for the others (a click made a
    # regression task had its RMSE nowhere); the weights chart read "w watch time" and "watch time rmse".
    _, _, result = saved
    store = RunStore(tmp_path)
    for weight in (1.0, 2.0):
        config = ExperimentConfig.from_dict(result.config.to_dict())
        config.tasks[3].weight = weight  # watch_time
        store.save(dataclasses.replace(result, config=config), name=f"watch {weight:g}")
    retyped = ExperimentConfig.from_dict(result.config.to_dict())
    retyped.tasks[0].type = "regression"
    metrics = {**result.metrics, "tasks": {**result.metrics["tasks"], "click": {"rmse": 0.4, "mae": 0.3}}}
    store.save(dataclasses.replace(result, config=retyped, metrics=metrics), name="click as regression")
    use_home(monkeypatch, tmp_path)
    at = open_app("pages/runs.py")

    frame = table(at).set_index("name")
    assert frame.loc["click as regression", "click rmse"] == pytest.approx(0.4)
    assert frame.loc["watch 1", "click auc"] == pytest.approx(result.metrics["tasks"]["click"]["auc"])
    assert frame[["click auc", "click rmse"]].isna().sum().tolist() == [1, 2]
    select(at, "watch 1", "watch 2")
    labels = [d["label"] for d in figure(at, "Loss weights")["data"][0]["dimensions"]]
    assert labels == ["watch_time weight", "click AUC", "like AUC", "purchase AUC", "watch_time RMSE"]

    # Compared, the two clicks are two tasks: one selector had mixed AUC with RMSE, and the curves overlaid a
    # regression's MSE on a log loss (an audit).
    select(at, "click as regression", "watch 1")
    assert at.selectbox(key="runs_metric_click (regression)").value == "rmse"
    assert at.selectbox(key="runs_metric_click (binary)").value == "auc"
    assert any("click: binary in some runs and regression in others" in c.value for c in at.caption)
    deltas = next(d.value for d in at.dataframe if "Δ like auc" in d.value.columns).set_index("run")
    assert deltas.loc["click as regression", "click (regression) rmse ↓"] == pytest.approx(0.4)
    # Δ from the oldest run that has the task: the regression click's run lacks the binary click
    first_with = deltas["click (binary) auc ↑"].first_valid_index()
    assert deltas.loc[first_with, "Δ click (binary) auc"] == 0.0
    at.selectbox(key="runs_curve_task").set_value("click (regression)").run()
    assert [t["name"] for t in figure(at, "by epoch")["data"]] == ["click as regression"]


def test_a_selected_run_deleted_elsewhere_is_named_and_its_downloads_say_why(saved, tmp_path, monkeypatch):
    # Deleted in another tab, it left the table and Manage without a word, and its download buttons did nothing.
    from conftest import a_run_to_delete

    store, run_id, drawn = a_run_to_delete(saved[2], tmp_path, monkeypatch)
    at = select(open_app("pages/runs.py"), "deleted elsewhere")
    assert set(drawn) >= {f"{run_id}_config.json", f"{run_id}_model.pt", f"{run_id}.zip"}

    # Still listed, one file gone (removed by hand): said so, not said to be deleted (a review).
    (store.runs_dir / run_id / "model.pt").unlink()
    note = drawn[f"{run_id}_model.pt"]().decode()
    assert note.startswith(f"model.pt of run {run_id} could not be read (") and "still in the lab" in note

    store.delete(run_id)  # another session
    for name in (f"{run_id}_config.json", f"{run_id}.zip"):
        assert drawn[name]().decode().startswith(f"Run {run_id} was deleted (on the Runs page, maybe in another tab")
    at.run()

    assert not at.exception
    assert [w.value for w in at.warning] == [
        f"Run “deleted elsewhere” ({run_id}) was deleted since you selected it (in another tab, or by another user)."
    ]
    assert set(table(at)["name"]) == {"kept"} and "Select a run" in at.info[-1].value
    at.run()
    assert not at.warning  # said once


def test_the_delta_table_shows_a_dash_where_a_run_lacks_a_task(saved, tmp_path, monkeypatch):
    # Its empty cells read "None", which looked like a value (an audit with nine runs, some without purchase).
    from streamlit import dataframe_util

    _, _, result = saved
    store = RunStore(tmp_path)
    store.save(result, name="every task")
    fewer = ExperimentConfig.from_dict(result.config.to_dict())
    fewer.tasks = [t for t in fewer.tasks if t.name != "purchase"]
    metrics = {**result.metrics, "tasks": {t: m for t, m in result.metrics["tasks"].items() if t != "purchase"}}
    store.save(dataclasses.replace(result, config=fewer, metrics=metrics), name="no purchase")
    use_home(monkeypatch, tmp_path)
    at = select(open_app("pages/runs.py"), "no purchase", "every task")

    [deltas] = [d for d in at.dataframe if "Δ purchase auc" in d.value.columns]
    shown = dataframe_util.convert_arrow_bytes_to_pandas_df(deltas.proto.arrow_data.styler.display_values).set_index(
        "run"
    )
    auc = result.metrics["tasks"]["purchase"]["auc"]
    assert shown.loc["no purchase", ["purchase auc ↑", "Δ purchase auc"]].tolist() == ["–", "–"]
    assert shown.loc["every task", ["purchase auc ↑", "Δ purchase auc"]].tolist() == [f"{auc:.4f}", "0.0000"]
    assert deltas.value.set_index("run").loc["every task", "purchase auc ↑"] == pytest.approx(auc)  # sorts as a number


def test_many_compared_runs_are_numbered_under_their_bars_and_in_the_table(saved, tmp_path, monkeypatch):
    # Nine runs' names under the bars were turned on end, cut and drawn over each other (an audit).
    from mtlrec import charts

    _, _, result = saved
    store = RunStore(tmp_path)
    names = [f"shared_bottom tiny · click={i}, like=1" for i in range(charts.NAMED_BARS + 1)]
    for name in reversed(names):  # newest first in the table
        store.save(result, name=name)
    use_home(monkeypatch, tmp_path)
    at = select(open_app("pages/runs.py"), *names)

    bars = figure(at, "Test metrics per run")
    assert bars["layout"]["xaxis"]["ticktext"] == ["1", "2", "3", "4", "5"]
    assert bars["layout"]["xaxis"]["tickangle"] == 0
    assert bars["data"][0]["x"] == names  # the hover names the run
    [deltas] = [d.value for d in at.dataframe if "Δ click auc" in d.value.columns]
    assert deltas[["#", "run"]].values.tolist() == [[i + 1, name] for i, name in enumerate(names)]


@pytest.mark.parametrize("page", ["pages/runs.py", "pages/results.py", "pages/recommend.py", "pages/sweep.py"])
def test_a_run_store_that_fails_while_the_server_runs_is_said_on_every_page(page, app, monkeypatch):
    # A full disk or a removed MTLREC_HOME: sqlite3's error filled every page with a traceback box (a fault audit).
    def broken(self):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(RunStore, "_connect", broken)
    at = open_app(page)

    assert not at.exception
    if page != "pages/sweep.py":  # which lists its sweeps from their folders, not the database
        said = [e.value for e in at.error]
        assert any("cannot be used (OperationalError: disk I/O error): free space on its disk" in e for e in said)


def test_weights_chart_leaves_out_single_task_and_adaptively_weighted_runs(saved, tmp_path, monkeypatch):
    # A single-task baseline (every weight 1, nothing shared) and a DWA run (weights moving while it trained) were
    # drawn as ordinary weight-1 lines beside the runs whose fixed weights the chart is about (a teaching audit).
    from mtlrec.config import WeightingConfig

    _, _, result = saved
    store = RunStore(tmp_path)
    for weight in (1.0, 2.0):
        config = ExperimentConfig.from_dict(result.config.to_dict())
        config.tasks[1].weight = weight
        store.save(dataclasses.replace(result, config=config), name=f"like {weight:g}")
    single = ExperimentConfig.from_dict(result.config.to_dict())
    single.model.kind = "single_task"
    store.save(dataclasses.replace(result, config=single), name="baseline")
    adaptive = ExperimentConfig.from_dict(result.config.to_dict())
    adaptive.weighting = WeightingConfig(method="dwa")
    store.save(dataclasses.replace(result, config=adaptive), name="dwa")
    use_home(monkeypatch, tmp_path)
    at = open_app("pages/runs.py")

    lines = figure(at, "Loss weights")
    like = next(d for d in lines["data"][0]["dimensions"] if d["label"] == "like weight")
    assert sorted(numbers(like["values"])) == [1.0, 2.0]
    assert any(
        "2 of 4 (2 single-task or adaptively weighted, whose weights are not fixed loss weights left out)" in c.value
        for c in at.caption
    )


def test_the_validation_cards_caption_says_which_epoch_they_show():
    from ui.runs import kept_caption

    assert kept_caption({"click": 3, "like": 3}, kept=False) == "Validation metrics of epoch 3, the last so far."
    assert kept_caption({"click": 2, "like": 2}, kept=True) == "Validation metrics of epoch 2, whose model was kept."
    assert kept_caption({"click": 4, "watch_time": 1}, kept=True) == (
        "Validation metrics of the epoch each network was kept at: click 4, watch_time 1."
    )  # a single-task baseline: each network at its own epoch


def test_a_task_a_run_did_not_train_is_left_out_of_the_comparison_and_said_so(saved, tmp_path, monkeypatch):
    # An untrained tower's like AUC of 0.47 was a bar and a Δ of +0.27 beside trained runs (a browser walk)
    from streamlit import dataframe_util

    _, _, result = saved
    store = RunStore(tmp_path)
    store.save(result, name="every task")
    idle = ExperimentConfig.from_dict(result.config.to_dict())
    next(t for t in idle.tasks if t.name == "like").weight = 0.0
    store.save(dataclasses.replace(result, config=idle), name="like at 0")
    use_home(monkeypatch, tmp_path)
    at = select(open_app("pages/runs.py"), "like at 0", "every task")

    [deltas] = [d for d in at.dataframe if "Δ like auc" in d.value.columns]
    shown = dataframe_util.convert_arrow_bytes_to_pandas_df(deltas.proto.arrow_data.styler.display_values)
    shown = shown.set_index("run")
    assert shown.loc["like at 0", ["like auc ↑", "Δ like auc"]].tolist() == ["–", "–"]
    # No Δ, no ±: the paired noise beside a blank Δ read as the untrained tower's (a browser walk)
    assert "± like auc" not in shown.columns  # the only run with a like Δ is its base: no ± column left
    # a trained task keeps its noise (same predictions), beside the oldest run, the base
    assert shown.loc["like at 0", "± click auc"] == "±0.0000" and shown.loc["every task", "± click auc"] == "–"
    assert shown.loc["every task", "like auc ↑"] == f"{result.metrics['tasks']['like']['auc']:.4f}"
    assert "None" not in shown.to_numpy().astype(str) and deltas.proto.placeholder == "–"  # the grid's "None"
    bars = figure(at, "Test metrics per run")
    like = next(trace for trace in bars["data"] if trace["name"] == "like")
    assert like["y"][0] is None or numbers(like["y"])[0] != numbers(like["y"])[0]  # no bar for the untrained tower
    assert any("like at 0's like, trained with loss weight 0" in c.value for c in at.caption)
    # ... and in the list of runs: no like AUC for the run that did not train it
    listed = next(d.value for d in at.dataframe if "status" in d.value.columns).set_index("name")
    assert pd.isna(listed.loc["like at 0", "like auc"]) and listed.loc["like at 0", "click auc"] > 0
    assert listed.loc["every task", "like auc"] == pytest.approx(result.metrics["tasks"]["like"]["auc"])
    # The weights → metrics lines keep it, and their caption says what it is (a browser walk read it as a result)
    assert any("At loss weight 0 a task's metric is its untrained tower's (like)" in c.value for c in at.caption)
    # Every run at like 0 (no like weight axis, its metric axis drawn all the same): said too (a review)
    heavier = ExperimentConfig.from_dict(idle.to_dict())
    next(t for t in heavier.tasks if t.name == "click").weight = 2.0
    store.save(dataclasses.replace(result, config=heavier), name="like at 0, click 2")
    at = select(open_app("pages/runs.py"), "like at 0", "like at 0, click 2")
    assert any("At loss weight 0 a task's metric is its untrained tower's (like)" in c.value for c in at.caption)


def test_a_run_saved_before_its_untrained_tasks_were_kept_reads_them_from_its_weights():
    from mtlrec.runs import summary_of, summary_untrained

    config = ExperimentConfig.from_dict({"tasks": [{"name": "click"}, {"name": "buy", "weight": 0.0}]})
    assert summary_untrained(summary_of(config, {})) == {"buy"}
    old = {"model": "shared_bottom", "weights": {"click": 1.0, "buy": 0.0}}  # no "untrained" kept
    assert summary_untrained(old) == {"buy"}
    assert summary_untrained({**old, "model": "esmm"}) == set()  # a parent may train through its child: unknown
    assert summary_untrained({**old, "untrained": []}) == set()
