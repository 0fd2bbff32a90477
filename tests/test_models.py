"""Specifications of mtlrec.models: the shared interface, parameter counts, size presets, the registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mtlrec.config import SIZE_PRESETS, ModelConfig, TaskSpec
from mtlrec.errors import MtlrecError
from mtlrec.models import REGISTRY, build_model, count_parameters
from mtlrec.models.layers import FeatureEmbedding, Tower, towers_forward

CARDINALITIES = [5, 7]  # two categorical columns (OOV index included)
N_NUMERIC = 3
N_TASKS = 2


def inputs(n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    categorical = torch.stack([torch.randint(0, c, (n,), generator=generator) for c in CARDINALITIES], dim=1)
    return categorical, torch.randn(n, N_NUMERIC, generator=generator)


@pytest.mark.parametrize("size", list(SIZE_PRESETS))
def test_output_has_one_column_per_task_for_every_size(size):
    model = build_model(ModelConfig(size=size), CARDINALITIES, N_NUMERIC, N_TASKS)

    out = model(*inputs())

    assert out.shape == (6, N_TASKS)
    assert torch.isfinite(out).all()


def test_parameter_count_of_the_tiny_preset_matches_the_formula():
    model = build_model(ModelConfig(size="tiny"), CARDINALITIES, N_NUMERIC, N_TASKS)

    embedding = (5 + 7) * 4  # one table for both columns, width 4
    bottom = (2 * 4 + 3) * 32 + 32  # input: 2 embeddings of 4 + 3 numerics -> 32
    tower = (32 * 8 + 8) + (8 * 1 + 1)  # 32 -> 8 -> 1, per task
    assert count_parameters(model) == embedding + bottom + N_TASKS * tower == 978


def test_parameter_count_with_overrides_matches_the_formula():
    config = ModelConfig(size="tiny", embed_dim=2, bottom=[6, 5], tower=[3])

    model = build_model(config, CARDINALITIES, N_NUMERIC, 3)

    embedding = 12 * 2
    bottom = (2 * 2 + 3) * 6 + 6 + 6 * 5 + 5
    tower = 5 * 3 + 3 + 3 + 1
    assert count_parameters(model) == embedding + bottom + 3 * tower == 173


def test_presets_increase_in_parameter_count():
    counts = [
        count_parameters(build_model(ModelConfig(size=size), CARDINALITIES, N_NUMERIC, N_TASKS))
        for size in ("tiny", "small", "medium", "large", "xl")
    ]

    assert counts == sorted(counts)
    assert len(set(counts)) == 5


def test_model_without_categorical_columns_uses_numerics_only():
    model = build_model(ModelConfig(size="tiny"), [], N_NUMERIC, 1)

    out = model(torch.zeros(4, 0, dtype=torch.long), torch.randn(4, N_NUMERIC))

    assert out.shape == (4, 1)


def test_model_without_numeric_columns_uses_embeddings_only():
    model = build_model(ModelConfig(size="tiny"), CARDINALITIES, 0, N_TASKS)

    out = model(inputs()[0], torch.zeros(6, 0))

    assert out.shape == (6, N_TASKS)


def test_each_task_output_comes_from_its_own_tower():
    torch.manual_seed(0)
    model = build_model(ModelConfig(size="tiny"), CARDINALITIES, N_NUMERIC, N_TASKS)
    categorical, numeric = inputs()
    before = model(categorical, numeric).detach()

    with torch.no_grad():
        model.towers[1].head.bias += 1.0

    after = model(categorical, numeric).detach()
    assert torch.equal(after[:, 0], before[:, 0])
    assert torch.allclose(after[:, 1], before[:, 1] + 1.0)


def test_same_seed_builds_identical_models():
    torch.manual_seed(3)
    first = build_model(ModelConfig(size="tiny"), CARDINALITIES, N_NUMERIC, N_TASKS)
    torch.manual_seed(3)
    second = build_model(ModelConfig(size="tiny"), CARDINALITIES, N_NUMERIC, N_TASKS)

    assert all(
        torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True)
    )


def test_unknown_model_kind_raises_naming_the_available_ones():
    with pytest.raises(MtlrecError, match="unknown model 'transformer'; available: .*shared_bottom"):
        build_model(ModelConfig(kind="transformer"), CARDINALITIES, N_NUMERIC, N_TASKS)


def test_registry_entries_have_a_description():
    assert "shared_bottom" in REGISTRY
    assert all(description for _, description in REGISTRY.values())


# ------------------------------------------------------------------------------------ parameters by part


def test_parameter_parts_of_a_shared_bottom_computed_by_hand():
    from mtlrec.config import ExperimentConfig, TaskSpec
    from mtlrec.resources import parameter_parts

    config = ExperimentConfig(tasks=[TaskSpec("a", "binary"), TaskSpec("b", "regression")])
    config.model.size = "tiny"  # embedding 4, bottom [32], tower [8]

    parts = parameter_parts(config, [10, 20], 3)

    # table: (10 + 20) rows x 4; bottom: (2 * 4 + 3) inputs -> 32; each tower: 32 -> 8 -> 1
    assert parts == {"embeddings": 30 * 4, "shared layers": 11 * 32 + 32, "task-specific": 2 * (32 * 8 + 8 + 8 + 1)}
    assert sum(parts.values()) == count_parameters(build_model(config.model, [10, 20], 3, 2, tasks=config.tasks))


@pytest.mark.parametrize("kind", ["mmoe", "ple", "esmm", "single_task"])
def test_parameter_parts_add_up_for_every_architecture(kind):
    from mtlrec.config import ExperimentConfig, TaskSpec
    from mtlrec.resources import parameter_parts

    config = ExperimentConfig(tasks=[TaskSpec("click", "binary"), TaskSpec("buy", "binary")])
    config.model.kind, config.model.size = kind, "tiny"
    config.model.funnel = {"buy": "click"} if kind == "esmm" else {}

    parts = parameter_parts(config, [10, 20], 3)

    assert sum(parts.values()) == count_parameters(build_model(config.model, [10, 20], 3, 2, tasks=config.tasks))
    assert parts["embeddings"] > 0 and parts["task-specific"] > 0
    # only architectures with layers shared by tasks have a shared part besides the embeddings: ESMM's click
    # network, which pCTCVR = pCTR x pCVR reaches too
    assert (parts["shared layers"] > 0) == (kind in ("mmoe", "ple", "esmm"))


@pytest.mark.parametrize("widths", [[], [5], [5, 3]])
@pytest.mark.parametrize("per_task", [False, True])
def test_towers_computed_together_equal_each_tower_on_its_own(widths, per_task):
    # towers_forward lays the towers' weights end to end; outputs and every gradient must be those of the loop.
    torch.manual_seed(0)
    towers = torch.nn.ModuleList(Tower(6, widths) for _ in range(3))
    x = torch.randn(4, 3, 6) if per_task else torch.randn(4, 6)
    joint = towers_forward(towers, x)
    looped = torch.cat([tower(x[:, j] if per_task else x) for j, tower in enumerate(towers)], dim=1)
    assert joint.shape == (4, 3)
    torch.testing.assert_close(joint, looped)
    weights = torch.arange(1.0, 13.0).view(4, 3)
    grads = torch.autograd.grad((joint * weights).sum(), list(towers.parameters()))
    expected = torch.autograd.grad((looped * weights).sum(), list(towers.parameters()))
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want)


def test_tower_dropout_is_applied_in_training_and_not_in_evaluation():
    torch.manual_seed(0)
    towers = torch.nn.ModuleList(Tower(6, [50], dropout=0.5) for _ in range(2))
    x = torch.randn(8, 6)
    towers.eval()
    torch.testing.assert_close(towers_forward(towers, x), torch.cat([t(x) for t in towers], dim=1))
    towers.train()
    assert not torch.allclose(towers_forward(towers, x), towers_forward(towers, x))  # fresh masks each call


def test_cross_layer_computes_x0_times_a_linear_map_of_x_plus_x_by_hand():
    embedding = FeatureEmbedding([3], 1, 1, cross=1)  # input: one 1-wide embedding + one numeric = width 2
    with torch.no_grad():
        embedding.table.weight.copy_(torch.tensor([[1.0], [2.0], [3.0]]))
        embedding.cross[0].weight.copy_(torch.tensor([[1.0, 2.0], [0.0, -1.0]]))
        embedding.cross[0].bias.copy_(torch.tensor([0.5, 1.0]))
    x = embedding(torch.tensor([[1]]), torch.tensor([[4.0]]))  # x0 = (2, 4)
    # W x0 + b = (2 + 8 + 0.5, -4 + 1) = (10.5, -3); x0 * that + x0 = (21 + 2, -12 + 4)
    torch.testing.assert_close(x, torch.tensor([[23.0, -8.0]]))


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_cross_layers_start_as_the_identity_and_are_counted(kind):
    # Zero-initialised, cross layers leave a model's outputs as they are until training moves them.
    cardinalities, tasks = [7, 5, 3], [TaskSpec("click"), TaskSpec("like")]
    config = ModelConfig(kind=kind, size="tiny", funnel={"like": "click"} if kind == "esmm" else {})
    torch.manual_seed(0)
    plain = build_model(config, cardinalities, 2, 2, tasks=tasks)
    crossed_config = ModelConfig(**{**config.__dict__, "cross": 2})
    crossed = build_model(crossed_config, cardinalities, 2, 2, tasks=tasks)
    missing, unexpected = crossed.load_state_dict(plain.state_dict(), strict=False)
    assert (
        not unexpected and missing and all(".cross." in name or name.startswith("embedding.cross") for name in missing)
    )
    categorical, numeric = torch.tensor([[0, 4, 2], [6, 0, 1]]), torch.randn(2, 2)
    if kind in ("shared_bottom", "esmm", "single_task"):  # same widths: the same model plus identity layers
        torch.testing.assert_close(crossed(categorical, numeric), plain(categorical, numeric))
    width = 3 * 4 + 2  # three 4-wide embeddings (tiny) and two numerics
    extra = count_parameters(crossed) - count_parameters(plain)
    if kind == "shared_bottom":
        assert extra == 2 * (width * width + width)
    elif kind == "single_task":
        assert extra == 2 * 2 * (width * width + width)  # each task's network has its own
    else:  # MMoE, PLE, ESMM are sized to shared-bottom's count, cross layers included
        reference = count_parameters(build_model(ModelConfig(size="tiny", cross=2), cardinalities, 2, 2))
        assert abs(count_parameters(crossed) - reference) <= 0.1 * reference


def test_binary_outputs_start_at_the_training_rows_base_rate():
    # At p = 0.5 a 12%-positive task's first steps turned its tower's ReLUs off for every row: one constant
    # prediction, AUC 0.50 (an analyst's upload, seed 0). Each binary output now starts at its rate's log-odds.
    from mtlrec.models import start_at_base_rates

    tasks = [TaskSpec("click", "binary"), TaskSpec("watch", "regression"), TaskSpec("buy", "binary")]
    labels = np.array([[1, 0.5, 1], [0, -0.3, 0], [0, np.nan, 0], [np.nan, 1.0, 0]], dtype=np.float32)
    for kind in ("shared_bottom", "mmoe", "ple", "single_task"):
        model = build_model(ModelConfig(kind=kind, size="tiny"), CARDINALITIES, N_NUMERIC, 3, tasks=tasks)
        regression_bias = model.state_dict()
        start_at_base_rates(model, tasks, labels)
        biases = {k: v for k, v in model.state_dict().items() if k.endswith("head.bias")}
        assert len(biases) == 3, kind
        click, watch, buy = (v.item() for v in biases.values())
        assert click == pytest.approx(np.log(1 / 2)), kind  # 1 of 3 labelled rows
        assert buy == pytest.approx(np.log(1 / 3)), kind  # 1 of 4
        assert watch == regression_bias[list(biases)[1]].item(), kind  # standardised: left as drawn

    funnel = [TaskSpec("click", "binary"), TaskSpec("buy", "binary")]
    esmm = build_model(
        ModelConfig(kind="esmm", size="tiny", funnel={"buy": "click"}), CARDINALITIES, 1, 2, tasks=funnel
    )
    rows = np.array([[1, 1]] + [[1, 0]] * 4 + [[0, 0]] * 5, dtype=np.float32)  # click 50%, buy 10%: pCVR 20%
    start_at_base_rates(esmm, funnel, rows)
    assert esmm.networks[1].head.bias.item() == pytest.approx(np.log(0.2 / 0.8))
    with torch.no_grad():
        start = torch.sigmoid(esmm(torch.zeros(10, len(CARDINALITIES), dtype=torch.long), torch.zeros(10, 1)))
    assert start[:, 1].mean().item() == pytest.approx(0.1, abs=0.05)


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("shared_bottom", {}),
        ("mmoe", {"experts": 2}),
        ("ple", {"experts": 2, "levels": 2}),
        ("ple", {"experts": 0, "task_experts": 2, "levels": 2}),
        ("ple", {"experts": 2, "levels": 3, "bottom": [256]}),  # with [8], the matched experts are 1 unit wide
        ("esmm", {}),
    ],
)
def test_shared_and_task_parameters_are_those_the_tasks_outputs_reach(kind, options):
    # PCGrad projects on the shared parameters, the conflict diagnostics measure there and GradNorm picks its layer
    # there; a weight-0 task's own parameters are left out of the optimiser. Both sets are checked here against the
    # gradients themselves: PLE's lower-level task experts (which feed the shared gate) and ESMM's click network
    # (which pCTCVR = pCTR x pCVR reaches too) were missing from the shared set, PLE's lower-level task gates from
    # the task's own.
    from mtlrec.diagnostics import shared_parameters
    from mtlrec.models import task_parameters

    tasks = [TaskSpec("click", "binary"), TaskSpec("purchase", "binary"), TaskSpec("watch", "regression")]
    funnel = {"purchase": "click"} if kind == "esmm" else {}
    cfg = ModelConfig(**{"kind": kind, "size": "tiny", "embed_dim": 4, "bottom": [8], "tower": [4], "funnel": funnel,
                         **options})  # fmt: skip
    torch.manual_seed(0)
    model = build_model(cfg, [6, 7], 3, 3, tasks=tasks)
    out = model(torch.randint(0, 6, (256, 2)), torch.randn(256, 3))
    named = dict(model.named_parameters())
    reach = {name: set() for name in named}
    for j in range(3):
        grads = torch.autograd.grad(out[:, j].sum(), list(named.values()), retain_graph=True, allow_unused=True)
        for name, grad in zip(named, grads, strict=True):
            if grad is not None and grad.abs().sum() > 0:
                reach[name].add(j)
    shared = {id(p) for p in shared_parameters(model)}
    own = {j: {id(p) for p in task_parameters(model, j)} for j in range(3)}
    for name, tasks_reached in reach.items():
        p = named[name]
        if len(tasks_reached) >= 2 and not (kind == "mmoe" and name.startswith("gate")):  # one row block per task
            assert id(p) in shared, (name, tasks_reached)
        if len(tasks_reached) == 1:
            (j,) = tasks_reached
            assert id(p) in own[j], (name, j)
        for j in range(3):
            # ESMM's click network is click's own only while no trained task is conditional on it (config.untrained)
            if id(p) in own[j] and not (kind == "esmm" and j == 0):
                assert tasks_reached <= {j}, (name, j, tasks_reached)


def test_each_columns_unknown_value_vector_starts_at_zero():
    # Never trained when no training row holds an unseen value, it is what every unseen user of a user split is
    # scored with: zero ("no particular value"), not a random vector that changes with the seed (ML review).
    torch.manual_seed(0)
    table = FeatureEmbedding([3, 5, 2], n_numeric=1, embed_dim=4).table.weight.detach()
    zero_rows = torch.nonzero((table == 0).all(dim=1)).flatten().tolist()
    assert zero_rows == [0, 3, 8]  # each column's index 0, at its offset
    assert table.abs().sum() > 0
