"""Recommend page (AppTest): history, top-K ranking, live fusion re-ranking, exclude-seen and the ground truth."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import figure, open_app, use_home
from streamlit.testing.v1 import AppTest

import mtlrec.runs
import mtlrec.sample
from mtlrec.config import ExperimentConfig, ModelConfig, RecommendColumns, TaskSpec, TrainConfig
from mtlrec.data import propose_schema
from mtlrec.errors import MtlrecError
from mtlrec.experiment import run_experiment
from mtlrec.recommend import Recommender, fuse
from mtlrec.runs import RunStore
from mtlrec.sample import SyntheticSpec, SyntheticWorld, write_sample
from ui.state import RESULTS_RUN

PAGE = "pages/recommend.py"
SPEC = SyntheticSpec(n_users=40, n_items=120, n_rows=3000, seed=7)  # a small stand-in for the bundled sample
TASKS = ["click", "like", "purchase", "watch_time"]
CLASHING = ["seen", "rank", "fused", "item", "watch_time_value"]  # binary labels named as the table's own columns


@dataclasses.dataclass
class Lab:
    home: Path
    samples: Path
    frame: pd.DataFrame
    recommender: Recommender  # built from the trained model in memory, independently of the page
    runs: dict[str, str]  # what -> run id


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    """A small synthetic sample in place of the bundled one, and a run store holding runs trained on it."""
    samples = tmp_path_factory.mktemp("sample_data")
    write_sample(samples, SPEC)
    home = tmp_path_factory.mktemp("home")
    frame = pd.read_parquet(samples / "synthetic.parquet")
    proposal = propose_schema(frame, "sample:synthetic")
    config = ExperimentConfig(
        data=proposal.data,
        tasks=proposal.tasks,
        model=ModelConfig(size="tiny"),
        train=TrainConfig(epochs=2, batch_size=256, lr=1e-2, patience=0, device="cpu"),
    )
    config.data.path = "sample:synthetic"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mtlrec.sample, "SAMPLE_DIR", samples)
        result = run_experiment(config)
        no_item = ExperimentConfig.from_dict(config.to_dict())
        no_item.data.item_col = None
        no_item.train.epochs = 1
        no_item_result = run_experiment(no_item)
    copy = shutil.copy(samples / "synthetic.parquet", home / "log.parquet")
    # Labels named as the top-K table's own columns: rank, seen, fused, item and the value of a regression task.
    clashing = frame.rename(columns={"click": "seen", "like": "rank", "purchase": "fused"})
    clashing["item"] = (np.arange(len(frame)) % 3 == 0).astype(int)  # labels of their own: copies of other tasks
    clashing["watch_time_value"] = (np.arange(len(frame)) % 5 == 0).astype(int)  # are refused as twins
    clashing.to_parquet(home / "clashing.parquet")
    clash = ExperimentConfig.from_dict(config.to_dict())
    clash.data.path = str(home / "clashing.parquet")
    clash.tasks = [TaskSpec(n) for n in CLASHING] + [TaskSpec("watch_time", "regression", log1p=True)]
    clash.train.epochs = 1
    clash_result = run_experiment(clash)

    def elsewhere(path: str):
        moved = ExperimentConfig.from_dict(config.to_dict())
        moved.data.path = path
        return dataclasses.replace(result, config=moved)

    # purchase logged after clicks only (missing where click is 0) and trained on its labelled rows
    frame.assign(purchase=frame["purchase"].astype(float).where(frame["click"] == 1)).to_parquet(
        home / "funnel.parquet"
    )
    funnel = ExperimentConfig.from_dict(config.to_dict())
    funnel.data.path = str(home / "funnel.parquet")
    next(t for t in funnel.tasks if t.name == "purchase").labelled_only = True
    funnel.train.epochs = 1
    funnel_result = run_experiment(funnel)

    world = home / "datasets" / "world-test"  # as the Home page writes a generated world
    world.mkdir(parents=True)
    for name in ("synthetic.parquet", "synthetic.json"):
        shutil.copy(samples / name, world / name)
    store = RunStore(home)
    runs = {
        "sample": store.save(result, name="on the sample"),
        "world": store.save(elsewhere(str(world / "synthetic.parquet")), name="on a generated world"),
        "file": store.save(elsewhere(str(copy)), name="on a file"),
        "gone": store.save(elsewhere(str(home / "deleted.parquet")), name="file gone"),
        "no_item": store.save(no_item_result, name="no item column"),
        "clash": store.save(clash_result, name="labels named rank, seen, fused, item"),
        "like_untrained": store.save(untrained(result, "like"), name="like at loss weight 0"),
        "funnel": store.save(funnel_result, name="purchase after clicks"),
    }
    recommender = Recommender(result.model, result.encoder, config, frame)
    return Lab(home, samples, frame, recommender, runs)


def untrained(result, task: str):
    """The run as if `task` had been trained with loss weight 0 (evaluated only)."""
    config = ExperimentConfig.from_dict(result.config.to_dict())
    next(t for t in config.tasks if t.name == task).weight = 0.0
    return dataclasses.replace(result, config=config)


@pytest.fixture(autouse=True)
def app_env(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    use_home(monkeypatch, lab.home, lab.samples)


def open_page(run_id: str) -> AppTest:
    return open_app(PAGE, session={RESULTS_RUN: run_id})


def top_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "rank" in d.value.columns)


def top_table_proto(at: AppTest):
    return next(d.proto for d in at.dataframe if "rank" in d.value.columns)


def set_fusion(at: AppTest, weights: dict[str, float]) -> None:
    for task, weight in weights.items():
        at.slider(key=f"recommend_fusion_{task}").set_value(weight)
    at.run()
    assert not at.exception


def test_page_shows_the_most_active_user_history_and_top_k_by_fused_score(lab: Lab):
    at = open_page(lab.runs["sample"])
    user = lab.recommender.users()[0]
    assert at.selectbox(key="recommend_user").value == user
    history = at.dataframe[0].value
    assert len(history) == len(lab.recommender.history(user))
    assert {"item_id", "timestamp", *TASKS} <= set(history.columns)
    assert pd.api.types.is_datetime64_any_dtype(history["timestamp"])
    positives = {m.label: m.value for m in at.metric}
    assert positives["click positives"] == str(int(lab.recommender.history(user)["click"].sum()))

    top = top_table(at)
    assert len(top) == 10
    assert list(top["rank"]) == list(range(1, 11))
    assert (np.diff(top["fused"].to_numpy()) <= 0).all()
    assert {"watch_time", "watch_time_value"} <= set(top.columns)  # standardised score and original scale
    assert len(at.get("plotly_chart")) == 1
    assert any(c.value.startswith("Re-ranked 120 items in") for c in at.caption)

    # K above the items this user has to rank: the list holds them all, and the page says so (an audit: a 12-item run
    # at K 50 showed 12 rows under "Top 50" without a word).
    at.toggle(key="recommend_exclude_seen").set_value(True).run()
    at.slider(key="recommend_k").set_value(50).run()
    unseen = 120 - lab.recommender.history(user)["item_id"].nunique()
    said = [c.value for c in at.caption if "fewer than K = 50" in c.value]
    assert len(top_table(at)) == min(unseen, 50) and bool(said) == (unseen < 50)
    at.slider(key="recommend_k").set_value(5).run()
    assert len(top_table(at)) == 5
    # Every user's top-K as one CSV, computed when clicked (recommend_all, tested against recommend per user).
    [every] = [b for b in at.get("download_button") if b.proto.id.endswith("recommend_every_user")]
    assert every.proto.label == "Top 5 for every user (CSV)" and not every.proto.disabled
    assert f"{len(lab.recommender.users()):,} users × 120 items" in every.proto.help


def test_weighting_one_task_only_ranks_by_that_tasks_score(lab: Lab):
    at = open_page(lab.runs["sample"])
    set_fusion(at, {"click": 1.0, "like": 0.0, "purchase": 0.0, "watch_time": 0.0})
    scores = lab.recommender.score(lab.recommender.users()[0])
    unseen_click = np.sort(scores.loc[~scores["seen"], "click"].to_numpy())[::-1]
    top = top_table(at)
    np.testing.assert_allclose(top["click"].to_numpy(), unseen_click[:10], rtol=1e-5)
    np.testing.assert_allclose(top["fused"].to_numpy(), top["click"].to_numpy())


def test_equal_spread_ranks_by_z_scores_and_the_spreads_say_which_task_moves_the_order(lab: Lab):
    # A rare task's probabilities vary far less from item to item: at weight 1 it barely moved the order, and
    # nothing said so (ML review).
    at = open_page(lab.runs["sample"])
    fusion = {"click": 1.0, "like": 0.0, "purchase": 1.0, "watch_time": 0.0}
    set_fusion(at, fusion)
    scores = lab.recommender.score(lab.recommender.users()[0])
    spreads = scores.loc[:, ["click", "purchase"]].std(ddof=0)
    [caption] = [c.value for c in at.caption if c.value.startswith("Spread over the candidates")]
    assert f"click {spreads['click']:.3g} · purchase {spreads['purchase']:.3g}" in caption
    assert ("purchase barely moves the order" in caption) == (spreads["purchase"] * 10 < spreads["click"])

    at.toggle(key="recommend_equal_spread").set_value(True).run()
    assert not at.exception
    expected = fuse(scores, fusion, k=10, exclude_seen=True, equal_spread=True)
    top = top_table(at)
    assert top["item"].tolist() == expected["item"].tolist()
    np.testing.assert_allclose(top["fused"].to_numpy(), expected["fused"].to_numpy(), rtol=1e-6)
    assert not [c for c in at.caption if c.value.startswith("Spread over the candidates")]  # equal now
    [every] = [b for b in at.get("download_button") if b.proto.id.endswith("recommend_every_user")]
    assert "*Equal spread*" in every.proto.help


def test_a_task_trained_with_loss_weight_0_starts_at_fusion_weight_0(lab: Lab):
    # Its tower never learned; its scores entered the default ranking with weight 1.
    at = open_page(lab.runs["like_untrained"])

    weights = {task: at.slider(key=f"recommend_fusion_{task}").value for task in TASKS}
    assert weights == {"click": 1.0, "like": 0.0, "purchase": 1.0, "watch_time": 1.0}
    assert "trained with loss weight 0" in at.slider(key="recommend_fusion_like").help
    assert at.slider(key="recommend_fusion_click").min == -5.0  # a task can count against an item


def test_fusion_weights_start_from_each_runs_own_defaults_when_the_run_changes(lab: Lab):
    # Kept by task name across runs: 'like' stayed at 1 on a run that never trained it, and at 0 on one that did.
    at = open_page(lab.runs["sample"])
    at.selectbox(key="recommend_run").set_value(lab.runs["like_untrained"]).run()
    assert at.slider(key="recommend_fusion_like").value == 0.0
    at.selectbox(key="recommend_run").set_value(lab.runs["sample"]).run()
    assert at.slider(key="recommend_fusion_like").value == 1.0
    set_fusion(at, {"click": 2.5})
    at.switch_page("pages/runs.py").run()
    at.switch_page(PAGE).run()
    assert at.slider(key="recommend_fusion_click").value == 2.5  # kept while the run stays the one shown


def test_a_link_shows_its_run_and_user_though_the_session_holds_others(lab: Lab):
    # The session's run (back with the workspace after a reload, or set by visiting Sweep) beat the address's.
    user = lab.recommender.users()[5]
    at = open_app(PAGE, session={RESULTS_RUN: lab.runs["world"]}, query={"run": lab.runs["sample"], "user": str(user)})
    assert at.selectbox(key="recommend_run").value == lab.runs["sample"]
    assert at.selectbox(key="recommend_user").value == user
    # The user the session shows yields to one in an address it did not write (the browser's Back, say).
    other = lab.recommender.users()[2]
    at.selectbox(key="recommend_user").set_value(other).run()
    assert at.query_params["user"] == str(other)
    at.query_params["user"] = str(user)
    at.run()
    assert at.selectbox(key="recommend_user").value == user
    at.run()
    assert at.selectbox(key="recommend_user").value == user


def test_a_reload_shows_the_run_and_user_in_the_address(lab: Lab):
    # A reload is a new session: the page showed the newest run and the most active user instead.
    at = open_page(lab.runs["sample"])
    user = lab.recommender.users()[3]
    at.selectbox(key="recommend_user").set_value(user).run()
    assert at.query_params["run"] == lab.runs["sample"] and at.query_params["user"] == str(user)

    reloaded = open_app(PAGE, query={"run": lab.runs["sample"], "user": str(user)})  # no session state

    assert reloaded.selectbox(key="recommend_run").value == lab.runs["sample"]  # not the newest run
    assert reloaded.selectbox(key="recommend_user").value == user
    # A link's user that is not in the run's data was replaced by the most active user without a word.
    unknown = open_app(PAGE, query={"run": lab.runs["sample"], "user": "nobody"})
    assert unknown.selectbox(key="recommend_user").value == lab.recommender.users()[0]
    why = "user 'nobody' is not in the run's data (the link's user), so the most active user is shown instead"
    assert [e.value for e in unknown.warning] == [why] and not unknown.error  # a warning: the page works on
    assert [e.value for e in unknown.run().warning] == [why]  # until another user is picked
    unknown.selectbox(key="recommend_user").set_value(user).run()
    assert not unknown.warning


def test_exclude_seen_hides_the_users_items_and_off_lets_them_in(lab: Lab):
    at = open_page(lab.runs["sample"])
    scores = lab.recommender.score(lab.recommender.users()[0])
    seen = set(scores.loc[scores["seen"], "item"])
    assert not seen & set(top_table(at)["item"])
    assert "seen" not in top_table(at).columns

    at.toggle(key="recommend_exclude_seen").set_value(False).run()
    assert not at.exception
    top = top_table(at)
    expected = fuse(scores, dict.fromkeys(TASKS, 1.0), k=10, exclude_seen=False)
    assert list(top["item"]) == list(expected["item"])
    assert list(top["seen"]) == list(expected["seen"])
    assert top["seen"].any()  # this user has seen most of the 120 items: some rank high


def test_settings_survive_a_visit_to_another_page(lab: Lab):
    at = open_page(lab.runs["sample"])
    at.slider(key="recommend_k").set_value(7).run()
    at.slider(key="recommend_fusion_like").set_value(2.5).run()
    at.switch_page("pages/runs.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.slider(key="recommend_k").value == 7
    assert at.slider(key="recommend_fusion_like").value == 2.5
    assert len(top_table(at)) == 7


def test_random_user_button_picks_a_user_of_the_run(lab: Lab):
    at = open_page(lab.runs["sample"])
    at.button[0].click().run()
    assert not at.exception
    user = at.selectbox(key="recommend_user").value
    assert user in lab.recommender.users()
    assert len(at.dataframe[0].value) == len(lab.recommender.history(user))
    assert at.session_state["recommend_scores"]["user"] == user


def test_ground_truth_sits_next_to_the_predictions_on_the_synthetic_sample(lab: Lab):
    at = open_page(lab.runs["sample"])
    top = top_table(at)
    assert {"true p_click", "true p_like", "true p_purchase", "true e_watch_time"} <= set(top.columns)
    world = SyntheticWorld(SyntheticSpec(**json.loads((lab.samples / "synthetic.json").read_text())))
    rows = lab.recommender.candidate_rows(lab.recommender.users()[0], list(top["item"]))
    np.testing.assert_allclose(top["true p_click"].to_numpy(), world.truth(rows)["p_click"].to_numpy())
    labels = [m.label for m in at.metric]
    assert "click: rank correlation" in labels and "watch_time: rank correlation" in labels
    assert any("Only synthetic data has a ground truth" in c.value for c in at.caption)


def test_a_world_generated_in_the_app_has_its_ground_truth_too(lab: Lab):
    at = open_page(lab.runs["world"])
    assert not at.exception
    assert "true p_click" in top_table(at).columns
    assert "Against the ground truth" in [s.value for s in at.subheader]


def test_no_ground_truth_for_a_run_on_another_file(lab: Lab):
    at = open_page(lab.runs["file"])
    assert not [c for c in top_table(at).columns if c.startswith("true ")]
    assert "Against the ground truth" not in [s.value for s in at.subheader]


def test_run_without_an_item_column_explains_why_and_stops(lab: Lab):
    at = open_page(lab.runs["no_item"])
    assert any("no item column chosen" in i.value and "recommendations are off" in i.value for i in at.info)
    assert not at.dataframe
    assert not at.error


def test_run_whose_data_file_is_gone_shows_an_error(lab: Lab):
    at = open_page(lab.runs["gone"])
    assert len(at.error) == 1
    assert "deleted.parquet" in at.error[0].value
    assert not at.dataframe


def test_labels_named_as_the_tables_own_columns_keep_their_scores(lab: Lab):
    # The table's own rank, item, seen and fused columns and a regression task's value step aside (rank_2...);
    # before, the page failed with "Duplicate column names" or "cannot insert rank", or a label's scores were
    # replaced by the item ids, the fused score or the seen flag.
    run = RunStore(lab.home).load(lab.runs["clash"])
    model, encoder = run.load_model()
    recommender = Recommender(model, encoder, run.config, pd.read_parquet(run.config.data.path))
    own = recommender.columns
    assert (own.rank, own.item, own.seen, own.fused) == ("rank_2", "item_2", "seen_2", "fused_2")
    assert own.values == {"watch_time": "watch_time_value_2"}

    at = open_page(lab.runs["clash"])
    assert not at.exception and not at.error
    user = at.selectbox(key="recommend_user").value
    top = at.dataframe[1].value  # the history comes first
    expected = recommender.recommend(user, k=10)

    assert list(top["rank_2"]) == list(range(1, 11))
    assert list(top["item_2"]) == list(expected["item_2"])
    for task in [*CLASHING, "watch_time"]:
        np.testing.assert_allclose(top[task], expected[task])
    assert top[CLASHING[:4]].apply(lambda c: c.between(0, 1)).all().all()  # probabilities, not ids, flags or sums
    assert (np.diff(top["fused_2"].to_numpy()) <= 0).all()
    fused = sum(expected[t] for t in [*CLASHING, "watch_time"])
    np.testing.assert_allclose(expected["fused_2"], fused)
    assert not expected["seen_2"].any()  # seen items hidden by the flag, not by the label named seen
    assert RecommendColumns.around(run.config.tasks) == own


def test_with_many_users_the_box_lists_the_most_active_and_any_other_can_be_typed(tmp_path, monkeypatch):
    # 100,000 users in one select box took 13 s per pick in the browser.
    frame = mtlrec.sample.generate(SyntheticSpec(n_users=1500, n_items=60, n_rows=4000, seed=3))
    frame.to_parquet(tmp_path / "many.parquet")
    proposal = propose_schema(frame)
    proposal.data.path = str(tmp_path / "many.parquet")
    config = ExperimentConfig(
        data=proposal.data, tasks=proposal.tasks, model=ModelConfig(size="tiny"),
        train=TrainConfig(epochs=1, batch_size=512, patience=0, device="cpu"),
    )  # fmt: skip
    run_id = RunStore(tmp_path).save(run_experiment(config))
    use_home(monkeypatch, tmp_path)
    at = open_page(run_id)
    users = Recommender(*RunStore(tmp_path).load(run_id).load_model(), config, frame).users()
    assert len(users) > 1000

    box = at.selectbox(key="recommend_user")
    assert box.options == [str(u) for u in users[:1000]] and box.value == users[0]
    assert box.label.startswith(f"User (the 1,000 most active of {len(users):,}")
    rare = users[-1]
    at.text_input(key="recommend_user_typed").input(str(rare)).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="recommend_user").value == rare  # listed first, beside the most active
    assert len(at.dataframe[0].value) == (frame["user_id"] == rare).sum()  # the typed user's history
    at.text_input(key="recommend_user_typed").input("nobody").run()
    assert [e.value for e in at.error] == [
        "user 'nobody' is not in the run's data: type an id of its user column exactly"
    ]
    assert at.selectbox(key="recommend_user").value == rare


def test_the_ranking_is_a_fragment_so_a_slider_reruns_only_it():
    # A helper inserted above it took its @st.fragment: every slider move reran the whole page (run, model, users).
    import ast

    tree = ast.parse(Path(PAGE).read_text(encoding="utf-8"))
    decorated = {
        node.name: [ast.unparse(d) for d in node.decorator_list]
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }
    assert decorated["ranking"] == ["st.fragment"]
    assert [name for name, decorators in decorated.items() if "st.fragment" in decorators] == ["ranking"]


def test_a_reload_or_a_link_shows_the_same_ranking_settings(lab: Lab):
    # Only the run and the user were in the address: after a reload the fusion weights, K, Hide seen and Equal
    # spread were back at their defaults, and a copied link showed another ranking (an audit).
    at = open_page(lab.runs["sample"])
    user = at.selectbox(key="recommend_user").value
    at.slider(key="recommend_k").set_value(7)
    at.toggle(key="recommend_exclude_seen").set_value(False)
    at.toggle(key="recommend_equal_spread").set_value(True)
    set_fusion(at, {"like": 5.0, "click": 0.5})
    expected = top_table(at)
    assert at.query_params == {
        "run": lab.runs["sample"], "user": str(user), "k": "7", "hide_seen": "0", "equal_spread": "1",
        "fusion": "click:0.5,like:5",
    }  # fmt: skip

    reloaded = open_app(PAGE, query=dict(at.query_params))  # a new session: a reload, or the link sent

    assert reloaded.slider(key="recommend_k").value == 7
    assert reloaded.toggle(key="recommend_exclude_seen").value is False
    assert reloaded.toggle(key="recommend_equal_spread").value is True
    assert {t: reloaded.slider(key=f"recommend_fusion_{t}").value for t in TASKS} == {
        "click": 0.5, "like": 5.0, "purchase": 1.0, "watch_time": 1.0
    }  # fmt: skip
    pd.testing.assert_frame_equal(top_table(reloaded), expected)
    assert not reloaded.warning
    # Back to the defaults: nothing but the run and the user in the address.
    reloaded.slider(key="recommend_k").set_value(10)
    reloaded.toggle(key="recommend_exclude_seen").set_value(True)
    reloaded.toggle(key="recommend_equal_spread").set_value(False)
    set_fusion(reloaded, {"like": 1.0, "click": 1.0})
    assert set(reloaded.query_params) == {"run", "user"}


def test_a_hand_edited_ranking_link_falls_back_with_a_warning(lab: Lab):
    at = open_app(
        PAGE,
        query={"run": lab.runs["sample"], "k": "500", "hide_seen": "no", "fusion": "like:9,nope:2,purchase:x,click:-2"},
    )
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "link setting k='500' is not a whole number from 5 to 50; ignored",
        "link setting hide_seen='no' is not 0 or 1; ignored",
        "link fusion weight 'like:9' is not a weight from -5 to 5 such as like:2; ignored",
        "link fusion weight 'nope:2': this run has no task 'nope' (its tasks: click, like, purchase, watch_time); "
        "ignored",
        "link fusion weight 'purchase:x' is not a weight from -5 to 5 such as purchase:2; ignored",
    ]
    assert at.slider(key="recommend_k").value == 10 and at.toggle(key="recommend_exclude_seen").value is True
    assert {t: at.slider(key=f"recommend_fusion_{t}").value for t in TASKS} == {
        "click": -2.0, "like": 1.0, "purchase": 1.0, "watch_time": 1.0
    }  # fmt: skip
    assert at.query_params["fusion"] == "click:-2" and "k" not in at.query_params  # the settings shown
    assert not at.run().warning  # said once
    # A review: k='²' (a digit to str.isdigit, not to int) raised; a task without its weight was "no task ''", and
    # one given twice kept its last value without a word.
    at = open_app(PAGE, query={"run": lab.runs["sample"], "k": "²", "fusion": "like,click:2,click:-3"})
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "link setting k='²' is not a whole number from 5 to 50; ignored",
        "link fusion weight 'like' has no weight: write it as like:2; ignored",
        "link fusion weight 'click:-3': task 'click' is given twice; the first one kept",
    ]
    assert at.slider(key="recommend_fusion_click").value == 2.0


def test_a_purchase_logged_after_clicks_is_ranked_by_the_chance_of_both_and_the_toggle_ranks_it_as_trained(lab: Lab):
    at = open_page(lab.runs["funnel"])
    assert not at.exception
    toggle = at.toggle(key="recommend_joint")
    assert toggle.value is True and "click × purchase" in toggle.help
    said = [c.value for c in at.caption if "'purchase' was trained on its labelled rows only" in c.value]
    assert len(said) == 1 and "so it is ranked by the chance of both, P(click) × P(purchase | click)" in said[0]
    run = mtlrec.runs.RunStore(lab.home).load(lab.runs["funnel"])
    frame = pd.read_parquet(lab.home / "funnel.parquet")
    recommender = Recommender(*run.load_model(), run.config, frame)
    user = at.selectbox(key="recommend_user").value
    scores = recommender.score(user).set_index("item")
    top = top_table(at).set_index("item")
    np.testing.assert_allclose(top["purchase"], scores.loc[top.index, "click"] * scores.loc[top.index, "purchase"],
                               rtol=1e-5)  # fmt: skip
    labels = json.loads(top_table_proto(at).columns)
    assert labels["purchase"]["label"] == "click × purchase"
    # The chart names it as the table does: its legend said "purchase" over the chance of both (a browser walk)
    bars = {trace["name"]: trace for trace in figure(at, "recommendations")["data"]}
    assert "click × purchase" in bars and "chance of both" in bars["click × purchase"]["hovertemplate"]
    [every] = [b for b in at.get("download_button") if b.proto.id.endswith("recommend_every_user")]
    assert "(purchase as the chance of both, click × purchase)" in every.proto.help  # the file's column, said

    at.toggle(key="recommend_joint").set_value(False).run()
    top = top_table(at).set_index("item")
    np.testing.assert_allclose(top["purchase"], scores.loc[top.index, "purchase"], rtol=1e-5)  # as trained
    assert "purchase" in [trace["name"] for trace in figure(at, "recommendations")["data"]]
    [every] = [b for b in at.get("download_button") if b.proto.id.endswith("recommend_every_user")]
    assert "chance of both" not in every.proto.help
    assert at.query_params["joint"] == "0"
    assert any("and is ranked so, as trained" in c.value for c in at.caption)
    reloaded = open_app(PAGE, query=dict(at.query_params))
    assert reloaded.toggle(key="recommend_joint").value is False
    # A run without such a task has no toggle.
    assert not [t for t in open_page(lab.runs["sample"]).toggle if t.key == "recommend_joint"]


def test_a_run_deleted_in_another_tab_is_no_longer_ranked_when_a_slider_moves(lab: Lab, monkeypatch):
    # A slider reran the ranking fragment alone, which rescored a run deleted in another tab from memory. Here the
    # run is gone only for the fragment's own check (AppTest reruns the whole page, whose run list would say so
    # first): it reruns the page once, then says so instead of ranking.
    from ui import state

    at = open_page(lab.runs["sample"])
    assert not at.exception and top_table(at) is not None
    gone, real = lab.runs["sample"], state.store()

    class Store:
        def __getattr__(self, name):
            return getattr(real, name)

        def get(self, run_id):
            if run_id == gone:
                raise MtlrecError(f"run '{run_id}' does not exist (it may have been deleted)")
            return real.get(run_id)

    monkeypatch.setattr(state, "store", Store)
    at.slider(key="recommend_k").set_value(5).run()

    assert not at.exception
    assert at.session_state["recommend_run_gone"] == gone  # the page was rerun once for it
    assert any(f"run '{gone}' does not exist" in i.value for i in at.info)
    assert not [d for d in at.dataframe if "rank" in d.value.columns]  # no ranking of the deleted run
