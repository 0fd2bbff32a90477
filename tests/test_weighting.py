"""Specifications of mtlrec.weighting: each strategy performs its paper's update on a case computed by hand."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from mtlrec.config import ModelConfig, TaskSpec, WeightingConfig
from mtlrec.data import prepare
from mtlrec.errors import MtlrecError
from mtlrec.experiment import run_experiment
from mtlrec.models import build_model
from mtlrec.train import Trainer
from mtlrec.weighting import GRADNORM_LR, STRATEGIES, build_weighting, project_conflicts

CPU = torch.device("cpu")
METHODS = ["fixed", "uncertainty", "gradnorm", "dwa", "pcgrad"]


def strategy(method: str, weights: list[float], types: list[str] | None = None, seed: int = 0, model=None, **cfg):
    """A started strategy for tasks t0, t1, ... with these user weights."""
    types = types or ["binary"] * len(weights)
    tasks = [TaskSpec(f"t{i}", kind, w) for i, (kind, w) in enumerate(zip(types, weights, strict=True))]
    weighting = build_weighting(WeightingConfig(method=method, **cfg), tasks)
    weighting.to(CPU).start(model if model is not None else nn.Module(), seed)
    return weighting


class LinearTasks(nn.Module):
    """Task i's loss is constant_i + <A_i, W> + <b_i, theta> + c_i * head_i: every gradient is known exactly.

    W (2x2, the last shared matrix) and theta (2,) are shared; head (T,) holds one task-specific scalar per task.
    """

    def __init__(self, n_tasks: int):
        super().__init__()
        self.first = nn.Parameter(torch.zeros(3, 3))  # an earlier shared matrix: GradNorm must not pick it
        self.W = nn.Parameter(torch.zeros(2, 2))
        self.theta = nn.Parameter(torch.zeros(2))  # 1-D: never GradNorm's layer
        self.head = nn.Parameter(torch.zeros(n_tasks))

    def shared_parameters(self) -> list[nn.Parameter]:
        return [self.first, self.W, self.theta]

    def losses(self, constants, A=None, b=None, c=None) -> torch.Tensor:
        n = len(constants)
        A = torch.tensor(A if A is not None else [[[0.0, 0.0], [0.0, 0.0]]] * n)
        b = torch.tensor(b if b is not None else [[0.0, 0.0]] * n)
        c = torch.tensor(c if c is not None else [0.0] * n)
        return torch.tensor(constants) + (A * self.W).sum((1, 2)) + b @ self.theta + c * self.head


# --- fixed ---------------------------------------------------------------------------------------------------------


def test_fixed_weighting_backpropagates_the_weighted_sum():
    losses = torch.tensor([0.5, 2.0, 3.0], requires_grad=True)
    fixed = strategy("fixed", [1.0, 0.5, 0.0])

    total = fixed.backward(losses, nn.Module())

    assert total.item() == pytest.approx(0.5 + 1.0)
    assert losses.grad.tolist() == [1.0, 0.5, 0.0]
    assert fixed.weights() == [1.0, 0.5, 0.0]


# --- uncertainty (Kendall et al.) -------------------------------------------------------------------------------


def test_uncertainty_loss_is_kendalls_formula_with_half_for_regression():
    losses = torch.tensor([0.8, 1.5, 4.0], requires_grad=True)
    uncertainty = strategy("uncertainty", [1.0, 2.0, 0.0], ["binary", "regression", "binary"])
    with torch.no_grad():
        uncertainty.log_vars.copy_(torch.tensor([0.5, -0.3, 1.0]))

    total = uncertainty.backward(losses, nn.Module())

    # sum_j w_j * (c_j * exp(-s_j) * L_j + s_j / 2): 1 * (e^-0.5 * 0.8 + 0.25) + 2 * (0.5 * e^0.3 * 1.5 - 0.15) + 0
    expected = (math.exp(-0.5) * 0.8 + 0.25) + 2 * (0.5 * math.exp(0.3) * 1.5 - 0.15)
    assert total.item() == pytest.approx(expected)
    effective = [math.exp(-0.5), 2 * 0.5 * math.exp(0.3), 0.0]  # w_j * c_j * exp(-s_j)
    assert uncertainty.weights() == pytest.approx(effective)
    assert losses.grad.tolist() == pytest.approx(effective)


def test_uncertainty_gradient_on_log_variances_matches_the_hand_derivative():
    losses = torch.tensor([0.8, 1.5, 4.0])
    uncertainty = strategy("uncertainty", [1.0, 2.0, 0.0], ["binary", "regression", "binary"])
    with torch.no_grad():
        uncertainty.log_vars.copy_(torch.tensor([0.5, -0.3, 1.0]))

    uncertainty.backward(losses, nn.Module())

    # d/ds_j = -w_j * c_j * exp(-s_j) * L_j + w_j / 2; a weight-0 task's s_j gets 0.
    expected = [-math.exp(-0.5) * 0.8 + 0.5, -2 * 0.5 * math.exp(0.3) * 1.5 + 1.0, 0.0]
    assert uncertainty.log_vars.grad.tolist() == pytest.approx(expected, abs=1e-6)
    assert uncertainty.parameters() == [uncertainty.log_vars]


def test_uncertainty_starts_every_fit_at_zero_log_variance():
    uncertainty = strategy("uncertainty", [1.0, 1.0], ["binary", "regression"])
    with torch.no_grad():
        uncertainty.log_vars.fill_(3.0)

    uncertainty.start(nn.Module(), 0)

    assert uncertainty.weights() == [1.0, 0.5]


# --- GradNorm (Chen et al.) -------------------------------------------------------------------------------------
# ||A_0|| = 5 (3, 4 on the diagonal), ||A_1|| = 1, ||A_2|| = 2: the task gradients on the last shared layer W.
A = [[[3.0, 0.0], [0.0, 4.0]], [[1.0, 0.0], [0.0, 0.0]], [[0.0, 2.0], [0.0, 0.0]]]


def test_gradnorm_first_step_pulls_gradient_norms_to_their_mean():
    model = LinearTasks(3)
    gradnorm = strategy("gradnorm", [1.0, 1.0, 0.0], model=model, alpha=1.5)

    total = gradnorm.backward(model.losses([1.0, 2.0, 3.0], A), model)

    # G = w * ||A|| = [5, 1] (task 2 has weight 0 and is left out); at t = 0 every r_i = 1, so the target is
    # mean(G) = 3 whatever alpha; d/dw_i |G_i - 3| = sign(G_i - 3) * ||A_i||  ->  [5, -1, 0].
    assert gradnorm.task_weights.grad.tolist() == pytest.approx([5.0, -1.0, 0.0])
    # The network got the gradient of sum_i w_i L_i with the weights before the update.
    assert model.W.grad.tolist() == [[4.0, 0.0], [0.0, 4.0]]  # A_0 + A_1
    assert total.item() == pytest.approx(3.0)
    # Adam's first step moves each weight by lr against the gradient's sign; the sum stays 2.
    lr = GRADNORM_LR
    assert gradnorm.weights() == pytest.approx([1.0 - lr, 1.0 + lr, 0.0], abs=1e-6)


@pytest.mark.parametrize(
    ("alpha", "expected_grad", "expected_balance_loss"),
    [
        # target = mean(G) = 2.99 for both: |4.975 - 2.99| + |1.005 - 2.99| = 3.97
        (0.0, [5.0, -1.0, 0.0], 3.97),
        # r = [1.5, 0.5]: target = 2.99 * [1.5^1.5, 0.5^1.5] = [5.492981, 1.057125], both above G
        (1.5, [-5.0, -1.0, 0.0], (5.492981 - 4.975) + (1.057125 - 1.005)),
    ],
)
def test_gradnorm_weight_gradient_with_training_rates(alpha, expected_grad, expected_balance_loss):
    model = LinearTasks(3)
    gradnorm = strategy("gradnorm", [1.0, 1.0, 0.0], model=model, alpha=alpha)
    gradnorm.backward(model.losses([1.0, 2.0, 3.0], A), model)  # L(0) = [1, 2, 3]; w becomes [0.995, 1.005]
    w = torch.tensor([1.0 - GRADNORM_LR, 1.0 + GRADNORM_LR, 0.0])
    torch.testing.assert_close(gradnorm.task_weights.detach(), w, atol=1e-6, rtol=0)

    # Second batch: L = [0.9, 0.6]: L~ = L / L(0) = [0.9, 0.3], r = L~ / mean(L~) = [1.5, 0.5].
    # G = w * ||A|| = [0.995 * 5, 1.005 * 1] = [4.975, 1.005], mean(G) = 2.99.
    losses = torch.tensor([0.9, 0.6, 3.0])
    norms = torch.tensor([5.0, 1.0, 2.0])
    balance_loss = gradnorm.balance_loss(losses, norms)
    gradnorm.backward(model.losses(losses.tolist(), A), model)

    assert balance_loss.item() == pytest.approx(expected_balance_loss, abs=1e-4)
    assert gradnorm.task_weights.grad.tolist() == pytest.approx(expected_grad)


def test_gradnorm_renormalises_weights_to_the_user_weights_sum():
    model = LinearTasks(3)
    gradnorm = strategy("gradnorm", [2.0, 1.0, 1.0], model=model)

    gradnorm.backward(model.losses([1.0, 1.0, 1.0], A), model)

    # G = [10, 1, 2], mean 13/3: signs [+, -, -]; Adam gives [2 - lr, 1 + lr, 1 + lr] (sum 4 + lr), renormalised
    # to the user weights' sum 4.
    lr = GRADNORM_LR
    scale = 4.0 / (4.0 + lr)
    assert gradnorm.weights() == pytest.approx([(2 - lr) * scale, (1 + lr) * scale, (1 + lr) * scale], abs=1e-6)
    assert sum(gradnorm.weights()) == pytest.approx(4.0)


def test_gradnorm_uses_the_last_shared_matrix():
    model = LinearTasks(2)
    gradnorm = strategy("gradnorm", [1.0, 1.0], model=model)

    assert gradnorm.layers == [model.W]


@pytest.mark.parametrize("kind", ["mmoe", "ple"])
def test_gradnorm_on_experts_measures_every_shared_experts_last_layer(kind):
    # One expert alone (the last) weighed the tasks by how much their gates used it: renumbering the experts, which
    # leaves the model's function unchanged, changed the weights GradNorm learned.
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind=kind, size="tiny"), [5, 7], 2, 2)
    experts = model.experts if kind == "mmoe" else model.levels[-1].shared_experts
    last = [[m for m in e.modules() if isinstance(m, nn.Linear)][-1].weight for e in experts]
    gradnorm = strategy("gradnorm", [1.0, 1.0], model=model)
    assert len(last) > 1 and gradnorm.layers == last

    categorical, numeric = torch.randint(0, 5, (64, 2)), torch.randn(64, 2)
    outputs = model(categorical, numeric)
    task_losses = torch.stack([outputs[:, 0].pow(2).mean(), (outputs[:, 1] - 1).pow(2).mean()])
    expected = [
        torch.sqrt(sum(g.pow(2).sum() for g in torch.autograd.grad(task_losses[i], last, retain_graph=True)))
        for i in range(2)
    ]
    seen = {}
    gradnorm.balance_loss = _recording(gradnorm, seen)
    gradnorm.backward(task_losses, model)
    assert seen["norms"].tolist() == pytest.approx([e.item() for e in expected], rel=1e-5)


def _recording(gradnorm, seen):
    original = type(gradnorm).balance_loss

    def record(losses, norms):
        seen["norms"] = norms.clone()
        return original(gradnorm, losses, norms)

    return record


def test_gradnorm_without_shared_layers_falls_back_to_fixed_weights_with_a_note():
    losses = torch.tensor([1.0, 2.0], requires_grad=True)
    gradnorm = strategy("gradnorm", [1.0, 0.5])

    gradnorm.backward(losses, nn.Module())

    assert losses.grad.tolist() == [1.0, 0.5]
    assert gradnorm.weights() == [1.0, 0.5]
    assert gradnorm.notes == [
        "GradNorm works on shared layers and this model has none: training used the fixed weights"
    ]


# --- DWA (Liu et al.) -------------------------------------------------------------------------------------------


def test_dwa_weights_are_one_for_two_epochs_then_k_softmax_of_loss_ratios():
    dwa = strategy("dwa", [1.0, 1.0], temperature=2.0)
    assert dwa.weights() == [1.0, 1.0]

    dwa.epoch_end(1, [1.0, 1.0])
    assert dwa.weights() == [1.0, 1.0]
    dwa.epoch_end(2, [0.5, 0.9])

    # r = [0.5, 0.9], r / T = [0.25, 0.45]; 2 * softmax = 2 * [e^0.25, e^0.45] / (e^0.25 + e^0.45)
    #   = 2 * [1.284025, 1.568312] / 2.852337 = [0.900332, 1.099668]
    assert dwa.weights() == pytest.approx([0.900332, 1.099668], abs=1e-6)
    losses = torch.tensor([2.0, 3.0], requires_grad=True)
    total = dwa.backward(losses, nn.Module())
    assert losses.grad.tolist() == pytest.approx([0.900332, 1.099668], abs=1e-6)
    assert total.item() == pytest.approx(2 * 0.900332 + 3 * 1.099668, abs=1e-5)


def test_dwa_multiplies_user_weights_and_leaves_weight_zero_tasks_out_of_the_softmax():
    dwa = strategy("dwa", [1.0, 0.0, 2.0], temperature=1.0)

    dwa.epoch_end(1, [1.0, 1.0, 1.0])
    dwa.epoch_end(2, [0.5, 0.1, 1.0])

    # K = 2 active tasks; softmax over r = [0.5, 1.0]: [e^0.5, e^1] / (e^0.5 + e^1) = [0.3775407, 0.6224593]
    assert dwa.weights() == pytest.approx([1 * 2 * 0.3775407, 0.0, 2 * 2 * 0.6224593], abs=2e-6)


# --- PCGrad (Yu et al.) -----------------------------------------------------------------------------------------


def test_pcgrad_projects_a_conflicting_gradient_onto_the_normal_plane():
    grads = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])

    projected = project_conflicts(grads)

    # g1.g2 = -1 < 0: g1 - (-1 / 2) * g2 = (0.5, 0.5); g2 - (-1 / 1) * g1 = (0, 1)
    torch.testing.assert_close(projected, torch.tensor([[0.5, 0.5], [0.0, 1.0]]))
    assert (projected[0] @ grads[1]).item() == pytest.approx(0.0)


def test_pcgrad_leaves_non_conflicting_gradients_alone():
    grads = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])

    torch.testing.assert_close(project_conflicts(grads), grads)


def test_pcgrad_writes_the_projected_sum_to_shared_and_the_plain_gradient_to_task_parameters():
    model = LinearTasks(3)
    pcgrad = strategy("pcgrad", [2.0, 1.0, 0.0], model=model)
    # theta gradients (1, 0) and (-1, 1); the user weight 2 scales task 0 before surgery: g = (2, 0), (-1, 1).
    # The weight-0 task's (0, -5) would conflict with both, and is ignored.
    losses = model.losses([1.0, 1.0, 1.0], b=[[1.0, 0.0], [-1.0, 1.0], [0.0, -5.0]], c=[3.0, 5.0, 7.0])

    total = pcgrad.backward(losses, model)

    # g0.g1 = -2: g0 - (-2 / 2) * g1 = (1, 1); g1 - (-2 / 4) * g0 = (0, 1); sum (1, 2).
    assert model.theta.grad.tolist() == pytest.approx([1.0, 2.0])
    assert model.W.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert model.head.grad.tolist() == pytest.approx([2 * 3.0, 1 * 5.0, 0.0])  # w_j * c_j, no surgery
    assert total.item() == pytest.approx(3.0)
    assert pcgrad.weights() == [2.0, 1.0, 0.0]


def test_pcgrad_order_is_random_but_repeats_with_the_seed():
    # Three mutually conflicting gradients: the projection of each depends on the order of the others.
    grads = torch.tensor([[1.0, 0.0], [-0.5, 0.75**0.5], [-0.5, -(0.75**0.5)]])  # 120 degrees apart

    def surgery(seed: int) -> list[torch.Tensor]:
        generator = torch.Generator().manual_seed(seed)
        return [project_conflicts(grads, generator) for _ in range(8)]

    first, again = surgery(0), surgery(0)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert len({tuple(r.flatten().tolist()) for r in first}) > 1


# --- every strategy ---------------------------------------------------------------------------------------------


def test_unknown_method_and_out_of_range_settings_raise_a_clear_error():
    tasks = [TaskSpec("click")]
    with pytest.raises(MtlrecError, match="unknown loss weighting 'softmax'; available: fixed, uncertainty"):
        build_weighting(WeightingConfig(method="softmax"), tasks)
    with pytest.raises(MtlrecError, match="GradNorm's alpha must be >= 0, got -1"):
        build_weighting(WeightingConfig(method="gradnorm", alpha=-1.0), tasks)
    with pytest.raises(MtlrecError, match="DWA's temperature must be > 0, got 0"):
        build_weighting(WeightingConfig(method="dwa", temperature=0.0), tasks)


def test_registry_lists_the_five_methods():
    assert list(STRATEGIES) == METHODS


@pytest.fixture(scope="module")
def prepared(_interactions_once, make_config):
    return prepare(make_config(), _interactions_once)


@pytest.mark.parametrize("method", METHODS)
def test_weight_zero_task_is_never_trained(method, prepared, make_config):
    config = make_config(epochs=3)  # three epochs: DWA adapts in the third
    config.weighting.method = method
    tasks = [TaskSpec("click"), TaskSpec("like", weight=0.0), TaskSpec("watch_time", "regression", log1p=True)]
    encoder = prepared.encoder
    torch.manual_seed(0)
    model = build_model(config.model, encoder.cardinalities, encoder.numeric_width, 3)
    untrained = [p.clone() for p in model.towers[1].parameters()]
    weighting = build_weighting(config.weighting, tasks)

    trainer = Trainer(config.train, tasks, weighting).fit(model, prepared.train, prepared.val, CPU)

    assert all(torch.equal(a, b) for a, b in zip(untrained, model.towers[1].parameters(), strict=True))
    assert [row["like/weight"] for row in trainer.history_] == [0.0, 0.0, 0.0]
    assert all(row["like/grad_norm"] == 0.0 and row["cos/click|like"] == 0.0 for row in trainer.history_)
    if method == "uncertainty":
        assert weighting.log_vars[1].item() == 0.0
    assert trainer.status_ == "finished"


@pytest.mark.parametrize("method", METHODS)
def test_each_method_runs_end_to_end_and_records_weights_every_epoch(method, _interactions_once, make_config):
    config = make_config(epochs=2)
    config.weighting.method = method

    result = run_experiment(config, _interactions_once)

    assert result.status == "finished"
    weights = result.history[["click/weight", "like/weight", "watch_time/weight"]]
    assert len(weights) == 2 and weights.notna().all().all() and (weights.to_numpy() > 0).all()
    final = result.metrics["diagnostics"]
    assert final["epoch"] == 2
    assert list(final["weight"].values()) == pytest.approx(weights.iloc[-1].to_list())
    assert set(final["grad_norm"]) == {"click", "like", "watch_time"}
    if method in ("uncertainty", "gradnorm"):
        assert weights.iloc[-1].to_list() != [1.0, 1.0, 1.0]  # learned per batch: moved from the start


def test_single_task_model_under_pcgrad_trains_with_plain_gradients(_interactions_once, make_config):
    config = make_config(epochs=1)
    config.weighting.method = "pcgrad"
    config.model = ModelConfig(kind="single_task", size="tiny")

    result = run_experiment(config, _interactions_once)

    assert result.status == "finished"
    assert "diagnostics" in result.metrics and "grad_norm" not in result.metrics["diagnostics"]


def test_pcgrads_surgery_is_the_same_whatever_the_thread_count():
    # `a @ b` splits its sum among threads: a PCGrad run trained in the app (its share of the cores), the CLI (all)
    # or a sweep's process (one) differed in the 10th decimal, so a re-run from the saved config was not bit-exact.

    generator = torch.Generator().manual_seed(0)
    grads = torch.randn(3, 300_001, generator=generator)
    grads[1] -= 1.5 * grads[0]  # conflicting: projections happen
    before = torch.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            results.append(project_conflicts(grads, torch.Generator().manual_seed(1)))
    finally:
        torch.set_num_threads(before)
    assert not torch.equal(results[0], grads)
    assert all(torch.equal(results[0], other) for other in results[1:])


@pytest.mark.parametrize("method", ["gradnorm", "pcgrad"])
def test_a_run_with_adaptive_weighting_is_the_same_whatever_the_thread_count(method, interactions, make_config):
    # GradNorm's gradient norms and PCGrad's projections are sums over a shared layer's gradient (here 131,072
    # values), which torch splits among threads: a re-run on another thread count was not bit-exact.
    from mtlrec.config import WeightingConfig
    from mtlrec.experiment import run_experiment

    config = make_config(epochs=1)
    config.model.bottom, config.weighting = [512, 256], WeightingConfig(method=method)
    before = torch.get_num_threads()
    try:
        metrics = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            metrics.append(run_experiment(config, interactions).metrics["tasks"])
    finally:
        torch.set_num_threads(before)
    assert metrics[0] == metrics[1]
