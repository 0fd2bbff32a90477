"""Entire Space Multi-task Model (Ma et al., SIGIR 2018) for funnel tasks such as click -> purchase.

Each task has its own MLP on the shared embeddings. For a task marked conditional on another (purchase on click)
the network's own output is the logit of pCVR = P(purchase | click), and the model outputs the logit of
pCTCVR = pCTR * pCVR, so the usual BCE on the purchase label over every impression trains pCTCVR on the entire
space (no sample-selection bias from training pCVR on clicked rows only).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mtlrec.errors import MtlrecError
from mtlrec.models.layers import FeatureEmbedding, Tower, towers_forward


def product_logit(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """logit(sigmoid(a) * sigmoid(b)), finite for any finite a, b.

    log p = logsigmoid(a) + logsigmoid(b); and 1 - p = sigmoid(-a) + sigmoid(a) * sigmoid(-b), so log(1 - p) is a
    logaddexp of log-sigmoids. That is exact where log1mexp(log p) is not: it never subtracts two numbers near 1,
    and it stays finite when both logits are huge (log1mexp(0) would be -inf there, and the BCE NaN).
    """
    log_p = F.logsigmoid(a) + F.logsigmoid(b)
    log_not_p = torch.logaddexp(F.logsigmoid(-a), F.logsigmoid(a) + F.logsigmoid(-b))
    return log_p - log_not_p


class ESMM(nn.Module):
    """Shared embeddings, one MLP per task; a conditional task's output is the logit of pCTR * pCVR."""

    def __init__(
        self,
        cardinalities: list[int],
        n_numeric: int,
        n_tasks: int,
        funnel: dict[int, int] | None,
        binary: list[bool] | None = None,
        embed_dim: int = 16,
        widths: list[int] = (256, 128),
        tower: list[int] = (64,),
        dropout: float = 0.0,
        cross: int = 0,
    ):
        """funnel: conditional task index -> the index it is conditional on (see resolve_funnel). None builds the
        shape only (for a parameter count without the task list); such a model refuses to run."""
        super().__init__()
        self.funnel = dict(funnel) if funnel is not None else None
        self.binary = list(binary) if binary is not None else [True] * n_tasks
        self.embedding = FeatureEmbedding(cardinalities, n_numeric, embed_dim, cross)
        self.networks = nn.ModuleList(
            Tower(self.embedding.output_dim, [*widths, *tower], dropout) for _ in range(n_tasks)
        )

    def shared_parameters(self) -> list[nn.Parameter]:
        """The parameters more than one task's loss reaches: the embedding, and the network of every task another is
        conditional on (pCTCVR = pCTR x pCVR: the purchase loss reaches the click network too, so PCGrad projects
        there and the conflict diagnostics measure there). Every other network belongs to its task."""
        parents = sorted(set((self.funnel or {}).values()))
        return [*self.embedding.parameters(), *(p for j in parents for p in self.networks[j].parameters())]

    def gradnorm_layers(self) -> list[nn.Parameter]:
        """GradNorm's W: the embedding's last matrix, the one layer every task's loss reaches (a funnel parent's
        network is reached by its funnel's tasks only)."""
        return [p for p in self.embedding.parameters() if p.dim() >= 2][-1:]

    def task_logits(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """Each task network's own output, shape (N, T): pCVR's logit for a conditional task, pCTR's for its parent."""
        x = self.embedding(categorical, numeric)  # (N, D)
        return towers_forward(self.networks, x)  # (N, T)

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        if self.funnel is None:
            raise MtlrecError("this ESMM model was built without the task list: pass tasks= to build_model")
        own = self.task_logits(categorical, numeric).float()  # the product in float32, also under bfloat16 autocast
        columns = [
            product_logit(own[:, self.funnel[t]], own[:, t]) if t in self.funnel else own[:, t]
            for t in range(own.shape[1])
        ]
        return torch.stack(columns, dim=1)  # (N, T)

    @torch.no_grad()
    def conditional_probability(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """(N, T): pCVR for a conditional task, the task's own probability (binary) or value (regression) otherwise."""
        own = self.task_logits(categorical, numeric)
        binary = torch.tensor(self.binary, device=own.device)
        return torch.where(binary, own.sigmoid(), own)
