"""Loading an interaction file: mtlrec's reader (read_table) against pandas.read_csv alone, and schema inference.

read_table sniffs the delimiter and encoding, checks the header and row lengths, and reads decimal commas,
placeholders ('-', '?') and currency or percent signs in text columns as numbers. This prints what that costs on
top of pandas' own parser, on three files of the same rows (ids, categories, a price, labels): comma-separated,
semicolon-separated with decimal commas, and with a text timestamp column (inference parses it). Each figure is
the best of --repeat calls, mtlrec and pandas alternated in one process; "x pandas" is mtlrec's time over pandas'.

    python benchmarks/bench_load.py                # 1M rows
    python benchmarks/bench_load.py --rows 200000
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np
import pandas as pd
from _common import machine, print_table

from mtlrec.io import read_table
from mtlrec.schema import infer_schema


def files(rows: int) -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, delimiter) of the three layouts."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in rng.integers(0, 100_000, rows)],
            "item_id": [f"i{i}" for i in rng.integers(0, 20_000, rows)],
            "city": rng.choice(["Paris", "Rome", "Oslo", "Bern"], rows),
            "device": rng.choice(["ios", "android", "web"], rows),
            "category": [f"c{i}" for i in rng.integers(0, 50, rows)],
            "price": rng.random(rows).round(3),
            "click": rng.integers(0, 2, rows),
            "like": rng.integers(0, 2, rows),
        }
    )
    semicolon = frame.assign(price=frame["price"].map(lambda v: f"{v:.3f}".replace(".", ",")))
    seconds = 1_700_000_000 + rng.integers(0, 10**7, rows)
    dated = frame.assign(event_time=pd.to_datetime(seconds, unit="s").strftime("%Y-%m-%d %H:%M:%S"))
    return {
        "comma": (frame.to_csv(index=False).encode(), ","),
        "semicolon, decimal commas": (semicolon.to_csv(index=False, sep=";").encode(), ";"),
        "comma, text timestamps": (dated.to_csv(index=False).encode(), ","),
    }


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per file")
    parser.add_argument("--repeat", type=int, default=3, help="calls per figure (the best is kept)")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    table = []
    for name, (data, delimiter) in files(args.rows).items():
        read_table(data, "warm.csv")  # imports and first-call costs out of the timings
        ours, theirs = [], []
        for _ in range(args.repeat):  # alternated: a noisy minute moves both
            ours.append(timed(lambda data=data, name=name: read_table(data, f"{name}.csv")))
            theirs.append(timed(lambda data=data, d=delimiter: pd.read_csv(io.BytesIO(data), sep=d)))
        frame = read_table(data, f"{name}.csv").frame
        infer = min(timed(lambda frame=frame: infer_schema(frame)) for _ in range(args.repeat))
        mib = len(data) / 2**20
        table.append(
            [name, f"{mib:,.0f}", f"{min(theirs):.2f}", f"{min(ours):.2f}", f"{min(ours) / min(theirs):.2f}",
             f"{infer:.2f}", f"{args.rows / (min(ours) + infer) / 1e6:.2f}"]
        )  # fmt: skip
    print(f"{args.rows:,} rows per file; seconds, best of {args.repeat}")
    print_table(
        ["file", "MiB", "pandas.read_csv s", "read_table s", "x pandas", "infer_schema s", "M rows/s (read+infer)"],
        table,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
