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
    rating_hint(args.repeat)


def per_column_candidates(frame: pd.DataFrame) -> list:
    """The reference: _rating_hint's first version, each column's numbers checked one column at a time."""
    found = []
    for column in frame.columns:
        s = frame[column]
        if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        values = s.dropna()
        if values.empty or (values % 1 != 0).any():
            continue
        if float(values.min()) in (0, 1) and float(values.max()) <= 10:
            found.append(column)
    return found


def rating_hint(repeat: int) -> None:
    """A file with no label (20,000 number columns, one of ratings): the hint's candidates found block by block
    against one column at a time (the Data page of such a file spent most of a minute there)."""
    import numpy as np

    from mtlrec.schema import _small_whole_columns

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"c{j}": rng.random(200) for j in range(20_000)}).assign(rating=rng.integers(1, 6, 200))
    times = {"blocks": [], "per column": []}
    for _ in range(repeat):
        for label, find in (("blocks", _small_whole_columns), ("per column", per_column_candidates)):
            started = time.perf_counter()
            assert find(frame) == ["rating"]
            times[label].append(time.perf_counter() - started)
    ours, theirs = statistics.median(times["blocks"]), statistics.median(times["per column"])
    print(f"20,000 number columns without a label: the rating hint's candidates {ours:.3f} s in blocks, "
          f"{theirs:.2f} s one column at a time; {theirs / ours:.0f}x")  # fmt: skip


if __name__ == "__main__":
    main()
