"""Shared fixtures: a small synthetic interaction table with known structure, and a tiny, fast config for it.

And the app tests' fixtures and helpers (import the helpers: `from conftest import APP, open_app, use_home`): the
app's path, a temporary run store and sample folder for the app (`home`, `samples`), a run store with runs in every
state, an app opened on a page, and reading its figures.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
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
from mtlrec.jobs import BackgroundJob
from mtlrec.runs import RunStore
from mtlrec.sample import SyntheticSpec, generate, write_sample

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

    from mtlrec.experiment import RunResult

# Tiny models gain nothing from intra-op threads, and on a shared 2-core machine threads only add contention.
torch.set_num_threads(1)

N_ROWS = 3000
N_USERS = 150
N_ITEMS = 80
CATEGORIES = ["news", "sports", "music", "games"]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With several test processes (pytest-xdist, `--dist loadgroup`): the browser tests run one after another in
    one of them (two servers and Chromiums at once compete for the cores, and a free port one picked could be taken
    by the other), and so do the tests that use training processes (one warm pool of them for all). These groups,
    the longest, go first: handed out last, the browser tests' two minutes kept one worker busy after the rest."""
    first = {"browser": [], "processes": []}
    rest = []
    for item in items:
        group = next((g for g in first if item.get_closest_marker(g) is not None), None)
        if group is None:
            rest.append(item)
        else:
            item.add_marker(pytest.mark.xdist_group(group))
            first[group].append(item)
    items[:] = [*first["browser"], *first["processes"], *rest]


@pytest.fixture(autouse=True)
def _sweeps_in_threads(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sweeps train in threads (MTLREC_PROCESSES=0), so that training code a test patches is the code that runs,
    except in tests marked `processes` (tests/test_procs.py, the browser test of the Sweep page)."""
    if request.node.get_closest_marker("processes") is None:
        monkeypatch.setenv("MTLREC_PROCESSES", "0")


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


SAMPLE_SPEC = SyntheticSpec(n_rows=3000, n_users=200, n_items=100)  # a small stand-in for the bundled sample


def use_home(monkeypatch: pytest.MonkeyPatch, home: Path, samples: Path | None = None) -> None:
    """Point the app's run store at `home` (and the bundled samples at `samples`); the store and the sample loader
    are cached: clear them so the app rebuilds them."""
    import streamlit as st  # here, not at the top: tests of the library alone never load Streamlit

    monkeypatch.setenv("MTLREC_HOME", str(home))  # read by each RunStore() the app makes
    if samples is not None:
        monkeypatch.setattr(mtlrec.sample, "SAMPLE_DIR", samples)
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture(scope="module")
def sample_spec() -> SyntheticSpec:
    """The stand-in for the bundled synthetic sample; a test module overrides this fixture to use another."""
    return SAMPLE_SPEC


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory, sample_spec: SyntheticSpec) -> Path:
    """A sample folder holding the stand-in as 'synthetic', written once per test module."""
    folder = tmp_path_factory.mktemp("samples")
    write_sample(folder, sample_spec)
    return folder


@pytest.fixture
def stop_jobs(monkeypatch: pytest.MonkeyPatch):
    """Every background job (training or sweep) started during the test is stopped and waited for at its end."""
    started: list[BackgroundJob] = []
    start = BackgroundJob.start

    def recording_start(job):
        started.append(job)
        return start(job)

    monkeypatch.setattr(BackgroundJob, "start", recording_start)
    yield started
    for job in started:
        job.stop()
        job.join(30)


@pytest.fixture
def home(samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop_jobs) -> Path:
    """A fresh run store for the app, and the stand-in sample; every job a page starts is stopped at the end."""
    use_home(monkeypatch, tmp_path, samples)
    return tmp_path


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


def schema_editor(at: AppTest):
    """The Data page's schema editor (its key, schema_editor_<n>, changes with each new table)."""
    [editor] = [e for e in at.data_editor if str(e.key).startswith("schema_editor_")]
    return editor


def edit_schema(at: AppTest, changes: dict[str, dict]) -> AppTest:
    """Edit schema editor rows by column name, as a person would in the table, and rerun."""
    editor = schema_editor(at)
    rows = list(editor.value["column"])
    edits = {rows.index(column): change for column, change in changes.items()}
    at.session_state[editor.key] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}
    return at.run()


def with_sample(page: str, change=None) -> AppTest:
    """Home, the synthetic sample loaded with its button, then `page`; `change(config)` first edits the session's
    experiment (as another page or a reopened run would have left it)."""
    at = open_app()
    at.button(key="home_load_synthetic").click().run()
    if change is not None:
        config = ExperimentConfig.from_dict(at.session_state["experiment"])
        change(config)
        at.session_state["experiment"] = config.to_dict()
    at.switch_page(page).run()
    assert not at.exception
    return at


def until(at: AppTest, done, timeout: float = 60.0) -> AppTest:
    """Rerun the page as the browser's polling would, until `done(at)`."""
    deadline = time.monotonic() + timeout
    while not done(at):
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s"
        time.sleep(0.3)
        at.run()
        assert not at.exception
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    """A CSV file given to the Data page's uploader."""
    at.file_uploader(key="data_upload").set_value((name, data, "text/csv")).run()
    assert not at.exception
    return at


def a_run_to_delete(result, home: Path, monkeypatch: pytest.MonkeyPatch):
    """A store at `home` holding `result` twice, "kept" and "deleted elsewhere", used by the app: the store, the
    latter's id, and the download callables the pages draw (deferred_downloads), for tests deleting it as another
    tab would."""
    from mtlrec.runs import RunStore

    store = RunStore(home)
    store.save(result, name="kept")
    run_id = store.save(result, name="deleted elsewhere")
    use_home(monkeypatch, home)
    return store, run_id, deferred_downloads(monkeypatch)


def deferred_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The callables that the page's download buttons hand Streamlit, by file name, as drawn last: a click in the
    browser calls one (AppTest never does)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    drawn: dict[str, object] = {}
    add = MediaFileManager.add_deferred

    def recording_add(manager, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        drawn[file_name] = data_callable
        return add(manager, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording_add)
    return drawn


def figures(at: AppTest) -> list[dict]:
    """The page's Plotly figures, as their JSON specs."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def figure(at: AppTest, title: str) -> dict:
    """The first figure whose title contains `title`."""
    return next(f for f in figures(at) if title in f["layout"]["title"]["text"])


def numbers(values) -> list[float]:
    """A figure's data array: plotly may write numpy arrays as base64 ("bdata") in the JSON spec."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


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
