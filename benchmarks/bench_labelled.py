"""What training a task on its labelled rows only costs (TaskSpec.labelled_only: the masked loss of
mtlrec.train.task_losses), in training rows per second, against the plain loss on the same rows.

Three configs of one synthetic table (mtlrec's shared-bottom, `small` by default), trained one epoch each on the
same prepared rows, interleaved repeat by repeat (these machines are noisy), the median reported:
- plain: every task on every row (the loss without a mask);
- flagged: the same rows, one task flagged labelled_only though every row is labelled (the masked path alone);
- half: that task's label missing in half of the rows (at random), flagged (what the option is for).

    python benchmarks/bench_labelled.py                  # 300k rows, small, 5 repeats
    python benchmarks/bench_labelled.py --quick          # a smoke run
"""

from __future__ import annotations

import argparse
import copy
import statistics

import numpy as np
import torch
from _common import machine, print_table, synthetic_table, table_config

from mtlrec.data import prepare
from mtlrec.experiment import run_experiment


def timed(config, prepared) -> float:
    """Training rows per second of one run (the trainer's own rate: its loop, validation included)."""
    result = run_experiment(config, prepared=prepared)
    assert result.status == "finished", result.message
    return float(result.metrics["samples_per_second"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--size", default="small")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="30k rows, 2 repeats")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeats = 30_000, 2
    torch.set_num_threads(args.threads)
    frame = synthetic_table(args.rows)
    plain = table_config(frame, size=args.size)
    task = plain.tasks[-1].name
    flagged = copy.deepcopy(plain)
    flagged.tasks[-1].labelled_only = True
    half_frame = frame.copy()
    half_frame[task] = half_frame[task].astype(float).where(np.random.default_rng(0).random(len(frame)) < 0.5)
    runs = {
        "plain": (plain, prepare(plain, frame)),
        "flagged": (flagged, prepare(flagged, frame)),
        f"half of '{task}' labelled": (flagged, prepare(flagged, half_frame)),
    }
    for config, prepared in runs.values():  # a warm-up each
        timed(config, prepared)
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, (config, prepared) in runs.items():
            rates[name].append(timed(config, prepared))
    base = statistics.median(rates["plain"])
    print(f"{machine()}; {args.rows:,} rows (80% train), {args.size}, {args.threads} threads, median of {args.repeats}")
    rows = [
        [name, f"{statistics.median(r):,.0f}", f"{min(r):,.0f}-{max(r):,.0f}", f"{statistics.median(r) / base:.2f}x"]
        for name, r in rates.items()
    ]
    print_table(["loss", "rows/s", "range", "vs plain"], rows)


if __name__ == "__main__":
    main()
