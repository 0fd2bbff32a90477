"""Encoding a multi-valued column (genres 'Action|Comedy', tags): mtlrec's encoder against splitting every row.

The encoder splits each distinct value once and gathers its inputs row by row (mtlrec.encode.Encoder.token_inputs);
the reference splits every row with pandas (str.split + explode), as a first version did. Two columns of 1M rows:
genre lists (400 distinct values, 20 genres) and tag lists (500k distinct values, 3,000 tags). Printed: the best of
--repeat fits and transforms each, the reference alternated with mtlrec in one process, the ratio, and the same
column encoded as one category for scale.

    python benchmarks/bench_tokens.py                # 1M rows
    python benchmarks/bench_tokens.py --rows 200000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _common import machine, print_table

from mtlrec.config import TaskSpec
from mtlrec.encode import Encoder
from mtlrec.tokens import split_tokens


def columns(rows: int) -> dict[str, pd.Series]:
    rng = np.random.default_rng(0)
    genres = np.array([f"g{i}" for i in range(20)])
    combos = np.array(
        ["|".join(rng.choice(genres, size=rng.integers(1, 4), replace=False)) for _ in range(400)], dtype=object
    )
    tags = np.array([f"t{i}" for i in range(3000)])
    half = ["|".join(tags[rng.integers(0, 3000, rng.integers(1, 6))]) for _ in range(rows // 2)]
    return {
        "genres (400 distinct)": pd.Series(combos[rng.integers(0, 400, rows)]),
        "tags (half distinct)": pd.Series(np.array(half + half, dtype=object)),
    }


def row_by_row(encoder: Encoder, column: str, values: pd.Series) -> np.ndarray:
    """The reference: every row split (the first version of token_inputs)."""
    vocab = encoder.tokens_[column]
    out = np.zeros((len(values), len(vocab) + 1), dtype=np.float32)
    rows, tokens = split_tokens(values, encoder.token_sep_[column])
    found = pd.Index(vocab, dtype=object).get_indexer(tokens)
    found[found < 0] = len(vocab)
    per_row = np.bincount(rows, minlength=len(values))
    np.add.at(out, (rows, found), (1.0 / per_row[rows]).astype(np.float32))
    return out


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(name: str, values: pd.Series, repeat: int) -> list[str]:
    """One column's row of the table: fit, transform, the row-by-row reference, their ratio, as a category."""
    frame = pd.DataFrame({"g": values, "y": 0})
    encoder = Encoder([], [], [TaskSpec("y")], multi=["g"]).fit(frame)
    assert np.array_equal(encoder.token_inputs("g", values), row_by_row(encoder, "g", values))
    ours, theirs = [], []
    for _ in range(repeat):  # alternated: a noisy machine slows both alike
        ours.append(best(lambda: encoder.token_inputs("g", values), 1))
        theirs.append(best(lambda: row_by_row(encoder, "g", values), 1))
    fit = best(lambda: Encoder([], [], [TaskSpec("y")], multi=["g"]).fit(frame), repeat)
    category = best(lambda: Encoder(["g"], [], [TaskSpec("y")]).fit(frame).transform(frame), repeat)
    return [name, f"{fit:.2f}", f"{min(ours):.2f}", f"{min(theirs):.2f}", f"{min(theirs) / min(ours):.1f}x",
            f"{category:.2f}"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    rows = [measure(name, values, args.repeat) for name, values in columns(args.rows).items()]
    print(f"{args.rows:,} rows; seconds, best of {args.repeat}")
    print_table(["column", "fit", "transform", "row by row", "speed-up", "as a category"], rows)


if __name__ == "__main__":
    main()
