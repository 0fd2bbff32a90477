"""fuse(): rank candidates by the weighted sum of their task scores, hand-checked and at the app's scale; which
columns a candidate row takes from the item and which from the user's latest row."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from scipy.stats import f as f_distribution

from mtlrec import charts
from mtlrec.config import TaskSpec
from mtlrec.errors import MtlrecError
from mtlrec.experiment import run_experiment
from mtlrec.recommend import (
    Agreement,
    Recommender,
    agreement,
    default_fusion,
    explained,
    fuse,
    history_rows,
    item_features,
    spread,
)


def three_items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": ["a", "b", "c"],
            "click": [0.2, 0.5, 0.1],
            "like": [0.9, 0.1, 0.3],
            "seen": [False, False, True],
        }
    )


def test_fuse_ranks_by_weighted_sum_hand_checked():
    # fused = click + 2 * like: a = 0.2 + 1.8 = 2.0, b = 0.5 + 0.2 = 0.7, c = 0.1 + 0.6 = 0.7 (c is seen)
    top = fuse(three_items(), {"click": 1.0, "like": 2.0}, k=10, exclude_seen=True)
    assert list(top["item"]) == ["a", "b"]
    assert list(top["rank"]) == [1, 2]
    np.testing.assert_allclose(top["fused"], [2.0, 0.7])


def test_equal_spread_fuses_each_tasks_z_scores_over_all_candidates_hand_checked():
    # click 0.2, 0.5, 0.1 (mean 0.2667, SD 0.1700); like 0.9, 0.1, 0.3 (mean 0.4333, SD 0.3399): like varies twice
    # as much, so at weights 1 and 1 it decided the order; as z-scores the two count equally. The seen item c is
    # one of the candidates the scores are standardised over.
    scores = three_items()
    z_click = (np.array([0.2, 0.5, 0.1]) - 0.8 / 3) / np.std([0.2, 0.5, 0.1])
    z_like = (np.array([0.9, 0.1, 0.3]) - 1.3 / 3) / np.std([0.9, 0.1, 0.3])
    top = fuse(scores, {"click": 1.0, "like": 1.0}, k=10, exclude_seen=False, equal_spread=True)
    np.testing.assert_allclose(top["fused"], np.sort(z_click + z_like)[::-1])
    assert list(top["item"]) == ["a", "b", "c"]  # a 1.0, b 0.97, c -1.9
    assert list(fuse(scores, {"click": 1.0, "like": 1.0}, k=10, exclude_seen=False)["item"]) == ["a", "b", "c"]
    np.testing.assert_allclose(  # 3 x click against like: b first with z-scores (click's best), a without
        fuse(scores, {"click": 3.0, "like": 1.0}, k=1, equal_spread=True)["fused"], [3 * z_click[1] + z_like[1]]
    )
    assert fuse(scores, {"click": 1.0, "like": 2.0}, k=1)["item"].tolist() == ["a"]
    assert fuse(scores, {"click": 3.0, "like": 1.0}, k=1, equal_spread=True)["item"].tolist() == ["b"]
    same = scores.assign(click=0.4)  # one value for every item: a z-score of 0, not a division by zero
    np.testing.assert_allclose(fuse(same, {"click": 1.0, "like": 0.0}, k=3, equal_spread=True)["fused"], 0.0)
    assert spread(scores, ["click", "like"]) == pytest.approx({"click": 0.16997, "like": 0.33993}, rel=1e-4)


def test_fuse_keeps_seen_items_when_asked_and_breaks_ties_by_candidate_order():
    top = fuse(three_items(), {"click": 1.0, "like": 2.0}, k=10, exclude_seen=False)
    assert list(top["item"]) == ["a", "b", "c"]  # b and c tie at 0.7: b comes first in the candidates
    assert list(top["seen"]) == [False, False, True]


def test_fuse_with_one_task_weighted_ranks_by_that_task_and_cuts_at_k():
    top = fuse(three_items(), {"click": 1.0, "like": 0.0}, k=1, exclude_seen=True)
    assert list(top["item"]) == ["b"]
    np.testing.assert_allclose(top["fused"], [0.5])


def test_fuse_leaves_the_scores_unchanged():
    scores = three_items()
    fuse(scores, {"click": 1.0, "like": 2.0}, k=2)
    pd.testing.assert_frame_equal(scores, three_items())


def test_fuse_on_5000_candidates_matches_a_direct_sort():
    rng = np.random.default_rng(0)
    n = 5000
    scores = pd.DataFrame(
        {
            "item": [f"i{i:04d}" for i in range(n)],
            "click": rng.random(n),
            "like": rng.random(n),
            "purchase": rng.random(n) * 0.1,
            "watch_time": rng.standard_normal(n),
            "seen": rng.random(n) < 0.1,
        }
    )
    fusion = {"click": 1.0, "like": 0.5, "purchase": 3.0, "watch_time": 0.2}
    top = fuse(scores, fusion, k=50, exclude_seen=True)

    fused = sum(weight * scores[task].to_numpy() for task, weight in fusion.items())
    unseen = np.flatnonzero(~scores["seen"].to_numpy())
    expected = unseen[np.argsort(-fused[unseen], kind="stable")[:50]]
    assert list(top["item"]) == list(scores["item"].to_numpy()[expected])
    np.testing.assert_allclose(top["fused"], fused[expected])
    assert list(top["rank"]) == list(range(1, 51))

    timings = []
    for _ in range(20):
        start = time.perf_counter()
        fuse(scores, fusion, k=50, exclude_seen=True)
        timings.append(time.perf_counter() - start)
    print(f"fuse over {n:,} candidates: best {min(timings) * 1000:.2f} ms, median {np.median(timings) * 1000:.2f} ms")


def test_agreement_beyond_chance_hand_checked():
    # 12 items seen twice; the column agrees within 8 of them. Values 0/1 in equal shares: chance agreement 1/2, so
    # kappa (8/12 - 1/2) / (1/2) = 1/3; not strong (needs 0.5, and 3 standard errors: 3 * sqrt(0.25 / 12) = 0.433).
    keys = np.repeat(np.arange(12), 2)
    values = np.array([0, 0] * 4 + [1, 1] * 4 + [0, 1] * 4)
    measured = agreement(keys, values)
    assert measured == Agreement(agree=8 / 12, chance=0.5, keys=12)
    assert measured.kappa == pytest.approx(1 / 3) and not measured.strong()
    assert agreement(keys, np.repeat(np.arange(12) % 2, 2)).strong()  # every item's two rows agree
    assert agreement(keys[:18], values[:18]) is None  # 9 items seen twice: too few to tell
    assert agreement(keys, np.zeros(24, dtype=int)) is None  # one value everywhere


def test_explained_variance_hand_checked():
    # 10 items x 2 rows: item means 0..9 (between SS = 2 * sum((m - 4.5)^2) = 165), each pair +-1 around it (within
    # SS = 20, MS_within = 20 / 10 = 2): epsilon^2 = (165 - 9 * 2) / 185 = 147 / 185
    keys = np.repeat(np.arange(10), 2)
    values = np.repeat(np.arange(10.0), 2) + np.tile([-1.0, 1.0], 10)
    measured = explained(keys, values)
    assert measured.share == pytest.approx(147 / 185) and measured.keys == 10
    assert measured.p_value == pytest.approx(f_distribution.sf((165 / 9) / 2, 9, 10)) and measured.strong()
    assert explained(keys[:18], values[:18]) is None  # 9 items seen twice: too few to tell
    assert explained(keys, np.full(20, 3.0)) is None  # no variance


def test_a_numeric_item_attribute_that_varies_a_little_per_row_is_the_items_not_user_or_context_numbers():
    # A price with discounts (+-1 around each item's own price) never repeats exactly: every candidate was scored
    # with the price of the user's latest row. A user's income with noise and a per-row amount stay the user's.
    rng = np.random.default_rng(4)
    n = 20_000
    items, users = rng.integers(0, 600, n), rng.integers(0, 800, n)
    frame = pd.DataFrame(
        {
            "user_id": users,
            "item_id": items,
            "price": rng.gamma(2, 20, 600)[items] + rng.uniform(-1, 1, n),
            "income": rng.gamma(3, 10, 800)[users] + rng.uniform(-1, 1, n),
            "basket_value": rng.gamma(2, 20, n),
        }
    )
    frame.loc[rng.random(n) < 0.05, "price"] = np.nan  # missing values are left out, not a value of their own

    assert item_features(frame, "user_id", "item_id", ["price", "income", "basket_value"]) == ["price"]


def test_a_rare_flag_constant_within_items_is_the_items():
    # 10% of the items are "premium": chance agreement is high (0.82), and the margin for chance made its kappa
    # 0.40, so every candidate took the user's latest row's flag.
    rng = np.random.default_rng(0)
    items = np.repeat(np.arange(50), 2)
    frame = pd.DataFrame(
        {"user_id": rng.integers(0, 30, 100), "item_id": items, "premium": (items % 10 == 0).astype(int)}
    )
    assert item_features(frame, "user_id", "item_id", ["premium"]) == ["premium"]


def test_a_catalogue_of_items_seen_once_takes_user_columns_from_the_user():
    # Nearly every item has one row, so every column is trivially constant within items: user_age was taken from
    # whoever last saw each item, and the user's own age from no candidate at all.
    rng = np.random.default_rng(2)
    n = 3000
    users = rng.integers(0, 100, n)
    frame = pd.DataFrame(
        {
            "user_id": users,
            "item_id": np.arange(n) % 2990,
            "user_age": (users % 5) * 10 + 20,
            "device": rng.choice(["ios", "android", "web"], n),
            "price": rng.gamma(2, 10, 2990)[np.arange(n) % 2990],
        }
    )

    assert item_features(frame, "user_id", "item_id", ["user_age", "device", "price"]) == ["price"]


def test_an_item_attribute_that_changes_for_some_items_is_still_the_items():
    # A price that changed for 10% of the items was taken from the user's latest row for every candidate.
    rng = np.random.default_rng(0)
    n = 6000
    items = rng.integers(0, 300, n)
    price = rng.gamma(2, 10, 300)[items]
    price[(items % 10 == 0) & (np.arange(n) > n // 2)] += 5.0  # repriced halfway through
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 400, n),
            "item_id": items,
            "price": price,
            "category": (items % 7).astype(str),
            "hour": rng.integers(0, 24, n),
        }
    )

    assert item_features(frame, "user_id", "item_id", ["price", "category", "hour"]) == ["price", "category"]


def test_a_task_trained_with_loss_weight_0_starts_out_of_the_fusion(interactions, make_config):
    # Its tower never learned, and its scores entered the default ranking with weight 1.
    config = make_config(epochs=1)
    config.tasks[1].weight = 0.0  # like: evaluated, not trained
    result = run_experiment(config, interactions)
    recommender = Recommender(result.model, result.encoder, config, interactions)
    users = recommender.users()
    counts = interactions[config.data.user_col].value_counts()
    expected = sorted(counts.index, key=lambda u: (-counts[u], str(u)))
    assert users == expected  # most active first, ties by text
    users.clear()
    assert recommender.users() == expected  # worked out once, and callers get their own list
    user = recommender.users()[0]

    top = recommender.recommend(user, k=5)

    expected = fuse(recommender.score(user), {"click": 1.0, "like": 0.0, "watch_time": 1.0}, k=5)
    pd.testing.assert_frame_equal(top, expected)
    assert default_fusion(config.tasks) == {"click": 1.0, "like": 0.0, "watch_time": 1.0}
    for weight in (float("nan"), float("inf")):
        with pytest.raises(MtlrecError, match="fusion weights must be finite numbers"):
            recommender.recommend(user, fusion={"click": weight, "like": 1.0})


@pytest.mark.parametrize("k", [0, -1, "5", 2.5, True, None])
def test_fuse_refuses_a_k_that_is_no_whole_number_of_at_least_1(k):
    # k=-1 kept every candidate but one, and k="5" raised a TypeError from slicing.
    with pytest.raises(MtlrecError) as error:
        fuse(three_items(), {"click": 1.0}, k=k)

    assert error.value.problems == [f"k must be a whole number >= 1, got {k!r}"]


def test_fuse_takes_a_numpy_or_float_whole_number_as_k():
    assert len(fuse(three_items(), {"click": 1.0}, k=np.int64(1))) == 1
    assert len(fuse(three_items(), {"click": 1.0}, k=2.0)) == 2


def test_a_partial_fusion_keeps_the_default_weight_of_the_tasks_it_does_not_name(interactions, make_config):
    # fusion={"like": 3} gave click and watch_time weight 0, while the CLI's --fusion like=3 kept their default 1.
    result = run_experiment(make_config(epochs=1), interactions)
    recommender = Recommender(result.model, result.encoder, result.config, interactions)
    user = recommender.users()[0]

    top = recommender.recommend(user, k=5, fusion={"like": 3})

    assert recommender.fusion_weights({"like": 3}) == {"click": 1.0, "like": 3.0, "watch_time": 1.0}
    expected = fuse(recommender.score(user), {"click": 1.0, "like": 3.0, "watch_time": 1.0}, k=5)
    pd.testing.assert_frame_equal(top, expected)
    with pytest.raises(MtlrecError) as error:
        recommender.recommend(user, fusion={"like": "x", "click": None})
    assert error.value.problems == ["fusion weights must be finite numbers, got like='x', click=None"]
    with pytest.raises(MtlrecError) as error:
        recommender.recommend(user, k=-1)
    assert error.value.problems == ["k must be a whole number >= 1, got -1"]
    item = str(interactions["item_id"].iloc[0])
    with pytest.raises(MtlrecError) as error:  # a bare string was ranked character by character
        recommender.recommend(user, candidates=item)
    assert error.value.problems == [
        f"candidates must be a list of item ids, got the text {item!r}: pass [{item!r}] for one item"
    ]


def test_negative_feedback_starts_with_a_negative_fusion_weight():
    # With +1 for every task, a KuaiRand-shaped log ranked the items users hate first, and the app's sliders could
    # not go below 0.
    tasks = [
        TaskSpec("is_click"),
        TaskSpec("is_hate"),
        TaskSpec("dislike"),
        TaskSpec("not_skipped"),
        TaskSpec("skipped"),
    ]
    tasks.append(TaskSpec("is_report", weight=0.0))
    tasks.append(TaskSpec("nonclk"))  # Taobao's: beside clk, +1 made every fused score 1 (clk + 1 - clk)
    assert default_fusion(tasks) == {
        "is_click": 1.0, "is_hate": -1.0, "dislike": -1.0, "not_skipped": 1.0, "skipped": -1.0, "is_report": 0.0,
        "nonclk": -1.0,
    }  # fmt: skip


def test_default_fusion_keeps_an_esmm_parent_trained_through_its_conditional_task():
    tasks = [TaskSpec("click", weight=0.0), TaskSpec("purchase"), TaskSpec("is_hate")]
    assert default_fusion(tasks) == {"click": 0.0, "purchase": 1.0, "is_hate": -1.0}
    assert default_fusion(tasks, untrained=set()) == {"click": 1.0, "purchase": 1.0, "is_hate": -1.0}


def test_a_users_latest_row_is_one_with_a_time_when_some_rows_have_none(interactions, make_config):
    # KuaiRec has rows with an empty time: they sorted last, so a user's "latest" row was one with no time at all.
    frame = interactions.copy()
    frame["hour"] = np.arange(len(frame)) % 24
    config = make_config(epochs=1)
    config.data.numeric = ["price", "hour"]
    user = frame["user_id"].iloc[0]
    rows = np.flatnonzero(frame["user_id"] == user)
    frame["timestamp"] = frame["timestamp"].astype(float)
    frame.loc[rows[0], ["timestamp", "hour"]] = [np.nan, 99]  # first in the file, no time
    latest = rows[np.argmax(frame["timestamp"].to_numpy()[rows[1:]]) + 1]
    result = run_experiment(config, frame)

    candidates = Recommender(result.model, result.encoder, config, frame).candidate_rows(user)

    assert (candidates["hour"] == frame.loc[latest, "hour"]).all() and frame.loc[latest, "hour"] != 99


def test_items_the_model_never_trained_on_are_not_ranked_and_not_taken_as_candidates(interactions, make_config):
    # Items only in the held-out rows were candidates, all scored with the unknown-id vector no row had trained:
    # one arbitrary score, ranked among the real items (6 such items took ranks 4-9 of 80 in an audit).
    frame = interactions.copy()
    new = frame.sample(n=30, random_state=1).index
    frame["item_id"] = frame["item_id"].astype(int)
    frame.loc[new, "item_id"] = range(10_000, 10_030)  # ids of their own, one row each
    config = make_config(epochs=1)
    result = run_experiment(config, frame)
    trained = set(result.encoder.vocab_["item_id"])
    never = sorted({str(i) for i in range(10_000, 10_030)} - trained)
    assert never  # the random split left some of them out of the training rows
    recommender = Recommender(result.model, result.encoder, config, frame)
    user = recommender.users()[0]

    ranked = recommender.recommend(user, k=10_000, exclude_seen=False)["item"].map(str)

    assert not set(never) & set(ranked) and set(ranked) == {str(i) for i in frame["item_id"].unique()} - set(never)
    assert sorted(map(str, recommender.untrained_items)) == never
    assert recommender.untrained_note().startswith(f"{len(never)} item{'s' if len(never) > 1 else ''} of the data (")
    recommender.untrained_items = recommender.untrained_items[:1]  # one: said of it, not "them … they all"
    assert recommender.untrained_note().endswith("the model never trained on it (it is only in the validation or "
                                                 "test rows, or new in the file), so it would get the untrained "
                                                 "unknown-item score")  # fmt: skip
    recommender.untrained_items = [int(i) for i in never]
    with pytest.raises(MtlrecError, match="never trained on"):
        recommender.recommend(user, candidates=[int(never[0])])
    # Without the item id among the features an item is scored by its features alone: every item is ranked.
    config.data.categorical = [c for c in config.data.categorical if c != "item_id"]
    result = run_experiment(config, frame)
    assert Recommender(result.model, result.encoder, config, frame).untrained_items == []


def test_a_user_without_training_rows_is_said_to_be_scored_with_the_unknown_user_vector(interactions, make_config):
    # Under the user split the test users have no embedding: their top-K came from one shared vector, unsaid.
    config = make_config(epochs=1)
    config.split.method = "user"
    result = run_experiment(config, interactions)
    recommender = Recommender(result.model, result.encoder, config, interactions)
    trained = set(result.encoder.vocab_["user_id"])
    users = recommender.users()
    known = next(u for u in users if str(u) in trained)
    unknown = next(u for u in users if str(u) not in trained)

    assert recommender.unknown_user_note(known) is None
    assert recommender.unknown_user_note(unknown) == (
        f"user {unknown!r} has no embedding of their own (no training rows: only validation or test rows, or new in "
        "the file): the model scores them with the unknown-user vector, which no training row trained, so such users "
        "get much the same list, differing only by their own features and what they have seen"
    )
    assert recommender.unknown_users(users).sum() == len({str(u) for u in users} - trained)


def test_a_test_files_rows_are_the_users_history_too(interactions, make_config, tmp_path):
    # With an explicit test file, Recommend read the training file alone: items a user had seen in the test file
    # came back in their top-K, and their latest row was not their latest (a review).
    from mtlrec.cli import main

    frame = interactions.sort_values("timestamp").reset_index(drop=True)
    train, test = frame.iloc[: len(frame) * 4 // 5], frame.iloc[len(frame) * 4 // 5 :]
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    config = make_config(epochs=1)
    result = run_experiment(config, train, test)
    user = next(u for u in test["user_id"] if u in set(train["user_id"]))
    seen_in_test = set(test.loc[test["user_id"] == user, "item_id"]) - set(
        train.loc[train["user_id"] == user, "item_id"]
    )
    assert seen_in_test

    recommender = Recommender(result.model, result.encoder, config, history_rows(train, test))

    ranked = recommender.recommend(user, k=10_000)
    assert not seen_in_test & set(ranked["item"])
    latest = recommender.history(user).iloc[0]
    assert latest["timestamp"] == test.loc[test["user_id"] == user, "timestamp"].max()
    # the CLI reads the run's test file too
    assert main(["train", str(tmp_path / "train.csv"), "--test-data", str(tmp_path / "test.csv"), "--size", "tiny",
                 "--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]) == 0  # fmt: skip
    out = tmp_path / "top.csv"
    assert main(["recommend", "--run", str(tmp_path / "run"), "--user", str(user), "--k", "10000", "--out",
                 str(out)]) == 0  # fmt: skip
    assert not seen_in_test & set(pd.read_csv(out)["item"])


@pytest.mark.parametrize("exclude_seen", [True, False])
def test_top_k_for_every_user_ranks_as_recommend_does_for_each(interactions, make_config, monkeypatch, exclude_seen):
    # An analyst's export: only one user's top-K could be downloaded. Users are scored in batches (3 of them here).
    import mtlrec.recommend

    config = make_config(epochs=1)
    result = run_experiment(config, interactions)
    recommender = Recommender(result.model, result.encoder, config, interactions)
    users = recommender.users()[:7]
    monkeypatch.setattr(mtlrec.recommend, "BATCH_ROWS", 3 * len(recommender.items))
    done = []
    fusion = {"click": 2.0, "like": 0.5}
    table = recommender.recommend_all(k=4, fusion=fusion, exclude_seen=exclude_seen, users=users,
                                      progress=lambda n, total: done.append((n, total)))  # fmt: skip
    assert done == [(3, 7), (6, 7), (7, 7)]
    assert list(table.columns[:3]) == ["user_id", "rank", "item"]
    even = recommender.recommend_all(k=4, fusion=fusion, exclude_seen=exclude_seen, users=users, equal_spread=True)
    for user in users:
        for spread_out, every in ((False, table), (True, even)):  # z-scores per user: over that user's candidates
            one = recommender.recommend(user, k=4, fusion=fusion, exclude_seen=exclude_seen, equal_spread=spread_out)
            mine = every[every["user_id"] == user].reset_index(drop=True)
            assert mine["item"].tolist() == one["item"].tolist() and mine["rank"].tolist() == [1, 2, 3, 4]
            for column in ("click", "like", "watch_time", "watch_time_value", "fused"):
                np.testing.assert_allclose(mine[column].to_numpy(float), one[column].to_numpy(float), rtol=1e-5)


def test_candidates_are_scored_at_the_top_position_not_the_users_last_rows(interactions, make_config):
    # Trivago's position: at the user's last row's position 25 every item scored 0.0005, against a click rate of
    # 0.1 at the top (an audit). A user's own rank (the same in all their rows) is the user's, and kept.
    rng = np.random.default_rng(0)
    frame = interactions.copy()
    frame["position"] = rng.integers(1, 26, len(frame))
    frame["click"] = ((frame["click"] == 1) & (frame["position"] <= 5)).astype(np.int64)
    frame["user_rank"] = frame["user_id"].str[1:].astype(int) % 7
    config = make_config(epochs=2)
    config.data.numeric = ["price", "position", "user_rank"]
    result = run_experiment(config, frame)
    recommender = Recommender(result.model, result.encoder, config, frame)
    user = frame["user_id"].iloc[-1]
    assert recommender.shown_at == {"position": 1}
    assert [n for n in recommender.notes() if n.startswith("column 'position'")] == [
        "column 'position' says where an item was shown: every candidate is scored at position = 1 (its top value "
        "in the data, where a recommended item would be shown), not at the user's last row's"
    ]
    candidates = recommender.candidate_rows(user)
    assert (candidates["position"] == 1).all()
    assert (candidates["user_rank"] == frame["user_rank"].iloc[-1]).all()
    every = recommender.recommend_all(k=5, users=[user])
    one = recommender.recommend(user, k=5)
    assert every["item"].tolist() == one["item"].tolist()
    np.testing.assert_allclose(every["click"].to_numpy(float), one["click"].to_numpy(float), rtol=1e-5)


def test_every_users_inputs_are_put_together_from_rows_encoded_once_and_equal_the_candidate_rows_encoded(
    interactions, make_config
):
    # recommend_all encodes each user's latest row once and the items once (before: every user x item row was built
    # as a table and encoded). The inputs must be those of candidate_rows, exactly: ids, the item's and the
    # user's columns, a numeric column's missing indicator, a multi-valued column's token inputs, the top position.
    rng = np.random.default_rng(1)
    frame = interactions.copy()
    frame["genres"] = [
        "|".join(sorted(set(rng.choice(["a", "b", "c", "d"], rng.integers(1, 3))))) for _ in range(len(frame))
    ]
    frame["position"] = rng.integers(1, 9, len(frame))
    config = make_config(epochs=1)
    config.data.numeric = ["price", "position"]
    config.data.multi = ["genres"]
    result = run_experiment(config, frame)
    recommender = Recommender(result.model, result.encoder, config, frame)
    users = recommender.users()[:3]
    paired = recommender._pairs(users, recommender._encoded_items())
    one_by_one = [result.encoder.transform(recommender.candidate_rows(user), labels=False) for user in users]
    assert result.encoder.missing_indicators_ == ["price"] and "genres" in result.encoder.tokens_
    np.testing.assert_array_equal(paired.categorical, np.concatenate([e.categorical for e in one_by_one]))
    np.testing.assert_array_equal(paired.numeric, np.concatenate([e.numeric for e in one_by_one]))


# Pinned by a mutation audit (2026-12-07): each test fails on a plausible one-line change that the suite let pass.


def test_a_regression_task_fuses_its_standardised_output_not_its_label_scale_value():
    from mtlrec.recommend import ranking_scores

    tasks = [TaskSpec("click"), TaskSpec("watch", "regression")]
    scores = ranking_scores(tasks, np.array([[0.0, 0.5]]), np.array([[0.5, 100.0]]))  # 100 s would swamp click's 0.5

    assert scores["click"].tolist() == [0.5] and scores["watch"].tolist() == [0.5]


def test_candidates_take_an_items_features_from_its_most_recent_row(interactions, make_config):
    from mtlrec.recommend import Recommender

    frame = interactions.copy()
    item = frame["item_id"].iloc[0]
    rows = np.flatnonzero(frame["item_id"] == item)
    frame["category"] = frame["item_id"].map(lambda i: ["news", "sports", "games", "music"][int(i) % 4]).astype(object)
    frame.loc[rows[-1], "category"] = "new"
    config = make_config(epochs=1)
    result = run_experiment(config, frame)

    recommender = Recommender(result.model, result.encoder, config, frame)

    assert "category" in recommender.item_features
    assert recommender.items.set_index("item_id").loc[item, "category"] == "new"


# --- tasks logged under another (a purchase after clicks only): the chance of both ---


def funnel_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """click on every row; like only where click is 1 (0 or 1); purchase logged (0/1) where like is 1, else missing."""
    rng = np.random.default_rng(seed)
    click = (rng.random(n) < 0.4).astype(float)
    like = np.where(click == 1, (rng.random(n) < 0.5).astype(float), 0.0)
    purchase = np.where(like == 1, (rng.random(n) < 0.3).astype(float), np.nan)
    dwell = np.where(click == 1, rng.exponential(10.0, n), np.nan)
    return pd.DataFrame({"click": click, "like": like, "purchase": purchase, "dwell": dwell})


def test_a_labelled_only_task_is_logged_under_the_nearest_task_whose_1s_hold_its_labels():
    from mtlrec.recommend import conditions, joint_tasks

    frame = funnel_frame()
    tasks = [TaskSpec("click"), TaskSpec("like"), TaskSpec("purchase", labelled_only=True)]
    tasks.append(TaskSpec("dwell", "regression", labelled_only=True))

    found = conditions(frame, tasks)

    # purchase is labelled where like is 1 (and click too, every like being a click): like has fewer 1s
    assert found == {"purchase": "like", "dwell": "click"}
    assert joint_tasks(tasks, found) == {"purchase": "like"}  # a dwell time has no probability to multiply
    assert conditions(frame, tasks, untrained={"like"}) == {"purchase": "click", "dwell": "click"}
    # Not trained on its labelled rows only (filled or dropped): no condition to read.
    assert conditions(frame, [TaskSpec("click"), TaskSpec("like"), TaskSpec("dwell", "regression")]) == {}


def test_a_label_logged_also_where_the_other_task_is_0_is_not_read_as_conditional():
    from mtlrec.recommend import CONDITION_SHARE, conditions

    frame = funnel_frame(n=1000)
    labelled = np.flatnonzero(frame["dwell"].notna().to_numpy())
    unclicked = np.flatnonzero(frame["click"].to_numpy() == 0)
    tasks = [TaskSpec("click"), TaskSpec("dwell", "regression", labelled_only=True)]
    # just under the share: one more unclicked row labelled than the share allows
    extra = int(np.floor(len(labelled) * (1 - CONDITION_SHARE) / CONDITION_SHARE)) + 1
    frame.loc[unclicked[:extra], "dwell"] = 5.0
    assert conditions(frame, tasks) == {}
    frame.loc[unclicked[extra - 1], "dwell"] = np.nan  # one fewer: within the share
    assert conditions(frame, tasks) == {"dwell": "click"}
    # A task that is 1 on every row conditions nothing (its probability would only rescale).
    assert conditions(frame.assign(click=1.0), tasks) == {}


def test_labels_spelled_yes_no_true_false_or_minus_one_hold_a_condition_as_0_1_do():
    from mtlrec.recommend import conditions

    frame = funnel_frame()
    tasks = [TaskSpec("click"), TaskSpec("dwell", "regression", labelled_only=True)]
    assert conditions(frame, tasks) == {"dwell": "click"}
    for spelled in (
        frame["click"].map({1.0: "yes", 0.0: "no"}),
        frame["click"].map({1.0: "True", 0.0: "false"}),
        frame["click"].map({1.0: 1, 0.0: -1}),
        frame["click"] == 1,  # a bool column
    ):
        assert conditions(frame.assign(click=spelled), tasks) == {"dwell": "click"}


def test_a_task_that_is_1_on_nearly_every_row_holds_labels_by_chance_not_as_a_condition():
    from mtlrec.recommend import CONDITION_CONTRAST, CONDITION_SHARE, conditions

    rng = np.random.default_rng(3)
    n = 20_000
    # click is 1 on 99.5% of rows; dwell is labelled on a random tenth: 99.5% of its labels sit on clicks by chance
    click = (rng.random(n) < 0.995).astype(float)
    dwell = np.where(rng.random(n) < 0.1, 5.0, np.nan)
    frame = pd.DataFrame({"click": click, "dwell": dwell})
    tasks = [TaskSpec("click"), TaskSpec("dwell", "regression", labelled_only=True)]
    labelled = frame["dwell"].notna()
    assert (frame.loc[labelled, "click"] == 1).mean() >= CONDITION_SHARE  # the share alone would say "logged under"
    assert conditions(frame, tasks) == {}
    # Every label on a click, the click 0 on 0.5% of rows: under 1 - share, still too rare to tell a condition.
    assert conditions(frame.assign(dwell=np.where(click == 1, dwell, np.nan)), tasks) == {}
    # A click that is 0 on a fifth of the rows, every label on a click: logged under it.
    click = (rng.random(n) < 0.8).astype(float)
    logged = frame.assign(click=click, dwell=np.where(click == 1, dwell, np.nan))
    assert conditions(logged, tasks) == {"dwell": "click"}
    # A few labels on unclicked rows (0.5% of them) while click is 0 on a fifth of all rows: still logged under it.
    labelled = np.flatnonzero(logged["dwell"].notna().to_numpy())
    unclicked = np.flatnonzero(click == 0)
    stray = len(labelled) // 200
    logged.loc[unclicked[:stray], "dwell"] = 5.0
    assert stray / (len(labelled) + stray) < min(1 - CONDITION_SHARE, (click == 0).mean() / CONDITION_CONTRAST)
    assert conditions(logged, tasks) == {"dwell": "click"}
    # A few labels where click is 0 on 2% of the rows: none of them unclicked happens by chance (0.98^60 = 0.30)
    click = (rng.random(n) < 0.98).astype(float)
    dwell = np.full(n, np.nan)
    dwell[np.flatnonzero(click == 1)[:60]] = 5.0
    assert conditions(pd.DataFrame({"click": click, "dwell": dwell}), tasks) == {}
    dwell[np.flatnonzero(click == 1)[:2000]] = 5.0  # 2,000 of them, none unclicked: 0.98^2000, no chance
    assert conditions(pd.DataFrame({"click": click, "dwell": dwell}), tasks) == {"dwell": "click"}


def test_a_longer_funnel_is_named_and_written_out_by_every_step():
    # 'like × purchase' named P(click) P(like | click) P(purchase | like) (a diff review)
    from mtlrec.config import chain_label, funnel_chain
    from mtlrec.recommend import chain_formula

    joint = {"like": "click", "purchase": "like"}
    assert funnel_chain("purchase", joint) == ["click", "like", "purchase"] and funnel_chain("click", joint) == [
        "click"
    ]
    assert chain_label("purchase", joint) == "click × like × purchase" and chain_label("like", joint) == "click × like"
    assert chain_formula("purchase", joint) == "P(click) × P(like | click) × P(purchase | like)"
    assert funnel_chain("a", {"a": "b", "b": "a"}) == ["b", "a"]  # a loop (never from data) ends
    top = pd.DataFrame({"rank": [1], "item": [3], "click": [0.5], "like": [0.2], "purchase": [0.02]})
    fig = charts.recommendation_bars(top, [TaskSpec("click"), TaskSpec("like"), TaskSpec("purchase")], joint)
    assert [t.name for t in fig.data] == ["click", "click × like", "click × like × purchase"]
    assert "chance of every step" in fig.data[2].hovertemplate and "chance of both" in fig.data[1].hovertemplate


def test_the_notes_of_a_longer_funnel_write_out_every_step():
    # They said "the chance of both, P(like) × P(purchase | like)" of P(click) P(like | click) P(purchase | like)
    from types import SimpleNamespace

    from mtlrec.recommend import Recommender

    joint = {"like": "click", "purchase": "like"}
    tasks = [TaskSpec("click"), TaskSpec("like", labelled_only=True), TaskSpec("purchase", labelled_only=True)]
    stub = SimpleNamespace(conditions=joint, joint=joint, config=SimpleNamespace(tasks=tasks))
    notes = Recommender.condition_notes(stub, joint=True)
    assert "so it is ranked by the chance of every step, P(click) × P(like | click) × P(purchase | like)" in notes[1]
    assert "so it is ranked by the chance of both, P(click) × P(like | click)" in notes[0]
    assert (
        "(the chance of every step, P(click) × P(like | click) × P(purchase | like), is"
        in (Recommender.condition_notes(stub, joint=False)[1])
    )


def test_the_chance_of_both_multiplies_down_the_funnel_by_hand():
    from mtlrec.recommend import joint_scores

    scores = {"click": np.array([0.5, 0.2]), "like": np.array([0.4, 0.9]), "purchase": np.array([0.1, 0.5])}

    both = joint_scores(scores, {"like": "click", "purchase": "like"})

    np.testing.assert_allclose(both["like"], [0.2, 0.18])  # 0.5 x 0.4, 0.2 x 0.9
    np.testing.assert_allclose(both["purchase"], [0.02, 0.09])  # 0.5 x 0.4 x 0.1, 0.2 x 0.9 x 0.5
    np.testing.assert_array_equal(both["click"], scores["click"])
    np.testing.assert_array_equal(scores["purchase"], [0.1, 0.5])  # the input is left as it was


def test_a_user_written_7_and_7_is_one_user_whose_items_seen_either_way_are_hidden(interactions, make_config):
    from mtlrec.recommend import Recommender

    frame = interactions.copy()
    codes = frame["user_id"].str[1:].astype(int)
    frame["user_id"] = pd.Series([int(c) if i % 2 else str(c) for i, c in enumerate(codes)], dtype=object)
    result = run_experiment(make_config(epochs=1), frame)

    recommender = Recommender(result.model, result.encoder, result.config, frame)

    assert len(recommender.users()) == codes.nunique()  # not one user per way of writing the id
    user = int(codes.iloc[0])
    seen = set(frame.loc[codes == user, "item_id"])  # written 7 in some rows and "7" in others
    assert len(recommender.history(user)) == int((codes == user).sum())
    top = recommender.recommend(user, k=len(recommender.items))
    assert not seen & set(top["item"]) and len(top) == len(recommender.items) - len(seen)
    assert recommender.recommend(str(user), k=5)["item"].tolist() == top["item"].tolist()[:5]


def test_ids_read_as_floats_are_listed_as_the_whole_numbers_they_are(interactions, make_config):
    # An item column with a missing id is read as floats: the top-K listed item 20 as 20.0000 (an audit)
    from mtlrec.recommend import Recommender

    frame = interactions.assign(item_id=interactions["item_id"].astype(float))
    result = run_experiment(make_config(epochs=1), frame)
    recommender = Recommender(result.model, result.encoder, result.config, frame)
    top = recommender.recommend(recommender.users()[0], k=5)
    assert pd.api.types.is_integer_dtype(top["item"]) and ".0 " not in top.to_string()
    as_ints = Recommender(result.model, result.encoder, result.config, interactions)
    expected = as_ints.recommend(as_ints.users()[0], k=5)
    assert top["item"].tolist() == expected["item"].tolist()  # the same items, scored alike
    np.testing.assert_allclose(top["fused"], expected["fused"], rtol=1e-6)
    # Candidates passed as floats (or as the ids are) come back as the data's ids, in the order of their scores
    wanted = [float(item) for item in expected["item"].tolist()[:3]]
    picked = as_ints.recommend(as_ints.users()[0], candidates=wanted[::-1], k=3)
    assert picked["item"].tolist() == expected["item"].tolist()[:3] and pd.api.types.is_integer_dtype(picked["item"])
