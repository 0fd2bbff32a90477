"""The trainer: mini-batches as tensor slices, weighted multi-task loss, early stopping, callbacks, a stop flag.

It knows nothing about the UI or the model's architecture (minGPT's seam): the app's background job and the CLI
plug into `callback` and `stop`.
"""

from __future__ import annotations

import contextlib
import copy
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mtlrec import diagnostics
from mtlrec.config import TaskSpec, TrainConfig, split_monitor
from mtlrec.encode import Encoded
from mtlrec.metrics import higher_is_better
from mtlrec.models import untrained_parts
from mtlrec.models.single_task import SingleTask

# precision "auto": bfloat16 from this many linear-layer weights up (the small preset has ~90k, tiny ~2k)
BF16_MIN_WEIGHTS = 50_000
# A batch loss above max(DIVERGED_FLOOR, DIVERGED_FACTOR x the first batch's loss) counts as diverged.
DIVERGED_FLOOR = 1e4
DIVERGED_FACTOR = 1e3
# Besides every `log_every` batches (and the first batch), progress is reported at least this often.
PROGRESS_SECONDS = 0.5
# Diagnostics read the gradients of this many validation batches (the same rows every epoch) once per epoch.
DIAGNOSTIC_BATCHES = 2


@dataclass
class Progress:
    """What a callback receives: during an epoch (phase "batch") and after its validation (phase "epoch")."""

    phase: str  # "batch" | "epoch"
    epoch: int  # 1-based
    epochs: int
    batch: int  # batches done in this epoch
    batches: int  # batches per epoch
    elapsed: float  # seconds since fit started
    eta: float | None  # seconds left if every epoch runs (early stopping may end sooner)
    train_loss: dict[str, float]  # per task: mean over this epoch's batches so far
    val_loss: dict[str, float] | None = None  # per task (phase "epoch")
    val_metrics: dict[str, dict[str, float]] | None = None  # per task (phase "epoch")
    weights: dict[str, float] = field(default_factory=dict)  # effective loss weight per task
    history_row: dict | None = None  # the history row just added (phase "epoch")
    diagnostics: dict[str, float] = field(default_factory=dict)  # the latest epoch's (see mtlrec.diagnostics)


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """'auto' takes CUDA when present, otherwise the CPU; 'cuda' (or 'cuda:1', a torch.device) without CUDA raises
    MtlrecError."""
    from mtlrec.errors import MtlrecError

    text = str(name)
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(text)
    except (RuntimeError, TypeError):
        raise MtlrecError(f"device {name!r} is not one of auto, cpu, cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise MtlrecError(f"device '{text}' was chosen but no CUDA GPU is available here: choose 'auto' or 'cpu'")
    return device


# Every draw a run makes from torch's global generators (model initialisation, dropout) happens under this lock, from
# the run's own saved state (RunRandom): two trainings in parallel threads (two app sessions, a sweep beside a run)
# then draw what each would draw alone. Global, because the generators are: one per process (and per GPU).
_GLOBAL_RANDOM = threading.RLock()


def _devices(device: torch.device) -> list[int]:
    """The CUDA devices whose generator fork_rng must cover: the run's, if it runs on one."""
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


class RunRandom:
    """One run's random stream: torch's global generators (the CPU's and the run's GPU's) as `torch.manual_seed(seed)`
    leaves them, advanced only by this run's own draws.

    torch draws initial weights and dropout masks from global generators, which threads share: a run that seeded
    them and then built its model could find them moved by another thread in between (we saw 1 in 3 pairs of
    parallel runs end with other weights than the same runs alone). `drawing()` lends the global generators to this
    stream for a block and keeps where it got to, so a run draws exactly the numbers it would draw alone in a fresh
    process after `torch.manual_seed(seed)`. The global generators themselves are left as they were: since
    2026-12-06 run_experiment no longer seeds or advances them (a caller's own draws after it are its own). Every
    other draw from them while runs train must happen inside `scratch` (e.g. RunStore.load_model).
    """

    def __init__(self, seed: int | None, device: torch.device):
        self.device = device
        with scratch(device):  # the global generators as they were, afterwards
            if seed is not None:
                torch.manual_seed(seed)
            self.state = _get_state(device)

    @classmethod
    def from_global(cls, device: torch.device) -> RunRandom:
        """A stream starting where the global generators are now (for callers that seeded them themselves)."""
        return cls(None, device)

    def copy(self) -> RunRandom:
        """Another stream at the same point (e.g. for each of several trainings from one initial state)."""
        other = RunRandom.__new__(RunRandom)
        other.device, other.state = self.device, self.state
        return other

    @contextlib.contextmanager
    def drawing(self, keep: bool = True) -> Iterator[None]:
        """Within the block, torch's global generators are this stream (other threads wait to draw); with
        keep=False the stream does not move (draws that must not change the run's, such as diagnostics')."""
        with scratch(self.device):
            _set_state(self.device, self.state)
            yield
            if keep:
                self.state = _get_state(self.device)


@contextlib.contextmanager
def scratch(device: torch.device) -> Iterator[None]:
    """A block whose random draws leave torch's global generators as they were, while no run draws from them."""
    with _GLOBAL_RANDOM, torch.random.fork_rng(devices=_devices(device)):
        yield


def _get_state(device: torch.device) -> tuple:
    return torch.get_rng_state(), [torch.cuda.get_rng_state(d) for d in _devices(device)]


def _set_state(device: torch.device, state: tuple) -> None:
    torch.set_rng_state(state[0])
    for d, cuda in zip(_devices(device), state[1], strict=True):
        torch.cuda.set_rng_state(cuda, d)


def has_dropout(model: nn.Module) -> bool:
    """True when a training forward of `model` draws dropout masks."""
    return any(isinstance(m, nn.Dropout) and m.p > 0 for m in model.modules())


def native_bf16(device: torch.device) -> bool:
    """True where bfloat16 matrix products run in hardware: a CPU with AVX-512 BF16 or AMX, a CUDA GPU with bf16
    arithmetic (Ampere or newer). Elsewhere bfloat16 is emulated, and slower than float32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        cpu = torch.cpu
        return any(
            getattr(cpu, probe, lambda: False)() for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        )
    return False


def dense_weights(model: nn.Module) -> int:
    """Weights of the model's linear layers: the matrix products a training step multiplies by (embeddings aside)."""
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))


def resolve_precision(name: str, device: torch.device, model: nn.Module | None = None) -> torch.dtype | None:
    """The dtype of a training step's matrix products under `precision` name (auto | fp32 | bf16); None: float32.

    auto takes bfloat16 where the device computes it natively (see native_bf16) and the model's linear layers hold
    at least BF16_MIN_WEIGHTS weights (every preset from small up on typical data; a model not given counts as
    large). Below that a step is mostly fixed overhead, and bfloat16's casts cost more than its products save
    (tiny preset: 0.8x the float32 speed). On a CPU with AVX-512 BF16 a medium to xl step takes about half the
    float32 time, with the same test AUC on the bundled sample and Census-Income (README, "Mixed precision").
    Weights, gradients, optimiser state and losses stay float32.
    """
    if name == "bf16":
        return torch.bfloat16
    if name == "auto" and native_bf16(device) and (model is None or dense_weights(model) >= BF16_MIN_WEIGHTS):
        return torch.bfloat16
    return None


def precision_name(dtype: torch.dtype | None) -> str:
    """What a run records in metrics.json: "bf16" or "fp32"."""
    return "fp32" if dtype is None else "bf16"


def mixed_forward(forward: Callable[..., torch.Tensor], dtype: torch.dtype | None, device: torch.device, *inputs):
    """A training step's forward(*inputs) with its matrix products in `dtype` (None: float32, no autocast); the
    outputs in float32, for losses computed in float32."""
    with torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        return forward(*inputs).float()


def make_optimizer(cfg: TrainConfig, groups: list) -> torch.optim.Optimizer:
    """Adam or AdamW from the config, as one fused kernel over all parameters (CPU and CUDA).

    Same algorithm as the default multi-tensor Adam; fused, its step no longer dominates on wide embedding tables
    (every row of a dense table is updated every step): 1.7-2x rows/s at 100k ids (benchmarks/bench_train.py).
    """
    opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return opt_cls(groups, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)


def keep_rows(optimizer: torch.optim.Optimizer, old: dict, new: dict, index: torch.Tensor) -> None:
    """Point `optimizer` at the `new` parameters, rows `index` of the `old` ones under the same names, carrying each
    parameter's per-element state (Adam's moments) over by the same rows; scalar state (the step count) as it is.
    In place (its one parameter group and its state), so the optimiser's settings stay as they were."""
    name_of = {id(p): name for name, p in old.items()}
    states = {name_of[id(p)]: state for p, state in optimizer.state.items()}
    group = optimizer.param_groups[0]
    group["params"] = [new[name_of[id(p)]] for p in group["params"]]
    optimizer.state.clear()
    for name, state in states.items():
        optimizer.state[new[name]] = {
            key: value.index_select(0, index) if torch.is_tensor(value) and value.shape == old[name].shape else value
            for key, value in state.items()
        }


def task_losses(
    outputs: torch.Tensor, labels: torch.Tensor, is_binary: torch.Tensor, masked: bool = False, empty: float = 0.0
) -> torch.Tensor:
    """Per-task mean loss: BCE-with-logits for binary tasks, MSE (standardised) for regression.

    outputs (N, T) -> (T,); a stack's outputs (K, N, T) against the same labels (N, T) -> (K, T), each model's rows
    reduced as a single model's are (through vmap they rounded differently, and stacked sweep points drifted from
    their separate runs). `masked`: a NaN label is no label (TaskSpec.labelled_only): each task's mean is over its
    labelled rows, and `empty` where it has none: 0 in a training batch (a zero gradient), NaN on validation rows
    (undefined: a 0 there was the best loss ever, and early stopping kept the epoch where it first occurred)."""
    labels = labels.expand_as(outputs)
    if masked:
        known = ~torch.isnan(labels)
        labels = torch.where(known, labels, 0.0)
        bce = F.binary_cross_entropy_with_logits(outputs, labels, reduction="none")
        each = torch.where(is_binary, bce, (outputs - labels).pow(2)) * known
        count = known.sum(-2)
        losses = each.sum(-2) / count.clamp_min(1)
        return losses if empty == 0.0 else torch.where(count > 0, losses, torch.full_like(losses, empty))
    bce = F.binary_cross_entropy_with_logits(outputs, labels, reduction="none").mean(-2)
    mse = (outputs - labels).pow(2).mean(-2)
    return torch.where(is_binary, bce, mse)


def batch_shares(labels: torch.Tensor, partial: torch.Tensor) -> torch.Tensor:
    """Each task's weight of a batch in its epoch's mean train loss (T,): its share of labelled rows for a task
    trained on its labelled rows only (`partial`), 1 for the others, whose mean stays the mean of the batch means (row
    weights for every task had moved their curves and DWA's weights, a review)."""
    return torch.where(partial, (~torch.isnan(labels)).float().mean(0), 1.0)


def epoch_means(sums: torch.Tensor, seen: torch.Tensor | None, trained: int) -> torch.Tensor:
    """The epoch's mean train loss per task so far: the loss sums over the batch weights seen (batch_shares), or
    over the batches trained when no task is trained on its labelled rows only (`seen` None)."""
    return sums / (seen.clamp_min(1) if seen is not None else trained)


def to_tensors(encoded: Encoded, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    labels = torch.from_numpy(encoded.labels).to(device) if encoded.labels is not None else None
    return (
        torch.from_numpy(encoded.categorical).to(device),
        torch.from_numpy(encoded.numeric).to(device),
        labels,
    )


# Rows per forward pass when predicting. Chunks of 2048 keep a layer's activations in cache: 20-30% faster than
# 8192 at `small` and ~15% at `large`, with 1 and 2 threads, timed alone (a sweep's stack of 6: 175 -> 120 ms per
# validation; inside a running sweep the difference was within the noise).
PREDICT_BATCH = 2048


@torch.no_grad()
def predict_raw(
    model: nn.Module, encoded: Encoded, device: torch.device, batch_size: int = PREDICT_BATCH
) -> np.ndarray:
    """Model outputs (logits / standardised values), shape (N, T), computed in eval mode."""
    was_training = model.training
    model.eval()
    categorical, numeric, _ = to_tensors(Encoded(encoded.categorical, encoded.numeric, None), device)
    out = [
        model(categorical[i : i + batch_size], numeric[i : i + batch_size]) for i in range(0, len(encoded), batch_size)
    ]
    model.train(was_training)
    if not out:
        return np.zeros((0, 0), dtype=np.float32)
    return torch.cat(out).float().cpu().numpy()


class Trainer:
    """Fits any multi-task model on encoded arrays. Learned state ends in `_` (history_, best_epoch_...)."""

    def __init__(
        self,
        cfg: TrainConfig,
        tasks: list[TaskSpec],
        weighting,
        callback: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None,
        val_metrics: Callable[[np.ndarray], dict[str, dict[str, float]]] | None = None,
        random: RunRandom | None = None,
    ):
        self.cfg = cfg
        self.tasks = tasks
        self.weighting = weighting
        self.callback = callback
        self.stop = stop or threading.Event()
        self.val_metrics = val_metrics
        self.random = random  # the run's stream for dropout (None: from where the global generators are at fit)

    def fit(self, model: nn.Module, train: Encoded, val: Encoded, device: torch.device | None = None) -> Trainer:
        cfg, names = self.cfg, [t.name for t in self.tasks]
        device = device or resolve_device(cfg.device)
        model.to(device)
        self.weighting.to(device)
        self.weighting.start(model, cfg.seed)
        self.notes_ = list(self.weighting.notes)
        # A strategy's own parameters (e.g. log-variances) follow its formula alone: no weight decay on them. The
        # parameters of a task no loss trains (loss weight 0) are left out: their gradient is 0, but weight decay
        # would still move them (Adam's by about lr a step), and such a task is documented as untrained.
        own, rows = untrained_parts(model, self.tasks)
        frozen = {id(p) for p in own}
        groups = [{"params": [p for p in model.parameters() if id(p) not in frozen]}]
        untrained = [p for p in model.parameters() if id(p) in frozen]  # their zero gradients are dropped each step
        # Such a task's rows of a shared tensor (MMoE's gate rows) stay in the optimiser: put back after each step.
        kept_rows = [(p, r, p.detach()[r].clone()) for p, r in rows] if cfg.weight_decay > 0 else []
        if self.weighting.parameters():
            groups.append({"params": list(self.weighting.parameters()), "weight_decay": 0.0})
        optimizer = make_optimizer(cfg, groups)
        is_binary = torch.tensor([t.type == "binary" for t in self.tasks], device=device)
        self.masked_ = masked = any(t.labelled_only for t in self.tasks)  # NaN labels: rows a task leaves out
        partial = torch.tensor([t.labelled_only for t in self.tasks], device=device)
        amp = resolve_precision(cfg.precision, device, model)
        self.precision_ = precision_name(amp)
        categorical, numeric, labels = to_tensors(train, device)
        val_labels = torch.from_numpy(val.labels).to(device)
        probe = self._diagnostic_batches(model, val, device) if cfg.diagnostics else []
        generator = torch.Generator().manual_seed(cfg.seed)
        n = len(train)
        batches = max(1, math.ceil(n / cfg.batch_size))
        # A copy: fitting again starts from the same point of the stream.
        self.random_ = self.random.copy() if self.random else RunRandom.from_global(device)
        self.dropout_ = has_dropout(model)
        draws = self.random_.drawing if self.dropout_ else contextlib.nullcontext

        self.history_: list[dict] = []
        self.diagnostics_: dict[str, float] = {}
        self.best_epoch_, self.status_, self.message_ = 0, "finished", ""
        self.best_epochs_: dict[str, int] = {}  # the single-task model's, network by network (OwnBest)
        self.rows_trained_ = 0  # training rows stepped on, epochs and a stopped epoch's part (the run's rows/s)
        best_value, best_state, first_loss, waited = None, None, None, 0
        monitor = cfg.monitor  # the weighted validation loss from an epoch where cfg.monitor is undefined
        own = OwnBest(model, self.tasks, cfg.monitor) if isinstance(model, SingleTask) else None
        start = time.perf_counter()
        last_report = start - PROGRESS_SECONDS  # the first batch is reported at once: a live chart's first point
        first_batch_end = None
        model.train()
        for epoch in range(1, cfg.epochs + 1):
            # One gather per epoch; every batch below is then a contiguous slice (a view, no copy).
            order = torch.randperm(n, generator=generator).to(device)
            cat_e, num_e, lab_e = categorical[order], numeric[order], labels[order]
            sums = torch.zeros(len(names), device=device)
            trained = 0  # batches trained in this epoch
            # masked: each task's loss weighted by its labelled rows in the batch (a batch may have none of them)
            seen = torch.zeros(len(names), device=device) if masked else None
            for b in range(batches):
                if self.stop.is_set():
                    self.status_, self.message_ = "stopped", stopped_message(epoch, stop_reason(self.stop), b > 0)
                    break
                s = slice(b * cfg.batch_size, (b + 1) * cfg.batch_size)
                optimizer.zero_grad(set_to_none=True)
                for p in untrained:
                    p.grad = None
                with draws():
                    outputs = mixed_forward(model, amp, device, cat_e[s], num_e[s])
                losses = task_losses(outputs, lab_e[s], is_binary, masked)
                bad = diverged(losses, first_loss)
                if bad is not None:
                    self.status_ = "failed"
                    self.message_ = divergence_message(names[bad], losses[bad].item(), epoch, b + 1, cfg.lr)
                    break
                if first_loss is None:
                    first_loss = float(losses.detach().max())
                self.weighting.backward(losses, model)
                optimizer.step()
                if kept_rows:
                    with torch.no_grad():
                        for p, r, value in kept_rows:
                            p[r] = value
                if masked:
                    labelled = batch_shares(lab_e[s], partial)
                    sums += losses.detach() * labelled
                    seen += labelled
                else:
                    sums += losses.detach()
                trained += 1
                self.rows_trained_ += min(cfg.batch_size, n - b * cfg.batch_size)
                done = (epoch - 1) * batches + trained
                now = time.perf_counter()
                due = (cfg.log_every and trained % cfg.log_every == 0) or now - last_report >= PROGRESS_SECONDS
                if first_batch_end is None:
                    first_batch_end = now
                if self.callback and due and trained < batches:
                    last_report, elapsed = now, now - start
                    # The first batch warms up (at xl it made the first ETA 2,474-6,025 s): the rate is taken after
                    # it, and no ETA is given before two more batches.
                    eta = (now - first_batch_end) / (done - 1) * (cfg.epochs * batches - done) if done >= 3 else None
                    self.callback(
                        Progress("batch", epoch, cfg.epochs, trained, batches, elapsed, eta,
                                 dict(zip(names, epoch_means(sums, seen, trained).tolist(), strict=True)),
                                 weights=dict(zip(names, self.weighting.weights(), strict=True)),
                                 diagnostics=self.diagnostics_)
                    )  # fmt: skip
            if trained == 0 or self.status_ == "failed":
                break  # no new validation point: nothing trained, or the weights are no longer sane
            train_loss = dict(zip(names, epoch_means(sums, seen, trained).tolist(), strict=True))
            raw = predict_raw(model, val, device)
            with torch.no_grad():
                val_raw = torch.from_numpy(raw).to(device)
                measured = task_losses(val_raw, val_labels, is_binary, masked, empty=math.nan)
                val_loss = dict(zip(names, measured.tolist(), strict=True))
            metrics = self.val_metrics(raw) if self.val_metrics else {}
            # DWA's: those this epoch trained with; learned weights (uncertainty, GradNorm): as they are at its end
            weights = dict(zip(names, self.weighting.weights(), strict=True))
            if probe:
                self.diagnostics_ = self._diagnose(model, probe, is_binary, device)
            self.weighting.epoch_end(epoch, list(train_loss.values()))
            monitor, value, higher, note = watched(monitor, self.tasks, val_loss, metrics)
            if note:  # the best epoch so far, judged by the loss from now on
                self.notes_.append(note)
                best_value = self.history_[self.best_epoch_ - 1]["val_loss"] if best_state is not None else None
            row = history_row(
                self.tasks, epoch, time.perf_counter() - start, train_loss, val_loss, metrics, value, weights
            )
            row.update(self.diagnostics_)
            self.history_.append(row)
            if improves(value, best_value, higher) or best_state is None:
                best_value, self.best_epoch_, waited = value, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
            if own is not None:
                waited = own.epoch_end(epoch, val_loss, metrics)
            if self.callback:
                elapsed = time.perf_counter() - start
                self.callback(
                    Progress("epoch", epoch, cfg.epochs, trained, batches, elapsed,
                             elapsed / epoch * (cfg.epochs - epoch), train_loss, val_loss, metrics,
                             weights, row, self.diagnostics_)
                )  # fmt: skip
            if self.status_ != "finished":
                break
            if cfg.patience and waited >= cfg.patience:
                self.message_ = early_stopping_message(cfg.patience, self.best_epoch_)
                break
        if best_state is not None:
            model.load_state_dict(best_state)
        if own is not None and best_state is not None:
            self.best_epochs_ = own.restore()
            if len(set(self.best_epochs_.values())) > 1:
                shown = ", ".join(f"{task} {epoch}" for task, epoch in self.best_epochs_.items())
                self.notes_.append(f"each single-task network was restored at its own best epoch: {shown}")
                if self.message_.startswith("early stopping"):  # its "best epoch N" was the summed criterion's
                    self.message_ = (
                        f"early stopping: no network improved for {cfg.patience} epochs; each kept at its own best "
                        f"epoch ({shown})"
                    )
        model.eval()
        self.train_seconds_ = time.perf_counter() - start
        self.epochs_run_ = len(self.history_)
        return self

    def _diagnostic_batches(self, model: nn.Module, val: Encoded, device: torch.device) -> list[tuple]:
        """The validation rows diagnostics read: up to DIAGNOSTIC_BATCHES batches, as tensors on the device."""
        if not diagnostics.shared_parameters(model) and not hasattr(model, "gate_weights"):
            return []
        n, size = min(len(val), DIAGNOSTIC_BATCHES * self.cfg.batch_size), self.cfg.batch_size
        # With labelled_only tasks: rows drawn across the validation part (a fixed draw), not its first ones, where
        # a label logged from some date on had none in a time-sorted file, and read as no pull (cosine 0: a review)
        rows = np.random.default_rng(0).permutation(len(val))[:n] if self.masked_ else slice(0, n)
        categorical, numeric, labels = to_tensors(
            Encoded(val.categorical[rows], val.numeric[rows], val.labels[rows]), device
        )
        return [(categorical[i : i + size], numeric[i : i + size], labels[i : i + size]) for i in range(0, n, size)]

    def _diagnose(self, model: nn.Module, probe: list[tuple], is_binary: torch.Tensor, device: torch.device) -> dict:
        """Per-task gradient norms, cosines and gate weights (mtlrec.diagnostics) with the current weights.

        The model stays in train mode (the gradients training sees), drawing from the run's stream without moving
        it, so dropout draws here leave the training stream as it was; autograd.grad writes no `.grad`, so the
        optimiser sees nothing.
        """
        weights = torch.tensor(self.weighting.weights(), device=device)
        names = [t.name for t in self.tasks]
        with self.random_.drawing(keep=False) if self.dropout_ else contextlib.nullcontext():
            return diagnostics.measure(
                model, probe, lambda out, labels: weights * task_losses(out, labels, is_binary, self.masked_), names
            )


class OwnBest:
    """Early stopping for the single-task model, network by network: each task's network is kept at its own best
    epoch, judged by the monitored metric when the monitor is that task's, else by the task's validation loss.
    One criterion for all (the sum of the T losses, or one task's AUC) restored every network at one epoch, the
    watch-time network at click's best AUC (a review): not each task trained alone, the baseline's promise."""

    def __init__(self, model: SingleTask, tasks: list[TaskSpec], monitor: str):
        self.model, self.tasks = model, tasks
        self.monitored, self.metric = split_monitor(monitor) if monitor != "loss" else (None, None)
        self.best: list[tuple[float, int, dict] | None] = [None] * len(tasks)
        self.waited = [0] * len(tasks)
        self.by_metric: list[bool | None] = [None] * len(tasks)  # decided at the first epoch, then kept

    def epoch_end(self, epoch: int, val_loss: dict[str, float], metrics: dict[str, dict[str, float]]) -> int:
        """Keep the networks that improved; returns the epochs since the last network improved (patience's count:
        training goes on while any network still improves)."""
        metric = self.metric
        for j, task in enumerate(self.tasks):
            if self.by_metric[j] is None:  # the metric where it is defined at the first epoch, else the loss
                found = metrics.get(task.name, {}).get(metric, math.nan) if self.monitored == task.name else math.nan
                self.by_metric[j] = math.isfinite(found)
            if self.by_metric[j]:  # a NaN later never improves (an AUC is never compared with a loss)
                value, higher = metrics.get(task.name, {}).get(metric, math.nan), higher_is_better(metric)
            else:
                value, higher = val_loss[task.name], False
            best = self.best[j]
            if task.labelled_only and not math.isfinite(value):  # no labelled validation row: no judge of it, so
                # its latest network is kept (it was kept at its first epoch: a review), counted as not improving
                self.best[j] = (value, epoch, copy.deepcopy(self.model.networks[j].state_dict()))
                self.waited[j] += 1
            elif best is None or improves(value, best[0], higher):
                self.best[j] = (value, epoch, copy.deepcopy(self.model.networks[j].state_dict()))
                self.waited[j] = 0
            else:
                self.waited[j] += 1
        return min(self.waited)

    def restore(self) -> dict[str, int]:
        """Each network back at its best epoch; returns those epochs by task."""
        for network, best in zip(self.model.networks, self.best, strict=True):
            if best is not None:
                network.load_state_dict(best[2])
        return {t.name: best[1] for t, best in zip(self.tasks, self.best, strict=True) if best is not None}


def monitor_value(
    monitor: str, tasks: list[TaskSpec], val_loss: dict[str, float], metrics: dict[str, dict[str, float]]
) -> tuple[float, bool]:
    """(value, higher_is_better) of the early-stopping criterion `monitor` ("loss" or "<task>:<metric>")."""
    if monitor == "loss":  # a task with no labelled validation row (NaN) has no say
        judged = [t for t in tasks if not (t.labelled_only and math.isnan(val_loss[t.name]))]
        return sum(t.weight * val_loss[t.name] for t in judged), False
    task, metric = split_monitor(monitor)
    return metrics.get(task, {}).get(metric, math.nan), higher_is_better(metric)


def watched(
    monitor: str, tasks: list[TaskSpec], val_loss: dict[str, float], metrics: dict[str, dict[str, float]]
) -> tuple[str, float, bool, str | None]:
    """(criterion watched from now on, its value, higher_is_better, the run's note when it just changed) for a fit
    watching `monitor`: the weighted validation loss from the first epoch where the metric is undefined on the
    validation rows (a task with no positives there has no AUC). A NaN never improves, so the first epoch was kept
    and training ended after `patience` epochs as "no improvement", without a word."""
    value, higher = monitor_value(monitor, tasks, val_loss, metrics)
    if monitor == "loss" or math.isfinite(value):
        return monitor, value, higher, None
    task, metric = split_monitor(monitor)
    spec = next((t for t in tasks if t.name == task), None)
    why = (
        "it has no labelled validation row (it is trained on its labelled rows only)"
        if spec is not None and spec.labelled_only and math.isnan(val_loss.get(task, 0.0))
        else "a binary task's AUC needs both classes there, a ranking metric a positive; see the validation metrics"
    )  # the wrong reason was given for a task without a labelled validation row (a review)
    note = (
        f"early stopping was to watch {task}'s validation {metric}, which is undefined on the validation rows "
        f"({why}): it watched the weighted validation loss instead"
    )
    return "loss", *monitor_value("loss", tasks, val_loss, metrics), note


def improves(value: float, best: float | None, higher: bool) -> bool:
    """Whether an epoch's monitored value beats the best so far (a first epoch without a value must not block every
    later one)."""
    return math.isfinite(value) and (
        best is None or not math.isfinite(best) or (value > best if higher else value < best)
    )


def diverged(losses: torch.Tensor, first_loss: float | None) -> int | None:
    """Index of a task whose batch loss (T,) is NaN, infinite or exploding; None when all are sane."""
    bad = exploding(losses, divergence_limit(first_loss))
    if bool(bad.any()):
        return int(torch.nonzero(bad)[0, 0])
    return None


def exploding(losses: torch.Tensor, limit: float | torch.Tensor) -> torch.Tensor:
    """Mask of the losses that are NaN, infinite or above `limit` (a number, or limits that broadcast, e.g. one per
    model of a stack)."""
    return ~torch.isfinite(losses) | (losses > limit)


def divergence_limit(first_loss: float | None) -> float:
    """The batch loss above which training counts as diverged, given the first batch's largest task loss."""
    return max(DIVERGED_FLOOR, DIVERGED_FACTOR * (first_loss or 0.0))


def divergence_message(task: str, loss: float, epoch: int, batch: int, lr: float) -> str:
    return (
        f"training diverged: the loss of task '{task}' became {loss:.3g} in epoch {epoch}, batch {batch}; lower the "
        f"learning rate (now {lr:g}) or that task's weight, or check its label values"
    )


def stopped_message(epoch: int, reason: str | None = None, started: bool = True) -> str:
    """A stopped run's message: by the user, or for `reason` (mtlrec.jobs.StopFlag: a browser tab closed). A stop
    seen before the first batch of `epoch` (`started` False) came after the epoch before: 'in epoch 2' was said of
    a run with one epoch in its history."""
    when = f"in epoch {epoch}" if started or epoch <= 1 else f"after epoch {epoch - 1}"
    return f"stopped by the user {when}" if reason is None else f"stopped {when}: {reason}"


def stop_reason(stop) -> str | None:
    """Why a stop flag was set, when something other than the user set it (mtlrec.jobs.StopFlag)."""
    return getattr(stop, "reason", None)


def early_stopping_message(patience: int, best_epoch: int) -> str:
    return f"early stopping: no improvement for {patience} epochs; best epoch {best_epoch}"


def history_row(tasks: list[TaskSpec], epoch: int, elapsed: float, train_loss: dict[str, float],
                val_loss: dict[str, float], metrics: dict[str, dict[str, float]], monitor: float,
                weights: dict[str, float]) -> dict:  # fmt: skip
    """One epoch's row of the history: weighted and per-task losses, the monitored value, weights, val metrics."""
    row: dict = {
        "epoch": epoch,
        "elapsed": round(elapsed, 4),
        "train_loss": sum(t.weight * train_loss[t.name] for t in tasks),
        "val_loss": monitor_value("loss", tasks, val_loss, {})[0],  # a task with no labelled validation row: no say
        "monitor": monitor,
    }
    for t in tasks:
        row[f"{t.name}/train_loss"] = train_loss[t.name]
        row[f"{t.name}/val_loss"] = val_loss[t.name]
        row[f"{t.name}/weight"] = weights[t.name]
        for metric, value in metrics.get(t.name, {}).items():
            row[f"{t.name}/val_{metric}"] = value
    return row
