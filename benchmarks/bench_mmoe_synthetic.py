"""The MMoE paper's synthetic experiment (Ma et al., KDD 2018, section 3.2): Shared-Bottom vs MMoE by task correlation.

Two regression tasks on x ~ N(0, I_100):  y_k = w_k'x + sum_{i=1..10} sin(alpha_i w_k'x + beta_i) + noise,
with w1 = c u1 and w2 = c (p u1 + sqrt(1 - p^2) u2) for orthogonal unit vectors u1, u2, so that the cosine of the
two weight vectors is the chosen correlation p. alpha_i, beta_i ~ N(0, 1) are drawn once per dataset; the noise is
N(0, 0.01). As published, both models do better at higher correlation and MMoE degrades less than Shared-Bottom as
the correlation falls.

Both models come from mtlrec's registry at the same parameter budget (the paper's shapes: a shared bottom of 113
units, 8 experts for MMoE, towers of 8) and train through mtlrec's Trainer on numeric inputs only; the test MSE is
on the labels' own scale, averaged over the two tasks.

    python benchmarks/bench_mmoe_synthetic.py            # 5 seeds x 4 correlations x 2 models, 30 epochs
    python benchmarks/bench_mmoe_synthetic.py --quick    # 3 seeds, 8 epochs, 5k training rows
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import numpy as np
import torch
from _common import machine, print_table

from mtlrec.config import ModelConfig, TaskSpec, TrainConfig, WeightingConfig
from mtlrec.encode import Encoded
from mtlrec.models import build_model, count_parameters
from mtlrec.train import Trainer, predict_raw
from mtlrec.weighting import build_weighting

DIM = 100  # input dimension
SINES = 10  # m, the number of sine terms
NOISE_VARIANCE = 0.01
CORRELATIONS = (1.0, 0.5, 0.0, -0.5)
MODELS = ("shared_bottom", "mmoe")
TASKS = [TaskSpec("y1", "regression"), TaskSpec("y2", "regression")]
# The paper's shapes: Shared-Bottom 113 -> towers of 8; MMoE 8 experts (widths matched to the same budget).
MODEL = ModelConfig(size="tiny", embed_dim=1, bottom=[113], tower=[8], experts=8)


def synthetic(n: int, correlation: float, scale: float, rng: np.random.Generator, params=None):
    """(x, y) with y of shape (n, 2); params = (w1, w2, alpha, beta) are drawn when None and returned for reuse."""
    if params is None:
        u1, u2 = np.linalg.qr(rng.standard_normal((DIM, 2)))[0].T  # two orthonormal vectors
        w1 = scale * u1
        w2 = scale * (correlation * u1 + np.sqrt(1 - correlation**2) * u2)
        params = (w1, w2, rng.standard_normal(SINES), rng.standard_normal(SINES))
    w1, w2, alpha, beta = params
    x = rng.standard_normal((n, DIM))
    columns = []
    for w in (w1, w2):
        wx = x @ w  # (n,)
        sines = np.sin(np.outer(wx, alpha) + beta).sum(axis=1)
        columns.append(wx + sines + rng.normal(0.0, np.sqrt(NOISE_VARIANCE), n))
    return x.astype(np.float32), np.stack(columns, axis=1).astype(np.float32), params


def encoded(x: np.ndarray, y: np.ndarray) -> Encoded:
    return Encoded(np.zeros((len(x), 0), dtype=np.int64), x, y)


def run(kind: str, correlation: float, seed: int, args) -> tuple[float, int]:
    """(test MSE averaged over both tasks, parameter count) of one model on one dataset."""
    rng = np.random.default_rng(seed)
    x, y, params = synthetic(args.train_rows, correlation, args.scale, rng)
    x_val, y_val, _ = synthetic(args.test_rows, correlation, args.scale, rng, params)
    x_test, y_test, _ = synthetic(args.test_rows, correlation, args.scale, rng, params)
    torch.manual_seed(seed)
    model = build_model(dataclasses.replace(MODEL, kind=kind), [], DIM, len(TASKS), tasks=TASKS)
    train = TrainConfig(
        lr=args.lr, batch_size=args.batch_size, epochs=args.epochs, patience=0, seed=seed, device="cpu",
        log_every=0, diagnostics=False,
    )  # fmt: skip
    trainer = Trainer(train, TASKS, build_weighting(WeightingConfig(), TASKS))
    trainer.fit(model, encoded(x, y), encoded(x_val, y_val), torch.device("cpu"))
    pred = predict_raw(model, encoded(x_test, y_test), torch.device("cpu"))
    return float(((pred - y_test) ** 2).mean()), count_parameters(model)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--train-rows", type=int, default=10_000)
    parser.add_argument("--test-rows", type=int, default=1_000, help="rows in the test set (and in the validation set)")
    parser.add_argument("--scale", type=float, default=1.0, help="c, the norm of both weight vectors")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine may be shared)")
    parser.add_argument("--quick", action="store_true", help="3 seeds, 8 epochs, 5k training rows")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs, args.train_rows = 3, 8, 5_000
    torch.set_num_threads(args.threads)

    print(machine())
    print(
        f"{args.seeds} seeds, {args.epochs} epochs, {args.train_rows} training / {args.test_rows} validation / "
        f"{args.test_rows} test rows, c = {args.scale}, Adam lr {args.lr}, batch {args.batch_size}\n"
    )
    start = time.perf_counter()
    results: dict[tuple[str, float], list[float]] = {}
    params: dict[str, int] = {}
    for correlation in CORRELATIONS:
        for kind in MODELS:
            for seed in range(args.seeds):
                mse, params[kind] = run(kind, correlation, seed, args)
                results.setdefault((kind, correlation), []).append(mse)
    print("parameters: " + ", ".join(f"{kind} {n:,}" for kind, n in params.items()) + "\n")
    rows = []
    for kind in MODELS:
        row = [kind]
        for correlation in CORRELATIONS:
            values = results[kind, correlation]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            row.append(f"{statistics.mean(values):.3f} ± {spread:.3f}")
        rows.append(row)
    # Both models see the same dataset for a seed: their per-seed difference removes the dataset-to-dataset spread.
    paired = ["mmoe - shared_bottom"]
    for correlation in CORRELATIONS:
        pairs = zip(results["mmoe", correlation], results["shared_bottom", correlation], strict=True)
        differences = [m - s for m, s in pairs]
        spread = statistics.stdev(differences) if len(differences) > 1 else 0.0
        paired.append(f"{statistics.mean(differences):+.3f} ± {spread:.3f}")
    rows.append(paired)
    print("test MSE (mean ± standard deviation over seeds) by task correlation p")
    print_table(["model", *(f"p = {c:+.1f}" for c in CORRELATIONS)], rows)
    drops = {
        kind: statistics.mean(results[kind, CORRELATIONS[-1]]) - statistics.mean(results[kind, CORRELATIONS[0]])
        for kind in MODELS
    }
    print(
        f"\nMSE increase from p = {CORRELATIONS[0]:+.1f} to p = {CORRELATIONS[-1]:+.1f}: "
        + ", ".join(f"{kind} {d:+.3f}" for kind, d in drops.items())
    )
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
