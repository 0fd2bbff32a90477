"""Shared-bottom multi-task model: embeddings -> shared MLP -> one tower per task (Caruana, 1997)."""

from __future__ import annotations

import torch
from torch import nn

from mtlrec.models.layers import FeatureEmbedding, Tower, mlp


class SharedBottom(nn.Module):
    """Every task reads the same shared representation; each has its own tower and output."""

    def __init__(
        self,
        cardinalities: list[int],
        n_numeric: int,
        n_tasks: int,
        embed_dim: int = 16,
        bottom: list[int] = (256, 128),
        tower: list[int] = (64,),
        dropout: float = 0.0,
    ):
        super().__init__()
        self.embedding = FeatureEmbedding(cardinalities, n_numeric, embed_dim)
        self.bottom = mlp(self.embedding.output_dim, list(bottom), dropout)
        shared_dim = bottom[-1] if bottom else self.embedding.output_dim
        self.towers = nn.ModuleList(Tower(shared_dim, list(tower), dropout) for _ in range(n_tasks))

    def shared_parameters(self) -> list[nn.Parameter]:
        """Parameters every task's loss reaches (for gradient diagnostics and gradient surgery)."""
        return [*self.embedding.parameters(), *self.bottom.parameters()]

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        shared = self.bottom(self.embedding(categorical, numeric))  # (N, H)
        return torch.cat([tower(shared) for tower in self.towers], dim=1)  # (N, T)
