"""Specifications of the multi-task architectures: shared interface, matched sizes, gates, ESMM's funnel, learning."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from mtlrec.config import ModelConfig, TaskSpec
from mtlrec.errors import MtlrecError
from mtlrec.experiment import run_experiment
from mtlrec.models import EXPLANATIONS, REGISTRY, build_model, count_parameters
from mtlrec.models.esmm import product_logit
from mtlrec.models.shared_bottom import SharedBottom
from mtlrec.train import task_losses

CARDINALITIES = [50, 30, 8]
N_NUMERIC = 4
TASKS = [TaskSpec("click"), TaskSpec("purchase"), TaskSpec("dwell", "regression")]
FUNNEL = {"purchase": "click"}
KINDS = ["shared_bottom", "mmoe", "ple", "esmm", "single_task"]
# Every architecture plus PLE's two-level variant, as (kind, extra ModelConfig fields).
VARIANTS = [(kind, {}) for kind in KINDS] + [("ple", {"levels": 2, "experts": 2, "task_experts": 2})]


def model_config(kind: str, size: str = "tiny", **fields) -> ModelConfig:
    return ModelConfig(kind=kind, size=size, funnel=dict(FUNNEL) if kind == "esmm" else {}, **fields)


def make(kind: str, size: str = "tiny", cardinalities=CARDINALITIES, n_numeric=N_NUMERIC, **fields):
    return build_model(model_config(kind, size, **fields), cardinalities, n_numeric, len(TASKS), tasks=TASKS)


def inputs(n: int = 16, seed: int = 0, cardinalities=CARDINALITIES, n_numeric=N_NUMERIC):
    generator = torch.Generator().manual_seed(seed)
    columns = [torch.randint(0, c, (n,), generator=generator) for c in cardinalities]
    categorical = torch.stack(columns, dim=1) if columns else torch.zeros(n, 0, dtype=torch.long)
    return categorical, torch.randn(n, n_numeric, generator=generator)


def variant_id(variant) -> str:
    kind, fields = variant
    return kind + "".join(f"-{k}{v}" for k, v in fields.items())


@pytest.mark.parametrize("size", ["tiny", "small"])
@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_output_has_one_finite_column_per_task(variant, size):
    kind, fields = variant
    model = make(kind, size, **fields)

    out = model(*inputs())

    assert out.shape == (16, len(TASKS))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_works_without_categorical_columns(variant):
    kind, fields = variant
    model = make(kind, cardinalities=[], n_numeric=10, **fields)

    out = model(*inputs(cardinalities=[], n_numeric=10))

    assert out.shape == (16, len(TASKS))


MATCHED = [v for v in VARIANTS if v[0] != "single_task"]  # the single-task baseline is T full one-task networks


@pytest.mark.parametrize("size", ["tiny", "small", "medium"])
@pytest.mark.parametrize("variant", MATCHED, ids=variant_id)
def test_parameter_count_is_within_ten_percent_of_shared_bottom(variant, size):
    kind, fields = variant
    reference = count_parameters(make("shared_bottom", size))

    count = count_parameters(make(kind, size, **fields))

    assert abs(count / reference - 1) <= 0.10, (count, reference)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "single_task"])
def test_explicit_widths_are_the_reference_shape(kind):
    widths = {"embed_dim": 8, "bottom": [64, 32], "tower": [16]}
    reference = count_parameters(make("shared_bottom", **widths))

    count = count_parameters(make(kind, **widths))

    assert reference == 50 * 8 + 30 * 8 + 8 * 8 + (28 + 1) * 64 + (64 + 1) * 32 + 3 * ((32 + 1) * 16 + 17) == 6275
    assert abs(count / reference - 1) <= 0.10


def test_single_task_gives_every_task_the_full_one_task_network():
    model = make("single_task", "small")

    one_task = SharedBottom(CARDINALITIES, N_NUMERIC, 1, **ModelConfig(size="small").resolved())
    assert len(model.networks) == len(TASKS)
    assert all(count_parameters(net) == count_parameters(one_task) for net in model.networks)


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_same_seed_builds_identical_models(variant):
    kind, fields = variant
    torch.manual_seed(5)
    first = make(kind, **fields)
    torch.manual_seed(5)
    second = make(kind, **fields)

    pairs = zip(first.state_dict().values(), second.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_shared_parameters_are_model_parameters_reached_by_more_than_one_task(variant):
    # Every task reaches them, but for ESMM's funnel parent network, which its funnel's tasks reach (tests/
    # test_models.py checks the converse: every parameter two tasks reach is shared).
    kind, fields = variant
    torch.manual_seed(0)
    model = make(kind, **fields)
    shared = model.shared_parameters()
    own = {id(p) for p in model.parameters()}

    assert {id(p) for p in shared} <= own
    assert (len(shared) == 0) == (kind == "single_task")
    reached = [0] * len(shared)
    for t in range(len(TASKS) if shared else 0):
        grads = torch.autograd.grad(model(*inputs(64))[:, t].sum(), shared, allow_unused=True)
        reached = [n + (g is not None and bool(g.abs().sum() > 0)) for n, g in zip(reached, grads, strict=True)]
    if not shared:
        return
    assert all(n == len(TASKS) for n in reached[: len(list(model.embedding.parameters()))])
    assert all(n >= 2 for n in reached)
    if kind != "esmm":
        assert all(n == len(TASKS) for n in reached)


def test_every_architecture_has_a_description_and_an_explanation():
    assert set(REGISTRY) == set(KINDS)
    assert set(EXPLANATIONS) == set(REGISTRY)
    assert all(len(text) > 200 for text in EXPLANATIONS.values())


# --- gates --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fields", "n_experts"),
    [
        ("mmoe", {"experts": 3}, 3),
        ("ple", {"experts": 3, "task_experts": 2}, 3 + 2),
        ("ple", {"experts": 2, "task_experts": 1, "levels": 2}, 2 + 1),
    ],
)
def test_gate_weights_are_one_distribution_per_task(kind, fields, n_experts):
    model = make(kind, "small", **fields)
    categorical, numeric = inputs(32)

    per_sample = model.sample_gate_weights(categorical, numeric)
    mean = model.gate_weights(categorical, numeric)

    assert per_sample.shape == (32, len(TASKS), n_experts)
    assert mean.shape == (len(TASKS), n_experts)
    assert (per_sample >= 0).all()
    assert torch.allclose(per_sample.sum(-1), torch.ones(32, len(TASKS)), atol=1e-6)
    assert torch.allclose(mean.sum(-1), torch.ones(len(TASKS)), atol=1e-6)
    assert torch.allclose(mean, per_sample.mean(0))


def test_mmoe_gate_steers_the_task_output():
    torch.manual_seed(0)
    model = make("mmoe", experts=2)
    with torch.no_grad():
        model.gate.bias.copy_(torch.tensor([50.0, -50.0, -50.0, 50.0, 0.0, 0.0]))  # task 0 -> expert 0, 1 -> 1

    gates = model.gate_weights(*inputs())

    assert torch.allclose(gates[:2], torch.tensor([[1.0, 0.0], [0.0, 1.0]]), atol=1e-4)


# --- ESMM ---------------------------------------------------------------------------------------------------------


def test_esmm_conditional_output_is_the_product_of_ctr_and_cvr():
    torch.manual_seed(0)
    model = make("esmm", "small")
    categorical, numeric = inputs(64)

    out = model(categorical, numeric)
    own = model.task_logits(categorical, numeric)

    p_ctr, p_cvr = own[:, 0].sigmoid(), own[:, 1].sigmoid()
    assert torch.allclose(out[:, 1].sigmoid(), p_ctr * p_cvr, atol=1e-6)
    assert torch.equal(out[:, [0, 2]], own[:, [0, 2]])  # click and the regression task are their own outputs
    conditional = model.conditional_probability(categorical, numeric)
    assert torch.allclose(conditional[:, :2], own[:, :2].sigmoid())
    assert torch.equal(conditional[:, 2], own[:, 2])


def test_esmm_product_logit_is_exact_and_finite_at_extreme_logits():
    values = torch.tensor([-1e4, -100.0, -30.0, -5.0, 0.0, 5.0, 30.0, 100.0, 1e4], dtype=torch.float64)
    a, b = torch.meshgrid(values, values, indexing="ij")
    a, b = a.float().requires_grad_(), b.float().requires_grad_()

    logit = product_logit(a, b)
    loss = F.binary_cross_entropy_with_logits(logit, torch.ones_like(logit)) + F.binary_cross_entropy_with_logits(
        logit, torch.zeros_like(logit)
    )
    loss.backward()

    assert torch.isfinite(logit).all() and torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
    assert torch.allclose(logit.sigmoid(), a.sigmoid() * b.sigmoid(), atol=1e-6)
    assert logit[-1, -1].item() == pytest.approx(1e4 - 0.6931, abs=1e-2)  # 1 - p = 2 e^-1e4: logit = 1e4 - ln 2


def test_esmm_output_stays_finite_when_the_networks_saturate():
    model = make("esmm")
    categorical, numeric = inputs()
    for bias_click, bias_purchase in [(1e4, 1e4), (1e4, -1e4), (-1e4, 1e4), (-1e4, -1e4)]:
        with torch.no_grad():
            model.networks[0].head.bias.fill_(bias_click)
            model.networks[1].head.bias.fill_(bias_purchase)

        out = model(categorical, numeric)

        assert torch.isfinite(out).all()
        expected = torch.tensor(bias_click).sigmoid() * torch.tensor(bias_purchase).sigmoid()
        assert torch.allclose(out[:, 1].sigmoid(), expected.expand(16), atol=1e-6)


def test_esmm_without_two_binary_tasks_says_so_naming_them():
    tasks = [TaskSpec("income"), TaskSpec("age", "regression")]
    config = ModelConfig(kind="esmm", size="tiny", funnel={})

    with pytest.raises(MtlrecError, match=r"ESMM needs two binary tasks.*this run has 1 binary task \(income\)"):
        build_model(config, CARDINALITIES, N_NUMERIC, 2, tasks=tasks)


@pytest.mark.parametrize(
    ("funnel", "message"),
    [
        ({}, "ESMM needs at least one conditional task: mark e.g. purchase as conditional on click"),
        ({"buy": "click"}, "'buy' is not a task"),
        ({"purchase": "view"}, "'view' is not a task"),
        ({"click": "click"}, "task 'click' cannot be conditional on itself"),
        ({"dwell": "click"}, "'dwell' is a regression task; both must be binary"),
        ({"purchase": "dwell"}, "'dwell' is a regression task; both must be binary"),
        ({"purchase": "click", "click": "purchase"}, "which is itself conditional on"),
        ({"purchase": "click", "click": "view"}, "not chains or cycles"),
        (["purchase", "click"], "must map task names to task names"),
        ({"purchase": ["click"]}, "must map task names to task names"),
    ],
)
def test_esmm_funnel_problems_raise_a_clear_error(funnel, message):
    config = ModelConfig(kind="esmm", size="tiny", funnel=funnel)

    with pytest.raises(MtlrecError, match=message):
        build_model(config, CARDINALITIES, N_NUMERIC, len(TASKS), tasks=TASKS)


def test_esmm_allows_two_tasks_conditional_on_the_same_one():
    tasks = [*TASKS, TaskSpec("share")]
    config = ModelConfig(kind="esmm", size="tiny", funnel={"purchase": "click", "share": "click"})

    model = build_model(config, CARDINALITIES, N_NUMERIC, 4, tasks=tasks)

    assert model.funnel == {1: 0, 3: 0}


def test_esmm_without_the_task_list_counts_parameters_but_refuses_to_run():
    with torch.device("meta"):
        shape_only = build_model(model_config("esmm"), CARDINALITIES, N_NUMERIC, len(TASKS))

    assert count_parameters(shape_only) == count_parameters(make("esmm"))
    with pytest.raises(MtlrecError, match="pass tasks= to build_model"):
        build_model(model_config("esmm"), CARDINALITIES, N_NUMERIC, len(TASKS))(*inputs())


def test_ple_and_mmoe_refuse_impossible_expert_counts():
    with pytest.raises(MtlrecError, match="MMoE needs at least 1 expert"):
        make("mmoe", experts=0)
    with pytest.raises(MtlrecError, match="at least one in all"):
        make("ple", experts=0, task_experts=0)
    with pytest.raises(MtlrecError, match="at least 1 level"):
        make("ple", levels=0)


# --- learning -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_each_architecture_can_memorise_a_tiny_dataset(variant):
    kind, fields = variant
    n = 64
    generator = torch.Generator().manual_seed(1)
    categorical = torch.stack([torch.arange(n), torch.randint(0, 8, (n,), generator=generator)], dim=1)
    numeric = torch.randn(n, 2, generator=generator)
    click = torch.randint(0, 2, (n,), generator=generator).float()
    purchase = click * torch.randint(0, 2, (n,), generator=generator).float()  # a funnel: no purchase without click
    labels = torch.stack([click, purchase, torch.randn(n, generator=generator)], dim=1)
    is_binary = torch.tensor([True, True, False])
    torch.manual_seed(0)
    model = make(kind, "tiny", cardinalities=[n, 8], n_numeric=2, **fields)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)

    losses = []
    for _ in range(200):
        optimizer.zero_grad()
        loss = task_losses(model(categorical, numeric), labels, is_binary).sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    assert losses[-1] < 0.1 * losses[0], (losses[0], losses[-1])


@pytest.mark.parametrize("kind", KINDS)
def test_runs_end_to_end_through_run_experiment(kind, interactions, make_config):
    config = make_config(epochs=1)
    config.model = dataclasses.replace(config.model, kind=kind, funnel={"like": "click"} if kind == "esmm" else {})

    result = run_experiment(config, interactions)

    assert result.status == "finished"
    assert result.metrics["params"] == count_parameters(result.model)
    assert set(result.metrics["tasks"]) == {"click", "like", "watch_time"}
    assert 0.0 <= result.metrics["tasks"]["click"]["auc"] <= 1.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_runs_on_cuda(variant):
    kind, fields = variant
    model = make(kind, **fields).cuda()
    categorical, numeric = inputs()

    out = model(categorical.cuda(), numeric.cuda())

    assert out.device.type == "cuda" and out.shape == (16, len(TASKS))


def test_esmm_multiplies_its_probabilities_in_float32_under_bfloat16_autocast():
    from mtlrec.config import ModelConfig, TaskSpec
    from mtlrec.models import build_model

    tasks = [TaskSpec("click"), TaskSpec("purchase")]
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="esmm", size="tiny", funnel={"purchase": "click"}), [5, 4], 1, 2, tasks=tasks)
    categorical, numeric = torch.tensor([[0, 1], [4, 3]]), torch.randn(2, 1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(categorical, numeric)
        own = model.task_logits(categorical, numeric).float()
    assert out.dtype == torch.float32
    p = torch.sigmoid(own[:, 0]) * torch.sigmoid(own[:, 1])
    torch.testing.assert_close(torch.sigmoid(out[:, 1]), p)  # pCTCVR = pCTR * pCVR from the bf16 logits, exactly


@pytest.mark.parametrize("kind", ["mmoe", "ple"])
def test_gates_are_normalised_in_float32_under_bfloat16_autocast(kind):
    from mtlrec.config import ModelConfig
    from mtlrec.models import build_model

    torch.manual_seed(0)
    model = build_model(ModelConfig(kind=kind, size="tiny"), [5, 4], 1, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        gates = model.sample_gate_weights(torch.tensor([[0, 1], [4, 3]]), torch.randn(2, 1))
    assert gates.dtype == torch.float32
    torch.testing.assert_close(gates.sum(-1), torch.ones(gates.shape[:-1]), rtol=0, atol=1e-6)
