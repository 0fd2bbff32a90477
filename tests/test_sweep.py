"""Loss-weight sweeps: grids, the Pareto front, stacked training against separate runs, the store, the CLI, charts."""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

import mtlrec.stacked
import mtlrec.stacked_bottom
import mtlrec.sweep_engine
import mtlrec.train
from mtlrec import charts
from mtlrec.cli import main
from mtlrec.config import ModelConfig
from mtlrec.data import prepare
from mtlrec.errors import MtlrecError
from mtlrec.experiment import run_experiment, validation_metrics
from mtlrec.models import build_model, start_at_base_rates
from mtlrec.models.shared_bottom import SharedBottom
from mtlrec.runs import RunStore
from mtlrec.stacked import StackedTrainer, stack, stacked_forward
from mtlrec.stacked_bottom import HandStack, covers
from mtlrec.sweep import (
    SweepConfig,
    SweepJob,
    create_sweep,
    dirichlet_weights,
    grid_size,
    judged_metrics,
    list_sweeps,
    load_sweep,
    pareto_flags,
    plan_text,
    references_beating_every_point,
    run_sweep,
    simplex_grid,
    sweep_folder,
    undefined_objectives,
    weight_column,
)
from mtlrec.sweep_engine import Sweeper, Tasks, _groups, stack_cap

TOLERANCE = 1e-5


def sweep_of(config, **changes) -> SweepConfig:
    """A sweep of click against like on the conftest data, without references unless asked."""
    values = {"tasks": ["click", "like"], "points": 3, "references": [], "baseline": False, **changes}
    return SweepConfig(base=config, **values)


# ------------------------------------------------------------------------------------------------------- grids


def test_two_task_grid_is_evenly_spaced_with_both_endpoints():
    grid = simplex_grid(2, 11)
    assert grid.shape == (11, 2)
    np.testing.assert_allclose(grid[:, 0], np.linspace(1, 0, 11))
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert grid[0].tolist() == [1.0, 0.0] and grid[-1].tolist() == [0.0, 1.0]


@pytest.mark.parametrize(("points", "count"), [(2, 3), (3, 6), (5, 15), (11, 66)])
def test_three_task_grid_is_the_triangular_lattice_with_points_per_edge(points, count):
    grid = simplex_grid(3, points)
    assert len(grid) == count == grid_size(3, points)
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert (grid >= 0).all()
    steps = grid * (points - 1)
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-12)  # every weight a multiple of the step
    assert len({tuple(row) for row in np.round(steps).astype(int)}) == count  # no point twice
    assert {tuple(row) for row in grid[:1]} == {(1.0, 0.0, 0.0)}  # corners included


def test_a_grid_needs_two_tasks_and_two_points_per_edge():
    with pytest.raises(ValueError):
        simplex_grid(1, 5)
    with pytest.raises(ValueError):
        simplex_grid(2, 1)


def test_dirichlet_weights_lie_on_the_simplex_and_repeat_with_their_seed():
    weights = dirichlet_weights(3, 40, seed=7)
    assert weights.shape == (40, 3)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert (weights > 0).all()
    np.testing.assert_array_equal(weights, dirichlet_weights(3, 40, seed=7))
    assert not np.allclose(weights, dirichlet_weights(3, 40, seed=8))


def test_stack_sizes_fill_every_worker_and_big_sweeps_come_in_two_waves():
    assert stack_cap(11, 2) == 6  # one stack per worker
    assert stack_cap(50, 2) == 13  # 8+ points per worker: at most half a worker's share, two waves
    assert stack_cap(1000, 2) == 64  # and never more than MAX_GROUP
    assert [len(g) for g in _groups(11, 4, 2)] == [3, 3, 3, 2]  # not 4, 4, 3: a worker would idle in wave two
    for n, k, workers in ((11, 4, 2), (50, 8, 2), (50, 13, 2), (66, 16, 2), (37, 5, 3)):
        groups = _groups(n, k, workers)
        assert len(groups) % workers == 0  # every wave uses every worker
        assert max(map(len, groups)) <= k and sorted(sum(groups, [])) == list(range(n))


def test_the_planner_judges_each_stack_against_the_plain_steps_timed_beside_it(monkeypatch):
    # Plain steps take 1 ms, but one burst of other work makes the plain step timed just before the stack of 4 look
    # like 0.4 ms: judged by the slower neighbour, 4 stacked at 0.7 ms a model still beat 2 and 6 (0.9).
    plain_times = iter([1.0, 1.0, 1.0, 0.4, 1.0, 1.0, 1.0])  # cap, then before / after each of K = 2, 4, 6
    per_model = {2: 0.9, 4: 0.7, 6: 0.9}

    def timer(model, train, cfg, device, stacked):
        return lambda: (per_model[stacked] * stacked if stacked else next(plain_times)) / 1000

    monkeypatch.setattr(mtlrec.sweep_engine, "StepTimer", timer)
    monkeypatch.setattr(mtlrec.sweep_engine, "available_memory", lambda: None)
    sweeper = object.__new__(Sweeper)
    sweeper.prepared, sweeper.experiment = SimpleNamespace(train=None), SimpleNamespace(train=None)
    sweeper.template = sweeper.device = None

    assert sweeper.group_size(11, 2) == 4
    assert sweeper.step_ratios == {2: 0.9, 4: 0.7, 6: 0.9}
    per_model.update({2: 0.6, 4: 0.65, 6: 0.7})  # within PREFER_LARGER (1.2) of the cheapest: the largest stack
    plain_times = iter([1.0] * 7)
    assert sweeper.group_size(11, 2) == 6
    per_model.update({2: 0.8, 4: 0.8, 6: 0.8})  # nowhere below STACKING_GAIN (0.75) of a plain step: one at a time
    plain_times = iter([1.0] * 7)
    assert sweeper.group_size(11, 2) == 1
    # ...unless the stack is shared-bottom's hand-written step, whose copies equal their runs: below 0.9 it stacks
    monkeypatch.setattr(mtlrec.stacked_bottom, "covers", lambda model, device: True)
    sweeper.template = object()
    plain_times = iter([1.0] * 7)
    assert sweeper.group_size(11, 2) == 6
    per_model.update({2: 0.95, 4: 0.95, 6: 0.95})
    plain_times = iter([1.0] * 7)
    assert sweeper.group_size(11, 2) == 1


def test_workers_take_the_evaluations_a_unit_queues_before_the_next_unit():
    # Two workers, three units; unit a queues two evaluations, unit b waits until unit c has run. Whichever way the
    # workers take the first units, the evaluations come before unit c, and next() ends only once all is done.
    done, lock, c_ran = [], threading.Lock(), threading.Event()

    def record(name):
        with lock:
            done.append(name)

    def unit_a():
        record("a")
        tasks.add(lambda: record("eval a1"))
        tasks.add(lambda: record("eval a2"))

    def unit_b():
        assert c_ran.wait(timeout=5)
        record("b")

    def unit_c():
        record("c")
        c_ran.set()

    tasks = Tasks([unit_a, unit_b, unit_c])

    def work():
        while (task := tasks.next()) is not None:
            try:
                task()
            finally:
                tasks.done()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert done[0] == "a" and set(done[1:3]) == {"eval a1", "eval a2"} and done[3:] == ["c", "b"]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_unit_stops_the_sweeps_other_units_and_its_error_is_raised_once(workers):
    # The first unit queues an evaluation, then fails: the evaluation still runs (it checks the stop itself), units
    # not started yet return at once, the error comes out of _execute, and no worker thread is left behind.
    sweeper = object.__new__(Sweeper)
    sweeper.failure = threading.Event()
    sweeper.halt = mtlrec.sweep_engine.AnyEvent(threading.Event(), sweeper.failure)
    ran = []

    def failing():
        sweeper.tasks.add(lambda: ran.append("evaluation"))
        raise RuntimeError("boom")

    def waiting():  # with two workers this one runs beside the failing unit and sees the stop
        while not sweeper.halt.is_set():
            time.sleep(0.01)
        ran.append("stopped")

    def later():
        ran.append("later" if not sweeper.halt.is_set() else "skipped")

    before = threading.active_count()
    units = [failing, waiting, later] if workers == 2 else [failing, later]
    with pytest.raises(RuntimeError, match="boom"):
        sweeper._execute(units, workers)
    assert "evaluation" in ran and "later" not in ran
    assert ("stopped" in ran) is (workers == 2)
    assert threading.active_count() == before


def test_groups_interleave_the_grid_and_give_every_worker_one():
    assert _groups(11, 6, 2) == [[0, 2, 4, 6, 8, 10], [1, 3, 5, 7, 9]]
    assert _groups(5, 1, 2) == [[0], [1], [2], [3], [4]]
    assert _groups(3, 64, 2) == [[0, 2], [1]]
    assert _groups(50, 16, 2) == [list(range(g, 50, 4)) for g in range(4)]


# ---------------------------------------------------------------------------------------------- the Pareto front


def test_pareto_keeps_ties_and_drops_weakly_dominated_points():
    values = np.array(
        [
            [0.8, 0.6],  # on the front
            [0.8, 0.6],  # a tie with the first: both stay
            [0.7, 0.9],  # on the front
            [0.8, 0.5],  # equal on the first metric, worse on the second: dominated
            [0.6, 0.6],  # worse on the first, equal on the second: dominated
        ]
    )
    assert pareto_flags(values, [True, True]).tolist() == [True, True, True, False, False]


def test_pareto_with_three_objectives():
    values = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5], [0.4, 0.4, 0.4], [1, 1, 0]])
    # [1, 1, 0] dominates [1, 0, 0] and [0, 1, 0]; [0.5, 0.5, 0.5] dominates [0.4, 0.4, 0.4].
    assert pareto_flags(values, [True, True, True]).tolist() == [False, False, True, True, False, True]


def test_pareto_orients_metrics_where_lower_is_better():
    auc_and_logloss = np.array([[0.70, 0.50], [0.72, 0.55], [0.69, 0.52], [0.72, 0.49]])
    assert pareto_flags(auc_and_logloss, [True, False]).tolist() == [False, False, False, True]
    two_rmses = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [2.5, 2.5]])
    assert pareto_flags(two_rmses, [False, False]).tolist() == [True, True, True, False]


def test_pareto_never_puts_a_row_with_nan_on_the_front_nor_lets_it_dominate():
    values = np.array([[0.7, 0.7], [np.nan, 0.9], [0.9, np.nan], [0.6, 0.6]])
    assert pareto_flags(values, [True, True]).tolist() == [True, False, False, False]
    assert pareto_flags(np.empty((0, 2)), [True, True]).tolist() == []


def test_references_that_beat_every_point_on_every_task_are_named(make_config):
    # A teaching sweep: the single-task models beat every weighting (negative transfer), while the headline said
    # "5 of 5 points not beaten" (an audit).
    sweep = sweep_of(make_config(), metrics={"like": "logloss"})
    table = pd.DataFrame(
        {
            "role": ["point", "point", "point", "single_task", "dwa", "gradnorm"],
            "label": ["a", "b", "c", "single-task models", "DWA", "GradNorm"],
            "click auc": [0.70, 0.72, 0.74, 0.74, 0.75, np.nan],
            "like logloss": [0.40, 0.42, 0.45, 0.40, 0.46, 0.30],  # lower is better
        }
    )
    table = table.rename(columns=dict(zip(["click auc", "like logloss"], sweep.objective_columns(), strict=True)))
    # single-task: >= every point on both, better than each on one; DWA loses to a on like; GradNorm has a NaN.
    assert references_beating_every_point(table, sweep) == ["single-task models"]
    table.loc[3, sweep.objective_columns()[0]] = 0.73  # c is better on click now
    assert references_beating_every_point(table, sweep) == []
    assert references_beating_every_point(table[table["role"] != "point"], sweep) == []
    # better than a point by rounding only (6e-6) is no lesson of negative transfer (a browser audit)
    near = table.iloc[[2, 3]].copy()
    near.loc[:, sweep.objective_columns()] = [[0.74, 0.45], [0.740006, 0.449994]]
    assert references_beating_every_point(near, sweep) == []


def test_references_are_judged_against_the_points_that_train_every_task(make_config):
    # The grid's ends train one task alone: the click=1/like=0 end is a single-task click model, so the single-task
    # references could never beat every point, and the note never came (a browser walk: they beat all 9 others).
    sweep = sweep_of(make_config())
    click, like = sweep.objective_columns()
    table = pd.DataFrame({
        "role": ["point", "point", "point", "point", "single_task"],
        "label": ["click only", "a", "b", "like only", "single-task models"],
        weight_column("click"): [1.0, 0.7, 0.3, 0.0, np.nan], weight_column("like"): [0.0, 0.3, 0.7, 1.0, np.nan],
        # the ends: one task trained and an untrained tower's metric for the other
        click: [0.7346, 0.72, 0.71, 0.40, 0.7346], like: [0.38, 0.74, 0.75, 0.7649, 0.7625],
    })  # fmt: skip
    assert references_beating_every_point(table, sweep) == ["single-task models"]
    # Without the points that train both, every point is judged (and nothing beats the ends here).
    assert references_beating_every_point(table.iloc[[0, 3, 4]], sweep) == []


# ------------------------------------------------------------------------------------------------------- config


def test_sweep_config_round_trips_through_json(make_config):
    sweep = sweep_of(make_config(), metrics={"like": "logloss"}, grid="dirichlet", samples=7, seed=3,
                     references=["dwa"], name="mine")  # fmt: skip
    again = SweepConfig.from_json(sweep.to_json())
    assert again == sweep
    assert again.objective_columns() == ["click_auc", "like_logloss"]
    assert again.directions() == [True, False]
    np.testing.assert_array_equal(again.weights(), sweep.weights())


def test_sweep_points_train_the_swept_tasks_only_with_their_weights(make_config):
    sweep = sweep_of(make_config(), points=5)
    config = sweep.point_config(np.array([0.25, 0.75]))
    assert [(t.name, t.weight) for t in config.tasks] == [("click", 0.25), ("like", 0.75)]
    assert config.weighting.method == "fixed" and config.train.diagnostics is False
    reference = sweep.reference_config("pcgrad")
    assert reference.weighting.method == "pcgrad" and [t.weight for t in reference.tasks] == [1.0, 1.0]
    assert sweep_of(make_config(), baseline=True, references=["dwa"]).reference_roles() == ["dwa", "single_task"]


def test_sweep_config_check_lists_every_problem(make_config):
    with pytest.raises(MtlrecError) as caught:
        SweepConfig(base=make_config(), tasks=["click"], grid="spiral", references=["magic"]).check()
    text = caught.value.message
    assert "choose 2 or 3 tasks" in text and "grid 'spiral'" in text and "magic" in text
    with pytest.raises(MtlrecError, match="not tasks of this experiment: clicks"):
        sweep_of(make_config(), tasks=["clicks", "like"]).check()
    with pytest.raises(MtlrecError, match="cannot be judged by 'rmse'"):
        sweep_of(make_config(), metrics={"click": "rmse"}).check()
    with pytest.raises(MtlrecError, match="more than a sweep takes"):
        sweep_of(make_config(), tasks=["click", "like", "watch_time"], points=40).check()


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"points": "3"}, "sweep 'points' must be int, got '3'"),
        ({"tasks": "click,like"}, "sweep 'tasks' must be list[str], got 'click,like': a list is expected, e.g. "
         "['click', 'like']"),
        ({"references": "dwa"}, "sweep 'references' must be list[str], got 'dwa': a list is expected, e.g. ['dwa']"),
    ],
)  # fmt: skip
def test_sweep_config_check_refuses_a_value_of_the_wrong_type(make_config, changes, problem):
    # A bare string was read letter by letter ("choose 2 or 3 tasks ... got 10", "unknown reference weighting d, w,
    # a"), and points="3" raised a TypeError.
    with pytest.raises(MtlrecError) as caught:
        sweep_of(make_config(), **changes).check()

    assert caught.value.problems == [problem]


def test_sweep_config_check_takes_numpy_numbers(make_config):
    sweep = sweep_of(make_config(), grid="dirichlet", samples=np.int64(3), seed=np.int64(2))

    sweep.check()

    assert json.loads(sweep.to_json())["samples"] == 3


def test_run_sweep_given_the_table_in_place_of_the_store_says_how_to_pass_it(make_config, interactions):
    # run_sweep(config, df) raised "The truth value of a DataFrame is ambiguous" from `store or RunStore()`.
    with pytest.raises(TypeError) as error:
        run_sweep(sweep_of(make_config()), interactions)

    assert str(error.value) == (
        "run_sweep's second argument is the run store (a RunStore), got DataFrame: pass the table as frame=, "
        "run_sweep(config, frame=df)"
    )


def test_judged_metrics_follow_the_schema(make_config):
    config = make_config()
    assert judged_metrics(config, "click") == ["auc", "gauc", "logloss", "ndcg@10", "recall@10", "hitrate@10"]
    assert judged_metrics(config, "watch_time")[:2] == ["rmse", "mae"]
    config.data.item_col = None
    assert judged_metrics(config, "click") == ["auc", "gauc", "logloss"]  # ranking needs users and items
    config.data.user_col = None
    assert judged_metrics(config, "click") == ["auc", "logloss"]  # GAUC needs users


# ------------------------------------------------------------------------------------- stacked = separate runs


@pytest.mark.parametrize(("dropout", "cross"), [(0.0, 0), (0.3, 0), (0.0, 2)])
def test_stacked_forward_gives_each_copy_its_own_forward_and_gradients(dropout, cross):
    # Shared-bottom has a batched form of its own (used without dropout); with dropout vmap runs it. Either way copy k
    # of the stack must compute exactly what a model holding copy k's weights computes, and get its gradients.
    torch.manual_seed(0)
    config = ModelConfig(size="tiny", bottom=[16, 8], tower=[4, 3], dropout=dropout, cross=cross)
    model = build_model(config, [7, 5, 3], 2, 3)
    model.eval()  # no dropout masks: the outputs are comparable one by one
    params = stack(model, 3)
    with torch.no_grad():
        for p in params.values():
            for k in range(3):
                p[k].add_(0.1 * (k + 1) * torch.randn_like(p[k]))  # three different models
    forward = stacked_forward(model)
    assert (forward == model.stacked_forward) is (dropout == 0.0)  # the batched form only without dropout
    categorical = torch.tensor([[0, 4, 2], [6, 0, 1], [3, 3, 0], [1, 2, 2]])
    numeric = torch.randn(4, 2)
    out = forward(params, categorical, numeric)
    (out * torch.arange(1.0, 4.0)).sum().backward()
    assert out.shape == (3, 4, 3)
    for k in range(3):
        single = copy_of(model, {name: p[k].detach() for name, p in params.items()})
        mine = single(categorical, numeric)
        torch.testing.assert_close(out[k], mine, rtol=1e-5, atol=1e-6)
        (mine * torch.arange(1.0, 4.0)).sum().backward()
        for name, p in single.named_parameters():
            torch.testing.assert_close(params[name].grad[k], p.grad, rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.parametrize("precision", [None, torch.bfloat16])
def test_the_hand_written_stacked_step_is_autograds_step_bit_for_bit(precision):
    # Shared-bottom stacks train by hand (mtlrec.stacked_bottom): the same numbers as the autograd step, which the
    # tests below hold to separate runs, with a binary and a regression task, two shared layers, three models of
    # different weights, and a model leaving the stack midway (its optimiser state must go with it).
    torch.manual_seed(0)
    config = ModelConfig(size="tiny", embed_dim=3, bottom=[12, 8], tower=[5])
    model = build_model(config, [7, 5, 3], 2, 3)
    cfg = SimpleNamespace(optimizer="adam", lr=0.01, weight_decay=0.0)
    by_hand = HandStack(model, 3, cfg, precision)
    by_autograd = mtlrec.stacked.AutogradStack(
        stack(model, 3), cfg, precision, torch.device("cpu"), stacked_forward(model)
    )
    weights = torch.tensor([[1.0, 0.0, 0.5], [0.5, 0.5, 0.5], [0.1, 0.9, 0.2]])
    is_binary = torch.tensor([True, True, False])
    generator = torch.Generator().manual_seed(1)
    for step in range(30):
        categorical = torch.stack([torch.randint(0, c, (16,), generator=generator) for c in (7, 5, 3)], 1)
        numeric = torch.randn(16, 2, generator=generator)
        labels = torch.cat([torch.randint(0, 2, (16, 2), generator=generator).float(), numeric[:, :1]], 1)
        if step == 12:  # the second model leaves
            for steps in (by_hand, by_autograd):
                steps.select([0, 2])
            weights = weights[[0, 2]]
        outputs = [steps.forward(categorical, numeric) for steps in (by_hand, by_autograd)]
        torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)
        for steps, out in zip((by_hand, by_autograd), outputs, strict=True):
            steps.backward((weights * mtlrec.stacked.task_losses(out, labels, is_binary)).sum())
            steps.step()
    assert by_hand.params.keys() == by_autograd.params.keys()
    for name, value in by_autograd.params.items():
        assert by_hand.params[name].shape == (2, *dict(model.named_parameters())[name].shape)
        torch.testing.assert_close(by_hand.params[name], value.detach(), rtol=0, atol=0, msg=name)


def test_the_hand_written_step_covers_plain_shared_bottom_models_on_a_cpu():
    cpu = torch.device("cpu")
    for size in ("tiny", "small", "medium", "large"):
        assert covers(build_model(ModelConfig(size=size), [7, 5], 2, 2), cpu), size
    for config in (
        ModelConfig(size="xl"),  # towers of two hidden layers
        ModelConfig(size="tiny", dropout=0.1),
        ModelConfig(size="tiny", cross=1),
        ModelConfig(kind="mmoe", size="tiny"),
    ):
        assert not covers(build_model(config, [7, 5], 2, 2), cpu), config
    assert not covers(build_model(ModelConfig(size="tiny"), [], 2, 2), cpu)  # no categorical columns
    assert not covers(SharedBottom([7, 5], 2, 2, bottom=[]), cpu)  # no shared layer
    assert not covers(build_model(ModelConfig(size="tiny"), [7, 5], 2, 2), torch.device("meta"))


def copy_of(model, weights):
    """A copy of `model` holding the given parameters (its buffers kept)."""
    single = copy.deepcopy(model)
    single.load_state_dict(weights, strict=False)
    return single


# Shared-bottom's stacked forward runs each model's products as the very GEMMs a single model runs, and the
# stack's losses reduce as a single model's do, so its copies stay within float32 rounding of their separate runs in
# bfloat16 too (only the embedding gradient sums repeated ids in another order). MMoE stacks through
# vmap(functional_call), whose bfloat16 products round differently from a single model's.
@pytest.mark.parametrize(
    ("kind", "precision", "by_hand"),
    [("shared_bottom", "fp32", True), ("mmoe", "fp32", False), ("shared_bottom", "bf16", True),
     ("shared_bottom", "bf16", False)],
)  # fmt: skip
def test_stacked_training_of_three_weightings_equals_three_separate_runs(
    kind, precision, by_hand, interactions, make_config, monkeypatch
):
    # lr 0.02, patience 1: the three models stop early after different epochs, so each leaves the stack alone.
    base = make_config(epochs=5, patience=1, lr=0.02)
    base.model.kind = kind
    base.train.precision = precision  # bf16: autocast on any CPU (emulated where not native)
    sweep = sweep_of(base)
    experiment = sweep.experiment()
    prepared = prepare(experiment, interactions)
    configs = [sweep.point_config(np.array(w)) for w in ((1.0, 0.0), (0.5, 0.5), (0.2, 0.8))]
    separate = [run_experiment(c, prepared=prepared) for c in configs]
    torch.manual_seed(experiment.train.seed)
    encoder = prepared.encoder
    model = build_model(experiment.model, encoder.cardinalities, encoder.numeric_width, 2, tasks=experiment.tasks)
    start_at_base_rates(model, experiment.tasks, prepared.train.labels)  # as every run and sweep starts
    monkeypatch.setattr(mtlrec.stacked_bottom, "HAND_WRITTEN", by_hand)  # shared-bottom: by hand, or through autograd
    trainer = StackedTrainer(experiment.train, [c.tasks for c in configs], val_metrics=validation_metrics(prepared))
    fits = trainer.fit(model, prepared.train, prepared.val, torch.device("cpu"))
    assert len({fit.epochs_run_ for fit in fits}) > 1  # the models did stop at different epochs
    for run, fit in zip(separate, fits, strict=True):
        assert (fit.status_, fit.epochs_run_, fit.best_epoch_) == (
            run.status,
            run.metrics["epochs_run"],
            run.metrics["best_epoch"],
        )
        assert fit.message_ == run.message
        state = run.model.state_dict()
        for name, value in state.items():
            np.testing.assert_allclose(fit.state[name].numpy(), value.numpy(), atol=TOLERANCE, err_msg=name)
        ours = pd.DataFrame(fit.history_).drop(columns="elapsed")
        theirs = run.history.drop(columns="elapsed")
        assert list(ours.columns) == list(theirs.columns)
        np.testing.assert_allclose(ours.to_numpy(float), theirs.to_numpy(float), atol=TOLERANCE)


@pytest.mark.parametrize("by_hand", [True, False])
def test_a_model_that_diverges_in_a_stack_fails_alone_and_the_others_train_as_if_alone(
    by_hand, interactions, make_config, monkeypatch
):
    # The second of two stacked models gets a NaN output from its third batch on: it leaves the stack with the
    # message a separate run gives, and the first model ends exactly as its separate run (by hand and by autograd).
    base = make_config(epochs=2, patience=0)
    base.train.precision = "fp32"
    sweep = sweep_of(base)
    experiment = sweep.experiment()
    prepared = prepare(experiment, interactions)
    configs = [sweep.point_config(np.array(w)) for w in ((0.5, 0.5), (0.2, 0.8))]
    separate = run_experiment(configs[0], prepared=prepared)
    real_stack, calls = mtlrec.stacked.make_stack, []

    def poisoned_stack(*args):
        steps = real_stack(*args)
        assert isinstance(steps, HandStack) is by_hand
        real = steps.forward

        def forward(*inputs):
            outputs = real(*inputs)
            calls.append(len(outputs))
            if len(calls) >= 3 and len(outputs) == 2:
                with torch.no_grad():
                    outputs[1:] = float("nan")
            return outputs

        steps.forward = forward
        return steps

    monkeypatch.setattr(mtlrec.stacked, "make_stack", poisoned_stack)
    monkeypatch.setattr(mtlrec.stacked_bottom, "HAND_WRITTEN", by_hand)
    torch.manual_seed(experiment.train.seed)
    encoder = prepared.encoder
    model = build_model(experiment.model, encoder.cardinalities, encoder.numeric_width, 2, tasks=experiment.tasks)
    start_at_base_rates(model, experiment.tasks, prepared.train.labels)  # as every run and sweep starts
    fits = StackedTrainer(experiment.train, [c.tasks for c in configs]).fit(
        model, prepared.train, prepared.val, torch.device("cpu")
    )

    assert [f.status_ for f in fits] == ["finished", "failed"]
    assert fits[1].message_.startswith("training diverged: the loss of task 'click' became nan in epoch 1, batch 3;")
    assert calls[3:] == [1] * (len(calls) - 3)  # from then on the stack holds one model
    for name, value in separate.model.state_dict().items():
        np.testing.assert_allclose(fits[0].state[name].numpy(), value.numpy(), atol=TOLERANCE, err_msg=name)


@pytest.mark.parametrize(
    ("dropout", "group_size", "workers", "kind", "tower"),
    [(0.0, 3, 1, "shared_bottom", None), (0.3, 3, 1, "shared_bottom", None), (0.3, 2, 2, "shared_bottom", None),
     (0.3, 1, 2, "shared_bottom", None), (0.3, 3, 1, "mmoe", None), (0.3, 3, 1, "ple", None),
     (0.3, 3, 1, "shared_bottom", [8, 4])],
)  # fmt: skip
def test_sweep_points_have_the_test_metrics_of_separate_runs(
    dropout, group_size, workers, kind, tower, interactions, make_config, tmp_path
):
    # With dropout every group draws the masks its separate runs draw (RunRandom), also with two workers drawing
    # at once (a stack of 2 beside a single run, or three single runs). MMoE's and PLE's towers (one input per task)
    # and towers of two layers run a batched product whose output is a transposed view: dropout drew its mask in
    # that memory order alone and in vmap's order in a stack, so the masks (and the points' metrics) differed.
    base = make_config(epochs=2)
    base.model.dropout = dropout
    base.model.kind = kind
    base.model.tower = tower
    base.train.precision = "fp32"  # as above: equal within float32 rounding, not bfloat16's
    sweep = sweep_of(base)
    store = RunStore(tmp_path)
    result = run_sweep(sweep, store, interactions, group_size=group_size, workers=workers)
    assert json.loads((sweep_folder(store, result.sweep_id) / "sweep.json").read_text())["workers"] == workers
    prepared = prepare(sweep.experiment(), interactions)
    for row in result.points.itertuples():
        saved = store.load(row.run_id)
        alone = run_experiment(saved.config, prepared=prepared)
        for task, metrics in alone.metrics["tasks"].items():
            for metric, value in metrics.items():
                assert saved.metrics["tasks"][task][metric] == pytest.approx(value, abs=TOLERANCE), (task, metric)
        assert saved.metrics["sweep"]["group_size"] in {len(g) for g in _groups(3, group_size, workers)}


@pytest.mark.parametrize(
    ("kind", "by_hand"), [("shared_bottom", True), ("shared_bottom", False), ("ple", False), ("mmoe", False)]
)
def test_with_weight_decay_the_grids_edge_points_stack_and_equal_their_runs(
    kind, by_hand, interactions, make_config, tmp_path, monkeypatch
):
    # A run alone leaves a weight-0 task's own parameters out of its optimiser; in a stack they share a tensor with
    # the other points' rows, and weight decay moved them (their gradient is 0). Their rows are put back after each
    # step, so the edge points stack with the others and still equal their runs.
    base = make_config(epochs=2, weight_decay=5e-2, lr=0.02)
    base.model.kind = kind
    base.train.precision = "fp32"
    monkeypatch.setattr(mtlrec.stacked_bottom, "HAND_WRITTEN", by_hand)
    sweep = sweep_of(base)
    store = RunStore(tmp_path)
    result = run_sweep(sweep, store, interactions, group_size=3, workers=1)
    prepared = prepare(sweep.experiment(), interactions)
    sizes = {}
    for row in result.points.itertuples():
        saved = store.load(row.run_id)
        sizes[tuple(t.weight for t in saved.config.tasks)] = saved.metrics["sweep"]["group_size"]
        alone = run_experiment(saved.config, prepared=prepared)
        for task, metrics in alone.metrics["tasks"].items():
            for metric, value in metrics.items():
                assert saved.metrics["tasks"][task][metric] == pytest.approx(value, abs=TOLERANCE), (task, metric)
        state = torch.load(saved.folder / "model.pt")
        for name, value in alone.model.state_dict().items():
            np.testing.assert_allclose(state[name].numpy(), value.numpy(), atol=TOLERANCE, err_msg=name)
    assert sizes == {(0.0, 1.0): 3, (0.5, 0.5): 3, (1.0, 0.0): 3}


# ------------------------------------------------------------------------------------- runs, store, stop, jobs


def test_references_train_side_by_side_on_two_workers_and_equal_their_runs_alone(
    interactions, make_config, tmp_path, monkeypatch
):
    sweep = sweep_of(make_config(epochs=1), points=2, references=["uncertainty", "dwa"], baseline=True)
    prepared = prepare(sweep.experiment(), interactions)
    alone = {role: run_experiment(sweep.reference_config(role), prepared=prepared) for role in sweep.reference_roles()}
    spans, lock = [], threading.Lock()

    def timed_run(*args, **kwargs):
        start = time.perf_counter()
        time.sleep(0.2)  # a reference on the other worker starts meanwhile, if the references are separate units
        result = run_experiment(*args, **kwargs)
        with lock:
            spans.append((start, time.perf_counter()))
        return result

    monkeypatch.setattr(mtlrec.sweep_engine, "run_experiment", timed_run)
    result = run_sweep(sweep, RunStore(tmp_path), prepared=prepared, group_size=1, workers=2)
    assert result.status == "finished" and sorted(result.references["role"]) == sorted(alone)
    spans.sort()
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False)), spans  # two references at once
    store = RunStore(tmp_path)
    for row in result.references.itertuples():
        assert store.load(row.run_id).metrics["tasks"] == alone[row.role].metrics["tasks"], row.role


def test_the_datas_notes_are_the_sweeps_notes(interactions, make_config, tmp_path):
    # The latest quarter of the rows holds no like: a time split leaves like one class in the test rows. A run says
    # so in its notes; the sweep, shown on its own page, says so in its own.
    frame = interactions.copy()
    frame.loc[frame["timestamp"].rank(pct=True) > 0.75, "like"] = 0
    base = make_config(epochs=1)
    base.split.method = "time"
    result = run_sweep(sweep_of(base, points=2), RunStore(tmp_path), frame)
    assert "task 'like' has one class only in the test rows: its AUC is undefined" in result.notes
    assert not [n for n in result.notes if "weight decay" in n]


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_adams_weight_decay_is_said_to_weigh_more_on_the_points_than_on_a_run(interactions, make_config, tmp_path,
                                                                               optimizer):  # fmt: skip
    # The grid's weights sum to 1 and a plain run's are 1 per task: with Adam's L2 decay, which the loss's scale
    # does not scale, the points were regularised twice as much (2 tasks) and nothing said so (ML review).
    base = make_config(epochs=1)
    base.train.optimizer, base.train.weight_decay = optimizer, 0.01
    result = run_sweep(sweep_of(base, points=2), RunStore(tmp_path), interactions)
    said = [n for n in result.notes if n.startswith("weight decay 0.01 with Adam")]
    assert len(said) == (optimizer == "adam")
    if said:
        assert "regularised about 2x more" in said[0] and "AdamW" in said[0]


def test_a_sweep_saves_every_run_tagged_with_it_and_survives_a_restart(interactions, make_config, tmp_path):
    sweep = sweep_of(make_config(epochs=1), metrics={"like": "logloss"}, references=["dwa"], baseline=True)
    seen = []
    result = run_sweep(sweep, RunStore(tmp_path), interactions, callback=seen.append)
    assert result.status == "finished"
    assert result.points["label"].tolist() == [
        "click 1.00 · like 0.00",
        "click 0.50 · like 0.50",
        "click 0.00 · like 1.00",
    ]
    assert sorted(result.references["role"]) == ["dwa", "single_task"]
    assert result.points["pareto"].any() and not result.references["pareto"].any()
    assert (result.table["seconds"] > 0).all()
    saved_rows = [p.row for p in seen if p.row is not None]
    assert len(saved_rows) == 5 and seen[-1].fraction == pytest.approx(1.0)
    assert {p.role for p in seen if p.row is not None} == {"point", "dwa", "single_task"}

    restarted = RunStore(tmp_path)  # a new server process: everything comes back from disk
    assert len(restarted.list(sweep_id=result.sweep_id)) == 5
    [listed] = list_sweeps(restarted)
    assert (listed["id"], listed["status"], listed["points"], listed["points_done"], listed["references_done"]) == (
        result.sweep_id, "finished", 3, 3, 2,
    )  # fmt: skip
    assert listed["metrics"] == {"click": "auc", "like": "logloss"}
    again = load_sweep(restarted, result.sweep_id)
    pd.testing.assert_frame_equal(again.table, result.table)
    folder = sweep_folder(restarted, result.sweep_id)
    on_disk = pd.read_csv(folder / "sweep.csv")
    assert len(on_disk) == 5 and {"w_click", "w_like", "click_auc", "like_logloss", "pareto", "seconds"} <= set(on_disk)
    assert SweepConfig.from_dict(json.loads((folder / "sweep.json").read_text())["config"]) == sweep


def test_stopping_keeps_the_finished_points_and_marks_the_sweep_stopped(interactions, make_config, tmp_path):
    stop, stopped_at = threading.Event(), []

    def first_point_then_stop(progress):
        if progress.row is not None and not stop.is_set():
            stop.set()
            stopped_at.append(time.perf_counter())

    sweep = sweep_of(make_config(epochs=2), points=6)
    result = run_sweep(sweep, RunStore(tmp_path), interactions, callback=first_point_then_stop, stop=stop,
                       group_size=1, workers=1)  # fmt: skip
    latency = time.perf_counter() - stopped_at[0]
    assert result.status == "stopped"
    assert result.message == "stopped by the user: 1 of 6 points finished"
    assert len(result.points) == 1
    assert latency < 5  # well under a second on a quiet machine; generous for a shared one
    assert list_sweeps(RunStore(tmp_path))[0]["status"] == "stopped"


def test_a_sweep_left_running_by_a_dead_process_is_listed_as_interrupted(make_config, tmp_path):
    store = RunStore(tmp_path)
    sweep_id = create_sweep(store, sweep_of(make_config()))
    path = sweep_folder(store, sweep_id) / "sweep.json"
    info = json.loads(path.read_text())
    path.write_text(json.dumps({**info, "pid": 2**22 + 12345}))  # no such process
    [listed] = list_sweeps(store)
    assert listed["status"] == "interrupted" and listed["points_done"] == 0
    assert load_sweep(store, sweep_id).status == "interrupted"


def test_a_sweep_job_trains_in_the_background_and_frees_its_slot(interactions, make_config, tmp_path):
    from mtlrec.jobs import JobLimiter

    limiter = JobLimiter(1)
    job = SweepJob(sweep_of(make_config(epochs=1)), RunStore(tmp_path), interactions, limiter=limiter).start()
    assert job.sweep_id and limiter.active == 1
    state = job.join(60)
    assert state.status == "finished" and state.points_done == 3 and len(state.rows) == 3
    assert limiter.active == 0


# -------------------------------------------------------------------------------------------------------- CLI


def test_cli_sweep_of_three_points_writes_the_table_and_the_front(interactions, tmp_path, capsys):
    data = tmp_path / "interactions.csv"
    interactions.to_csv(data, index=False)
    out, home = tmp_path / "out", tmp_path / "home"
    code = main(["sweep", str(data), "--tasks", "click,like", "--points", "3", "--epochs", "1", "--size", "tiny",
                 "--metrics", "auc,logloss", "--references", "none", "--no-baseline", "--home", str(home),
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 3 and (table["role"] == "point").all()
    assert table["w_click"].tolist() == [1.0, 0.5, 0.0]
    assert {"click_auc", "like_logloss", "pareto", "seconds", "run_id"} <= set(table.columns)
    assert table["pareto"].any()
    html = (out / "pareto.html").read_text(encoding="utf-8")
    assert "Pareto front" in html and "plotly" in html
    assert '<script src="http' not in html and "<script src='http" not in html  # plotly.js inline: opens offline
    assert (out / "pareto.html").stat().st_size < 8_000_000
    printed = capsys.readouterr().out
    assert "[  3/3]" in printed and "on the Pareto front" in printed
    assert "trained" in printed and "worker thread" in printed  # how the points trained
    [listed] = list_sweeps(RunStore(home))
    assert listed["points_done"] == 3


def test_cli_sweep_refuses_fixed_weights_and_a_single_task(interactions, tmp_path, capsys):
    data = tmp_path / "interactions.csv"
    interactions.to_csv(data, index=False)
    assert main(["sweep", str(data), "--tasks", "click,like", "--weights", "1,2", "--home", str(tmp_path)]) == 2
    assert "--weights does not apply" in capsys.readouterr().err
    assert main(["sweep", str(data), "--tasks", "click", "--home", str(tmp_path)]) == 2
    assert "choose 2 or 3 tasks" in capsys.readouterr().err
    # --points 0 is refused, not quietly read as the default 11
    assert main(["sweep", str(data), "--tasks", "click,like", "--points", "0", "--home", str(tmp_path)]) == 2
    assert "at least 2 points per edge, got 0" in capsys.readouterr().err
    assert not os.listdir(tmp_path / "sweeps") if (tmp_path / "sweeps").exists() else True


# ----------------------------------------------------------------------------------------------------- charts


def sweep_frame() -> tuple[pd.DataFrame, pd.DataFrame]:
    points = pd.DataFrame(
        {
            "run_id": ["a", "b", "c", "d"],
            "label": [
                "click 1.00 · like 0.00",
                "click 0.50 · like 0.50",
                "click 0.25 · like 0.75",
                "click 0.00 · like 1.00",
            ],
            "w_click": [1.0, 0.5, 0.25, 0.0],
            "w_like": [0.0, 0.5, 0.75, 1.0],
            "w_purchase": [0.0, 0.0, 0.0, 0.0],
            "click_auc": [0.72, 0.71, 0.66, 0.50],
            "like_logloss": [0.70, 0.60, 0.62, 0.50],
            "purchase_auc": [0.60, 0.62, 0.61, 0.65],
            "pareto": [True, True, False, True],
        }
    )
    references = pd.DataFrame(
        {"run_id": ["u", "s"], "label": ["uncertainty weighting", "single-task models"],
         "click_auc": [0.70, 0.72], "like_logloss": [0.61, 0.55], "purchase_auc": [0.6, 0.6]}
    )  # fmt: skip
    return points, references


def test_an_undefined_metric_is_reported_only_from_points_that_were_evaluated(make_config):
    sweep = sweep_of(make_config())  # click AUC against like AUC
    table = pd.DataFrame(
        {"role": ["point"] * 3, "status": ["finished", "failed", "running"],
         "click_auc": [0.7, np.nan, np.nan], "click_logloss": [0.5, np.nan, np.nan],
         "like_auc": [np.nan] * 3, "like_logloss": [0.3, np.nan, np.nan]}
    )  # fmt: skip
    [problem] = undefined_objectives(table, sweep)
    assert problem.startswith("like AUC is undefined at every point") and "judge like by log loss instead" in problem
    # A labelled-only task without a labelled test row: no metric of it at all, and that is the reason given
    sweep.base.tasks[1].labelled_only = True
    [problem] = undefined_objectives(table.assign(like_logloss=np.nan), sweep)
    assert problem.startswith("like AUC is undefined at every point: it is trained on its labelled rows only, and the "
                              "test rows hold none of them")  # fmt: skip
    sweep.base.tasks[1].labelled_only = False
    # Points without any metric yet (failed in their first epoch, still training) say nothing about the test rows.
    assert undefined_objectives(table.iloc[1:], sweep) == []
    assert undefined_objectives(table.iloc[1:].drop(columns=["click_auc", "click_logloss"]), sweep) == []


def test_pareto_chart_joins_the_front_in_order_and_marks_references():
    points, references = sweep_frame()
    labels = {"click_auc": "click AUC", "like_logloss": "like log loss"}
    fig = charts.pareto_front(points, ["click_auc", "like_logloss"], [True, False], references, ["w_click"], labels)
    assert [t.name for t in fig.data if t.showlegend is not False] == [
        "dominated", "Pareto front", "uncertainty weighting", "single-task models"
    ]  # fmt: skip
    line, front = [t for t in fig.data if t.name == "Pareto front"]  # its line, then its points
    assert line.mode == "lines" and list(line.x) == [0.5, 0.71, 0.72]  # joined along the x axis
    assert front.mode == "markers" and [row[0] for row in front.customdata] == ["d", "b", "a"]  # run ids for clicks
    assert "weight of" not in front.hovertemplate and "w_click" in front.hovertemplate
    assert fig.layout.xaxis.title.text == "click AUC ↑" and fig.layout.yaxis.title.text == "like log loss ↓"
    assert "3 of 4 points" in fig.layout.title.text


def test_pareto_chart_of_three_metrics_has_one_panel_per_pair():
    points, references = sweep_frame()
    fig = charts.pareto_front(points, ["click_auc", "like_logloss", "purchase_auc"], [True, False, True], references)
    titles = [fig.layout[axis].title.text for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2", "xaxis3", "yaxis3")]
    assert titles == [
        "click_auc ↑",
        "like_logloss ↓",
        "click_auc ↑",
        "purchase_auc ↑",
        "like_logloss ↓",
        "purchase_auc ↑",
    ]
    assert all(t.mode == "markers" for t in fig.data)  # projections of a surface are not joined


def test_weight_metric_curves_have_one_panel_per_task_and_references_as_lines():
    points, references = sweep_frame()
    fig = charts.weight_metric_curves(
        points, ["click", "like"], ["w_click", "w_like"], ["click_auc", "like_logloss"], [True, False], references
    )
    assert fig.layout.xaxis.title.text == "loss weight of click (share)"
    assert fig.layout.yaxis2.title.text == "like_logloss ↓"
    assert {t.name for t in fig.data} >= {"click", "like", "uncertainty weighting", "single-task models"}


def test_ternary_plot_colours_points_by_a_metric_better_end_bright():
    points, _ = sweep_frame()
    fig = charts.ternary_weights(points, ["click", "like", "purchase"], ["w_click", "w_like", "w_purchase"],
                                 "like_logloss", higher_is_better=False)  # fmt: skip
    points_trace, front_trace = fig.data
    assert points_trace.type == "scatterternary" and points_trace.marker.reversescale is True
    assert [row[0] for row in points_trace.customdata] == ["a", "b", "c", "d"]  # run ids for clicks
    assert fig.layout.ternary.aaxis.title.text == "weight of click"
    assert front_trace.name == "Pareto front" and list(front_trace.b) == [0.0, 0.5, 1.0]  # the front ringed


def test_the_plan_of_a_sweep_reads_as_a_sentence():
    assert plan_text({"group_size": 6, "groups": 2, "workers": 2}) == (
        "Up to 6 weightings trained at once (stacked), in 2 groups on 2 worker threads."
    )
    assert (
        plan_text({"group_size": 1, "groups": 11, "workers": 1})
        == "Weightings trained one at a time, on 1 worker thread."
    )
    assert plan_text({"group_size": 6, "groups": 2, "workers": 2, "in_processes": 1}) == (
        "Up to 6 weightings trained at once (stacked), in 2 groups on 2 worker threads, 1 of 2 in training processes."
    )
    assert plan_text({}) == ""  # a sweep saved before plans were recorded


def test_sweep_charts_explain_missing_data_instead_of_failing():
    empty = pd.DataFrame()
    assert "no points yet" in charts.pareto_front(empty, ["a_auc", "b_auc"], [True, True]).layout.annotations[0].text
    fig = charts.weight_metric_curves(empty, ["a"], ["w_a"], ["a_auc"], [True])
    assert "no column" in fig.layout.annotations[0].text
    fig = charts.ternary_weights(empty, ["a", "b"], ["w_a", "w_b"], "a_auc", True)
    assert "3 weight columns" in fig.layout.annotations[0].text


def test_a_point_trained_alone_records_the_precision_it_trained_in(interactions, make_config, tmp_path):
    # A group of one trains with a plain Trainer; its metrics.json said "fp32" whatever the precision was.
    base = make_config(epochs=1)
    base.train.precision = "bf16"
    store = RunStore(tmp_path)
    result = run_sweep(sweep_of(base, points=2), store, interactions, group_size=1, workers=1)
    assert [store.load(r).metrics["precision"] for r in result.points["run_id"]] == ["bf16", "bf16"]


@pytest.mark.parametrize(("group_size", "workers"), [(None, -1), (None, 0), (0, None), (-2, 2)])
def test_a_group_size_or_worker_count_below_1_is_refused_before_the_sweep_starts(
    group_size, workers, interactions, make_config, tmp_path
):
    store = RunStore(tmp_path)

    with pytest.raises(MtlrecError, match="must be at least 1"):
        run_sweep(sweep_of(make_config(epochs=1)), store, interactions, group_size=group_size, workers=workers)

    assert list_sweeps(store) == []


def test_sweep_config_check_refuses_a_negative_grid_seed(make_config):
    with pytest.raises(MtlrecError, match="the seed of the random weightings must be from 0 to 4294967295, got -1"):
        sweep_of(make_config(), grid="dirichlet", samples=3, seed=-1).check()


def test_a_stacked_model_whose_monitored_metric_is_undefined_watches_the_validation_loss_as_a_trainer_does(
    interactions, make_config
):
    # As Trainer.fit: a NaN AUC (no positives among the validation rows) kept epoch 1 and stopped after `patience`
    # epochs as "no improvement"; each model of the stack now watches its weighted validation loss, with a note.
    base = make_config(epochs=4, patience=1, lr=0.02)
    base.train.monitor = "click:auc"
    sweep = sweep_of(base)
    experiment = sweep.experiment()
    prepared = prepare(experiment, interactions)
    configs = [sweep.point_config(np.array(w)) for w in ((1.0, 0.0), (0.3, 0.7))]
    torch.manual_seed(experiment.train.seed)
    encoder = prepared.encoder
    model = build_model(experiment.model, encoder.cardinalities, encoder.numeric_width, 2, tasks=experiment.tasks)
    start_at_base_rates(model, experiment.tasks, prepared.train.labels)  # as every run and sweep starts
    undefined = lambda raw: {"click": {"auc": float("nan")}, "like": {"auc": float("nan")}}  # noqa: E731

    fits = StackedTrainer(experiment.train, [c.tasks for c in configs], val_metrics=undefined).fit(
        model, prepared.train, prepared.val, torch.device("cpu")
    )

    for fit in fits:
        losses = [row["val_loss"] for row in fit.history_]
        assert [row["monitor"] for row in fit.history_] == losses
        assert fit.best_epoch_ == int(np.argmin(losses)) + 1
        assert len(fit.notes_) == 1 and fit.notes_[0].startswith("early stopping was to watch click's validation auc")
        assert fit.rows_trained_ == len(prepared.train) * fit.epochs_run_  # each model's own rows (its rows/s)


@pytest.mark.parametrize("group_size", [1, 2])
def test_a_sweep_points_run_keeps_its_fits_notes(interactions, make_config, tmp_path, monkeypatch, group_size):
    # A point whose early-stopping metric was undefined switched to the validation loss, but its saved run said
    # nothing: the point's notes began empty, not with its fit's.
    def undefined_metric(monitor, tasks, val_loss, metrics):
        if monitor == "loss":
            return sum(t.weight * val_loss[t.name] for t in tasks), False
        return float("nan"), True

    monkeypatch.setattr(mtlrec.train, "monitor_value", undefined_metric)  # what train.watched reads, for both fits
    base = make_config(epochs=2)
    base.train.monitor = "click:auc"
    store = RunStore(tmp_path)

    result = run_sweep(sweep_of(base, points=2), store, interactions, group_size=group_size, workers=1)

    for run_id in result.points["run_id"]:
        notes = store.load(run_id).metrics["notes"]
        assert any(n.startswith("early stopping was to watch click's validation auc") for n in notes), notes


# Pinned by a mutation audit (2026-12-07): each test fails on a plausible one-line change that the suite let pass.


def test_random_weightings_are_uniform_on_the_simplex():
    from mtlrec.sweep import dirichlet_weights

    weights = dirichlet_weights(2, 4000, seed=0)

    assert abs(weights[:, 0].var() - 1 / 12) < 0.005  # Beta(1, 1); Dirichlet(2, 2) would give 1/20


def test_sweep_points_train_fixed_weights_and_judge_at_the_runs_k(make_config):
    from mtlrec.sweep import SweepConfig, judged_metrics

    base = make_config()
    base.weighting.method = "uncertainty"
    base.k = 5
    sweep = SweepConfig(base=base, tasks=["click", "like"])

    assert sweep.point_config(np.array([0.3, 0.7])).weighting.method == "fixed"  # else the grid means nothing
    assert "ndcg@5" in judged_metrics(sweep.experiment(), "click")


def test_an_esmm_points_parent_at_weight_0_is_trained_through_its_conditional_task(make_config):
    # Sweep's cards said "click AUC (not trained)" of an ESMM parent its purchase trains (a diff review): the page
    # asks the point's config, as Results and Runs do
    from mtlrec.sweep import SweepConfig

    base = make_config()
    base.model.kind, base.model.funnel = "esmm", {"like": "click"}
    sweep = SweepConfig(base=base, tasks=["click", "like"])
    assert sweep.point_config(np.array([0.0, 1.0])).untrained_tasks() == set()
    assert sweep.point_config(np.array([1.0, 0.0])).untrained_tasks() == {"like"}
    base.model.kind, base.model.funnel = "shared_bottom", {}
    plain = SweepConfig(base=base, tasks=["click", "like"])
    assert plain.point_config(np.array([0.0, 1.0])).untrained_tasks() == {"click"}
