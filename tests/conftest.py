"""Shared fixtures: a small synthetic interaction table with known structure, and a tiny, fast config for it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mtlrec.config import DataConfig, ExperimentConfig, ModelConfig, SplitConfig, TaskSpec, TrainConfig

# Tiny models gain nothing from intra-op threads, and on a shared 2-core machine threads only add contention.
torch.set_num_threads(1)

N_ROWS = 3000
N_USERS = 150
N_ITEMS = 80
CATEGORIES = ["news", "sports", "music", "games"]


def make_interactions(n: int = N_ROWS, seed: int = 0) -> pd.DataFrame:
    """Interactions sorted by time. `click` is learnable from category and price; `like` and `watch_time`
    depend on click; `price` has ~10% missing values."""
    rng = np.random.default_rng(seed)
    category = rng.choice(CATEGORIES, n)
    price = rng.gamma(2.0, 10.0, n)
    price[rng.random(n) < 0.1] = np.nan
    logit = 2.5 * (category == "sports") - 2.0 * (category == "news") + 0.04 * (np.nan_to_num(price, nan=20.0) - 20)
    click = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    like = (rng.random(n) < 0.15 + 0.5 * click).astype(np.int64)
    watch_time = np.round(rng.exponential(20.0, n) * (1 + 3 * click), 2)
    return pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in rng.integers(0, N_USERS, n)],
            "item_id": rng.integers(0, N_ITEMS, n),
            "category": category,
            "price": price,
            "timestamp": 1_700_000_000 + np.sort(rng.integers(0, 30 * 86_400, n)),
            "click": click,
            "like": like,
            "watch_time": watch_time,
        }
    )


@pytest.fixture(scope="session")
def _interactions_once() -> pd.DataFrame:
    return make_interactions()


@pytest.fixture
def interactions(_interactions_once: pd.DataFrame) -> pd.DataFrame:
    """A fresh copy per test (tests may edit it)."""
    return _interactions_once.copy()


def tiny_config(**train: object) -> ExperimentConfig:
    """The fixture's schema with a tiny model that trains in well under a second per epoch on a CPU."""
    return ExperimentConfig(
        data=DataConfig(
            user_col="user_id",
            item_col="item_id",
            time_col="timestamp",
            categorical=["user_id", "item_id", "category"],
            numeric=["price"],
        ),
        tasks=[
            TaskSpec("click", "binary"),
            TaskSpec("like", "binary"),
            TaskSpec("watch_time", "regression", log1p=True),
        ],
        split=SplitConfig(method="random", test_frac=0.2, val_frac=0.1),
        model=ModelConfig(size="tiny"),
        train=TrainConfig(**{"epochs": 2, "batch_size": 256, "lr": 1e-2, "patience": 0, "device": "cpu", **train}),
    )


@pytest.fixture(scope="session")
def make_config():
    """Factory: make_config(epochs=3, seed=1) gives the tiny config with those training settings."""
    return tiny_config
