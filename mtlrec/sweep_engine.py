"""The sweep's engine: prepare once, plan the groups, train them on worker threads, save each run as it ends.

mtlrec.sweep.run_sweep is the way in. How a sweep goes:
1. the data is prepared and encoded once, and the model is built once from the training seed's random stream (as
   run_experiment does), so every point starts from the state its separate run would start from;
2. the group size K is measured (`Sweeper.group_size`): stacked training (mtlrec.stacked) where it costs less per
   model than one model at a time, plain mtlrec.train.Trainer runs otherwise;
3. groups run on up to MAX_WORKERS threads with one core each (on a CPU; every group draws its dropout masks, if
   any, from the stream its separate runs would, mtlrec.train.RunRandom, so threads cannot change each other's
   runs); a thread hands its group to a warm training process when one is ready and free (mtlrec.procs: no GIL
   shared with the other workers), else trains it itself (fit_group either way). Each reference is a run of its
   own (run_experiment's, trained in a process the same way), a unit after the groups for whichever worker is free;
4. each trained point is evaluated with experiment.trained_result by the first free worker (a task of its own,
   ahead of the next group: Tasks), saved in the run store tagged with the sweep, and sweep.csv is rewritten; a stop
   drops the runs in flight within about a batch.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from mtlrec import procs, stacked_bottom
from mtlrec.config import ExperimentConfig, TrainConfig
from mtlrec.data import Loaded, Prepared, prepare
from mtlrec.encode import Encoded
from mtlrec.errors import MtlrecError
from mtlrec.experiment import (
    RunResult,
    ValidationMetrics,
    initial_model,
    label_values,
    run_experiment,
    trained_result,
    validation_metrics,
)
from mtlrec.models import build_model, start_at_base_rates
from mtlrec.resources import HEADROOM, available_memory, check_memory, estimate_memory
from mtlrec.runs import RunStore, atomic_write_text, default_run_name
from mtlrec.stacked import AutogradStack, StackedFit, StackedTrainer, make_stack, stackable
from mtlrec.sweep import (
    SweepConfig,
    SweepProgress,
    _read_info,
    _write_info,
    role_of,
    sweep_csv,
    sweep_folder,
    sweep_table,
)
from mtlrec.train import (
    RunRandom,
    Trainer,
    has_dropout,
    resolve_device,
    resolve_precision,
    scratch,
    stop_reason,
    to_tensors,
)
from mtlrec.weighting import build_weighting

MAX_WORKERS = 4  # parallel worker threads on a CPU (one core each)
MAX_GROUP = 64  # models in one stack
TWO_WAVES_FROM = 8  # points per worker from which a sweep's stacks come in at least two waves (see stack_cap)
BATCH_SECONDS = 0.2  # one stacked mini-batch should take at most about this long, so a stop is felt at once
# Stack only when that costs at most this share of training the models one at a time: a plain run is the very
# computation of a separate run, while stacked matrix products round differently (see mtlrec.stacked), so a
# marginal gain is not worth it.
STACKING_GAIN = 0.75
# ...and at most this share where the stack is shared-bottom's hand-written step (mtlrec.stacked_bottom), whose
# copies equal their separate runs (bit for bit on the bundled sample; the embedding gradient may sum repeated ids
# in another order): there any clear gain is worth taking. With 0.75, a quiet bench_sweep.py round measured stacks
# at 0.76-0.87 of a plain step, trained its 11 points one at a time and took 7.1x one run, where stacks of 6 took
# 5.9x in the same round (and 4.1-4.3x in the others).
EXACT_STACKING_GAIN = 0.9
PREFER_LARGER = 1.2  # the planner takes the largest stack costing at most this much more per model than the cheapest
REFERENCE_COST = 1.5  # a reference run's cost in grid points, for the ETA (a rough guess: no stacking, more work)
PROGRESS_EVERY = 0.25  # seconds between progress callbacks while training (a saved run reports at once)
PROCESS_BYTES = 500 * 2**20  # a training process's own memory: torch, scikit-learn (measured about 435 MB)


class Tracker:
    """Thread-safe progress in units of grid points (a reference counts REFERENCE_COST): ETA and the callback."""

    def __init__(self, sweep_id: str, points: int, references: int, callback):
        self.sweep_id, self.points_total, self.references_total = sweep_id, points, references
        self.total = points + REFERENCE_COST * references
        self.callback = callback
        self.partial: dict[str, float] = {}  # work done by the units still running, by unit
        self.running: dict[str, str] = {}  # what each running unit does, for people
        self.done = 0.0
        self.points_done = self.references_done = 0
        self.stage = "preparing the data"
        self.start = time.perf_counter()
        self.work_start: float | None = None  # when training started: preparing is not part of the rate
        self.last = 0.0
        self.lock = threading.Lock()

    def begin(self, key: str, what: str) -> None:
        with self.lock:
            self.work_start = self.work_start or time.perf_counter()
            self.running[key] = what
            self._emit(None, force=True)

    def progress(self, key: str, work: float) -> None:
        with self.lock:
            self.partial[key] = work
            self._emit(None, force=False)

    def finished(self, key: str, work: float, row: dict, role: str) -> None:
        """A run of the unit `key` was saved: its work moves from partial to done."""
        with self.lock:
            self.partial[key] = max(0.0, self.partial.get(key, 0.0) - work)
            self.done += work
            self.points_done += role == "point"
            self.references_done += role != "point"
            self._emit(row, force=True, role=role)

    def end(self, key: str) -> None:
        with self.lock:
            self.running.pop(key, None)
            self.partial.pop(key, None)

    def _emit(self, row: dict | None, force: bool, role: str | None = None) -> None:
        now = time.perf_counter()
        if self.callback is None or (not force and now - self.last < PROGRESS_EVERY):
            return
        self.last = now
        done = min(self.total, self.done + sum(self.partial.values()))
        eta = None
        if self.work_start is not None and done > 0.02 * self.total:
            eta = (now - self.work_start) / done * (self.total - done)
        stage = " · ".join(self.running.values()) or self.stage
        fraction = done / self.total if self.total else 1.0
        self.callback(
            SweepProgress(
                sweep_id=self.sweep_id, stage=stage, points_done=self.points_done, points_total=self.points_total,
                references_done=self.references_done, references_total=self.references_total, fraction=fraction,
                elapsed=now - self.start, eta=eta, row=row, role=role,
            )
        )  # fmt: skip


class AnyEvent:
    """is_set() when any of the events is: the user's stop, or a failure in another worker."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)

    @property
    def reason(self) -> str | None:
        """The reason of the first event set that has one (mtlrec.jobs.StopFlag)."""
        return next((stop_reason(e) for e in self.events if e.is_set() and stop_reason(e)), None)


class Sweeper:
    """One sweep's run: the plan, the workers, each run saved as it finishes."""

    def __init__(self, config: SweepConfig, store: RunStore, sweep_id: str, stop: threading.Event, callback):
        self.config, self.store, self.sweep_id, self.stopped = config, store, sweep_id, stop
        self.failure = threading.Event()  # set when a worker fails: the others stop too
        self.halt = AnyEvent(stop, self.failure)
        self.tracker = Tracker(sweep_id, config.n_points(), len(config.reference_roles()), callback)
        self.rows: list[dict] = []  # RunStore rows of the saved runs
        self.lock = threading.Lock()
        self.notes: list[str] = []
        self.plan: dict = {}
        self.step_ratios: dict[int, float] = {}  # the planner's timings: a stack's step per model / one model's
        self.step_seconds: dict[int, float] = {}  # and a stack's step per model in seconds, which picks among stacks
        self.started = time.perf_counter()

    def run(self, frame, test_frame, prepared: Prepared | None, loaded: Loaded | None, group_size: int | None,
            workers: int | None):  # fmt: skip
        """Prepare, plan and train everything; returns (status, message)."""
        experiment = self.config.experiment()
        warm_processes(experiment.train.device, workers)  # used by the groups if ready by then (no waiting)
        prepared = prepared if prepared is not None else prepare(experiment, frame, test_frame, loaded=loaded)
        if self.stopped.is_set():
            return "stopped", f"stopped {_why(self.stopped)} before training started"
        if prepared.config.task_names != experiment.task_names:
            raise ValueError(f"prepared data has tasks {prepared.config.task_names}; the sweep {experiment.task_names}")
        self.experiment, self.prepared = experiment, prepared
        self.notes += prepared.notes  # what the data said (a task with one class in the test rows...), as a run does
        tr = experiment.train
        if tr.optimizer == "adam" and tr.weight_decay > 0 and len(experiment.tasks) > 1:
            # Adam's decay is an L2 term in the gradient: scaling the loss scales the gradient, not the decay.
            self.notes.append(
                f"weight decay {tr.weight_decay:g} with Adam is an L2 term added to the gradient, so it weighs more "
                f"against a grid point's losses (weights summing to 1) than a plain run's or a reference's (1 per "
                f"task, summing to {len(experiment.tasks)}): the points are regularised about "
                f"{len(experiment.tasks)}x more; with AdamW (decoupled decay) only the weights' ratios matter"
            )
        self.device = resolve_device(experiment.train.device)
        encoder = prepared.encoder
        self.memory = estimate_memory(experiment, len(prepared.frame), encoder.cardinalities, encoder.numeric_width)
        check_memory(self.memory)
        # As run_experiment: every point starts from this state, and its dropout draws (if any) from where the
        # initialisation left the run's stream.
        self.random = RunRandom(experiment.train.seed, self.device)
        with self.random.drawing():
            self.template = build_model(
                experiment.model, encoder.cardinalities, encoder.numeric_width, len(experiment.tasks),
                tasks=experiment.tasks,
            )  # fmt: skip
        start_at_base_rates(self.template, experiment.tasks, prepared.train.labels)
        self.val_metrics = validation_metrics(prepared)
        self.y_test = label_values(prepared.test_frame, encoder, prepared.test)
        with scratch(self.device):
            stacks = stackable(copy.deepcopy(self.template), prepared.train, self.device)
        if not stacks:
            self.notes.append(f"{experiment.model.kind} cannot be stacked with vmap: points train one at a time")
        # A GPU is filled by one worker. With dropout, workers take turns drawing masks (RunRandom) and overlap the
        # rest of their steps.
        parallel = self.device.type == "cpu"
        workers = (workers or _cpu_workers()) if parallel else 1
        self.processes = parallel and workers > 1 and procs.enabled() and self._processes_fit(workers)
        weights = self.config.weights()
        threads = torch.get_num_threads()
        if self.device.type == "cpu":
            # One core per worker. An OpenMP team waits for its slowest thread: on a machine shared with other work
            # we measured runs 5-12x slower with 2 intra-op threads than with 1 (benchmarks/bench_sweep.py).
            torch.set_num_threads(1)
        try:
            if not stacks:
                group_size = 1
            elif group_size is None:
                group_size = self.group_size(len(weights), workers)
            groups = _groups(len(weights), group_size, workers)
            self.plan = {"group_size": max(len(g) for g in groups), "groups": len(groups), "workers": workers,
                         "step_ratios": self.step_ratios, "step_seconds": self.step_seconds}  # fmt: skip
            self.save_info("running", "")
            units: list[Callable[[], None]] = [
                lambda g=g, i=i: self._train_group(g, weights, f"points {i + 1}/{len(groups)}")
                for i, g in enumerate(groups)
            ]
            units += self.reference_units()
            self._execute(units, workers)
        finally:
            torch.set_num_threads(threads)
            procs.forget(self.sweep_id)
        if self.stopped.is_set():
            done = sum(role_of(r["summary"], self.config) == "point" for r in self.rows)
            return "stopped", f"stopped {_why(self.stopped)}: {done} of {len(weights)} points finished"
        return "finished", ""

    def _processes_fit(self, workers: int) -> bool:
        """Whether the training processes' copies of the training and validation rows fit in memory beside the
        run's estimate (else the groups train in threads, sharing the rows): per process, the rows pickled here,
        received there and unpickled there, and PROCESS_BYTES of its own."""
        available = available_memory()
        rows = sum(a.nbytes for e in (self.prepared.train, self.prepared.val) for a in (e.categorical, e.numeric,
                                                                                        e.labels))  # fmt: skip
        return available is None or self.memory.total + workers * (3 * rows + PROCESS_BYTES) <= HEADROOM * available

    def group_size(self, n_points: int, workers: int) -> int:
        """Models per stack, measured here: among the K whose stacked training step costs at most STACKING_GAIN
        (EXACT_STACKING_GAIN for the hand-written step) of one model's step (timed beside it) per model, the largest whose step per model is within PREFER_LARGER of
        the cheapest; else 1 (points train one at a time, plain). The ratios timed go to self.step_ratios.

        K doubles from 2 up to a cap: a stacked batch at most BATCH_SECONDS (a stop is felt at once), a group for
        every worker, all stacks within the memory free now, MAX_GROUP. On a CPU a stacked matrix product costs
        what K separate ones do: stacking pays for small models, whose step is mostly overhead, not for large
        ones; on a GPU it fills the device.
        """
        train, cfg = self.prepared.train, self.experiment.train
        plain = StepTimer(self.template, train, cfg, self.device, stacked=0)
        cap = min(stack_cap(n_points, workers), int(BATCH_SECONDS / max(plain(), 1e-6)))
        available = available_memory()
        if available is not None:
            per_model = self.memory.model_bytes + self.memory.activation_bytes
            cap = min(cap, int((HEADROOM * available - self.memory.data_bytes) / max(per_model, 1) / workers))
        ratios, seconds = {}, {}
        for k in [k for k in (2, 4, 8, 16, 32) if k < cap] + ([cap] if cap >= 2 else []):
            stacked = StepTimer(self.template, train, cfg, self.device, stacked=k)
            # Each stack against plain steps timed just before and just after it, the slower of the two: a burst of
            # other work (another job, an OpenMP team still spinning) then moves both sides. Timed apart, such a
            # burst once made a sweep at `small` train its points one at a time, 1.8x slower; stacking where it
            # barely pays costs nothing of the kind.
            before = plain()
            seconds[k] = stacked() / k
            ratios[k] = seconds[k] / max(before, plain())
            del stacked
        self.step_ratios = {k: round(r, 3) for k, r in ratios.items()}
        self.step_seconds = {k: round(t, 6) for k, t in seconds.items()}
        exact = (
            self.template is not None
            and stacked_bottom.HAND_WRITTEN
            and stacked_bottom.covers(self.template, self.device)
        )
        stacking = [k for k, r in ratios.items() if r < (EXACT_STACKING_GAIN if exact else STACKING_GAIN)]
        if not stacking:
            return 1
        # A stack's cost per model falls with K (its overhead is shared) and its arithmetic does not change, so the
        # larger of two near-equal timings is the better bet: bursts of other work had made stacks of 2 or 4 look
        # cheapest, and 11-point sweeps took 5.9-6.1x one run at `small` (4.2-4.7x with stacks of 6) and 4.6x at
        # `tiny` (3.1x) in bench_sweep.py. The stacks are compared by their own step times, not by their ratios to
        # plain steps that a burst may have slowed.
        cheapest = min(seconds[k] for k in stacking)
        return max(k for k in stacking if seconds[k] <= PREFER_LARGER * cheapest)

    def _execute(self, units: list[Callable[[], None]], workers: int) -> None:
        """Run the units on `workers` threads, and the evaluations they queue (Tasks); a failure in one stops the
        others and is raised here."""
        self.tasks = Tasks(units)
        errors: list[BaseException] = []

        def work() -> None:
            if workers > 1:
                torch.set_num_threads(1)  # one core per worker (see run)
            while (task := self.tasks.next()) is not None:
                try:
                    task()
                except BaseException as exc:
                    errors.append(exc)
                    self.failure.set()
                finally:
                    self.tasks.done()

        if workers == 1:
            work()
        else:
            threads = [threading.Thread(target=work, name=f"mtlrec-sweep-{i}", daemon=True) for i in range(workers)]
            for thread in threads:
                thread.start()
            try:
                for thread in threads:
                    thread.join()
            except BaseException:  # e.g. Ctrl-C in the main thread: the workers stop within a batch, then it goes on
                self.failure.set()
                for thread in threads:
                    thread.join()
                raise
        if errors:
            raise errors[0]

    def _train_group(self, group: list[int], weights: np.ndarray, what: str) -> None:
        """Train a group's points (stacked; plain for a group of one), then evaluate and save each."""
        if self.halt.is_set():
            return
        key = f"group {group[0]}"
        self.tracker.begin(key, f"training {what} ({len(group)} weighting{'s' if len(group) > 1 else ''})")
        configs = [self.config.point_config(weights[i]) for i in group]
        model = copy.deepcopy(self.template)
        try:
            fits = self._fit(configs, model, key)
        except BaseException:
            self.tracker.end(key)  # a failed group leaves the progress line too
            raise
        # Each point's evaluation is a task of its own, for whichever worker is free first: at the end of a sweep
        # the last group's points are evaluated side by side instead of one after the other on its worker.
        left = [len(fits)]
        for config, fit in zip(configs, fits, strict=True):
            self.tasks.add(lambda c=config, f=fit: self._finish_point(c, f, len(group), key, left))

    def _fit(self, configs: list[ExperimentConfig], model, key: str) -> list[StackedFit]:
        """Train a group's configs from `model` (a copy of the template): in a warm training process when one is
        free (mtlrec.procs), else in this thread; the same computation either way."""
        on_share = lambda share: self.tracker.progress(key, share * len(configs))  # noqa: E731
        worker = procs.acquire() if self.processes else None
        if worker is None:
            train, val = self.prepared.train, self.prepared.val
            return fit_group(configs, self.experiment.train, model, train, val, self.val_metrics, self.random.copy(),
                             self.device, self.halt, on_share)  # fmt: skip
        try:
            job = GroupFit(configs, self.experiment.train, model, self.random.copy(), self.device,
                           stacked_bottom.HAND_WRITTEN)  # fmt: skip
            fits = worker.run(job, self.sweep_id, self._process_data, on_share, self.halt)
        finally:
            procs.release(worker)
        with self.lock:
            self.plan["in_processes"] = self.plan.get("in_processes", 0) + 1
        return fits

    def _process_data(self) -> tuple[Encoded, Encoded, ValidationMetrics]:
        """What a training process keeps for the sweep's groups (sent once per process)."""
        return self.prepared.train, self.prepared.val, self.val_metrics

    def _finish_point(self, config: ExperimentConfig, fit: StackedFit, group_size: int, key: str, left: list[int]):
        """Evaluate and save a trained point (unless the sweep is stopping: unfinished points would distort the
        front); the last of its group ends the group's progress entry."""
        try:
            if not self.halt.is_set():
                self._save(self._point_result(config, fit, group_size), key, "point")
        finally:
            with self.lock:
                left[0] -= 1
                last = left[0] == 0
            if last:
                self.tracker.end(key)

    def reference_units(self) -> list[Callable[[], None]]:
        """One unit per reference run (adaptive weightings, single-task models), after the groups: whichever worker
        is free takes the next, so the references of a sweep train side by side (run_experiment draws from its own
        random stream, so they are the runs they would be alone)."""
        return [lambda role=role: self._run_reference(role) for role in self.config.reference_roles()]

    def _run_reference(self, role: str) -> None:
        """One reference, as a normal run of its own."""
        if self.halt.is_set():
            return
        key = f"reference {role}"
        self.tracker.begin(key, f"reference: {role.replace('_', '-')}")
        config = self.config.reference_config(role)
        on_share = lambda share: self.tracker.progress(key, REFERENCE_COST * share)  # noqa: E731
        try:
            worker = procs.acquire() if self.processes else None
            if worker is None:
                result = run_experiment(config, prepared=self.prepared, stop=self.halt,
                                        callback=lambda p: on_share(_share(p)))  # fmt: skip
            else:
                try:
                    result = self._reference_in_process(worker, config, on_share)
                finally:
                    procs.release(worker)
            if not self.halt.is_set():
                self._save(result, key, role)
        finally:
            self.tracker.end(key)

    def _reference_in_process(self, worker, config: ExperimentConfig, on_share) -> RunResult:
        """run_experiment's run with its training in a training process: the model is built here from the run's
        seed, trained there (fit_group, a group of one), evaluated here."""
        model, random = initial_model(config, self.prepared, self.device)
        job = GroupFit([config], config.train, model, random, self.device, stacked_bottom.HAND_WRITTEN)
        [fit] = worker.run(job, self.sweep_id, self._process_data, on_share, self.halt)
        model.load_state_dict(fit.state)
        with self.lock:
            self.plan["references_in_processes"] = self.plan.get("references_in_processes", 0) + 1
        return trained_result(config, self.prepared, model, fit, self.device, fit.notes_, self.y_test)

    def _point_result(self, config: ExperimentConfig, fit: StackedFit, group_size: int) -> RunResult:
        """The RunResult run_experiment would make of the same training: metrics.json, predictions, model."""
        model = copy.deepcopy(self.template)
        model.load_state_dict(fit.state)
        model.eval()
        notes = list(fit.notes_)  # the fit's own (early stopping's metric undefined, say)
        if group_size > 1:
            notes.append(
                f"trained stacked with {group_size - 1} other weighting(s) of its sweep: its training time is its "
                "share of the stack's"
            )
        sweep = {"id": self.sweep_id, "group_size": group_size}
        return trained_result(config, self.prepared, model, fit, self.device, notes, self.y_test, sweep=sweep)

    def _save(self, result: RunResult, key: str, role: str) -> None:
        """Save a run tagged with the sweep, rewrite sweep.csv, report the run."""
        label = "" if role == "point" else f"{role.replace('_', '-')} reference · "
        name = f"sweep · {label}{default_run_name(result.config)}"
        row = self.store.get(self.store.save(result, name=name, sweep_id=self.sweep_id))
        with self.lock:
            self.rows.append(row)
            table = sweep_table(self.rows, self.config)
            atomic_write_text(sweep_folder(self.store, self.sweep_id) / "sweep.csv", sweep_csv(table))
        self.tracker.finished(key, 1.0 if role == "point" else REFERENCE_COST, row, role)

    def save_info(self, status: str, message: str) -> None:
        """Update sweep.json: status, message, the plan, notes and seconds so far."""
        info = _read_info(self.store, self.sweep_id)
        seconds = round(time.perf_counter() - self.started, 3)
        info.update(status=status, message=message, updated=time.time(), notes=self.notes, seconds=seconds)
        info.update(self.plan)
        _write_info(self.store, self.sweep_id, info)


def _why(stop) -> str:
    reason = stop_reason(stop)
    return "by the user" if reason is None else f"({reason})"


def warm_processes(device: str = "auto", workers: int | None = None) -> None:
    """Start the training processes a sweep on this device would use (mtlrec.procs), in the background: on a CPU
    with more than one worker. The Sweep page calls it when it opens, so that a sweep finds them ready."""
    n = workers or _cpu_workers()
    if n < 2 or not procs.enabled():
        return
    try:
        on_cpu = resolve_device(device).type == "cpu"
    except MtlrecError:  # e.g. "cuda" without a GPU: the sweep says so when it starts, not this
        return
    if on_cpu:
        procs.warm(n)


def _cpu_workers() -> int:
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def _share(p) -> float:
    """The share of a run's epochs done, from a mtlrec.train.Progress."""
    return min(1.0, ((p.epoch - 1) + p.batch / max(p.batches, 1)) / max(p.epochs, 1))


def fit_group(configs: list[ExperimentConfig], train_cfg: TrainConfig, model, train: Encoded, val: Encoded,
              val_metrics, random: RunRandom, device, stop, on_share: Callable[[float], None]) -> list[StackedFit]:  # fmt: skip
    """Train a group's configs from `model`: stacked (mtlrec.stacked, with the sweep's `train_cfg`), or plain for a
    group of one (its own config, as run_experiment trains it); on_share receives the share of the work done."""
    if len(configs) == 1:
        config = configs[0]
        weighting = build_weighting(config.weighting, config.tasks)
        trainer = Trainer(config.train, config.tasks, weighting, lambda p: on_share(_share(p)), stop, val_metrics,
                          random)  # fmt: skip
        trainer.fit(model, train, val, device)
        return [
            StackedFit(model.state_dict(), trainer.history_, trainer.status_, trainer.message_, trainer.best_epoch_,
                       trainer.train_seconds_, trainer.precision_, trainer.notes_, trainer.rows_trained_)
        ]  # fmt: skip
    trainer = StackedTrainer(train_cfg, [c.tasks for c in configs], stop, val_metrics, on_batch=on_share, random=random)
    return trainer.fit(model, train, val, device)


@dataclass
class GroupFit:
    """fit_group as a job for a training process (mtlrec.procs): the data (training rows, validation rows and
    metrics) is the process's, sent once per sweep; the rest travels with each job."""

    configs: list[ExperimentConfig]
    train_cfg: TrainConfig
    model: torch.nn.Module
    random: RunRandom
    device: torch.device
    hand_written: bool  # mtlrec.stacked_bottom.HAND_WRITTEN where the job was made (benchmarks turn it off)

    def __call__(self, data, stop, progress) -> list[StackedFit]:
        stacked_bottom.HAND_WRITTEN = self.hand_written  # jobs run one at a time in a process
        train, val, val_metrics = data
        return fit_group(self.configs, self.train_cfg, self.model, train, val, val_metrics, self.random, self.device,
                         stop, progress)  # fmt: skip


def stack_cap(n_points: int, workers: int) -> int:
    """The most models one stack may hold: one stack per worker, at most MAX_GROUP, and for sweeps of at least
    TWO_WAVES_FROM points per worker at most half a worker's share, so that points come in at least two waves.

    In bfloat16 a stack's cost per model keeps falling a little up to the largest stacks (at `small`: 1.5 ms at 4,
    1.4 ms at 13 and at 25), so without the second rule a 50-point sweep trained two stacks of 25 and showed its first
    point only when nearly all were done (43 s); two waves of 13 cost about 4% more and show half the points midway.
    """
    cap = min(MAX_GROUP, math.ceil(n_points / workers))
    if n_points >= TWO_WAVES_FROM * workers:
        cap = min(cap, math.ceil(n_points / (2 * workers)))
    return cap


def _groups(n_points: int, group_size: int, workers: int) -> list[list[int]]:
    """Point indices in groups of at most `group_size` (sizes within one of each other), as many groups as fill
    every worker in every wave where there are points enough (3 stacks of 4 on 2 workers would leave one idle in
    the second wave: 4 stacks of 3 instead). Groups interleave the grid (group g holds points g, g + G, ...):
    whichever finishes first already spans the whole range of weights."""
    n_groups = max(math.ceil(n_points / max(group_size, 1)), workers)
    n_groups = min(n_points, math.ceil(n_groups / workers) * workers)
    return [list(range(g, n_points, n_groups)) for g in range(n_groups)]


class Tasks:
    """The sweep's work for its worker threads: the units given (trained in order) and the tasks they add while
    running (points to evaluate), which go first. next() waits while the queue is empty but a task still runs (it
    may add more), and returns None when everything is done."""

    def __init__(self, units: list[Callable[[], None]]):
        self.units = deque(units)
        self.added: deque[Callable[[], None]] = deque()
        self.running = 0
        self.changed = threading.Condition()

    def add(self, task: Callable[[], None]) -> None:
        with self.changed:
            self.added.append(task)
            self.changed.notify()

    def next(self) -> Callable[[], None] | None:
        with self.changed:
            while not (self.added or self.units):
                if self.running == 0:
                    return None
                self.changed.wait()
            self.running += 1
            return (self.added or self.units).popleft()

    def done(self) -> None:
        with self.changed:
            self.running -= 1
            self.changed.notify_all()


class StepTimer:
    """Times training steps (forward, backward, the run's optimiser) on one batch: of `model` itself when stacked=0,
    of `stacked` stacked copies otherwise. Built once, called for each measurement: the best of 3 steps (the first
    call warms up with one more). The global random state is left as it was."""

    def __init__(self, model, train: Encoded, cfg: TrainConfig, device, stacked: int):
        n = min(len(train), cfg.batch_size)
        labels = np.nan_to_num(train.labels[:n])  # a timing: a task's missing labels (labelled_only) as 0
        self.inputs = to_tensors(Encoded(train.categorical[:n], train.numeric[:n], labels), device)
        self.model = model = copy.deepcopy(model).to(device)
        self.amp = resolve_precision(cfg.precision, device, model)
        if stacked:  # the stack as StackedTrainer trains it (by hand or through autograd)
            self.steps = make_stack(model, stacked, cfg, self.amp, device)
        else:
            self.steps = AutogradStack(
                dict(model.named_parameters()), cfg, self.amp, device, lambda _, c, x: model(c, x)
            )
        self.device = device
        self.dropout = has_dropout(model)  # masks drawn: no run may draw meanwhile (otherwise the lock is not needed)
        self.warm = False

    def __call__(self) -> float:
        categorical, numeric, labels = self.inputs
        times = []
        with scratch(self.device) if self.dropout else contextlib.nullcontext():
            for _ in range(3 if self.warm else 4):
                start = time.perf_counter()
                outputs = self.steps.forward(categorical, numeric)
                self.steps.backward((outputs - labels).pow(2).mean())
                self.steps.step()
                times.append(time.perf_counter() - start)
        if not self.warm:
            times, self.warm = times[1:], True
        return min(times)
