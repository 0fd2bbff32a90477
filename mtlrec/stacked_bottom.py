"""Shared-bottom's stacked training step written out by hand (forward and backward), on a CPU.

A stack of K models (mtlrec.stacked) trained through autograd and autocast spent a good part of its step on their
bookkeeping: a cast per weight and per step, weight gradients cast and then made contiguous in two copies, a new
embedding gradient allocated and zero-filled every step, the graph itself. Here the K models' parameters live in
one flat float32 tensor and their gradients in another, kept from step to step: each step casts every matrix in one
operation, runs the products and copies each gradient, cast and laid out, into its block of the flat gradient in
one copy (the embedding table's block is zeroed in place and index_add'ed into).

The arithmetic is the autograd step's, operation for operation: the same batched products on operands of the same
layout (bfloat16 products round by layout: the weight gradient computed the other way round differs after a few
hundred steps), the gradients autograd's formulas give (relu's threshold_backward, the sums that reduce a broadcast
bias, index_add for the embedding table), the same casts, and the losses and their gradient still through autograd
(mtlrec.train.task_losses). The optimiser sees one tensor per parameter, as before: fused Adam rounds the tail of a
tensor differently from its body, so one flat tensor would not give the same steps. tests/test_sweep.py checks
that a stack trained this way equals separate runs, in float32 and bfloat16.

It covers shared-bottom without dropout or cross layers, with categorical columns, at least one shared layer and
towers of one hidden layer (every size preset but xl), on a CPU; anything else trains through autograd
(mtlrec.stacked.AutogradStack). bench_sweep.py measures the gain.
"""

from __future__ import annotations

import torch
from torch import nn

from mtlrec.config import TrainConfig
from mtlrec.models.shared_bottom import SharedBottom
from mtlrec.train import keep_rows, make_optimizer

# the layers a covered model may hold besides its Linear and ReLU layers (containers, the embedding, inactive dropout)
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.Embedding)


# Train with the hand-written step where it covers the model (benchmarks switch it off to time autograd's step in the
# same run; tests, to check both ways give the same numbers).
HAND_WRITTEN = True


def covers(model: nn.Module, device: torch.device) -> bool:
    """True when HandStack trains `model` on `device`."""
    if type(model) is not SharedBottom or device.type != "cpu":
        return False
    for module in model.modules():
        if isinstance(module, nn.Dropout) and module.p > 0:
            return False
        if isinstance(module, nn.Linear) and module.bias is None:
            return False
    towers_linear = [sum(isinstance(m, nn.Linear) for m in tower.body) for tower in model.towers]
    return (
        len(model.embedding.cross) == 0
        and model.embedding.n_categorical > 0
        and any(isinstance(m, nn.Linear) for m in model.bottom)
        and set(towers_linear) == {1}
    )


class HandStack:
    """K stacked copies of a shared-bottom model and their optimiser, trained by hand-written steps.

    `params` maps each parameter name to its (K, ...) block of the flat tensor (what mtlrec.stacked reads: a row's
    state, stacked predictions); each block's `.grad` is its block of the flat gradient. The flat order puts every
    weight the products read side by side (one cast per step): the table, the shared layers, the towers' hidden
    layers, then the heads (the towers' last multiply runs in float32 under autocast, so here too).
    """

    def __init__(self, model: SharedBottom, k: int, cfg: TrainConfig, dtype: torch.dtype | None):
        self.model = model
        self.dtype = dtype or torch.float32  # the products' dtype
        self.t = len(model.towers)
        self.bottom = [i for i, m in enumerate(model.bottom) if isinstance(m, nn.Linear)]
        tower = next(i for i, m in enumerate(model.towers[0].body) if isinstance(m, nn.Linear))
        t = range(self.t)
        self.tower_w = [f"towers.{j}.body.{tower}.weight" for j in t]
        self.tower_b = [f"towers.{j}.body.{tower}.bias" for j in t]
        self.head_w = [f"towers.{j}.head.weight" for j in t]
        self.head_b = [f"towers.{j}.head.bias" for j in t]
        bottom = [f"bottom.{i}.{kind}" for i in self.bottom for kind in ("weight", "bias")]
        self.cast_names = bottom + self.tower_w + self.tower_b
        self.order = ["embedding.table.weight", *self.cast_names, *self.head_w, *self.head_b]
        single = dict(model.named_parameters())
        assert sorted(self.order) == sorted(single), "not a covered model (see covers)"
        self._build({name: p.detach().unsqueeze(0).expand(k, *p.shape) for name, p in single.items()})
        self.optimizer = make_optimizer(cfg, [self.params[name] for name in single])

    def _build(self, values: dict[str, torch.Tensor]) -> None:
        """Lay the flat tensors out for the (K, ...) `values` of every parameter, and copy the values in."""
        self.k = next(iter(values.values())).shape[0]
        numel = {name: values[name].numel() for name in self.order}
        self.flat = torch.empty(sum(numel.values()))
        self.grad = torch.zeros_like(self.flat)
        self.params, self.grads, start = {}, {}, 0
        for name in self.order:
            shape = values[name].shape
            self.params[name] = self.flat[start : start + numel[name]].view(shape)
            self.grads[name] = self.grad[start : start + numel[name]].view(shape)
            self.params[name].copy_(values[name])
            self.params[name].grad = self.grads[name]
            start += numel[name]
        first = self.order.index(self.cast_names[0])
        self.cast_from = sum(numel[name] for name in self.order[:first])
        self.cast_to = self.cast_from + sum(numel[name] for name in self.cast_names)

    def _towers(self, blocks: dict[str, torch.Tensor], names: list[str]) -> torch.Tensor:
        """The towers' blocks `names` (adjacent in the flat order) as one strided view (K, T, ...)."""
        first = blocks[names[0]]
        return first.as_strided(
            (self.k, self.t, *first.shape[1:]), (first.stride(0), first.numel(), *first.stride()[1:])
        )

    def select(self, rows: list[int]) -> None:
        """Keep the given models: their rows of the parameters and of the optimiser's moments."""
        index, old = torch.tensor(rows), self.params
        self._build({name: p.index_select(0, index) for name, p in old.items()})
        keep_rows(self.optimizer, old, self.params, index)

    # ---------------------------------------------------------------------------------------------------- the step
    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """Outputs (K, N, T), float32, as stacked_forward computes them under mixed_forward; keeps what backward()
        needs. They require grad: losses computed from them reach backward()."""
        k, n, t, p = self.k, categorical.shape[0], self.t, self.params
        table = p["embedding.table.weight"]
        v, d = table.shape[1], table.shape[2]
        with torch.no_grad():
            cast = self.flat[self.cast_from : self.cast_to].to(self.dtype)  # every product's weights, cast at once
            w, start = {}, 0
            for name in self.cast_names:
                w[name] = cast[start : start + p[name].numel()].view(p[name].shape)
                start += p[name].numel()
            self.w = w
            self.ids = ((categorical + self.model.embedding.offsets) + v * torch.arange(k).view(k, 1, 1)).reshape(-1)
            rows = table.reshape(k * v, d).index_select(0, self.ids).view(k, n, -1)
            self.width = rows.shape[2]
            x = torch.empty(k, n, self.width + numeric.shape[1], dtype=self.dtype)
            x[:, :, : self.width] = rows  # the embedded input and the numeric columns, cast as autocast casts them
            x[:, :, self.width :] = numeric
            self.x = [x]
            for i in self.bottom:
                y = torch.baddbmm(w[f"bottom.{i}.bias"].unsqueeze(1), x, w[f"bottom.{i}.weight"].transpose(1, 2))
                x = torch.relu_(y)
                self.x.append(x)
            self.tower_weight = self._towers(w, self.tower_w).flatten(1, 2)  # (K, T * L, H): one copy
            bias = self._towers(w, self.tower_b).flatten(1, 2).unsqueeze(1)
            self.h = torch.relu_(torch.baddbmm(bias, x, self.tower_weight.transpose(1, 2)).view(k, n, t, -1))
            head_weight = self._towers(p, self.head_w).squeeze(2).unsqueeze(1)  # (K, 1, T, L), float32
            out = (self.h * head_weight).sum(3) + self._towers(p, self.head_b).squeeze(2).unsqueeze(1)
        self.out = out.requires_grad_(True)
        return self.out

    def backward(self, loss: torch.Tensor) -> None:
        """The gradients of `loss` (a function of forward()'s outputs) into the parameters' `.grad` blocks."""
        loss.backward()
        g_out = self.out.grad  # (K, N, T) float32
        k, n, t = g_out.shape
        g, w, h = self.grads, self.w, self.h
        with torch.no_grad():
            self._towers(g, self.head_b).squeeze(2).unsqueeze(1).copy_(g_out.sum(1, keepdim=True))
            g_prod = g_out.unsqueeze(3).expand(h.shape)
            self._towers(g, self.head_w).squeeze(2).unsqueeze(1).copy_((g_prod * h).sum(1, keepdim=True))
            head_weight = self._towers(self.params, self.head_w).squeeze(2).unsqueeze(1)
            g_y = torch.ops.aten.threshold_backward((g_prod * head_weight).to(h.dtype), h, 0).view(k, n, -1)
            x = self.x[-1]
            self._towers(g, self.tower_b).copy_(g_y.sum(1, keepdim=True).view(k, t, -1))
            product = torch.bmm(x.transpose(1, 2), g_y).transpose(1, 2)  # (K, T * L, H), as autograd orients it
            self._towers(g, self.tower_w).copy_(product.view(k, t, -1, x.shape[2]))
            g_x = torch.bmm(g_y, self.tower_weight)
            for pos in range(len(self.bottom) - 1, -1, -1):
                i, x, y = self.bottom[pos], self.x[pos], self.x[pos + 1]
                g_y = torch.ops.aten.threshold_backward(g_x, y, 0)
                g[f"bottom.{i}.bias"].copy_(g_y.sum(1, keepdim=True).squeeze(1))
                g[f"bottom.{i}.weight"].copy_(torch.bmm(x.transpose(1, 2), g_y).transpose(1, 2))
                g_x = torch.bmm(g_y, w[f"bottom.{i}.weight"])
            table = g["embedding.table.weight"]
            table.zero_()
            rows = g_x[:, :, : self.width].float().reshape(-1, table.shape[2])
            table.view(-1, table.shape[2]).index_add_(0, self.ids, rows)
        self.x = self.w = self.h = self.out = self.tower_weight = None

    def step(self) -> None:
        self.optimizer.step()
