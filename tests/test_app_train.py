"""Train page (AppTest): task and model controls, shareable links, live training, Stop, and the limits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import edit_schema, figure, numbers, open_app, until, upload, with_sample
from streamlit.testing.v1 import AppTest

import mtlrec.jobs
from mtlrec import charts, fmt
from mtlrec.config import SIZE_PRESETS, ExperimentConfig, TaskSpec
from mtlrec.runs import RunStore
from mtlrec.sample import SAMPLES
from ui import state

PAGE = "pages/train.py"
TASKS = ["click", "like", "purchase", "watch_time"]
FAST = {"data": "synthetic", "size": "tiny", "epochs": "2", "patience": "0", "bs": "256", "lr": "0.01"}
LONG = {**FAST, "epochs": "100"}  # ends only because it is stopped


def weights(at: AppTest) -> dict[str, float]:
    """The loss-weight sliders shown, by task."""
    prefix = "train_task_weight_"
    return {s.key[len(prefix) :]: s.value for s in at.slider if s.key and s.key.startswith(prefix)}


def runs(home: Path) -> list[dict]:
    return RunStore(home).list()


def test_without_a_dataset_the_page_points_to_data(home):
    at = open_app(PAGE)
    assert "Load a dataset first" in at.info[0].value
    assert at.get("page_link")[-1].proto.page.endswith("data")
    assert not [b for b in at.button if b.key == "train_start"]


def test_task_controls_and_size_presets_with_their_parameter_counts(home):
    at = with_sample(PAGE)
    assert at.multiselect(key="train_tasks_widget").value == TASKS
    assert {t: at.selectbox(key=f"train_task_type_{t}").value for t in TASKS} == {
        "click": "binary",
        "like": "binary",
        "purchase": "binary",
        "watch_time": "regression",
    }
    assert weights(at) == dict.fromkeys(TASKS, 1.0)
    assert at.checkbox(key="train_task_log1p_watch_time").value is True  # only the regression task has one
    assert not [c for c in at.checkbox if c.key and c.key.startswith("train_task_log1p_click")]
    size = at.radio(key="train_size")
    assert len(size.options) == len(SIZE_PRESETS)
    for option, preset in zip(size.options, SIZE_PRESETS, strict=True):
        assert option.startswith(f"{preset} · ") and " params · ~" in option
    assert len(set(size.options)) == len(size.options)
    shares = figure(at, "Where the parameters are")
    assert [trace["name"] for trace in shares["data"]] == ["embeddings", "shared layers", "task-specific"]
    totals = np.sum([numbers(trace["x"]) for trace in shares["data"]], axis=0)
    np.testing.assert_allclose(totals, 100.0)  # one bar per preset, each split into its parts
    assert len(totals) == len(SIZE_PRESETS)


def test_cross_layers_add_shared_parameters_reach_the_link_and_the_run(home):
    at = with_sample(PAGE)
    assert at.slider(key="train_cross").value == 0
    before = figure(at, "Where the parameters are")
    at.radio(key="train_size").set_value("tiny")
    at.slider(key="train_cross").set_value(2).run()
    assert not at.exception
    assert at.query_params["cross"] == "2"
    after = figure(at, "Where the parameters are")
    shared = [numbers(f["data"][1]["x"]) for f in (before, after)]  # the shared layers' share, per preset
    assert all(b < a for b, a in zip(*shared, strict=True))  # the cross layers are shared by every task
    at.button(key="train_start").click().run()
    until(at, lambda at: bool(at.success))
    (run,) = runs(home)
    assert RunStore(home).load(run["id"]).config.model.cross == 2


def test_settings_survive_a_visit_to_another_page_and_the_url_mirrors_them(home):
    at = with_sample(PAGE)
    at.slider(key="train_task_weight_like").set_value(3.0)
    at.radio(key="train_size").set_value("tiny")
    at.multiselect(key="train_tasks_widget").set_value(["click", "like", "watch_time"]).run()
    assert not at.exception
    assert at.query_params["tasks"] == "click:binary:1,like:binary:3,watch_time:regression:1:log1p"
    assert at.query_params["size"] == "tiny" and at.query_params["data"] == "synthetic"

    at.switch_page("pages/data.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.radio(key="train_size").value == "tiny"
    assert weights(at) == {"click": 1.0, "like": 3.0, "watch_time": 1.0}
    assert at.multiselect(key="train_tasks_widget").value == ["click", "like", "watch_time"]
    assert at.query_params["tasks"] == "click:binary:1,like:binary:3,watch_time:regression:1:log1p"


def labelled_csv(*labels: str, rows: int = 60) -> bytes:
    """A small upload with these 0/1 label columns (and a 0/1 `seen` column, a feature until marked a label)."""
    frame = pd.DataFrame(
        {"user_id": [f"u{i % 7}" for i in range(rows)], "item_id": [f"i{i % 11}" for i in range(rows)]}
    )
    frame["price"] = [1.0 + i % 5 for i in range(rows)]
    for j, label in enumerate(labels):
        frame[label] = [int((i + j) % 3 == 0) for i in range(rows)]
    frame["seen"] = [i % 2 for i in range(rows)]
    return frame.to_csv(index=False).encode()


def tasks_offered(at: AppTest) -> tuple[list[str], list[str]]:
    widget = at.multiselect(key="train_tasks_widget")
    return widget.value, list(widget.options)


def test_a_new_dataset_starts_with_all_its_labels_chosen(home):
    # The choice made for the first file was kept, filtered by name: Train held only click of the second file's
    # three tasks (the Data page said three), and trained one.
    at = upload(open_app("pages/data.py"), "first.csv", labelled_csv("click", "promo_click"))
    at.switch_page(PAGE).run()
    assert tasks_offered(at) == (["click", "promo_click"], ["click", "promo_click"])
    at.switch_page("pages/data.py").run()
    upload(at, "second.csv", labelled_csv("click", "purchase", "conversion"))
    at.switch_page(PAGE).run()
    assert not at.exception
    assert tasks_offered(at) == (["click", "purchase", "conversion"],) * 2
    assert at.query_params["tasks"].count(":binary:") == 3


def test_a_label_marked_on_data_is_chosen_and_a_task_unticked_stays_unticked(home):
    at = upload(open_app("pages/data.py"), "shop.csv", labelled_csv("click", "like", "purchase"))
    at.switch_page(PAGE).run()
    at.multiselect(key="train_tasks_widget").set_value(["click", "purchase"]).run()
    at.switch_page("pages/data.py").run()
    edit_schema(at, {"seen": {"role": "label", "task type": "binary"}})
    at.switch_page(PAGE).run()
    assert not at.exception
    assert tasks_offered(at) == (["click", "purchase", "seen"], ["click", "like", "purchase", "seen"])


def test_settings_outside_the_controls_ranges_are_moved_into_them_with_a_note(home):
    def beyond(config):
        config.train.epochs, config.model.dropout, config.tasks[0].weight = 200, 0.9, 7.0

    at = with_sample(PAGE, beyond)
    assert (at.slider(key="train_epochs").value, at.slider(key="train_dropout").value) == (100, 0.8)
    assert weights(at)["click"] == 5.0
    assert [i.value for i in at.info] == [
        "weight of click: 7 is outside this page's range (0 to 5), so it is set to 5.",
        "Dropout: 0.9 is outside this page's range (0 to 0.8), so it is set to 0.8.",
        "Epochs (at most): 200 is outside this page's range (1 to 100), so it is set to 100.",
    ]
    saved = ExperimentConfig.from_dict(at.session_state[state.EXPERIMENT])
    assert (saved.train.epochs, saved.model.dropout, saved.tasks[0].weight) == (100, 0.8, 5.0)
    at.run()
    assert not at.info  # said once


def test_a_shared_link_loads_the_sample_and_prefills_the_page(home):
    query = {"data": "synthetic", "tasks": "click:binary:2,purchase:binary:0.5", "size": "tiny", "epochs": "3"}
    at = open_app(PAGE, query={**query, "lr": "abc"})
    assert at.session_state[state.DATASET]["name"] == SAMPLES["synthetic"]["title"]
    assert SAMPLES["synthetic"]["title"] in at.sidebar.markdown[0].value  # the frame shows the loaded dataset
    assert at.multiselect(key="train_tasks_widget").value == ["click", "purchase"]
    assert weights(at) == {"click": 2.0, "purchase": 0.5}
    assert at.radio(key="train_size").value == "tiny"
    assert at.slider(key="train_epochs").value == 3
    assert [w.value for w in at.warning] == ["link setting lr='abc' is not valid and was ignored"]
    assert at.number_input(key="train_lr").value == pytest.approx(0.002)
    # The address bar now holds the page's settings, the bad value replaced.
    assert at.query_params["tasks"] == "click:binary:2,purchase:binary:0.5"
    assert at.query_params["lr"] == "0.002" and at.query_params["epochs"] == "3"
    at.run()  # the page's own mirror is not applied again
    assert not at.warning


def test_a_link_naming_an_unknown_sample_explains_itself(home):
    at = open_app(PAGE, query={"data": "nonesuch", "size": "tiny"})
    assert "unknown sample 'nonesuch'" in at.error[0].value
    assert "Load a dataset first" in at.info[0].value


def test_a_link_to_a_generated_world_generates_it_and_the_page_links_back_to_it(home):
    at = open_app(PAGE, query={"data": "world:-0.8:20000:3", "size": "tiny"})
    assert not at.exception and not at.error
    assert at.session_state[state.DATASET]["name"] == "Synthetic world (task correlation -0.8, 20,000 rows, seed 3)"
    assert at.radio(key="train_size").value == "tiny"
    assert at.query_params["data"] == "world:-0.8:20000:3"  # the page's own link carries the recipe
    bad = open_app(PAGE, query={"data": "world:-0.8:12345:0"})
    assert "a synthetic world has 20,000, 50,000, 100,000, 200,000 rows, not 12,345" in bad.error[0].value
    negative = open_app(PAGE, query={"data": "world:0.5:20000:-1"})
    assert not negative.exception and "seed must be >= 0, got -1" in negative.error[0].value
    assert not list((home / "datasets").glob("*.tmp-*"))  # nothing half-written left behind


def test_a_link_without_data_over_an_uploaded_dataset_keeps_it_and_applies_the_settings(home, samples):
    at = open_app()
    upload = pd.read_parquet(samples / "synthetic.parquet").head(500).to_csv(index=False).encode()
    at.file_uploader(key="home_upload").set_value(("log.csv", upload, "text/csv")).run()
    at.query_params.update({"size": "medium", "tasks": "like:binary:4"})
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.session_state[state.DATASET]["name"] == "log.csv"
    assert at.radio(key="train_size").value == "medium"
    assert weights(at) == {"like": 4.0}
    assert "data" not in at.query_params  # an upload cannot travel in a link


def test_a_link_to_an_uploaded_file_opened_without_data_waits_and_applies_once_the_file_is_loaded(home, samples):
    # The recipient of a link made on an uploaded file: before, it said only "Load a dataset first", and after the
    # upload the page wrote its defaults over the link.
    at = open_app(PAGE, query={"size": "medium", "tasks": "like:binary:4,purchase:binary:2", "epochs": "7"})
    assert not at.exception
    [waiting] = [i.value for i in at.info if i.value.startswith("This link holds")]
    assert waiting.startswith("This link holds Train settings for the tasks like, purchase. Load the file")
    at.query_params.clear()  # a real browser's address loses the query on the way to Data
    at.switch_page("pages/data.py").run()
    upload = pd.read_parquet(samples / "synthetic.parquet").head(500).to_csv(index=False).encode()
    at.file_uploader(key="data_upload").set_value(("log.csv", upload, "text/csv")).run()
    at.switch_page(PAGE).run()

    assert not at.exception
    assert at.radio(key="train_size").value == "medium"
    assert weights(at) == {"like": 4.0, "purchase": 2.0}
    assert at.slider(key="train_epochs").value == 7
    assert at.query_params["size"] == "medium"  # the page's address now holds the applied settings
    at.run()
    assert at.radio(key="train_size").value == "medium"  # applied once: later runs keep the user's choices


def test_a_stale_address_from_before_the_pages_own_mirror_is_not_applied_and_keeps_the_train_click(home):
    """A rerun can carry the address from before the previous run's mirror reached the browser: that address is the
    page's own, not a new link. Applying it reverted the change just made and swallowed a Train click."""
    at = open_app(PAGE, query=FAST)
    first = dict(at.query_params)  # the address the page wrote for the link's settings
    at.slider(key="train_epochs").set_value(3).run()
    second = dict(at.query_params)
    assert second["epochs"] == "3"

    def stale(address: dict) -> None:
        at.query_params.clear()
        at.query_params.update(address)

    stale(first)  # still the address before the epochs change
    at.selectbox(key="train_split").set_value("time").run()
    assert not at.exception and not at.warning
    assert at.slider(key="train_epochs").value == 3  # not reverted to the stale address's 2
    assert at.selectbox(key="train_split").value == "time"
    assert (at.query_params["epochs"], at.query_params["split"]) == ("3", "time")

    stale(second)  # the address before the split change
    at.button(key="train_start").click().run()
    assert not at.exception
    until(at, lambda at: bool(at.success))  # the click started a run
    (run,) = runs(home)
    config = RunStore(home).load(run["id"]).config
    assert (config.train.epochs, config.split.method) == (3, "time")


def test_training_runs_live_and_ends_with_results(home):
    at = open_app(PAGE, query={**FAST, "precision": "bf16"})
    assert at.selectbox(key="train_precision").value == "bf16"  # the link's precision reached the control
    at.button(key="train_start").click().run()
    assert not at.exception
    assert not at.error
    until(at, lambda at: bool(at.success))
    assert "finished" in at.success[0].value
    (run,) = runs(home)
    assert run["status"] == "finished" and run["id"] in at.success[0].value
    assert run["summary"]["size"] == "tiny" and run["summary"]["epochs_run"] == 2
    assert RunStore(home).load(run["id"]).metrics["precision"] == "bf16"

    chart = figure(at, "Loss while training")  # the live chart, now final
    names = sorted(trace["name"] for trace in chart["data"])  # per task: train loss, validation loss
    assert names == sorted(f"{task} {part}" for task in TASKS for part in ("train", "validation"))
    cards = {m.label: m.value for m in at.metric}
    best = RunStore(home).load(run["id"]).metrics["best_epoch"]
    assert list(cards) == [
        "click validation AUC", "like validation AUC", "purchase validation AUC", "watch_time validation RMSE"
    ]  # fmt: skip
    # the epoch whose model was kept, not the last one's (they differ after a plateau), said once below the cards
    assert f"Validation metrics of epoch {best}, whose model was kept." in [c.value for c in at.caption]
    assert all(value not in ("", "–", "nan") for value in cards.values())
    assert f"`{run['id']}`" in "\n".join(c.value for c in at.sidebar.caption)
    assert at.button(key="train_start").disabled is False  # the job is over: another may start

    next(b for b in at.button if b.label == "Open results").click().run()
    assert not at.exception
    assert at.title[0].value == "Results"
    assert at.session_state[state.RESULTS_RUN] == run["id"]


def test_tasks_given_back_join_the_choice_in_the_datasets_order_and_colours_follow_the_ticked_tasks(home):
    # A task given back by removing a label's fix came last in the box while the rows below kept the dataset's
    # order; and the rows' colours came from every task while the run's charts colour its own (a browser walk)
    at = with_sample("pages/data.py")
    at.session_state["train_tasks_active"] = ["click", "watch_time"]
    at.session_state["train_tasks_offered"] = ["click", "watch_time"]  # like and purchase: new since
    at.switch_page(PAGE).run()
    assert at.multiselect(key="train_tasks_widget").value == ["click", "like", "purchase", "watch_time"]
    at.multiselect(key="train_tasks_widget").set_value(["click", "purchase", "watch_time"]).run()
    colours = charts.task_colors([TaskSpec("click"), TaskSpec("purchase"), TaskSpec("watch_time")])
    rows = [m.value for m in at.markdown if "■" in m.value]
    assert [colours[name] in row for name, row in zip(colours, rows, strict=True)] == [True, True, True]


def test_the_tasks_unticked_on_train_stay_unticked_after_a_reload_on_another_page(home):
    # Unticked tasks came back ticked after a reload on Results (a browser walk): the choice was the page's alone
    at = open_app(PAGE, query=FAST)
    at.multiselect(key="train_tasks_widget").set_value(["click", "like"]).run()
    at.switch_page("pages/results.py").run()
    workspace = {key: at.session_state[key] for key in state.WORKSPACE_KEYS if key in at.session_state}

    reloaded = open_app(PAGE, session=workspace)

    assert not reloaded.exception
    assert reloaded.multiselect(key="train_tasks_widget").value == ["click", "like"]


def test_a_reload_shows_the_finished_runs_panel_and_says_when_the_settings_changed_since(home):
    # A reload brought the dataset and the settings back, but not the finished run's panel: the job (only a
    # running one is kept for a new session) was gone, and the panel was drawn from it alone (an audit).
    at = open_app(PAGE, query=FAST)
    at.button(key="train_start").click().run()
    until(at, lambda at: bool(at.success))
    before = {m.label: m.value for m in at.metric}
    assert not [c for c in at.caption if c.value.startswith("Last run")]  # the settings it was trained with
    workspace = {key: at.session_state[key] for key in state.WORKSPACE_KEYS if key in at.session_state}

    reloaded = open_app(PAGE, session=workspace)  # a new session: what keep_workspace kept comes back

    (run,) = runs(home)
    assert len(reloaded.success) == 1
    assert reloaded.success[0].value.startswith(f"Run `{run['id']}` finished after ")
    # The job's time, which Results' shorter training time did not seem to be: the panel says what it holds
    assert reloaded.success[0].value.endswith(", reading the data and testing included.")
    assert {m.label: m.value for m in reloaded.metric} == before  # the last epoch's validation metrics
    chart = figure(reloaded, "Loss while training")
    assert sorted(t["name"] for t in chart["data"]) == sorted(
        f"{t} {p}" for t in TASKS for p in ("train", "validation")
    )
    assert not [c for c in reloaded.caption if c.value.startswith("Last run")]
    assert {"Open results", "Recommend"} <= {b.label for b in reloaded.button}
    # Another weight: the panel is the previous run's, and says so.
    reloaded.slider(key="train_task_weight_like").set_value(3.0).run()
    assert [c.value for c in reloaded.caption if c.value.startswith("Last run")] == [
        "Last run — trained with other settings than those above: its losses and metrics are not the new "
        "settings'. Press Train to train them."
    ]
    next(b for b in reloaded.button if b.label == "Open results").click().run()
    assert reloaded.title[0].value == "Results" and reloaded.session_state[state.RESULTS_RUN] == run["id"]


def test_the_panel_of_a_run_trained_with_other_settings_says_so(home):
    at = open_app(PAGE, query=FAST)
    at.button(key="train_start").click().run()
    until(at, lambda at: bool(at.success))
    at.slider(key="train_task_weight_click").set_value(2.0).run()
    assert any(c.value.startswith("Last run — trained with other settings") for c in at.caption)
    at.slider(key="train_task_weight_click").set_value(1.0).run()
    assert not any(c.value.startswith("Last run") for c in at.caption)


def test_the_panel_of_a_run_on_another_data_file_says_so(home):
    # After loading another file, the panel showed the last run's losses and notes with no word that they were
    # another dataset's ("other settings" at best; a browser audit).
    at = open_app(PAGE, query=FAST)
    at.button(key="train_start").click().run()
    until(at, lambda at: any("finished after" in s.value for s in at.success))
    at.query_params.clear()  # a browser leaving Train leaves its link behind; AppTest keeps it
    at.switch_page("pages/data.py").run()
    upload(at, "shop.csv", labelled_csv("click", "like"))
    at.switch_page(PAGE).run()
    assert not at.exception and at.session_state["dataset"]["name"] == "shop.csv"
    assert [c.value for c in at.caption if c.value.startswith("Last run")] == [
        "Last run — trained on another data file (sample\\:synthetic): its losses and metrics are not this dataset's."
    ]


def test_stop_ends_a_long_run_and_one_job_per_session(home):
    at = open_app(PAGE, query=LONG)
    at.button(key="train_start").click().run()
    assert not at.exception
    # The click's own run already draws the live chart: it waits (up to a second) for the first batch's point.
    assert figure(at, "Loss while training")["data"]
    # The same run swapped the Train button for a disabled one (no second drawing of the page); so does every later run.
    for busy in (at.button(key="train_start_busy"), at.run().button(key="train_start")):
        assert busy.disabled is True  # one job per session
        assert "One training job per session" in (busy.help or "")
    assert not [b for b in at.button if b.key == "train_start_busy"]  # the swap is for the click's run only
    (run,) = runs(home)
    assert run["status"] == "running"
    at.button(key="train_stop").click().run()
    until(at, lambda at: any("stopped" in w.value for w in at.warning))
    assert run["id"] in at.warning[0].value
    assert RunStore(home).get(run["id"])["status"] == "stopped"
    assert at.button(key="train_start").disabled is False
    # The bar stays where the run stopped (it filled up: "Epoch 50/100" beside a full bar, a browser audit)
    [bar] = at.get("progress")
    epoch = int(bar.proto.text.split("/")[0].removeprefix("Epoch "))
    assert bar.proto.value < 100 and epoch < 100 and bar.proto.text.endswith(" s")


def test_a_validation_problem_stops_training_before_it_starts(home):
    # Early stopping watches 'like', but 'like' is not among the tasks to train.
    at = open_app(PAGE, query={**FAST, "tasks": "click:binary:1", "monitor": "like:auc"})
    assert at.selectbox(key="train_monitor").value == "like:auc"
    at.button(key="train_start").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("Training cannot start:")
    assert "monitor 'like:auc'" in at.error[0].value
    assert runs(home) == []
    assert not [b for b in at.button if b.key == "train_stop"]


def test_a_device_without_a_gpu_or_a_model_too_large_for_memory_starts_nothing(home, monkeypatch):
    # An app audit: device cuda on a machine without a GPU, and layer widths of 65,536 (321 GB, as the page's own
    # caption said), started runs that failed at once and were saved as failed runs.
    import torch

    import mtlrec.resources

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    at = open_app(PAGE, query={**FAST, "tasks": "click:binary:1"})
    at.selectbox(key="train_device").set_value("cuda").run()
    at.button(key="train_start").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("Training cannot start:")
    assert "no CUDA GPU is available here: choose 'auto' or 'cpu'" in at.error[0].value
    assert runs(home) == []

    at.selectbox(key="train_device").set_value("cpu").run()
    monkeypatch.setattr(mtlrec.resources, "available_memory", lambda: 10**6)  # 1 MB free
    at.button(key="train_start").click().run()
    assert "of memory is free: turn off the task-conflict diagnostics (Train's" in at.error[0].value  # 1 MB
    assert "choose a smaller size preset, embedding size or layer widths" in at.error[0].value
    assert runs(home) == []


def test_a_constant_label_in_the_data_is_a_validation_problem(home):
    at = open_app(PAGE, query={**FAST, "tasks": "click:binary:1"})
    frame = at.session_state[state.FRAME].copy()
    frame["click"] = 0
    at.session_state[state.FRAME] = frame
    at.button(key="train_start").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("Training cannot start:")
    assert "column 'click' (task) has the same value (0) in every row" in at.error[0].value
    assert runs(home) == []


def test_at_the_servers_job_cap_train_explains_and_starts_nothing(home):
    limiter = mtlrec.jobs.DEFAULT_LIMITER
    at = open_app(PAGE, query=FAST)
    for _ in range(limiter.max_jobs):  # other sessions are training
        limiter.acquire()
    try:
        at.button(key="train_start").click().run()
    finally:
        for _ in range(limiter.max_jobs):
            limiter.release()
    assert not at.exception
    assert f"already training {limiter.max_jobs} model(s), its limit" in at.error[0].value
    assert runs(home) == []
    assert at.button(key="train_start").disabled is False


def test_a_new_dataset_that_cannot_keep_the_time_split_says_so_on_train(home, samples):
    # The split moved to random without a word when the new file had no time column.
    def by_time(config: ExperimentConfig) -> None:
        config.split.method = "time"

    at = with_sample("pages/data.py", by_time)
    frame = pd.read_parquet(samples / "synthetic.parquet").drop(columns=["timestamp"]).head(2000)
    at.file_uploader(key="data_upload").set_value(("no time.csv", frame.to_csv(index=False).encode(), "text/csv"))
    at.run()
    at.switch_page(PAGE)
    at.run()

    assert not at.exception
    assert ExperimentConfig.from_dict(at.session_state["experiment"]).split.method == "random"
    assert [i.value for i in at.info if "time split" in i.value] == [
        "no time.csv: the time split needs a time column: training will use the random split."
    ]
    at.run()
    assert not [i for i in at.info if "time split" in i.value]  # shown once


def test_results_and_recommend_show_the_run_trained_last_not_the_one_opened_before(home):
    # After a second training, the sidebar's Results kept showing the first run (only "Open results" switched).
    at = open_app(PAGE, query=FAST)
    ids = []
    for _ in range(2):
        at.button(key="train_start").click().run()
        until(at, lambda at: bool(at.success))
        ids.append(at.session_state[state.RESULTS_RUN])
        for page in ("pages/results.py", "pages/recommend.py"):
            at.switch_page(page).run()
            assert not at.exception
            assert at.selectbox(key="results_run" if page.endswith("results.py") else "recommend_run").value == ids[-1]
        at.switch_page(PAGE).run()
    assert ids[0] != ids[1] and {r["id"] for r in runs(home)} == set(ids)


def test_results_opened_while_a_run_trains_shows_that_run_once_it_ends(home):
    # Results, visited during the training, fell back to the previous run and kept it after the new one ended.
    at = open_app(PAGE, query=FAST)
    at.button(key="train_start").click().run()
    until(at, lambda at: bool(at.success))
    at.slider(key="train_epochs").set_value(100).run()
    at.button(key="train_start").click().run()
    training = at.session_state[state.RESULTS_RUN]
    at.switch_page("pages/results.py").run()
    assert any(i.value.endswith("so the newest run that can be is shown until it ends.") for i in at.info)
    assert at.selectbox(key="results_run").value != training
    at.switch_page(PAGE).run()
    at.button(key="train_stop").click().run()
    until(at, lambda at: any("stopped" in w.value for w in at.warning))
    at.switch_page("pages/results.py").run()
    assert at.selectbox(key="results_run").value == training


def test_a_waiting_link_is_not_applied_to_a_dataset_without_its_tasks(home):
    # Loading the bundled sample after opening a link made on another file gave the sample the link's settings.
    at = open_app(PAGE, query={"size": "medium", "tasks": "income_50k:binary:3", "epochs": "7"})
    assert any(i.value.startswith("This link holds Train settings for the tasks income_50k.") for i in at.info)
    at.query_params.clear()
    at.switch_page("pages/data.py").run()
    at.button(key="data_sample_synthetic").click().run()
    at.switch_page(PAGE).run()

    assert not at.exception
    assert [i.value for i in at.info if "shared link" in i.value] == [
        "The shared link's settings (for the tasks income_50k) were not applied: this dataset has none of those "
        "label columns. Open the link again once the file it was made on is loaded."
    ]
    assert at.radio(key="train_size").value != "medium" and at.slider(key="train_epochs").value != 7


@pytest.mark.parametrize(
    ("bottom", "error"),
    [
        ("64;32", "Shared layers: '64;32' is not whole numbers separated by commas, e.g. 256,128"),
        ("0", "Shared layers: every width must be at least 1, got 0"),
        ("99999999999999999999", "Shared layers: a width of at most 65,536 per layer, got 99,999,999,999,999,999,999"),
    ],
)
def test_layer_widths_that_cannot_be_used_block_training_and_a_valid_field_is_kept(home, bottom, error):
    # Train stayed enabled and trained the preset's widths, dropping the valid tower width too.
    at = open_app(PAGE, query=FAST)
    at.text_input(key="train_tower").input("4").run()
    at.text_input(key="train_bottom").input(bottom).run()

    assert error in [e.value for e in at.error]
    assert at.button(key="train_start").disabled
    assert ExperimentConfig.from_dict(at.session_state["experiment"]).model.tower == [4]
    at.text_input(key="train_bottom").input("16,8").run()
    assert not at.error and not at.button(key="train_start").disabled
    assert ExperimentConfig.from_dict(at.session_state["experiment"]).model.bottom == [16, 8]
    # The preset labels count the presets' own widths: a caption says what the custom widths make.
    [custom] = [c.value for c in at.caption if c.value.startswith("With the advanced settings'")]
    assert custom.startswith("With the advanced settings' embedding size and layer widths, tiny has ")


def test_without_a_dataset_the_page_still_shows_the_browsers_running_job_and_its_stop(home):
    # A reload that could not bring the dataset back (no cookie, file gone) showed only "Load a dataset first":
    # no progress and no Stop for the job still training.
    at = open_app(PAGE, query=LONG)
    at.button(key="train_start").click().run()
    (run,) = runs(home)
    for key in (state.DATASET, state.FRAME):
        del at.session_state[key]
    at.run()
    assert not at.exception
    assert "Load a dataset first" in at.info[0].value
    at.button(key="train_stop").click().run()
    until(at, lambda at: any("stopped" in w.value for w in at.warning))
    assert RunStore(home).get(run["id"])["status"] == "stopped"


def test_an_uploaded_files_name_is_shown_as_given_on_results_and_runs(home):
    # The copy kept has a safe file name (Mein_Export_M_rz_2024_.csv): Results and Runs showed that one, not the
    # name Data and the sidebar showed; the same bytes under another name are the same data.
    name = "Mein Export (März 2024).csv"
    at = upload(open_app("pages/data.py"), name, labelled_csv("click", "purchase", rows=400))
    config = ExperimentConfig.from_dict(at.session_state[state.EXPERIMENT])
    config.model.size, config.train.epochs, config.train.patience = "tiny", 1, 0
    at.session_state[state.EXPERIMENT] = config.to_dict()
    at.switch_page(PAGE).run()
    at.button(key="train_start").click().run()
    until(at, lambda at: bool(at.success))
    (run,) = runs(home)
    assert run["summary"]["data"] == name
    saved = RunStore(home).load(run["id"])
    assert saved.config.data.name == name and Path(saved.config.data.path).name == "Mein_Export_M_rz_2024_.csv"
    at.switch_page("pages/results.py").run()
    assert not at.exception
    assert any(f"data {name} ·" in m.value for m in at.markdown)
    at.switch_page("pages/runs.py").run()
    assert not at.exception
    assert list(at.dataframe(key=at.session_state["runs_table_key"]).value["data"]) == [name]

    from mtlrec.runs import data_groups, summary_of

    copy = ExperimentConfig.from_dict(saved.config.to_dict())
    copy.data.name = "copy.csv"
    again = summary_of(copy, saved.metrics)
    assert again["data"] == "copy.csv" and again["data_key"] == run["summary"]["data_key"]
    assert data_groups([(again["data_key"], "copy.csv"), (run["summary"]["data_key"], name)]) == [{"copy.csv", name}]


def test_a_run_deleted_in_another_tab_leaves_no_buttons_and_says_so(home):
    # The panel and the sidebar kept a deleted run's "finished" with working buttons, whose pages then said only
    # "no run yet" (an audit).
    at = open_app(PAGE, query=FAST)
    at.button(key="train_start").click().run()
    until(at, lambda at: bool(at.success))
    (run,) = runs(home)
    RunStore(home).delete(run["id"])  # as the Runs page's Delete, in another tab
    at.run()
    assert not at.exception
    assert f"Run `{run['id']}` no longer exists (it was deleted on **Runs**)." in [i.value for i in at.info]
    assert not {"Open results", "Recommend"} & {b.label for b in at.button}
    assert any("deleted since" in c.value for c in at.sidebar.caption)
    at.switch_page("pages/results.py").run()
    assert not at.exception
    assert any(
        f"Run `{run['id']}` is not in this lab (deleted, or its id was cut short or mistyped)" in i.value
        for i in at.info
    )


def test_recommend_is_not_offered_for_a_run_without_an_evaluated_model(home):
    # A run stopped before its first epoch ended has no model: Runs disabled its Recommend, Train's panel did not.
    at = open_app(PAGE, query=FAST)
    at.button(key="train_start").click().run()
    until(at, lambda at: bool(at.success))
    (run,) = runs(home)
    (RunStore(home).folder(run["id"]) / "model.pt").unlink()
    at.run()
    recommend = next(b for b in at.button if b.label == "Recommend")
    assert recommend.disabled is True and recommend.help.startswith("This run has no evaluated model: ")
    assert next(b for b in at.button if b.label == "Open results").disabled is False


def test_a_user_splits_preset_counts_the_parameters_the_run_will_train(home):
    # Counted over the whole file, a user split's held-out users had embedding rows on the page but not in the model
    # (tiny: 2.9k shown, 2,514 trained): the page counts the training rows' values, as the encoder does.
    from mtlrec.data import prepare
    from mtlrec.models import build_model, count_parameters

    def user_split(config):
        config.split.method = "user"

    at = with_sample("pages/train.py", change=user_split)
    at.radio(key="train_size").set_value("tiny").run()
    shown = at.radio(key="train_size").options[list(SIZE_PRESETS).index("tiny")]

    config = ExperimentConfig.from_dict(at.session_state["experiment"])
    prepared = prepare(config)
    model = build_model(config.model, prepared.encoder.cardinalities, prepared.encoder.numeric_width, len(config.tasks))
    trained = count_parameters(model)
    assert shown.startswith(f"tiny · {fmt.count(trained)} params · ~")
