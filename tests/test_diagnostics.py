"""Specifications of mtlrec.diagnostics and the trainer's per-epoch diagnostics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mtlrec.config import ModelConfig
from mtlrec.data import prepare
from mtlrec.diagnostics import cosine_matrix, final_diagnostics, gradient_norms, measure, task_gradients
from mtlrec.models import build_model
from mtlrec.models.shared_bottom import SharedBottom
from mtlrec.train import Progress, Trainer, task_losses
from mtlrec.weighting import build_weighting

CPU = torch.device("cpu")
NAMES = ["click", "like", "watch_time"]
PAIRS = ["cos/click|like", "cos/click|watch_time", "cos/like|watch_time"]


@pytest.fixture(scope="module")
def prepared(_interactions_once, make_config):
    return prepare(make_config(), _interactions_once)


def fit(prepared, config, model_cfg: ModelConfig | None = None, callback=None):
    """Train a fresh model (seed 0) on the prepared data; returns (trainer, model)."""
    encoder = prepared.encoder
    torch.manual_seed(0)
    model = build_model(model_cfg or config.model, encoder.cardinalities, encoder.numeric_width, 3)
    trainer = Trainer(config.train, config.tasks, build_weighting(config.weighting, config.tasks), callback)
    return trainer.fit(model, prepared.train, prepared.val, CPU), model


class Linear(nn.Module):
    """Shared theta (2,) and a task-specific head: task i's loss has gradient b_i on theta."""

    def __init__(self):
        super().__init__()
        self.theta = nn.Parameter(torch.zeros(2))
        self.head = nn.Parameter(torch.zeros(1))

    def shared_parameters(self) -> list[nn.Parameter]:
        return [self.theta]

    def forward(self, categorical, numeric) -> torch.Tensor:
        return self.head


def test_norms_and_cosines_of_hand_made_gradients():
    model = Linear()
    b = torch.tensor([[3.0, 4.0], [-4.0, 3.0], [-3.0, -4.0], [0.0, 0.0]])
    losses = b @ model.theta + model.head  # the fourth task's gradient on theta is zero

    grads = task_gradients(model, losses)

    assert grads.tolist() == b.tolist()
    assert gradient_norms(grads) == [5.0, 5.0, 5.0, 0.0]
    # (3,4).(-4,3) = 0: orthogonal; (3,4) and (-3,-4) point apart: -1; a zero gradient: 0 everywhere.
    expected = [[1, 0, -1, 0], [0, 1, 0, 0], [-1, 0, 1, 0], [0, 0, 0, 0]]
    np.testing.assert_allclose(cosine_matrix(grads), expected, atol=1e-7)
    assert model.theta.grad is None  # nothing written to .grad


def test_gradients_equal_separate_backward_passes_on_a_small_model():
    torch.manual_seed(0)
    model = SharedBottom([5, 7], 2, 3, embed_dim=3, bottom=[6, 4], tower=[3])
    categorical = torch.stack([torch.randint(0, 5, (16,)), torch.randint(0, 7, (16,))], dim=1)
    numeric, labels = torch.randn(16, 2), torch.rand(16, 3).round()
    is_binary = torch.tensor([True, True, False])
    shared = model.shared_parameters()

    grads = task_gradients(model, task_losses(model(categorical, numeric), labels, is_binary))

    by_hand = []
    for task in range(3):
        model.zero_grad()
        task_losses(model(categorical, numeric), labels, is_binary)[task].backward()
        by_hand.append(torch.cat([p.grad.flatten() for p in shared]))
    by_hand = torch.stack(by_hand)
    torch.testing.assert_close(grads, by_hand)
    norms = [float(g.norm()) for g in by_hand]
    assert gradient_norms(grads) == pytest.approx(norms, rel=1e-5)
    for a in range(3):
        for b in range(3):
            cos = float(by_hand[a] @ by_hand[b]) / (norms[a] * norms[b])
            assert cosine_matrix(grads)[a, b] == pytest.approx(cos, abs=1e-5)


def test_measure_averages_gradients_over_batches_by_their_rows():
    model = Linear()
    x = torch.tensor([[1.0], [1.0], [1.0], [4.0]])  # rows scale task 0's gradient on theta[0]

    def loss_fn(outputs, labels):
        return torch.stack([(labels[:, 0] * model.theta[0]).mean(), (labels[:, 0] * model.theta[1]).mean()])

    entries = measure(model, [(None, None, x[:3]), (None, None, x[3:])], loss_fn, ["a", "b"])

    # Mean over the 4 rows: (1 + 1 + 1 + 4) / 4 = 1.75 on each task's own coordinate; orthogonal gradients.
    assert entries == pytest.approx({"a/grad_norm": 1.75, "b/grad_norm": 1.75, "cos/a|b": 0.0})


def test_measure_on_a_model_without_shared_parameters_records_nothing():
    assert measure(nn.Linear(2, 1), [(None, None, torch.zeros(3, 1))], lambda o, y: y.sum(0), ["a"]) == {}


def test_history_rows_and_progress_hold_gradient_diagnostics(prepared, make_config):
    events: list[Progress] = []

    trainer, _ = fit(prepared, make_config(epochs=2), callback=events.append)

    for row in trainer.history_:
        assert {f"{name}/grad_norm" for name in NAMES} | set(PAIRS) <= set(row)
        assert all(row[f"{name}/grad_norm"] > 0 for name in NAMES)
        assert all(-1 <= row[pair] <= 1 for pair in PAIRS)
        assert not any(key.startswith("gate/") for key in row)
    epochs = [p for p in events if p.phase == "epoch"]
    assert [p.diagnostics == {k: p.history_row[k] for k in p.diagnostics} for p in epochs] == [True, True]
    assert trainer.diagnostics_ == epochs[-1].diagnostics and len(trainer.diagnostics_) == 6


def test_diagnostics_off_records_none(prepared, make_config):
    trainer, _ = fit(prepared, make_config(epochs=1, diagnostics=False))

    assert not any(key.endswith("/grad_norm") or key.startswith("cos/") for key in trainer.history_[0])


def test_diagnostics_do_not_change_training_even_with_dropout(prepared, make_config):
    dropout = ModelConfig(size="tiny", dropout=0.3)  # dropout draws random numbers in train mode

    on, with_diagnostics = fit(prepared, make_config(epochs=2), dropout)
    off, without = fit(prepared, make_config(epochs=2, diagnostics=False), dropout)

    for (name, a), b in zip(with_diagnostics.state_dict().items(), without.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    diagnostic_keys = {key for key in on.history_[0] if key.endswith("/grad_norm") or key.startswith("cos/")}
    for row_on, row_off in zip(on.history_, off.history_, strict=True):
        assert {k: v for k, v in row_on.items() if k not in diagnostic_keys | {"elapsed"}} == {
            k: v for k, v in row_off.items() if k != "elapsed"
        }


@pytest.mark.parametrize(("kind", "experts"), [("mmoe", 4), ("ple", 3)])
def test_gated_models_record_each_tasks_mean_gate_weight_per_expert(kind, experts, prepared, make_config):
    trainer, _ = fit(prepared, make_config(epochs=1), ModelConfig(kind=kind, size="tiny", experts=experts))

    row = trainer.history_[0]
    for name in NAMES:
        gates = [key for key in row if key.startswith(f"gate/{name}/")]
        assert gates  # MMoE: the 4 shared experts; PLE: shared experts, then the task's own
        assert gates == [f"gate/{name}/{e}" for e in range(len(gates))]
        assert sum(row[key] for key in gates) == pytest.approx(1.0, abs=1e-6)
        assert row[f"{name}/grad_norm"] > 0


def test_final_diagnostics_nests_the_kept_epochs_values():
    history = [
        {"epoch": 1, "click/weight": 1.0, "click/grad_norm": 9.0},
        {
            "epoch": 2,
            "train_loss": 0.7,
            "click/weight": 1.5,
            "like/weight": 0.0,
            "click/train_loss": 0.4,
            "click/grad_norm": 0.3,
            "like/grad_norm": 0.0,
            "cos/click|like": -0.25,
            "gate/click/1": 0.75,
            "gate/click/0": 0.25,
            "gate/like/0": 1.0,
            "gate/like/1": 0.0,
        },
    ]

    assert final_diagnostics(history) == {
        "epoch": 2,
        "weight": {"click": 1.5, "like": 0.0},
        "grad_norm": {"click": 0.3, "like": 0.0},
        "cosine": {"click|like": -0.25},
        "gate": {"click": [0.25, 0.75], "like": [1.0, 0.0]},
    }
    # Early stopping keeps epoch 1's weights: the diagnostics are that epoch's (they were the last epoch's)
    assert final_diagnostics(history, 1) == {"epoch": 1, "weight": {"click": 1.0}, "grad_norm": {"click": 9.0}}
    assert final_diagnostics(history, 0) == final_diagnostics(history)  # no epoch kept (a run failed in epoch 1)
    assert final_diagnostics([]) == {}
    assert final_diagnostics([{"epoch": 1, "click/weight": 2.0}]) == {"epoch": 1, "weight": {"click": 2.0}}


@pytest.mark.parametrize("kind", ["shared_bottom", "mmoe"])
def test_measure_cuts_the_embedding_gradient_to_the_rows_looked_up_with_the_same_norms_and_cosines(kind):
    # The dense per-task gradients of the embedding table (stacked and summed again) took an xl run to 3.1x its
    # memory estimate; only the rows the probe batches look up have a gradient, so the numbers are the same.
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind=kind, size="tiny"), [50, 30, 7], 3, 3)
    batches = [(torch.randint(0, 7, (40, 3)), torch.randn(40, 3), torch.randint(0, 2, (40, 3)).float()) for _ in "ab"]

    def loss_fn(outputs, labels):
        return nn.functional.binary_cross_entropy_with_logits(outputs, labels, reduction="none").mean(0)

    full = sum(task_gradients(model, loss_fn(model(c, n), y)) * 0.5 for c, n, y in batches)
    entries = measure(model, batches, loss_fn, ["a", "b", "c"])

    assert [entries[f"{t}/grad_norm"] for t in "abc"] == pytest.approx(gradient_norms(full), rel=1e-5)
    cosines = cosine_matrix(full)
    assert entries["cos/a|b"] == pytest.approx(cosines[0, 1], abs=1e-5)
    assert entries["cos/b|c"] == pytest.approx(cosines[1, 2], abs=1e-5)


def test_the_memory_estimate_counts_the_diagnostics_when_they_are_on():
    from mtlrec.config import ExperimentConfig, TaskSpec
    from mtlrec.resources import DIAGNOSTIC_COPIES, FLOAT, estimate_memory

    config = ExperimentConfig(tasks=[TaskSpec("a"), TaskSpec("b"), TaskSpec("c")])
    config.model.size = "small"
    on = estimate_memory(config, 10_000, [1000, 50], 4)
    config.train.diagnostics = False
    off = estimate_memory(config, 10_000, [1000, 50], 4)
    shared, tables = on.parts["shared layers"], on.parts["embeddings"]
    assert on.diagnostic_bytes == FLOAT * (3 * shared + DIAGNOSTIC_COPIES * (shared + tables)) > 0
    assert off.diagnostic_bytes == 0 and on.total - off.total == on.diagnostic_bytes
    assert "diagnostics" in on.describe() and "diagnostics" not in off.describe()


def test_a_single_task_model_is_charged_no_diagnostics_memory():
    # its networks share nothing, so no diagnostics run; the estimate refused such runs for memory they never used
    from mtlrec.config import ExperimentConfig, TaskSpec
    from mtlrec.resources import estimate_memory

    config = ExperimentConfig(tasks=[TaskSpec("a"), TaskSpec("b")])
    config.model.kind = "single_task"
    assert estimate_memory(config, 10_000, [1000, 50], 4).diagnostic_bytes == 0
