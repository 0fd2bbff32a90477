"""Specifications of mtlrec.metrics: hand-computed small cases, then randomised checks against sklearn."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import ndcg_score, roc_auc_score

from mtlrec.metrics import (
    HIGHER_IS_BETTER,
    binary_metrics,
    gauc,
    higher_is_better,
    ranking_metrics,
    regression_metrics,
    task_metrics,
)

LOG2_3 = math.log2(3)

# Three users for GAUC, worked out pair by pair (positive score vs negative score; a tie counts 1/2):
#   a: labels 1 0 1 0, scores .9 .8 .3 .1 -> (.9,.8)=1 (.9,.1)=1 (.3,.8)=0 (.3,.1)=1 -> AUC 3/4, weight 4
#   b: labels 0 1 0,   scores .7 .5 .5    -> (.5,.7)=0 (.5,.5)=1/2                -> AUC 1/4, weight 3
#   c: labels 1 1,     scores .4 .6       -> one class only, skipped
#   GAUC = (4 * 3/4 + 3 * 1/4) / (4 + 3) = 3.75 / 7
GAUC_USERS = ["a", "a", "a", "a", "b", "b", "b", "c", "c"]
GAUC_LABELS = [1, 0, 1, 0, 0, 1, 0, 1, 1]
GAUC_SCORES = [0.9, 0.8, 0.3, 0.1, 0.7, 0.5, 0.5, 0.4, 0.6]

# Three users for ranking metrics:
#   u1: relevance 3 2 0 1, scores .1 .9 .8 .7 -> ranked relevances 2 0 1 3
#       DCG@3 = 2/log2(2) + 0/log2(3) + 1/log2(4) = 2.5; ideal 3 2 1 -> 3 + 2/log2(3) + 1/2
#       recall@3 = 2 of 3 relevant rows; hit@3 = 1
#   u2: relevance 0 1, scores .6 .4 (2 rows < k) -> ranked 0 1: DCG = 1/log2(3), ideal 1 -> NDCG 1/log2(3)
#   u3: relevance 0 0 -> no relevant row, skipped
RANK_USERS = [1, 1, 1, 1, 2, 2, 3, 3]
RANK_RELEVANCE = [3, 2, 0, 1, 0, 1, 0, 0]
RANK_SCORES = [0.1, 0.9, 0.8, 0.7, 0.6, 0.4, 0.5, 0.2]


def test_gauc_skips_users_with_one_class():
    assert gauc(GAUC_LABELS, GAUC_SCORES, GAUC_USERS) == pytest.approx(3.75 / 7)  # 0.535714...


def test_gauc_is_nan_when_no_user_has_both_classes():
    assert math.isnan(gauc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4], ["a", "a", "b", "b"]))


def test_gauc_equals_row_weighted_mean_of_sklearn_auc_per_user_with_ties():
    rng = np.random.default_rng(7)
    n = 1500
    users = rng.integers(0, 150, n)
    labels = (rng.random(n) < 0.3).astype(int)
    scores = rng.integers(0, 8, n) / 8  # few distinct values: many ties inside each user
    aucs, weights = [], []
    for user in np.unique(users):
        rows = users == user
        if len(np.unique(labels[rows])) == 2:
            aucs.append(roc_auc_score(labels[rows], scores[rows]))
            weights.append(rows.sum())
    assert gauc(labels, scores, users) == pytest.approx(np.average(aucs, weights=weights), abs=1e-12)


def test_binary_metrics_hand_values():
    # AUC: both positives (.8, .6) outscore both negatives (.2, .4) -> 1.
    # Log loss: -(log .8 + log .8 + log .6 + log .6) / 4 = -(log .8 + log .6) / 2 = (0.22314 + 0.51083) / 2
    result = binary_metrics([0, 1, 1, 0], [0.2, 0.8, 0.6, 0.4])
    assert result == pytest.approx({"auc": 1.0, "logloss": 0.3669845875, "mean_pred": 0.5, "pos_rate": 0.5})
    assert "gauc" not in result


def test_binary_metrics_adds_gauc_when_users_given():
    result = binary_metrics(GAUC_LABELS, GAUC_SCORES, users=GAUC_USERS)
    assert result["gauc"] == pytest.approx(3.75 / 7)
    assert list(result) == ["auc", "gauc", "logloss", "mean_pred", "pos_rate"]


def test_logloss_clips_probabilities_to_1e_minus_7():
    # A certain mistake costs -log(1e-7) = 16.118 nats instead of infinity; a certain hit costs ~1e-7.
    result = binary_metrics([1, 0], [0.0, 0.0])
    assert result["logloss"] == pytest.approx(-(math.log(1e-7) + math.log(1 - 1e-7)) / 2)


def test_binary_metrics_refuses_scores_outside_0_1_such_as_logits():
    # A model's forward returns logits: their log loss came out 8.7 (0.69 on the probabilities), silently.
    with pytest.raises(ValueError) as error:
        binary_metrics([1, 0, 1], [2.5, -1.25, 0.5])

    assert str(error.value) == (
        "y_prob must be probabilities in [0, 1], but 2 of 3 scores are not (from -1.25 to 2.5): apply a sigmoid to "
        "logits, 1 / (1 + np.exp(-logits))"
    )


def test_binary_metrics_accepts_probabilities_off_by_float_error():
    result = binary_metrics([1, 0], [1.0 + 1e-7, -1e-7])
    assert result["auc"] == 1.0 and result["logloss"] == pytest.approx(1e-7, abs=1e-6)


def test_single_class_auc_is_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = binary_metrics([1, 1, 1], [0.2, 0.5, 0.9], users=["a", "a", "b"])
    assert math.isnan(result["auc"]) and math.isnan(result["gauc"])
    assert result["logloss"] == pytest.approx(-(math.log(0.2) + math.log(0.5) + math.log(0.9)) / 3)
    assert result["pos_rate"] == 1.0


def test_empty_input_gives_nan_everywhere():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = [
            binary_metrics([], [], users=[]),
            regression_metrics([], []),
            ranking_metrics([], [], [], k=5),
            {"gauc": gauc([], [], [])},
        ]
    for result in results:
        assert result and all(math.isnan(value) for value in result.values()), result


def test_non_finite_predictions_give_nan_scores_not_exceptions():
    result = binary_metrics([0, 1], [0.3, np.nan], users=["a", "a"])
    assert math.isnan(result["auc"]) and math.isnan(result["logloss"]) and math.isnan(result["gauc"])
    assert math.isnan(regression_metrics([1.0, 2.0], [np.inf, 2.0])["rmse"])
    assert math.isnan(ranking_metrics([1, 1], [1, 0], [np.nan, 0.5])["ndcg@10"])


def test_regression_metrics_hand_values():
    # errors 1, 0, -2, 0 -> MSE 5/4, RMSE sqrt(1.25) = 1.118034; MAE 3/4
    result = regression_metrics([1, 2, 3, 4], [2, 2, 1, 4])
    assert result == pytest.approx({"rmse": math.sqrt(1.25), "mae": 0.75})


def test_ranking_metrics_hand_values_at_3():
    ndcg_u1 = 2.5 / (3 + 2 / LOG2_3 + 0.5)  # 2.5 / 4.761860 = 0.525005
    ndcg_u2 = 1 / LOG2_3  # 0.630930
    result = ranking_metrics(RANK_USERS, RANK_RELEVANCE, RANK_SCORES, k=3)
    assert result == pytest.approx({"ndcg@3": (ndcg_u1 + ndcg_u2) / 2, "recall@3": (2 / 3 + 1) / 2, "hitrate@3": 1.0})
    assert result["ndcg@3"] == pytest.approx(0.5779674, abs=1e-7)


def test_ranking_metrics_at_1_counts_only_the_top_row():
    # u1's top row has relevance 2 (1 of 3 relevant rows); u2's top row has relevance 0.
    result = ranking_metrics(RANK_USERS, RANK_RELEVANCE, RANK_SCORES, k=1)
    assert result == pytest.approx({"ndcg@1": (2 / 3 + 0) / 2, "recall@1": (1 / 3 + 0) / 2, "hitrate@1": 0.5})


def test_k_larger_than_every_user_counts_all_rows():
    # With k beyond every user's row count, recall and hit rate are 1 and NDCG is the full-list NDCG.
    result = ranking_metrics(RANK_USERS, RANK_RELEVANCE, RANK_SCORES, k=100)
    full_u1 = (2 + 1 / 2 + 3 / math.log2(5)) / (3 + 2 / LOG2_3 + 0.5)
    assert result == pytest.approx({"ndcg@100": (full_u1 + 1 / LOG2_3) / 2, "recall@100": 1.0, "hitrate@100": 1.0})


def test_users_with_no_relevant_rows_are_skipped():
    # Adding a user with no relevant rows (u3 already has none) does not change any mean.
    before = ranking_metrics(RANK_USERS, RANK_RELEVANCE, RANK_SCORES, k=3)
    after = ranking_metrics(RANK_USERS + [9, 9, 9], RANK_RELEVANCE + [0, 0, 0], RANK_SCORES + [1, 2, 3], k=3)
    assert after == pytest.approx(before)
    assert all(math.isnan(v) for v in ranking_metrics([1, 2], [0, 0], [0.5, 0.5]).values())


def test_tied_scores_count_as_every_order_of_the_tie_equally():
    # One relevant row tied with one other for a single top slot: in the top half the time.
    for relevance in ([0, 1], [1, 0]):
        result = ranking_metrics(["u", "u"], relevance, [0.5, 0.5], k=1)
        assert result == {"ndcg@1": 0.5, "recall@1": 0.5, "hitrate@1": 0.5}
    # Two relevant rows among four tied for two slots: each row is in with chance 1/2 (recall 1/2); both are out
    # only when the two others take the slots, 1 of C(4, 2) = 6 orders (hitrate 5/6).
    result = ranking_metrics(["u"] * 4, [1, 1, 0, 0], [0.3] * 4, k=2)
    assert result["recall@2"] == pytest.approx(0.5)
    assert result["hitrate@2"] == pytest.approx(5 / 6)


def test_ranking_metrics_do_not_depend_on_the_row_order_of_the_file():
    # A negative-sampled test file written positives first, whose unseen items all score alike, ranked its
    # positives first (NDCG@3 0.85 as written, 0.30 shuffled).
    users, relevance, _ = _random_ranking_data(seed=7)
    scores = np.random.default_rng(7).integers(0, 3, len(users)) / 3  # many ties
    order = np.random.default_rng(8).permutation(len(users))
    for k in (1, 3, 10):
        assert ranking_metrics(users[order], relevance[order], scores[order], k=k) == pytest.approx(
            ranking_metrics(users, relevance, scores, k=k)
        )


def test_tied_ranking_metrics_are_the_mean_over_every_order_of_the_ties():
    # Brute force on small users: every ordering consistent with the scores, equally likely.
    rng = np.random.default_rng(3)
    for _ in range(60):
        n, k = int(rng.integers(2, 7)), int(rng.integers(1, 5))
        relevance = rng.integers(0, 3, n) * (rng.random(n) < 0.6)
        if relevance.sum() == 0:
            continue
        scores = rng.integers(0, 3, n).astype(float)
        discount = np.where(np.arange(n) < k, 1 / np.log2(np.arange(n) + 2), 0.0)
        ideal = (np.sort(relevance)[::-1] * discount).sum()
        orders = [p for p in itertools.permutations(range(n)) if np.all(np.diff(scores[list(p)]) <= 0)]
        ndcg = np.mean([(relevance[list(p)] * discount).sum() / ideal for p in orders])
        found = [(relevance[list(p)][:k] > 0).sum() for p in orders]
        result = ranking_metrics(np.zeros(n), relevance, scores, k=k)
        assert result[f"ndcg@{k}"] == pytest.approx(ndcg)
        assert result[f"recall@{k}"] == pytest.approx(np.mean(found) / (relevance > 0).sum())
        assert result[f"hitrate@{k}"] == pytest.approx(np.mean([f > 0 for f in found]))


def test_negative_or_missing_relevance_gives_nan():
    for relevance in ([1.0, -0.5], [1.0, np.nan]):
        result = ranking_metrics([1, 1], relevance, [0.2, 0.1], k=2)
        assert list(result) == ["ndcg@2", "recall@2", "hitrate@2"]
        assert all(math.isnan(v) for v in result.values())


def test_string_user_ids_give_the_same_metrics_as_int_ids():
    as_strings = pd.Series([f"user-{u}" for u in RANK_USERS], dtype="string")
    assert ranking_metrics(as_strings, RANK_RELEVANCE, RANK_SCORES, k=3) == ranking_metrics(
        RANK_USERS, RANK_RELEVANCE, RANK_SCORES, k=3
    )
    as_objects = np.array(GAUC_USERS, dtype=object)
    assert gauc(pd.Series(GAUC_LABELS), pd.Series(GAUC_SCORES), as_objects) == pytest.approx(3.75 / 7)


def test_users_given_as_a_mixed_list_are_the_users_a_series_would_give():
    # [1, 1, "1", "1"] as a list became four equal strings (one user, GAUC 0.75) and as a Series two users (1.0).
    users, labels, scores = [1, 1, "1", "1"], [1, 0, 1, 0], [0.9, 0.5, 0.4, 0.1]
    assert gauc(labels, scores, users) == gauc(labels, scores, pd.Series(users, dtype=object)) == 1.0


def test_user_rows_need_not_be_contiguous():
    order = np.random.default_rng(0).permutation(len(RANK_USERS))
    shuffled = [np.asarray(values)[order] for values in (RANK_USERS, RANK_RELEVANCE, RANK_SCORES)]
    # No user has tied scores, so where its rows sit in the input cannot change its ranking.
    assert ranking_metrics(*shuffled, k=3) == pytest.approx(
        ranking_metrics(RANK_USERS, RANK_RELEVANCE, RANK_SCORES, k=3)
    )


def _random_ranking_data(seed: int, n: int = 2000, n_users: int = 150):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n)
    relevance = rng.choice([0, 0, 0, 1, 2, 3], n).astype(float)
    scores = rng.permutation(n) / n  # all distinct: sklearn averages tied gains, we break ties by row order
    return users, relevance, scores


@pytest.mark.parametrize("k", [1, 3, 10])
def test_ndcg_equals_sklearn_ndcg_score_per_user_averaged(k):
    users, relevance, scores = _random_ranking_data(seed=k)
    assert ranking_metrics(users, relevance, scores, k=k)[f"ndcg@{k}"] == pytest.approx(
        _sklearn_ndcg(users, relevance, scores, k)
    )


def _sklearn_ndcg(users, relevance, scores, k):
    """sklearn's ndcg_score per user with a relevant row (it averages tied gains), averaged over them."""
    per_user = []
    for user in np.unique(users):
        rows = users == user
        # sklearn needs 2+ documents per query; a one-row user with a relevant row has NDCG 1 by definition.
        if relevance[rows].sum() > 0:
            one_row = rows.sum() == 1
            per_user.append(1.0 if one_row else ndcg_score([relevance[rows]], [scores[rows]], k=k))
    return np.mean(per_user)


def _reference_recall_and_hitrate(users, relevance, scores, k):
    """Plain-Python definition: walk each user's ties by falling score; a tie with more rows than the top-K slots
    left fills them in any order, each equally likely (expected recall; the chance of at least one hit)."""
    rows_by_user: dict = {}
    for row, user in enumerate(users):
        rows_by_user.setdefault(user, []).append(row)
    recalls, hits = [], []
    for rows in rows_by_user.values():
        n_relevant = sum(relevance[r] > 0 for r in rows)
        if n_relevant == 0:
            continue
        ties: dict = {}
        for r in rows:
            ties.setdefault(scores[r], []).append(r)
        slots, found, miss = k, 0.0, 1.0
        for score in sorted(ties, reverse=True):
            tie = ties[score]
            taken = min(slots, len(tie))
            good = sum(relevance[r] > 0 for r in tie)
            found += good * taken / len(tie)
            miss *= math.comb(len(tie) - good, taken) / math.comb(len(tie), taken)
            slots -= taken
        recalls.append(found / n_relevant)
        hits.append(1.0 - miss)
    return sum(recalls) / len(recalls), sum(hits) / len(hits)


@pytest.mark.parametrize("k", [1, 5, 20])
def test_recall_and_hitrate_match_plain_python_reference_with_ties(k):
    users, relevance, _ = _random_ranking_data(seed=100 + k)
    scores = np.random.default_rng(k).integers(0, 5, len(users)) / 5  # many ties
    recall, hitrate = _reference_recall_and_hitrate(users.tolist(), relevance.tolist(), scores.tolist(), k)
    result = ranking_metrics(users, relevance, scores, k=k)
    assert result[f"recall@{k}"] == pytest.approx(recall)
    assert result[f"hitrate@{k}"] == pytest.approx(hitrate)


@pytest.mark.parametrize("k", [1, 5, 20])
def test_tied_ndcg_equals_sklearn_ndcg_score(k):
    users, relevance, _ = _random_ranking_data(seed=200 + k)
    scores = np.random.default_rng(k).integers(0, 5, len(users)) / 5  # sklearn averages tied gains
    assert ranking_metrics(users, relevance, scores, k=k)[f"ndcg@{k}"] == pytest.approx(
        _sklearn_ndcg(users, relevance, scores, k)
    )


def test_task_metrics_binary_with_users_adds_gauc_and_ranking():
    result = task_metrics("binary", GAUC_LABELS, GAUC_SCORES, users=GAUC_USERS, k=2)
    assert list(result) == [
        "auc",
        "gauc",
        "logloss",
        "mean_pred",
        "pos_rate",
        "ndcg@2",
        "recall@2",
        "hitrate@2",
    ]
    no_ranking = task_metrics("binary", GAUC_LABELS, GAUC_SCORES, users=GAUC_USERS, ranking=False)
    assert list(no_ranking) == ["auc", "gauc", "logloss", "mean_pred", "pos_rate"]


def test_task_metrics_regression_uses_values_as_graded_relevance():
    result = task_metrics("regression", RANK_RELEVANCE, RANK_SCORES, users=RANK_USERS, k=3)
    assert result == pytest.approx(
        {
            **regression_metrics(RANK_RELEVANCE, RANK_SCORES),
            **ranking_metrics(RANK_USERS, RANK_RELEVANCE, RANK_SCORES, k=3),
        }
    )
    # A negative value is not relevant (it gave NaN ranking metrics for the whole run, with no note): relevance
    # [0, 2] ranked by scores [1.0, 0.0] puts the relevant row second: NDCG 1/log2(3), recall@1 0, recall@3 1.
    negative = task_metrics("regression", [-1.0, 2.0], [1.0, 0.0], users=["a", "a"], k=3)
    assert negative["rmse"] == 2.0  # errors -2, 2
    assert negative["ndcg@3"] == pytest.approx(1 / LOG2_3) and negative["recall@3"] == 1.0
    assert task_metrics("regression", [-1.0, 2.0], [1.0, 0.0], users=["a", "a"], k=1)["recall@1"] == 0.0
    assert list(task_metrics("regression", [1.0], [1.0])) == ["rmse", "mae"]


def test_task_metrics_rejects_unknown_task_type():
    with pytest.raises(ValueError, match="task_type"):
        task_metrics("multiclass", [0, 1], [0.1, 0.9])


def test_mismatched_lengths_raise_value_error_naming_the_input():
    with pytest.raises(ValueError, match="y_prob has 2 rows, expected 3"):
        binary_metrics([0, 1, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match="users has 1 rows"):
        gauc([0, 1], [0.1, 0.2], ["a"])
    with pytest.raises(ValueError, match="scores"):
        ranking_metrics([1, 1], [1, 0], [0.5])


def test_invalid_inputs_raise_value_error():
    with pytest.raises(ValueError, match="only 0 and 1"):
        binary_metrics([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="k must be a positive integer"):
        ranking_metrics([1], [1], [0.5], k=0)
    with pytest.raises(ValueError, match="missing"):
        gauc([0, 1], [0.1, 0.2], ["a", None])
    with pytest.raises(ValueError, match="one-dimensional"):
        regression_metrics([[1.0, 2.0]], [[1.0, 2.0]])


def test_nullable_pandas_inputs_are_accepted():
    labels = pd.Series([0, 1, 1, 0], dtype="Int64")
    probs = pd.Series([0.2, 0.8, 0.6, 0.4], dtype="Float64")
    assert binary_metrics(labels, probs)["auc"] == 1.0


def test_higher_is_better_reads_base_name_before_cutoff():
    assert higher_is_better("ndcg@10") and higher_is_better("auc") and higher_is_better("hitrate@5")
    assert not higher_is_better("logloss") and not higher_is_better("rmse") and not higher_is_better("mae")
    assert "mean_pred" not in HIGHER_IS_BETTER
    with pytest.raises(ValueError, match="no direction"):
        higher_is_better("mean_pred")


def test_ranking_metrics_rank_by_the_raw_scores_where_the_labels_scale_ties_them():
    # A log1p task's predictions below log1p(0) are all 0 on the label's scale: ranked by those, the one relevant
    # row tied with four others (NDCG@2 0.33); the raw outputs, which the predictions rise with, still order them.
    raw = np.array([-1.2, -1.5, -1.8, -2.0, -2.5])
    predictions = np.expm1(np.maximum(raw, 0.0))  # all 0
    y = np.array([4.0, 0, 0, 0, 0])
    users = np.zeros(5)

    tied = task_metrics("regression", y, predictions, users=users, k=2)
    ranked = task_metrics("regression", y, predictions, users=users, k=2, scores=raw)

    assert tied["ndcg@2"] == pytest.approx(0.326186, abs=1e-6) and tied["recall@2"] == pytest.approx(0.4)
    assert (ranked["ndcg@2"], ranked["recall@2"], ranked["hitrate@2"]) == (1.0, 1.0, 1.0)
    assert ranked["rmse"] == tied["rmse"]  # the scores rank; the errors stay the predictions'


# Pinned by a mutation audit (2026-12-07): each test fails on a plausible one-line change that the suite let pass.


def test_an_auc_of_labels_all_0_is_nan_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = binary_metrics([0, 0, 0], [0.2, 0.5, 0.9])
    assert math.isnan(result["auc"])


def test_task_metrics_rank_at_10_unless_told():
    assert "ndcg@10" in task_metrics("binary", [1, 0], [0.9, 0.1], users=["a", "a"])
