"""Magnitude criteria: the ℓ1 and ℓ2 norms of each filter.

Li, Kadav, Durdanovic, Samet & Graf, "Pruning Filters for Efficient ConvNets", ICLR 2017,
https://arxiv.org/abs/1608.08710. The paper ranks the filters of a layer by s_c = Σ|W_c| (its §3.1) and
reports that ℓ2 ranks them almost identically; ``l2`` is offered to let students check that claim.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from explorer.criteria._registry import register_criterion
from explorer.criteria.base import explain_value, explanation, root_weight
from explorer.criteria.generic import score_weights
from explorer.criteria.group_scores import GroupScores
from explorer.graph import PruningGroup

_LI_TITLE = "Li et al., Pruning Filters for Efficient ConvNets (ICLR 2017)"
_LI_URL = "https://arxiv.org/abs/1608.08710"


def _as_filters(weight: torch.Tensor) -> torch.Tensor:
    # One row per output channel: conv weights are [C_out, C_in/groups, *kernel], linear ones [C_out, C_in].
    return weight.detach().reshape(weight.shape[0], -1).double()


def explain_l1(model: nn.Module, group: PruningGroup, scores: GroupScores, channel: int) -> dict[str, Any]:
    """The terms |W_c,i| of the root layer's filter ``channel``, and its ℓ1 norm."""
    weight = root_weight(model, group)
    if weight is None:
        return explain_value(model, group, scores, channel)
    return explanation("sum_abs", _as_filters(weight)[channel].abs(), float(l1_scores(weight)[channel]))


def explain_l2(model: nn.Module, group: PruningGroup, scores: GroupScores, channel: int) -> dict[str, Any]:
    """The terms W_c,i² of the root layer's filter ``channel``, and its ℓ2 norm."""
    weight = root_weight(model, group)
    if weight is None:
        return explain_value(model, group, scores, channel)
    return explanation(
        "sqrt_sum_sq", _as_filters(weight)[channel].square(), float(l2_scores(weight)[channel])
    )


@register_criterion(
    "l1",
    needs="weights",
    title=_LI_TITLE,
    url=_LI_URL,
    formula="s_c = Σ_i |W_c,i|",
    description="Filters whose weights are small in total (sum of absolute values) matter least.",
    score=score_weights,
    explain=explain_l1,
)
def l1_scores(weight: torch.Tensor) -> torch.Tensor:
    """ℓ1 norm of every filter: s_c = Σ_i |W_c,i|.

    Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017, https://arxiv.org/abs/1608.08710.

    Args:
        weight: the layer's weight, ``[C_out, ...]`` (conv filters or rows of a linear layer).

    Returns:
        ``[C_out]`` float32 scores; the smallest are pruned first.
    """
    return _as_filters(weight).abs().sum(dim=1).float()


@register_criterion(
    "l2",
    needs="weights",
    title=_LI_TITLE,
    url=_LI_URL,
    formula="s_c = ‖W_c‖₂ = √(Σ_i W_c,i²)",
    description="Filters whose weights have a small Euclidean length matter least.",
    score=score_weights,
    explain=explain_l2,
)
def l2_scores(weight: torch.Tensor) -> torch.Tensor:
    """ℓ2 norm of every filter: s_c = ‖W_c‖₂.

    The ℓ2 variant discussed in Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017,
    https://arxiv.org/abs/1608.08710.

    Args:
        weight: the layer's weight, ``[C_out, ...]``.

    Returns:
        ``[C_out]`` float32 scores.
    """
    return _as_filters(weight).norm(dim=1).float()
