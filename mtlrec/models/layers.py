"""Building blocks shared by the architectures: the feature embedding, the MLP, the tower, the gated-experts base."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FeatureEmbedding(nn.Module):
    """All categorical columns in one embedding table (offset per column), concatenated with numeric inputs.

    One table and one gather per batch instead of one nn.Embedding per column: the per-column loop is where
    peer libraries spend much of their forward pass on small models.
    """

    def __init__(self, cardinalities: list[int], n_numeric: int, embed_dim: int, cross: int = 0):
        super().__init__()
        offsets = torch.tensor([0, *cardinalities[:-1]], dtype=torch.long).cumsum(0) if cardinalities else None
        self.register_buffer("offsets", offsets if offsets is not None else torch.zeros(0, dtype=torch.long))
        self.table = nn.Embedding(max(sum(cardinalities), 1), embed_dim)
        nn.init.normal_(self.table.weight, std=0.05)
        with torch.no_grad():  # each column's unknown-value vector (index 0) starts neutral, not at a random value:
            self.table.weight[self.offsets] = 0.0  # it is all an unseen user (user split) or item is scored with
        self.n_categorical = len(cardinalities)
        self.output_dim = len(cardinalities) * embed_dim + n_numeric
        self.cross = nn.ModuleList(cross_layer(self.output_dim) for _ in range(cross))

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        parts = []
        if self.n_categorical:
            parts.append(self.table(categorical + self.offsets).flatten(1))  # (N, C * D)
        if numeric.shape[1]:
            parts.append(numeric)  # (N, F)
        x0 = x = torch.cat(parts, dim=1)
        for layer in self.cross:
            x = x0 * layer(x) + x  # DCN-v2: x_{l+1} = x_0 * (W_l x_l + b_l) + x_l
        return x

    def stacked(
        self, params: dict[str, torch.Tensor], prefix: str, categorical: torch.Tensor, numeric: torch.Tensor
    ) -> torch.Tensor:
        """forward() for K stacked copies, their tables `params[prefix + "table.weight"]` (K, V, D) and cross
        layers -> (K, N, C * D + F): one gather from the K tables laid end to end."""
        table = params[f"{prefix}table.weight"]
        k, v, d = table.shape
        parts = []
        if self.n_categorical:
            ids = (categorical + self.offsets).unsqueeze(0) + v * torch.arange(k, device=table.device).view(k, 1, 1)
            # index_select, whose backward is one index_add: embedding's sorts the K * N * C indices first (10x slower)
            rows = table.reshape(k * v, d).index_select(0, ids.reshape(-1))
            parts.append(rows.view(k, categorical.shape[0], -1))  # (K, N, C * D)
        if numeric.shape[1]:
            parts.append(numeric.unsqueeze(0).expand(k, -1, -1))  # (K, N, F)
        x0 = x = torch.cat(parts, dim=2)
        for i in range(len(self.cross)):
            x = x0 * stacked_linear(x, params[f"{prefix}cross.{i}.weight"], params[f"{prefix}cross.{i}.bias"]) + x
        return x


def cross_layer(width: int) -> nn.Linear:
    """One DCN-v2 cross layer's W_l, b_l (Wang et al., WWW 2021), full rank. Zero at the start: each layer begins as
    the identity (x_{l+1} = x_l), so a model with cross layers starts as the same model without them."""
    layer = nn.Linear(width, width)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def mlp(input_dim: int, widths: list[int], dropout: float = 0.0) -> nn.Sequential:
    """Linear -> ReLU (-> Dropout) for each width."""
    layers: list[nn.Module] = []
    for width in widths:
        layers += [nn.Linear(input_dim, width), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        input_dim = width
    return nn.Sequential(*layers)


def last_weights(experts) -> list[nn.Parameter]:
    """The weight matrix of each expert's last Linear layer (none for an expert without layers)."""
    found = []
    for expert in experts:
        linears = [m for m in expert.modules() if isinstance(m, nn.Linear)]
        if linears:
            found.append(linears[-1].weight)
    return found


def stacked_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """nn.Linear for K stacked inputs (K, N, in) and weights (K, out, in): one batched matrix product."""
    if bias is None:
        return torch.bmm(x, weight.transpose(1, 2))
    return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


def stacked_mlp(layers: nn.Sequential, prefix: str, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """An `mlp` (or any Sequential of Linear, ReLU and inactive Dropout) applied to K stacked inputs (K, N, in)
    with K stacked copies of its weights, `params[prefix + "<i>.weight"]` (K, out, in)."""
    for name, layer in layers.named_children():
        if isinstance(layer, nn.Linear):
            x = stacked_linear(x, params[f"{prefix}{name}.weight"], params.get(f"{prefix}{name}.bias"))
        elif isinstance(layer, nn.ReLU):
            x = torch.relu(x)
        elif not (isinstance(layer, nn.Dropout) and (layer.p == 0 or not layer.training)):
            raise NotImplementedError(f"no stacked form for {type(layer).__name__}")
    return x


class Tower(nn.Module):
    """A task's own MLP ending in one output (a logit for binary tasks, a value for regression)."""

    def __init__(self, input_dim: int, widths: list[int], dropout: float = 0.0):
        super().__init__()
        self.body = mlp(input_dim, widths, dropout)
        self.head = nn.Linear(widths[-1] if widths else input_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))  # (N, 1)


def towers_forward(towers: nn.ModuleList, x: torch.Tensor) -> torch.Tensor:
    """Every Tower of `towers` (same shape each) at once -> (N, T): x is one input for all, (N, in), or one per
    task, (N, T, in).

    The same arithmetic as torch.cat([tower(x) for tower in towers], 1): a shared input meets the towers' first
    layers as one matrix product (their weights laid end to end), per-task inputs and deeper layers meet them as
    one batched product over the tasks, and the heads are one multiply-and-sum. One tower at a time made a small
    model's training step at batch 256 take 5-10% longer (benchmarks/bench_train.py). In training, dropout draws
    its masks once over all towers (the same distribution as one draw per tower).
    """
    n, t = x.shape[0], len(towers)
    h = x  # (N, in) while shared; then (N, T, width)
    for i, layer in enumerate(towers[0].body):
        if isinstance(layer, nn.Linear):
            weights = [tower.body[i].weight for tower in towers]
            biases = [tower.body[i].bias for tower in towers]
            if h.dim() == 2:
                h = F.linear(h, torch.cat(weights), torch.cat(biases)).view(n, t, -1)
            else:
                product = torch.bmm(h.transpose(0, 1), torch.stack(weights).transpose(1, 2))  # (T, N, out)
                h = product.transpose(0, 1) + torch.stack(biases)
        elif isinstance(layer, nn.ReLU):
            h = torch.relu(h)
        elif isinstance(layer, nn.Dropout) and layer.training and layer.p > 0:
            # contiguous: dropout draws its mask in memory order, and a batched product's output is a transposed
            # view laid out otherwise under vmap; so a sweep's stack draws the masks its separate runs draw
            h = F.dropout(h.contiguous(), layer.p, True)
        elif isinstance(layer, nn.Dropout):
            continue  # evaluation: dropout is the identity (no copy)
        else:
            raise NotImplementedError(f"no joint form for {type(layer).__name__}")
    head_weight = torch.cat([tower.head.weight for tower in towers])  # (T, last)
    head_bias = torch.cat([tower.head.bias for tower in towers])  # (T,)
    if h.dim() == 2:  # towers without layers: the heads read the shared input
        return F.linear(h, head_weight, head_bias)
    return (h * head_weight).sum(2) + head_bias


def towers_stacked(
    towers: nn.ModuleList, prefix: str, params: dict[str, torch.Tensor], x: torch.Tensor
) -> torch.Tensor:
    """towers_forward for K stacked copies of the towers, all reading one input per copy (K, N, in) -> (K, N, T);
    tower j's weights are `params[f"{prefix}{j}.body.<i>.weight"]` (K, out, in). Inactive dropout only."""
    k, n, t = x.shape[0], x.shape[1], len(towers)

    def joined(name: str) -> tuple[torch.Tensor, torch.Tensor]:  # every tower's (K, ...) weight and bias, stacked
        return (torch.stack([params[f"{prefix}{j}.{name}.weight"] for j in range(t)], 1),
                torch.stack([params[f"{prefix}{j}.{name}.bias"] for j in range(t)], 1))  # fmt: skip

    h = x  # (K, N, in) while shared; then (K, N, T, width)
    for i, layer in enumerate(towers[0].body):
        if isinstance(layer, nn.Linear):
            weight, bias = joined(f"body.{i}")  # (K, T, out, in), (K, T, out)
            if h.dim() == 3:
                h = stacked_linear(h, weight.flatten(1, 2), bias.flatten(1, 2)).view(k, n, t, -1)
            else:
                h = torch.einsum("knti,ktoi->knto", h, weight) + bias.unsqueeze(1)
        elif isinstance(layer, nn.ReLU):
            h = torch.relu(h)
        elif not (isinstance(layer, nn.Dropout) and (layer.p == 0 or not layer.training)):
            raise NotImplementedError(f"no stacked form for {type(layer).__name__}")
    weight, bias = joined("head")  # (K, T, 1, last), (K, T, 1)
    if h.dim() == 3:  # towers without layers
        return stacked_linear(h, weight.flatten(1, 2), bias.flatten(1, 2))
    return (h * weight.squeeze(2).unsqueeze(1)).sum(3) + bias.squeeze(2).unsqueeze(1)


class GatedExperts(nn.Module):
    """Base of the mixture-of-experts models (MMoE, PLE): `_forward` gives (outputs (N, T), gates (N, T, E))."""

    def _forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        return self._forward(categorical, numeric)[0]

    @torch.no_grad()
    def sample_gate_weights(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """Each row's gate weights, shape (N, T, E); every (row, task) sums to 1. Experts in the model's gate order."""
        return self._forward(categorical, numeric)[1]

    def gate_weights(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """Mean gate weight of each task over its experts on a batch, shape (T, E): which experts each task uses."""
        return self.sample_gate_weights(categorical, numeric).mean(dim=0)
