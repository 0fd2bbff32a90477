"""Training diagnostics: how hard each task pulls on the shared layers, whether the tasks pull the same way, and
how MMoE/PLE gates share their experts among the tasks.

The trainer records them once per epoch as history columns:
- `<task>/grad_norm`: ||grad_shared(w_j L_j)||, with w_j the task's effective weight (what the shared layers receive
  from that task; 0 for a task with weight 0);
- `cos/<a>|<b>`: cosine similarity of the two tasks' gradients on the shared parameters, for each pair a before b in
  task order (negative: the tasks pull the shared layers apart; 0 when either gradient is zero);
- `gate/<task>/<e>`: the task's mean gate weight on expert e (0-based), for models with `gate_weights`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from itertools import combinations

import numpy as np
import torch
from torch import nn


def shared_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters every task's loss reaches; empty for models without any (single-task)."""
    return list(model.shared_parameters()) if hasattr(model, "shared_parameters") else []


def task_gradients(model: nn.Module, task_losses: torch.Tensor) -> torch.Tensor:
    """Flattened gradient of each task's loss on the model's shared parameters, (T, P). The graph is kept."""
    return compact_task_gradients(model, task_losses, {})


def compact_task_gradients(
    model: nn.Module, task_losses: torch.Tensor, touched: dict[int, torch.Tensor]
) -> torch.Tensor:
    """Each task's gradient on the shared parameters (zeros where the loss does not reach one), with each embedding
    table's gradient cut to the rows the batches touched (`touched`: the table parameter's id -> row indices; the
    other rows' gradient is 0; empty: whole tables, as task_gradients gives them), written into one (T, P') tensor:
    the same norms and dot products for a fraction of the memory. Before, T dense copies of every table, stacked once more
    and summed over the batches, took an `xl` run to 3.1x the memory estimated for it."""
    params = shared_parameters(model)
    sizes = [touched[id(p)].numel() * p[0].numel() if id(p) in touched else p.numel() for p in params]
    out = torch.zeros(len(task_losses), sum(sizes), device=task_losses.device)
    for t, loss in enumerate(task_losses):
        if not params or not loss.requires_grad:
            continue
        grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        position = 0
        for grad, param, size in zip(grads, params, sizes, strict=True):
            if grad is not None:
                rows = touched.get(id(param))
                out[t, position : position + size] = (grad if rows is None else grad.index_select(0, rows)).reshape(-1)
            position += size
        del grads
    return out


def _touched_rows(model: nn.Module, batches: list) -> dict[int, torch.Tensor]:
    """The rows of each model embedding table (FeatureEmbedding) that the batches' categorical inputs look up."""
    from mtlrec.models.layers import FeatureEmbedding

    touched = {}
    for module in model.modules():
        if isinstance(module, FeatureEmbedding) and module.n_categorical:
            ids = torch.cat([(categorical + module.offsets).reshape(-1) for categorical, _, _ in batches])
            touched[id(module.table.weight)] = torch.unique(ids)
    return touched


def gradient_norms(grads: torch.Tensor) -> list[float]:
    """Euclidean norm of each task's gradient (rows of `grads`)."""
    return grads.norm(dim=1).tolist()


def cosine_matrix(grads: torch.Tensor) -> np.ndarray:
    """Pairwise cosine similarity of the rows of `grads`, (T, T); rows and columns of a zero gradient are 0."""
    norms = grads.norm(dim=1, keepdim=True)
    unit = torch.where(norms > 0, grads / norms.clamp_min(torch.finfo(grads.dtype).tiny), 0.0)
    return (unit @ unit.T).clamp(-1.0, 1.0).double().cpu().numpy()


def measure(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    names: list[str],
) -> dict[str, float]:
    """History-row entries (see the module docstring) from (categorical, numeric, labels) batches.

    loss_fn(outputs, labels) gives the weighted task losses (T,). Gradients are the row-weighted mean over the
    batches (the gradient of the mean loss over all their rows). Nothing is written to `.grad`.
    """
    batches = list(batches)
    rows = sum(len(labels) for _, _, labels in batches)
    entries: dict[str, float] = {}
    if not rows:
        return entries
    if shared_parameters(model):
        # The gradient of the row-weighted mean loss is that of one loss over the batches' graphs together.
        losses = sum(
            loss_fn(model(categorical, numeric), labels) * (len(labels) / rows)
            for categorical, numeric, labels in batches
        )
        grads = compact_task_gradients(model, losses, _touched_rows(model, batches))
        # A task with no labelled row among these (TaskSpec.labelled_only) has no gradient to measure: undefined,
        # not a norm and cosines of 0, which read as no pull and unrelated tasks (a review)
        unmeasured = {
            j for j in range(len(names))
            if all(y.dim() == 2 and y.shape[1] == len(names) and bool(torch.isnan(y[:, j]).all()) for _, _, y in batches)
        }  # fmt: skip
        for j, (name, norm) in enumerate(zip(names, gradient_norms(grads), strict=True)):
            entries[f"{name}/grad_norm"] = math.nan if j in unmeasured else norm
        cosines = cosine_matrix(grads)
        for a, b in combinations(range(len(names)), 2):
            entries[f"cos/{names[a]}|{names[b]}"] = math.nan if {a, b} & unmeasured else float(cosines[a, b])
    if hasattr(model, "gate_weights"):
        was_training = model.training
        model.eval()
        with torch.no_grad():
            gates = sum(
                model.gate_weights(categorical, numeric).double() * (len(labels) / rows)
                for categorical, numeric, labels in batches
            )  # (T, E)
        model.train(was_training)
        for name, row in zip(names, gates.tolist(), strict=True):
            entries.update({f"gate/{name}/{e}": value for e, value in enumerate(row)})
    return entries


def final_diagnostics(history, epoch: int | None = None) -> dict:
    """The effective weights, gradient norms, cosines and gate weights of the model kept as nested dicts
    (metrics.json): those of `epoch` (the best epoch, whose weights early stopping restores), else of the last one.

    history: the trainer's rows (a list of dicts) or the same as a DataFrame. Keys: "epoch", "weight" and
    "grad_norm" ({task: value}), "cosine" ({"a|b": value}), "gate" ({task: [weight per expert]}); sections the
    run did not record are left out.
    """
    rows = history.to_dict("records") if hasattr(history, "to_dict") else list(history)
    if not rows:
        return {}
    kept = [row for row in rows if epoch is not None and int(row["epoch"]) == epoch]
    last = kept[-1] if kept else rows[-1]
    out: dict = {"epoch": int(last["epoch"])}
    sections: dict[str, dict] = {"weight": {}, "grad_norm": {}, "cosine": {}, "gate": {}}
    for key, value in last.items():
        if not isinstance(value, int | float) or (isinstance(value, float) and math.isnan(value)):
            continue
        if key.startswith("cos/"):
            sections["cosine"][key[4:]] = float(value)
        elif key.startswith("gate/"):
            task, _, expert = key[5:].rpartition("/")
            sections["gate"].setdefault(task, {})[int(expert)] = float(value)
        elif key.endswith("/weight"):
            sections["weight"][key[: -len("/weight")]] = float(value)
        elif key.endswith("/grad_norm"):
            sections["grad_norm"][key[: -len("/grad_norm")]] = float(value)
    sections["gate"] = {task: [e[i] for i in sorted(e)] for task, e in sections["gate"].items()}
    out.update({name: section for name, section in sections.items() if section})
    return out
