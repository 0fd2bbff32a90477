"""Parameter-count matching: every architecture gets about the parameter budget of shared-bottom at the same preset.

A fair comparison between architectures needs equal capacity. The reference is the shared-bottom model built from
the resolved preset (explicit `bottom`/`tower` overrides included) on the same data shape. Each sibling keeps the
embedding width and the tower widths of the preset and scales the widths of its expert / per-task MLPs by one
multiplier, found by bisection; parameters are counted by building the model on the meta device, so the count is
exact and nothing is allocated.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from mtlrec.models.shared_bottom import SharedBottom

# The multiplier search stops after this many halvings; the count is a step function of it, so this is plenty.
BISECTION_STEPS = 40
MAX_MULTIPLIER = 4096.0


def meta_count(build: Callable[[], nn.Module]) -> int:
    """Parameters of the module `build()` returns, built on the meta device (no memory, no random numbers)."""
    with torch.device("meta"):
        return sum(p.numel() for p in build().parameters())


def reference_count(cardinalities: list[int], n_numeric: int, n_tasks: int, size: dict) -> int:
    """The budget: shared-bottom's parameter count for a resolved size (ModelConfig.resolved())."""
    return meta_count(lambda: SharedBottom(cardinalities, n_numeric, n_tasks, **size))


def scale(widths: list[int], multiplier: float) -> list[int]:
    """Widths times `multiplier`, rounded half up, at least 1."""
    return [max(1, int(w * multiplier + 0.5)) for w in widths]


def match_widths(widths: list[int], count: Callable[[list[int]], int], target: int) -> list[int]:
    """`widths` scaled by one multiplier so that `count(scaled)` is as close as possible to `target`.

    `count` must grow with the widths (true of any MLP stack). When even widths of 1 exceed the target, they are
    returned: the caller decides whether something else (e.g. the embedding width) must shrink.
    """
    cache: dict[tuple[int, ...], int] = {}

    def at(multiplier: float) -> int:
        key = tuple(scale(widths, multiplier))
        if key not in cache:
            cache[key] = count(list(key))
        return cache[key]

    low, high = 0.0, 1.0
    while at(high) < target and high < MAX_MULTIPLIER:
        low, high = high, high * 2
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        if at(middle) < target:
            low = middle
        else:
            high = middle
    # at(low) < target <= at(high) unless the search hit a bound: take whichever lands closer.
    best = min((low, high), key=lambda m: abs(at(m) - target))
    return scale(widths, best)
