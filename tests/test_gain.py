"""Multi-task gain: the single-task baseline's config, the signed gain per task, and the run-to-baseline link."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mtlrec.config import ExperimentConfig, ModelConfig, TaskSpec, WeightingConfig
from mtlrec.gain import (
    BASELINE_FILE,
    UNTRAINED,
    baseline_of,
    link_baseline,
    log1p_disagreements,
    mtl_gain,
    single_task_config,
)
from mtlrec.runs import RunStore

TASKS = [TaskSpec("click"), TaskSpec("purchase", weight=0.0), TaskSpec("watch_time", "regression", 2.0, log1p=True)]
MTL = {
    "click": {"auc": 0.75, "logloss": 0.40},
    "purchase": {"auc": 0.60, "logloss": 0.10},
    "watch_time": {"rmse": 20.0, "mae": 8.0},
}
TRAINED = [TaskSpec(t.name, t.type, t.weight or 0.5, t.log1p) for t in TASKS]  # every task with a loss weight
SINGLE = {
    "click": {"auc": 0.70, "logloss": 0.44},
    "purchase": {"auc": 0.64, "logloss": 0.08},
    "watch_time": {"rmse": 25.0, "mae": 7.0},
}


def mtl_config() -> ExperimentConfig:
    return ExperimentConfig(
        tasks=[TaskSpec(t.name, t.type, t.weight, t.log1p) for t in TASKS],
        model=ModelConfig(kind="esmm", size="tiny", dropout=0.1, funnel={"purchase": "click"}),
        weighting=WeightingConfig(method="gradnorm", alpha=0.5),
    )


def test_single_task_config_keeps_the_settings_and_trains_each_task_alone():
    config = mtl_config()
    config.train.epochs, config.train.seed, config.split.method = 7, 3, "random"
    baseline = single_task_config(config)
    assert baseline.model == ModelConfig(kind="single_task", size="tiny", dropout=0.1)
    assert baseline.weighting == WeightingConfig(method="fixed")
    assert [(t.name, t.type, t.weight, t.log1p) for t in baseline.tasks] == [
        ("click", "binary", 1.0, False),
        ("purchase", "binary", 1.0, False),  # weight 0 in the multi-task run: its baseline is trained all the same
        ("watch_time", "regression", 1.0, True),
    ]
    assert (baseline.train, baseline.split, baseline.data) == (config.train, config.split, config.data)
    assert config.model.kind == "esmm" and config.tasks[1].weight == 0.0  # the given config is not changed
    baseline.check()


def test_gain_is_positive_when_the_multi_task_model_is_better_whichever_way_the_metric_goes():
    table = mtl_gain(MTL, SINGLE, TRAINED)
    assert list(table.columns) == [
        "task", "metric", "main", "multi_task", "single_task", "gain", "relative_gain", "transfer", "noise",
    ]  # fmt: skip
    rows = {(r.task, r.metric): r for r in table.itertuples()}
    assert [(r.task, r.metric, r.main) for r in table.itertuples()] == [
        ("click", "auc", True),
        ("click", "logloss", False),
        ("purchase", "auc", True),
        ("purchase", "logloss", False),
        ("watch_time", "rmse", True),
        ("watch_time", "mae", False),
    ]
    assert rows["click", "auc"].gain == pytest.approx(0.05)  # 0.75 - 0.70
    assert rows["click", "auc"].relative_gain == pytest.approx(100 * 0.05 / 0.70)
    assert rows["click", "logloss"].gain == pytest.approx(0.04)  # lower is better: 0.44 - 0.40
    assert rows["purchase", "auc"].gain == pytest.approx(-0.04)
    assert rows["watch_time", "rmse"].gain == pytest.approx(5.0)  # 25 - 20
    assert rows["watch_time", "rmse"].relative_gain == pytest.approx(20.0)
    assert rows["watch_time", "mae"].gain == pytest.approx(-1.0)
    assert [r.transfer for r in table.itertuples() if r.main] == ["positive", "negative", "positive"]


def test_a_missing_or_zero_value_gives_an_unknown_gain_not_an_error():
    single = {"click": {"auc": 0.70, "logloss": 0.0}, "watch_time": {"rmse": None}}
    table = mtl_gain(MTL, single, TRAINED)
    rows = {(r.task, r.metric): r for r in table.itertuples()}
    assert math.isnan(rows["purchase", "auc"].gain) and rows["purchase", "auc"].transfer == "unknown"
    assert math.isnan(rows["watch_time", "rmse"].single_task)
    assert rows["click", "logloss"].gain == pytest.approx(-0.40)
    assert math.isnan(rows["click", "logloss"].relative_gain)  # no percentage of 0


def test_equal_values_are_no_transfer():
    table = mtl_gain(MTL, MTL, TRAINED)
    assert set(table["transfer"]) == {"none"} and (table["gain"] == 0).all()


def test_a_difference_of_float_rounding_is_no_transfer():
    # With one trained task the multi-task and single-task models are the same network: log losses 2e-10 apart.
    single = {"click": {"auc": 0.75, "logloss": 0.40 + 2.2e-10}}
    rows = {r.metric: r for r in mtl_gain(MTL, single, TRAINED[:1]).itertuples()}
    assert rows["logloss"].transfer == "none" and rows["logloss"].gain == pytest.approx(2.2e-10, abs=1e-13)
    single = {"click": {"auc": 0.75, "logloss": 0.4001}}
    assert mtl_gain(MTL, single, TRAINED[:1])["transfer"].tolist() == ["none", "positive"]


def test_a_task_with_loss_weight_zero_is_not_trained_not_negative_transfer():
    # Its tower kept its initial weights: worse than its baseline, but not because of sharing.
    table = mtl_gain(MTL, SINGLE, TASKS)
    rows = {(r.task, r.metric): r for r in table.itertuples()}
    assert rows["purchase", "auc"].transfer == UNTRAINED and rows["purchase", "auc"].gain == pytest.approx(-0.04)
    assert rows["click", "auc"].transfer == "positive"


def test_a_baseline_link_is_kept_in_the_run_folder(tmp_path):
    store = RunStore(tmp_path)
    run_id, baseline_id = store.start(mtl_config()), store.start(single_task_config(mtl_config()))
    assert baseline_of(store, run_id) is None
    link_baseline(store, run_id, baseline_id)
    assert baseline_of(RunStore(tmp_path), run_id) == baseline_id
    assert (store.folder(run_id) / BASELINE_FILE).read_text() == f'{{"single_task_run": "{baseline_id}"}}'


@pytest.mark.parametrize("content", ["", "{", '{"other": 1}', '{"single_task_run": "../../etc"}', "[1]"])
def test_an_unreadable_link_reads_as_no_baseline(tmp_path, content):
    store = RunStore(tmp_path)
    run_id = store.start(mtl_config())
    (store.folder(run_id) / BASELINE_FILE).write_text(content)
    assert baseline_of(store, run_id) is None


def test_an_esmm_parent_with_loss_weight_zero_is_trained_through_its_conditional_task():
    # ESMM trains pCTR through pCTCVR = pCTR * pCVR: click with weight 0 learned (AUC 0.61, not an untrained 0.43)
    config = ExperimentConfig(
        tasks=[TaskSpec("click", weight=0.0), TaskSpec("purchase"), TaskSpec("like", weight=0.0)],
        model=ModelConfig(kind="esmm", funnel={"purchase": "click"}),
    )
    assert config.untrained_tasks() == {"like"}
    config.tasks[1].weight = 0.0  # nothing trains the funnel any more
    assert config.untrained_tasks() == {"click", "purchase", "like"}
    config.tasks[1].weight = 1.0
    config.model.kind = "shared_bottom"  # the funnel is ESMM's only
    assert config.untrained_tasks() == {"click", "like"}

    metrics = {"click": {"auc": 0.61, "logloss": 0.39}}
    single = {"click": {"auc": 0.65, "logloss": 0.37}}
    tasks = [TaskSpec("click", weight=0.0)]
    assert mtl_gain(metrics, single, tasks, untrained=set())["transfer"].tolist() == ["negative", "negative"]
    assert mtl_gain(metrics, single, tasks)["transfer"].tolist() == [UNTRAINED, UNTRAINED]


def test_a_gain_within_the_paired_noise_of_the_test_rows_is_within_noise():
    # -0.27% and -0.48% were called negative transfer under a caption saying they may be noise (an audit).
    from sklearn.metrics import roc_auc_score

    from mtlrec.gain import NOISE, paired_noise

    rng = np.random.default_rng(0)
    n = 4000
    y = (rng.random(n) < 0.2).astype(float)
    signal = rng.normal(size=n) + 0.8 * y
    target = rng.normal(size=n)
    multi = pd.DataFrame({"click": y, "click_pred": signal + rng.normal(0, 0.5, n), "w": target})
    multi["w_pred"] = target + rng.normal(0, 1.0, n)
    single = multi.assign(click_pred=signal + rng.normal(0, 0.5, n), w_pred=target + rng.normal(0, 1.02, n))
    tasks = [TaskSpec("click", "binary"), TaskSpec("w", "regression")]
    noise = paired_noise(multi, single, tasks)
    # DeLong's and the delta method's standard errors, against a paired bootstrap of the same rows
    boot_auc, boot_rmse = [], []
    for _ in range(400):
        i = rng.integers(0, n, n)
        boot_auc.append(roc_auc_score(y[i], multi["click_pred"][i]) - roc_auc_score(y[i], single["click_pred"][i]))
        rmse = [np.sqrt(np.mean((target[i] - t["w_pred"].to_numpy()[i]) ** 2)) for t in (multi, single)]
        boot_rmse.append(rmse[0] - rmse[1])
    assert noise["click"] / 2 == pytest.approx(np.std(boot_auc), rel=0.15)
    assert noise["w"] / 2 == pytest.approx(np.std(boot_rmse), rel=0.15)

    auc = {"auc": roc_auc_score(y, multi["click_pred"]), "logloss": 0.4}
    base = {"auc": roc_auc_score(y, single["click_pred"]), "logloss": 0.4}
    table = mtl_gain({"click": auc}, {"click": base}, tasks[:1], noise=noise)
    assert table.loc[table["main"], "transfer"].tolist() == [NOISE]  # two draws of the same model
    far = mtl_gain({"click": {**auc, "auc": base["auc"] + 0.05}}, {"click": base}, tasks[:1], noise=noise)
    assert far.loc[far["main"], "transfer"].tolist() == ["positive"]
    assert paired_noise(multi, single.iloc[::-1].reset_index(drop=True), tasks) == {}  # rows in another order


def test_the_rmse_difference_standard_error_holds_when_one_run_is_twice_as_far_off():
    # The delta method's derivative is 1 / (2 RMSE) for each run: with the baseline's RMSE alone the standard error
    # came out 1.8x the bootstrap's when the multi-task RMSE was twice the baseline's.
    from mtlrec.gain import _rmse_difference_se

    rng = np.random.default_rng(3)
    n = 2000
    y = rng.gamma(1.0, 3.0, n)
    for far, near in ((2.0, 1.0), (0.5, 1.5)):
        a, b = y + rng.normal(0, far, n), y + rng.normal(0, near, n)
        boot = []
        for _ in range(1000):
            i = rng.integers(0, n, n)
            boot.append(np.sqrt(np.mean((y[i] - a[i]) ** 2)) - np.sqrt(np.mean((y[i] - b[i]) ** 2)))
        assert _rmse_difference_se(y, a, b) == pytest.approx(np.std(boot), rel=0.1)


def test_log_loss_and_mae_differences_get_the_paired_noise_of_the_rows_losses():
    # Only the main metric had a noise estimate: a LogLoss 0.0002 apart was "negative transfer" (an app audit)
    from sklearn.metrics import log_loss, mean_absolute_error

    from mtlrec.gain import NOISE, paired_noise

    rng = np.random.default_rng(1)
    n = 3000
    y = (rng.random(n) < 0.3).astype(float)
    p = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.2 * y - 1)))
    target = rng.normal(size=n)
    multi = pd.DataFrame({"click": y, "click_pred": p, "w": target, "w_pred": target + rng.normal(0, 1.0, n)})
    single = multi.assign(click_pred=np.clip(p + rng.normal(0, 0.02, n), 0.01, 0.99),
                          w_pred=target + rng.normal(0, 1.0, n))  # fmt: skip
    tasks = [TaskSpec("click", "binary"), TaskSpec("w", "regression")]
    noise = paired_noise(multi, single, tasks)
    # by hand: two standard errors of the mean of the rows' paired loss differences
    rows_ll = [-(y * np.log(t["click_pred"]) + (1 - y) * np.log(1 - t["click_pred"])) for t in (multi, single)]
    assert noise[("click", "logloss")] == pytest.approx(2 * np.std(rows_ll[0] - rows_ll[1], ddof=1) / np.sqrt(n))
    rows_ae = [np.abs(target - t["w_pred"]) for t in (multi, single)]
    assert noise[("w", "mae")] == pytest.approx(2 * np.std(rows_ae[0] - rows_ae[1], ddof=1) / np.sqrt(n))
    # a LogLoss difference within it is within noise, one far beyond it a verdict
    mine = {
        "click": {"auc": 0.7, "logloss": log_loss(y, p)},
        "w": {"rmse": 1.4, "mae": mean_absolute_error(target, multi["w_pred"])},
    }
    theirs = {"click": {"auc": 0.7, "logloss": log_loss(y, single["click_pred"])},
              "w": {"rmse": 1.4, "mae": mean_absolute_error(target, single["w_pred"])}}  # fmt: skip
    table = mtl_gain(mine, theirs, tasks, noise=noise).set_index(["task", "metric"])
    assert table.loc[("click", "logloss"), "transfer"] == NOISE and table.loc[("w", "mae"), "transfer"] == NOISE
    worse = {**theirs, "click": {**theirs["click"], "logloss": mine["click"]["logloss"] - 0.05}}
    assert mtl_gain(mine, worse, tasks, noise=noise).set_index(["task", "metric"]).loc[("click", "logloss"),
                                                                                     "transfer"] == "negative"  # fmt: skip


def test_a_log1p_task_whose_rmse_and_mae_gains_disagree_is_named():
    tasks = [TaskSpec("click"), TaskSpec("watch", "regression", log1p=True), TaskSpec("rating", "regression")]
    multi = {"click": {"auc": 0.70}, "watch": {"rmse": 10.06, "mae": 4.04}, "rating": {"rmse": 1.1, "mae": 0.7}}
    single = {"click": {"auc": 0.69}, "watch": {"rmse": 10.00, "mae": 4.06}, "rating": {"rmse": 1.0, "mae": 0.8}}
    [(task, rmse, mae)] = log1p_disagreements(mtl_gain(multi, single, tasks), tasks)
    assert task == "watch" and rmse == pytest.approx(-0.6) and mae == pytest.approx(100 * 0.02 / 4.06)
    single["watch"]["mae"] = 4.00  # both worse: no disagreement; 'rating' is not log1p, so never named
    assert log1p_disagreements(mtl_gain(multi, single, tasks), tasks) == []
