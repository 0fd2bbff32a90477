"""Shareable links: a training configuration as URL query parameters, and back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import pytest

from mtlrec.config import DataConfig, ExperimentConfig, ModelConfig, SplitConfig, TaskSpec, TrainConfig
from mtlrec.errors import MtlrecError
from mtlrec.sample import SyntheticSpec, write_sample
from mtlrec.share import apply_query, parse_world, to_query


def lab_config(path: str | None = "sample:synthetic") -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(path=path, user_col="user_id", item_col="item_id", time_col="timestamp"),
        tasks=[
            TaskSpec("click", "binary", 1.0),
            TaskSpec("like", "binary", 0.5),
            TaskSpec("purchase", "binary", 2.0),
            TaskSpec("watch_time", "regression", 1.0, log1p=True),
        ],
    )


def changed() -> ExperimentConfig:
    """Every setting a link carries, away from its default."""
    config = lab_config()
    config.tasks[0].weight, config.tasks[1].type, config.tasks[3].weight = 3.5, "regression", 0.0
    config.tasks[3].log1p = False
    config.model = ModelConfig(size="tiny", embed_dim=12, bottom=[64, 32], tower=[16], dropout=0.25, cross=2)
    config.weighting.method = "uncertainty"
    config.train = TrainConfig(
        optimizer="adamw",
        lr=0.0005,
        weight_decay=0.01,
        batch_size=256,
        epochs=7,
        patience=3,
        seed=42,
        precision="fp32",
    )
    config.train.monitor = "purchase:auc"
    config.split = SplitConfig(method="time", test_frac=0.25, val_frac=0.15)
    return config


def through_url(query: dict[str, str]) -> dict[str, str]:
    """What the receiving browser hands back: the query string encoded, then decoded."""
    return {k: v[0] for k, v in parse_qs(urlencode(query), keep_blank_values=True).items()}


def test_round_trip_carries_tasks_model_training_and_split_settings():
    config = changed()
    applied, active, problems = apply_query(lab_config(), through_url(to_query(config)))
    assert problems == []
    assert active == ["click", "like", "purchase", "watch_time"]
    assert applied.tasks == config.tasks  # types, weights and log1p
    assert applied.model == config.model
    assert applied.weighting == config.weighting
    assert applied.train == config.train
    assert applied.split == config.split


def test_floats_travel_exactly():
    # Written with 6 digits, lr 0.0012345678 came back as 0.00123457 and a weight of 1/3 as 0.333333: another run.
    config = changed()
    config.train.lr, config.tasks[0].weight, config.split.test_frac = 0.0012345678, 1 / 3, 0.123456789
    config.weighting.method, config.weighting.alpha = "gradnorm", 1.2345678
    applied, _, problems = apply_query(lab_config(), through_url(to_query(config)))
    assert problems == []
    assert (applied.train.lr, applied.tasks[0].weight, applied.split.test_frac, applied.weighting.alpha) == (
        0.0012345678,
        1 / 3,
        0.123456789,
        1.2345678,
    )
    assert to_query(changed())["lr"] == "0.0005"  # short where short is exact


def test_query_is_short_and_readable():
    query = to_query(changed())
    assert query["data"] == "synthetic"
    assert query["tasks"] == "click:binary:3.5,like:regression:0.5:raw,purchase:binary:2,watch_time:regression:0:raw"
    assert (query["size"], query["lr"], query["epochs"], query["split"], query["seed"]) == (
        "tiny",
        "0.0005",
        "7",
        "time",
        "42",
    )
    assert query["bottom"] == "64-32"
    assert "embed" not in query  # Streamlit keeps ?embed= for itself: the page could never read it back
    assert query["embed_dim"] == "12"
    assert query["precision"] == "fp32"
    assert "precision" not in to_query(lab_config())  # auto, the default, stays out of the link


def test_only_the_active_tasks_travel_and_come_back_as_the_active_ones():
    query = to_query(lab_config(), active=["like", "watch_time"])
    assert query["tasks"] == "like:binary:0.5,watch_time:regression:1:log1p"
    config, active, problems = apply_query(lab_config(), query)
    assert active == ["like", "watch_time"] and problems == []
    assert [t.name for t in config.tasks] == ["click", "like", "purchase", "watch_time"]  # the schema keeps all


def test_a_task_given_twice_in_a_link_keeps_the_first_and_an_empty_part_is_skipped():
    # An app audit: click:binary:1,click:binary:3 showed two click chips and the second weight won, silently; an empty
    # tasks= warned of a column ''.
    config, active, problems = apply_query(lab_config(), {"tasks": "click:binary:1,,click:binary:3"})
    assert active == ["click"] and config.tasks[0].weight == 1.0
    assert problems == ["link task 'click' is given twice; the first one kept"]
    assert apply_query(lab_config(), {"tasks": ""})[1:] == (None, [])  # as if not given: the tasks stay


def test_a_generated_world_travels_as_its_recipe(tmp_path):
    world = tmp_path / "datasets" / "world-ab12"
    write_sample(world, SyntheticSpec(n_users=20, n_items=10, n_rows=200, task_correlation=-0.8, seed=3))
    assert to_query(lab_config(str(world / "synthetic.parquet")))["data"] == "world:-0.8:200:3"
    assert parse_world("world:-0.8:200:3") == (-0.8, 200, 3)
    for bad in ("world:", "world:x:200:3", "world:0.5:200", "world:0.5:200:3:9"):
        with pytest.raises(MtlrecError, match="is not a synthetic world: write data=world:<task correlation>"):
            parse_world(bad)


def test_a_sample_travels_as_its_name_an_uploaded_file_does_not():
    assert to_query(lab_config("sample:census"))["data"] == "census"
    assert "data" not in to_query(lab_config("/srv/mtlrec_runs/datasets/ab12/my_log.csv"))
    assert "data" not in to_query(lab_config(None))


def test_without_a_tasks_parameter_the_active_tasks_are_left_alone():
    config, active, problems = apply_query(lab_config(), {"size": "medium"})
    assert active is None and problems == []
    assert config.model.size == "medium"


def test_the_given_config_is_not_changed():
    original = lab_config()
    apply_query(original, {"size": "xl", "tasks": "click:regression:4"})
    assert original == lab_config()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("lr", "abc"),
        ("lr", "nan"),
        ("lr", "100"),
        ("size", "huge"),
        ("epochs", "2.5"),
        ("epochs", "0"),
        ("epochs", "1000"),
        ("bs", "3"),
        ("opt", "sgd"),
        ("weighting", "magic"),
        ("model", "transformer"),
        ("split", "by_moon"),
        ("dropout", "0.95"),
        ("test", "0.9"),
        ("patience", "50"),
        ("seed", "-1"),
        ("precision", "fp16"),
        ("cross", "9"),
        ("embed_dim", "9999"),
        ("bottom", "a-b"),
        ("bottom", "0-8"),
        ("monitor", "nope:auc"),
        ("monitor", "watch_time:auc"),
    ],
)
def test_a_bad_value_is_skipped_with_one_problem_and_the_rest_applied(key, value):
    base = lab_config()
    good = ("lr", "0.01") if key == "epochs" else ("epochs", "3")
    config, _, problems = apply_query(base, {key: value, good[0]: good[1]})
    assert len(problems) == 1, problems
    assert f"{key}={value!r}" in problems[0]
    assert to_query(config) == {**to_query(base), good[0]: good[1]}


def test_bad_task_parts_are_skipped_one_problem_each():
    query = {"tasks": "click:binary:2,nope:binary:1,like:binary:-1,purchase:ternary:1,watch_time:regression:x"}
    config, active, problems = apply_query(lab_config(), query)
    assert len(problems) == 4, problems
    assert "'nope' is not a label column" in problems[0]
    assert "weight '-1' for task 'like'" in problems[1]
    assert "type 'ternary' for task 'purchase'" in problems[2]
    assert "weight 'x' for task 'watch_time'" in problems[3]
    assert active == ["click", "like", "purchase", "watch_time"]  # a known task with a bad part stays chosen
    weights = {t.name: t.weight for t in config.tasks}
    assert weights == {"click": 2.0, "like": 0.5, "purchase": 1.0, "watch_time": 1.0}  # only the bad part skipped
    assert config.tasks[2].type == "binary"


@pytest.mark.parametrize("weight", ["nan", "inf", "5.5"])
def test_a_weight_the_slider_cannot_show_is_skipped(weight):
    config, _, problems = apply_query(lab_config(), {"tasks": f"click:binary:{weight}"})
    assert len(problems) == 1 and f"'{weight}'" in problems[0]
    assert config.tasks[0].weight == 1.0


def test_a_task_changed_to_binary_loses_log1p():
    config, _, problems = apply_query(lab_config(), {"tasks": "watch_time:binary:1"})
    assert problems == []
    assert (config.tasks[3].type, config.tasks[3].log1p) == ("binary", False)
    config.check()  # log1p on a binary task would be a problem


@pytest.mark.parametrize("name", ["a,b", "x:y", "50% off", "naïve label", "a:b,c%2C"])
def test_task_names_with_separators_survive_quoting(name):
    config = lab_config()
    config.tasks[1].name = name
    config.tasks[1].weight = 1.5
    query = through_url(to_query(config))
    assert query["tasks"].count(",") == 3  # four tasks: the name's own commas are quoted
    applied, active, problems = apply_query(lab_config_named(name), query)
    assert problems == []
    assert active == ["click", name, "purchase", "watch_time"]
    assert applied.tasks[1] == TaskSpec(name, "binary", 1.5)


def lab_config_named(name: str) -> ExperimentConfig:
    config = lab_config()
    config.tasks[1].name = name
    return config


def test_a_task_named_with_a_colon_can_be_monitored_and_its_monitor_travels_in_a_link():
    # 'a:b:auc' was split at the first colon: training refused it ("with a chosen task") and links dropped it.
    def config_of(monitor: str) -> ExperimentConfig:
        config = lab_config()
        config.tasks[0].name = "a:b"
        config.train.monitor = monitor
        return config

    config = config_of("a:b:auc")
    config.check()
    assert config.conform() == [] and config.train.monitor == "a:b:auc"
    applied, _, problems = apply_query(config_of("loss"), through_url(to_query(config)))
    assert problems == [] and applied.train.monitor == "a:b:auc"
    with pytest.raises(MtlrecError, match="monitor 'a:b:rmse': a binary task is monitored by one of auc"):
        config_of("a:b:rmse").check()
