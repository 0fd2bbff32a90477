"""Model registry: every architecture shares forward(categorical, numeric) -> Tensor[N, T].

Every architecture of a size preset has about the parameter count of shared-bottom at that preset on the same
data (see mtlrec.models.sizing), so that comparing them compares architectures, not capacities.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np
import torch
from torch import nn

from mtlrec.config import ModelConfig, TaskSpec, resolve_funnel, untrained
from mtlrec.errors import MtlrecError
from mtlrec.models.esmm import ESMM
from mtlrec.models.mmoe import MMoE
from mtlrec.models.ple import PLE
from mtlrec.models.shared_bottom import SharedBottom
from mtlrec.models.single_task import SingleTask
from mtlrec.models.sizing import match_widths, meta_count, reference_count

# name -> (builder(cardinalities, n_numeric, n_tasks, model_config, tasks=None) -> nn.Module, one-line description)
REGISTRY: dict[str, tuple[Callable[..., nn.Module], str]] = {}

# name -> a paragraph for learners: what the architecture does, when to use it, where it comes from.
EXPLANATIONS: dict[str, str] = {
    "shared_bottom": (
        "Every task reads the same representation: the features go through one shared MLP (the 'bottom'), and "
        "each task has a small tower of its own on top. Sharing acts as a regulariser and lets a rare task borrow "
        "from a frequent one, but the tasks must agree on what the shared layers learn: when they conflict, one "
        "task's gain is another's loss (negative transfer). Start here; it is the reference every other "
        "architecture is compared with. Caruana, 'Multitask Learning', Machine Learning 1997."
    ),
    "mmoe": (
        "Multi-gate Mixture-of-Experts replaces the single shared bottom with several expert MLPs. Each task has "
        "a gate, a softmax over the experts computed from the input, and reads its own weighted mix of them, so "
        "tasks that agree can use the same experts and tasks that conflict can drift apart. Use it when tasks are "
        "related but not the same (click and watch time, say) and shared-bottom trades one task off against "
        "another; the gate heatmap shows which experts each task relies on. Ma et al., 'Modeling Task "
        "Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts', KDD 2018."
    ),
    "ple": (
        "Progressive Layered Extraction splits the experts into shared ones and ones owned by each task. A task's "
        "gate mixes the shared experts with its own, never with another task's, so what a task does not share "
        "has a place to live; with two levels, the first level's outputs are mixed again by a second. Use it "
        "when MMoE still shows a seesaw (one task improves as another gets worse) or when one task dominates "
        "the shared experts. Tang et al., 'Progressive Layered Extraction (PLE): A Novel Multi-Task Learning "
        "(MTL) Model for Personalized Recommendations', RecSys 2020."
    ),
    "esmm": (
        "The Entire Space Multi-task Model is for funnel tasks, where one happens only after another: a purchase "
        "only after a click. Training a conversion model on clicked rows alone is biased (it never sees the "
        "impressions that were not clicked) and starved of data. ESMM instead predicts pCTR and pCVR with two "
        "networks on shared embeddings and trains pCTCVR = pCTR x pCVR on every impression, where the purchase "
        "label is always defined. Use it when a task is conditional on another; mark which one in the funnel "
        "setting. Its purchase output is pCTCVR (purchase per impression). Ma et al., 'Entire Space Multi-Task "
        "Model: An Effective Approach for Estimating Post-Click Conversion Rate', SIGIR 2018."
    ),
    "single_task": (
        "One independent network per task (own embeddings, MLP and tower), sharing nothing; each has the shape of "
        "the multi-task model for one task, so the T networks together hold about T times its parameters. It is "
        "the baseline that tells whether multi-task learning "
        "helps at all: a multi-task model is worth its complexity only where it beats this. Use it as the "
        "yardstick in a comparison, or when tasks are unrelated. This is the 'single-task' row of the MMoE and "
        "PLE papers' tables."
    ),
}


def register(name: str, description: str):
    def wrap(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        REGISTRY[name] = (builder, description)
        return builder

    return wrap


def _matched(model: Callable[..., nn.Module], cardinalities, n_numeric, n_tasks, cfg: ModelConfig) -> nn.Module:
    """model(cardinalities, n_numeric, n_tasks, embed_dim=, widths=, tower=, dropout=) with the resolved preset, its
    `widths` (the preset's bottom widths) scaled to shared-bottom's parameter count."""
    size = cfg.resolved()

    def build(widths: list[int]) -> nn.Module:
        return model(
            cardinalities, n_numeric, n_tasks, embed_dim=size["embed_dim"], widths=widths, tower=size["tower"],
            dropout=size["dropout"], cross=size["cross"],
        )  # fmt: skip

    target = reference_count(cardinalities, n_numeric, n_tasks, size)
    return build(match_widths(size["bottom"], lambda widths: meta_count(lambda: build(widths)), target))


@register("shared_bottom", "shared MLP on the embeddings, one tower per task")
def _shared_bottom(
    cardinalities: list[int], n_numeric: int, n_tasks: int, cfg: ModelConfig, tasks: list[TaskSpec] | None = None
) -> nn.Module:
    return SharedBottom(cardinalities, n_numeric, n_tasks, **cfg.resolved())


@register("mmoe", "shared expert MLPs, one softmax gate per task mixing them, one tower per task")
def _mmoe(
    cardinalities: list[int], n_numeric: int, n_tasks: int, cfg: ModelConfig, tasks: list[TaskSpec] | None = None
) -> nn.Module:
    if cfg.experts < 1:
        raise MtlrecError(f"MMoE needs at least 1 expert, got {cfg.experts}", source="model")
    return _matched(partial(MMoE, experts=cfg.experts), cardinalities, n_numeric, n_tasks, cfg)


@register("ple", "shared and task-owned experts in 1-2 gated levels (CGC), one tower per task")
def _ple(
    cardinalities: list[int], n_numeric: int, n_tasks: int, cfg: ModelConfig, tasks: list[TaskSpec] | None = None
) -> nn.Module:
    problems = []
    if cfg.experts < 0 or cfg.task_experts < 0 or cfg.experts + cfg.task_experts < 1:
        problems.append(
            f"PLE needs shared experts >= 0 and experts per task >= 0, at least one in all; got {cfg.experts} "
            f"shared and {cfg.task_experts} per task"
        )
    if cfg.levels < 1:
        problems.append(f"PLE needs at least 1 level, got {cfg.levels}")
    if problems:
        raise MtlrecError(problems, source="model")
    ple = partial(PLE, experts=cfg.experts, task_experts=cfg.task_experts, levels=cfg.levels)
    return _matched(ple, cardinalities, n_numeric, n_tasks, cfg)


@register("esmm", "shared embeddings, one MLP per task; a conditional task outputs pCTR x pCVR (funnels)")
def _esmm(
    cardinalities: list[int], n_numeric: int, n_tasks: int, cfg: ModelConfig, tasks: list[TaskSpec] | None = None
) -> nn.Module:
    # Without the task list (a parameter count on the meta device) the funnel cannot be resolved; the shape is
    # the same whatever the funnel, so the count is right, and the model refuses to run.
    funnel = resolve_funnel(cfg.funnel, tasks) if tasks is not None else None
    binary = [t.type == "binary" for t in tasks] if tasks is not None else None
    return _matched(partial(ESMM, funnel=funnel, binary=binary), cardinalities, n_numeric, n_tasks, cfg)


@register("single_task", "one independent network per task (no sharing): the baseline for the multi-task gain")
def _single_task(
    cardinalities: list[int], n_numeric: int, n_tasks: int, cfg: ModelConfig, tasks: list[TaskSpec] | None = None
) -> nn.Module:
    # Each task gets the multi-task model's own shape (embedding width, shared layers, one tower), not a 1/T share
    # of its parameters: a share would leave 1-wide embeddings on small presets, and the comparison would measure
    # what a starved network loses instead of what sharing adds. In total it holds about T times the parameters.
    return SingleTask(cardinalities, n_numeric, n_tasks, **cfg.resolved())


def build_model(
    cfg: ModelConfig,
    cardinalities: list[int],
    n_numeric: int,
    n_tasks: int,
    tasks: list[TaskSpec] | None = None,
) -> nn.Module:
    """Instantiate the architecture named by cfg.kind with the resolved size preset.

    `tasks` (the config's task list, in order) is needed by ESMM, whose funnel names tasks; the others ignore it.
    """
    if cfg.kind not in REGISTRY:
        raise MtlrecError(f"unknown model '{cfg.kind}'; available: {', '.join(REGISTRY)}")
    if tasks is not None and len(tasks) != n_tasks:
        raise ValueError(f"{len(tasks)} task specs for {n_tasks} tasks")
    return REGISTRY[cfg.kind][0](cardinalities, n_numeric, n_tasks, cfg, tasks=tasks)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


MIN_RATE = 1e-4  # a base rate's bounds, so that a task of one class in training starts at a finite logit


def start_at_base_rates(model: nn.Module, tasks: list[TaskSpec], labels: np.ndarray | None) -> None:
    """Each binary task's output bias set to the log-odds of its rate of 1s in the training rows (`labels`, (N, T),
    missing as NaN), so that training starts from the base rate instead of p = 0.5; an ESMM conditional task's own
    output (pCVR) starts at its own rate over its parent's (the rate among its parent's 1s when the funnel has
    no breach), so that pCTCVR = pCTR * pCVR starts at its base rate.

    At p = 0.5 a rare task's first steps push its output hard towards 0, which its tower's ReLUs can do by turning
    off for every row: a 12%-positive task trained to one constant prediction (AUC 0.50, gradient 0), depending on
    the seed. Regression targets are standardised, so their mean is already the bias's 0."""
    if labels is None or not len(labels):
        return
    if isinstance(model, SingleTask):
        heads = [network.towers[0].head for network in model.networks]
    elif isinstance(model, ESMM):
        heads = [network.head for network in model.networks]
    elif isinstance(getattr(model, "towers", None), nn.ModuleList):
        heads = [tower.head for tower in model.towers]
    else:
        return
    funnel = getattr(model, "funnel", None) or {}
    with np.errstate(invalid="ignore"):
        rates = np.nanmean(np.where(np.isfinite(labels), labels, np.nan), axis=0)

    def own(j: int, depth: int = 0) -> float:
        """The start of task j's own output: its rate, over its parent's own output for a conditional task (ESMM
        multiplies the two, also along a chain of funnels)."""
        rate = float(np.clip(rates[j], MIN_RATE, 1 - MIN_RATE))
        if j in funnel and depth < len(tasks):
            rate = float(np.clip(rate / own(funnel[j], depth + 1), MIN_RATE, 1 - MIN_RATE))
        return rate

    with torch.no_grad():
        for j, (task, head) in enumerate(zip(tasks, heads, strict=True)):
            if (
                task.type != "binary"
                or not np.isfinite(rates[j])
                or (j in funnel and not np.isfinite(rates[funnel[j]]))
            ):
                continue
            rate = own(j)
            head.bias.fill_(math.log(rate / (1 - rate)))


def untrained_outputs(model: nn.Module, tasks: list[TaskSpec]) -> list[int]:
    """The tasks no loss reaches: loss weight 0, except under ESMM a task that a trained conditional task depends on
    (its pCTR is trained through pCTCVR), as ExperimentConfig.untrained_tasks says of a config."""
    return sorted(untrained(dict(enumerate(t.weight for t in tasks)), getattr(model, "funnel", None) or {}))


def task_rows(model: nn.Module, j: int) -> list[tuple[nn.Parameter, slice]]:
    """Rows of a tensor shared with other tasks that only task j's output depends on: MMoE's gate rows of the task
    (its T gates are one Linear, T x E rows), which weight decay would move for a task no loss trains."""
    if isinstance(model, MMoE):
        rows = slice(j * model.n_experts, (j + 1) * model.n_experts)
        return [(model.gate.weight, rows), (model.gate.bias, rows)]
    return []


def task_parameters(model: nn.Module, j: int) -> list[nn.Parameter]:
    """The parameters only task j's output depends on: its tower (a single-task or ESMM network: all of it), and
    under PLE its experts at the last level and its gates at the last two (a lower level's experts feed the shared
    gate above, and so every task, unless there are no shared experts: then they are the task's too)."""
    if isinstance(model, SingleTask | ESMM):
        return list(model.networks[j].parameters())
    params = list(model.towers[j].parameters()) if isinstance(getattr(model, "towers", None), nn.ModuleList) else []
    if isinstance(model, PLE):
        params += model.task_own_parameters(j)
    return params


def untrained_parts(model: nn.Module, tasks: list[TaskSpec]) -> tuple[list[nn.Parameter], list[tuple]]:
    """What no loss trains (untrained_outputs): those tasks' own parameters (task_parameters), and their rows of
    tensors shared with other tasks as (parameter, rows) (task_rows). The Trainer and the stacked trainer keep both
    as initialised."""
    untrained = untrained_outputs(model, tasks)
    params = [p for j in untrained for p in task_parameters(model, j)]
    return params, [(p, rows) for j in untrained for p, rows in task_rows(model, j)]
