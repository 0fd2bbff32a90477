"""Background training jobs: every way a job ends is saved in the run store, and the server-wide cap holds."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import mtlrec.experiment
import mtlrec.jobs
import ui.jobs
from mtlrec.config import ExperimentConfig, ModelConfig, TaskSpec, TrainConfig
from mtlrec.data import propose_schema
from mtlrec.errors import MtlrecError
from mtlrec.jobs import JobLimiter, JobState, TrainingJob
from mtlrec.runs import RunStore
from mtlrec.sample import SyntheticSpec, generate
from ui.jobs import browser_id, open_session, session_jobs

TASKS = ["click", "like", "purchase", "watch_time"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate(SyntheticSpec(n_rows=3000, n_users=200, n_items=100))


@pytest.fixture(scope="module")
def base(frame) -> ExperimentConfig:
    proposal = propose_schema(frame)
    return ExperimentConfig(
        data=proposal.data,
        tasks=proposal.tasks,
        model=ModelConfig(size="tiny"),
        train=TrainConfig(epochs=2, batch_size=256, lr=1e-2, patience=0, device="cpu"),
    )


@pytest.fixture
def config(base) -> ExperimentConfig:
    """A tiny 2-epoch config; tests change their copy."""
    return ExperimentConfig.from_dict(base.to_dict())


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path)


@pytest.fixture
def jobs():
    """Start jobs through this list; any still training when the test ends is stopped and waited for."""
    started: list[TrainingJob] = []
    yield started
    for job in started:
        job.stop()
        job.join(30)


def long_config(config: ExperimentConfig) -> ExperimentConfig:
    config.train.epochs = 500  # far more than a test waits for: it ends because it is stopped
    return config


def wait_for(condition, timeout: float = 30.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def saved_history(store: RunStore, run_id: str) -> pd.DataFrame:
    """history.csv as the job has written it so far (a running run has no metrics.json, so no store.load)."""
    path = store.folder(run_id) / "history.csv"
    return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()


def test_a_job_trains_in_the_background_and_saves_a_finished_run(config, frame, store, jobs):
    limiter = JobLimiter(1)
    job = TrainingJob(config, store, frame, limiter=limiter, name="background run")
    jobs.append(job.start())
    assert job.run_id and store.get(job.run_id)["status"] == "running"
    snap = job.join(60)
    assert snap.status == "finished" and snap.done
    assert (snap.epoch, snap.epochs, len(snap.history)) == (2, 2, 2)
    assert snap.fraction == 1.0 and snap.elapsed > 0
    assert [row["epoch"] for row in snap.history] == [1, 2]

    row = store.get(job.run_id)
    assert (row["status"], row["name"]) == ("finished", "background run")
    assert row["summary"]["epochs_run"] == 2
    loaded = store.load(job.run_id)
    assert loaded.has_model
    assert set(loaded.metrics["tasks"]) == set(TASKS)
    assert 0 <= loaded.metrics["tasks"]["click"]["auc"] <= 1
    assert list(loaded.history["epoch"]) == [1, 2]
    # Train's panel shows one time, live and after a reload (from the store): it showed 11.2 s, then 9.4 s.
    assert loaded.metrics["wall_seconds"] == snap.elapsed
    assert limiter.active == 0
    assert job.frame is None  # the job lets the data go once it is saved


def test_snapshot_is_a_copy(config, frame, store, jobs):
    job = TrainingJob(config, store, frame, limiter=None)
    jobs.append(job.start())
    job.join(60)
    snap = job.snapshot()
    assert snap.history and snap.live
    snap.history.append({"epoch": 99})
    snap.live.clear()
    snap.notes.append("mine")
    snap.status = "failed"
    again = job.snapshot()
    assert again.status == "finished"
    assert len(again.history) == 2 and again.live and "mine" not in again.notes
    assert isinstance(again, JobState) and again is not snap


def test_wait_returns_at_the_first_live_point_or_when_the_job_ends(config, frame, store, jobs):
    job = TrainingJob(long_config(config), store, frame, limiter=None)
    jobs.append(job.start())
    snap = job.wait(lambda s: bool(s.live), timeout=60)
    assert snap.status == "running" and len(snap.live) >= 1  # woken by the first batch's progress, long before the end
    assert job.wait(lambda s: False, timeout=0.05).status == "running"  # a condition that never holds: the timeout
    job.stop()
    assert job.wait(lambda s: False, timeout=60).status == "stopped"  # an ended job returns whatever the condition


def test_stop_ends_training_soon_and_saves_a_stopped_run_with_its_model(config, frame, store, jobs):
    job = TrainingJob(long_config(config), store, frame, limiter=None)
    jobs.append(job.start())
    wait_for(lambda: len(job.snapshot().history) >= 1, what="the first epoch")
    asked = time.monotonic()
    assert not job.stopping
    job.stop()
    assert job.stopping or job.snapshot().done  # until the run is saved, the page says it is stopping
    snap = job.join(10)
    assert snap.status == "stopped" and not job.stopping
    assert time.monotonic() - asked < 10
    assert snap.epoch < 500
    assert re.match(r"stopped by the user (in|after) epoch \d+", snap.message)  # after: seen at an epoch's start

    row = store.get(job.run_id)
    assert row["status"] == "stopped" and row["message"] == snap.message
    loaded = store.load(job.run_id)
    assert loaded.has_model  # the best epoch so far is kept
    assert loaded.metrics["status"] == "stopped"
    assert len(loaded.history) == len(snap.history) >= 1
    model, encoder = loaded.load_model()
    assert model is not None and encoder is not None


def test_stop_before_the_thread_begins_saves_a_stopped_run(config, frame, store):
    job = TrainingJob(config, store, frame, limiter=None)
    job.stop()
    snap = job.start().join(30)
    assert (snap.status, snap.message) == ("stopped", "stopped before training started")
    assert store.get(job.run_id)["status"] == "stopped"
    assert store.load(job.run_id).metrics["message"] == "stopped before training started"


def test_a_bad_config_fails_the_run_with_the_libraries_message(config, frame, store):
    config.tasks.append(TaskSpec("not_a_column", "binary"))
    limiter = JobLimiter(1)
    job = TrainingJob(config, store, frame, limiter=limiter).start()
    snap = job.join(30)
    assert snap.status == "failed"
    assert "not_a_column" in snap.message
    row = store.get(job.run_id)
    assert (row["status"], row["message"]) == ("failed", snap.message)
    assert store.load(job.run_id).metrics["status"] == "failed"
    assert limiter.active == 0


def test_an_unexpected_error_fails_the_run_keeps_its_history_and_frees_the_slot(
    config, frame, store, monkeypatch, capsys
):
    real = mtlrec.experiment.run_experiment

    def crash_after_first_epoch(config, frame, test_frame, *, callback, stop):
        def progress(p):
            callback(p)
            if p.phase == "epoch":
                raise RuntimeError("boom")

        return real(config, frame, test_frame, callback=progress, stop=stop)

    monkeypatch.setattr(mtlrec.experiment, "run_experiment", crash_after_first_epoch)
    limiter = JobLimiter(1)
    job = TrainingJob(config, store, frame, limiter=limiter).start()
    snap = job.join(30)
    assert snap.status == "failed"
    assert snap.message == "training failed unexpectedly (RuntimeError: boom)"
    row = store.get(job.run_id)
    assert (row["status"], row["message"]) == ("failed", snap.message)
    loaded = store.load(job.run_id)
    assert list(loaded.history["epoch"]) == [1]  # recorded after epoch 1, before the crash
    assert "RuntimeError: boom" in capsys.readouterr().err  # the traceback is logged for whoever runs the server
    assert limiter.active == 0
    limiter.acquire()  # the slot really is free
    limiter.release()


def test_a_full_disk_fails_the_job_and_the_run_with_its_reason_and_never_leaves_it_running(
    config, frame, store, monkeypatch, capsys
):
    # A fault audit: the history write's disk error ended training, then store.fail raised the same error in the job's
    # thread, and the Train panel said "running · epoch 5/6" forever.
    import errno

    import mtlrec.runs

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "record_history", full)  # training goes on without the crash record of its curves
    monkeypatch.setattr(mtlrec.runs, "write_run_files", full)  # and its files cannot be saved at the end
    job = TrainingJob(config, store, frame, limiter=None).start()
    snap = job.join(60)

    assert snap.status == "failed"
    assert snap.message == (
        "training ended, but its files could not be saved: the disk is full (No space left on device): free space "
        "where the runs are kept (MTLREC_HOME) and train it again"
    )
    assert store.get(job.run_id)["status"] == "failed"

    def unusable(*args, **kwargs):  # as the store raises it now (a full database)
        raise MtlrecError("the run store /x cannot be used (OperationalError: database or disk is full): free space")

    monkeypatch.setattr(store, "fail", unusable)  # the store cannot even record the failure: the job still ends
    job = TrainingJob(config, store, frame, limiter=None).start()
    snap = job.join(60)
    assert snap.status == "failed" and snap.message.endswith(
        "; the run store could not record it either: the run store /x cannot be used (OperationalError: database "
        "or disk is full): free space"
    )
    capsys.readouterr()


def test_a_run_saved_in_one_step_that_cannot_be_written_is_failed_not_running(config, store, monkeypatch):
    # A sweep's points: store.save started the run, the full disk stopped finish, and the run stayed "running".
    import mtlrec.runs

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mtlrec.runs, "write_run_files", full)
    result = mtlrec.experiment.RunResult(
        config=config, metrics={}, history=pd.DataFrame(), status="finished", message=""
    )

    with pytest.raises(OSError):
        store.save(result)

    (row,) = store.list()
    assert (
        row["status"] == "failed"
        and "could not be saved (OSError: [Errno 28] No space left on device)" in row["message"]
    )


def test_history_is_saved_after_each_epoch_while_training(config, frame, store, jobs):
    job = TrainingJob(long_config(config), store, frame, limiter=None)
    jobs.append(job.start())
    wait_for(lambda: len(saved_history(store, job.run_id)) >= 2, what="two epochs on disk")
    assert store.get(job.run_id)["status"] == "running"
    history = saved_history(store, job.run_id)
    assert list(history["epoch"][:2]) == [1, 2]
    assert {"train_loss", "val_loss", "click/val_auc", "watch_time/val_rmse"} <= set(history.columns)
    job.stop()
    assert job.join(10).status == "stopped"


def test_limiter_refuses_a_job_over_the_cap_until_one_ends(config, frame, store, jobs):
    limiter = JobLimiter(1)
    first = TrainingJob(long_config(config), store, frame, limiter=limiter)
    jobs.append(first.start())
    assert limiter.active == 1
    short = dataclasses.replace(config, train=dataclasses.replace(config.train, epochs=1))
    second = TrainingJob(short, store, frame, limiter=limiter)
    with pytest.raises(MtlrecError, match=r"already training 1 model\(s\), its limit"):
        second.start()
    assert second.run_id is None
    assert [r["id"] for r in store.list()] == [first.run_id]  # a refused job leaves no run behind
    first.stop()
    assert first.join(10).status == "stopped"
    jobs.append(second.start())
    assert second.join(60).status == "finished"
    assert limiter.active == 0


def test_limiter_of_zero_refuses_every_job(config, frame, store):
    limiter = JobLimiter(0)
    with pytest.raises(MtlrecError, match="limit"):
        TrainingJob(config, store, frame, limiter=limiter).start()
    assert store.list() == [] and limiter.active == 0


def test_limiter_of_zero_says_the_server_allows_no_training(config, frame, store):
    with pytest.raises(MtlrecError) as refused:
        TrainingJob(config, store, frame, limiter=JobLimiter(0)).start()
    assert refused.value.message == "this server allows no training: its limit of jobs at once is 0 (MTLREC_MAX_JOBS=0)"


def test_a_job_takes_the_server_limiter_in_place_when_it_starts(config, frame, store, monkeypatch):
    job = TrainingJob(config, store, frame)  # made before the server's limiter is replaced
    monkeypatch.setattr(mtlrec.jobs, "DEFAULT_LIMITER", JobLimiter(0))
    with pytest.raises(MtlrecError, match="allows no training"):
        job.start()
    assert store.list() == []


def test_limiter_counts_concurrent_starts_exactly(config, frame, store):
    limiter, errors = JobLimiter(2), []

    def take():
        try:
            limiter.acquire()
        except MtlrecError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (limiter.active, len(errors)) == (2, 6)


def test_closing_the_tab_stops_the_sessions_job(config, frame, store, jobs):
    assert session_jobs._info.scope == "session"  # one holder per browser session, released when it ends
    holder = open_session(None)  # a session whose browser is not known (no XSRF cookie): its own jobs
    holder.release()  # nothing to stop: fine
    holder = open_session(None)
    holder.job = TrainingJob(long_config(config), store, frame, limiter=None)
    jobs.append(holder.job.start())
    wait_for(lambda: holder.job.snapshot().status == "running", what="training to start")
    assert holder.busy
    session_jobs._info.on_release(holder)  # what Streamlit calls when the session's resources are released
    snap = holder.job.join(10)
    assert snap.status == "stopped"
    assert re.fullmatch(r"stopped (in|after) epoch \d+: its browser tab was closed", snap.message)  # not "by the user"
    assert not holder.busy
    assert store.get(holder.job.run_id)["status"] == "stopped"
    assert store.get(holder.job.run_id)["message"] == snap.message


def xsrf_cookie(token: bytes, mask: bytes) -> str:
    """Tornado's v2 XSRF cookie: the token XOR-masked with a fresh 4-byte mask on every page load."""
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
    return f"2|{mask.hex()}|{masked.hex()}|1733480000"


def test_the_browser_is_known_by_its_xsrf_token_whatever_the_mask():
    token = bytes(range(16))
    first, reload = xsrf_cookie(token, b"\x01\x02\x03\x04"), xsrf_cookie(token, b"\xaa\xbb\xcc\xdd")
    assert first != reload and browser_id(first) == browser_id(reload) is not None
    assert browser_id(xsrf_cookie(bytes(range(1, 17)), b"\x01\x02\x03\x04")) != browser_id(first)
    for junk in (None, "", "abc", "1|0102|ab|1", "2|zz|ab|1", "2|01020304||1"):
        assert browser_id(junk) is None


def test_a_reload_follows_the_running_job_and_a_closed_tab_stops_it_after_the_grace(
    config, frame, store, jobs, monkeypatch
):
    # A reload is a new session: the job was stopped ("by the user") and the new page knew nothing of it.
    monkeypatch.setattr(ui.jobs, "GRACE_SECONDS", 0.5)
    browser = browser_id(xsrf_cookie(bytes(range(16)), b"\x01\x02\x03\x04"))
    tab = open_session(browser)
    tab.job = TrainingJob(long_config(config), store, frame, limiter=None)
    jobs.append(tab.job.start())
    wait_for(lambda: tab.job.snapshot().status == "running", what="training to start")

    second_tab = open_session(browser)  # another tab of the same browser sees the same job
    assert second_tab is tab and tab.sessions == 2
    tab.release()
    second_tab.release()  # the last one: the job waits for a new session
    reloaded = open_session(browser)
    time.sleep(1.0)  # past the grace
    assert reloaded.job is tab.job and reloaded.busy  # followed, still training

    # Left and back again twice within the grace: the first closing's timer must not stop the job during the
    # second reload (it fired 30 s after the first close whatever happened since).
    reloaded.release()
    time.sleep(0.3)
    reloaded = open_session(browser)
    reloaded.release()
    time.sleep(0.3)  # 0.6 s after the first close: its timer has fired, during this second gap
    reloaded = open_session(browser)
    time.sleep(0.6)
    assert reloaded.job is tab.job and reloaded.busy

    reloaded.release()  # the tab closed for good
    snap = reloaded.job.join(10)
    assert snap.status == "stopped" and snap.message.endswith(": its browser tab was closed")
    assert open_session(browser).job is None  # the browser's next visit starts afresh
