"""Soak: many short trainings and app sessions back to back in one process; memory must not grow run over run.

Three phases in one process, each on a 5,000-row synthetic table with the tiny preset and 1 epoch:
  1. `run_experiment` (the library, as a script or the CLI uses it), result dropped after each run;
  2. `TrainingJob` + `RunStore` (the app's background job and run store), the latest job kept as a session keeps it;
  3. AppTest sessions: load the sample on Home, then visit Data, Train, Results and Runs.
After every 10 runs (5 sessions) it prints the peak RSS so far (ru_maxrss) and the current RSS (/proc/self/statm,
after gc.collect() and malloc_trim so that freed memory is not counted), and flags a phase whose current RSS grows
by more than 10% from its first checkpoint to its last.

    python benchmarks/soak.py                          # 50 + 50 runs, 20 sessions
    python benchmarks/soak.py --runs 20 --sessions 10
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout: `python benchmarks/soak.py`

GROWTH_LIMIT = 0.10
MiB = 1 << 20


def current_rss() -> float:
    """Resident memory now, in MiB, after returning freed memory to the system (what a leak keeps)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / MiB


def peak_rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Meter:
    """Checkpoints of one phase: (count, seconds, peak MiB, current MiB)."""

    def __init__(self, phase: str):
        self.phase, self.started, self.rows = phase, time.perf_counter(), []

    def checkpoint(self, count: int) -> None:
        row = (count, time.perf_counter() - self.started, peak_rss(), current_rss())
        self.rows.append(row)
        print(f"{self.phase:<22}{row[0]:>6}{row[1]:>10.1f}{row[2]:>14.1f}{row[3]:>17.1f}", flush=True)

    @property
    def growth(self) -> float:
        first, last = self.rows[0][3], self.rows[-1][3]
        return (last - first) / first


def workload():
    from mtlrec.config import ExperimentConfig, ModelConfig, TrainConfig
    from mtlrec.data import propose_schema
    from mtlrec.sample import SyntheticSpec, generate

    frame = generate(SyntheticSpec(n_rows=5000, n_users=300, n_items=200, seed=1))
    proposal = propose_schema(frame)
    config = ExperimentConfig(
        data=proposal.data,
        tasks=proposal.tasks,
        model=ModelConfig(size="tiny"),
        train=TrainConfig(epochs=1, batch_size=256, patience=0, device="cpu"),
    )
    return frame, config


def soak_library(runs: int, frame, config) -> Meter:
    from mtlrec.experiment import run_experiment

    meter = Meter("run_experiment")
    for i in range(1, runs + 1):
        result = run_experiment(config, frame)
        assert result.status == "finished", result.message
        del result
        if i % 10 == 0:
            meter.checkpoint(i)
    return meter


def soak_jobs(runs: int, frame, config, home: Path) -> Meter:
    from mtlrec.jobs import JobLimiter, TrainingJob
    from mtlrec.runs import RunStore

    store, limiter, latest = RunStore(home), JobLimiter(1), None
    meter = Meter("TrainingJob+RunStore")
    for i in range(1, runs + 1):
        latest = TrainingJob(config, store, frame, limiter=limiter).start()  # a session holds its latest job
        state = latest.join(120)
        assert state.status == "finished", state.message
        if i % 10 == 0:
            meter.checkpoint(i)
    assert len(store.list()) == runs
    return meter


def soak_app(sessions: int, home: Path) -> Meter:
    import logging

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    logging.disable(logging.WARNING)  # AppTest's "missing ScriptRunContext" notices
    os.environ["MTLREC_HOME"] = str(home)  # read by each RunStore() the app makes
    st.cache_resource.clear()
    meter = Meter("AppTest sessions")
    for i in range(1, sessions + 1):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        at.button(key="home_load_synthetic").click().run()
        for page in ("pages/data.py", "pages/train.py", "pages/results.py", "pages/runs.py"):
            at.switch_page(page).run()
            assert not at.exception, (page, at.exception)
        del at
        if i % 5 == 0:
            meter.checkpoint(i)
    return meter


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="trainings per phase (default 50)")
    parser.add_argument("--sessions", type=int, default=20, help="AppTest sessions (default 20)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)  # tiny models: threads only add noise to the figures
    frame, config = workload()
    print(f"{'phase':<22}{'count':>6}{'seconds':>10}{'peak RSS MiB':>14}{'current RSS MiB':>17}")
    with tempfile.TemporaryDirectory(prefix="mtlrec-soak-") as tmp:
        meters = [
            soak_library(args.runs, frame, config),
            soak_jobs(args.runs, frame, config, Path(tmp) / "jobs"),
            soak_app(args.sessions, Path(tmp) / "app"),
        ]
    failed = False
    for meter in meters:
        verdict = "GROWS" if meter.growth > GROWTH_LIMIT else "flat"
        failed |= meter.growth > GROWTH_LIMIT
        first, last = meter.rows[0], meter.rows[-1]
        print(
            f"{meter.phase}: current RSS {first[3]:.1f} MiB after {first[0]} -> {last[3]:.1f} MiB after {last[0]} "
            f"({meter.growth:+.1%}): {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
