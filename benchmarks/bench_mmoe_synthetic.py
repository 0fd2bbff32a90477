"""The MMoE paper's synthetic experiment (Ma et al., KDD 2018, section 3.2): Shared-Bottom vs MMoE by task correlation.

Two regression tasks on x ~ N(0, I_100):  y_k = w_k'x + sum_{i=1..10} sin(alpha_i w_k'x + beta_i) + noise,
with w1 = c u1 and w2 = c (p u1 + sqrt(1 - p^2) u2) for orthogonal unit vectors u1, u2, so that the cosine of the
two weight vectors is the chosen correlation p. alpha_i, beta_i ~ N(0, 1) are drawn once per dataset and shared by
both tasks; the noise is N(0, 0.01), read as variance 0.01 (sd 0.1). As published, both models do better at higher
correlation and MMoE degrades less than Shared-Bottom as the correlation falls.

Protocol, and where it follows the paper:
- Seed s fixes u1, u2, alpha, beta, the rows x and the initial weights, for every model and every correlation:
  task 1 is the very same problem at every p and only w2 moves. Comparisons are therefore paired (common random
  numbers): "MMoE - SB" and "MSE(p) - MSE(+1)" are taken per seed before averaging, which cancels most of the
  dataset-to-dataset spread (how hard a draw of alpha makes the sines). The paper averages 200 runs per setting.
- Labels are standardised with the training set's mean and sd per task, as mtlrec's encoder does for every
  regression task (mtlrec/encode.py). Unstandardised, the label mean sum_i sin(beta_i) lands anywhere in about
  [-3, 3] for sd ~1.2, and much of a run goes into moving the output bias, differently per seed. Losses are
  reported in these standardised units, i.e. MSE / Var(y) (1 - R^2), so seeds with more or less sine
  variance are on one scale.
- The paper's figures (Figs. 4-5) plot the training loss against training steps, i.e. convergence, not a final
  test score; so the training loss (each epoch's mean batch loss, both tasks averaged) is reported after 1/4, 1/2
  and all of the epochs, next to the test MSE of the model kept by validation.
- Shapes as in the paper's section 4.3: a single-layer shared bottom of 113 units, 8 single-layer experts for
  MMoE, towers of 8 units. mtlrec's registry sizes the experts to Shared-Bottom's parameter count (14 units each,
  gates included), where the paper used 16 and matched experts + towers only.
- The paper grid-searches Adam's learning rate over {1e-4, 1e-3, 1e-2} per model; this benchmark uses one
  (--lr) for both and reports it.

    python benchmarks/bench_mmoe_synthetic.py            # 10 seeds x 4 correlations x 2 models, 30 epochs
    python benchmarks/bench_mmoe_synthetic.py --quick    # 3 seeds, 8 epochs, 5k training rows
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import time
from functools import partial

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
SHORT = {"shared_bottom": "SB", "mmoe": "MMoE"}
TASKS = [TaskSpec("y1", "regression"), TaskSpec("y2", "regression")]
# The paper's shapes: Shared-Bottom 113 -> towers of 8; MMoE 8 experts (widths matched to the same budget).
MODEL = ModelConfig(size="tiny", embed_dim=1, bottom=[113], tower=[8], experts=8)
FRACTIONS = (0.25, 0.5, 1.0)  # of the epochs, where the training loss is read


@dataclasses.dataclass
class Result:
    test: float  # test MSE in standardised units, mean of both tasks
    train: list[float]  # training loss after each of FRACTIONS of the epochs (standardised units)
    params: int


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


def checkpoints(epochs: int) -> list[int]:
    """The epochs (1-based) after which the training loss is read: 1/4, 1/2 and all of them."""
    return [max(1, math.ceil(f * epochs)) for f in FRACTIONS]


def run(kind: str, correlation: float, seed: int, args) -> Result:
    """One model on the dataset of (seed, correlation): test MSE and training-loss checkpoints, standardised units."""
    rng = np.random.default_rng(seed)
    x, y, params = synthetic(args.train_rows, correlation, args.scale, rng)
    x_val, y_val, _ = synthetic(args.test_rows, correlation, args.scale, rng, params)
    x_test, y_test, _ = synthetic(args.test_rows, correlation, args.scale, rng, params)
    if not args.raw_labels:  # with the training set's mean and sd, as mtlrec's encoder standardises targets
        mean, std = y.mean(axis=0), y.std(axis=0)
        y, y_val, y_test = ((v - mean) / std for v in (y, y_val, y_test))
    torch.manual_seed(seed)
    model = build_model(dataclasses.replace(MODEL, kind=kind), [], DIM, len(TASKS), tasks=TASKS)
    train = TrainConfig(
        lr=args.lr, batch_size=args.batch_size, epochs=args.epochs, patience=0, seed=seed, device="cpu",
        log_every=0, diagnostics=False,
    )  # fmt: skip
    trainer = Trainer(train, TASKS, build_weighting(WeightingConfig(), TASKS))
    trainer.fit(model, encoded(x, y), encoded(x_val, y_val), torch.device("cpu"))
    if trainer.status_ != "finished":
        raise RuntimeError(f"{kind} at p = {correlation}, seed {seed}: {trainer.message_}")
    history = trainer.history_
    train_curve = [
        statistics.mean(history[e - 1][f"{t.name}/train_loss"] for t in TASKS) for e in checkpoints(args.epochs)
    ]
    pred = predict_raw(model, encoded(x_test, y_test), torch.device("cpu"))
    return Result(float(((pred - y_test) ** 2).mean()), train_curve, count_parameters(model))


def summary(values: list[float], signed: bool = False) -> str:
    """'mean ± sd' over seeds."""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):{'+' if signed else ''}.3f} ± {spread:.3f}"


def paired(a: list[float], b: list[float]) -> str:
    """Per-seed differences a - b: 'mean ± sd (k/n negative)'."""
    differences = [x - y for x, y in zip(a, b, strict=True)]
    below = sum(d < 0 for d in differences)
    return f"{summary(differences, signed=True)} ({below}/{len(differences)} < 0)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--train-rows", type=int, default=10_000)
    parser.add_argument("--test-rows", type=int, default=5_000, help="rows in the test set (and in the validation set)")
    parser.add_argument("--scale", type=float, default=1.0, help="c, the norm of both weight vectors")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--correlations", type=float, nargs="+", default=list(CORRELATIONS), help="p values")
    parser.add_argument(
        "--raw-labels", action="store_true", help="train and score on the unstandardised labels (the old protocol)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine may be shared)")
    parser.add_argument("--quick", action="store_true", help="3 seeds, 8 epochs, 5k training rows")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs, args.train_rows = 3, 8, 5_000
    torch.set_num_threads(args.threads)
    correlations = args.correlations

    print(machine())
    print(
        f"{args.seeds} seeds, {args.epochs} epochs, {args.train_rows} training / {args.test_rows} validation / "
        f"{args.test_rows} test rows, c = {args.scale}, Adam lr {args.lr}, batch {args.batch_size}; "
        + (
            "raw labels, losses on their own scale\n"
            if args.raw_labels
            else "labels standardised with the training mean and sd, losses in those units (MSE / Var(y))\n"
        )
    )
    start = time.perf_counter()
    results: dict[tuple[str, float], list[Result]] = {}
    for correlation in correlations:
        for kind in MODELS:
            for seed in range(args.seeds):
                results.setdefault((kind, correlation), []).append(run(kind, correlation, seed, args))
    params = {kind: results[kind, correlations[0]][0].params for kind in MODELS}
    print("parameters: " + ", ".join(f"{kind} {n:,}" for kind, n in params.items()) + "\n")

    def test(kind: str, correlation: float) -> list[float]:
        return [r.test for r in results[kind, correlation]]

    def train(kind: str, correlation: float, k: int) -> list[float]:
        return [r.train[k] for r in results[kind, correlation]]

    headers = ["", *(f"p = {c:+.1f}" for c in correlations)]
    steps = math.ceil(args.train_rows / args.batch_size)
    labels = [f"epoch {e} (step {e * steps})" for e in checkpoints(args.epochs)]

    print("1. training loss (the paper's Figs. 4-5: convergence), mean ± sd over seeds")
    rows = [
        [f"{SHORT[kind]}, {label}", *(summary(train(kind, c, k)) for c in correlations)]
        for kind in MODELS
        for k, label in enumerate(labels)
    ]
    print_table(headers, rows)

    print("\n2. test MSE of the model kept by validation, mean ± sd over seeds")
    print_table(headers, [[SHORT[kind], *(summary(test(kind, c)) for c in correlations)] for kind in MODELS])

    print("\n3. MMoE - SB on the same dataset and initial seed: mean ± sd of the per-seed difference (seeds < 0)")
    rows = [
        [f"training loss, {label}", *(paired(train("mmoe", c, k), train("shared_bottom", c, k)) for c in correlations)]
        for k, label in enumerate(labels)
    ]
    rows.append(["test MSE", *(paired(test("mmoe", c), test("shared_bottom", c)) for c in correlations)])
    print_table(headers, rows)

    first = correlations[0]
    print(f"\n4. degradation: per-seed loss(p) - loss(p = {first:+.1f}) of each model, and MMoE's minus SB's")
    metrics = [(f"training loss, {label}", partial(train, k=k)) for k, label in enumerate(labels)]
    rows = []
    for name, metric in [*metrics, ("test MSE", test)]:

        def degradation(kind: str, c: float, metric=metric) -> list[float]:
            return [a - b for a, b in zip(metric(kind, c), metric(kind, first), strict=True)]

        for kind in MODELS:
            rows.append([f"{SHORT[kind]}, {name}", *(summary(degradation(kind, c), signed=True) for c in correlations)])
        rows.append(
            [
                f"MMoE - SB, {name}",
                *(paired(degradation("mmoe", c), degradation("shared_bottom", c)) for c in correlations),
            ]
        )
    print_table(headers, rows)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
