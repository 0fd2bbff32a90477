"""Specifications of mtlrec.experiment.run_experiment: metrics.json content, learning, predictions, statuses."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss, roc_auc_score

from mtlrec import charts
from mtlrec.config import ExperimentConfig, TaskSpec
from mtlrec.data import prepare
from mtlrec.errors import MtlrecError
from mtlrec.experiment import log1p_typical, run_experiment
from mtlrec.metrics import ranking_metrics
from mtlrec.runs import RunStore
from mtlrec.train import predict_raw

BINARY_METRICS = {"auc", "gauc", "logloss", "mean_pred", "pos_rate", "ndcg@10", "recall@10", "hitrate@10"}
REGRESSION_METRICS = {"rmse", "mae", "ndcg@10", "recall@10", "hitrate@10"}


@pytest.fixture(scope="module")
def result(_interactions_once, make_config):
    return run_experiment(make_config(epochs=4), _interactions_once)


def test_finished_run_reports_its_status(result):
    assert (result.status, result.message) == ("finished", "")
    assert result.metrics["status"] == "finished"


def test_metrics_hold_per_task_metrics_by_task_type(result):
    tasks = result.metrics["tasks"]

    assert list(tasks) == ["click", "like", "watch_time"]
    assert set(tasks["click"]) == BINARY_METRICS
    assert set(tasks["like"]) == BINARY_METRICS
    assert set(tasks["watch_time"]) == REGRESSION_METRICS
    assert all(np.isfinite(value) for metrics in tasks.values() for value in metrics.values())


def test_metrics_hold_run_facts(result):
    metrics = result.metrics

    assert metrics["params"] == sum(p.numel() for p in result.model.parameters())
    assert metrics["epochs_run"] == 4 == len(result.history)
    assert 1 <= metrics["best_epoch"] <= 4
    assert (metrics["train_rows"], metrics["val_rows"], metrics["test_rows"]) == (2160, 240, 600)
    assert metrics["device"] == "cpu"
    assert metrics["train_seconds"] > 0
    assert metrics["samples_per_second"] == pytest.approx(2160 * 4 / metrics["train_seconds"], rel=0.01)


def test_test_metrics_agree_with_sklearn_on_the_prediction_table(result):
    table = result.predictions

    assert result.metrics["tasks"]["click"]["auc"] == pytest.approx(roc_auc_score(table["click"], table["click_pred"]))
    assert result.metrics["tasks"]["like"]["logloss"] == pytest.approx(log_loss(table["like"], table["like_pred"]))


def test_model_beats_a_constant_predictor_on_a_learnable_label(result, _interactions_once):
    table = result.predictions
    train_rate = float(_interactions_once["click"].mean())  # close to the training rate; any constant scores 0.5 AUC

    constant_logloss = log_loss(table["click"], np.full(len(table), train_rate))

    # click depends strongly on the category (news 13%, sports 92% positive): AUC well above 0.5.
    assert result.metrics["tasks"]["click"]["auc"] > 0.75
    assert result.metrics["tasks"]["click"]["logloss"] < constant_logloss - 0.05


def test_prediction_table_has_ids_then_label_and_prediction_per_task(result):
    table = result.predictions

    assert list(table.columns) == [
        "user_id",
        "item_id",
        "timestamp",
        "click",
        "click_pred",
        "like",
        "like_pred",
        "watch_time",
        "watch_time_pred",
    ]
    assert len(table) == 600
    assert table["click_pred"].between(0, 1).all() and table["like_pred"].between(0, 1).all()
    assert set(table["click"].unique()) == {0.0, 1.0}
    assert (table["watch_time_pred"] > 0).all()  # expm1 of the log1p scale: a watch time, not a z-score


def test_history_has_one_row_per_epoch_with_validation_metrics(result):
    assert result.history["epoch"].tolist() == [1, 2, 3, 4]
    assert {"click/val_auc", "click/val_gauc", "watch_time/val_rmse", "like/train_loss"} <= set(result.history)


def test_same_config_gives_the_same_metrics(_interactions_once, make_config, result):
    prepared = prepare(make_config(epochs=4), _interactions_once)

    again = run_experiment(make_config(epochs=4), prepared=prepared)

    assert again.metrics["tasks"] == result.metrics["tasks"]


def test_diverged_run_is_failed_without_test_metrics(_interactions_once, make_config):
    failed = run_experiment(make_config(lr=10.0, epochs=2), _interactions_once)

    assert failed.status == "failed"
    assert failed.message.startswith("training diverged: the loss of task '")
    assert failed.metrics["tasks"] == {} and failed.predictions is None
    assert failed.model is not None and failed.encoder is not None


def test_stopped_run_keeps_the_model_of_its_partial_epoch(_interactions_once, make_config):
    stop = threading.Event()

    stopped = run_experiment(
        make_config(epochs=3, log_every=1), _interactions_once, callback=lambda progress: stop.set(), stop=stop
    )

    assert stopped.status == "stopped"
    assert stopped.metrics["epochs_run"] == 1
    assert set(stopped.metrics["tasks"]) == {"click", "like", "watch_time"}
    assert len(stopped.predictions) == 600


def test_a_result_keeps_the_config_it_was_trained_with(_interactions_once, make_config, tmp_path):
    # A notebook reuses one config object: click trained at weight 0, then the same object set to 1 for a second run.
    config = make_config(epochs=1)
    config.tasks[0].weight = 0.0

    first = run_experiment(config, _interactions_once)
    config.tasks[0].weight = 1.0
    config.train.epochs = 5

    assert first.config is not config
    assert (first.config.tasks[0].weight, first.config.train.epochs) == (0.0, 1)
    assert first.config.untrained_tasks() == {"click"}
    assert first.encoder.tasks[0].weight == 0.0 and first.encoder.tasks[0] is not config.tasks[0]
    store = RunStore(tmp_path)
    saved = store.load(store.save(first)).config
    assert (saved.tasks[0].weight, saved.train.epochs) == (0.0, 1)


def test_features_given_as_tuples_train_and_are_saved_as_lists(_interactions_once, make_config):
    # ("user_id", "category") passed check(), then raised a TypeError where lists are joined (leakage.py).
    config = make_config(epochs=1)
    config.data.categorical, config.data.numeric = ("user_id", "item_id", "category"), ("price",)

    result = run_experiment(config, _interactions_once)

    assert result.status == "finished"
    assert (result.config.data.categorical, result.config.data.numeric) == (
        ["user_id", "item_id", "category"],
        ["price"],
    )


def test_bad_settings_raise_before_training(_interactions_once, make_config):
    config = make_config()
    config.tasks[0].name = "purchase"

    with pytest.raises(MtlrecError, match="column 'purchase' \\(task\\) is not in the data"):
        run_experiment(config, _interactions_once)


def test_a_label_named_like_another_tasks_prediction_keeps_both_apart(interactions, make_config, tmp_path):
    # A task `like` renamed `click_pred`: the prediction of `click` cannot take that name (it would overwrite the
    # label, and the exported predictions and Results' charts would read labels as click's scores).
    frame = interactions.rename(columns={"like": "click_pred"})
    config = make_config(epochs=1)
    config.tasks[1].name = "click_pred"

    result = run_experiment(config, frame)
    table = result.predictions
    run = RunStore(tmp_path).load(RunStore(tmp_path).save(result))
    saved = run.predictions()

    assert list(table.columns) == [
        "user_id", "item_id", "timestamp", "click", "click_pred_2", "click_pred", "click_pred_pred", "watch_time",
        "watch_time_pred",
    ]  # fmt: skip
    auc = result.metrics["tasks"]["click"]["auc"]
    assert auc == pytest.approx(roc_auc_score(table["click"], table["click_pred_2"]))
    assert result.metrics["tasks"]["click_pred"]["auc"] == pytest.approx(
        roc_auc_score(table["click_pred"], table["click_pred_pred"])
    )
    assert list(saved.columns) == list(table.columns)
    legend = [trace.name for trace in charts.roc_curves(saved, config.tasks[:2]).data if trace.name]
    assert f"click (AUC {auc:.4f})" in legend


def test_readme_python_example(_interactions_once, tmp_path, monkeypatch, capsys):
    # The README's "Use from Python" code, run as written on a file of the test data: it must keep working.
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Use from Python") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    _interactions_once.to_csv(tmp_path / "interactions.csv", index=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MTLREC_HOME", "unused")  # the example sets it after importing mtlrec

    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)

    assert scope["result"].status == "finished" and scope["result"].config.tasks[1].weight == 2.0
    assert capsys.readouterr().out.startswith("finished 0.")
    assert scope["store"].home == tmp_path / "my_runs" and os.environ["MTLREC_HOME"] == "my_runs"
    assert len(scope["store"].list()) == 1 + 3  # the run, then the sweep's three weightings
    top = scope["recommender"].recommend(scope["user"], k=10, fusion={"like": 2.0})
    assert len(top) == 10 and list(top["rank"]) == list(range(1, 11))


def test_a_task_predicting_one_value_for_every_row_gets_a_note():
    # A tower whose ReLUs all switched off predicted 42.0% for every row: AUC 0.50, and no word said why.
    from mtlrec.experiment import constant_outputs

    config = ExperimentConfig(
        tasks=[TaskSpec("click", "binary"), TaskSpec("like", "binary", weight=0.0), TaskSpec("dwell", "regression")]
    )
    rng = np.random.default_rng(0)
    y_pred = np.column_stack([rng.random(50), np.full(50, 0.42), 30 + rng.normal(0, 1e-5, 50)])
    notes = constant_outputs(config, y_pred)
    assert notes == [
        "task 'like' predicts one value for every test row (42.0%): the model learned nothing for it (its AUC "
        "compares differences of rounding size: read it as 0.5); try another seed, a lower learning rate or a larger "
        "size (its loss weight is 0: it was not trained)",
        "task 'dwell' predicts one value for every test row (30): the model learned nothing for it; try another "
        "seed, a lower learning rate or a larger size",
    ]
    y_pred[:, 1] += rng.normal(0, 0.01, 50)
    y_pred[:, 2] += rng.normal(0, 1.0, 50)
    assert constant_outputs(config, y_pred) == []
    # A rare task's probabilities spread by under 1e-4 while ranking its rows: no note (a review).
    y_pred[:, 0] = 0.0003 * np.exp(rng.normal(0, 0.2, 50))
    assert y_pred[:, 0].std() < 1e-4 and constant_outputs(config, y_pred) == []


def test_a_runs_ranking_metrics_rank_by_the_models_raw_outputs(interactions, make_config):
    # Watch time 0 in the rows of half the categories: their predictions fall around log1p(0), many below it, and
    # are 0 on the label's scale.
    codes = interactions["category"].astype("category").cat.codes
    interactions.loc[codes % 2 == 0, "watch_time"] = 0.0
    config = make_config(epochs=3)
    prepared = prepare(config, interactions)
    result = run_experiment(config, prepared=prepared)

    raw = predict_raw(result.model, prepared.test, torch.device("cpu"))
    assert (result.predictions["watch_time_pred"] == 0).mean() > 0.1  # tied on the label's scale
    y = result.predictions["watch_time"].to_numpy(dtype=float)
    expected = ranking_metrics(prepared.group("test"), np.clip(y, 0, None), raw[:, 2], k=config.k)
    for metric, value in expected.items():
        assert result.metrics["tasks"]["watch_time"][metric] == pytest.approx(value, abs=1e-12), metric


def test_a_log1p_task_predicting_typical_values_gets_a_note_saying_how_to_predict_means():
    from mtlrec.config import DataConfig

    config = ExperimentConfig(
        data=DataConfig(), tasks=[TaskSpec("click"), TaskSpec("watch time", "regression", log1p=True)]
    )
    y_true = np.array([[0, 0.0], [1, 0.0], [0, 9.0], [1, 3.0]])
    low = np.array([[0.5, 0.1], [0.5, 0.2], [0.5, 1.5], [0.5, 0.6]])  # mean 0.6 against the labels' 3

    assert log1p_typical(config, y_true, low) == [
        "task 'watch time' trains on log1p: its predictions are typical values, about a median (their mean 0.6 "
        "against the labels' 3), which MAE rewards and RMSE does not; to predict means (for RMSE, or a sum of "
        "expected values), train it without log1p (CLI: --no-log1p 'watch time'; on Train or Data: untick its log1p)"
    ]
    assert log1p_typical(config, y_true, low * 3) == []  # mean 1.8: over half the labels'
    config.tasks[1].log1p = False
    assert log1p_typical(config, y_true, low) == []


def test_a_single_task_run_records_each_networks_best_epoch(interactions, make_config):
    config = make_config(epochs=6, lr=0.05, monitor="click:auc", seed=2)  # seed 2: the networks peak apart
    config.model.kind = "single_task"

    result = run_experiment(config, interactions)

    history = result.history
    expected = {
        "click": int(history.loc[history["click/val_auc"].idxmax(), "epoch"]),
        "like": int(history.loc[history["like/val_loss"].idxmin(), "epoch"]),
        "watch_time": int(history.loc[history["watch_time/val_loss"].idxmin(), "epoch"]),
    }
    assert len(set(expected.values())) > 1  # else nothing is recorded (one epoch for all)
    assert result.metrics["best_epochs"] == expected
