"""Specifications of mtlrec.config: JSON round trip, strict loading, check() listing every problem, presets."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mtlrec.config import (
    SIZE_PRESETS,
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TaskSpec,
    TrainConfig,
)
from mtlrec.errors import MtlrecError


def full_config() -> ExperimentConfig:
    """A config where every section differs from its defaults."""
    return ExperimentConfig(
        data=DataConfig(
            path="data/interactions.csv",
            user_col="user_id",
            item_col="item_id",
            time_col="ts",
            categorical=["user_id", "item_id", "category"],
            numeric=["price"],
            max_vocab=500,
            min_count=2,
        ),
        tasks=[TaskSpec("click", "binary", 1.0), TaskSpec("watch_time", "regression", 0.5, log1p=True)],
        split=SplitConfig(method="time", test_frac=0.25, val_frac=0.2),
        model=ModelConfig(size="tiny", embed_dim=6, bottom=[16, 8], tower=None, dropout=0.1),
        train=TrainConfig(epochs=3, lr=0.01, monitor="click:auc", seed=7, device="cpu"),
        k=5,
    )


def problems_of(config: ExperimentConfig) -> list[str]:
    with pytest.raises(MtlrecError) as info:
        config.check()
    return info.value.problems


def test_json_round_trip_gives_an_equal_config():
    config = full_config()

    restored = ExperimentConfig.from_json(config.to_json())

    assert restored == config
    assert restored.tasks[1] == TaskSpec("watch_time", "regression", 0.5, log1p=True)
    assert restored.model.bottom == [16, 8]


def test_to_json_is_plain_json_with_every_section():
    document = json.loads(full_config().to_json())

    assert set(document) == {"data", "tasks", "split", "model", "weighting", "train", "k"}
    assert document["tasks"][0] == {
        "name": "click",
        "type": "binary",
        "weight": 1.0,
        "log1p": False,
        "labelled_only": False,
    }


def test_a_valid_config_passes_check():
    full_config().check()


def test_from_dict_rejects_unknown_keys_naming_each_of_them():
    document = full_config().to_dict()
    document["colour"] = "blue"
    document["train"]["epoch"] = 3  # typo of "epochs"
    document["tasks"][0]["wieght"] = 2

    with pytest.raises(MtlrecError) as info:
        ExperimentConfig.from_dict(document)

    message = str(info.value)
    assert len(info.value.problems) == 3
    assert "'colour'" in message
    assert "'train.epoch'" in message
    assert "'tasks[0].wieght'" in message


def test_from_dict_rejects_values_of_the_wrong_json_type():
    document = full_config().to_dict()
    document["train"]["epochs"] = "10"
    document["model"]["bottom"] = [16, "8"]
    document["tasks"][0]["log1p"] = 1

    with pytest.raises(MtlrecError) as info:
        ExperimentConfig.from_dict(document)

    message = str(info.value)
    assert len(info.value.problems) == 3
    assert "'train.epochs' must be int" in message
    assert "'model.bottom' must be list[int] or None" in message
    assert "'tasks[0].log1p' must be bool" in message


def test_from_dict_accepts_an_integer_where_a_float_is_expected():
    document = full_config().to_dict()
    document["train"]["lr"] = 1

    assert ExperimentConfig.from_dict(document).train.lr == 1


def test_from_json_reports_invalid_json_as_mtlrec_error():
    with pytest.raises(MtlrecError, match="not valid JSON"):
        ExperimentConfig.from_json("{'tasks': []}")


def test_load_of_a_missing_file_names_the_file(tmp_path):
    with pytest.raises(MtlrecError, match="nowhere.json"):
        ExperimentConfig.load(tmp_path / "nowhere.json")


def test_load_reads_a_config_saved_with_a_byte_order_mark_and_a_run_folder(tmp_path):
    # Notepad saves UTF-8 with a BOM, which json refused ("Unexpected UTF-8 BOM"); a run folder stands for its
    # config.json (`train --config out/run` said the existing folder did not exist).
    config = ExperimentConfig(tasks=[TaskSpec("click")])
    (tmp_path / "config.json").write_bytes(b"\xef\xbb\xbf" + config.to_json().encode())
    assert ExperimentConfig.load(tmp_path / "config.json").to_dict() == config.to_dict()
    assert ExperimentConfig.load(tmp_path).to_dict() == config.to_dict()
    (tmp_path / "empty").mkdir()
    with pytest.raises(MtlrecError, match="folder '.*empty' holds no config.json"):
        ExperimentConfig.load(tmp_path / "empty")


@pytest.mark.parametrize(
    "tasks, problem",
    [
        ({"click": 1}, '\'tasks\' must be a list of task objects, e.g. [{"name": "click"'),
        ([{"type": "binary"}], "'tasks[0]' needs 'name'"),
    ],
)
def test_from_dict_says_what_a_task_list_needs(tasks, problem):
    with pytest.raises(MtlrecError) as error:
        ExperimentConfig.from_dict({"tasks": tasks})
    assert problem in error.value.message
    assert "__init__" not in error.value.message and "tasks[0]' must be a JSON object" not in error.value.message


def test_check_lists_every_problem_at_once():
    config = ExperimentConfig(
        data=DataConfig(categorical=["category"]),  # no user column
        tasks=[TaskSpec("click", weight=-1.0), TaskSpec("like", weight=0.0)],
        split=SplitConfig(method="user"),
        model=ModelConfig(size="huge", cross=-1),
        train=TrainConfig(monitor="purchase:auc", precision="half"),
    )

    problems = problems_of(config)

    assert len(problems) == 6
    assert "cross layers must be from 0 to 6, got -1" in problems
    assert "precision 'half' is not one of auto, fp32, bf16" in problems
    assert "task 'click': loss weight must be a number >= 0, got -1.0" in problems
    assert "the 'user' split needs a user column: set one or choose the random split" in problems
    assert "model size 'huge' is not one of tiny, small, medium, large, xl" in problems
    assert any("monitor 'purchase:auc'" in p for p in problems)


def test_check_rejects_all_zero_weights():
    config = ExperimentConfig(tasks=[TaskSpec("click", weight=0.0), TaskSpec("like", weight=0)])

    assert problems_of(config) == ["every task has loss weight 0: give at least one task a weight > 0 to train"]


def test_check_rejects_an_unknown_split_method_naming_it():
    config = ExperimentConfig(tasks=[TaskSpec("click")], split=SplitConfig(method="stratified"))

    assert problems_of(config) == ["split method 'stratified' is not one of random, user, time"]


def test_check_rejects_a_monitor_metric_the_task_type_does_not_have():
    config = full_config()
    config.train.monitor = "watch_time:auc"

    assert problems_of(config) == ["monitor 'watch_time:auc': a regression task is monitored by one of rmse, mae"]


def test_check_rejects_gauc_monitor_without_a_user_column():
    config = full_config()
    config.data.user_col = None
    config.split.method = "random"
    config.train.monitor = "click:gauc"

    assert problems_of(config) == ["monitor 'click:gauc': a binary task is monitored by one of auc, logloss"]


def test_check_rejects_time_split_without_time_column_even_with_a_test_file():
    # with a test file the split method still carves the validation rows out of the training file (KeyError: None)
    config = full_config()
    config.data.time_col = None

    assert problems_of(config) == ["the 'time' split needs a timestamp column: set one or choose the random split"]
    config.data.test_path = "test.csv"
    assert problems_of(config) == ["the 'time' split needs a timestamp column: set one or choose the random split"]


def test_check_problems_name_the_setting_and_value():
    config = full_config()
    config.model.size = "huge"
    config.train.optimizer = "sgd"
    config.train.batch_size = 0
    config.split.test_frac = 1.5

    assert problems_of(config) == [
        "test fraction must be between 0 and 1, got 1.5",
        "model size 'huge' is not one of tiny, small, medium, large, xl",
        "optimizer 'sgd' is not one of adam, adamw",
        "batch size must be >= 1, got 0",
    ]


def test_resolved_applies_overrides_over_the_preset():
    model = ModelConfig(size="small", embed_dim=8, tower=[4, 2], dropout=0.2, cross=2)

    assert model.resolved() == {"embed_dim": 8, "bottom": [256, 128], "tower": [4, 2], "dropout": 0.2, "cross": 2}


def test_resolved_without_overrides_is_the_preset():
    expected = {"embed_dim": 4, "bottom": [32], "tower": [8], "dropout": 0.0, "cross": 0}
    assert ModelConfig(size="tiny").resolved() == expected


def test_resolved_returns_copies_that_do_not_alter_the_preset():
    resolved = ModelConfig(size="medium").resolved()
    resolved["bottom"].append(1)

    assert SIZE_PRESETS["medium"]["bottom"] == [512, 256]


def test_task_names_follow_task_order():
    assert full_config().task_names == ["click", "watch_time"]


def test_check_rejects_unknown_weighting_and_bad_weighting_parameters():
    config = ExperimentConfig(tasks=[TaskSpec("click")])
    config.weighting.method, config.weighting.alpha, config.weighting.temperature = "magic", -1.0, 0.0

    with pytest.raises(MtlrecError) as caught:
        config.check()

    assert caught.value.problems == [
        "loss weighting 'magic' is not one of fixed, uncertainty, gradnorm, dwa, pcgrad",
        "GradNorm alpha must be a number >= 0, got -1.0",
        "DWA temperature must be a number > 0, got 0.0",
    ]


def test_check_validates_architecture_settings_before_any_data_is_read():
    config = ExperimentConfig(tasks=[TaskSpec("click"), TaskSpec("watch", "regression")])
    config.model.kind, config.model.funnel = "esmm", {"watch": "click"}

    with pytest.raises(MtlrecError) as caught:
        config.check()
    assert caught.value.problems == ["funnel 'watch' -> 'click': 'watch' is a regression task; both must be binary"]

    config.model.kind, config.model.experts = "mmoe", 0
    with pytest.raises(MtlrecError, match="mmoe needs at least 1 shared expert, got 0"):
        config.check()
    config.model.kind = "transformer"
    with pytest.raises(MtlrecError, match="model 'transformer' is not one of shared_bottom, mmoe, ple, esmm"):
        config.check()


@pytest.mark.parametrize(
    ("section", "attr", "value", "problem"),
    [
        ("train", "seed", -1, "seed must be a whole number from 0 to 4294967295, got -1"),
        ("train", "seed", 2**32, "seed must be a whole number from 0 to 4294967295, got 4294967296"),
        ("train", "weight_decay", float("nan"), "weight decay must be a number >= 0, got nan"),
        ("train", "weight_decay", float("inf"), "weight decay must be a number >= 0, got inf"),
        ("train", "lr", float("inf"), "learning rate must be > 0 (and finite), got inf"),
        ("train", "lr", float("nan"), "learning rate must be > 0 (and finite), got nan"),
        ("model", "dropout", float("nan"), "dropout must be in [0, 1), got nan"),
        ("split", "test_frac", float("nan"), "test fraction must be between 0 and 1, got nan"),
        ("split", "val_frac", float("nan"), "validation fraction must be between 0 and 1, got nan"),
        ("weighting", "alpha", float("nan"), "GradNorm alpha must be a number >= 0, got nan"),
        ("weighting", "temperature", float("nan"), "DWA temperature must be a number > 0, got nan"),
    ],
)
def test_check_refuses_a_seed_out_of_range_and_numbers_that_are_not_finite(section, attr, value, problem):
    config = full_config()
    setattr(getattr(config, section), attr, value)

    assert problems_of(config) == [problem]


@pytest.mark.parametrize(
    ("section", "attr", "value", "problem"),
    [
        ("train", "epochs", "3", "'train.epochs' must be int, got '3'"),
        ("train", "epochs", 1.5, "'train.epochs' must be int, got 1.5"),
        ("model", "embed_dim", 4.5, "'model.embed_dim' must be int or None, got 4.5"),
        ("model", "dropout", None, "'model.dropout' must be float, got None"),
        ("data", "categorical", "device", "'data.categorical' must be list[str], got 'device': a list is expected, "
         "e.g. ['device']"),
        ("train", "device", torch.device("cpu"), "'train.device' must be str, got device(type='cpu'): pass a "
         "string, e.g. 'cpu'"),
        ("train", "seed", True, "'train.seed' must be int, got True"),
    ],
)  # fmt: skip
def test_check_refuses_a_value_of_the_wrong_type_in_a_config_built_in_python(section, attr, value, problem):
    # from_dict checked types, check() did not: raw TypeErrors, or 'device' read as the columns 'd', 'e', 'v'...
    config = full_config()
    setattr(getattr(config, section), attr, value)

    assert problems_of(config) == [problem]


def test_check_says_to_use_taskspec_for_a_task_given_as_its_name():
    config = full_config()
    config.tasks = ["click", TaskSpec("like")]

    assert problems_of(config) == ["'tasks[0]' must be a TaskSpec, got the text 'click': use TaskSpec('click')"]


def test_check_lists_a_wrong_type_once_beside_the_other_problems():
    config = full_config()
    config.train.epochs, config.train.lr = "3", -1.0

    assert problems_of(config) == [
        "'train.epochs' must be int, got '3'",
        "learning rate must be > 0 (and finite), got -1.0",
    ]


def test_numpy_numbers_pass_check_and_are_saved_as_json_numbers():
    # Their messages contradicted themselves: "loss weight must be a number >= 0, got np.float32(0.5)".
    config = full_config()
    config.tasks[0].weight, config.train.seed, config.model.dropout = np.float32(0.5), np.int64(3), np.float64(0.1)
    config.tasks[0].log1p = np.bool_(False)

    config.check()

    saved = json.loads(config.to_json())
    assert (saved["tasks"][0]["weight"], saved["train"]["seed"], saved["model"]["dropout"]) == (0.5, 3, 0.1)
    assert type(saved["train"]["seed"]) is int and saved["tasks"][0]["log1p"] is False


def test_check_refuses_one_column_as_both_user_and_item():
    config = full_config()
    config.data.item_col = config.data.user_col

    assert problems_of(config) == [
        f"column '{config.data.user_col}' is both the user and the item column: choose two different columns"
    ]


@pytest.mark.parametrize(("field", "value", "said"), [("max_vocab", 0, "max_vocab is 0: keep at least 1 value"),
                                                      ("min_count", -1, "min_count is -1: a value is kept when")])  # fmt: skip
def test_a_vocabulary_cap_or_minimum_count_below_1_is_refused(field, value, said):
    # max_vocab 0 put every id on the unknown-value embedding with a note only; min_count -1 passed (audit)
    import pandas as pd

    from mtlrec.config import DataConfig, ExperimentConfig, TaskSpec
    from mtlrec.errors import MtlrecError
    from mtlrec.schema import validate

    frame = pd.DataFrame({"user_id": [i % 9 for i in range(200)], "click": [i % 2 for i in range(200)]})
    config = ExperimentConfig(data=DataConfig(user_col="user_id", categorical=["user_id"]), tasks=[TaskSpec("click")])
    setattr(config.data, field, value)
    with pytest.raises(MtlrecError) as info:
        validate(config, frame)
    assert any(p.startswith(said) for p in info.value.problems)


def test_conform_drops_an_esmm_funnel_whose_tasks_the_new_data_lacks():
    # Ali-CCP's purchase after click, then an Avazu file with click only: "funnel 'purchase' → 'click': 'purchase' is
    # not a task" blocked it on Data, without saying the funnel is Train's (a browser audit).
    config = ExperimentConfig(tasks=[TaskSpec("click"), TaskSpec("like")])
    config.model.kind, config.model.funnel = "esmm", {"purchase": "click", "like": "click"}

    notes = config.conform()

    assert config.model.funnel == {"like": "click"}
    assert notes == [
        "the ESMM funnel ('purchase' after 'click') names tasks this data does not have: set it again on Train"
    ]
