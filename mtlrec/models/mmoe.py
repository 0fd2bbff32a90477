"""Multi-gate Mixture-of-Experts (Ma et al., KDD 2018): shared experts, one softmax gate per task.

embeddings -> E expert MLPs (shared by every task)
           -> per task t: gate_t(x) = softmax(W_t x) over the E experts, mixture sum_e gate_te * expert_e -> tower_t
"""

from __future__ import annotations

import torch
from torch import nn

from mtlrec.models.layers import FeatureEmbedding, Tower, mlp


class MMoE(nn.Module):
    """Every task mixes the same experts with its own gate, so tasks that disagree can lean on different experts."""

    def __init__(
        self,
        cardinalities: list[int],
        n_numeric: int,
        n_tasks: int,
        embed_dim: int = 16,
        experts: int = 4,
        expert_widths: list[int] = (256, 128),
        tower: list[int] = (64,),
        dropout: float = 0.0,
    ):
        super().__init__()
        self.n_tasks, self.n_experts = n_tasks, experts
        self.embedding = FeatureEmbedding(cardinalities, n_numeric, embed_dim)
        input_dim = self.embedding.output_dim
        self.experts = nn.ModuleList(mlp(input_dim, list(expert_widths), dropout) for _ in range(experts))
        # The T gates in one Linear: the same maths as T separate softmax(W_t x), one matmul instead of T.
        self.gate = nn.Linear(input_dim, n_tasks * experts)
        expert_dim = expert_widths[-1] if expert_widths else input_dim
        self.towers = nn.ModuleList(Tower(expert_dim, list(tower), dropout) for _ in range(n_tasks))

    def shared_parameters(self) -> list[nn.Parameter]:
        """Parameters every task's loss reaches: the embedding and the experts (each gate belongs to one task)."""
        return [*self.embedding.parameters(), *self.experts.parameters()]

    def _forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.embedding(categorical, numeric)  # (N, D)
        experts = torch.stack([expert(x) for expert in self.experts], dim=1)  # (N, E, H)
        gates = self.gate(x).view(-1, self.n_tasks, self.n_experts).softmax(dim=-1)  # (N, T, E)
        mixed = gates @ experts  # (N, T, H)
        outputs = torch.cat([tower(mixed[:, t]) for t, tower in enumerate(self.towers)], dim=1)  # (N, T)
        return outputs, gates

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        return self._forward(categorical, numeric)[0]

    @torch.no_grad()
    def sample_gate_weights(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """Each row's gate weights, shape (N, T, E); every (row, task) sums to 1. Experts in creation order."""
        return self._forward(categorical, numeric)[1]

    def gate_weights(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """Mean gate weight of each task over the experts on a batch, shape (T, E): which experts each task uses."""
        return self.sample_gate_weights(categorical, numeric).mean(dim=0)
