"""Specifications of the synthetic generator and the bundled samples."""

import json

import numpy as np
import pandas as pd
import pytest

from mtlrec.errors import MtlrecError
from mtlrec.sample import (
    SAMPLE_DIR,
    SAMPLES,
    TRUTH_COLUMNS,
    SyntheticSpec,
    SyntheticWorld,
    generate,
    oracle_auc,
    sample_path,
    world_spec_path,
    write_sample,
)

SMALL = SyntheticSpec(n_users=200, n_items=100, n_rows=5_000)


@pytest.fixture(scope="module")
def default_log() -> pd.DataFrame:
    return generate(with_truth=True)


def _logit(p: pd.Series) -> np.ndarray:
    p = p.to_numpy()
    return np.log(p / (1 - p))


def test_same_seed_gives_identical_frame():
    pd.testing.assert_frame_equal(generate(SMALL, with_truth=True), generate(SMALL, with_truth=True))


def test_different_seed_gives_different_frame():
    other = SyntheticSpec(n_users=200, n_items=100, n_rows=5_000, seed=1)
    assert not generate(SMALL).equals(generate(other))


def test_purchase_only_where_clicked(default_log):
    assert default_log["purchase"].sum() > 0
    assert (default_log.loc[default_log["purchase"] == 1, "click"] == 1).all()


def test_watch_time_is_zero_without_click_and_positive_with_click(default_log):
    clicked = default_log["click"] == 1
    assert (default_log.loc[~clicked, "watch_time"] == 0).all()
    assert (default_log.loc[clicked, "watch_time"] > 0).all()


def test_label_rates_are_in_the_documented_ranges(default_log):
    rates = default_log[["click", "like", "purchase"]].mean()
    assert 0.10 <= rates["click"] <= 0.20
    assert 0.03 <= rates["like"] <= 0.08
    assert 0.01 <= rates["purchase"] <= 0.03


def test_columns_hold_the_documented_values(default_log):
    assert default_log["user_id"].str.fullmatch(r"u\d{4}").all()
    assert default_log["item_id"].str.fullmatch(r"i\d{4}").all()
    assert default_log["hour"].between(0, 23).all()
    assert default_log["position"].between(1, 20).all()
    assert set(default_log["device"]) == {"ios", "android", "web"}
    assert default_log["item_category"].nunique() == 20
    assert 0.005 < default_log["user_activity"].isna().mean() < 0.04


def test_each_users_rows_are_in_time_order(default_log):
    assert default_log.groupby("user_id")["timestamp"].is_monotonic_increasing.all()


def test_task_correlation_sets_the_sign_of_the_click_like_correlation():
    def click_like_correlation(rho: float) -> float:
        truth = generate(SyntheticSpec(n_rows=5_000, task_correlation=rho), with_truth=True)
        return np.corrcoef(_logit(truth["p_click"]), _logit(truth["p_like"]))[0, 1]

    assert click_like_correlation(1.0) > 0.7
    assert click_like_correlation(-1.0) < -0.7


def test_truth_of_arbitrary_rows_matches_the_truth_from_generation(default_log):
    world = SyntheticWorld(SyntheticSpec())
    rows = default_log.sample(500, random_state=0)[["user_id", "item_id", "hour", "device", "position"]]
    pd.testing.assert_frame_equal(world.truth(rows), default_log.loc[rows.index, TRUTH_COLUMNS])


def test_truth_scores_candidates_that_were_never_logged():
    world = SyntheticWorld(SMALL)
    candidates = pd.DataFrame({"user_id": "u000", "item_id": [f"i{i:02d}" for i in range(100)]})
    truth = world.truth(candidates.assign(hour=20, device="ios", position=1))
    assert truth.shape == (100, 4)
    assert truth["p_purchase"].le(truth["p_click"]).all()


def test_truth_rejects_unknown_users_and_out_of_range_context():
    world = SyntheticWorld(SMALL)
    rows = pd.DataFrame({"user_id": ["nobody"], "item_id": ["i00"], "hour": [25], "device": ["ios"], "position": [1]})
    with pytest.raises(MtlrecError, match="nobody") as info:
        world.truth(rows)
    assert "hour" in str(info.value)


def test_oracle_auc_of_each_binary_task_is_above_065(default_log):
    aucs = oracle_auc(default_log, default_log)
    assert set(aucs) == {"click", "like", "purchase"}
    assert min(aucs.values()) > 0.65


def test_write_sample_keeps_truth_out_of_the_features(tmp_path):
    paths = write_sample(tmp_path, SMALL)
    assert [p.name for p in paths] == ["synthetic.parquet", "synthetic_truth.parquet", "synthetic.json"]
    assert not set(TRUTH_COLUMNS) & set(pd.read_parquet(paths[0]).columns)
    assert list(pd.read_parquet(paths[1]).columns) == TRUTH_COLUMNS
    assert SyntheticSpec(**json.loads(paths[2].read_text())) == SMALL


def test_committed_synthetic_sample_regenerates_from_its_spec():
    spec = SyntheticSpec(**json.loads((sample_path("synthetic").parent / "synthetic.json").read_text()))
    fresh = generate(spec, with_truth=True)
    committed = pd.read_parquet(sample_path("synthetic"))
    pd.testing.assert_frame_equal(committed, fresh.drop(columns=TRUTH_COLUMNS))
    truth = pd.read_parquet(sample_path("synthetic").parent / "synthetic_truth.parquet")
    np.testing.assert_allclose(truth.to_numpy(), fresh[TRUTH_COLUMNS].to_numpy(), rtol=1e-6)


def test_committed_synthetic_files_total_under_5_mb():
    folder = sample_path("synthetic").parent
    names = ["synthetic.parquet", "synthetic_truth.parquet", "synthetic.json"]
    assert sum((folder / name).stat().st_size for name in names) < 5_000_000


def test_census_sample_has_two_binary_labels_with_both_classes():
    census = pd.read_parquet(sample_path("census"))
    for label in SAMPLES["census"]["tasks"]:
        assert sorted(census[label].unique()) == [0, 1]
    assert not {"marital_status", "income", "instance_weight"} & set(census.columns)


def test_every_registered_sample_file_exists():
    for name in SAMPLES:
        assert sample_path(name).is_file()


def test_unknown_sample_name_lists_the_known_ones():
    with pytest.raises(MtlrecError, match="synthetic, census"):
        sample_path("movielens")


def test_the_world_of_a_dataset_is_found_beside_its_file_or_in_the_bundled_sample(tmp_path):
    assert world_spec_path("sample:synthetic") == SAMPLE_DIR / "synthetic.json"
    assert world_spec_path("sample:census") is None and world_spec_path(None) is None
    (tmp_path / "synthetic.parquet").touch()
    assert world_spec_path(str(tmp_path / "synthetic.parquet")) is None  # no spec beside it: not a world
    (tmp_path / "synthetic.json").write_text("{}")
    assert world_spec_path(str(tmp_path / "synthetic.parquet")) == tmp_path / "synthetic.json"
    (tmp_path / "mine.parquet").touch()
    assert world_spec_path(str(tmp_path / "mine.parquet")) is None  # another file in the same folder
