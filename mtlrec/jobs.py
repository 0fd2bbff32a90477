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
from dataclasses import dataclass, field

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


DEFAULT_LIMITER = JobLimiter(int(os.environ.get("MTLREC_MAX_JOBS", "2")))


@dataclass
class JobState:
    """A snapshot of a job for the page to draw (copies: safe to read while the job goes on)."""

    status: str  # queued | preparing | running | finished | stopped | failed
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
    def done(self) -> bool:
        return self.status in ("finished", "stopped", "failed")

    @property
    def fraction(self) -> float:
        if not self.epochs or not self.batches:
            return 0.0
        return min(1.0, ((self.epoch - 1) * self.batches + self.batch) / (self.epochs * self.batches))


class TrainingJob:
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
        limiter: JobLimiter | None = DEFAULT_LIMITER,
    ):
        self.config, self.store, self.frame, self.test_frame = config, store, frame, test_frame
        self.name, self.sweep_id, self.limiter = name, sweep_id, limiter
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._state = JobState(status="queued", run_id=None, epochs=config.train.epochs)
        self._thread: threading.Thread | None = None

    def start(self) -> TrainingJob:
        """Take a slot (MtlrecError when the server is at its limit), index the run, start the thread."""
        if self.limiter:
            self.limiter.acquire()
        try:
            run_id = self.store.start(self.config, self.name, self.sweep_id)
        except BaseException:
            if self.limiter:
                self.limiter.release()
            raise
        self._update(run_id=run_id, status="preparing")
        self._thread = threading.Thread(target=self._run, name=f"mtlrec-job-{run_id}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the job to stop; it ends within one batch and its run is saved as 'stopped'."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> JobState:
        if self._thread:
            self._thread.join(timeout)
        return self.snapshot()

    @property
    def run_id(self) -> str | None:
        return self._state.run_id

    def snapshot(self) -> JobState:
        with self._lock:
            s = self._state
            return JobState(
                s.status, s.run_id, s.epoch, s.epochs, s.batch, s.batches, s.elapsed, s.eta,
                list(s.history), list(s.live), s.message, list(s.notes),
            )  # fmt: skip

    def _update(self, **changes) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self._state, key, value)

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
        if rows is not None:  # file I/O outside the lock: pages polling the job never wait for the disk
            self.store.record_history(self._state.run_id, rows)

    def _run(self) -> None:
        from mtlrec.experiment import run_experiment

        run_id = self._state.run_id
        started = time.perf_counter()
        try:
            if self._stop.is_set():
                raise _StoppedBeforeStart
            result = run_experiment(
                self.config, self.frame, self.test_frame, callback=self._on_progress, stop=self._stop
            )
            self.store.finish(run_id, result)  # the job keeps no model: a session holds its latest job
            self._update(status=result.status, message=result.message, notes=result.notes)
        except _StoppedBeforeStart:
            self.store.close(run_id, "stopped", "stopped before training started")
            self._update(status="stopped", message="stopped before training started")
        except MtlrecError as exc:
            self.store.fail(run_id, exc.message)
            self._update(status="failed", message=exc.message)
        except Exception as exc:  # a bug or the machine (e.g. out of memory): keep the run, say what happened
            traceback.print_exc(file=sys.stderr)
            message = _describe_crash(exc)
            self.store.fail(run_id, message)
            self._update(status="failed", message=message)
        finally:
            self._update(elapsed=time.perf_counter() - started)
            self.frame = self.test_frame = None  # let the data go; the run store has what matters
            if self.limiter:
                self.limiter.release()


class _StoppedBeforeStart(Exception):
    pass


def _describe_crash(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in text.lower() or "can't allocate" in text.lower():
        return "training ran out of memory: choose a smaller size preset or embedding, a smaller batch, or fewer rows"
    return f"training failed unexpectedly ({type(exc).__name__}: {text[:300]})"


_warm = threading.Event()


def server_threads(limiter: JobLimiter | None = None) -> int:
    """Torch threads per job in a server: the cores shared by the jobs allowed to train at once.

    Torch's default (one thread per core) makes concurrent jobs oversubscribe the cores; on a busy 2-core machine
    that slowed a tiny model's epoch from under 1 s to about 30 s. MTLREC_TORCH_THREADS overrides it.
    """
    if os.environ.get("MTLREC_TORCH_THREADS"):
        return max(1, int(os.environ["MTLREC_TORCH_THREADS"]))
    limiter = limiter or DEFAULT_LIMITER
    return max(1, (os.cpu_count() or 1) // max(1, limiter.max_jobs))


def warm_up() -> None:
    """Import torch and its optimiser machinery in a background thread, so a first Train click is quick.

    The first Adam() in a process imports torch._dynamo (about 2 s); doing it early hides that cost. It also sets the
    server's torch threads per job (see server_threads).
    """
    if _warm.is_set():
        return
    _warm.set()

    def work() -> None:
        import torch

        torch.set_num_threads(server_threads())
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
        import mtlrec.experiment  # noqa: F401  (sklearn and the metrics come with it)

    threading.Thread(target=work, name="mtlrec-warm-up", daemon=True).start()
