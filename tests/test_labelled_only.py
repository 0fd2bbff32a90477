"""Tasks trained on their labelled rows only (TaskSpec.labelled_only): a label logged for some events only (a dwell
time after a click, a rating after a purchase, a like logged since some day) is left out of its task's loss and
metrics where it is missing, while the other tasks still learn from those rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from conftest import open_app, until, upload
from sklearn.metrics import mean_absolute_error, mean_squared_error, roc_auc_score

import mtlrec.stacked_bottom
from mtlrec.cli import main
from mtlrec.config import ExperimentConfig, TaskSpec, WeightingConfig
from mtlrec.data import prepare
from mtlrec.encode import Encoder
from mtlrec.errors import MtlrecError
from mtlrec.experiment import run_experiment, validation_metrics
from mtlrec.models import build_model, start_at_base_rates
from mtlrec.runs import RunStore
from mtlrec.schema import MIN_LABELLED, validate
from mtlrec.share import apply_query, to_query
from mtlrec.stacked import StackedTrainer
from mtlrec.train import task_losses


def partially_labelled(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The conftest data with `like` logged on about half the rows (at random) and `watch_time` only after a click:
    labelled on different rows, so dropping the rows that miss either would leave a quarter."""
    rng = np.random.default_rng(seed)
    frame = frame.copy()
    frame["like"] = frame["like"].astype(float).where(rng.random(len(frame)) < 0.5)
    frame["watch_time"] = frame["watch_time"].where(frame["click"] == 1)
    return frame


def labelled_config(make_config, *names: str, **train) -> ExperimentConfig:
    config = make_config(**train)
    for task in config.tasks:
        task.labelled_only = task.name in names
    return config


# ------------------------------------------------------------------------------------------------------ the loss


def test_a_masked_loss_is_each_tasks_mean_over_its_labelled_rows_by_hand():
    outputs = torch.tensor([[0.5, 1.0], [-1.0, 2.0], [2.0, -0.5], [0.0, 0.3]], requires_grad=True)
    labels = torch.tensor([[1.0, 0.5], [float("nan"), float("nan")], [0.0, float("nan")], [1.0, 1.5]])
    is_binary = torch.tensor([True, False])
    losses = task_losses(outputs, labels, is_binary, masked=True)
    # binary: BCE of rows 0, 2, 3 (row 1 unlabelled); regression: squared errors of rows 0 and 3
    bce = [F.binary_cross_entropy_with_logits(torch.tensor(x), torch.tensor(y)).item() for x, y in
           ((0.5, 1.0), (2.0, 0.0), (0.0, 1.0))]  # fmt: skip
    expected = [sum(bce) / 3, ((1.0 - 0.5) ** 2 + (0.3 - 1.5) ** 2) / 2]
    torch.testing.assert_close(losses, torch.tensor(expected), rtol=1e-6, atol=1e-7)
    losses.sum().backward()
    assert outputs.grad[1].abs().sum() == 0  # an unlabelled row pulls on nothing
    assert outputs.grad[2, 1] == 0 and outputs.grad[2, 0] != 0  # ...per task


def test_a_masked_loss_is_the_plain_loss_where_every_label_is_present_and_0_where_none_is():
    generator = torch.Generator().manual_seed(0)
    outputs = torch.randn(64, 3, generator=generator)
    labels = torch.cat([torch.randint(0, 2, (64, 2), generator=generator).float(), torch.randn(64, 1)], 1)
    is_binary = torch.tensor([True, True, False])
    torch.testing.assert_close(
        task_losses(outputs, labels, is_binary, masked=True), task_losses(outputs, labels, is_binary)
    )
    labels[:, 1] = float("nan")  # a batch without one labelled row of the second task
    out = outputs.clone().requires_grad_(True)
    losses = task_losses(out, labels, is_binary, masked=True)
    assert losses[1] == 0 and torch.isfinite(losses).all()
    losses.sum().backward()
    assert torch.isfinite(out.grad).all() and out.grad[:, 1].abs().sum() == 0
    # A stack's outputs (K, N, T) against the same labels reduce per model
    stacked = torch.stack([outputs, 2 * outputs])
    torch.testing.assert_close(
        task_losses(stacked, labels, is_binary, masked=True)[1], task_losses(2 * outputs, labels, is_binary, True)
    )


# ------------------------------------------------------------------------------------------------- validation


def test_missing_labels_are_a_problem_that_names_labelled_only_unless_it_is_set(interactions, make_config):
    frame = partially_labelled(interactions)
    with pytest.raises(MtlrecError) as info:
        validate(make_config(), frame)
    text = "\n".join(info.value.problems)
    assert "column 'like' (task) has missing values" in text
    assert "--labelled-only like" in text and "--labelled-only watch_time" in text
    assert "tick 'labelled rows only'" in text
    validate(labelled_config(make_config, "like", "watch_time"), frame)  # no problem left


def test_labelled_apart_counts_only_the_tasks_not_trained_on_their_labelled_rows(interactions, make_config):
    frame = partially_labelled(interactions)
    with pytest.raises(MtlrecError) as info:
        validate(labelled_config(make_config, "watch_time"), frame)  # like still has missing values
    assert not any("labelled on different rows" in p for p in info.value.problems)  # one task left: no such pair
    with pytest.raises(MtlrecError) as info:
        validate(make_config(), frame)
    [apart] = [p for p in info.value.problems if "labelled on different rows" in p]
    assert "--labelled-only like,watch_time" in apart


def test_labelled_rows_are_still_checked_and_rows_are_named_in_the_file(interactions, make_config):
    frame = partially_labelled(interactions)
    frame["like"] = frame["like"].astype(object)
    labelled = np.flatnonzero(frame["like"].notna().to_numpy())
    frame.loc[labelled[3], "like"] = 2  # a value no 0/1 label holds, in a labelled row
    with pytest.raises(MtlrecError) as info:
        validate(labelled_config(make_config, "like", "watch_time"), frame)
    [problem] = info.value.problems
    assert "column 'like' is a binary task" in problem and f"(row {labelled[3] + 1}," in problem  # its data row

    frame = partially_labelled(interactions)
    frame["like"] = frame["like"].where(frame["like"].isna(), 1.0)  # every labelled row says 1
    with pytest.raises(MtlrecError, match=r"same value \(1\) in every labelled row"):
        validate(labelled_config(make_config, "like", "watch_time"), frame)

    frame = partially_labelled(interactions)
    n = np.arange(len(frame))
    frame["like"] = np.where(n < MIN_LABELLED - 1, n % 2, np.nan)  # labelled in 29 rows
    with pytest.raises(MtlrecError, match=f"labelled in {MIN_LABELLED - 1} rows of 3,000; at least {MIN_LABELLED}"):
        validate(labelled_config(make_config, "like", "watch_time"), frame)


def test_a_regression_task_is_standardised_on_its_labelled_rows(interactions, make_config):
    frame = partially_labelled(interactions)
    config = labelled_config(make_config, "like", "watch_time")
    encoder = Encoder(config.data.categorical, config.data.numeric, config.tasks).fit(frame)
    logs = np.log1p(frame["watch_time"].dropna().to_numpy())
    mean, std = encoder.target_stats_["watch_time"]
    assert mean == pytest.approx(logs.mean()) and std == pytest.approx(logs.std())
    labels = encoder.transform(frame, labels=True).labels
    np.testing.assert_array_equal(np.isnan(labels[:, 1]), frame["like"].isna().to_numpy())
    np.testing.assert_array_equal(np.isnan(labels[:, 2]), frame["watch_time"].isna().to_numpy())
    assert not np.isnan(labels[:, 0]).any()


# --------------------------------------------------------------------------------------------------- end to end


def test_a_run_measures_each_task_on_its_labelled_test_rows_as_scikit_learn_does(interactions, make_config):
    frame = partially_labelled(interactions)
    config = labelled_config(make_config, "like", "watch_time", epochs=3)
    result = run_experiment(config, frame)
    assert result.status == "finished"
    p = result.predictions
    for task in ("like", "watch_time"):
        assert p[task].isna().any() and p[task].notna().sum() > 100
    like = p["like"].notna()
    assert result.metrics["tasks"]["like"]["auc"] == pytest.approx(roc_auc_score(p["like"][like], p["like_pred"][like]))
    watched = p["watch_time"].notna()
    y, y_hat = p["watch_time"][watched], p["watch_time_pred"][watched]
    assert result.metrics["tasks"]["watch_time"]["rmse"] == pytest.approx(mean_squared_error(y, y_hat) ** 0.5)
    assert result.metrics["tasks"]["watch_time"]["mae"] == pytest.approx(mean_absolute_error(y, y_hat))
    assert result.metrics["tasks"]["click"]["auc"] == pytest.approx(roc_auc_score(p["click"], p["click_pred"]))
    test_rows = len(p)
    note = next(n for n in result.notes if n.startswith("task 'like' is trained and measured on its labelled rows"))
    assert f"{int(like.sum()):,} of {test_rows:,} test rows" in note
    for row in result.history.to_dict("records"):  # finite losses every epoch, although batches miss labels
        assert all(np.isfinite(v) for k, v in row.items() if k.startswith(("train_loss", "val_loss")))
    again = run_experiment(config, frame)  # a seed fixes a run
    assert json.dumps(again.metrics["tasks"]) == json.dumps(result.metrics["tasks"])


def test_labelled_only_on_fully_labelled_tasks_trains_as_the_plain_run(interactions, make_config):
    # The masked loss is the plain mean where every label is present: the same run, up to float32 rounding
    plain = run_experiment(make_config(epochs=2), interactions)
    masked = run_experiment(labelled_config(make_config, "click", "like", "watch_time", epochs=2), interactions)
    for task, metrics in plain.metrics["tasks"].items():
        for name, value in metrics.items():
            assert masked.metrics["tasks"][task][name] == pytest.approx(value, rel=1e-3, abs=1e-4), (task, name)


def test_rows_without_a_tasks_label_still_train_the_other_tasks(interactions, make_config):
    frame = partially_labelled(interactions)
    config = labelled_config(make_config, "like", "watch_time", epochs=2)
    kept = run_experiment(config, frame)
    assert kept.metrics["samples_per_second"] > 0
    dropped = run_experiment(config, frame[frame["like"].notna()].reset_index(drop=True))
    assert kept.metrics["tasks"]["click"]["auc"] != dropped.metrics["tasks"]["click"]["auc"]
    assert len(kept.predictions) > len(dropped.predictions)  # click is measured on every test row


def test_a_stack_of_weightings_trains_as_its_separate_runs_with_labelled_only_tasks(interactions, make_config):
    frame = partially_labelled(interactions)
    experiment = labelled_config(make_config, "like", "watch_time", epochs=3)
    prepared = prepare(experiment, frame)
    configs = []
    for weights in ((1.0, 0.2, 1.0), (0.5, 1.0, 0.5)):
        config = ExperimentConfig.from_dict(experiment.to_dict())
        for task, w in zip(config.tasks, weights, strict=True):
            task.weight = w
        configs.append(config)
    separate = [run_experiment(c, prepared=prepared) for c in configs]
    for by_hand in (True, False):
        mtlrec.stacked_bottom.HAND_WRITTEN = by_hand
        try:
            torch.manual_seed(experiment.train.seed)
            encoder = prepared.encoder
            model = build_model(experiment.model, encoder.cardinalities, encoder.numeric_width, 3,
                                tasks=experiment.tasks)  # fmt: skip
            start_at_base_rates(model, experiment.tasks, prepared.train.labels)
            trainer = StackedTrainer(experiment.train, [c.tasks for c in configs],
                                     val_metrics=validation_metrics(prepared))  # fmt: skip
            fits = trainer.fit(model, prepared.train, prepared.val, torch.device("cpu"))
        finally:
            mtlrec.stacked_bottom.HAND_WRITTEN = True
        for run, fit in zip(separate, fits, strict=True):
            for name, value in run.model.state_dict().items():
                np.testing.assert_allclose(fit.state[name].numpy(), value.numpy(), atol=1e-5, err_msg=name)
            ours = pd.DataFrame(fit.history_).drop(columns="elapsed")  # losses, metrics (a stack: no diagnostics)
            theirs = run.history[ours.columns]
            np.testing.assert_allclose(ours.to_numpy(float), theirs.to_numpy(float), atol=1e-5)


@pytest.mark.parametrize("method", ["gradnorm", "uncertainty", "dwa", "pcgrad"])
def test_adaptive_weightings_stay_finite_when_a_batch_has_no_label_of_a_task(method, interactions, make_config):
    frame = partially_labelled(interactions)
    frame["like"] = frame["like"].where(np.arange(len(frame)) % 10 == 0)  # one row in ten: batches of 256 miss some
    config = labelled_config(make_config, "like", "watch_time", epochs=2, batch_size=8)
    config.weighting = WeightingConfig(method=method)
    result = run_experiment(config, frame)
    assert result.status == "finished", result.message
    assert np.isfinite(result.history.filter(like="weight").to_numpy(float)).all()
    assert np.isfinite(result.metrics["tasks"]["like"]["auc"])


def test_no_labelled_test_row_says_so_and_leaves_the_metric_undefined(interactions, make_config):
    frame = partially_labelled(interactions)
    config = labelled_config(make_config, "like", "watch_time")
    config.split.method = "time"
    frame.loc[frame.index[-700:], "like"] = np.nan  # never labelled in the latest rows, the test part
    result = run_experiment(config, frame)
    assert result.status == "finished"
    assert any("'like'" in n and "no labelled test row its test metrics are undefined" in n for n in result.notes)
    assert np.isnan(result.metrics["tasks"]["like"]["auc"])
    assert np.isfinite(result.metrics["tasks"]["click"]["auc"])


# ---------------------------------------------------------------------------------------- CLI, links and the app


def test_the_cli_trains_tasks_on_their_labelled_rows_and_reruns_the_same(interactions, tmp_path, capsys):
    path = tmp_path / "log.csv"
    partially_labelled(interactions).to_csv(path, index=False)
    args = ["train", str(path), "--tasks", "click,like,watch_time", "--size", "tiny", "--epochs", "2",
            "--labelled-only", "like,watch_time", "--quiet"]  # fmt: skip
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "like (binary, labelled rows only, w=1)" in out
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    assert [t["labelled_only"] for t in saved["tasks"]] == [False, True, True]
    assert main(["train", "--config", str(tmp_path / "a"), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    first, second = (json.loads((tmp_path / d / "metrics.json").read_text())["tasks"] for d in "ab")
    assert first == second

    assert main([*args[:-3], "--out", str(tmp_path / "c")]) == 2  # without the flag: refused, and said how
    err = capsys.readouterr().err
    assert "--labelled-only like" in err and "Traceback" not in err
    assert main([*args[:-2], "likes", "--out", str(tmp_path / "d")]) == 2
    assert "--labelled-only names 'likes', which is not a task" in capsys.readouterr().err


def test_a_link_carries_labelled_only_and_says_what_it_cannot_read(make_config):
    config = labelled_config(make_config, "like")
    query = to_query(config, ["click", "like", "watch_time"])
    assert "like:binary:1:labelled" in query["tasks"]
    fresh = make_config()
    again, active, problems = apply_query(fresh, query)
    assert not problems and [t.labelled_only for t in again.tasks] == [False, True, False]
    _, _, problems = apply_query(make_config(), {"tasks": "like:binary:1:labeled,watch_time:regression:1:log1p"})
    assert problems == ["link flag 'labeled' for task 'like' is not log1p, raw or labelled; ignored"]


def test_trains_help_writes_out_every_step_of_a_longer_funnel(home, interactions):
    # Train's help said "the chance of both, P(like) × P(purchase | like)" where Recommend multiplies in the click
    # too, asking with only this task's box ticked (a review)
    rng = np.random.default_rng(1)
    frame = interactions.drop(columns=["timestamp", "watch_time"]).copy()
    frame["like"] = frame["like"].astype(float).where(frame["click"] == 1)  # logged after clicks
    purchase = (rng.random(len(frame)) < 0.3).astype(float)
    frame["purchase"] = np.where(frame["like"] == 1, purchase, np.nan)  # logged after likes
    # purchase listed before like: its help is drawn before like's box takes this run's value into the config (it
    # was one rerun behind)
    frame = frame[[c for c in frame.columns if c != "like"] + ["like"]]
    at = upload(open_app("pages/data.py"), "funnel.csv", frame.to_csv(index=False).encode())
    at.switch_page("pages/train.py").run()
    assert "the chance of both, P(like) × P(purchase | like)" in at.checkbox(key="train_task_labelled_purchase").help
    at.checkbox(key="train_task_labelled_like").check().run()  # like too: a funnel of three steps
    assert (
        "Recommend ranks it by the chance of every step, P(click) × P(like | click) × P(purchase | like)."
    ) in at.checkbox(key="train_task_labelled_purchase").help


def test_train_offers_labelled_rows_only_for_a_task_with_missing_labels_and_results_say_so(home, interactions):
    frame = partially_labelled(interactions).drop(columns=["timestamp"])
    at = open_app("pages/data.py")
    upload(at, "partial.csv", frame.to_csv(index=False).encode())
    at.switch_page("pages/train.py").run()
    boxes = {c.key for c in at.checkbox if str(c.key).startswith("train_task_labelled_")}
    assert boxes == {"train_task_labelled_like", "train_task_labelled_watch_time"}  # not click: it has every label
    # watch_time is logged after clicks only: its help says what it then learns; like, logged at random, says nothing
    assert "Its labels sit where 'click' is 1: it then learns its value given 'click'." in (
        at.checkbox(key="train_task_labelled_watch_time").help
    )
    assert "Its labels sit" not in at.checkbox(key="train_task_labelled_like").help
    at.radio(key="train_size").set_value("tiny")
    at.button(key="train_start").click().run()
    assert "--labelled-only like" in at.error[0].value  # refused, with the way out
    for name in ("like", "watch_time"):
        at.checkbox(key=f"train_task_labelled_{name}").check()
    at.run()
    assert "like:binary:1:labelled" in at.query_params["tasks"]
    at.button(key="train_start").click().run()
    until(at, lambda at: bool(at.success))
    [row] = RunStore(home).list()
    run = RunStore(home).load(row["id"])
    assert [t.labelled_only for t in run.config.tasks] == [False, True, True]
    at.switch_page("pages/results.py").run()
    assert not at.exception
    titles = [m.value for m in at.markdown if m.value.startswith("####") and "its labelled rows only" in m.value]
    assert [t.split("\n")[0].split("} ")[1] for t in titles] == ["like", "watch_time"]
    assert any("like' is trained and measured on its labelled rows only" in m.value for m in at.markdown)  # notes


# ------------------------------------------------------------------------------------------- from the review


def test_a_task_with_no_labelled_training_row_after_the_split_is_refused(interactions, make_config):
    # Like logged only in the latest 15%: the time split made those rows the test part, and its untrained head's
    # AUC (0.54) was reported as the run's
    frame = partially_labelled(interactions)
    frame.loc[frame.index[: int(len(frame) * 0.85)], "like"] = np.nan  # the rows are sorted by time
    config = labelled_config(make_config, "like", "watch_time")
    config.split.method = "time"
    with pytest.raises(MtlrecError) as info:
        run_experiment(config, frame)
    [problem] = info.value.problems
    assert problem.startswith("task 'like' has no labelled row among the 2,160 training rows")
    assert "it cannot be trained; use the random split, leave it out of the tasks" in problem


def test_a_single_task_network_without_labelled_validation_rows_keeps_its_latest_epoch(interactions, make_config):
    # Its validation loss was 0, the best ever, so its network went back to epoch 1 (a review): now NaN, no say
    frame = partially_labelled(interactions)
    config = labelled_config(make_config, "like", "watch_time", epochs=4, patience=0)
    config.model.kind = "single_task"
    prepared = prepare(config, frame)
    like = [t.name for t in config.tasks].index("like")
    prepared.val.labels[:, like] = np.nan  # no labelled validation row of like
    result = run_experiment(config, prepared=prepared)
    assert result.history["like/val_loss"].isna().all()
    assert np.isfinite(result.history["click/val_loss"]).all()
    assert result.metrics.get("best_epochs", {}).get("like", result.metrics["best_epoch"]) == 4  # its latest


def test_uncertainty_weighting_leaves_a_task_out_of_a_batch_without_its_labels():
    from mtlrec.config import TaskSpec
    from mtlrec.weighting import UncertaintyWeighting

    weighting = UncertaintyWeighting([TaskSpec("click"), TaskSpec("dwell", "regression", labelled_only=True)])
    outputs = torch.zeros(4, 2, requires_grad=True)
    labels = torch.tensor([[1.0, float("nan")]] * 4)
    losses = task_losses(outputs, labels, torch.tensor([True, False]), True)
    weighting.backward(losses, None)
    assert weighting.log_vars.grad[1] == 0 and weighting.log_vars.grad[0] != 0  # its s/2 pulled it up batch by batch


def test_a_link_naming_a_task_without_the_flag_unticks_it(make_config):
    ticked = labelled_config(make_config, "like")
    query = to_query(make_config(), ["click", "like", "watch_time"])
    assert query["tasks"].split(",")[1] == "like:binary:1"  # a binary task's part: three pieces, no flag
    again, _, problems = apply_query(ticked, query)
    assert not problems and not any(t.labelled_only for t in again.tasks)


def test_flagging_a_fully_labelled_task_leaves_the_other_tasks_training_losses_as_they_were(interactions, make_config):
    # The epoch's train loss of every task became a row-weighted mean once any task was flagged (like's moved from
    # 0.2480 to 0.2461 at epoch 1, and DWA's weights with it): only the flagged tasks' are
    config = make_config(epochs=2)
    config.weighting = WeightingConfig(method="dwa")
    plain = run_experiment(config, interactions).history
    flagged_config = ExperimentConfig.from_dict(config.to_dict())
    flagged_config.tasks[0].labelled_only = True  # click: labelled in every row
    flagged = run_experiment(flagged_config, interactions).history
    for column in ("like/train_loss", "watch_time/train_loss", "click/train_loss", "like/weight"):
        np.testing.assert_allclose(flagged[column], plain[column], rtol=1e-5, err_msg=column)


def test_esmm_refuses_a_conditional_task_trained_on_its_labelled_rows_only(interactions, make_config):
    frame = interactions.assign(purchase=lambda f: np.where(f["click"] == 1, (f.index % 4 == 0).astype(float), np.nan))
    config = make_config()
    config.tasks = [*config.tasks[:2], TaskSpec("purchase", labelled_only=True)]
    config.model.kind, config.model.funnel = "esmm", {"purchase": "click"}
    with pytest.raises(MtlrecError) as info:
        validate(config, frame)
    assert any(p.startswith("ESMM trains task 'purchase' as p(click) x p(purchase | click) over every row") and
               "--fill purchase=0" in p for p in info.value.problems)  # fmt: skip
    config.model.kind = "shared_bottom"
    validate(config, frame)


def test_a_test_file_without_a_labelled_only_tasks_labels_is_a_note_not_a_refusal(interactions, make_config):
    frame = partially_labelled(interactions)
    train, test = frame.iloc[:2400], frame.iloc[2400:].assign(like=np.nan)
    config = labelled_config(make_config, "like", "watch_time")
    result = run_experiment(config, train, test)
    assert np.isnan(result.metrics["tasks"]["like"]["auc"])
    assert any("'like'" in n and "no labelled test row its test metrics are undefined" in n for n in result.notes)


def test_no_labelled_only_unticks_a_saved_runs_task(interactions, tmp_path, capsys):
    path = tmp_path / "log.csv"
    partially_labelled(interactions).assign(like=lambda f: f["like"].fillna(0)).to_csv(path, index=False)
    args = ["--size", "tiny", "--epochs", "1", "--quiet"]
    assert main(["train", str(path), "--tasks", "click,like", "--labelled-only", "like", *args,
                 "--out", str(tmp_path / "a")]) == 0  # fmt: skip
    assert main(["train", "--config", str(tmp_path / "a"), "--no-labelled-only", "like", *args,
                 "--out", str(tmp_path / "b")]) == 0  # fmt: skip
    saved = json.loads((tmp_path / "b" / "config.json").read_text())
    assert [t["labelled_only"] for t in saved["tasks"]] == [False, False]
    assert main(["train", str(path), "--tasks", "click,like", "--labelled-only", "like", "--no-labelled-only", "like",
                 *args, "--out", str(tmp_path / "c")]) == 2  # fmt: skip
    assert "both name like: choose one" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------- from the browser walk


def test_results_show_a_task_without_labelled_test_rows_and_its_distribution_keeps_its_labelled_rows(
    home, interactions, make_config
):

    from mtlrec import charts

    frame = partially_labelled(interactions)
    frame.loc[frame.index[1000:], "like"] = np.nan  # labelled in the earliest rows only: none in the time split's test
    config = labelled_config(make_config, "like", "watch_time")
    config.split.method = "time"
    result = run_experiment(config, frame)
    assert result.metrics["tasks"]["like"]["pos_rate"] is None or np.isnan(result.metrics["tasks"]["like"]["pos_rate"])
    run_id = RunStore(home).save(result, name="early likes")
    at = open_app()
    at.session_state["results_run"] = run_id
    at.switch_page("pages/results.py").run()
    assert not at.exception  # the positives caption multiplied None (a browser audit)
    assert any("early likes" in s.value for s in at.subheader)

    labelled = run_experiment(labelled_config(make_config, "like", "watch_time"), partially_labelled(interactions))
    p = labelled.predictions
    fig = charts.prediction_distribution(p, labelled.config.tasks)
    like = next(t for t in fig.data if t.name == "like")
    assert sum(like.customdata[:, 2]) == p["like"].notna().sum()  # its labelled test rows, as its card
    assert "a task trained on its labelled rows only: its labelled test rows" in fig.layout.annotations[0].text


def test_a_label_missing_where_another_task_is_0_is_told_to_train_on_its_labelled_rows_not_to_drop_them(
    interactions, make_config
):
    # "drop those rows rather than fill them" came first: dropping dwell's missing rows left click 1 in every row
    frame = partially_labelled(interactions).assign(like=interactions["like"])
    with pytest.raises(MtlrecError) as info:
        validate(make_config(), frame)
    [problem] = info.value.problems
    assert "exactly the rows where task 'click' is 0: the label is not recorded there. Train it on its labelled " in (
        problem
    )
    assert "`--labelled-only watch_time`): task 'click' keeps those rows" in problem and "--drop" not in problem


def test_recommendations_say_a_labelled_only_tasks_score_is_conditional(interactions, make_config):
    from mtlrec.recommend import Recommender

    frame = partially_labelled(interactions)
    result = run_experiment(labelled_config(make_config, "like", "watch_time"), frame)
    recommender = Recommender(result.model, result.encoder, result.config, frame)
    notes = " ".join(recommender.notes())
    # watch_time is logged after clicks only: its value given a click (a regression: nothing to multiply)
    assert recommender.conditions == {"watch_time": "click"} and recommender.joint == {}
    assert (
        "'watch_time' was trained on its labelled rows only, which are rows where 'click' is 1: its score is its "
        in (notes)
    )
    assert "'like' was trained on its labelled rows only: each score is the outcome's value where it is logged" in notes
    assert recommender.notes(joint=None) == [n for n in recommender.notes() if "labelled rows only" not in n]
    plain = run_experiment(make_config(), interactions)
    assert not [n for n in Recommender(plain.model, plain.encoder, plain.config, interactions).notes()
                if "labelled rows only" in n]  # fmt: skip


def funnel(frame: pd.DataFrame) -> pd.DataFrame:
    """The conftest data with a `purchase` logged after clicks only (missing where click is 0), as a conversion log:
    cheap items sell once clicked, whatever their category (which drives the clicks)."""
    price = frame["price"].fillna(20.0).to_numpy()
    bought = np.random.default_rng(3).random(len(frame)) < 1 / (1 + np.exp(0.1 * (price - 20)))
    return frame.assign(purchase=pd.Series(bought.astype(float)).where(frame["click"] == 1))


def test_a_purchase_logged_after_clicks_is_ranked_by_the_chance_of_both_unless_joint_is_off(interactions, make_config):
    from mtlrec.recommend import Recommender

    frame = funnel(interactions)
    config = labelled_config(make_config, epochs=3)
    config.tasks.append(TaskSpec("purchase", labelled_only=True))
    result = run_experiment(config, frame)
    recommender = Recommender(result.model, result.encoder, result.config, frame)
    assert recommender.joint == {"purchase": "click"}
    user = recommender.users()[0]
    scores = recommender.score(user).set_index("item")  # as trained: purchase given a click
    top = recommender.recommend(user, k=20, exclude_seen=False).set_index("item")
    both = scores.loc[top.index, "click"] * scores.loc[top.index, "purchase"]
    np.testing.assert_allclose(top["purchase"], both, rtol=1e-6)  # the table shows the chance of both
    fused = top["click"] + top["like"] + top["watch_time"] + top["purchase"]
    np.testing.assert_allclose(top["fused"], fused, rtol=1e-6)  # and fuses it
    conditional = recommender.recommend(user, k=20, exclude_seen=False, joint=False).set_index("item")
    np.testing.assert_allclose(conditional["purchase"], scores.loc[conditional.index, "purchase"], rtol=1e-6)
    # Ranked by purchase alone, the two orders differ: the conditional one lifts items seldom clicked.
    only = {"click": 0, "like": 0, "watch_time": 0}
    joint_order = recommender.recommend(user, k=20, fusion=only, exclude_seen=False)["item"].tolist()
    as_trained = recommender.recommend(user, k=20, fusion=only, exclude_seen=False, joint=False)["item"].tolist()
    expected = (scores["click"] * scores["purchase"]).sort_values(ascending=False, kind="stable").index[:20]
    assert joint_order == expected.tolist() and as_trained != joint_order
    # Every user's lists agree with the user's own, both ways.
    for joint in (True, False):
        every = recommender.recommend_all(k=5, users=[user], exclude_seen=False, joint=joint)
        alone = recommender.recommend(user, k=5, exclude_seen=False, joint=joint)
        assert every["item"].tolist() == alone["item"].tolist()
        np.testing.assert_allclose(every["purchase"], alone["purchase"], rtol=1e-6)
    said = " ".join(recommender.notes())
    assert (
        "it predicts 'purchase' given 'click', so it is ranked by the chance of both, P(click) × P(purchase | click)"
        in (said)
    )
    assert "and is ranked so, as trained" in " ".join(recommender.notes(joint=False))


# ------------------------------------------------------------------------------------------- third audit round


def test_a_label_logged_from_some_date_on_is_measured_by_the_diagnostics_and_none_is_undefined(
    interactions, make_config
):
    # A time-sorted file with like logged for its last quarter only: the probe's first rows held none, and like read
    # as no pull (grad norm 0, cosines 0.0000)
    frame = partially_labelled(interactions)
    frame.loc[frame.index[: int(len(frame) * 0.75)], "like"] = np.nan
    config = labelled_config(make_config, "like", "watch_time", epochs=2)
    result = run_experiment(config, frame)
    assert (result.history["like/grad_norm"] > 0).all()
    assert np.isfinite(result.history["val_loss"]).all()
    prepared = prepare(config, frame)
    prepared.val.labels[:, 1] = np.nan  # no labelled validation row of like: undefined, not 0
    history = run_experiment(config, prepared=prepared).history
    assert history["like/grad_norm"].isna().all() and history["cos/click|like"].isna().all()
    assert np.isfinite(history["click/grad_norm"]).all() and np.isfinite(history["val_loss"]).all()


def test_the_monitor_fallback_and_the_ranking_note_give_the_labelled_rows_reason(interactions, make_config):
    frame = partially_labelled(interactions)
    config = labelled_config(make_config, "like", "watch_time", epochs=2)
    config.train.monitor = "like:auc"
    prepared = prepare(config, frame)
    prepared.val.labels[:, 1] = np.nan
    result = run_experiment(config, prepared=prepared)
    [note] = [n for n in result.notes if n.startswith("early stopping was to watch like's validation auc")]
    assert "(it has no labelled validation row (it is trained on its labelled rows only))" in note
    rare = partially_labelled(interactions)
    rare["like"] = np.where(~rare["user_id"].duplicated(), interactions["like"], np.nan)  # one row per user
    rare_config = labelled_config(make_config, "like", "watch_time")
    rare_config.k = 2  # users have a median of 4 test rows: no note for them all, one for like's single rows
    notes = prepare(rare_config, rare).notes
    assert not any(n.startswith("users have a median") for n in notes)
    assert any(n.startswith("task 'like' is ranked among each user's labelled test rows, a median of 1") for n in notes)


def test_esmm_tells_its_conditional_tasks_missing_values_to_be_filled_and_negatives_runs_keep_the_option(
    interactions, make_config, tmp_path, capsys
):
    frame = interactions.assign(purchase=lambda f: np.where(f["click"] == 1, (f.index % 4 == 0).astype(float), np.nan))
    config = make_config()
    config.tasks = [*config.tasks[:2], TaskSpec("purchase")]
    config.model.kind, config.model.funnel = "esmm", {"purchase": "click"}
    with pytest.raises(MtlrecError) as info:
        validate(config, frame)
    [problem] = [p for p in info.value.problems if "'purchase'" in p]
    assert "ESMM learns it over every row as a step after another task" in problem and "--fill purchase=0" in problem
    assert "--labelled-only" not in problem
    # --no-labelled-only on a task the negatives fix leaves empty: refused, not undone without a word
    path = tmp_path / "ratings.csv"
    interactions[["user_id", "item_id", "category"]].assign(rating=interactions.index % 5 + 1.0).drop_duplicates(
        ["user_id", "item_id"]
    ).to_csv(path, index=False)
    assert main(["train", str(path), "--negatives", "2", "--size", "tiny", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "run")]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["train", "--config", str(tmp_path / "run"), "--no-labelled-only", "rating", "--quiet",
                 "--out", str(tmp_path / "again")]) == 2  # fmt: skip
    assert "has no value in the rows the negatives fix samples" in capsys.readouterr().err
