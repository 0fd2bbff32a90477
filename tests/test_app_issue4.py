"""Architectures, loss weighting and diagnostics in the app (AppTest): the Train page's controls and link, the
Results page's task-conflict charts, and the compare-with-single-task flow."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import numpy as np
import pandas as pd
import pytest
from conftest import figures, open_app, until
from streamlit.testing.v1 import AppTest

import mtlrec.sample
from mtlrec import gain
from mtlrec.config import DataConfig, ExperimentConfig, ModelConfig, TaskSpec, TrainConfig, WeightingConfig
from mtlrec.data import propose_schema
from mtlrec.experiment import RunResult, run_experiment
from mtlrec.models import EXPLANATIONS as MODEL_EXPLANATIONS
from mtlrec.runs import RunStore
from mtlrec.share import apply_query, to_query
from mtlrec.weighting import EXPLANATIONS as WEIGHTING_EXPLANATIONS
from ui import state

TRAIN, RESULTS = "pages/train.py", "pages/results.py"
TASKS = ["click", "like", "purchase", "watch_time"]
FAST = {"data": "synthetic", "size": "tiny", "epochs": "1", "patience": "0", "bs": "512", "lr": "0.01"}


@pytest.fixture(scope="module")
def results(samples: Path) -> dict[str, RunResult]:
    """Tiny runs on the small sample: MMoE and PLE with diagnostics, shared-bottom without, and single-task."""
    frame = pd.read_parquet(samples / "synthetic.parquet")
    proposal = propose_schema(frame)
    proposal.data.path = "sample:synthetic"
    train = {"epochs": 2, "batch_size": 512, "patience": 0, "device": "cpu"}
    models = {
        "mmoe": (ModelConfig(kind="mmoe", size="tiny", experts=3), True),
        "ple": (ModelConfig(kind="ple", size="tiny", experts=2, task_experts=1), True),
        "plain": (ModelConfig(size="tiny"), False),
        "single": (ModelConfig(kind="single_task", size="tiny"), True),
    }
    out = {}
    with pytest.MonkeyPatch.context() as patch:  # the runs record the stand-in's file, which the app then finds
        patch.setattr(mtlrec.sample, "SAMPLE_DIR", samples)
        for name, (model, diagnostics) in models.items():
            config = ExperimentConfig(
                data=dataclasses.replace(proposal.data),
                tasks=[dataclasses.replace(t) for t in proposal.tasks],
                model=model,
                weighting=WeightingConfig(method="uncertainty"),
                train=TrainConfig(**train, diagnostics=diagnostics),
            )
            out[name] = run_experiment(config, frame)
    return out


def titled(at: AppTest) -> dict[str, dict]:
    """The page's figures by title."""
    return {spec["layout"]["title"]["text"]: spec for spec in figures(at)}


def figure(at: AppTest, title_start: str) -> dict:
    return next(spec for title, spec in titled(at).items() if title.startswith(title_start))


def values(data) -> np.ndarray:
    """A figure array from its JSON: a list, or plotly's base64 form {"bdata", "dtype", "shape"}."""
    if isinstance(data, dict):
        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
        shape = data.get("shape")
        return array.reshape([int(n) for n in str(shape).split(",")]) if shape else array
    return np.array(data, dtype=float)


def texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in (at.caption, at.info, at.warning, at.markdown) for e in kind)


def open_results(home: Path, result: RunResult, name: str) -> tuple[AppTest, str]:
    run_id = RunStore(home).save(result, name=name)
    at = open_app(RESULTS, session={state.RESULTS_RUN: run_id})
    return at, run_id


# --- Train page ---


def test_choosing_mmoe_shows_its_experts_explanation_and_parameter_counts(home):
    at = open_app(TRAIN, query=FAST)
    shared_bottom_sizes = at.radio(key="train_size").options
    assert MODEL_EXPLANATIONS["shared_bottom"] in texts(at)
    assert not [n for n in at.number_input if n.key == "train_experts"]

    at.selectbox(key="train_model_kind").set_value("mmoe").run()
    assert not at.exception
    assert MODEL_EXPLANATIONS["mmoe"] in texts(at)
    at.number_input(key="train_experts").set_value(6).run()
    assert at.query_params["model"] == "mmoe" and at.query_params["experts"] == "6"
    assert "task_experts" not in at.query_params  # PLE's settings travel only with PLE

    at.selectbox(key="train_model_kind").set_value("single_task").run()
    single_sizes = at.radio(key="train_size").options
    assert len(single_sizes) == 5 and single_sizes != shared_bottom_sizes  # counted for the chosen architecture
    assert at.session_state[state.EXPERIMENT]["model"]["experts"] == 6  # kept while another kind is shown


def test_choosing_dwa_shows_the_temperature_and_the_link_carries_it(home):
    at = open_app(TRAIN, query=FAST)
    assert WEIGHTING_EXPLANATIONS["fixed"] in texts(at)
    at.selectbox(key="train_weighting").set_value("dwa").run()
    assert not at.exception
    assert WEIGHTING_EXPLANATIONS["dwa"] in texts(at)
    at.number_input(key="train_temperature").set_value(0.5).run()
    at.checkbox(key="train_diagnostics").uncheck().run()
    assert (at.query_params["weighting"], at.query_params["temperature"]) == ("dwa", "0.5")
    assert at.query_params["diagnostics"] == "0" and "alpha" not in at.query_params
    at.selectbox(key="train_weighting").set_value("gradnorm").run()
    assert at.number_input(key="train_alpha").value == pytest.approx(1.5)
    assert "Chen et al." in WEIGHTING_EXPLANATIONS["gradnorm"] and "ICML 2018" in texts(at)


def test_a_link_prefills_the_architecture_and_weighting_controls(home):
    query = {**FAST, "model": "ple", "experts": "2", "task_experts": "3", "levels": "2", "weighting": "gradnorm"}
    at = open_app(TRAIN, query={**query, "alpha": "0.5", "diagnostics": "0"})
    assert at.selectbox(key="train_model_kind").value == "ple"
    values = {key: at.number_input(key=key).value for key in ("train_experts", "train_task_experts", "train_levels")}
    assert values == {"train_experts": 2, "train_task_experts": 3, "train_levels": 2}
    assert at.selectbox(key="train_weighting").value == "gradnorm"
    assert at.number_input(key="train_alpha").value == pytest.approx(0.5)
    assert at.checkbox(key="train_diagnostics").value is False
    assert not at.warning


def test_esmm_with_a_funnel_purchase_after_click_trains_and_saves_the_funnel(home):
    at = open_app(TRAIN, query={**FAST, "tasks": "click:binary:1,purchase:binary:1", "model": "esmm"})
    assert "ESMM needs at least one conditional task" in at.warning[0].value  # no funnel yet
    at.selectbox(key="train_task_funnel_purchase").set_value("click").run()
    assert not at.warning
    assert at.query_params["funnel"] == "purchase>click"
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error
    until(at, lambda at: bool(at.success))
    (run,) = RunStore(home).list()
    assert run["status"] == "finished" and run["summary"]["model"] == "esmm"
    saved = ExperimentConfig.load(home / "runs" / run["id"] / "config.json")
    assert saved.model.funnel == {"purchase": "click"}


# --- links (mtlrec.share) ---


def lab_config() -> ExperimentConfig:
    tasks = [TaskSpec("click"), TaskSpec("like"), TaskSpec("purchase"), TaskSpec("watch_time", "regression")]
    return ExperimentConfig(data=DataConfig(path="sample:synthetic"), tasks=tasks)


def through_url(query: dict[str, str]) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlencode(query)).items()}


@pytest.mark.parametrize(
    ("model", "weighting"),
    [
        (ModelConfig(kind="ple", experts=3, task_experts=2, levels=2), WeightingConfig("gradnorm", alpha=0.75)),
        (ModelConfig(kind="mmoe", experts=8), WeightingConfig("dwa", temperature=4.0)),
        (ModelConfig(kind="esmm", funnel={"purchase": "click", "like": "click"}), WeightingConfig("pcgrad")),
    ],
)
def test_architecture_weighting_and_diagnostics_survive_a_link(model, weighting):
    config = lab_config()
    config.model, config.weighting, config.train.diagnostics = model, weighting, False
    applied, _, problems = apply_query(lab_config(), through_url(to_query(config)))
    assert problems == []
    assert applied.model == config.model and applied.weighting == config.weighting
    assert applied.train.diagnostics is False


def test_a_link_carries_only_the_settings_its_architecture_and_weighting_read():
    query = to_query(lab_config())
    assert query["diagnostics"] == "1"
    assert not {"experts", "task_experts", "levels", "funnel", "alpha", "temperature"} & set(query)


@pytest.mark.parametrize(
    ("key", "value"),
    [("experts", "0"), ("levels", "3"), ("task_experts", "x"), ("temperature", "0"), ("alpha", "9"),
     ("diagnostics", "yes"), ("funnel", "purchase"), ("funnel", "watch_time>click"), ("funnel", "nope>click")],
)  # fmt: skip
def test_a_bad_architecture_or_weighting_setting_is_skipped_with_one_problem(key, value):
    config, _, problems = apply_query(lab_config(), {key: value, "model": "esmm"})
    assert len(problems) == 1, problems
    assert config.model.kind == "esmm" and config.model.funnel == {}
    assert config.model.experts == 4 and config.model.levels == 1 and config.train.diagnostics is True


# --- Results page: task conflict ---


def test_an_mmoe_run_shows_weights_gradients_cosines_and_gates(home, results):
    at, _ = open_results(home, results["mmoe"], "mmoe")
    assert not at.exception
    history = results["mmoe"].history
    weights = figure(at, "Effective task weights")
    assert [t["name"] for t in weights["data"]] == TASKS
    assert values(weights["data"][0]["y"]) == pytest.approx(history["click/weight"].to_numpy())
    assert [t["name"] for t in figure(at, "Pull on shared layers")["data"]] == TASKS
    cosines = figure(at, "Gradient agreement")
    pairs = [f"{a} ↔ {b}" for i, a in enumerate(TASKS) for b in TASKS[i + 1 :]]
    assert [t["name"] for t in cosines["data"]] == pairs
    assert values(cosines["data"][0]["y"]) == pytest.approx(history["cos/click|like"].to_numpy())
    gates = figure(at, "Expert use")["data"][0]
    assert gates["y"] == TASKS and gates["x"] == ["expert 1", "expert 2", "expert 3"]
    assert values(gates["z"]).sum(axis=1) == pytest.approx(np.ones(4))
    assert "below 0 (shaded) they pull the shared layers apart" in texts(at)


def test_a_ple_run_names_shared_and_task_owned_experts(home, results):
    at, _ = open_results(home, results["ple"], "ple")
    gates = figure(at, "Expert use")["data"][0]
    assert gates["x"] == ["shared 1", "shared 2", "click 1", "like 1", "purchase 1", "watch_time 1"]
    z = values(gates["z"])
    assert np.isnan(z[0, 3]) and np.nansum(z, axis=1) == pytest.approx(np.ones(4))  # click cannot reach like's expert
    assert "Blank cells" in texts(at)


def test_a_single_task_run_explains_it_has_no_shared_layers_and_no_gates(home, results):
    at, _ = open_results(home, results["single"], "single")
    assert "Single-task models have no shared layers" in texts(at)
    assert "No gates: only MMoE and PLE have them" in texts(at)
    assert "itself the baseline" in texts(at)
    assert not [b for b in at.button if b.key == "results_compare"]


def test_a_run_without_diagnostics_says_they_were_off(home, results):
    at, _ = open_results(home, results["plain"], "plain")
    assert "Diagnostics were off for this run" in texts(at)
    assert [t["name"] for t in figure(at, "Effective task weights")["data"]] == TASKS
    assert not [title for title in titled(at) if title.startswith("Gradient agreement")]


# --- Results page: compare with single-task ---


def test_compare_with_single_task_trains_the_baseline_and_shows_the_gain(home, results):
    at, run_id = open_results(home, results["plain"], "plain")
    at.button(key="results_compare").click().run()
    assert not at.exception and not at.error
    store = RunStore(home)
    baseline_id = gain.baseline_of(store, run_id)
    assert baseline_id and store.get(baseline_id)["summary"]["model"] == "single_task"
    deadline = time.monotonic() + 60
    while store.get(baseline_id)["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    until(at, lambda at: bool(at.dataframe))
    assert store.get(baseline_id)["status"] == "finished"

    table = at.dataframe[0].value
    assert table["task"].tolist() == TASKS
    mtl = json.loads((home / "runs" / run_id / "metrics.json").read_text())["tasks"]
    single = json.loads((home / "runs" / baseline_id / "metrics.json").read_text())["tasks"]
    for task in ("click", "like", "purchase"):
        row = table[table["task"] == task].iloc[0]
        assert row["metric"] == "auc"
        assert row["gain"] == pytest.approx(mtl[task]["auc"] - single[task]["auc"])
    watch = table[table["task"] == "watch_time"].iloc[0]
    assert watch["gain"] == pytest.approx(single["watch_time"]["rmse"] - mtl["watch_time"]["rmse"])
    bars = figure(at, "Multi-task gain")["data"]
    assert sorted(x for bar in bars for x in bar["x"]) == sorted(TASKS)
    assert "positive = positive transfer" in texts(at)
    # watch_time trains on log1p: when its RMSE and MAE gains point different ways, a caption says why
    disagree = (mtl["watch_time"]["rmse"] - single["watch_time"]["rmse"]) * (
        mtl["watch_time"]["mae"] - single["watch_time"]["mae"]
    ) < 0
    assert ("The two errors disagree (watch_time: RMSE" in texts(at)) == disagree

    # Train's panel keeps the browser's own latest run: it showed the baseline's curves and cards, and "Open
    # results" opened the baseline (a browser walk)
    at.session_state[state.TRAIN_RUNS] = [run_id]
    at.switch_page("pages/train.py").run()
    assert not at.exception
    panel = [s.value for s in at.success if s.value.startswith("Run `")]
    assert panel and panel[0].startswith(f"Run `{run_id}` finished") and baseline_id not in " ".join(panel)

    at = open_app(RESULTS, session={state.RESULTS_RUN: run_id})  # a new session: the pair is kept on disk
    assert at.dataframe and not [b for b in at.button if b.key == "results_compare"]


def test_trains_panel_after_a_reload_is_the_run_trained_there_not_its_baseline(home, results):
    # A workspace that kept the browser's runs but not which were Train's showed an empty panel (a browser walk)
    store = RunStore(home)
    run_id = store.save(results["plain"], name="plain")
    baseline_id = store.save(results["plain"], name="plain · single-task baseline")
    gain.link_baseline(store, run_id, baseline_id)

    at = open_app("pages/train.py", session={state.SESSION_RUNS: [run_id, baseline_id]})

    assert not at.exception
    panel = [s.value for s in at.success if s.value.startswith("Run `")]
    assert panel and panel[0].startswith(f"Run `{run_id}` finished") and baseline_id not in " ".join(panel)
    # A baseline trained again (the link moves on to it) and one of a run trained elsewhere (not this browser's)
    # are baselines all the same (a diff review: Train showed the first baseline, and the other one)
    again = store.save(results["plain"], name="plain · single-task baseline, again")
    gain.link_baseline(store, run_id, again)
    at = open_app("pages/train.py", session={state.SESSION_RUNS: [run_id, baseline_id, again]})
    panel = [s.value for s in at.success if s.value.startswith("Run `")]
    assert panel and panel[0].startswith(f"Run `{run_id}` finished")
    at = open_app("pages/train.py", session={state.SESSION_RUNS: [baseline_id, again]})
    assert not [s.value for s in at.success if s.value.startswith("Run `")]  # nothing trained on Train here


def test_trains_panel_says_a_task_trained_with_loss_weight_0_has_an_untrained_towers_metric(home, results):
    # "purchase validation AUC 0.4526" read as a result (a browser walk)
    config = ExperimentConfig.from_dict(results["plain"].config.to_dict())
    next(t for t in config.tasks if t.name == "like").weight = 0.0
    run_id = RunStore(home).save(dataclasses.replace(results["plain"], config=config), name="like at 0")

    at = open_app("pages/train.py", session={state.TRAIN_RUNS: [run_id]})

    assert not at.exception
    assert any(
        "like was trained with loss weight 0: its metric is an untrained tower's." in c.value for c in at.caption
    )
    [card] = [m for m in at.metric if m.label == "like validation AUC"]
    assert "Not trained (loss weight 0)" in card.help
    assert not [m for m in at.metric if m.label == "click validation AUC"][0].help


def test_the_baseline_is_not_trained_on_a_data_file_changed_since_the_run(home, results, tmp_path):
    # An audit: Results trained the baseline on the file as it is now (other labels: gains across different data;
    # a column gone: a failed baseline saved at each click), where Recommend said the file had changed.
    store = RunStore(home)
    run_id = store.save(results["plain"], name="plain")
    data = tmp_path / "interactions.csv"
    data.write_text("user_id,item_id,click\nu1,i1,1\n")
    metrics_path = home / "runs" / run_id / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics["data_files"] = [{"path": str(data), "bytes": 10, "mtime_ns": 0, "sha256": "0" * 64}]
    metrics_path.write_text(json.dumps(metrics))

    at = open_app(RESULTS, session={state.RESULTS_RUN: run_id})

    assert not at.exception
    [warning] = [w.value for w in at.warning if "baseline cannot be trained on this run's data now" in w.value]
    assert "interactions.csv changed since the run was trained (10 bytes then, " in warning
    assert at.button(key="results_compare").disabled is True
    assert store.list() and len(store.list()) == 1  # nothing started, nothing saved


def test_a_failed_or_deleted_baseline_is_offered_again(home, results):
    store = RunStore(home)
    run_id = store.save(results["plain"], name="plain")
    failed = store.start(gain.single_task_config(results["plain"].config), name="baseline")
    store.fail(failed, "training ran out of memory")
    gain.link_baseline(store, run_id, failed)
    at = open_app(RESULTS, session={state.RESULTS_RUN: run_id})
    assert f"`{failed}` failed: training ran out of memory" in texts(at)
    assert at.button(key="results_compare").disabled is False
    store.delete(failed)
    at.run()
    assert not at.warning and at.button(key="results_compare").disabled is False


def test_a_stopped_baseline_is_said_to_be_undertrained_and_other_metrics_get_no_transfer_verdict(home, results):
    # Stopped in its first epoch, the baseline made every task look like positive transfer; a LogLoss 0.0002 apart
    # was "negative transfer" beside an AUC "within noise" (an app audit)
    import dataclasses

    store = RunStore(home)
    run_id = store.save(results["plain"], name="plain")
    single = results["single"]
    stopped = dataclasses.replace(single, status="stopped", message="stopped by the user in epoch 1",
                                  metrics={**single.metrics, "epochs_run": 1})  # fmt: skip
    baseline = store.save(stopped, name="baseline")
    gain.link_baseline(store, run_id, baseline)
    at = open_app(RESULTS, session={state.RESULTS_RUN: run_id})
    [warning] = [w.value for w in at.warning if w.value.startswith("The baseline did not finish")]
    assert "stopped by the user in epoch 1, 1 of" in warning and "may be undertrained" in warning
    assert at.button(key="results_compare_again")
    every = at.dataframe[-1].value
    others = every[every["metric"] != every.groupby("task")["metric"].transform("first")]
    assert others["noise"].notna().all()  # LogLoss and MAE judged by their rows' paired losses
    judged = others[others["transfer"].isin(["positive", "negative"])]
    assert (judged["gain"].abs() >= judged["noise"]).all()  # a verdict only beyond the noise


def test_a_run_of_one_task_is_not_offered_a_single_task_baseline(home, results):
    import dataclasses

    from mtlrec.config import ExperimentConfig

    config = ExperimentConfig.from_dict(results["plain"].config.to_dict())
    config.tasks = config.tasks[:1]
    metrics = {**results["plain"].metrics, "tasks": {"click": results["plain"].metrics["tasks"]["click"]}}
    one = dataclasses.replace(results["plain"], config=config, metrics=metrics, predictions=None)
    run_id = RunStore(home).save(one, name="one task")
    at = open_app(RESULTS, session={state.RESULTS_RUN: run_id})
    assert "This run has one task: nothing is shared" in texts(at)
    assert not [b for b in at.button if b.key == "results_compare"]


def test_while_the_session_trains_compare_waits_for_its_turn(home, results, monkeypatch):
    slow = gain.single_task_config

    def long_baseline(config):
        baseline = slow(config)
        baseline.train.epochs = 100  # ends only because the fixture stops it
        return baseline

    monkeypatch.setattr(gain, "single_task_config", long_baseline)
    at, _ = open_results(home, results["plain"], "plain")
    at.button(key="results_compare").click().run()
    assert not at.exception
    other = RunStore(home).save(results["mmoe"], name="mmoe")
    at.run()
    at.selectbox(key="results_run").set_value(other).run()
    assert at.button(key="results_compare").disabled is True
    assert "one job per session" in texts(at)


def test_fixed_loss_weights_are_said_not_drawn_as_flat_lines(home, results):
    # Equal fixed weights drew four lines at 1 on top of each other: one colour showed (an audit).
    plain = results["plain"]
    fixed = dataclasses.replace(plain, config=dataclasses.replace(plain.config, weighting=WeightingConfig()))
    at, _ = open_results(home, fixed, "fixed")
    assert not [title for title in titled(at) if title.startswith("Effective task weights")]
    assert "Fixed loss weights (click 1, like 1, purchase 1, watch_time 1): the same in every epoch" in texts(at)


def test_the_cards_and_details_say_the_weighting_and_an_untrained_task(home, results):
    # A DWA run read "loss weight 1" on every card and its details named no weighting; a weight-0 task's card looked
    # like a trained task's (an app audit)
    import dataclasses

    from mtlrec.config import ExperimentConfig

    config = ExperimentConfig.from_dict(results["plain"].config.to_dict())
    config.weighting.method = "dwa"
    config.tasks[1].weight = 0.0
    run_id = RunStore(home).save(dataclasses.replace(results["plain"], config=config))
    at = open_app(RESULTS, session={state.RESULTS_RUN: run_id})
    shown = texts(at)
    assert "binary · initial loss weight 1 (DWA)" in shown
    assert "binary · not trained (loss weight 0): its metrics are an untrained tower's" in shown
    assert " · DWA · " in shown  # the details line, and the run's default name
