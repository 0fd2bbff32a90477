"""A file of 10,000 feature columns (200 rows): reading, schema inference, validation and encoding, timed against
pandas reading the same file. A per-column loop that became slow shows here (it was a timed assert in
tests/test_bad_inputs.py; speed is measured by benchmarks, the test checks the result).

    python benchmarks/bench_wide.py            # 3 repeats, the median printed
    python benchmarks/bench_wide.py --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "data" / "bad"))

import make_corpus  # noqa: E402

from mtlrec.data import prepare, propose_schema  # noqa: E402
from mtlrec.io import read_table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wide.csv"
        path.write_bytes(make_corpus.wide_frame().to_csv(index=False).encode())
        ours, theirs = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            pd.read_csv(path)
            theirs.append(time.perf_counter() - started)
            started = time.perf_counter()
            table = read_table(path)
            proposal = propose_schema(table.frame, str(path))
            from mtlrec.config import ExperimentConfig

            config = ExperimentConfig(data=proposal.data, tasks=proposal.tasks)
            prepare(config, table.frame)
            ours.append(time.perf_counter() - started)
    mine, pandas = statistics.median(ours), statistics.median(theirs)
    print(f"10,000 columns x 200 rows: read + infer + validate + encode {mine:.2f} s (median of {args.repeat}); "
          f"pandas read_csv {pandas:.2f} s; ratio {mine / pandas:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
