"""Loss-weighting strategies. The trainer calls `backward` and never knows which strategy it runs.

Every strategy starts from the user's task weights w_j (TaskSpec.weight) and records the effective weight of each
task (`weights()`), which the trainer writes to the history every epoch. A task with user weight 0 stays untrained
under every strategy: its loss never reaches a gradient, it takes no part in the adaptive statistics (means,
softmaxes, projections) and its effective weight stays 0.
"""

from __future__ import annotations

import torch
from torch import nn

from mtlrec.config import TaskSpec, WeightingConfig
from mtlrec.diagnostics import shared_parameters, task_gradients
from mtlrec.errors import MtlrecError

# GradNorm updates its task weights with its own Adam (Algorithm 1 leaves that optimiser open). Adam moves each
# weight by about this much per batch whatever the gradient scale of the last shared layer, which varies by orders
# of magnitude between data sets and model sizes; a plain SGD step would need tuning to each.
GRADNORM_LR = 5e-3
# GradNorm weights are kept at least this large before renormalising: a weight at or below 0 would stop (or
# reverse) its task's training, which the method never intends.
GRADNORM_MIN_WEIGHT = 1e-3
# Kendall et al.'s factor on exp(-s_j) * L_j: 1/2 for a Gaussian likelihood (our MSE tasks), 1 for classification.
UNCERTAINTY_FACTOR = {"binary": 1.0, "regression": 0.5}
NO_SHARED_NOTE = "{method} works on shared layers and this model has none: training used the fixed weights"


class Weighting:
    """The interface every strategy shares; by itself it combines the losses as sum_j w_j * L_j."""

    name = ""

    def __init__(self, tasks: list[TaskSpec], cfg: WeightingConfig | None = None):
        self.cfg = cfg or WeightingConfig()
        self.base = torch.tensor([float(t.weight) for t in tasks])  # (T,) the user's weights
        self.active = self.base > 0  # (T,) tasks that train
        self.notes: list[str] = []  # what the strategy had to change, for the user

    def start(self, model: nn.Module, seed: int) -> None:
        """Called once when training starts, after `to`: resets what the strategy learned or counted."""

    def parameters(self) -> list[nn.Parameter]:
        """Learnable parameters the trainer's optimiser must update too (none for fixed weights)."""
        return []

    def to(self, device: torch.device) -> Weighting:
        self.base, self.active = self.base.to(device), self.active.to(device)
        for p in self.parameters():
            p.data = p.data.to(device)  # in place: the optimiser keeps referring to the same Parameter
        return self

    def backward(self, task_losses: torch.Tensor, model: nn.Module) -> torch.Tensor:
        """Back-propagate the combined loss of one batch; returns it. task_losses: (T,)."""
        total = (self.base * task_losses).sum()
        total.backward()
        return total.detach()

    def epoch_end(self, epoch: int, train_losses: list[float]) -> None:
        """Hook for strategies that adapt between epochs; train_losses: the epoch's mean loss of each task."""

    def weights(self) -> list[float]:
        """The effective weight of each task now (recorded in the history every epoch)."""
        return self.base.tolist()


class FixedWeighting(Weighting):
    """L = sum_j w_j * L_j with the user's weights (the what-if). Weight 0: evaluated, not trained."""

    name = "fixed"


class UncertaintyWeighting(Weighting):
    """Kendall, Gal & Cipolla (CVPR 2018): each task learns its homoscedastic noise s_j = log sigma_j^2.

    L = sum_j w_j * (c_j * exp(-s_j) * L_j + s_j / 2), with c_j = 1/2 for regression and 1 for binary tasks.
    This is the paper's objective written with s = log sigma^2 (its eq. 7 and 10: 1/(2 sigma^2) * L_reg for a
    Gaussian likelihood, 1/sigma^2 * L_cls for a classifier, plus log sigma = s/2 each); the user weight w_j
    multiplies the whole term, so w = 1 is the paper and w = 0 removes the task, regulariser included (its s_j then
    gets no gradient). s_j start at 0 and are trained by the trainer's optimiser. Effective weight:
    w_j * c_j * exp(-s_j).
    """

    name = "uncertainty"

    def __init__(self, tasks: list[TaskSpec], cfg: WeightingConfig | None = None):
        super().__init__(tasks, cfg)
        self.factor = torch.tensor([UNCERTAINTY_FACTOR[t.type] for t in tasks])  # (T,) c_j
        self.log_vars = nn.Parameter(torch.zeros(len(tasks)))  # (T,) s_j

    def start(self, model: nn.Module, seed: int) -> None:
        with torch.no_grad():
            self.log_vars.zero_()

    def parameters(self) -> list[nn.Parameter]:
        return [self.log_vars]

    def to(self, device: torch.device) -> UncertaintyWeighting:
        self.factor = self.factor.to(device)
        return super().to(device)

    def combined(self, task_losses: torch.Tensor) -> torch.Tensor:
        """The objective above for one batch's task losses (T,)."""
        s = self.log_vars
        # A loss of exactly 0 is a batch without a labelled row of that task (TaskSpec.labelled_only): its whole
        # term is left out, or the regulariser s/2 alone pulled its weight up batch after batch (a review: 22 vs 9.5)
        present = task_losses.detach() != 0
        return (self.base * (self.factor * torch.exp(-s) * task_losses + s / 2) * present).sum()

    def backward(self, task_losses: torch.Tensor, model: nn.Module) -> torch.Tensor:
        total = self.combined(task_losses)
        total.backward()
        return total.detach()

    def weights(self) -> list[float]:
        return (self.base * self.factor * torch.exp(-self.log_vars.detach())).tolist()


class GradNormWeighting(Weighting):
    """Chen et al. (ICML 2018), Algorithm 1, on the last shared layer W (see `gradnorm_layers`).

    Per batch: G_i = ||grad_W w_i L_i||, r_i = L~_i / mean(L~) with L~_i = L_i / L_i(0) (L_i(0): the first
    batch), L_grad = sum_i |G_i - mean(G) * r_i^alpha| with the target held constant; the network gets the
    gradient of sum_i w_i L_i, the weights w_i take one Adam step (GRADNORM_LR) on grad_w L_grad, then are
    renormalised. The paper starts from w_i = 1 and renormalises to sum w_i = T; we start from the user's weights
    and renormalise to their sum, which is the paper's case when every weight is 1 and keeps the user's scale
    (hence the learning rate's meaning) otherwise. Means run over the tasks with user weight > 0. A model without
    shared parameters gets fixed weights (GradNorm balances the pull on a shared layer; there is none).
    """

    name = "gradnorm"

    def __init__(self, tasks: list[TaskSpec], cfg: WeightingConfig | None = None):
        super().__init__(tasks, cfg)
        self.alpha = float(self.cfg.alpha)
        self.task_weights = nn.Parameter(self.base.clone())  # (T,) w_i(t)

    def start(self, model: nn.Module, seed: int) -> None:
        self.task_weights = nn.Parameter(self.base.clone())  # on the device `to` chose
        self.optimizer = torch.optim.Adam([self.task_weights], lr=GRADNORM_LR)
        self.initial_losses: torch.Tensor | None = None  # (T,) L_i(0)
        layers = gradnorm_layers(model)
        self.layers = layers if bool(self.active.any()) else []
        self.notes = [] if layers else [NO_SHARED_NOTE.format(method="GradNorm")]

    def backward(self, task_losses: torch.Tensor, model: nn.Module) -> torch.Tensor:
        if not self.layers:
            return super().backward(task_losses, model)
        losses = task_losses.detach()
        if self.initial_losses is None:
            self.initial_losses = losses.clone()
        elif not bool((self.initial_losses > 0).all()):  # a task labelled in none of the first batch's rows: its L_i(0)
            self.initial_losses = torch.where(self.initial_losses > 0, self.initial_losses, losses)  # is its first loss
        norms = torch.zeros_like(losses)  # (T,) ||grad_W L_i||, W all of gradnorm_layers' matrices
        for i in torch.nonzero(self.active).flatten().tolist():
            grads = torch.autograd.grad(task_losses[i], self.layers, retain_graph=True, allow_unused=True)
            found = [g.pow(2).sum() for g in grads if g is not None]  # None: the task does not read it (G_i = 0)
            if found:
                norms[i] = torch.stack(found).sum().sqrt()
        total = (self.task_weights.detach() * task_losses).sum()
        total.backward()
        self._step(self.balance_loss(losses, norms))
        return total.detach()

    def balance_loss(self, losses: torch.Tensor, norms: torch.Tensor) -> torch.Tensor:
        """L_grad for detached task losses (T,) and gradient norms ||grad_W L_i|| (T,); differentiable in w."""
        # A loss of exactly 0 is a task with no labelled row in this batch (TaskSpec.labelled_only): no pull, no say.
        active = self.active & (losses > 0)
        if not bool(active.any()):
            return (self.task_weights * 0.0).sum()
        grad_norms = self.task_weights * norms  # (T,) G_i = w_i * ||grad_W L_i||  (w_i > 0)
        loss_ratios = losses / self.initial_losses.clamp_min(1e-12)  # (T,) L~_i
        rates = loss_ratios / loss_ratios[active].mean()  # (T,) r_i
        target = (grad_norms[active].mean() * rates.pow(self.alpha)).detach()
        return (grad_norms - target)[active].abs().sum()

    def _step(self, balance_loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        (self.task_weights.grad,) = torch.autograd.grad(balance_loss, self.task_weights)
        self.optimizer.step()
        with torch.no_grad():
            w = torch.where(self.active, self.task_weights.clamp_min(GRADNORM_MIN_WEIGHT), 0.0)
            self.task_weights.copy_(w * self.base.sum() / w.sum())

    def weights(self) -> list[float]:
        return self.task_weights.detach().tolist()


class DWAWeighting(Weighting):
    """Dynamic Weight Average, Liu, Johns & Davison (CVPR 2019).

    w_k(t) = K * exp(r_k(t-1) / T) / sum_i exp(r_i(t-1) / T) with r_k(t-1) = L_k(t-1) / L_k(t-2), the ratio of
    the task's epoch-average training losses; w_k = 1 in the first two epochs. K and the softmax run over the tasks
    with user weight > 0, and the result multiplies the user's weight (so all-ones user weights are the paper).
    """

    name = "dwa"

    def __init__(self, tasks: list[TaskSpec], cfg: WeightingConfig | None = None):
        super().__init__(tasks, cfg)
        self.temperature = float(self.cfg.temperature)
        self._reset()

    def start(self, model: nn.Module, seed: int) -> None:
        self._reset()

    def _reset(self) -> None:
        self.loss_history: list[torch.Tensor] = []  # epoch-average training losses, (T,) each
        self.dynamic = torch.ones_like(self.base)  # (T,) the DWA factor for the coming epoch

    def backward(self, task_losses: torch.Tensor, model: nn.Module) -> torch.Tensor:
        total = (self.base * self.dynamic * task_losses).sum()
        total.backward()
        return total.detach()

    def epoch_end(self, epoch: int, train_losses: list[float]) -> None:
        self.loss_history.append(torch.tensor(train_losses, dtype=self.base.dtype, device=self.base.device))
        if len(self.loss_history) < 2:
            return
        previous, before = self.loss_history[-1], self.loss_history[-2]
        ratios = previous / before.clamp_min(1e-12)  # (T,) r_k(t-1)
        logits = torch.where(self.active, ratios / self.temperature, -torch.inf)
        self.dynamic = int(self.active.sum()) * torch.softmax(logits, dim=0)

    def weights(self) -> list[float]:
        return (self.base * self.dynamic).tolist()


class PCGradWeighting(Weighting):
    """Projecting Conflicting Gradients, Yu et al. (NeurIPS 2020), on the model's shared parameters.

    g_i = grad_shared(w_i L_i) (the user's weight scales each loss before surgery). For each task i, over the other
    tasks j in a random order: if g_i^PC . g_j < 0, g_i^PC <- g_i^PC - (g_i^PC . g_j) / ||g_j||^2 * g_j. The shared
    parameters receive sum_i g_i^PC; task-specific parameters the ordinary gradient of sum_j w_j L_j. The order
    comes from a generator seeded with the training seed, so runs repeat. Effective weights: the user's.
    """

    name = "pcgrad"

    def start(self, model: nn.Module, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)
        self.shared = shared_parameters(model)
        self.notes = [] if self.shared else [NO_SHARED_NOTE.format(method="PCGrad")]
        shared_ids = {id(p) for p in self.shared}
        self.specific = [p for p in model.parameters() if p.requires_grad and id(p) not in shared_ids]

    def backward(self, task_losses: torch.Tensor, model: nn.Module) -> torch.Tensor:
        total = (self.base * task_losses).sum()
        active = torch.nonzero(self.active).flatten().tolist()
        if not self.shared or len(active) < 2:
            total.backward()  # nothing shared, or no pair of tasks to conflict: the plain gradient
            return total.detach()
        grads = task_gradients(model, self.base[active] * task_losses[active])  # (A, P)
        surgery = project_conflicts(grads, self.generator).sum(0)  # (P,)
        if self.specific:
            total.backward(inputs=self.specific)
        offset = 0
        for p in self.shared:
            g = surgery[offset : offset + p.numel()].view_as(p)
            p.grad = g.clone() if p.grad is None else p.grad + g
            offset += p.numel()
        return total.detach()


DOT_CHUNK = 4096  # elements summed by one thread in _dot


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a · b (1-d) as float64 (float32 sums of chunks, added in float64), summed in the same order whatever the
    thread count: a plain `a @ b` splits its sum
    among threads, so PCGrad's projections, and a run's metrics, changed with the threads (the app, the CLI and a
    sweep's processes use different counts: a re-run from the saved config was not bit-exact). Each chunk's sum is
    one thread's, and the chunks' sums (a few thousand even for 10M parameters) are one short sum."""
    product = a * b  # rounded alike whatever the threads, as are the per-chunk sums below
    whole = product.numel() - product.numel() % DOT_CHUNK
    sums = product[:whole].view(-1, DOT_CHUNK).sum(1).to(torch.float64)
    return sums.sum() + product[whole:].sum().to(torch.float64)  # the rest: under a chunk, one thread's


def project_conflicts(grads: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """PCGrad's surgery on task gradients (T, P): each row projected off every other row it conflicts with."""
    projected = grads.clone()
    n = len(grads)
    squared = [_dot(g, g) for g in grads]
    for i in range(n):
        for j in torch.randperm(n, generator=generator).tolist():
            if j == i:
                continue
            dot = _dot(projected[i], grads[j])
            if dot < 0:
                projected[i] -= (dot / squared[j]).to(grads.dtype) * grads[j]
    return projected


def gradnorm_layers(model: nn.Module) -> list[nn.Parameter]:
    """GradNorm's W, the last shared layer: the model's own `gradnorm_layers()` where it has them (MMoE and PLE:
    the last matrix of every shared expert, which sit side by side), else the last parameter tensor with two or
    more dimensions among its shared parameters (shared-bottom: the bottom's last layer; ESMM: the embedding)."""
    own = list(model.gradnorm_layers()) if hasattr(model, "gradnorm_layers") else []
    if own:
        return own
    matrices = [p for p in shared_parameters(model) if p.dim() >= 2]
    return matrices[-1:]


STRATEGIES: dict[str, type[Weighting]] = {
    s.name: s for s in (FixedWeighting, UncertaintyWeighting, GradNormWeighting, DWAWeighting, PCGradWeighting)
}


# method -> a paragraph for learners: what the strategy does, when to use it, where it comes from.
EXPLANATIONS: dict[str, str] = {
    "fixed": (
        "The loss is the weighted sum L = Σⱼ wⱼ·Lⱼ with the weights you set, unchanged during training. It is the "
        "baseline and the what-if tool: raise a task's weight and watch what happens to the others. Its weakness "
        "is that good weights depend on the tasks' loss scales (a regression loss in the hundreds swamps a "
        "log loss below 1) and must be found by trial, for example with a sweep."
    ),
    "uncertainty": (
        "Each task learns a noise level σⱼ alongside the network and its loss is divided by σⱼ², plus a log σⱼ "
        "penalty that stops σ from growing without end. A task whose loss stays large (noisy, or on a big scale) "
        "is weighted down automatically, so losses on different scales can be mixed without tuning. Your weight "
        "multiplies each task's whole term. Kendall, Gal & Cipolla, 'Multi-Task Learning Using Uncertainty to "
        "Weigh Losses for Scene Geometry and Semantics', CVPR 2018."
    ),
    "gradnorm": (
        "GradNorm looks at how hard each task pulls on the last shared layer (the norm of its weighted gradient) "
        "and at how fast each task's loss falls. It moves the weights so that the pulls become equal, scaled up "
        "for tasks that lag behind in training. Alpha sets how strongly lagging tasks are favoured (0: equal "
        "pulls only; the paper uses about 1.5). The weights keep your weights' sum. Chen et al., 'GradNorm: "
        "Gradient Normalization for Adaptive Loss Balancing in Deep Multitask Networks', ICML 2018."
    ),
    "dwa": (
        "Dynamic Weight Average needs no gradients: after each epoch it compares every task's training loss with "
        "the epoch before and gives more weight to the tasks whose loss fell least (a softmax over the ratios). "
        "The temperature smooths it: a large temperature keeps the weights near equal, a small one reacts "
        "strongly. The first two epochs use equal factors. Cheap and simple. Liu, Johns & Davison, 'End-to-End "
        "Multi-Task Learning with Attention', CVPR 2019."
    ),
    "pcgrad": (
        "PCGrad keeps your weights but edits the gradients on the shared layers: when two tasks' gradients point "
        "in opposite directions (negative cosine), each is projected onto the plane where it no longer undoes "
        "the other, so no task's step erases another's progress. Use it when the diagnostics show negative "
        "cosines between tasks. It costs one backward pass per task. Yu et al., 'Gradient Surgery for "
        "Multi-Task Learning', NeurIPS 2020."
    ),
}


def build_weighting(cfg: WeightingConfig, tasks: list[TaskSpec]) -> Weighting:
    """The strategy named by cfg.method; MtlrecError for an unknown name or a setting out of range."""
    if cfg.method not in STRATEGIES:
        raise MtlrecError(f"unknown loss weighting '{cfg.method}'; available: {', '.join(STRATEGIES)}")
    if cfg.method == "gradnorm" and not cfg.alpha >= 0:
        raise MtlrecError(f"GradNorm's alpha must be >= 0, got {cfg.alpha}")
    if cfg.method == "dwa" and not cfg.temperature > 0:
        raise MtlrecError(f"DWA's temperature must be > 0, got {cfg.temperature}")
    return STRATEGIES[cfg.method](tasks, cfg)
