"""Shared by the benchmarks: a synthetic table, the mtlrec config that reads it, load metering, table printing."""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

# Run from a checkout without installing: `python benchmarks/bench_train.py` finds the library next door.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mtlrec.config import DataConfig, ExperimentConfig, ModelConfig, SplitConfig, TaskSpec, TrainConfig  # noqa: E402

# Cardinalities of the small categorical columns after user_id and item_id (cycled when more are asked for):
# age bucket, gender, city, category, hour, device, weekday, position, brand, channel.
SMALL_CARDINALITIES = (6, 3, 40, 20, 24, 3, 7, 20, 300, 12)


def synthetic_table(
    n_rows: int,
    n_categorical: int = 8,
    n_numeric: int = 4,
    n_labels: int = 3,
    n_users: int = 5000,
    n_items: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """An interaction log: string user/item ids, small integer categoricals, numerics and correlated 0/1 labels.

    Ids are Zipf-skewed (a few users and items have many rows) and every label depends on user, item, the small
    categoricals and the numerics, so the models have something to learn.
    """
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    logit = np.full(n_rows, -1.5)

    def skewed(n: int) -> np.ndarray:
        weights = 1.0 / np.arange(1, n + 1) ** 0.8
        return rng.permutation(n)[rng.choice(n, n_rows, p=weights / weights.sum())]

    for name, n, prefix in (("user_id", n_users, "u"), ("item_id", n_items, "i")):
        codes = skewed(n)
        columns[name] = np.array([f"{prefix}{i:06d}" for i in range(n)], dtype=object)[codes]
        logit += 0.3 * rng.standard_normal(n)[codes]
    for j in range(max(n_categorical - 2, 0)):
        n = SMALL_CARDINALITIES[j % len(SMALL_CARDINALITIES)]
        codes = rng.integers(0, n, n_rows)
        columns[f"cat_{j}"] = codes
        logit += 0.4 * rng.standard_normal(n)[codes]
    for j in range(n_numeric):
        values = rng.lognormal(0.0, 1.0, n_rows) if j % 2 else rng.standard_normal(n_rows)
        columns[f"num_{j}"] = values.astype(np.float64)
        logit += 0.2 * (np.log(values) if j % 2 else values)
    for j in range(n_labels):
        task_logit = logit + 0.5 * rng.standard_normal(n_rows) - 0.7 * j  # rarer labels further down
        columns[f"label_{j}"] = (rng.random(n_rows) < 1 / (1 + np.exp(-task_logit))).astype(np.int64)
    return pd.DataFrame(columns)


def table_config(frame: pd.DataFrame, size: str = "small", epochs: int = 1, **split) -> ExperimentConfig:
    """The mtlrec config for a synthetic_table: every column is a feature or a binary task; fixed epochs."""
    categorical = [c for c in frame.columns if c in ("user_id", "item_id") or c.startswith("cat_")]
    return ExperimentConfig(
        data=DataConfig(
            user_col="user_id",
            item_col="item_id",
            categorical=categorical,
            numeric=[c for c in frame.columns if c.startswith("num_")],
        ),
        tasks=[TaskSpec(c) for c in frame.columns if c.startswith("label_")],
        split=SplitConfig(method="random", **split),
        model=ModelConfig(size=size),
        train=TrainConfig(epochs=epochs, patience=0, device="cpu"),
    )


def machine() -> str:
    """One line naming the machine the figures come from."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores visible, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), Python {platform.python_version()}"
    )


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """A plain-text table, columns right-aligned except the first."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for k, row in enumerate([headers, *rows]):
        cells = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells))
        if k == 0:
            print("  ".join("-" * w for w in widths))


def _busy_cpu_seconds() -> float | None:
    """CPU seconds spent busy by the whole machine since boot (Linux /proc/stat), None elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """CPU seconds used by this process so far, all threads, and by its training processes (mtlrec.procs): what
    the work costs, whatever the other load."""
    import resource

    from mtlrec import procs

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime + procs.cpu_seconds()


class BackgroundLoad:
    """Cores kept busy by *other* processes while a block runs: timings on a shared machine need this next to them.

    `with BackgroundLoad() as load: ...` then `load.cores` (None where /proc/stat is missing).
    """

    def __enter__(self) -> BackgroundLoad:
        self.cores: float | None = None
        self._start = (time.perf_counter(), _busy_cpu_seconds(), cpu_seconds())
        return self

    def __exit__(self, *exc) -> None:
        wall, busy, own = time.perf_counter(), _busy_cpu_seconds(), cpu_seconds()
        wall0, busy0, own0 = self._start
        if busy is not None and busy0 is not None and wall > wall0:
            self.cores = max(0.0, ((busy - busy0) - (own - own0)) / (wall - wall0))


def wait_for_quiet(max_wait: float, threshold: float = 0.2) -> float | None:
    """Wait (up to max_wait seconds) for a one-second window in which other processes use < threshold cores.

    Returns the last background load measured, in cores (None where it cannot be measured).
    """
    deadline = time.perf_counter() + max_wait
    while True:
        with BackgroundLoad() as load:
            time.sleep(1.0)
        if load.cores is None or load.cores < threshold or time.perf_counter() >= deadline:
            return load.cores
