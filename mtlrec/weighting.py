"""Loss-weighting strategies. The trainer calls `backward` and never knows which strategy it runs."""

from __future__ import annotations

import torch
from torch import nn

from mtlrec.config import TaskSpec, WeightingConfig
from mtlrec.errors import MtlrecError


class FixedWeighting:
    """L = sum_j w_j * L_j with the user's weights (the what-if). Weight 0: evaluated, not trained."""

    name = "fixed"

    def __init__(self, tasks: list[TaskSpec], cfg: WeightingConfig | None = None):
        self.base = torch.tensor([float(t.weight) for t in tasks])

    def parameters(self) -> list[nn.Parameter]:
        """Learnable parameters the optimiser must update too (none for fixed weights)."""
        return []

    def to(self, device: torch.device) -> FixedWeighting:
        self.base = self.base.to(device)
        return self

    def backward(self, task_losses: torch.Tensor, model: nn.Module) -> torch.Tensor:
        """Back-propagate the combined loss of one batch; returns it. task_losses: (T,)."""
        total = (self.base * task_losses).sum()
        total.backward()
        return total.detach()

    def epoch_end(self, epoch: int, train_losses: list[float]) -> None:
        """Hook for strategies that adapt between epochs."""

    def weights(self) -> list[float]:
        """The effective weight of each task now (recorded in the history every epoch)."""
        return self.base.tolist()


STRATEGIES = {"fixed": FixedWeighting}


def build_weighting(cfg: WeightingConfig, tasks: list[TaskSpec]) -> FixedWeighting:
    if cfg.method not in STRATEGIES:
        raise MtlrecError(f"unknown loss weighting '{cfg.method}'; available: {', '.join(STRATEGIES)}")
    return STRATEGIES[cfg.method](tasks, cfg)
