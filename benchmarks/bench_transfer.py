"""Transfer by task correlation: what sharing gains or costs each task in a synthetic world (README, "A world of
your own, for teaching negative transfer").

For each correlation and seed: a world of mtlrec.sample (Home's "Generate a synthetic world": the same users, items
and draws at every correlation, only the tasks' signals mixed differently), the default multi-task model and its
single-task baseline (mtlrec.gain.single_task_config, as Results' "Compare with single-task"), and per task the
test AUC gained by sharing with its noise (two paired standard errors, mtlrec.gain.paired_noise). The seed fixes
the world and the runs.

    python benchmarks/bench_transfer.py                               # click and like, 0.9 / 0 / -0.9, seeds 0-2
    python benchmarks/bench_transfer.py --tasks click,like,purchase,watch_time --seeds 0
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (puts the checkout on the path)

from mtlrec.config import ExperimentConfig, ModelConfig, TrainConfig
from mtlrec.data import propose_schema
from mtlrec.experiment import run_experiment
from mtlrec.gain import mtl_gain, paired_noise, single_task_config
from mtlrec.sample import SyntheticSpec, SyntheticWorld


def gains(correlation: float, seed: int, tasks: list[str], size: str, rows: int):
    frame = SyntheticWorld(SyntheticSpec(task_correlation=correlation, seed=seed, n_rows=rows)).sample()
    proposal = propose_schema(frame, "world")
    chosen = [t for t in proposal.tasks if t.name in tasks]
    config = ExperimentConfig(
        data=proposal.data, tasks=chosen, model=ModelConfig(size=size), train=TrainConfig(device="cpu", seed=seed)
    )
    multi = run_experiment(config, frame)
    single = run_experiment(single_task_config(config), frame)
    noise = paired_noise(multi.predictions, single.predictions, config.tasks)
    table = mtl_gain(multi.metrics["tasks"], single.metrics["tasks"], config.tasks, noise=noise)
    return table[table["main"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--correlations", default="0.9,0,-0.9")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--tasks", default="click,like")
    parser.add_argument("--size", default="small")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    tasks = args.tasks.split(",")
    print(f"{args.size} shared-bottom vs single-task, {args.rows:,} rows; gain in test AUC (RMSE for regression: "
          "positive = sharing better), '*' beyond noise")  # fmt: skip
    for correlation in (float(c) for c in args.correlations.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):
            start = time.perf_counter()
            table = gains(correlation, seed, tasks, args.size, args.rows)
            cells = [
                f"{r.task} {r.gain:+.4f}{'*' if r.transfer in ('positive', 'negative') else ' '} (±{r.noise:.4f})"
                for r in table.itertuples()
            ]
            print(f"correlation {correlation:+.1f}  seed {seed}  " + "   ".join(cells) +
                  f"   [{time.perf_counter() - start:.0f} s]", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
