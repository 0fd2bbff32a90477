"""Model registry: every architecture shares forward(categorical, numeric) -> Tensor[N, T]."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from mtlrec.config import ModelConfig
from mtlrec.errors import MtlrecError
from mtlrec.models.shared_bottom import SharedBottom

# name -> (builder(cardinalities, n_numeric, n_tasks, model_config) -> nn.Module, one-line description)
REGISTRY: dict[str, tuple[Callable[..., nn.Module], str]] = {}


def register(name: str, description: str):
    def wrap(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        REGISTRY[name] = (builder, description)
        return builder

    return wrap


@register("shared_bottom", "shared MLP on the embeddings, one tower per task")
def _shared_bottom(cardinalities: list[int], n_numeric: int, n_tasks: int, cfg: ModelConfig) -> nn.Module:
    return SharedBottom(cardinalities, n_numeric, n_tasks, **cfg.resolved())


def build_model(cfg: ModelConfig, cardinalities: list[int], n_numeric: int, n_tasks: int) -> nn.Module:
    """Instantiate the architecture named by cfg.kind with the resolved size preset."""
    if cfg.kind not in REGISTRY:
        raise MtlrecError(f"unknown model '{cfg.kind}'; available: {', '.join(REGISTRY)}")
    return REGISTRY[cfg.kind][0](cardinalities, n_numeric, n_tasks, cfg)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
