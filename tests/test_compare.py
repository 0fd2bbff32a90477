"""What differs between runs' settings (mtlrec.compare), for Results' reference and Runs' comparison."""

from __future__ import annotations

import copy

from mtlrec.compare import NOT_SET, differences, settings, summary
from mtlrec.config import DataConfig, ExperimentConfig, TaskSpec


def config() -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(path="/data/log.csv", user_col="u", categorical=["u", "device"], numeric=["age"]),
        tasks=[TaskSpec("click"), TaskSpec("like", weight=2.0), TaskSpec("dwell", "regression", log1p=True)],
    )


def test_identical_settings_differ_in_nothing_and_device_or_logging_do_not_count():
    a, b = config(), config()
    b.train.device, b.train.log_every, b.train.diagnostics = "cuda", 7, False  # what a run learns is the same
    assert differences({"a": a, "b": b}).empty
    assert summary(b, a) is None


def test_a_role_a_weight_a_task_option_and_a_training_setting_are_each_one_row():
    a, b = config(), config()
    b.data.numeric, b.data.categorical = [], ["u", "device", "age"]  # age made categorical
    b.tasks[1].weight = 1.0
    b.tasks[2].labelled_only = True
    b.train.lr = 0.01
    table = differences({"first": a, "second": b})
    assert table.to_dict("records") == [
        {"setting": "role of 'age'", "first": "numeric", "second": "categorical"},
        {"setting": "task 'like'", "first": "binary, weight 2", "second": "binary, weight 1"},
        {"setting": "task 'dwell'", "first": "regression, weight 1, log1p",
         "second": "regression, weight 1, log1p, labelled rows only"},
        {"setting": "train.lr", "first": "0.002", "second": "0.01"},
    ]  # fmt: skip
    assert summary(b, a, limit=2) == (
        "role of 'age': numeric → categorical; task 'like': binary, weight 2 → binary, weight 1; and 2 more"
    )


def test_a_setting_one_run_lacks_is_shown_as_not_set_and_three_runs_compare_at_once():
    a, b, c = config(), config(), config()
    b.data.numeric = []  # age not used
    c.tasks = c.tasks[:2]  # no dwell task
    c.model.size = "tiny"
    table = differences({"a": a, "b": b, "c": c}).set_index("setting")
    assert table.loc["role of 'age'"].tolist() == ["numeric", NOT_SET, "numeric"]
    assert table.loc["task 'dwell'"].tolist() == ["regression, weight 1, log1p", "regression, weight 1, log1p", NOT_SET]
    assert table.loc["model.size"].tolist() == ["small", "small", "tiny"]
    assert len(table) == 3


def test_a_setting_of_another_model_or_weighting_is_no_difference():
    a, b = config(), config()
    b.weighting.alpha, b.model.experts, b.model.funnel = 0.5, 8, {"like": "click"}  # unused by shared-bottom, fixed
    assert differences({"a": a, "b": b}).empty
    a.weighting.method = b.weighting.method = "gradnorm"
    assert differences({"a": a, "b": b})["setting"].tolist() == ["weighting.alpha"]


def test_settings_cover_every_field_that_changes_a_run():
    values = settings(config())
    changed = copy.deepcopy(config())
    changed.split.method, changed.data.fixes = "user", [{"drop": "age"}]
    changed.model.kind, changed.model.funnel = "esmm", {"like": "click"}
    changed.weighting.method, changed.k = "gradnorm", 5
    table = differences({"a": config(), "b": changed}).set_index("setting")
    assert set(table.index) == {"split.method", "model.kind", "model.funnel", "fixes to the rows", "weighting.method",
                                "weighting.alpha", "k"}  # fmt: skip
    assert table.loc["model.funnel"].tolist() == [NOT_SET, "like>click"]
    assert values["data file"] == "/data/log.csv" and values["user column"] == "u" and values["time column"] == "none"
