"""Training throughput (rows/s) of mtlrec's shared-bottom model against torch-rechub and DeepCTR-Torch, on the CPU.

All three train the same shared-bottom shape (embedding width, bottom and tower widths of an mtlrec size preset,
no batch norm, dropout 0) on the same encoded rows, with Adam, the same learning rate and batch size, each through
its own public training call (its own batching and DataLoader), validation on the same rows included. Each
library gets one warm-up call, then `--repeats` timed calls of `--epochs` epochs, interleaved library by library;
the median is reported.

    pip install -r requirements-bench.txt      # the peers, without touching torch (see that file)
    python benchmarks/bench_train.py           # 300k rows, presets small and large, 3 repeats
    python benchmarks/bench_train.py --quick   # a smoke run in well under a minute
    python benchmarks/bench_train.py --presets small --users 100000 --items 20000   # wide id tables
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

os.environ.setdefault("TQDM_DISABLE", "1")  # peers' progress bars: off, as a user timing them would do

import numpy as np
import torch
from _common import BackgroundLoad, machine, print_table, synthetic_table, table_config, wait_for_quiet
from torch import nn

from mtlrec.config import PRECISIONS, SIZE_PRESETS
from mtlrec.data import Prepared, prepare
from mtlrec.encode import Encoded
from mtlrec.models import build_model, count_parameters
from mtlrec.train import Trainer, precision_name, resolve_precision
from mtlrec.weighting import build_weighting

TARGETS = {"small": 2.0, "large": 1.3}  # mtlrec rows/s over the faster peer's
PEERS = ("torch-rechub", "deepctr-torch")
FP32 = "mtlrec fp32"  # mtlrec with --precision fp32, timed beside its default where that is bfloat16
NOISY_CORES = 0.2  # other processes' CPU use during a timed call above which the call is timed again


@dataclass
class Runner:
    """One library's model, ready to train: `fit(train_part)` runs the library's own training call."""

    library: str
    params: int
    fit: Callable[[str], None]  # "warmup" (a tenth of the rows) or "train" (all of them)


def _parts(prepared: Prepared) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(categorical, numeric, labels) per part: train, a tenth of it for the warm-up, and validation."""
    t, v = prepared.train, prepared.val
    k = max(len(t) // 10, 1)
    return {
        "train": (t.categorical, t.numeric, t.labels),
        "warmup": (t.categorical[:k], t.numeric[:k], t.labels[:k]),
        "val": (v.categorical, v.numeric, v.labels),
    }


def mtlrec_runner(prepared: Prepared, size: str, epochs: int, precision: str | None = None) -> Runner:
    config = prepared.config
    precision = precision or config.train.precision
    config = dataclasses.replace(
        config,
        model=dataclasses.replace(config.model, size=size),
        train=dataclasses.replace(config.train, epochs=epochs, patience=0, precision=precision),
    )
    encoder = prepared.encoder
    torch.manual_seed(0)
    model = build_model(config.model, encoder.cardinalities, encoder.numeric_width, len(config.tasks))
    parts = {"train": prepared.train, "warmup": Encoded(*_parts(prepared)["warmup"])}
    device = torch.device("cpu")

    def fit(part: str) -> None:
        weighting = build_weighting(config.weighting, config.tasks)
        Trainer(config.train, config.tasks, weighting).fit(model, parts[part], prepared.val, device)

    return Runner("mtlrec" if precision == prepared.config.train.precision else FP32, count_parameters(model), fit)


def rechub_runner(prepared: Prepared, size: str, epochs: int) -> Runner:
    from torch_rechub.basic.features import DenseFeature, SparseFeature
    from torch_rechub.models.multi_task import SharedBottom
    from torch_rechub.trainers import MTLTrainer
    from torch_rechub.utils.data import DataGenerator

    preset, encoder, tasks = SIZE_PRESETS[size], prepared.encoder, prepared.config.tasks
    features = [
        SparseFeature(name, vocab_size=n, embed_dim=preset["embed_dim"])
        for name, n in zip(encoder.categorical, encoder.cardinalities, strict=True)
    ] + [DenseFeature(name) for name in encoder.numeric_names]
    torch.manual_seed(0)
    model = SharedBottom(
        features,
        task_types=["classification"] * len(tasks),
        bottom_params={"dims": preset["bottom"], "dropout": 0.0, "activation": "relu"},
        tower_params_list=[{"dims": preset["tower"], "dropout": 0.0, "activation": "relu"}] * len(tasks),
    )
    _drop_batch_norm(model)  # torch-rechub's MLP always has BatchNorm1d; the other two are built without it
    lr = prepared.config.train.lr
    model_dir = tempfile.mkdtemp(prefix="bench_rechub_")  # its fit() saves the model there

    def as_dict(categorical: np.ndarray, numeric: np.ndarray) -> dict[str, np.ndarray]:
        x = {name: categorical[:, j] for j, name in enumerate(encoder.categorical)}
        x.update({name: numeric[:, j] for j, name in enumerate(encoder.numeric_names)})
        return x

    parts = _parts(prepared)
    x_val, y_val = as_dict(*parts["val"][:2]), parts["val"][2]
    loaders = {}
    for part in ("train", "warmup"):
        cat, num, y = parts[part]
        loaders[part] = DataGenerator(as_dict(cat, num), y).generate_dataloader(
            x_val, y_val, x_val, y_val, batch_size=prepared.config.train.batch_size
        )
    trainer = MTLTrainer(
        model,
        task_types=["classification"] * len(tasks),
        optimizer_params={"lr": lr, "weight_decay": 0.0},
        n_epoch=epochs,
        earlystop_patience=10**6,
        device="cpu",
        model_path=model_dir,
    )

    def fit(part: str) -> None:
        train_loader, val_loader, _ = loaders[part]
        trainer.fit(train_loader, val_loader)

    return Runner("torch-rechub", count_parameters(model), fit)


def _drop_batch_norm(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm1d):
            setattr(module, name, nn.Identity())
        else:
            _drop_batch_norm(child)


def deepctr_runner(prepared: Prepared, size: str, epochs: int) -> Runner:
    from deepctr_torch.inputs import DenseFeat, SparseFeat
    from deepctr_torch.models.multitask import SharedBottom

    preset, encoder, tasks = SIZE_PRESETS[size], prepared.encoder, prepared.config.tasks
    columns = [
        SparseFeat(name, vocabulary_size=n, embedding_dim=preset["embed_dim"])
        for name, n in zip(encoder.categorical, encoder.cardinalities, strict=True)
    ] + [DenseFeat(name, 1) for name in encoder.numeric_names]
    model = SharedBottom(
        columns,
        bottom_dnn_hidden_units=tuple(preset["bottom"]),
        tower_dnn_hidden_units=tuple(preset["tower"]),
        l2_reg_linear=0.0,  # mtlrec adds no penalty; DeepCTR's default L2 sums whole embedding tables every batch
        l2_reg_embedding=0.0,
        l2_reg_dnn=0.0,
        dnn_dropout=0.0,
        dnn_use_bn=False,
        task_types=["binary"] * len(tasks),
        task_names=[t.name for t in tasks],
        seed=0,
        device="cpu",
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=prepared.config.train.lr)
    model.compile(optimizer, loss=["binary_crossentropy"] * len(tasks), metrics=["auc"])

    def as_dict(categorical: np.ndarray, numeric: np.ndarray) -> dict[str, np.ndarray]:
        x = {name: categorical[:, j] for j, name in enumerate(encoder.categorical)}
        x.update({name: numeric[:, j] for j, name in enumerate(encoder.numeric_names)})
        return x

    parts = _parts(prepared)
    val = (as_dict(*parts["val"][:2]), parts["val"][2])

    def fit(part: str) -> None:
        cat, num, y = parts[part]
        batch_size = prepared.config.train.batch_size
        # verbose=0: no progress bar and no per-batch training AUC (verbose=1 computes one every batch)
        model.fit(as_dict(cat, num), y, batch_size=batch_size, epochs=epochs, verbose=0, validation_data=val)

    return Runner("deepctr-torch", count_parameters(model), fit)


BUILDERS = {
    "mtlrec": mtlrec_runner,
    FP32: functools.partial(mtlrec_runner, precision="fp32"),
    "torch-rechub": rechub_runner,
    "deepctr-torch": deepctr_runner,
}


def libraries(prepared: Prepared, size: str) -> tuple[str, ...]:
    """mtlrec, mtlrec again in float32 when its precision resolves to bfloat16 for this preset here, then the peers."""
    return ("mtlrec", *((FP32,) if mtlrec_precision(prepared, size) == "bf16" else ()), *PEERS)


def mtlrec_precision(prepared: Prepared, size: str) -> str:
    """What mtlrec's training of this preset runs its products in here: "bf16" or "fp32"."""
    config, encoder = prepared.config, prepared.encoder
    model = build_model(
        dataclasses.replace(config.model, size=size), encoder.cardinalities, encoder.numeric_width, len(config.tasks)
    )
    return precision_name(resolve_precision(config.train.precision, torch.device("cpu"), model))


def quietly(fn: Callable[[], None]) -> None:
    """Call fn with the peers' prints swallowed (they print per epoch; timing a terminal is not the point)."""
    with contextlib.redirect_stdout(io.StringIO()):
        fn()


def timed_call(runner: Runner, args) -> tuple[float, float]:
    """Seconds of one training call and the cores other processes used meanwhile.

    On a shared machine a call during which others kept a core busy is timed again (up to --retries times):
    with 2 threads on 2 cores, one busy core slows a PyTorch loop several-fold, and that says nothing about
    the library.
    """
    for _ in range(args.retries + 1):
        wait_for_quiet(args.wait_quiet)
        start = time.perf_counter()
        with BackgroundLoad() as load:
            quietly(lambda: runner.fit("train"))
        seconds, busy = time.perf_counter() - start, load.cores or 0.0
        if busy < NOISY_CORES:
            break
    return seconds, busy


def bench_preset(prepared: Prepared, size: str, args) -> dict[str, dict]:
    """Build each library's model, warm it up, then time interleaved repeats. Returns per-library results."""
    results: dict[str, dict] = {}
    runners: list[Runner] = []
    print(f"  {size}: mtlrec trains in {mtlrec_precision(prepared, size)}", flush=True)
    for library in libraries(prepared, size):
        try:
            runner = BUILDERS[library](prepared, size, args.epochs)
            quietly(lambda r=runner: r.fit("warmup"))
        except Exception as exc:  # a peer that does not install or run is reported, not fatal
            if library.startswith("mtlrec"):
                raise
            print(f"  {library}: skipped ({type(exc).__name__}: {exc})", flush=True)
            results[library] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        runners.append(runner)
        results[library] = {"params": runner.params, "seconds": [], "background": []}
    rows = len(prepared.train) * args.epochs
    for repeat in range(args.repeats):
        for runner in list(runners):
            try:
                seconds, busy = timed_call(runner, args)
            except Exception as exc:
                if runner.library.startswith("mtlrec"):
                    raise
                results[runner.library] = {"error": f"{type(exc).__name__}: {exc}"}
                runners.remove(runner)
                continue
            results[runner.library]["seconds"].append(seconds)
            results[runner.library]["background"].append(busy)
            print(
                f"  {size:<6} repeat {repeat + 1}/{args.repeats}  {runner.library:<14} {seconds:7.2f} s  "
                f"{rows / seconds:>9,.0f} rows/s  (other processes: {busy:.2f} cores)",
                flush=True,
            )
    for r in results.values():
        if r.get("seconds"):
            calls = list(zip(r["seconds"], r["background"], strict=True))
            # Calls that stayed noisy after the retries are left out of the median when quiet ones exist.
            kept = [c for c in calls if c[1] < NOISY_CORES] or calls
            r["median_s"] = statistics.median(seconds for seconds, _ in kept)
            r["rows_per_s"] = rows / r["median_s"]
            r["best_rows_per_s"] = rows / min(r["seconds"])
            r["calls"] = f"{sum(busy < NOISY_CORES for _, busy in calls)}/{len(calls)}"
            r["background"] = max(busy for _, busy in kept)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000, help="rows in the synthetic table (80%% train)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per timed call")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per library and preset")
    parser.add_argument("--presets", default="small,large", help="comma-separated mtlrec size presets")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads, the same for every library")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=30.0,
        help="before each timed call, wait up to this many seconds for other processes to leave the CPU idle",
    )
    parser.add_argument(
        "--retries", type=int, default=2, help="times a call is re-timed when other processes took CPU during it"
    )
    parser.add_argument("--users", type=int, default=5000, help="distinct user ids (real logs: 10^5 and more)")
    parser.add_argument("--items", type=int, default=2000, help="distinct item ids")
    parser.add_argument("--batch-size", type=int, default=None, help="the same for every library (default mtlrec's)")
    parser.add_argument(
        "--precision", choices=PRECISIONS, default=None,
        help="mtlrec's training precision (default mtlrec's, auto); float32 is timed too when it resolves to bf16",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="smoke run: 20k rows, 1 repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats = 20_000, 1
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    unknown = [p for p in presets if p not in SIZE_PRESETS]
    if unknown:
        parser.error(f"unknown preset(s) {', '.join(unknown)}; choose from {', '.join(SIZE_PRESETS)}")
    torch.set_num_threads(args.threads)

    frame = synthetic_table(args.rows, n_users=args.users, n_items=args.items)
    config = table_config(frame, epochs=args.epochs, test_frac=0.1, val_frac=0.1)
    if args.batch_size:
        config.train.batch_size = args.batch_size
    if args.precision:
        config.train.precision = args.precision
    prepare_seconds = []
    for _ in range(args.repeats):
        wait_for_quiet(args.wait_quiet)
        start = time.perf_counter()
        prepared = prepare(config, frame)
        prepare_seconds.append(time.perf_counter() - start)
    prepare_s = statistics.median(prepare_seconds)
    n_train = len(prepared.train)
    print(f"machine: {machine()}")
    print(
        f"data: {len(frame):,} rows x {frame.shape[1]} columns -> {n_train:,} train / {len(prepared.val):,} val rows; "
        f"{len(config.data.categorical)} categorical (cardinalities {prepared.encoder.cardinalities}), "
        f"{prepared.encoder.numeric_width} numeric, {len(config.tasks)} binary tasks"
    )
    print(
        f"batch {config.train.batch_size}, Adam lr {config.train.lr:g}, mtlrec precision {config.train.precision}, "
        f"{args.epochs} epoch(s) per timed call "
        f"after a warm-up, median of {args.repeats}; mtlrec prepare(): {prepare_s:.2f} s (median)\n"
    )

    all_results = {size: bench_preset(prepared, size, args) for size in presets}
    report(all_results, n_train * args.epochs, prepare_s)
    return 0


def report(all_results: dict[str, dict[str, dict]], rows_trained: int, prepare_s: float) -> None:
    """The results table, then one verdict line per preset against the targets."""
    headers = ["library", "preset", "params", "vs mtlrec", "median s", "rows/s (median)", "best rows/s",
               "mtlrec fit / this", "mtlrec incl. prepare / this", "quiet calls", "busy others"]  # fmt: skip
    table, verdicts, noisy = [], [], 0.0
    for size, results in all_results.items():
        ours = results["mtlrec"]
        incl_rate = rows_trained / (prepare_s + ours["median_s"])
        peer_rates = {}
        mine = [("mtlrec", ours), *([(FP32, results[FP32])] if FP32 in results else [])]
        for library, r in [*mine, *[(p, results.get(p, {})) for p in PEERS]]:
            if "rows_per_s" not in r:
                table.append([library, size, "-", "-", "-", f"failed: {r.get('error', 'not run')}"[:60]] + ["-"] * 5)
                continue
            noisy = max(noisy, r["background"])
            row = [library + (" (fit only)" if library == "mtlrec" else ""), size, f"{r['params']:,}",
                   f"{r['params'] / ours['params']:.3f}", f"{r['median_s']:.2f}", f"{r['rows_per_s']:,.0f}",
                   f"{r['best_rows_per_s']:,.0f}"]  # fmt: skip
            if library == FP32:
                table.append([*row, f"{ours['rows_per_s'] / r['rows_per_s']:.2f}x", "-", r["calls"],
                              f"{r['background']:.2f}"])  # fmt: skip
                continue
            if library == "mtlrec":
                table.append([*row, "-", "-", r["calls"], f"{r['background']:.2f}"])
                table.append(["mtlrec (incl. prepare)", size, row[2], row[3], f"{prepare_s + r['median_s']:.2f}",
                              f"{incl_rate:,.0f}", "-", "-", "-", r["calls"], f"{r['background']:.2f}"])  # fmt: skip
                continue
            peer_rates[library] = rate = r["rows_per_s"]
            table.append(
                [*row, f"{ours['rows_per_s'] / rate:.2f}x", f"{incl_rate / rate:.2f}x", r["calls"],
                 f"{r['background']:.2f}"]
            )  # fmt: skip
        if peer_rates:
            fastest = max(peer_rates, key=peer_rates.get)
            ratio = ours["rows_per_s"] / peer_rates[fastest]
            target = TARGETS.get(size)
            held = "no target" if target is None else f"target >= {target}x {'HOLDS' if ratio >= target else 'MISSED'}"
            best = ours["best_rows_per_s"] / max(results[p]["best_rows_per_s"] for p in peer_rates)
            verdicts.append(
                f"{size}: mtlrec fit {ratio:.2f}x the faster peer ({fastest}), {held}; "
                f"including prepare() {incl_rate / peer_rates[fastest]:.2f}x; best call vs best call {best:.2f}x"
            )
            if results.get(FP32, {}).get("rows_per_s"):
                fp32 = results[FP32]["rows_per_s"] / peer_rates[fastest]
                verdicts.append(f"{size}: mtlrec with --precision fp32 {fp32:.2f}x the faster peer")
    print_table(headers, table)
    print()
    for line in verdicts:
        print(line)
    print(
        f"quiet calls: timed calls during which other processes used < {NOISY_CORES} cores (the median is over "
        "those when there are any); busy others: the most cores they used during a call in that median"
    )
    if noisy > NOISY_CORES:
        print(
            f"WARNING: other processes used up to {noisy:.2f} cores during the timings; figures from a shared "
            "machine are not comparable (a 2-thread OpenMP loop slows down many times when a core is taken)"
        )


if __name__ == "__main__":
    raise SystemExit(main())
