"""Getting a large file ready to train: the CLI's config from the data (read, fixes, inference) and
`mtlrec.data.prepare` (validation, split, encoder fit, encoding), on two files written once:

- a log of 300,000 purchases (customer, article, text dates, price, channel, age, colour) with 4 sampled negatives
  per row (`--negatives 4`: 1.5M rows to encode), as an H&M-like positives-only log is trained;
- 1,000,000 rows of the benchmarks' synthetic table (string ids, small integer categoricals, numerics, 3 labels),
  with a float categorical that has missing values.

With --against REV the same steps run, in alternation, on another revision of the library (a git worktree of REV),
each in a fresh process, and the ratios are printed: before and after on the same machine in one run.

    python benchmarks/bench_prepare.py                    # this checkout, 2 repeats, medians
    python benchmarks/bench_prepare.py --against HEAD~3   # against an earlier revision
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CASES = ("negatives", "plain")


def write_files(folder: Path) -> dict[str, Path]:
    from _common import synthetic_table

    rng = np.random.default_rng(0)
    n = 300_000
    log = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 30_000, n),
            "article_id": rng.zipf(1.3, n) % 20_000,
            "t_dat": (pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 300 * 86_400, n), unit="s")),
            "price": rng.random(n).round(4),
            "sales_channel_id": rng.integers(1, 3, n),
            "age": rng.integers(18, 70, n),
            "colour": rng.choice(["red", "blue", "black", "white"], n),
        }
    )
    table = synthetic_table(1_000_000)
    table["cat_shop"] = np.where(rng.random(len(table)) < 0.1, np.nan, rng.integers(0, 500, len(table)).astype(float))
    files = {"negatives": folder / "transactions.csv", "plain": folder / "table.parquet"}
    log.to_csv(files["negatives"], index=False)
    table.to_parquet(files["plain"], index=False)
    return files


def one(case: str, path: str) -> dict[str, float]:
    """The two steps' seconds on one file, in this process (the library on sys.path)."""
    from mtlrec import cli
    from mtlrec.data import prepare

    flags = ["--negatives", "4"] if case == "negatives" else ["--categorical", "cat_shop"]
    args = cli.build_parser().parse_args(["train", path, *flags, "--epochs", "1"])
    start = time.perf_counter()
    config, loaded = cli.config_from_args(args)
    middle = time.perf_counter()
    prepared = prepare(config, loaded=loaded)
    end = time.perf_counter()
    return {"config": middle - start, "prepare": end - middle, "rows": len(prepared.train) + len(prepared.val)}


def run_in(library: Path, case: str, path: Path) -> dict[str, float]:
    # The library first on the path (the benchmarks' _common would put this checkout's there: not imported).
    code = (
        f"import sys, json; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); sys.path.insert(0, {str(library)!r}); "
        f"from bench_prepare import one; import mtlrec; assert mtlrec.__file__.startswith({str(library)!r}); print(json.dumps(one({case!r}, {str(path)!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=library)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--against", metavar="REV", help="also time this git revision, in alternation")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _common import machine, print_table

    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = write_files(folder)
        libraries = {"this checkout": ROOT}
        if args.against:
            other = folder / "against"
            subprocess.run(["git", "worktree", "add", "--detach", str(other), args.against], cwd=ROOT, check=True,
                           capture_output=True)  # fmt: skip
            libraries[args.against] = other
        try:
            times: dict[tuple[str, str], list[dict[str, float]]] = {}
            for _ in range(args.repeat):
                for case in CASES:
                    for name, library in libraries.items():
                        times.setdefault((name, case), []).append(run_in(library, case, files[case]))
        finally:
            if args.against:
                subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, check=False)
    rows = []
    for (name, case), runs in times.items():
        config = statistics.median(r["config"] for r in runs)
        prep = statistics.median(r["prepare"] for r in runs)
        rows.append([f"{case}, {name}", f"{runs[0]['rows']:,}", f"{config:.2f}", f"{prep:.2f}", f"{config + prep:.2f}"])
    print_table(["file, library", "training rows", "config s", "prepare s", "both s"], rows)
    if args.against:
        for case in CASES:
            now, then = (times[(name, case)] for name in libraries)
            for step in ("config", "prepare"):
                ratio = statistics.median(r[step] for r in then) / statistics.median(r[step] for r in now)
                print(f"{case}: {step} {ratio:.2f}x faster than {args.against}")


if __name__ == "__main__":
    main()
