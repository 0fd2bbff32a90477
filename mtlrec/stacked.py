"""Train K copies of one model at once, each with its own loss weights: a stacked model (torch.func + vmap).

A loss-weight sweep trains the same architecture on the same rows many times and changes only the weights w_k.
Here the K parameter sets are stacked along a new leading axis and run as batched operations (the model's own
`stacked_forward` where it has one, such as shared-bottom; `vmap(functional_call)` otherwise): one data slice, one
Python dispatch and one optimiser step per mini-batch for all K. On a CPU, shared-bottom's step is written out by hand
(mtlrec.stacked_bottom.HandStack: the same numbers, less overhead); make_stack chooses.

The K models stay independent, and each follows mtlrec.train.Trainer step for step:
- the same initial state (the caller builds the model once from the seed's RunRandom, as run_experiment does);
- the same mini-batch order (a generator seeded with the training seed) and the same dropout draws
  (`randomness="same"`: one mask per batch from the run's stream, mtlrec.train.RunRandom, as every separate run
  with that seed would draw);
- the combined loss sum_k sum_j w_kj L_kj gives each model exactly the gradient of its own sum_j w_kj L_kj, and
  Adam/AdamW are elementwise, so one optimiser over the stacked parameters is K separate optimisers;
- a task with loss weight 0 keeps its own parameters as initialised (the Trainer leaves them out of its optimiser;
  here weight decay would move their rows, so they are put back after each step);
- per-model validation metrics, divergence check, early stopping and best-state restore, with the Trainer's own
  monitor, divergence check, history rows and messages (the public helpers of mtlrec.train).
So a stacked model equals its separate run up to floating-point rounding (the embedding gradient sums repeated ids
in another order; vmap'ed architectures' products may round differently); tests/test_sweep.py checks 1e-5, and on
the bundled sample shared-bottom's stacked points are bit for bit their separate runs (benchmarks/bench_sweep.py).
A model that stops (early stopping, divergence) leaves the stack: its rows of the parameters and of the optimiser
state are dropped, so the others do not pay for it.

One difference: when the stop flag is set, fit() returns at once with every model "stopped" and does not validate
the partial epoch (the Trainer does). A sweep discards unfinished points, and a quick stop matters more there.

On a CPU, matrix products cost the same stacked or not: the gain is the per-operation overhead (Python, dispatch,
optimiser), large for tiny models, modest for small and larger ones (benchmarks/bench_sweep.py measures it). On
a GPU the K models fill a device that one small model leaves idle.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

from mtlrec import stacked_bottom
from mtlrec.config import TaskSpec, TrainConfig
from mtlrec.encode import Encoded
from mtlrec.models import untrained_parts
from mtlrec.train import (
    PREDICT_BATCH,
    RunRandom,
    batch_shares,
    diverged,
    divergence_limit,
    divergence_message,
    early_stopping_message,
    epoch_means,
    exploding,
    has_dropout,
    history_row,
    improves,
    keep_rows,
    make_optimizer,
    mixed_forward,
    precision_name,
    resolve_precision,
    stop_reason,
    stopped_message,
    task_losses,
    to_tensors,
    watched,
)


@dataclass
class StackedFit:
    """One model's outcome, with the Trainer's names for the same things."""

    state: dict[str, torch.Tensor]  # the best epoch's state_dict (the last one when no epoch validated)
    history_: list[dict] = field(default_factory=list)
    status_: str = "finished"  # finished | stopped | failed
    message_: str = ""
    best_epoch_: int = 0
    train_seconds_: float = 0.0  # this model's share of the stack's time (each step's time / models in it)
    precision_: str = "fp32"  # the training steps' matrix products: "fp32" or "bf16" (see TrainConfig.precision)
    notes_: list[str] = field(default_factory=list)  # a plain Trainer's notes (its weighting's), for the run's notes
    rows_trained_: int = 0  # training rows this model stepped on (Trainer's name)
    monitor_: str = ""  # what early stopping watches ("": cfg.monitor; "loss" once that metric was undefined)

    @property
    def epochs_run_(self) -> int:
        return len(self.history_)


def stacked_forward(model: nn.Module) -> Callable[[dict, torch.Tensor, torch.Tensor], torch.Tensor]:
    """forward(params (K, ...) each, categorical, numeric) -> (K, N, T), for K stacked copies of `model`.

    A model with its own batched form (`stacked_forward`, e.g. shared-bottom) and no active dropout uses it; any
    other runs through vmap(functional_call). Buffers (such as the embedding offsets) are shared by the copies,
    unstacked: no architecture here keeps running statistics in buffers.
    """
    own = getattr(model, "stacked_forward", None)
    if own is not None and not any(isinstance(m, nn.Dropout) and m.p > 0 for m in model.modules()):
        return own
    buffers = dict(model.named_buffers())

    def one(params: dict, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        return functional_call(model, (params, buffers), (categorical, numeric))

    return vmap(one, in_dims=(0, None, None), randomness="same")


def stack(model: nn.Module, k: int) -> dict[str, torch.Tensor]:
    """K copies of the model's parameters stacked on a new first axis, as trainable leaf tensors."""
    return {
        name: p.detach().unsqueeze(0).repeat(k, *([1] * p.dim())).requires_grad_(True)
        for name, p in model.named_parameters()
    }


def stackable(model: nn.Module, train: Encoded, device: torch.device) -> bool:
    """True when vmap runs this architecture forwards and backwards (checked on two copies and a few rows)."""
    categorical, numeric, _ = to_tensors(Encoded(train.categorical[:4], train.numeric[:4], None), device)
    try:
        params = stack(model.to(device), 2)
        stacked_forward(model)(params, categorical, numeric).sum().backward()
    except Exception:  # any op vmap has no batching rule for: the caller trains one model at a time
        return False
    return True


class StackedTrainer:
    """Fits K copies of a model, model k with the task weights of `tasks[k]` (same names and types for all)."""

    def __init__(
        self,
        cfg: TrainConfig,
        tasks: list[list[TaskSpec]],
        stop: threading.Event | None = None,
        val_metrics: Callable[[np.ndarray], dict[str, dict[str, float]]] | None = None,
        on_batch: Callable[[float], None] | None = None,
        random: RunRandom | None = None,
    ):
        self.cfg = cfg
        self.tasks = tasks
        self.stop = stop or threading.Event()
        self.val_metrics = val_metrics
        self.on_batch = on_batch  # receives the share of this stack's work done, in [0, 1]
        self.random = random  # the stream for dropout, as Trainer's (None: from the global generators at fit)

    def fit(self, model: nn.Module, train: Encoded, val: Encoded, device: torch.device) -> list[StackedFit]:
        """Train K copies of `model` (its current state is every copy's initial state); one StackedFit each."""
        cfg, k = self.cfg, len(self.tasks)
        names = [t.name for t in self.tasks[0]]
        model.to(device).train()
        forward = stacked_forward(model)
        weights = torch.tensor([[t.weight for t in model_tasks] for model_tasks in self.tasks], device=device)
        is_binary = torch.tensor([t.type == "binary" for t in self.tasks[0]], device=device)
        masked = any(t.labelled_only for t in self.tasks[0])  # as Trainer: NaN labels are rows a task leaves out
        partial = torch.tensor([t.labelled_only for t in self.tasks[0]], device=device)
        amp = resolve_precision(cfg.precision, device, model)
        steps = make_stack(model, k, cfg, amp, device)
        categorical, numeric, labels = to_tensors(train, device)
        val_labels = torch.from_numpy(val.labels).to(device)
        generator = torch.Generator().manual_seed(cfg.seed)
        n = len(train)
        batches = max(1, math.ceil(n / cfg.batch_size))
        random = self.random.copy() if self.random else RunRandom.from_global(device)
        draws = random.drawing if has_dropout(model) else contextlib.nullcontext

        fits = [StackedFit(state={}, precision_=precision_name(amp)) for _ in range(k)]
        active = list(range(k))  # model index of each row of the stack
        frozen = self._frozen(model) if cfg.weight_decay > 0 else {}
        best_value: list[float | None] = [None] * k
        first_loss: list[float | None] = [None] * k
        waited = [0] * k
        clock = [time.perf_counter()]

        def charge() -> None:
            """Share the time since the last call among the models in the stack."""
            now = time.perf_counter()
            for i in active:
                fits[i].train_seconds_ += (now - clock[0]) / len(active)
            clock[0] = now

        for epoch in range(1, cfg.epochs + 1):
            order = torch.randperm(n, generator=generator).to(device)
            cat_e, num_e, lab_e = categorical[order], numeric[order], labels[order]
            sums = torch.zeros(len(active), len(names), device=device)
            trained = 0
            seen = torch.zeros(len(names), device=device) if masked else None  # Trainer's epoch means
            for b in range(batches):
                if self.stop.is_set():
                    return self._stopped(fits, steps.params, active, model, epoch)
                s = slice(b * cfg.batch_size, (b + 1) * cfg.batch_size)
                before = random.state
                with draws():
                    outputs = steps.forward(cat_e[s], num_e[s])
                losses = task_losses(outputs, lab_e[s], is_binary, masked)  # (K, T)
                failed = []
                # One check (one sync) for the whole stack; the rows one by one only on a first batch or trouble.
                limits = torch.tensor([divergence_limit(first_loss[i]) for i in active], device=device)
                suspect = bool(exploding(losses, limits[:, None]).any())
                for row, i in enumerate(active if suspect or any(first_loss[i] is None for i in active) else ()):
                    bad = diverged(losses[row], first_loss[i])
                    if bad is not None:
                        failed.append(row)
                        fits[i].status_ = "failed"
                        fits[i].message_ = divergence_message(names[bad], losses[row, bad].item(), epoch, b + 1, cfg.lr)
                        if fits[i].best_epoch_ == 0:  # no best epoch to go back to: the weights as they are
                            fits[i].state = self._state(steps.params, row, model)
                    elif first_loss[i] is None:
                        first_loss[i] = float(losses[row].detach().max())
                if failed:  # those models leave before their step; the others step as if alone
                    keep = [row for row in range(len(active)) if row not in failed]
                    charge()
                    active = [active[row] for row in keep]
                    if not active:
                        return self._finish(fits, steps.params, active, model)
                    steps.select(keep)
                    sums = sums[keep]
                    random.state = before  # the same dropout masks again, as the runs alone drew them once
                    with draws():
                        outputs = steps.forward(cat_e[s], num_e[s])
                    losses = task_losses(outputs, lab_e[s], is_binary, masked)
                steps.backward((weights[active] * losses).sum())
                steps.step()
                if frozen:
                    _restore(steps.params, frozen, active)
                if masked:
                    labelled = batch_shares(lab_e[s], partial)
                    sums += losses.detach() * labelled
                    seen += labelled
                else:
                    sums += losses.detach()
                trained += 1
                for i in active:
                    fits[i].rows_trained_ += min(cfg.batch_size, n - b * cfg.batch_size)
                charge()
                if self.on_batch:
                    self.on_batch(((epoch - 1) * batches + trained) / (cfg.epochs * batches))
            if trained == 0:
                break
            keep = self._validate(epoch, steps.params, forward, model, val, val_labels, is_binary, masked,
                                  epoch_means(sums, seen, trained), active,
                                  fits, best_value, waited, device)  # fmt: skip
            if self.stop.is_set():
                return self._stopped(fits, steps.params, active, model, epoch)
            charge()
            if len(keep) < len(active):
                active = [active[row] for row in keep]
                if not active:
                    break
                steps.select(keep)
        return self._finish(fits, steps.params, active, model)

    def _validate(self, epoch, params, forward, model, val, val_labels, is_binary, masked, train_means, active, fits,
                  best_value, waited, device) -> list[int]:  # fmt: skip
        """The epoch's validation for every model in the stack, as Trainer.fit does it; returns the rows to keep."""
        cfg, keep = self.cfg, []
        raw = predict_stacked(forward, model, params, val, device)  # (K, N, T)
        for row, i in enumerate(active):
            if self.stop.is_set():
                return list(range(len(active)))
            tasks = self.tasks[i]
            names = [t.name for t in tasks]
            train_loss = dict(zip(names, train_means[row].tolist(), strict=True))
            val_raw = torch.from_numpy(raw[row]).to(device)
            with torch.no_grad():
                measured = task_losses(val_raw, val_labels, is_binary, masked, empty=math.nan)
                val_loss = dict(zip(names, measured.tolist(), strict=True))
            metrics = self.val_metrics(raw[row]) if self.val_metrics else {}
            weights = {t.name: t.weight for t in tasks}
            fits[i].monitor_, value, higher, note = watched(fits[i].monitor_ or cfg.monitor, tasks, val_loss, metrics)
            if note:  # as Trainer.fit: the best epoch so far, judged by the loss from now on
                fits[i].notes_.append(note)
                best_value[i] = fits[i].history_[fits[i].best_epoch_ - 1]["val_loss"] if fits[i].best_epoch_ else None
            fits[i].history_.append(
                history_row(tasks, epoch, fits[i].train_seconds_, train_loss, val_loss, metrics, value, weights)
            )
            if improves(value, best_value[i], higher) or fits[i].best_epoch_ == 0:
                best_value[i], fits[i].best_epoch_, waited[i] = value, epoch, 0
                fits[i].state = self._state(params, row, model)
            else:
                waited[i] += 1
            if cfg.patience and waited[i] >= cfg.patience:
                fits[i].message_ = early_stopping_message(cfg.patience, fits[i].best_epoch_)
            else:
                keep.append(row)
        return keep

    def _frozen(self, model: nn.Module) -> dict[int, list[tuple[str, slice, torch.Tensor]]]:
        """For each model with a task no loss trains: the initial values of that task's own parameters (and of its
        rows of a shared tensor, MMoE's gate rows), as (name, rows, value). A Trainer leaves the parameters out of
        its optimiser and puts the rows back; in the stack they share one tensor with the other models' rows, and
        weight decay moves them although their gradient is 0, so they are put back after every step (the step is
        elementwise: the other rows are not affected)."""
        names = {id(p): name for name, p in model.named_parameters()}
        frozen = {}
        for i, tasks in enumerate(self.tasks):
            own, rows = untrained_parts(model, tasks)
            kept = [(names[id(p)], r, p.detach()[r].clone()) for p, r in [*((p, slice(None)) for p in own), *rows]]
            if kept:
                frozen[i] = kept
        return frozen

    @staticmethod
    def _state(params: dict[str, torch.Tensor], row: int, model: nn.Module) -> dict[str, torch.Tensor]:
        """Row `row` of the stack as a state_dict of `model` (parameters and buffers, in the model's order)."""
        own = {name: p[row].detach().clone() for name, p in params.items()}
        return {name: own.get(name, value) for name, value in model.state_dict().items()}

    def _stopped(self, fits, params, active, model, epoch: int) -> list[StackedFit]:
        for i in active:
            fits[i].status_, fits[i].message_ = "stopped", stopped_message(epoch, stop_reason(self.stop))
        return self._finish(fits, params, active, model)

    def _finish(self, fits, params, active, model) -> list[StackedFit]:
        for row, i in enumerate(active):
            if not fits[i].state:  # no epoch validated: the weights as they are now
                fits[i].state = self._state(params, row, model)
        return fits


@torch.no_grad()
def _restore(params: dict[str, torch.Tensor], frozen: dict, active: list[int]) -> None:
    """Put the frozen parameters (StackedTrainer._frozen) of the models in the stack back in their rows."""
    for row, i in enumerate(active):
        for name, rows, value in frozen.get(i, ()):
            params[name][row][rows] = value


@torch.no_grad()
def predict_stacked(forward, model: nn.Module, params: dict, encoded: Encoded, device: torch.device) -> np.ndarray:
    """Raw outputs of every model in the stack, (K, N, T), in eval mode (as mtlrec.train.predict_raw)."""
    model.eval()
    categorical, numeric, _ = to_tensors(Encoded(encoded.categorical, encoded.numeric, None), device)
    out = [
        forward(params, categorical[i : i + PREDICT_BATCH], numeric[i : i + PREDICT_BATCH])
        for i in range(0, len(encoded), PREDICT_BATCH)
    ]
    model.train()
    return torch.cat(out, dim=1).float().cpu().numpy()


class AutogradStack:
    """Models trained through autograd: `forward(params, categorical, numeric)` under mixed_forward, one fused
    optimiser over `params`. For K stacked copies, `stack(model, k)` and `stacked_forward(model)` (make_stack); for
    one model, its own parameters and forward (the sweep planner's plain steps). HandStack (mtlrec.stacked_bottom)
    has the same methods."""

    def __init__(self, params: dict[str, torch.Tensor], cfg: TrainConfig, dtype, device: torch.device, forward):
        self.params = params
        self.optimizer = make_optimizer(cfg, list(params.values()))
        self.dtype, self.device, self.model_forward = dtype, device, forward

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        return mixed_forward(self.model_forward, self.dtype, self.device, self.params, categorical, numeric)

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()

    def step(self) -> None:
        self.optimizer.step()

    def select(self, rows: list[int]) -> None:
        """Keep the given rows of the stack: the parameters and the optimiser's moments."""
        index = torch.tensor(rows, device=next(iter(self.params.values())).device)
        kept = {name: p.detach().index_select(0, index).requires_grad_(True) for name, p in self.params.items()}
        keep_rows(self.optimizer, self.params, kept, index)
        self.params = kept


def make_stack(model: nn.Module, k: int, cfg: TrainConfig, dtype, device: torch.device):
    """K stacked copies of `model` and their optimiser, with forward(categorical, numeric) -> (K, N, T),
    backward(loss), step(), select(rows) and `params`: written out by hand where mtlrec.stacked_bottom covers the
    model (the same numbers, less overhead), through autograd otherwise."""
    if stacked_bottom.HAND_WRITTEN and stacked_bottom.covers(model, device):
        return stacked_bottom.HandStack(model, k, cfg, dtype)
    return AutogradStack(stack(model, k), cfg, dtype, device, stacked_forward(model))
