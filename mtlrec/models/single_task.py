"""Single-task baseline: one independent network per task, sharing nothing, the yardstick for the multi-task gain."""

from __future__ import annotations

import torch
from torch import nn

from mtlrec.models.shared_bottom import SharedBottom


class SingleTask(nn.Module):
    """T separate one-task shared-bottom networks (own embedding, MLP and tower each); outputs side by side.

    Each network has the size preset's full shape, as a one-task shared-bottom model: the conventional single-task
    baseline, so that the multi-task gain measures what sharing adds rather than what a smaller network loses.
    """

    def __init__(
        self,
        cardinalities: list[int],
        n_numeric: int,
        n_tasks: int,
        embed_dim: int = 16,
        bottom: list[int] = (256, 128),
        tower: list[int] = (64,),
        dropout: float = 0.0,
        cross: int = 0,
    ):
        super().__init__()
        self.networks = nn.ModuleList(
            SharedBottom(cardinalities, n_numeric, 1, embed_dim, bottom, tower, dropout, cross) for _ in range(n_tasks)
        )

    def shared_parameters(self) -> list[nn.Parameter]:
        """None: no parameter is reached by more than one task's loss."""
        return []

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        return torch.cat([network(categorical, numeric) for network in self.networks], dim=1)  # (N, T)
