"""Background training jobs: a run trains in a thread while pages poll its progress; a stop flag ends it.

The app owns the job (one per browser session, held in a session-scoped resource whose release hook stops it);
this module knows nothing about Streamlit. A server-wide limiter caps how many jobs train at once.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace

import pandas as pd

from mtlrec.config import ExperimentConfig
from mtlrec.errors import MtlrecError


class JobLimiter:
    """A server-wide cap on concurrently training jobs."""

    def __init__(self, max_jobs: int):
        self.max_jobs = max_jobs
        self._slots = threading.BoundedSemaphore(max_jobs)
        self._lock = threading.Lock()
        self.active = 0

    def acquire(self) -> None:
        if not self._slots.acquire(blocking=False):
            if self.max_jobs == 0:
                raise MtlrecError("this server allows no training: its limit of jobs at once is 0 (MTLREC_MAX_JOBS=0)")
            raise MtlrecError(
                f"the server is already training {self.max_jobs} model(s), its limit: wait for one to finish "
                "(or stop yours) and start again"
            )
        with self._lock:
            self.active += 1

    def release(self) -> None:
        with self._lock:
            self.active -= 1
        self._slots.release()


class StopFlag(threading.Event):
    """A job's stop flag, which says why when the user did not ask (a stopped run's message then gives the reason:
    mtlrec.train.stopped_message)."""

    reason: str | None = None

    def request(self, reason: str | None = None) -> None:
        if not self.is_set():
            self.reason = reason
        self.set()


DEFAULT_LIMITER = JobLimiter(int(os.environ.get("MTLREC_MAX_JOBS", "2")))
SERVER_LIMIT = "server"  # a job's limiter by default: DEFAULT_LIMITER, looked up when the job starts


@dataclass
class BackgroundState:
    """A snapshot of a background job for a page to draw (copies: safe to read while the job goes on)."""

    status: str  # queued | preparing | running | finished | stopped | failed

    @property
    def done(self) -> bool:
        return self.status in ("finished", "stopped", "failed")


class BackgroundJob:
    """Work in a daemon thread holding a slot of the server's limiter; a stop flag ends it, pages poll snapshot().

    A subclass indexes its work in `_open` (before the thread starts: it returns the thread's name) and does it in
    `_work` (in the thread); whatever way that ends, the slot is released, and a failure becomes status "failed"
    with a message for people.
    """

    def __init__(
        self,
        state: BackgroundState,
        frame: pd.DataFrame | None,
        test_frame: pd.DataFrame | None,
        limiter: JobLimiter | str | None,
    ):
        self.frame, self.test_frame = frame, test_frame
        self.limiter = limiter  # a JobLimiter, SERVER_LIMIT, or None: no cap
        self._stop = StopFlag()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified whenever the state changes
        self._state = state
        self._thread: threading.Thread | None = None

    def start(self) -> BackgroundJob:
        """Take a slot (MtlrecError when the server is at its limit), index the work, start the thread."""
        if self.limiter == SERVER_LIMIT:
            self.limiter = DEFAULT_LIMITER
        if self.limiter:
            self.limiter.acquire()
        try:
            name = self._open()
        except BaseException:
            if self.limiter:
                self.limiter.release()
            raise
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        return self

    def stop(self, reason: str | None = None) -> None:
        """Ask the job to stop: it ends within about a batch, and what it finished stays saved ('stopped'). A
        `reason` (other than the user asking) goes into the stopped run's message."""
        self._stop.request(reason)

    @property
    def stopping(self) -> bool:
        """Asked to stop and not done yet: the epoch in progress is validated and the kept model evaluated on the
        test rows (for a large model on much data, a minute or more)."""
        return self._stop.is_set() and not self.snapshot().done

    def join(self, timeout: float | None = None) -> BackgroundState:
        if self._thread:
            self._thread.join(timeout)
        return self.snapshot()

    def snapshot(self) -> BackgroundState:
        with self._lock:
            return self._copy()

    def wait(self, until: Callable[[BackgroundState], bool], timeout: float) -> BackgroundState:
        """Block until `until(state)` holds or the job is done, at most `timeout` seconds; then a snapshot.

        A page that has just started a job waits for its first progress this way, so that its first drawing
        already holds the first live point instead of a "preparing" panel and a poll later.
        """
        with self._changed:
            self._changed.wait_for(lambda: self._state.done or until(self._state), timeout)
            return self._copy()

    def _copy(self) -> BackgroundState:
        s = self._state
        lists = {f.name: list(getattr(s, f.name)) for f in fields(s) if isinstance(getattr(s, f.name), list)}
        return replace(s, **lists)

    def _update(self, **changes) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self._state, key, value)
            self._changed.notify_all()

    def _open(self) -> str:
        raise NotImplementedError

    def _work(self) -> None:
        raise NotImplementedError

    def _fail(self, message: str) -> None:
        self._update(status="failed", message=message)

    def _crash_message(self, exc: Exception) -> str:
        raise NotImplementedError

    def _run(self) -> None:
        self._started = started = time.perf_counter()
        self._wall: float | None = None  # the job's time when its result was saved (the panel's, before and after a
        # reload); else its time when it ended
        try:
            self._work()
        except MtlrecError as exc:
            self._fail(exc.message)
        except Exception as exc:  # a bug or the machine (e.g. out of memory): keep what was saved, say what happened
            traceback.print_exc(file=sys.stderr)
            self._fail(self._crash_message(exc))
        finally:
            self._update(elapsed=self._wall if self._wall is not None else time.perf_counter() - started)
            self.frame = self.test_frame = None  # let the data go; the run store has what matters
            if self.limiter:
                self.limiter.release()


@dataclass
class JobState(BackgroundState):
    """A training job's snapshot."""

    run_id: str | None
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    elapsed: float = 0.0
    eta: float | None = None
    history: list[dict] = field(default_factory=list)  # one row per finished epoch
    live: list[dict] = field(default_factory=list)  # per-task train loss every few batches: {"step", task: loss}
    message: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        if not self.epochs or not self.batches:
            return 0.0
        return min(1.0, ((self.epoch - 1) * self.batches + self.batch) / (self.epochs * self.batches))


STOPPED_BEFORE_START = "stopped before training started"


class TrainingJob(BackgroundJob):
    """Trains one run in a daemon thread and saves it in the run store, whatever way it ends."""

    def __init__(
        self,
        config: ExperimentConfig,
        store,
        frame: pd.DataFrame | None = None,
        test_frame: pd.DataFrame | None = None,
        *,
        name: str | None = None,
        sweep_id: str | None = None,
        limiter: JobLimiter | str | None = SERVER_LIMIT,
        baseline_of: str | None = None,
    ):
        super().__init__(JobState(status="queued", run_id=None, epochs=config.train.epochs), frame, test_frame, limiter)
        self.config, self.store, self.name, self.sweep_id = config, store, name, sweep_id
        self.baseline_of = baseline_of  # the run whose single-task baseline this is (Results' comparison), or None

    @property
    def run_id(self) -> str | None:
        return self._state.run_id

    def _open(self) -> str:
        run_id = self.store.start(self.config, self.name, self.sweep_id)
        self._update(run_id=run_id, status="preparing")
        return f"mtlrec-job-{run_id}"

    def _on_progress(self, p) -> None:
        rows = None
        with self._lock:
            s = self._state
            s.status, s.epoch, s.batch, s.batches, s.elapsed, s.eta = (
                "running",
                p.epoch,
                p.batch,
                p.batches,
                p.elapsed,
                p.eta,
            )
            s.live.append({"step": (p.epoch - 1) + p.batch / p.batches, **p.train_loss})
            if p.phase == "epoch" and p.history_row is not None:
                s.history.append(p.history_row)
                rows = list(s.history)
            self._changed.notify_all()
        if rows is not None:  # file I/O outside the lock: pages polling the job never wait for the disk
            try:
                self.store.record_history(self._state.run_id, rows)
            except Exception:  # only a crash's record of the curves (a full disk): training goes on, saving at the end
                traceback.print_exc(file=sys.stderr)

    def _work(self) -> None:
        from mtlrec.experiment import run_experiment

        run_id = self._state.run_id
        if self._stop.is_set():
            message = STOPPED_BEFORE_START + (f": {self._stop.reason}" if self._stop.reason else "")
            self.store.close(run_id, "stopped", message)
            self._update(status="stopped", message=message)
            return
        result = run_experiment(self.config, self.frame, self.test_frame, callback=self._on_progress, stop=self._stop)
        # Train's panel says how long the job took, live and, after a reload, from the run store: one number.
        self._wall = result.metrics["wall_seconds"] = round(time.perf_counter() - self._started, 3)
        self.store.finish(run_id, result)  # the job keeps no model: a session holds its latest job
        self._update(status=result.status, message=result.message, notes=result.notes)

    def _fail(self, message: str) -> None:
        try:
            self.store.fail(self._state.run_id, message)
        except Exception as exc:  # the store itself failing (a full disk): the job still ends, saying both
            traceback.print_exc(file=sys.stderr)
            problem = (
                exc.message if isinstance(exc, MtlrecError) else store_problem(exc) or f"{type(exc).__name__}: {exc}"
            )
            if problem not in message:
                message += f"; the run store could not record it either: {problem}"
        super()._fail(message)  # else the panel said "running" forever (a fault audit)

    def _crash_message(self, exc: Exception) -> str:
        text = str(exc)
        if isinstance(exc, MemoryError) or "out of memory" in text.lower() or "can't allocate" in text.lower():
            return (
                "training ran out of memory: choose a smaller size preset or embedding, a smaller batch, or fewer rows"
            )
        if (problem := store_problem(exc)) is not None:
            return f"training ended, but its files could not be saved: {problem}"
        return f"training failed unexpectedly ({type(exc).__name__}: {text[:300]})"


def store_problem(exc: BaseException) -> str | None:
    """A disk that cannot take the run's files, in words, with what to do: full, or read-only. None for other errors
    (a file not allowed to be read, too many open files, a broken pipe are no full disk)."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full ({exc.strerror}): free space where the runs are kept (MTLREC_HOME) and train it again"
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return f"the run store's disk is read-only ({exc.filename}): check MTLREC_HOME's folder"
    return None


_warm = threading.Event()


def server_threads(limiter: JobLimiter | None = None) -> int:
    """Torch threads per job in a server: the cores shared by the jobs allowed to train at once.

    Torch's default (one thread per core) makes concurrent jobs oversubscribe the cores; on a busy 2-core machine
    that slowed a tiny model's epoch from under 1 s to about 30 s. MTLREC_TORCH_THREADS overrides it.
    """
    from mtlrec.resources import threads_setting

    try:
        if (setting := threads_setting()) is not None:
            return setting
    except MtlrecError as exc:  # the server still starts, with the default, saying why
        print(f"warning: {exc.message}: using the default", file=sys.stderr)
    limiter = limiter or DEFAULT_LIMITER
    return max(1, (os.cpu_count() or 1) // max(1, limiter.max_jobs))


def freeze_imports() -> None:
    """Leave what is imported now (torch, scikit-learn, pandas, plotly, Streamlit: about 300,000 objects) out of every
    later garbage collection (gc.freeze, after a collection so that no garbage is kept for good).

    Streamlit collects garbage after every script run (runner.postScriptGC), and a page rerun's cycles (its
    functions hold its globals) are freed only by such a full collection. Over all those objects it took 50-150 ms
    with the GIL held, after each of Train's live-panel polls, twice a second: a watched training took 1.6-7x as
    long as one nobody watched (benchmarks/bench_watch.py). Frozen, a collection looks at what the sessions made.
    MTLREC_GC_FREEZE=0 leaves them in (to measure the difference).
    """
    import gc

    if os.environ.get("MTLREC_GC_FREEZE", "1") == "0":
        return
    gc.collect()
    gc.freeze()


def warm_up(block: bool = False) -> None:
    """Import torch, its optimiser machinery and scikit-learn once per process, so a first Train click is quick.

    The first Adam() in a process imports torch._dynamo (about 1 s), torch itself and scikit-learn about 1 s each.
    `block=True` does it here and now (the server does it before it answers, see app.py); otherwise in a background
    thread. Also sets the server's torch threads per job (see server_threads). Only the first call does anything.
    """
    if _warm.is_set():
        return
    _warm.set()

    def work() -> None:
        import torch

        torch.set_num_threads(server_threads())
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
        import sklearn.metrics  # noqa: F401  (the metrics import it lazily)
        import sklearn.model_selection  # noqa: F401  (the splits too)

        import mtlrec.charts  # noqa: F401  (plotly and sklearn.calibration: the Home page draws a figure)
        import mtlrec.experiment  # noqa: F401

    if block:
        work()
    else:
        threading.Thread(target=work, name="mtlrec-warm-up", daemon=True).start()
