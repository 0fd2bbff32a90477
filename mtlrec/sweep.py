"""What-if loss weighting: train one model per point of a weight grid, judge each task, find the Pareto front.

A sweep varies the loss weights of 2 or 3 tasks over the simplex (the weights sum to 1: with Adam only their
ratios matter, unless Adam's weight decay, an L2 term in the gradient that the loss's scale does not scale, is on:
a note says so), trains one model per weighting, and scores every task on the test rows with the metric chosen for
it. A point is on the Pareto front when no other point is at least as good on every task and better on one: the
front is the menu of best trade-offs, and everything off it is beaten by some point on it.

Speed (mtlrec.sweep_engine): the data is prepared and encoded once; the grid points train in stacked groups
(mtlrec.stacked: K models per vmap'ed forward and optimiser step) where a measurement says that pays, one at a time
otherwise; groups run on parallel worker threads on a CPU; each point is saved as a normal run tagged with the
sweep (so Results and Recommend open it). References are runs of their own (run_experiment), side by side on the
workers: the adaptive
weightings (they change the gradients themselves, so they cannot be stacked) and the single-task model (no
sharing), the yardstick for what sharing gains.

A sweep's config and table also live in `<home>/sweeps/<id>/` (sweep.json, sweep.csv): `list_sweeps` and
`load_sweep` rebuild sweeps from there and from the runs tagged with them, so they survive a restart.
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mtlrec.config import WEIGHTING_LABELS, ExperimentConfig, _type_problem, plain
from mtlrec.data import Loaded, Prepared
from mtlrec.errors import MtlrecError
from mtlrec.jobs import SERVER_LIMIT, BackgroundJob, BackgroundState, JobLimiter
from mtlrec.metrics import HIGHER_IS_BETTER, higher_is_better
from mtlrec.runs import RUN_ID, RunStore, atomic_write_text, dumps, process_alive

GRID_KINDS = ("simplex", "dirichlet")  # evenly spaced points on the simplex | random Dirichlet(1, ..., 1) samples
REFERENCE_METHODS = ("uncertainty", "gradnorm", "dwa", "pcgrad")  # adaptive weightings run as references
BASELINE = "single_task"  # the reference model without sharing
REFERENCE_LABELS = {**WEIGHTING_LABELS, BASELINE: "single-task models"}
MAX_POINTS = 500  # grid points in one sweep
MAIN_METRIC = {"binary": "auc", "regression": "rmse"}


# --------------------------------------------------------------------------------------------- grids and the front


def grid_size(n_tasks: int, points: int) -> int:
    """How many weightings simplex_grid(n_tasks, points) has: C(points - 1 + n_tasks - 1, n_tasks - 1)."""
    return math.comb(points - 1 + n_tasks - 1, n_tasks - 1)


def simplex_grid(n_tasks: int, points: int) -> np.ndarray:
    """Evenly spaced weightings on the simplex, (P, n_tasks), each row summing to 1.

    `points` is the number of points along each edge of the simplex, endpoints included (step 1 / (points - 1)):
    for 2 tasks that is the whole grid (points=11: 0, 0.1, ..., 1); for 3 tasks the triangular lattice with that
    many points per edge, points * (points + 1) / 2 in all (points=5: 15, points=11: 66). Rows run from the first
    task's weight 1 down to 0 (lexicographically descending), so the corners come first and last.
    """
    if n_tasks < 2:
        raise ValueError(f"a weight grid needs at least 2 tasks, got {n_tasks}")
    if points < 2:
        raise ValueError(f"a weight grid needs at least 2 points per edge, got {points}")
    steps = points - 1
    rows = []
    # Each weighting is steps units shared among the tasks: a multiset of the "bars" between them.
    for bars in combinations_with_replacement(range(steps + 1), n_tasks - 1):
        cuts = (0, *bars, steps)
        rows.append([cuts[i + 1] - cuts[i] for i in range(n_tasks)])
    grid = np.array(rows, dtype=np.float64) / steps
    return grid[np.lexsort(grid.T[::-1])[::-1]]


def dirichlet_weights(n_tasks: int, n: int, seed: int = 0) -> np.ndarray:
    """n random weightings, (n, n_tasks), uniform on the simplex (Dirichlet with every alpha = 1); seeded."""
    if n_tasks < 2 or n < 1:
        raise ValueError(f"need at least 2 tasks and 1 sample, got {n_tasks} tasks and {n} samples")
    return np.random.default_rng(seed).dirichlet(np.ones(n_tasks), size=n)


def pareto_flags(values: np.ndarray, higher_is_better: list[bool]) -> np.ndarray:
    """True for the rows of `values` (N, M) that no other row dominates, with each column's direction.

    Row a dominates row b when a is at least as good as b on every objective and better on at least one, so rows
    that tie on everything stay on the front together. A row with a NaN is never on the front and dominates
    nothing (a failed point must not hide a real one).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(higher_is_better):
        raise ValueError(f"values must be (N, {len(higher_is_better)}), got shape {values.shape}")
    oriented = np.where(np.asarray(higher_is_better, dtype=bool), values, -values)  # larger is better everywhere
    valid = np.isfinite(oriented).all(axis=1)
    kept = oriented[valid]
    at_least = (kept[:, None, :] >= kept[None, :, :]).all(axis=2)  # [a, b]: a >= b on every objective
    better = (kept[:, None, :] > kept[None, :, :]).any(axis=2)
    dominated = (at_least & better).any(axis=0)
    flags = np.zeros(len(values), dtype=bool)
    flags[np.flatnonzero(valid)[~dominated]] = True
    return flags


def judged_metrics(config: ExperimentConfig, task: str) -> list[str]:
    """Metrics that can judge a task on the test rows (those with a direction), as keys of metrics.json.

    GAUC needs a user column; NDCG@K, Recall@K and HitRate@K need a user and an item column.
    """
    kind = next(t.type for t in config.tasks if t.name == task)
    names = ["auc", "gauc", "logloss"] if kind == "binary" else ["rmse", "mae"]
    if not config.data.user_col:
        names = [m for m in names if m != "gauc"]
    if config.data.user_col and config.data.item_col:
        names += [f"{m}@{config.k}" for m in ("ndcg", "recall", "hitrate")]
    return names


METRIC_WORDS = {"auc": "AUC", "gauc": "GAUC", "logloss": "log loss", "rmse": "RMSE", "mae": "MAE", "ndcg": "NDCG",
                "recall": "Recall", "hitrate": "HitRate", "mean_pred": "mean prediction", "pos_rate": "positive rate"}  # fmt: skip


def metric_words(metric: str) -> str:
    """'auc' -> 'AUC', 'ndcg@10' -> 'NDCG@10': a metric's name for people."""
    base, _, k = metric.partition("@")
    words = METRIC_WORDS.get(base, base)
    return f"{words}@{k}" if k else words


def task_of(column: str, tasks: list[str]) -> str | None:
    """The task a '<task>_<metric>' column belongs to (the longest matching name: 'click_rate_auc' is click_rate's)."""
    for task in sorted(tasks, key=len, reverse=True):
        if column.startswith(f"{task}_") and column != weight_column(task):
            return task
    return None


def metric_columns(table: pd.DataFrame, tasks: list[str]) -> list[str]:
    """The table's metric columns, task by task (weights, ids and bookkeeping left out)."""
    return [c for t in tasks for c in table.columns if task_of(c, tasks) == t]


def column_labels(table: pd.DataFrame, tasks: list[str]) -> dict[str, str]:
    """Words for a sweep table's columns: 'w_click' -> 'weight of click', 'click_auc' -> 'click AUC'."""
    labels = {weight_column(t): f"weight of {t}" for t in tasks}
    for column in metric_columns(table, tasks):
        task = task_of(column, tasks)
        labels[column] = f"{task} {metric_words(column[len(task) + 1 :])}"
    return labels


def weight_column(task: str) -> str:
    return f"w_{task}"


def metric_column(task: str, metric: str) -> str:
    return f"{task}_{metric}"


# -------------------------------------------------------------------------------------------------------- config


@dataclass
class SweepConfig:
    """A sweep, completely: the base run (data, model, training), the swept tasks, their metrics and the grid."""

    base: ExperimentConfig = field(default_factory=ExperimentConfig)  # its weights and weighting are replaced
    tasks: list[str] = field(default_factory=list)  # 2 or 3 tasks of `base`, trained and weighted in this order
    metrics: dict[str, str] = field(default_factory=dict)  # task -> test metric judging it (default AUC / RMSE)
    grid: str = "simplex"  # "simplex" (evenly spaced) or "dirichlet" (random)
    points: int = 11  # simplex: points per edge, endpoints included (see simplex_grid)
    samples: int = 20  # dirichlet: how many weightings
    seed: int = 0  # dirichlet: sampling seed (training uses base.train.seed)
    baseline: bool = True  # also train the single-task model (one network per task) as a reference
    references: list[str] = field(default_factory=lambda: list(REFERENCE_METHODS))  # adaptive weightings to run
    name: str = ""  # for people; a default is made from the settings

    def metric_of(self, task: str) -> str:
        kind = next((t.type for t in self.base.tasks if t.name == task), "binary")
        return self.metrics.get(task) or MAIN_METRIC[kind]

    def directions(self) -> list[bool]:
        return [higher_is_better(self.metric_of(t)) for t in self.tasks]

    def objective_columns(self) -> list[str]:
        return [metric_column(t, self.metric_of(t)) for t in self.tasks]

    def weights(self) -> np.ndarray:
        """The grid: (P, len(tasks)) weightings, each summing to 1."""
        if self.grid == "dirichlet":
            return dirichlet_weights(len(self.tasks), self.samples, self.seed)
        return simplex_grid(len(self.tasks), self.points)

    def n_points(self) -> int:
        return self.samples if self.grid == "dirichlet" else grid_size(len(self.tasks), self.points)

    def reference_roles(self) -> list[str]:
        """The reference runs: the adaptive weightings asked for, then the single-task baseline."""
        roles = [m for m in REFERENCE_METHODS if m in self.references]
        if self.baseline and self.base.model.kind != BASELINE:
            roles.append(BASELINE)
        return roles

    def experiment(self) -> ExperimentConfig:
        """The base run on the swept tasks only, equal weights, fixed weighting, no gradient diagnostics.

        Diagnostics do not change training; a sweep skips them to save their cost (a few per cent per epoch).
        """
        config = self.base.copy()
        by_name = {t.name: t for t in config.tasks}
        config.tasks = [by_name[name] for name in self.tasks if name in by_name]
        for task in config.tasks:
            task.weight = 1.0 / len(config.tasks)
        config.weighting = dataclasses.replace(config.weighting, method="fixed")
        config.train.diagnostics = False
        config.conform()
        return config

    def point_config(self, weights: np.ndarray) -> ExperimentConfig:
        """The run of one grid point: the swept tasks with these weights (rounded to 10 decimals for tidy JSON)."""
        config = self.experiment()
        for task, weight in zip(config.tasks, weights, strict=True):
            task.weight = round(float(weight), 10)
        return config

    def reference_config(self, role: str) -> ExperimentConfig:
        """An adaptive weighting (its published setting: every user weight 1) or the single-task model."""
        config = self.experiment()
        for task in config.tasks:
            task.weight = 1.0
        if role == BASELINE:
            config.model.kind = BASELINE
        else:
            config.weighting.method = role
        return config

    def default_name(self) -> str:
        grid = f"{self.n_points()} points" + (" (random)" if self.grid == "dirichlet" else "")
        return f"{self.base.model.kind} {self.base.model.size} · {' vs '.join(self.tasks)} · {grid}"

    def type_problems(self) -> list[str]:
        """A sentence per setting of the wrong type (a config built in Python: numpy numbers count as numbers, a
        bare string is no list), the base run's too (ExperimentConfig.type_problems)."""
        if not isinstance(self.base, ExperimentConfig):
            return [f"'base' must be an ExperimentConfig, got {self.base!r}"]
        problems = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "metrics":
                if not isinstance(value, dict) or not all(isinstance(n, str) for pair in value.items() for n in pair):
                    problems.append(f"sweep 'metrics' must map task names to metric names, got {value!r}")
            elif f.name != "base":
                problem = _type_problem(f.name, f.type, value)
                if problem:
                    problems.append(f"sweep {problem}")
        return problems + self.base.type_problems()[0]

    def check(self) -> None:
        """Raise MtlrecError listing every setting that cannot work."""
        problems = self.type_problems()
        if problems:
            raise MtlrecError(problems, source="sweep")
        names = self.base.task_names
        if not 2 <= len(self.tasks) <= 3:
            problems.append(f"choose 2 or 3 tasks to sweep, got {len(self.tasks)}")
        if len(set(self.tasks)) != len(self.tasks):
            problems.append("a task is listed more than once")
        missing = [t for t in self.tasks if t not in names]
        if missing:
            problems.append(f"not tasks of this experiment: {', '.join(missing)} (tasks: {', '.join(names)})")
        if self.grid not in GRID_KINDS:
            problems.append(f"grid '{self.grid}' is not one of {', '.join(GRID_KINDS)}")
        elif self.grid == "simplex" and self.points < 2:
            problems.append(f"the grid needs at least 2 points per edge, got {self.points}")
        elif self.grid == "dirichlet" and self.samples < 1:
            problems.append(f"random weightings: ask for at least 1, got {self.samples}")
        elif self.grid == "dirichlet" and not 0 <= self.seed < 2**32:
            problems.append(f"the seed of the random weightings must be from 0 to {2**32 - 1}, got {self.seed!r}")
        elif not missing and 2 <= len(self.tasks) <= 3 and self.n_points() > MAX_POINTS:
            problems.append(f"{self.n_points()} weightings is more than a sweep takes ({MAX_POINTS})")
        unknown = [m for m in self.references if m not in REFERENCE_METHODS]
        if unknown:
            problems.append(
                f"unknown reference weighting {', '.join(unknown)}; choose from {', '.join(REFERENCE_METHODS)}"
            )
        if problems:
            raise MtlrecError(problems, source="sweep")
        experiment = self.experiment()
        for task in self.tasks:
            allowed = judged_metrics(experiment, task)
            if self.metric_of(task) not in allowed:
                problems.append(
                    f"task '{task}' cannot be judged by '{self.metric_of(task)}'; choose {', '.join(allowed)}"
                )
        if problems:
            raise MtlrecError(problems, source="sweep")
        experiment.check()

    def to_dict(self) -> dict[str, Any]:
        return plain(dataclasses.asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepConfig:
        if not isinstance(d, dict):
            raise MtlrecError("a sweep config must be a JSON object", source="sweep")
        known = {f.name for f in dataclasses.fields(cls)}
        problems = [
            f"unknown sweep key '{key}'; known keys: {', '.join(sorted(known))}" for key in d if key not in known
        ]
        kinds = {"tasks": list, "metrics": dict, "grid": str, "points": int, "samples": int, "seed": int,
                 "baseline": bool, "references": list, "name": str}  # fmt: skip
        for key, kind in kinds.items():
            if key in d and (not isinstance(d[key], kind) or (kind is int and isinstance(d[key], bool))):
                problems.append(f"sweep '{key}' must be {kind.__name__}, got {d[key]!r}")
        if problems:
            raise MtlrecError(problems, source="sweep")
        values = {k: v for k, v in d.items() if k != "base"}
        return cls(base=ExperimentConfig.from_dict(d.get("base") or {}), **values)

    @classmethod
    def from_json(cls, text: str) -> SweepConfig:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise MtlrecError(f"the sweep config is not valid JSON ({exc})", source="sweep") from None


# ------------------------------------------------------------------------------------------- sweeps in the store


def sweep_folder(store: RunStore, sweep_id: str) -> Path:
    """`<home>/sweeps/<id>`; the id is checked so that no name reaches outside that folder."""
    if not isinstance(sweep_id, str) or not RUN_ID.match(sweep_id):
        raise MtlrecError(f"'{sweep_id}' is not a valid sweep id")
    return store.home / "sweeps" / sweep_id


def _write_info(store: RunStore, sweep_id: str, info: dict) -> None:
    atomic_write_text(sweep_folder(store, sweep_id) / "sweep.json", dumps(info))


def _read_info(store: RunStore, sweep_id: str) -> dict:
    path = sweep_folder(store, sweep_id) / "sweep.json"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MtlrecError(f"sweep '{sweep_id}' is damaged or missing ({exc})") from None
    if info.get("status") == "running" and info.get("pid") != os.getpid() and not process_alive(info.get("pid")):
        info.update(status="interrupted", message="the server stopped while this sweep was training")
        _write_info(store, sweep_id, info)
    return info


def create_sweep(store: RunStore, config: SweepConfig) -> str:
    """Give a sweep its id and folder, written as 'running' (a killed server leaves it 'interrupted')."""
    sweep_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
    now = time.time()
    info = {
        "id": sweep_id, "name": config.name or config.default_name(), "status": "running", "message": "",
        "created": now, "updated": now, "pid": os.getpid(), "points": config.n_points(),
        "references": len(config.reference_roles()), "config": config.to_dict(),
    }  # fmt: skip
    _write_info(store, sweep_id, info)
    atomic_write_text(sweep_folder(store, sweep_id) / "sweep.csv", "")
    return sweep_id


def role_of(summary: dict, config: SweepConfig) -> str:
    """'point' for a grid point, else the reference it is: an adaptive weighting or 'single_task'."""
    if summary.get("weighting", "fixed") != "fixed":
        return summary["weighting"]
    if summary.get("model") != config.base.model.kind:
        return BASELINE
    return "point"


def sweep_table(rows: list[dict], config: SweepConfig) -> pd.DataFrame:
    """One line per run of a sweep (RunStore rows): run id, name, label (weights, or the reference's name), role,
    status, weights as shares, every metric of the swept tasks, seconds, epochs, and `pareto` (the front among the
    grid points, judged by the sweep's metric per task).

    Grid points come first (the first task's weight from 1 down), then the references.
    """
    records = []
    for row in rows:
        summary = row.get("summary") or {}
        weights = {t: float(summary.get("weights", {}).get(t) or 0.0) for t in config.tasks}
        total = sum(weights.values()) or 1.0
        role = role_of(summary, config)
        label = (
            REFERENCE_LABELS.get(role, role)
            if role != "point"
            else " · ".join(f"{t} {w / total:.2f}" for t, w in weights.items())
        )
        record = {"run_id": row["id"], "name": row["name"], "label": label, "role": role, "status": row["status"]}
        # A reference's loss weights are its method's (or each task alone): not a point of the grid, so none shown.
        # Shares to 6 decimals: a run's weights are saved to 10 (SweepConfig.point_config), so one nominal weight
        # came out as two floats (0.3333333333 and 0.3333333333333333), and the chart's mean line split in two.
        record.update(
            {weight_column(t): round(w / total, 6) if role == "point" else math.nan for t, w in weights.items()}
        )
        for task in config.tasks:
            for metric, value in ((summary.get("tasks") or {}).get(task) or {}).items():
                record[metric_column(task, metric)] = value if isinstance(value, int | float) else math.nan
        record["seconds"] = summary.get("train_seconds")
        record["epochs"] = summary.get("epochs_run")
        records.append(record)
    columns = ["run_id", "name", "label", "role", "status", *(weight_column(t) for t in config.tasks)]
    table = pd.DataFrame.from_records(records, columns=None if records else columns)
    for column in config.objective_columns():
        if column not in table.columns:
            table[column] = math.nan
    order = {role: i for i, role in enumerate(["point", *REFERENCE_METHODS, BASELINE])}
    table["_order"] = table["role"].map(order).fillna(len(order))
    by = ["_order", *(weight_column(t) for t in config.tasks)]
    table = table.sort_values(by, ascending=[True] + [False] * len(config.tasks), kind="stable").drop(columns="_order")
    table = table.reset_index(drop=True)
    points = (table["role"] == "point").to_numpy()
    flags = np.zeros(len(table), dtype=bool)
    if points.any():
        values = table.loc[points, config.objective_columns()].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        flags[points] = pareto_flags(values, config.directions())
    table["pareto"] = flags
    return table


def references_beating_every_point(table: pd.DataFrame, config: SweepConfig) -> list[str]:
    """The references (their labels) at least as good as every grid point that trains every swept task on every
    swept task's metric and better on one: no loss weighting of the shared network reached them. For the single-task
    models that is negative transfer, the sweep's main lesson then, which the front alone (every point of it "not
    beaten") does not say. The grid's ends (a weight 0) train the other tasks alone, single-task models themselves:
    judged against them, a reference could never beat every point (an audit saw the single-task models beat all 9
    points that train both tasks, and no note)."""
    if table.empty:
        return []
    values = table[config.objective_columns()].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    oriented = np.where(np.asarray(config.directions(), dtype=bool), values, -values)
    judged = (table["role"] == "point").to_numpy() & np.isfinite(oriented).all(axis=1)
    weights = [weight_column(t) for t in config.tasks]
    if set(weights) <= set(table.columns):
        every = (table[weights].apply(pd.to_numeric, errors="coerce").to_numpy(float) > 0).all(axis=1)
        judged &= every if (judged & every).any() else True  # (a grid of ends only: every point)
    points = oriented[judged]
    if not len(points):
        return []
    beating = []
    for row, reference in zip(oriented, table.itertuples(), strict=True):
        if reference.role == "point" or not np.isfinite(row).all():
            continue
        # "Better" by more than rounding: RMSEs 6e-6 apart made a lesson of negative transfer that deleting one
        # point undid (a browser audit)
        margin = BEATING_MARGIN * np.maximum(1.0, np.abs(points))
        if ((row >= points - margin).all(axis=1) & (row > points + margin).any(axis=1)).all():
            beating.append(reference.label)
    return beating


BEATING_MARGIN = 1e-3  # of a metric (at least 1e-3 absolute): a reference must beat every point by more than this


def report_html(result: SweepResult) -> str:
    """pareto.html: the sweep's charts in one self-contained HTML page (plotly.js inlined: no network needed to open
    it), as the CLI writes it and the Sweep page downloads it."""
    from mtlrec import charts

    config, table = result.config, result.table
    tasks, labels = config.tasks, column_labels(table, config.tasks)
    weights = [weight_column(t) for t in tasks]
    objectives, directions = config.objective_columns(), config.directions()
    references = result.references
    figures = [
        charts.pareto_front(result.points, objectives, directions, references, weights, labels,
                            metric_columns(table, tasks)),
        charts.weight_metric_curves(result.points, tasks, weights, objectives, directions, references, labels),
        charts.parallel_weights(result.points, weights, objectives),
    ]  # fmt: skip
    if len(tasks) == 3:
        figures += [
            charts.ternary_weights(result.points, tasks, weights, c, d, labels, w)
            for c, d, w in zip(objectives, directions, weights, strict=True)
        ]
    parts = [fig.to_html(full_html=False, include_plotlyjs=i == 0) for i, fig in enumerate(figures)]
    # A name is typed by whoever ran the sweep (another user of a shared lab): text here, never markup.
    title = html.escape(f"Sweep {result.sweep_id}: {config.name or config.default_name()}")
    body = "\n".join(parts)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h2>{title}</h2>{body}</body></html>"
    )


def sweep_csv(table: pd.DataFrame) -> str:
    """sweep.csv: the sweep table, its `pareto` flag left empty for references (the front is the grid points'; a
    reference is a marker beside it, so False there would read as "dominated")."""
    out = table.copy()
    if "pareto" in out.columns and "role" in out.columns:
        out["pareto"] = out["pareto"].astype(object).where(out["role"] == "point", None)
    return out.to_csv(index=False)


def undefined_objectives(table: pd.DataFrame, config: SweepConfig) -> list[str]:
    """A sentence per swept task whose judged metric has no value at any grid point (a binary task with one class
    in the test rows has no AUC): such a sweep has no Pareto front, and the sentence names the metrics that would
    judge the task instead. Only points that were evaluated count: a sweep whose points failed, stopped before
    their first epoch ended or are still training has no metrics yet, and that says nothing about the test rows."""
    points = table[table["role"] == "point"]
    measured = metric_columns(points, config.tasks)
    if measured:
        points = points[points[measured].apply(pd.to_numeric, errors="coerce").notna().any(axis=1)]
    if points.empty or not measured:
        return []
    problems = []
    for task, column in zip(config.tasks, config.objective_columns(), strict=True):
        if pd.to_numeric(points[column], errors="coerce").notna().any():
            continue
        usable = [
            metric_words(c[len(task) + 1 :])
            for c in metric_columns(points, [task])
            if c != column
            and c[len(task) + 1 :].partition("@")[0] in HIGHER_IS_BETTER  # a score, not mean_pred or pos_rate
            and pd.to_numeric(points[c], errors="coerce").notna().all()
        ]
        instead = f"judge {task} by {' or '.join(usable)} instead" if usable else f"leave {task} out of the sweep"
        spec = next((t for t in config.base.tasks if t.name == task), None)
        if spec is not None and spec.labelled_only and not usable:  # none of its metrics: no labelled test row
            problems.append(
                f"{task} {metric_words(config.metric_of(task))} is undefined at every point: it is trained on its "
                "labelled rows only, and the test rows hold none of them (see the points' notes), so no point can be "
                f"on the Pareto front: {instead}, or choose another split, seed or a larger test part."
            )
            continue
        problems.append(
            f"{task} {metric_words(config.metric_of(task))} is undefined at every point (for a binary task: its test "
            f"rows hold one class only), so no point can be on the Pareto front: {instead}, or choose a split whose "
            "test rows hold both classes."
        )
    return problems


@dataclass
class SweepResult:
    """A sweep as saved: its config, status and one line per run (see sweep_table)."""

    sweep_id: str
    config: SweepConfig
    status: str  # running | finished | stopped | failed | interrupted
    message: str
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    seconds: float | None = None  # wall-clock time of the whole sweep
    created: float | None = None
    plan: dict = field(default_factory=dict)  # how its points trained: group_size, groups, workers, in_processes

    @property
    def points(self) -> pd.DataFrame:
        return self.table[self.table["role"] == "point"]

    @property
    def references(self) -> pd.DataFrame:
        return self.table[self.table["role"] != "point"]


def load_sweep(store: RunStore, sweep_id: str) -> SweepResult:
    """A sweep rebuilt from sweep.json and the runs tagged with it (deleted runs are simply absent)."""
    info = _read_info(store, sweep_id)
    config = SweepConfig.from_dict(info.get("config") or {})
    table = sweep_table(store.list(sweep_id=sweep_id), config)
    return SweepResult(
        sweep_id, config, info.get("status", "interrupted"), info.get("message", ""), table,
        list(info.get("notes") or []), info.get("seconds"), info.get("created"),
        {key: info[key] for key in ("group_size", "groups", "workers", "in_processes") if key in info},
    )  # fmt: skip


def plan_text(plan: dict) -> str:
    """How a sweep's points trained, for people: "6 weightings trained at once (stacked), in 2 groups on 2 worker
    threads, 2 of 2 in training processes" (mtlrec.procs); "" for a sweep saved before plans were recorded."""
    if not plan.get("group_size") or not plan.get("workers"):
        return ""
    k, groups, workers = plan["group_size"], plan.get("groups", 1), plan["workers"]
    threads = f"{workers} worker thread{'s' if workers > 1 else ''}"
    n = plan.get("in_processes", 0)
    where = f", {n} of {groups} in training processes" if n else ""
    if k == 1:
        return f"Weightings trained one at a time, on {threads}{where}."
    return f"Up to {k} weightings trained at once (stacked), in {groups} group{'s' if groups > 1 else ''} on {threads}{where}."


def list_sweeps(store: RunStore) -> list[dict]:
    """Every saved sweep, newest first: id, name, status, message, created, tasks, metrics, model, size, points
    (planned), points_done, references_done. An interrupted sweep keeps the points that finished."""
    root = store.home / "sweeps"
    out = []
    for folder in sorted(root.iterdir() if root.is_dir() else [], reverse=True):
        if not RUN_ID.match(folder.name):
            continue
        try:
            info = _read_info(store, folder.name)
            config = SweepConfig.from_dict(info.get("config") or {})
        except MtlrecError as exc:
            out.append({"id": folder.name, "name": folder.name, "status": "damaged", "message": exc.message,
                        "created": folder.stat().st_mtime, "tasks": [], "metrics": {}, "model": "", "size": "",
                        "points": 0, "points_done": 0, "references_done": 0})  # fmt: skip
            continue
        roles = [role_of(r["summary"], config) for r in store.list(sweep_id=folder.name) if not r["damaged"]]
        out.append({
            "id": folder.name, "name": info.get("name", folder.name), "status": info.get("status", "interrupted"),
            "message": info.get("message", ""), "created": info.get("created"), "tasks": list(config.tasks),
            "metrics": {t: config.metric_of(t) for t in config.tasks}, "model": config.base.model.kind,
            "size": config.base.model.size, "points": info.get("points", config.n_points()),
            "points_done": roles.count("point"), "references_done": len(roles) - roles.count("point"),
        })  # fmt: skip
    # By the time each started: ids sort by the second, then by a random suffix, so two sweeps of one second came in
    # either order (two quick sweeps on a fast machine: the newest was not the first).
    out.sort(key=lambda s: s["created"] if isinstance(s["created"], int | float) else 0.0, reverse=True)
    return out


# ------------------------------------------------------------------------------------------------------ progress


@dataclass
class SweepProgress:
    """What a sweep's callback receives: during training (throttled) and each time a run is saved (`row`)."""

    sweep_id: str
    stage: str  # what runs now, for people
    points_done: int
    points_total: int
    references_done: int
    references_total: int
    fraction: float  # of the whole sweep's estimated work
    elapsed: float  # seconds since the sweep started
    eta: float | None  # seconds left, estimated; None until there is progress to estimate from
    row: dict | None = None  # the RunStore row of the run just saved
    role: str | None = None  # that run's role: "point", an adaptive weighting, or "single_task"


# ------------------------------------------------------------------------------------------------------ the sweep


def check_parallelism(group_size: int | None, workers: int | None) -> None:
    """Refuse a stack size or worker count below 1 (None: measured): -1 workers trained nothing and reported
    success, 0 went unnoticed."""
    problems = [
        f"{what} must be at least 1 (or left out to be measured), got {value}"
        for what, value in (("the group size (models trained stacked at once)", group_size),
                            ("the number of worker threads", workers))
        if value is not None and value < 1
    ]  # fmt: skip
    if problems:
        raise MtlrecError(problems, source="sweep")


def run_sweep(
    config: SweepConfig,
    store: RunStore | None = None,
    frame: pd.DataFrame | None = None,
    test_frame: pd.DataFrame | None = None,
    *,
    prepared: Prepared | None = None,
    loaded: Loaded | None = None,
    sweep_id: str | None = None,
    callback: Callable[[SweepProgress], None] | None = None,
    stop: threading.Event | None = None,
    group_size: int | None = None,
    workers: int | None = None,
) -> SweepResult:
    """Train and save every grid point and reference of a sweep; returns the sweep's table.

    `store` (RunStore() by default: MTLREC_HOME) receives the runs; the data is `frame` (and `test_frame`), else the
    base config's files.

    `prepared` (mtlrec.data.prepare of config.experiment()) skips preparing the data; `loaded` (load_frames of
    the base config) skips reading its files. `group_size` (models per
    stack) and `workers` (parallel threads) are chosen by measurement when None. When `stop` is set the sweep
    ends within about a batch: runs in flight are dropped, the finished ones stay, and the sweep is 'stopped'.
    Bad data or settings raise MtlrecError (the sweep is then saved as 'failed').
    """
    from mtlrec.sweep_engine import Sweeper  # torch and the training code: imported when a sweep runs

    if store is not None and not isinstance(store, RunStore):  # run_experiment(config, frame) takes the frame second
        hint = ": pass the table as frame=, run_sweep(config, frame=df)" if isinstance(store, pd.DataFrame) else ""
        raise TypeError(f"run_sweep's second argument is the run store (a RunStore), got {type(store).__name__}{hint}")
    config.check()
    check_parallelism(group_size, workers)
    store = store or RunStore()
    sweep_id = sweep_id or create_sweep(store, config)
    sweep = Sweeper(config, store, sweep_id, stop or threading.Event(), callback)
    status, message = "failed", ""
    try:
        status, message = sweep.run(frame, test_frame, prepared, loaded, group_size, workers)
    except MtlrecError as exc:
        message = exc.message
        raise
    except BaseException as exc:
        message = f"the sweep failed unexpectedly ({type(exc).__name__}: {str(exc)[:300]})"
        raise
    finally:
        sweep.save_info(status, message)
    return load_sweep(store, sweep_id)


# ----------------------------------------------------------------------------------------------- background job


@dataclass
class SweepState(BackgroundState):
    """A sweep job's snapshot."""

    sweep_id: str | None
    stage: str = ""
    points_done: int = 0
    points_total: int = 0
    references_done: int = 0
    references_total: int = 0
    fraction: float = 0.0
    elapsed: float = 0.0
    eta: float | None = None
    rows: list[dict] = field(default_factory=list)  # RunStore rows of the runs saved so far
    message: str = ""
    stopping: bool = False


class SweepJob(BackgroundJob):
    """Runs a sweep in a daemon thread; counts against the server's training limiter like a TrainingJob."""

    def __init__(self, config: SweepConfig, store: RunStore, frame: pd.DataFrame | None = None,
                 test_frame: pd.DataFrame | None = None, *, limiter: JobLimiter | str | None = SERVER_LIMIT,
                 group_size: int | None = None, workers: int | None = None):  # fmt: skip
        state = SweepState(
            "queued", None, points_total=config.n_points(), references_total=len(config.reference_roles())
        )
        super().__init__(state, frame, test_frame, limiter)
        self.config, self.store, self.group_size, self.workers = config, store, group_size, workers
        self.result: SweepResult | None = None

    def start(self) -> SweepJob:
        """Check the settings, then start as every job does (MtlrecError when the server is at its limit)."""
        self.config.check()
        return super().start()

    def stop(self) -> None:
        """Ask the sweep to stop: it ends within about a batch; finished points stay saved."""
        super().stop()
        self._update(stopping=True)

    @property
    def sweep_id(self) -> str | None:
        return self._state.sweep_id

    def _open(self) -> str:
        sweep_id = create_sweep(self.store, self.config)
        self._update(sweep_id=sweep_id, status="preparing", stage="preparing the data")
        return f"mtlrec-sweep-{sweep_id}"

    def _on_progress(self, p: SweepProgress) -> None:
        with self._lock:
            s = self._state
            s.status = "running"
            s.stage, s.points_done, s.references_done, s.fraction, s.elapsed, s.eta = (
                p.stage, p.points_done, p.references_done, p.fraction, p.elapsed, p.eta,
            )  # fmt: skip
            if p.row is not None:
                s.rows.append(p.row)
            self._changed.notify_all()

    def _work(self) -> None:
        self.result = run_sweep(
            self.config, self.store, self.frame, self.test_frame, sweep_id=self._state.sweep_id,
            callback=self._on_progress, stop=self._stop, group_size=self.group_size, workers=self.workers,
        )  # fmt: skip
        self._update(status=self.result.status, message=self.result.message, eta=None)

    def _crash_message(self, exc: Exception) -> str:
        from mtlrec.jobs import store_problem

        if (problem := store_problem(exc)) is not None:  # as a training job says it; the points saved are kept
            return f"the sweep's files could not be saved: {problem}"
        return f"the sweep failed unexpectedly ({type(exc).__name__}: {exc})"
