"""Concurrent users: browser sessions uploading and training at once never see each other's data, jobs or models;
the server-wide job cap holds and says so; the run store stays consistent under concurrent writes and deletes."""

from __future__ import annotations

import ast
import sqlite3
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import open_app, tiny_config, until, upload, use_home
from streamlit.runtime.scriptrunner import script_runner

import mtlrec.experiment
import mtlrec.jobs
from mtlrec.config import ExperimentConfig
from mtlrec.errors import MtlrecError
from mtlrec.experiment import run_experiment
from mtlrec.runs import RunStore
from mtlrec.train import RunRandom
from ui import state

ROOT = Path(__file__).resolve().parent.parent
DATA, TRAIN = "pages/data.py", "pages/train.py"


@pytest.fixture
def sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop_jobs):
    """A fresh run store; every AppTest gets a session of its own; every job started is stopped at the end.

    AppTest gives all its instances one session id, so session-scoped resources (each session's job holder, its
    models) would be shared between them; a real server gives each browser tab its own id, as this does. AppTest
    runs cannot overlap (each run installs a process-wide mock runtime), so sessions take turns here, as requests
    interleave on a server, while their training jobs run at the same time in their own threads.
    """
    use_home(monkeypatch, tmp_path)
    init = script_runner.ScriptRunner.__init__

    def own_session(self, *args, **kwargs):
        if kwargs.get("session_id") == "test session id":
            kwargs["session_id"] = f"apptest-{id(kwargs['session_state'])}"
        init(self, *args, **kwargs)

    monkeypatch.setattr(script_runner.ScriptRunner, "__init__", own_session)
    return tmp_path


def table(feature: str, rows: int = 400) -> bytes:
    """Interactions with a feature column named after the session, so each session's data is recognisable."""
    frame = pd.DataFrame(
        {
            "user_id": [f"{feature}_u{i % 25}" for i in range(rows)],
            "item_id": [f"i{(i * 7) % 30}" for i in range(rows)],
            feature: [("a", "b", "c")[i % 3] for i in range(rows)],
            "click": [int(i % 3 == 0 or i % 7 == 0) for i in range(rows)],
        }
    )
    return frame.to_csv(index=False).encode()


def in_threads(*work) -> None:
    """Run callables at the same time; re-raise the first failure."""
    errors: list[BaseException] = []

    def guarded(fn):
        try:
            fn()
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(fn,)) for fn in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if errors:
        raise errors[0]


def test_sessions_uploading_at_once_each_see_only_their_own_data(sessions):
    names = ["alpha", "beta", "gamma"]
    apps = {name: open_app(DATA) for name in names}
    for name in names:
        upload(apps[name], f"{name}.csv", table(name))
    for name, at in apps.items():
        others = [n for n in names if n != name]
        at.run()
        assert at.session_state["dataset"]["name"] == f"{name}.csv"
        assert name in at.session_state[state.FRAME].columns
        assert not set(others) & set(at.session_state[state.FRAME].columns)
        preview = at.dataframe[0].value
        assert name in preview.columns and not set(others) & set(preview.columns)
        config = ExperimentConfig.from_dict(at.session_state["experiment"])
        assert config.data.path.endswith(f"{name}.csv") and name in config.data.categorical
        assert f"**{name}.csv**" in " ".join(m.value for m in at.sidebar.markdown)
    upload(apps["alpha"], "delta.csv", table("delta"))  # a new upload in one tab changes that tab only
    apps["beta"].run()
    assert apps["beta"].session_state["dataset"]["name"] == "beta.csv"


def test_sessions_training_at_once_keep_their_own_runs_and_the_job_cap_holds_and_says_so(sessions, monkeypatch):
    progress = mtlrec.jobs.TrainingJob._on_progress

    def slow_progress(job, p):  # each epoch takes a while: the jobs are still training when they are stopped
        time.sleep(0.2)
        progress(job, p)

    monkeypatch.setattr(mtlrec.jobs.TrainingJob, "_on_progress", slow_progress)
    limiter = mtlrec.jobs.DEFAULT_LIMITER
    names = [f"s{i}" for i in range(limiter.max_jobs + 1)]  # one session more than the server may train at once
    apps = {name: open_app(DATA) for name in names}
    for name in names:
        upload(apps[name], f"{name}.csv", table(name))
    for at in apps.values():
        config = ExperimentConfig.from_dict(at.session_state["experiment"])
        config.model.size, config.train.epochs, config.train.patience = "tiny", 100, 0
        at.session_state["experiment"] = config.to_dict()
        at.switch_page(TRAIN).run()
        assert not at.exception
    training, refused = names[:-1], names[-1]

    def click(name: str) -> None:
        apps[name].button(key="train_start").click().run()
        assert not apps[name].exception

    for name in training:
        click(name)
    for name in training:
        apps[name].run()
        assert apps[name].button(key="train_start").disabled is True  # this session is training, still
    click(refused)  # every slot is taken by the other sessions
    assert apps[refused].button(key="train_start").disabled is False
    assert f"the server is already training {limiter.max_jobs} model(s), its limit" in apps[refused].error[0].value

    store = RunStore(sessions)
    rows = {row["summary"]["data"]: row for row in store.list()}
    assert sorted(rows) == sorted(f"{n}.csv" for n in training)  # the refused session started nothing
    for name in training:
        at, run_id = apps[name], rows[f"{name}.csv"]["id"]
        assert f"`{run_id}`" in " ".join(c.value for c in at.sidebar.caption)  # its own run, nobody else's
        at.button(key="train_stop").click().run()
        until(at, lambda at: any("stopped" in w.value for w in at.warning))
        assert run_id in at.warning[0].value
        assert store.load(run_id).config.data.path.endswith(f"{name}.csv")
    assert limiter.active == 0
    click(refused)  # a slot is free again
    assert not apps[refused].error


# Caches shared by every session (scope "global"): what they may hold, and why that is not a user's object.
SHARED_CACHES = {
    "store": "the server's run store: runs are the server's records",
    "_load_sample": "bundled sample files, the same for everybody",
    "predictions_of": "a saved run's predictions file (runs are listed for everybody)",
    "reference_noise": "the paired noise between two saved runs' predictions (runs are listed for everybody)",
    "synthetic_world": "the synthetic sample's generator",
    "size_table": "parameter counts of model presets for a data shape",
    "_run_fixes": "the fixes in a saved run's config (runs are listed for everybody)",
}


def cached_functions() -> list[tuple[str, str, dict]]:
    """(file, function, decorator keywords) of every st.cache_data / st.cache_resource in the app."""
    found = []
    for path in [ROOT / "app.py", *sorted((ROOT / "ui").glob("*.py")), *sorted((ROOT / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    call = decorator if isinstance(decorator, ast.Call) else None
                    func = call.func if call else decorator
                    if isinstance(func, ast.Attribute) and func.attr in ("cache_data", "cache_resource"):
                        keywords = {k.arg: ast.literal_eval(k.value) for k in (call.keywords if call else [])
                                    if isinstance(k.value, ast.Constant)}  # fmt: skip
                        keywords["parameters"] = len(node.args.args)
                        found.append((path.name, node.name, {"kind": func.attr, **keywords}))
    return found


def test_no_per_user_object_is_kept_in_a_cache_shared_by_sessions_and_every_cache_is_bounded():
    found = cached_functions()
    assert found
    shared = {name for _, name, kw in found if kw.get("scope", "global") == "global"}
    assert shared <= set(SHARED_CACHES), f"new shared caches: {shared - set(SHARED_CACHES)}: per-user data?"
    unbounded = [f"{file}:{name}" for file, name, kw in found if kw["parameters"] and "max_entries" not in kw]
    assert unbounded == [], "a cache without max_entries grows with every new argument"


def test_eight_threads_writing_renaming_and_deleting_leave_a_consistent_store(tmp_path: Path, _interactions_once):
    result = run_experiment(tiny_config(epochs=1), _interactions_once)
    home = tmp_path / "home"
    RunStore(home)
    kept, deleted, errors = [], [], []
    lock = threading.Lock()

    def worker(number: int) -> None:
        store = RunStore(home)  # its own connection, as another server process would have
        try:
            for step in range(4):
                run_id = store.start(result.config, name=f"w{number}-{step}")
                store.record_history(run_id, result.history.to_dict("records"))
                store.finish(run_id, result)
                store.rename(run_id, f"worker {number} run {step}")
                store.list()
                if step % 2:
                    store.delete(run_id)
                with lock:
                    (deleted if step % 2 else kept).append(run_id)
        except (sqlite3.Error, OSError, MtlrecError) as exc:
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")

    in_threads(*(lambda n=n: worker(n) for n in range(8)))
    assert errors == []  # no "database is locked"
    store = RunStore(home)
    rows = store.list()
    assert sorted(r["id"] for r in rows) == sorted(kept)
    assert all(r["status"] == "finished" and not r["damaged"] and r["name"].startswith("worker ") for r in rows)
    for row in rows:
        assert store.load(row["id"]).metrics["tasks"] == result.metrics["tasks"]
    assert sorted(p.name for p in store.runs_dir.iterdir()) == sorted(kept)  # deleted folders are gone
    assert not list(store.runs_dir.rglob("*.tmp"))  # no half-written file left behind
    with sqlite3.connect(store.db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._connect().execute("PRAGMA busy_timeout").fetchone()[0] == 30_000


def _weights(result) -> list:
    return [p.detach().clone() for p in result.model.state_dict().values()]


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_runs_in_parallel_threads_are_the_runs_their_seeds_give_alone(
    _interactions_once, monkeypatch: pytest.MonkeyPatch, dropout: float
) -> None:
    # torch draws initial weights and dropout masks from generators every thread shares. Model building is slowed
    # here so that the two threads' seeding and initialisation interleave every time (before RunRandom, the second
    # thread's seed was the first's initial weights); with dropout the two runs also draw masks batch by batch.
    frame = _interactions_once
    configs = []
    for seed in (1, 2):
        config = tiny_config(epochs=1, seed=seed)
        config.model.dropout = dropout
        configs.append(config)
    alone = [_weights(run_experiment(c, frame)) for c in configs]
    assert not all(torch.equal(a, b) for a, b in zip(*alone, strict=True))  # the two seeds differ

    build = mtlrec.experiment.build_model

    def slow_build(*args, **kwargs):
        time.sleep(0.05)  # the other thread runs meanwhile
        return build(*args, **kwargs)

    monkeypatch.setattr(mtlrec.experiment, "build_model", slow_build)
    together: dict[int, list] = {}
    in_threads(*(lambda i=i: together.__setitem__(i, _weights(run_experiment(configs[i], frame))) for i in (0, 1)))
    for i in (0, 1):
        assert all(torch.equal(a, b) for a, b in zip(alone[i], together[i], strict=True)), f"seed {i + 1}"


def test_run_random_draws_its_own_stream_and_leaves_the_global_generators_alone() -> None:
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first, second = RunRandom(7, torch.device("cpu")), RunRandom(7, torch.device("cpu"))
    with first.drawing():
        a = torch.rand(3)
    with second.drawing(keep=False):
        b = torch.rand(3)
    with second.drawing():
        c = torch.rand(3)
    with first.drawing():
        d = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), before)  # the global generator as it was
    torch.manual_seed(7)
    expected = torch.rand(6)
    assert torch.equal(torch.cat([a, d]), expected)  # one stream, continued across blocks
    assert torch.equal(b, expected[:3]) and torch.equal(c, expected[:3])  # keep=False did not move it


def test_a_model_loaded_in_another_session_does_not_move_a_training_runs_dropout(_interactions_once, tmp_path: Path):
    # Recommend loads saved models (RunStore.load_model builds one, drawing initial weights) while another session
    # trains: those draws must not come out of the training run's stream.
    frame = _interactions_once
    store = RunStore(tmp_path)
    run_id = store.save(run_experiment(tiny_config(epochs=1), frame))
    config = tiny_config(epochs=2, seed=1)
    config.model.dropout = 0.3
    alone = _weights(run_experiment(config, frame))
    training = threading.Event()
    together: list = []

    def train() -> None:
        try:
            together.extend(_weights(run_experiment(config, frame)))
        finally:
            training.set()

    def load() -> None:
        while not training.is_set():
            store.load(run_id).load_model()

    in_threads(train, load)
    assert all(torch.equal(a, b) for a, b in zip(alone, together, strict=True))
