"""Training processes: warm worker processes that a sweep's groups and references train in, instead of threads of
the caller's.

Why: two trainings in two threads of one process wait for each other's GIL between torch operations. Measured on
2 cores (2026-12-06, one 6-model stack of `small` for an epoch, beside an identical one): 12% slower than alone in
threads, 4% in processes; 11-point sweeps at `small` ran 1.00-1.16x faster with their groups in processes (medians
1.02-1.12x over five runs of benchmarks/bench_sweep.py, which prints both; most when the machine is busy), the Sweep
page's default sweep with its 5 references 1.05-1.17x.

How:
- A process-wide pool of up to a sweep's worker count, started in the background by `warm` (the Sweep page calls it
  when it opens, run_sweep when a sweep starts). Its processes come from multiprocessing's fork server: a clean
  process that imported torch and mtlrec once and never ran the caller's threads, so no lock held by another thread
  is copied into a child (forking a Streamlit server directly could be), and started without the caller's
  __main__ (`_without_main`), so that no child runs the page that started it.
- Nobody waits for it: `acquire` returns a ready, idle process or None, and the caller then trains in its own
  thread as before. So the first sweep of a fresh server may train in threads, and two sweeps at once share the
  processes there are.
- A job (a picklable callable: job(data, stop, progress) -> result) goes over a pipe with its data, which a process
  keeps for the next job with the same key (a sweep's training rows go to each process once). The caller relays
  progress, and a stop within about a batch: `halt` is looked at every POLL seconds and sets the process's stop
  event. A process that dies (killed for memory, say) is reported as an MtlrecError with its exit code and replaced
  by the next `warm`.
- Each process trains on one torch thread (one core each, as the sweep's threads do), ignores Ctrl-C and SIGTERM
  (the caller stops it) and ends when the caller's end of its pipe closes; the fork server ignores SIGTERM too
  (mtlrec.fork_server), since a process's exit code reaches the caller through it.

MTLREC_PROCESSES=0 turns the pool off (everything then trains in threads, as before 2026-12-06).
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing import spawn

from mtlrec.errors import MtlrecError

POLL = 0.05  # seconds between looks at the caller's stop while a job runs
PROGRESS_EVERY = 0.1  # seconds between progress messages from a process


def enabled() -> bool:
    """Whether training processes may be used here: not turned off, and a fork server exists (not on Windows)."""
    return os.environ.get("MTLREC_PROCESSES", "1") != "0" and "forkserver" in multiprocessing.get_all_start_methods()


class Flag:
    """A stop flag shared with a process, without a lock (an Event's lock, held by a process killed while it
    looked, would hang the next set() forever): is_set(), set(), clear()."""

    def __init__(self, context):
        self.value = context.RawValue("b", 0)

    def is_set(self) -> bool:
        return bool(self.value.value)

    def set(self) -> None:
        self.value.value = 1

    def clear(self) -> None:
        self.value.value = 0


class Worker:
    """One training process and the caller's end of its pipe."""

    def __init__(self, context):
        self.conn, child = context.Pipe()
        self.stop = Flag(context)
        self.process = context.Process(target=_serve, args=(child, self.stop), name="mtlrec-training", daemon=True)
        _kill_at_exit()
        with _without_main():
            self.process.start()
        child.close()
        self.ready = False
        self.busy = False
        self.closed = False
        self.data_key: str | None = None

    def alive(self) -> bool:
        return not self.closed and self.process.is_alive()

    def poll_ready(self) -> bool:
        """True once the process has imported everything and waits for jobs."""
        try:
            if not self.ready and self.conn.poll():
                self.ready = _receive(self.conn) == "ready"
        except (EOFError, OSError):
            return False
        return self.ready

    def run(self, job, data_key: str, data: Callable[[], object], on_progress: Callable[[object], None], halt):
        """Run `job(data, stop, progress)` in the process and return its result; `data()` is called (and sent)
        only when the process does not hold `data_key`'s data yet. Progress values go to on_progress here; when
        halt.is_set() the process's stop event is set. The job's own exception is raised here."""
        self.stop.clear()
        try:
            _send(self.conn, (data_key, None if data_key == self.data_key else data(), job))
            self.data_key = data_key
            while True:
                if halt.is_set():
                    self.stop.set()
                if not self.conn.poll(POLL):
                    if not self.alive():
                        raise self._died()
                    continue
                kind, value = _receive(self.conn)
                if kind == "progress":
                    on_progress(value)
                elif kind == "done":
                    return value
                else:
                    error = value  # the job's own failure: the process is fine and waits for the next job
                    self.data_key = None  # (it may have failed receiving the data: send it again next time)
                    break
        except (EOFError, OSError) as exc:
            raise self._died() from exc
        except BaseException:
            self.kill()  # e.g. on_progress failed: the job may still run there, in a state nobody knows
            raise
        raise error

    def _died(self) -> MtlrecError:
        self.process.join(timeout=1)
        self.kill()
        code = self.process.exitcode
        # Negative: killed by a signal (the kernel's out-of-memory killer sends SIGKILL); 255: the code was lost
        # (another thread read it first, or the fork server died).
        why = " (killed: out of memory?)" if code is not None and (code < 0 or code == 255) else ""
        return MtlrecError(
            f"a training process ended unexpectedly, exit code {code}{why}. Run again; if it happens again, set "
            "MTLREC_PROCESSES=0 to train in threads instead, and pick a smaller model or sample of the data."
        )

    def kill(self) -> None:
        self.data_key, self.closed = None, True
        if self.process.is_alive():
            self.process.kill()
        self.conn.close()


@contextlib.contextmanager
def _without_main() -> Iterator[None]:
    """Start a process without telling it the caller's __main__. multiprocessing's fork server has each child run
    the caller's main script again (as __mp_main__), for functions defined there; ours live in mtlrec.procs, and
    under `streamlit run` __main__ is, during a script run, the page being run, which a child must not execute
    (it did: a warm-up started from the Sweep page ran app.py in both processes)."""
    original = spawn.get_preparation_data

    def without_main(name):
        data = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    with _start_lock:
        spawn.get_preparation_data = without_main
        try:
            yield
        finally:
            spawn.get_preparation_data = original


_start_lock = threading.Lock()
_lock = threading.Lock()
_workers: list[Worker] = []
_starting = [0]  # processes being started by warm()'s background threads
_generation = [0]  # bumped by shutdown(): a warm-up started before it adds nothing after it
_exit_hook = [False]  # whether shutdown() is registered to run at the interpreter's exit


def warm(n: int) -> None:
    """Start processes in the background until the pool has `n` alive (no wait; a no-op when not enabled)."""
    if not enabled():
        return
    with _lock:
        _workers[:] = [w for w in _workers if w.busy or w.alive()]  # a busy one's thread watches it itself
        missing = n - len(_workers) - _starting[0]
        if missing <= 0:
            return
        _starting[0] += missing
        generation = _generation[0]

    def start() -> None:
        left = missing
        try:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["mtlrec.fork_server", "mtlrec.procs", "mtlrec.sweep_engine"])
            while left:
                worker = Worker(context)  # blocks until the fork server has imported torch (once per process)
                with _lock:
                    current = generation == _generation[0]
                    if current:
                        _workers.append(worker)
                        _starting[0] -= 1
                    left -= 1
                if not current:  # shut down meanwhile
                    worker.kill()
        except Exception:  # no (more) processes then: sweeps train in threads
            with _lock:
                if generation == _generation[0]:
                    _starting[0] -= left

    threading.Thread(target=start, name="mtlrec-procs-warm", daemon=True).start()


def acquire() -> Worker | None:
    """A ready, idle process, marked busy (give it back with release), or None."""
    with _lock:
        for worker in _workers:
            if not worker.busy and worker.alive() and worker.poll_ready():
                worker.busy = True
                return worker
    return None


def release(worker: Worker) -> None:
    with _lock:
        worker.busy = False
        if not worker.alive():
            _workers[:] = [w for w in _workers if w is not worker]


def ready_count() -> int:
    """Processes ready now (for tests and benchmarks)."""
    with _lock:
        return sum(w.alive() and w.poll_ready() for w in _workers if not w.busy) + sum(w.busy for w in _workers)


def wait_ready(n: int, timeout: float = 60.0) -> bool:
    """Wait until `n` processes are ready (tests and benchmarks); False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready_count() >= n:
            return True
        time.sleep(0.05)
    return False


def forget(data_key: str) -> None:
    """Idle processes holding `data_key`'s data drop it (a sweep ended: its rows need not stay in memory)."""
    with _lock:
        holders = [w for w in _workers if not w.busy and w.data_key == data_key and w.alive()]
        for worker in holders:
            worker.busy = True  # reserved: no acquire() writes to its pipe meanwhile
    for worker in holders:
        try:
            _send(worker.conn, (None, None, None))
            worker.data_key = None
        except OSError:
            pass
        finally:
            release(worker)


def cpu_seconds() -> float:
    """CPU seconds used so far by the training processes alive now (from /proc; 0 where it is missing), so that
    benchmarks count the work done there."""
    with _lock:
        pids = [w.process.pid for w in _workers if w.alive()]
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return total


def _kill_at_exit() -> None:
    """Kill the processes when the caller's interpreter exits, before multiprocessing's own exit hook (atexit runs
    the last registered first): that one sends SIGTERM to daemon processes and joins them, and ours ignore SIGTERM
    (see _serve), so `python -m mtlrec sweep` and any script that ran a sweep never exited."""
    if not _exit_hook[0]:
        _exit_hook[0] = True
        atexit.register(shutdown)


def shutdown() -> None:
    """Stop every process (tests, and the caller's exit)."""
    with _lock:
        workers, _workers[:] = list(_workers), []
        _generation[0] += 1
        _starting[0] = 0
    for worker in workers:
        worker.kill()


# ------------------------------------------------------------------------------------------------- in the process


def _serve(conn, stop) -> None:
    """A training process's life: import, say ready, then run jobs until the caller's end of the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the caller stops us
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # and so does a SIGTERM (timeout, CI): the caller winds down
    import sklearn.metrics  # noqa: F401  (the validation metrics: imported before the first job, not in it)
    import torch
    import torch._dynamo  # noqa: F401  (torch.optim imports it when the first optimiser is built: 1 s)

    torch.set_num_threads(1)
    try:
        _serve_jobs(conn, stop)
    except (BrokenPipeError, ConnectionResetError, EOFError):
        # The caller has gone (a script that ended soon after its sweep): nobody is left to answer, so exit quietly
        # rather than print a traceback. A job's own errors never get here: they are sent to the caller.
        return


def _serve_jobs(conn, stop) -> None:
    """Say ready, then run jobs until the caller's end of the pipe closes; a send to a closed pipe raises."""
    _send(conn, "ready")
    data = None
    last = [0.0]

    def progress(value) -> None:
        now = time.perf_counter()
        if now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            _send(conn, ("progress", value))

    while True:
        try:
            _, payload, job = _receive(conn)  # the data's key is the caller's to track
        except (EOFError, OSError):
            return
        except BaseException as exc:  # e.g. MemoryError unpickling the rows: the message was read whole
            data = None
            _send(conn, ("error", _picklable(exc)))
            continue
        if payload is not None:
            data = payload
        if job is None:  # forget the data (its sweep has ended); no answer
            data = None
            continue
        try:
            out = pickle.dumps(("done", job(data, stop, progress)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # the job's error goes to the caller, who raises it
            out = pickle.dumps(("error", _picklable(exc)), protocol=pickle.HIGHEST_PROTOCOL)
        job = payload = None  # an idle process keeps neither the model nor its trained weights
        conn.send_bytes(out)
        out = None


def _picklable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling (copy rebuilds it the way unpickling would), else a
    RuntimeError with its text."""
    try:
        pickle.dumps(copy.copy(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _send(conn, message) -> None:
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _receive(conn):
    """The one place mtlrec unpickles: messages between a process and its own training processes, over the pipe
    multiprocessing made between the two (its Connection.recv would unpickle them the same way); never a file, an
    upload or anything from outside these processes."""
    return pickle.loads(conn.recv_bytes())
