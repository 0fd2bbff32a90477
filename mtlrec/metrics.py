"""Per-task and ranking metrics: scikit-learn where it has them, vectorised numpy/pandas where it does not.

Every function takes numpy arrays, lists or pandas Series and is O(N) in memory with no per-user Python loop,
so that it scales to datasets with 100k+ users. A metric that is undefined on its input (one class, empty
input, non-finite predictions) is NaN rather than an exception: a diverged or tiny model should still produce
a labelled row of results. Mismatched lengths are programming errors and raise ``ValueError``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaln  # scikit-learn depends on SciPy

from mtlrec.config import TASK_TYPES

PROB_CLIP = 1e-7  # log loss clips probabilities so that one confident mistake costs ~16 nats, not infinity
PROB_TOLERANCE = 1e-6  # how far outside [0, 1] a probability may stray by float error (float32 sigmoids)

# Direction of each base metric ("ndcg" covers "ndcg@10"); mean_pred and pos_rate are descriptive, not scores.
HIGHER_IS_BETTER: dict[str, bool] = {
    "auc": True,
    "gauc": True,
    "logloss": False,
    "rmse": False,
    "mae": False,
    "ndcg": True,
    "recall": True,
    "hitrate": True,
}

NAN = float("nan")


def higher_is_better(metric: str) -> bool:
    """True when a larger value of ``metric`` is better; accepts cut-off names such as ``"ndcg@10"``."""
    base = metric.split("@", 1)[0]
    if base not in HIGHER_IS_BETTER:
        raise ValueError(f"metric {metric!r} has no direction; known: {', '.join(HIGHER_IS_BETTER)}")
    return HIGHER_IS_BETTER[base]


def _as_float(values: Any, name: str) -> np.ndarray:
    # Nullable pandas dtypes (Float64 with pd.NA) refuse np.asarray(dtype=float); map NA to NaN explicitly.
    if isinstance(values, (pd.Series, pd.Index)):
        array = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _user_codes(users: Any, n_rows: int) -> tuple[np.ndarray, int]:
    """Users (strings, ints, any hashable) -> dense codes 0..U-1 and U."""
    # Series and Index go to factorize as they are: it is fastest on their own (e.g. Arrow string) storage.
    if not isinstance(users, (pd.Series, pd.Index)):
        # A list as objects: np.asarray would turn [1, "1"] into two equal strings and merge two users.
        users = np.asarray(users, dtype=object) if isinstance(users, (list, tuple)) else np.asarray(users)
        if users.ndim != 1:
            raise ValueError(f"users must be one-dimensional, got shape {users.shape}")
    _check_lengths(n_rows, users=users)
    codes, uniques = pd.factorize(users)
    if n_rows and codes.min() < 0:
        # A missing user id would silently drop rows from every per-user metric; upstream validation owns it.
        raise ValueError("users contains missing values")
    return codes, len(uniques)


def _check_lengths(n_rows: int, **arrays: np.ndarray) -> None:
    for name, array in arrays.items():
        if len(array) != n_rows:
            raise ValueError(f"{name} has {len(array)} rows, expected {n_rows} (same length as y_true)")


def _check_binary_labels(y_true: np.ndarray) -> None:
    if not np.isin(y_true, (0.0, 1.0)).all():
        raise ValueError("y_true of a binary task must contain only 0 and 1")


def _check_probabilities(y_prob: np.ndarray) -> None:
    with np.errstate(invalid="ignore"):
        outside = (y_prob < -PROB_TOLERANCE) | (y_prob > 1.0 + PROB_TOLERANCE)
    if outside.any():
        bad = y_prob[outside]
        raise ValueError(
            f"y_prob must be probabilities in [0, 1], but {len(bad):,} of {len(y_prob):,} scores are not (from "
            f"{bad.min():.4g} to {bad.max():.4g}): apply a sigmoid to logits, 1 / (1 + np.exp(-logits))"
        )


def gauc(y_true: Any, y_score: Any, users: Any) -> float:
    """Per-user AUC weighted by the user's row count; one-class users are skipped (NaN if no user is left)."""
    y_true = _as_float(y_true, "y_true")
    y_score = _as_float(y_score, "y_score")
    _check_lengths(len(y_true), y_score=y_score)
    codes, n_users = _user_codes(users, len(y_true))
    _check_binary_labels(y_true)
    if len(y_true) == 0 or not np.isfinite(y_score).all():
        return NAN
    # Mann-Whitney: AUC = (sum of positive ranks - n_pos (n_pos + 1) / 2) / (n_pos n_neg). Average ranks
    # give a tied positive/negative pair half a point, exactly what roc_auc_score's trapezoids give.
    ranks = pd.Series(y_score).groupby(codes).rank(method="average").to_numpy()
    positive = y_true == 1.0
    n_rows = np.bincount(codes, minlength=n_users).astype(float)
    n_pos = np.bincount(codes, weights=positive, minlength=n_users)
    n_neg = n_rows - n_pos
    positive_rank_sum = np.bincount(codes, weights=ranks * positive, minlength=n_users)
    qualifies = (n_pos > 0) & (n_neg > 0)
    if not qualifies.any():
        return NAN
    n_pos, n_neg, n_rows = n_pos[qualifies], n_neg[qualifies], n_rows[qualifies]
    user_auc = (positive_rank_sum[qualifies] - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(np.average(user_auc, weights=n_rows))


def binary_metrics(y_true: Any, y_prob: Any, users: Any = None) -> dict[str, float]:
    """AUC, log loss, mean prediction and positive rate of a 0/1 task; GAUC too when ``users`` is given.

    ``y_prob`` holds probabilities: a score outside [0, 1] (a model's logit) raises ValueError, since the log loss
    and the mean prediction of logits are meaningless. NaN scores give NaN metrics (a diverged model).
    """
    y_true = _as_float(y_true, "y_true")
    y_prob = _as_float(y_prob, "y_prob")
    _check_lengths(len(y_true), y_prob=y_prob)
    _check_binary_labels(y_true)
    _check_probabilities(y_prob)
    result = {"auc": NAN}
    if users is not None:
        result["gauc"] = gauc(y_true, y_prob, users)
    result.update(logloss=NAN, mean_pred=NAN, pos_rate=NAN)
    if len(y_true) == 0:
        return result
    result["mean_pred"] = float(y_prob.mean())
    result["pos_rate"] = float(y_true.mean())
    # sklearn raises on NaN/inf; a diverged model gets NaN scores instead of a crash.
    if not np.isfinite(y_prob).all():
        return result
    from sklearn.metrics import log_loss, roc_auc_score  # here, not at the top: importing sklearn takes ~1 s

    # Checked here rather than caught: roc_auc_score would warn and return NaN on one class, once per call.
    if 0.0 < result["pos_rate"] < 1.0:
        result["auc"] = float(roc_auc_score(y_true, y_prob))
    clipped = np.clip(y_prob, PROB_CLIP, 1.0 - PROB_CLIP)
    result["logloss"] = float(log_loss(y_true, clipped, labels=[0, 1]))
    return result


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """RMSE and MAE on the original scale (NaN for empty input or non-finite values)."""
    y_true = _as_float(y_true, "y_true")
    y_pred = _as_float(y_pred, "y_pred")
    _check_lengths(len(y_true), y_pred=y_pred)
    if len(y_true) == 0 or not (np.isfinite(y_true).all() and np.isfinite(y_pred).all()):
        return {"rmse": NAN, "mae": NAN}
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    return {
        "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
        "mae": float(mean_absolute_error(y_true, y_pred)),
    }


def ranking_metrics(users: Any, relevance: Any, scores: Any, k: int = 10) -> dict[str, float]:
    """Mean NDCG@K, Recall@K and HitRate@K over users with at least one relevant row (relevance > 0).

    Each user's rows are ranked by score, highest first. Rows with equal scores are in no order: each metric is its
    expected value over the orders of the tie, so the row order of the file never matters (an unseen item's rows all
    score alike, and a file written positives first would otherwise rank them first). For NDCG this is the
    tie-averaged DCG of ``sklearn.metrics.ndcg_score`` (McSherry & Najork, 2008): linear gain rel / log2(rank + 1),
    each tied row taking the mean discount of the tie's positions, against the ideal order of the user's own rows.
    Recall@K counts a tied relevant row by the share of the tie's positions inside the top K; HitRate@K is the
    chance that a relevant row is in the top K (hypergeometric over the tie the cut-off splits). Negative or
    non-finite relevance, or non-finite scores, give NaN for all three.
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    relevance = _as_float(relevance, "relevance")
    scores = _as_float(scores, "scores")
    _check_lengths(len(relevance), scores=scores)
    codes, n_users = _user_codes(users, len(relevance))
    names = (f"ndcg@{k}", f"recall@{k}", f"hitrate@{k}")
    undefined = dict.fromkeys(names, NAN)
    if len(relevance) == 0 or not np.isfinite(scores).all():
        return undefined
    # Graded gain assumes relevance >= 0 (a negative watch time is a data error, not a very bad item).
    if not np.isfinite(relevance).all() or (relevance < 0).any():
        return undefined

    n = len(relevance)
    ranked = np.lexsort((-scores, codes))  # lexsort's last key is the primary one: user, then score descending
    ideal = np.lexsort((-relevance, codes))  # order among equal relevances does not change the ideal DCG
    # Both orders keep each user's rows in the same contiguous block, so one position array serves both.
    rows_per_user = np.bincount(codes, minlength=n_users)
    block_start = np.cumsum(rows_per_user) - rows_per_user
    sorted_codes = codes[ranked]  # equals codes[ideal]: both are sorted by user code first
    position = np.arange(n) - block_start[sorted_codes]  # 0-based rank within the user
    discount = np.where(position < k, 1.0 / np.log2(position + 2.0), 0.0)

    # Ties: runs of equal score within a user. Every row of a tie gets the tie's mean discount and its share of
    # top-K positions.
    sorted_scores = scores[ranked]
    new_tie = np.ones(n, dtype=bool)
    new_tie[1:] = (sorted_codes[1:] != sorted_codes[:-1]) | (sorted_scores[1:] != sorted_scores[:-1])
    tie = np.cumsum(new_tie) - 1
    tie_start = np.flatnonzero(new_tie)
    tie_size = np.diff(np.append(tie_start, n))
    tie_discount = np.add.reduceat(discount, tie_start) / tie_size
    tie_first = position[tie_start]  # the tie's first rank within its user
    tie_in_top = np.clip(k - tie_first, 0, tie_size)  # how many of its positions lie in the top K

    ranked_relevance = relevance[ranked]
    relevant = ranked_relevance > 0
    dcg = np.bincount(sorted_codes, weights=ranked_relevance * tie_discount[tie], minlength=n_users)
    ideal_dcg = np.bincount(sorted_codes, weights=relevance[ideal] * discount, minlength=n_users)
    n_relevant = np.bincount(sorted_codes, weights=relevant, minlength=n_users)
    hits = np.bincount(sorted_codes, weights=relevant * (tie_in_top / tie_size)[tie], minlength=n_users)

    # HitRate: a relevant row in a tie wholly inside the top K is a hit; else the one tie the cut-off splits (m of
    # its g positions inside, r relevant rows) misses with probability C(g - r, m) / C(g, m).
    tie_user = sorted_codes[tie_start]
    tie_relevant = np.add.reduceat(relevant.astype(np.int64), tie_start)
    sure = np.bincount(tie_user, weights=(tie_in_top == tie_size) & (tie_relevant > 0), minlength=n_users) > 0
    split = (tie_in_top > 0) & (tie_in_top < tie_size) & (tie_relevant > 0)
    g, r, m = tie_size[split].astype(float), tie_relevant[split].astype(float), tie_in_top[split].astype(float)
    with np.errstate(invalid="ignore"):
        log_miss = gammaln(g - r + 1) - gammaln(g - r - m + 1) - gammaln(g + 1) + gammaln(g - m + 1)
    miss = np.where(g - r >= m, np.exp(log_miss), 0.0)
    hit_chance = sure.astype(float)
    hit_chance[tie_user[split]] = np.maximum(hit_chance[tie_user[split]], 1.0 - miss)

    qualifies = n_relevant > 0
    if not qualifies.any():
        return undefined
    ndcg = dcg[qualifies] / ideal_dcg[qualifies]
    recall = hits[qualifies] / n_relevant[qualifies]
    hitrate = hit_chance[qualifies]
    return {name: float(values.mean()) for name, values in zip(names, (ndcg, recall, hitrate), strict=True)}


def task_metrics(
    task_type: str,
    y_true: Any,
    y_pred: Any,
    users: Any = None,
    k: int = 10,
    ranking: bool = True,
    scores: Any = None,
) -> dict[str, float]:
    """All metrics of one task: binary (``y_pred`` probabilities) or regression (original scale).

    With ``users`` and ``ranking``, ranking metrics are added with ``y_true`` as the graded relevance; for a
    regression task a negative value counts as not relevant (0), as in a rating scale from -2 to 2 (ranking_metrics
    itself refuses negative gains). They rank by ``scores`` when given (the model's raw outputs, which ``y_pred``
    is a rising function of): a log1p task's predictions below log1p(0) are all 0 on the label's scale, and ranked
    by those they tied, where the raw outputs still order them (as Recommend does).
    """
    if task_type == "binary":
        result = binary_metrics(y_true, y_pred, users=users)
    elif task_type == "regression":
        result = regression_metrics(y_true, y_pred)
    else:
        raise ValueError(f"task_type must be one of {TASK_TYPES}, got {task_type!r}")
    if users is not None and ranking:
        relevance = y_true
        if task_type == "regression":
            relevance = np.clip(_as_float(y_true, "y_true"), 0.0, None)  # NaN stays NaN: undefined, as before
        result.update(ranking_metrics(users, relevance, y_pred if scores is None else scores, k=k))
    return result
