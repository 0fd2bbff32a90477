"""Peak memory of one run on a big table: load a Parquet file -> prepare() -> 1 epoch of training (small preset).

Every measurement is a fresh Python process that runs the stages up to one stage and reports its high-water RSS
(`ru_maxrss`, cross-checked with Linux's VmHWM). The parent imports nothing heavy and the table is written by a
child of its own: a child's ru_maxrss starts from its parent's resident size, so a parent holding the data would
inflate every figure.

    python benchmarks/bench_memory.py              # 1M rows x 20 columns, target: peak under 2 GiB
    python benchmarks/bench_memory.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("import", "load", "prepare", "train")
WHAT = {
    "import": "python + mtlrec, pandas, torch imported",
    "load": "Parquet file read into a DataFrame (mtlrec.data.load_frames)",
    "prepare": "validate, split, fit encoder, encode train/val/test (mtlrec.data.prepare)",
    "train": "small preset, 1 epoch, batch 1024 (Trainer.fit, validation included)",
}
TARGET_MIB = 2048  # 2 GiB


def peak_mib() -> tuple[float, float | None]:
    """(ru_maxrss, VmHWM) of this process in MiB; VmHWM is None off Linux."""
    import resource

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    maxrss_mib = maxrss / 1024 / 1024 if sys.platform == "darwin" else maxrss / 1024  # bytes on macOS, KiB on Linux
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return maxrss_mib, int(line.split()[1]) / 1024
    except OSError:
        pass
    return maxrss_mib, None


def child_write(path: str, rows: int) -> dict:
    """Write the synthetic table: 10 categorical (user/item ids included), 7 numeric, 3 binary labels."""
    from _common import synthetic_table

    frame = synthetic_table(rows, n_categorical=10, n_numeric=7, n_labels=3, n_users=100_000, n_items=20_000)
    frame.to_parquet(path, index=False)
    return {"columns": frame.shape[1], "bytes": os.path.getsize(path)}


def child_run(path: str, last_stage: str, threads: int) -> dict:
    """Run the stages up to last_stage; return the peak RSS and each stage's seconds."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    import pandas as pd
    import pyarrow.parquet as pq
    import torch
    from _common import table_config

    from mtlrec.data import load_frames, prepare
    from mtlrec.models import build_model
    from mtlrec.train import Trainer
    from mtlrec.weighting import build_weighting

    torch.set_num_threads(threads)
    seconds["import"] = time.perf_counter() - start
    info: dict = {}
    if last_stage != "import":
        start = time.perf_counter()
        names = pq.read_schema(path).names  # the config needs the column names only
        config = table_config(pd.DataFrame(columns=names), size="small", epochs=1)
        config.data.path = path
        frame, test_frame, _ = load_frames(config)
        seconds["load"] = time.perf_counter() - start
        info["rows"] = len(frame)
    if last_stage in ("prepare", "train"):
        start = time.perf_counter()
        prepared = prepare(config, frame, test_frame)
        seconds["prepare"] = time.perf_counter() - start
        info["train_rows"] = len(prepared.train)
        info["vocab"] = sum(prepared.encoder.cardinalities)
    if last_stage == "train":
        start = time.perf_counter()
        encoder = prepared.encoder
        torch.manual_seed(0)
        model = build_model(config.model, encoder.cardinalities, encoder.numeric_width, len(config.tasks))
        weighting = build_weighting(config.weighting, config.tasks)
        Trainer(config.train, config.tasks, weighting).fit(model, prepared.train, prepared.val, torch.device("cpu"))
        seconds["train"] = time.perf_counter() - start
        info["params"] = sum(p.numel() for p in model.parameters())
    maxrss, hwm = peak_mib()
    return {"maxrss_mib": maxrss, "vmhwm_mib": hwm, "seconds": seconds, **info}


def run_child(*args: str) -> dict:
    """Run this file as a fresh process with args; return the JSON it prints last."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the synthetic table")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads in the children")
    parser.add_argument("--child", choices=("write", *STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "write":
        print(json.dumps(child_write(args.path, args.rows)))
        return 0
    if args.child:
        print(json.dumps(child_run(args.path, args.child, args.threads)))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench_memory_") as tmp:
        path = str(Path(tmp) / "interactions.parquet")
        written = run_child("--child", "write", "--path", path, "--rows", str(args.rows))
        print(
            f"data: {args.rows:,} rows x {written['columns']} columns (10 categorical incl. 100k users and 20k "
            f"items, 7 numeric, 3 binary labels), Parquet {written['bytes'] / 2**20:.0f} MiB; "
            f"torch threads {args.threads}\n"
        )
        results = {
            stage: run_child("--child", stage, "--path", path, "--threads", str(args.threads)) for stage in STAGES
        }

    from _common import print_table

    rows, previous = [], 0.0
    for stage in STAGES:
        r = results[stage]
        hwm = r["vmhwm_mib"]
        rows.append(
            [stage, f"{r['maxrss_mib']:,.0f}", f"{hwm:,.0f}" if hwm is not None else "-",
             f"{r['maxrss_mib'] - previous:+,.0f}", f"{r['seconds'][stage]:.1f}", WHAT[stage]]
        )  # fmt: skip
        previous = r["maxrss_mib"]
    print_table(["stage", "peak RSS MiB", "VmHWM MiB", "vs previous", "stage s", "what runs"], rows)
    last = results["train"]
    peak = max(last["maxrss_mib"], last["vmhwm_mib"] or 0)
    print(
        f"\n{last['train_rows']:,} training rows, {last['vocab']:,} embedding rows, {last['params']:,} parameters"
        f"\npeak through 1 epoch: {peak:,.0f} MiB ({peak * 2**20 / 1e9:.2f} GB); target < {TARGET_MIB:,} MiB (2 GiB): "
        f"{'HOLDS' if peak < TARGET_MIB else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
