"""Shared-bottom multi-task model: embeddings -> shared MLP -> one tower per task (Caruana, 1997)."""

from __future__ import annotations

import torch
from torch import nn

from mtlrec.models.layers import FeatureEmbedding, Tower, mlp, stacked_mlp, towers_forward, towers_stacked


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
        cross: int = 0,  # DCN-v2 cross layers on the embedded input (see FeatureEmbedding)
    ):
        super().__init__()
        self.embedding = FeatureEmbedding(cardinalities, n_numeric, embed_dim, cross)
        self.bottom = mlp(self.embedding.output_dim, list(bottom), dropout)
        shared_dim = bottom[-1] if bottom else self.embedding.output_dim
        self.towers = nn.ModuleList(Tower(shared_dim, list(tower), dropout) for _ in range(n_tasks))

    def shared_parameters(self) -> list[nn.Parameter]:
        """Parameters every task's loss reaches (for gradient diagnostics and gradient surgery)."""
        return [*self.embedding.parameters(), *self.bottom.parameters()]

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        shared = self.bottom(self.embedding(categorical, numeric))  # (N, H)
        return towers_forward(self.towers, shared)  # (N, T)

    def stacked_forward(
        self, params: dict[str, torch.Tensor], categorical: torch.Tensor, numeric: torch.Tensor
    ) -> torch.Tensor:
        """forward() of K stacked copies of this model, params as mtlrec.stacked.stack makes them -> (K, N, T).

        The same arithmetic as K forward() calls, written with batched matrix products: vmap(functional_call)
        computes the same thing but spends a third of a tiny model's step copying (benchmarks/bench_sweep.py).
        Dropout is not applied: mtlrec.stacked uses this only for models without active dropout.
        """
        x = self.embedding.stacked(params, "embedding.", categorical, numeric)
        shared = stacked_mlp(self.bottom, "bottom.", params, x)  # (K, N, H)
        return towers_stacked(self.towers, "towers.", params, shared)  # (K, N, T)
