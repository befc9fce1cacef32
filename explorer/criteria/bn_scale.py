"""Network Slimming's channel score: the magnitude of the BatchNorm scale that follows the channel.

Liu, Li, Shen, Huang, Yan & Zhang, "Learning Efficient Convolutional Networks through Network Slimming",
ICCV 2017, https://arxiv.org/abs/1708.06519. BN computes y = γ·x̂ + β; a channel whose |γ| is small passes
little signal on. The paper trains with an ℓ1 penalty on γ to make this ranking sharp; on a model trained
without it the ranking is only a heuristic.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from explorer.criteria._registry import register_criterion
from explorer.criteria.base import explain_value
from explorer.criteria.generic import score_batchnorm_scales
from explorer.criteria.group_scores import GroupScores
from explorer.graph import PruningGroup


def explain_bn_scale(
    model: nn.Module, group: PruningGroup, scores: GroupScores, channel: int
) -> dict[str, Any]:
    """The scale γ_c of the group's first scored BatchNorm (the single term, signed) and |γ_c|."""
    batchnorm = next((m for m in scores.members if m != group.name), None)
    if batchnorm is None:
        return explain_value(model, group, scores, channel)
    gamma = model.get_submodule(batchnorm).weight.detach()[channel]
    return {
        "kind": "abs",
        "terms": [float(gamma)],
        "n_terms": 1,
        "layer_value": float(bn_scale_scores(gamma.reshape(1))[0]),
    }


@register_criterion(
    "bn_scale",
    needs="bn",
    title="Liu et al., Learning Efficient Convolutional Networks through Network Slimming (ICCV 2017)",
    url="https://arxiv.org/abs/1708.06519",
    formula="s_c = |γ_c|  (the scale of the BatchNorm that follows the channel)",
    description="A channel that its BatchNorm multiplies by a tiny scale passes almost nothing on.",
    score=score_batchnorm_scales,
    explain=explain_bn_scale,
)
def bn_scale_scores(gamma: torch.Tensor) -> torch.Tensor:
    """Network Slimming: s_c = |γ_c|.

    Liu et al., "Learning Efficient Convolutional Networks through Network Slimming", ICCV 2017,
    https://arxiv.org/abs/1708.06519.

    Args:
        gamma: ``[C]`` the BatchNorm's weight (scale).

    Returns:
        ``[C]`` float32 scores.
    """
    return gamma.detach().abs().float()
