"""Progressive Layered Extraction (Tang et al., RecSys 2020): CGC levels of shared and task-specific experts.

One CGC (Customized Gate Control) level: S shared experts plus K experts owned by each task; task t's gate mixes
the S shared experts and its own K (never another task's). Below the last level a shared gate also mixes every
expert into the input of the next level's shared experts. Expert order in every gate: shared first, then the
task's own (then, for the shared gate, task 0's, task 1's, ...).
"""

from __future__ import annotations

import torch
from torch import nn

from mtlrec.models.layers import FeatureEmbedding, GatedExperts, Tower, last_weights, mlp, towers_forward


def _mix(gate: nn.Linear, gate_input: torch.Tensor, experts: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(mixture (N, H), gate weights (N, E)) of expert outputs, each (N, H)."""
    weights = gate(gate_input).softmax(-1, torch.float32)  # (N, E); float32 also under bfloat16 autocast
    mixture = (weights.unsqueeze(1) @ torch.stack(experts, dim=1)).squeeze(1)  # (N, 1, E) @ (N, E, H) -> (N, H)
    return mixture, weights


class ExtractionLevel(nn.Module):
    """One CGC level. Inputs: one tensor per task and one for the shared experts; outputs the same, plus gates."""

    def __init__(
        self,
        input_dim: int,
        widths: list[int],
        n_tasks: int,
        shared: int,
        per_task: int,
        dropout: float,
        shared_gate: bool,
    ):
        super().__init__()
        self.shared_experts = nn.ModuleList(mlp(input_dim, widths, dropout) for _ in range(shared))
        self.task_experts = nn.ModuleList(
            nn.ModuleList(mlp(input_dim, widths, dropout) for _ in range(per_task)) for _ in range(n_tasks)
        )
        self.task_gates = nn.ModuleList(nn.Linear(input_dim, shared + per_task) for _ in range(n_tasks))
        self.shared_gate = nn.Linear(input_dim, shared + n_tasks * per_task) if shared_gate else None
        self.output_dim = widths[-1] if widths else input_dim

    def forward(
        self, task_inputs: list[torch.Tensor], shared_input: torch.Tensor
    ) -> tuple[list[torch.Tensor], torch.Tensor | None, torch.Tensor]:
        shared = [expert(shared_input) for expert in self.shared_experts]
        owned = [[expert(x) for expert in experts] for experts, x in zip(self.task_experts, task_inputs, strict=True)]
        task_outputs, gates = [], []
        for t, (gate, x) in enumerate(zip(self.task_gates, task_inputs, strict=True)):
            mixture, weights = _mix(gate, x, shared + owned[t])
            task_outputs.append(mixture)
            gates.append(weights)
        shared_output = None
        if self.shared_gate is not None:
            shared_output = _mix(self.shared_gate, shared_input, shared + [e for own in owned for e in own])[0]
        return task_outputs, shared_output, torch.stack(gates, dim=1)  # gates: (N, T, S + K)


class PLE(GatedExperts):
    """Shared experts carry what tasks have in common, each task's own experts what it does not share."""

    def __init__(
        self,
        cardinalities: list[int],
        n_numeric: int,
        n_tasks: int,
        embed_dim: int = 16,
        experts: int = 4,
        task_experts: int = 1,
        levels: int = 1,
        widths: list[int] = (256, 128),  # of each expert MLP
        tower: list[int] = (64,),
        dropout: float = 0.0,
        cross: int = 0,
    ):
        super().__init__()
        self.embedding = FeatureEmbedding(cardinalities, n_numeric, embed_dim, cross)
        input_dim, stack = self.embedding.output_dim, []
        for level in range(levels):
            last = level == levels - 1
            stack.append(ExtractionLevel(input_dim, list(widths), n_tasks, experts, task_experts, dropout, not last))
            input_dim = stack[-1].output_dim
        self.levels = nn.ModuleList(stack)
        self.towers = nn.ModuleList(Tower(input_dim, list(tower), dropout) for _ in range(n_tasks))

    def shared_parameters(self) -> list[nn.Parameter]:
        """The parameters every task's loss reaches: the embedding, every level's shared experts and, below the last
        level, the shared gate and every task's experts (the shared gate mixes them all into the next level's
        shared experts), and two levels or more below it the task gates too (they feed such experts). Without
        shared experts the shared gate's output goes nowhere: a lower level's task experts then belong to their
        task (task_own_parameters, which takes what this leaves out)."""
        params = [*self.embedding.parameters()]
        last = len(self.levels) - 1
        for i, level in enumerate(self.levels):
            params += [*level.shared_experts.parameters()]
            if level.shared_gate is not None and len(level.shared_experts):
                params += [*level.shared_gate.parameters(), *level.task_experts.parameters()]
                if i < last - 1:  # its task gates feed task experts that feed the next level's shared gate
                    params += [*level.task_gates.parameters()]
        return params

    def task_own_parameters(self, j: int) -> list[nn.Parameter]:
        """Task j's experts and gates that no other task's output depends on (its tower aside): its experts at the
        last level and its gates at the last two; at every level without shared experts, both."""
        params, last = [], len(self.levels) - 1
        for i, level in enumerate(self.levels):
            alone = not len(level.shared_experts)  # no shared experts: no path from one task's experts to another
            if i >= last - 1 or alone:  # deeper, its gate feeds experts that a shared gate mixes for every task
                params += [*level.task_gates[j].parameters()]
            if i == last or alone:
                params += [*level.task_experts[j].parameters()]
        return params

    def gradnorm_layers(self) -> list[nn.Parameter]:
        """GradNorm's last shared layer: the last matrix of every shared expert of the last level (see MMoE)."""
        return last_weights(self.levels[-1].shared_experts)

    def _forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(outputs (N, T), the last level's task gates (N, T, S + K)): shared experts first, then the task's own."""
        x = self.embedding(categorical, numeric)  # (N, D)
        task_inputs, shared_input = [x] * len(self.towers), x
        for level in self.levels:
            task_inputs, shared_input, gates = level(task_inputs, shared_input)
        outputs = towers_forward(self.towers, torch.stack(task_inputs, dim=1))  # (N, T)
        return outputs, gates
