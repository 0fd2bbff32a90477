"""Training processes (mtlrec.procs): a sweep's groups trained in warm worker processes are the runs its threads
train, a stop reaches them, their progress arrives, and a failing or dying process says so and is replaced."""

from __future__ import annotations

import json
import os
import pickle
import sys
import threading
import time
import types

import pytest

from mtlrec import procs
from mtlrec.data import prepare
from mtlrec.errors import MtlrecError
from mtlrec.experiment import run_experiment
from mtlrec.runs import RunStore
from mtlrec.sweep import SweepConfig, plan_text, run_sweep, sweep_folder

pytestmark = pytest.mark.processes  # conftest keeps MTLREC_PROCESSES on for these tests only

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def pool():
    if not procs.enabled():
        pytest.skip("no fork server on this platform")
    procs.warm(2)
    assert procs.wait_ready(2, timeout=120), "the training processes did not start"
    yield
    procs.shutdown()


def sweep_of(config, **changes) -> SweepConfig:
    values = {"tasks": ["click", "like"], "points": 4, "references": [], "baseline": False, **changes}
    return SweepConfig(base=config, **values)


def sweep_info(store: RunStore, sweep_id: str) -> dict:
    return json.loads((sweep_folder(store, sweep_id) / "sweep.json").read_text())


def saved_points(store: RunStore, result) -> list:
    return [store.load(run_id) for run_id in result.points.sort_values("label")["run_id"]]


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_groups_trained_in_processes_are_the_groups_threads_train(
    dropout, pool, interactions, make_config, tmp_path, monkeypatch
):
    base = make_config(epochs=2)
    base.model.dropout = dropout  # the masks come from each group's own random stream, in whichever process
    base.train.precision = "fp32"
    sweep = sweep_of(base)
    in_processes = RunStore(tmp_path / "processes")
    result = run_sweep(sweep, in_processes, interactions, group_size=2, workers=2)
    assert result.status == "finished" and len(result.points) == 4
    assert sweep_info(in_processes, result.sweep_id)["in_processes"] == 2  # both stacks of 2
    assert plan_text(result.plan).endswith("on 2 worker threads, 2 of 2 in training processes.")  # the CLI's line
    assert all(w.data_key is None for w in procs._workers)  # the ended sweep's rows are dropped there

    monkeypatch.setenv("MTLREC_PROCESSES", "0")
    in_threads = RunStore(tmp_path / "threads")
    again = run_sweep(sweep, in_threads, interactions, group_size=2, workers=2)
    assert "in_processes" not in sweep_info(in_threads, again.sweep_id)
    for ours, theirs in zip(saved_points(in_processes, result), saved_points(in_threads, again), strict=True):
        assert ours.config.tasks == theirs.config.tasks
        assert ours.metrics["tasks"] == theirs.metrics["tasks"]  # bit for bit: the same computation
        assert ours.history.drop(columns="elapsed").equals(theirs.history.drop(columns="elapsed"))


def test_a_group_of_one_in_a_process_is_the_run_alone(pool, interactions, make_config, tmp_path):
    base = make_config(epochs=2)
    base.train.precision = "fp32"
    sweep = sweep_of(base, points=2)
    store = RunStore(tmp_path)
    result = run_sweep(sweep, store, interactions, group_size=1, workers=2)
    assert sweep_info(store, result.sweep_id)["in_processes"] == 2
    prepared = prepare(sweep.experiment(), interactions)
    for saved in saved_points(store, result):
        alone = run_experiment(saved.config, prepared=prepared)
        for task, metrics in alone.metrics["tasks"].items():
            for metric, value in metrics.items():
                assert saved.metrics["tasks"][task][metric] == pytest.approx(value, abs=TOLERANCE), (task, metric)


def test_references_trained_in_processes_are_their_runs_alone(pool, interactions, make_config, tmp_path):
    # An adaptive weighting (its effective weights and notes come back too) and the single-task models.
    sweep = sweep_of(make_config(epochs=2), points=2, references=["uncertainty"], baseline=True)
    store = RunStore(tmp_path)
    result = run_sweep(sweep, store, interactions, group_size=2, workers=2)
    assert sweep_info(store, result.sweep_id)["references_in_processes"] == 2
    prepared = prepare(sweep.experiment(), interactions)
    for row in result.references.itertuples():
        saved = store.load(row.run_id)
        alone = run_experiment(sweep.reference_config(row.role), prepared=prepared)
        assert saved.metrics["tasks"] == alone.metrics["tasks"], row.role  # bit for bit
        assert saved.metrics["precision"] == alone.metrics["precision"]
        assert saved.history.drop(columns="elapsed").equals(alone.history.drop(columns="elapsed")), row.role
        assert saved.metrics["notes"] == alone.notes, row.role


def test_a_stop_reaches_the_processes_and_they_serve_the_next_sweep(pool, interactions, make_config, tmp_path):
    sweep = sweep_of(make_config(epochs=200), points=2)
    stop, seen = threading.Event(), []

    def progress(p) -> None:
        seen.append(p.fraction)
        if p.fraction > 0:  # training has started in the processes
            stop.set()

    store = RunStore(tmp_path)
    result = run_sweep(sweep, store, interactions, callback=progress, stop=stop, group_size=1, workers=2)
    assert result.status == "stopped" and len(result.points) == 0
    assert 0 < max(seen) < 0.5  # stopped early in 200 epochs, not at the end
    assert procs.wait_ready(2, timeout=30)  # both processes are alive and idle again
    quick = run_sweep(sweep_of(make_config(epochs=1), points=2), store, interactions, group_size=1, workers=2)
    assert quick.status == "finished" and sweep_info(store, quick.sweep_id)["in_processes"] == 2


# Jobs for the pool itself: picklable, importable by the processes (this module is on their sys.path).
class Echo:
    def __call__(self, data, stop, progress):
        progress(1)
        time.sleep(0.25)  # past PROGRESS_EVERY: the next progress is sent
        progress(2)
        time.sleep(0.2)
        return {"data": data, "pid": os.getpid()}


class Fail:
    def __call__(self, data, stop, progress):
        raise MtlrecError("column 'x' is not numeric: pick another")


class Die:
    def __call__(self, data, stop, progress):
        os._exit(9)


def run_job(job, key: str, data_calls: list):
    worker = procs.acquire()
    assert worker is not None
    try:
        seen = []

        def data():
            data_calls.append(key)
            return [key, 1, 2]

        return worker, worker.run(job, key, data, seen.append, threading.Event()), seen
    finally:
        procs.release(worker)


def test_a_job_gets_its_data_once_per_key_and_its_progress_reaches_the_caller(pool):
    calls = []
    worker, first, seen = run_job(Echo(), "sweep-a", calls)
    assert first["data"] == ["sweep-a", 1, 2] and first["pid"] != os.getpid()
    assert seen == [1, 2]
    # The same process again (both are idle; take them until it comes back): its data stays, it is not sent again.
    while True:
        other, second, _ = run_job(Echo(), "sweep-a", calls)
        if other is worker:
            break
    assert second["data"] == ["sweep-a", 1, 2] and calls.count("sweep-a") <= 2


def test_a_jobs_error_is_raised_here_and_the_process_serves_the_next_job(pool):
    worker = procs.acquire()
    try:
        with pytest.raises(MtlrecError, match="column 'x' is not numeric: pick another"):
            worker.run(Fail(), "k", lambda: None, lambda _: None, threading.Event())
        assert worker.run(Echo(), "k", lambda: None, lambda _: None, threading.Event())["pid"] > 0
    finally:
        procs.release(worker)


def test_a_process_that_dies_is_reported_clearly_and_replaced(pool):
    worker = procs.acquire()
    try:
        with pytest.raises(MtlrecError, match=r"a training process ended unexpectedly, exit code 9\. Run again"):
            worker.run(Die(), "k", lambda: None, lambda _: None, threading.Event())
    finally:
        procs.release(worker)
    assert not worker.alive()
    procs.warm(2)
    assert procs.wait_ready(2, timeout=120)


def test_a_sigterm_to_the_fork_server_leaves_the_processes_alive_and_serving(pool):
    # A SIGTERM to the process group (timeout, CI) ended the fork server, through which the processes' exit codes
    # pass: each then read as ended with code 255, and a sweep winding down after the SIGTERM failed.
    import signal
    from multiprocessing import forkserver

    server = forkserver._forkserver._forkserver_pid
    assert server is not None
    os.kill(server, signal.SIGTERM)
    time.sleep(0.5)
    os.kill(server, 0)  # still there (a process that ended would raise ProcessLookupError here)
    worker = procs.acquire()
    try:
        assert worker is not None and worker.alive()
        assert worker.run(Echo(), "k", lambda: None, lambda _: None, threading.Event())["pid"] > 0
    finally:
        procs.release(worker)


def test_the_off_switch(monkeypatch):
    monkeypatch.setenv("MTLREC_PROCESSES", "0")
    assert not procs.enabled()


def test_a_training_process_never_runs_the_callers_main_script(pool, tmp_path, monkeypatch):
    # Under `streamlit run`, __main__ is the page being run while a script runs; multiprocessing would have each
    # new process run it again (it ran app.py in both processes started from the Sweep page).
    marker = tmp_path / "main_ran"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    procs.shutdown()
    monkeypatch.setitem(sys.modules, "__main__", page)
    procs.warm(2)
    assert procs.wait_ready(2, timeout=120)
    assert not marker.exists()
    worker = procs.acquire()
    try:
        assert worker.run(Echo(), "k", lambda: None, lambda _: None, threading.Event())["pid"] > 0
    finally:
        procs.release(worker)
    assert not marker.exists()


def test_a_warm_up_cut_short_by_shutdown_adds_no_process(pool):
    procs.shutdown()
    procs.warm(2)
    procs.shutdown()  # while the warm-up still starts them
    assert not procs.wait_ready(1, timeout=10)
    assert procs._workers == []
    procs.warm(2)  # the module's pool again, for the tests after this one
    assert procs.wait_ready(2, timeout=120)


class _GoneCaller:
    """A pipe whose other end closes after `sends` messages were sent through it: what a training process sees when
    the script that started it has ended. It hands over `messages` (jobs) first."""

    def __init__(self, sends: int, messages: list):
        self.sends, self.messages, self.sent = sends, list(messages), []

    def send_bytes(self, data: bytes) -> None:
        if len(self.sent) == self.sends:
            raise BrokenPipeError(32, "Broken pipe")
        self.sent.append(pickle.loads(data))

    def recv_bytes(self) -> bytes:
        return pickle.dumps(self.messages.pop(0))


@pytest.mark.parametrize(
    ("caller", "sent"),
    [
        (lambda: _GoneCaller(0, []), []),  # gone before "ready"
        (lambda: _GoneCaller(1, [(None, "rows", len_of_data)]), ["ready"]),  # gone while its job trained
    ],
    ids=["before ready", "during a job"],
)
def test_a_training_process_whose_caller_has_gone_exits_quietly(monkeypatch, caller, sent):
    # A script ending about 3 s after a sweep printed "Process mtlrec-training: Traceback ... BrokenPipeError".
    monkeypatch.setattr(procs.signal, "signal", lambda *args: None)  # _serve ignores Ctrl-C: not in pytest's process
    pipe = caller()

    assert procs._serve(pipe, threading.Event()) is None  # it returns: the process exits with status 0

    assert pipe.sent == sent and not pipe.messages


def len_of_data(data, stop, progress) -> int:
    return len(data)


def test_a_script_whose_training_processes_started_exits_when_it_ends(tmp_path):
    # multiprocessing's exit hook sends SIGTERM to daemon processes and joins them; ours ignore SIGTERM, so
    # `python -m mtlrec sweep` printed its table and then never exited (a reproducibility audit).
    import subprocess

    script = (
        "from mtlrec import procs\nprocs.warm(1)\nassert procs.wait_ready(1, timeout=120)\nprint('ready', flush=True)\n"
    )
    env = {**os.environ, "MTLREC_PROCESSES": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180)
    assert (done.returncode, done.stdout) == (0, "ready\n"), done.stderr
    assert time.monotonic() - start < 150
