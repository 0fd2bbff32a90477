"""Estimate what a run will need before allocating it, and refuse runs that cannot fit the machine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mtlrec.config import ExperimentConfig
from mtlrec.errors import MtlrecError
from mtlrec.fmt import nbytes

FLOAT = 4
INDEX = 8
# Adam keeps two moments per parameter, training adds the gradient, and early stopping keeps a best copy.
PARAM_COPIES = 5
# Forward activations are kept for backward, plus their gradients and ReLU masks: about three copies.
ACTIVATION_COPIES = 3
# One task's full gradient on the shared parameters while diagnostics measure it, with autograd's own buffers.
DIAGNOSTIC_COPIES = 3
HEADROOM = 0.8  # refuse runs that would take more than 80% of the memory available now


@dataclass
class MemoryEstimate:
    params: int
    model_bytes: int  # weights, gradients, optimiser state, best-epoch copy
    data_bytes: int  # encoded train/val/test arrays and the per-epoch shuffled copy
    activation_bytes: int  # one mini-batch's activations and their gradients
    parts: dict[str, int] = field(default_factory=dict)  # params by role (see parameter_parts)
    diagnostic_bytes: int = 0  # each task's gradient on the shared layers, once an epoch (TrainConfig.diagnostics)

    @property
    def total(self) -> int:
        return self.model_bytes + self.data_bytes + self.activation_bytes + self.diagnostic_bytes

    def describe(self) -> str:
        diagnostics = f", diagnostics {nbytes(self.diagnostic_bytes)}" if self.diagnostic_bytes else ""
        return (
            f"about {nbytes(self.total)} (model and optimiser {nbytes(self.model_bytes)}, data "
            f"{nbytes(self.data_bytes)}, activations {nbytes(self.activation_bytes)}{diagnostics})"
        )


PARTS = ("embeddings", "shared layers", "task-specific")


def parameter_parts(config: ExperimentConfig, cardinalities: list[int], numeric_width: int) -> dict[str, int]:
    """The configured model's parameters by role (PARTS): embedding tables; the layers more than one task's loss
    reaches besides them (shared bottom, shared experts, an ESMM funnel's first network); and what belongs to one
    task (towers, gates, task experts)."""
    import torch
    from torch import nn

    from mtlrec.models import build_model

    with torch.device("meta"):  # shapes only, no memory allocated
        model = build_model(config.model, cardinalities, numeric_width, len(config.tasks), tasks=config.tasks)
    embedding = {id(p) for m in model.modules() if isinstance(m, nn.Embedding) for p in m.parameters()}
    shared = {id(p) for p in model.shared_parameters()} - embedding
    parts = dict.fromkeys(PARTS, 0)
    for p in model.parameters():
        parts[PARTS[0] if id(p) in embedding else PARTS[1] if id(p) in shared else PARTS[2]] += p.numel()
    return parts


def estimate_memory(
    config: ExperimentConfig, n_rows: int, cardinalities: list[int], numeric_width: int
) -> MemoryEstimate:
    """Bytes a training run needs beyond the loaded table, from the config and the data's shape."""
    parts = parameter_parts(config, cardinalities, numeric_width)
    params = sum(parts.values())
    size = config.model.resolved()
    n_cat, n_tasks = len(cardinalities), len(config.tasks)
    row_bytes = n_cat * INDEX + numeric_width * FLOAT + n_tasks * FLOAT
    train_rows = n_rows * (1 - config.split.test_frac) * (1 - config.split.val_frac)
    data = int(row_bytes * (n_rows + train_rows))  # every part encoded once + one shuffled copy per epoch
    inputs = n_cat * size["embed_dim"] + numeric_width
    width = inputs * (1 + 2 * size["cross"]) + sum(size["bottom"]) + n_tasks * (sum(size["tower"]) + 1)
    activations = int(config.train.batch_size * width * FLOAT * ACTIVATION_COPIES)
    # Diagnostics keep each task's gradient on the shared layers (the embedding tables' cut to the rows looked up)
    # and take one full gradient of the shared parameters, tables included, at a time (diagnostics.measure), which
    # autograd builds with about as much again in passing (measured at xl: 600 MB for 3 tasks).
    shared, tables = parts.get(PARTS[1], 0), parts.get(PARTS[0], 0)
    diagnostic = (
        FLOAT * (n_tasks * shared + DIAGNOSTIC_COPIES * (shared + tables))
        if config.train.diagnostics and shared + tables and config.model.kind != "single_task"
        else 0  # single-task networks share nothing: no diagnostics run
    )
    return MemoryEstimate(params, params * FLOAT * PARAM_COPIES, data, activations, parts, diagnostic)


def available_memory() -> int | None:
    """Bytes this process can still use: MemAvailable, capped by a cgroup limit; None when unknown."""
    candidates = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                candidates.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            candidates.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    if not candidates and hasattr(os, "sysconf"):
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError):
            pass
    return min(candidates) if candidates else None


def check_memory(estimate: MemoryEstimate, available: int | None = None) -> None:
    """Raise MtlrecError with suggestions when the run would not fit in the memory available now."""
    available = available_memory() if available is None else available
    if available is None or estimate.total <= HEADROOM * available:
        return
    without = estimate.total - estimate.diagnostic_bytes
    # The diagnostics keep a gradient per task on the shared layers: 16 GB of a 28 GB run, which fitted without
    # them, and the message did not say so (a browser walk)
    diagnostics = (
        f"turn off the task-conflict diagnostics (Train's 'Record task-conflict diagnostics'; CLI: --no-diagnostics), "
        f"which take {nbytes(estimate.diagnostic_bytes)} of it and without which it fits; or "
        if estimate.diagnostic_bytes and without <= HEADROOM * available
        else "turn off the task-conflict diagnostics, "
        if estimate.diagnostic_bytes
        else ""
    )
    raise MtlrecError(
        f"this run needs {estimate.describe()}, but only {nbytes(available)} of memory is free: {diagnostics}choose "
        "a smaller size preset, embedding size or layer widths, a smaller batch, or use fewer rows"
    )


PROC_STAT = "/proc/stat"
BUSY_WINDOW = 0.3  # seconds over which other processes' use of this process's CPUs is measured


def _cpu_times(cpus: set[int]) -> tuple[int, int]:
    """(total, idle) clock ticks of the CPUs `cpus` since boot, from /proc/stat's cpuN lines (idle with iowait; the
    guest times are inside user's and left out)."""
    total = idle = 0
    with open(PROC_STAT, encoding="ascii") as handle:
        for line in handle:
            name, *values = line.split()
            if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
                continue
            ticks = [int(v) for v in values[:8]]
            total, idle = total + sum(ticks), idle + ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return total, idle


def busy_cpus(window: float = BUSY_WINDOW) -> tuple[int, float] | None:
    """(this process's CPUs, how many of them other work keeps busy over `window` seconds, while this one waits),
    or None where it cannot be told (no /proc/stat)."""
    import time

    try:
        cpus = os.sched_getaffinity(0)
        total0, idle0 = _cpu_times(cpus)
        time.sleep(window)
        total1, idle1 = _cpu_times(cpus)
    except (OSError, ValueError, AttributeError):
        return None
    if total1 <= total0:
        return None
    return len(cpus), len(cpus) * (1 - (idle1 - idle0) / (total1 - total0))


def threads_setting() -> int | None:
    """MTLREC_TORCH_THREADS as a thread count (None when unset); MtlrecError for a value that is none."""
    value = os.environ.get("MTLREC_TORCH_THREADS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise MtlrecError(f"MTLREC_TORCH_THREADS must be a whole number of 1 or more, got {value!r}")
    return int(value)


def training_threads(default: int) -> tuple[int, str | None]:
    """Torch threads for a command-line training on the CPU, and a note when they are fewer than `default` (torch's,
    one per core). Other processes busy on these cores make torch's threads wait for each other at every step: on
    2 cores with two busy processes, 2 threads trained 6,600-9,200 rows/s and 1 thread 42,000-46,000. So the free
    cores, measured now, at least 1. MTLREC_TORCH_THREADS or OMP_NUM_THREADS, when set, decide instead."""
    if (setting := threads_setting()) is not None:
        return setting, None
    if os.environ.get("OMP_NUM_THREADS") or default <= 1:
        return default, None
    measured = busy_cpus()
    if measured is None:
        return default, None
    cpus, busy = measured
    threads = max(1, min(default, round(cpus - busy)))
    if threads >= default:
        return default, None
    return threads, (
        f"other processes keep about {busy:.1f} of the {cpus} cores busy: training on {threads} thread"
        f"{'s' if threads > 1 else ''} instead of {default}, faster while they run (MTLREC_TORCH_THREADS=N chooses)"
    )
