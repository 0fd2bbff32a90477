"""Multi-gate Mixture-of-Experts (Ma et al., KDD 2018): shared experts, one softmax gate per task.

embeddings -> E expert MLPs (shared by every task)
           -> per task t: gate_t(x) = softmax(W_t x) over the E experts, mixture sum_e gate_te * expert_e -> tower_t
"""

from __future__ import annotations

import torch
from torch import nn

from mtlrec.models.layers import FeatureEmbedding, GatedExperts, Tower, last_weights, mlp, towers_forward


class MMoE(GatedExperts):
    """Every task mixes the same experts with its own gate, so tasks that disagree can lean on different experts."""

    def __init__(
        self,
        cardinalities: list[int],
        n_numeric: int,
        n_tasks: int,
        embed_dim: int = 16,
        experts: int = 4,
        widths: list[int] = (256, 128),  # of each expert MLP
        tower: list[int] = (64,),
        dropout: float = 0.0,
        cross: int = 0,
    ):
        super().__init__()
        self.n_tasks, self.n_experts = n_tasks, experts
        self.embedding = FeatureEmbedding(cardinalities, n_numeric, embed_dim, cross)
        input_dim = self.embedding.output_dim
        self.experts = nn.ModuleList(mlp(input_dim, list(widths), dropout) for _ in range(experts))
        # The T gates in one Linear: the same maths as T separate softmax(W_t x), one matmul instead of T.
        self.gate = nn.Linear(input_dim, n_tasks * experts)
        expert_dim = widths[-1] if widths else input_dim
        self.towers = nn.ModuleList(Tower(expert_dim, list(tower), dropout) for _ in range(n_tasks))

    def shared_parameters(self) -> list[nn.Parameter]:
        """Parameters every task's loss reaches: the embedding and the experts (each gate belongs to one task)."""
        return [*self.embedding.parameters(), *self.experts.parameters()]

    def gradnorm_layers(self) -> list[nn.Parameter]:
        """GradNorm's last shared layer: the experts side by side, so every expert's last matrix (one alone would
        weigh the tasks by how much their gates happen to use that expert)."""
        return last_weights(self.experts)

    def _forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(outputs (N, T), gate weights (N, T, E)), experts in creation order."""
        x = self.embedding(categorical, numeric)  # (N, D)
        experts = torch.stack([expert(x) for expert in self.experts], dim=1)  # (N, E, H)
        gates = self.gate(x).view(-1, self.n_tasks, self.n_experts).softmax(-1, torch.float32)  # (N, T, E)
        mixed = gates @ experts  # (N, T, H)
        outputs = towers_forward(self.towers, mixed)  # (N, T)
        return outputs, gates
