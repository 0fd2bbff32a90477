"""Top-K for every user (Recommend's CSV, `recommend --all-users`): the inputs of every user x item pair.

Before, each batch of users was built as a table of user x item rows (each user's latest row repeated once per
item, the item columns put in) and encoded whole; now each user's latest row is encoded once and the items once,
and the pairs are put together from the encoded arrays (Recommender._pairs). Both are timed here in one process,
on the same users, with the whole scoring (model included) beside them, and checked equal.

    python benchmarks/bench_recommend.py                 # 200,000 rows, 2,000 items, 250 users scored
    python benchmarks/bench_recommend.py --users 1000
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import machine, synthetic_table, table_config

from mtlrec.experiment import run_experiment
from mtlrec.recommend import Recommender


def encoded_row_by_row(recommender: Recommender, users: list):
    """The former way: the user x item table built, then encoded."""
    n_items = len(recommender.items)
    latest = [recommender._rows_of(user)[-1] for user in users]
    rows = recommender.frame.iloc[np.repeat(latest, n_items)].reset_index(drop=True)
    for c in recommender.items.columns:
        rows[c] = np.tile(recommender.items[c].to_numpy(), len(users))
    for c, value in recommender.shown_at.items():
        rows[c] = value
    return recommender.encoder.transform(rows, labels=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    frame = synthetic_table(args.rows)
    config = table_config(frame, size="tiny", epochs=1)
    result = run_experiment(config, frame)
    recommender = Recommender(result.model, result.encoder, config, frame)
    users = recommender.users()[: args.users]
    items = recommender._encoded_items()
    pairs = len(users) * len(recommender.items)
    before, after, whole = [], [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        old = encoded_row_by_row(recommender, users)
        before.append(time.perf_counter() - started)
        started = time.perf_counter()
        new = recommender._pairs(users, items)
        after.append(time.perf_counter() - started)
        started = time.perf_counter()
        recommender.recommend_all(k=10, users=users)
        whole.append(time.perf_counter() - started)
    assert np.array_equal(old.categorical, new.categorical) and np.array_equal(old.numeric, new.numeric)
    b, a, w = (statistics.median(t) for t in (before, after, whole))
    print(f"{len(users):,} users x {len(recommender.items):,} items = {pairs:,} pairs (median of {args.repeat})")
    print(f"  inputs, table built and encoded: {b:.2f} s")
    print(f"  inputs, rows encoded once:       {a:.2f} s   ({b / a:.1f}x faster)")
    print(f"  recommend_all, scoring included: {w:.2f} s   ({pairs / w:,.0f} pairs/s)")


if __name__ == "__main__":
    main()
