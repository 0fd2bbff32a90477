"""Shared fixtures: a small synthetic interaction table with known structure, and a tiny, fast config for it.

And the app tests' helpers (import them: `from conftest import APP, open_app, use_home`): the app's path, a
temporary run store and sample folder for the app, a run store with runs in every state, and an app opened on a page.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
import torch

import mtlrec.runs
import mtlrec.sample
from mtlrec.config import DataConfig, ExperimentConfig, ModelConfig, SplitConfig, TaskSpec, TrainConfig
from mtlrec.data import propose_schema
from mtlrec.runs import RunStore
from mtlrec.sample import SyntheticSpec, generate

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

    from mtlrec.experiment import RunResult

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


# --- app tests (AppTest) ---

APP = str(Path(__file__).resolve().parent.parent / "app.py")
DIVERGED = "training diverged: the loss of task 'like' became inf in epoch 2, batch 3; lower the learning rate"
CRASHED = "training failed unexpectedly (RuntimeError: boom)"


def use_home(monkeypatch: pytest.MonkeyPatch, home: Path, samples: Path | None = None) -> None:
    """Point the app's run store at `home` (and the bundled samples at `samples`); the store and the sample loader
    are cached: clear them so the app rebuilds them."""
    import streamlit as st  # here, not at the top: tests of the library alone never load Streamlit

    monkeypatch.setenv("MTLREC_HOME", str(home))
    monkeypatch.setattr(mtlrec.runs, "DEFAULT_HOME", home)
    if samples is not None:
        monkeypatch.setattr(mtlrec.sample, "SAMPLE_DIR", samples)
    st.cache_resource.clear()
    st.cache_data.clear()


def open_app(page: str | None = None, session: dict | None = None, query: dict | None = None) -> AppTest:
    """The app with `session` state set, run once on Home and then on `page`; with `query`, a shared link: the
    first request opens `page` with those query parameters."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (session or {}).items():
        at.session_state[key] = value
    if query:
        at.query_params.update(query)
    elif page is not None:
        at.run()  # Home first, as a person arriving at the app
    if page is not None:
        at.switch_page(page)
    at.run()
    assert not at.exception
    return at


def build_store(home: Path) -> tuple[dict[str, str], RunResult]:
    """A run store with two trained runs (different loss weights), a run that diverged after one epoch, one
    that failed before saving anything, and a damaged one; returns run ids by name and a result to save again."""
    from mtlrec.experiment import run_experiment

    frame = generate(SyntheticSpec(n_rows=4000, n_users=200, n_items=100))
    proposal = propose_schema(frame)
    proposal.data.path = "synthetic_4k.parquet"
    store = RunStore(home)
    ids = {}
    for name, like_weight in (("balanced", 1.0), ("like heavy", 4.0)):
        tasks = [dataclasses.replace(t, weight=like_weight if t.name == "like" else 1.0) for t in proposal.tasks]
        config = ExperimentConfig(
            data=proposal.data,
            tasks=tasks,
            model=ModelConfig(size="tiny"),
            train=TrainConfig(epochs=2, batch_size=512, patience=0, device="cpu"),
        )
        result = run_experiment(config, frame)
        ids[name] = store.save(result, name=name)
    diverged = dataclasses.replace(
        result,
        status="failed",
        message=DIVERGED,
        history=result.history.iloc[:1],
        metrics={**result.metrics, "tasks": {}, "epochs_run": 1, "best_epoch": 1},
        predictions=None,
    )
    ids["diverged"] = store.save(diverged, name="diverged")
    ids["crashed"] = store.start(config, name="crashed")
    store.fail(ids["crashed"], CRASHED)
    ids["damaged"] = store.save(result, name="damaged")
    (store.folder(ids["damaged"]) / "metrics.json").write_text('{"tasks": {"click": ', encoding="utf-8")
    return ids, result


@pytest.fixture(scope="module")
def saved_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], RunResult]:
    """(home, run ids by name, a result to save again): build_store in a fresh folder, once per test module."""
    home = tmp_path_factory.mktemp("mtlrec_home")
    ids, result = build_store(home)
    return home, ids, result
