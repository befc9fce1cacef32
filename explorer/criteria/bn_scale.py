"""Network Slimming's channel score: the magnitude of the BatchNorm scale that follows the channel.

Liu, Li, Shen, Huang, Yan & Zhang, "Learning Efficient Convolutional Networks through Network Slimming",
ICCV 2017, https://arxiv.org/abs/1708.06519. BN computes y = γ·x̂ + β; a channel whose |γ| is small passes
little signal on. The paper trains with an ℓ1 penalty on γ to make this ranking sharp; on a model trained
without it the ranking is only a heuristic.
"""

from __future__ import annotations

import torch

from explorer.criteria._registry import register_criterion


@register_criterion(
    "bn_scale",
    needs="bn",
    title="Liu et al., Learning Efficient Convolutional Networks through Network Slimming (ICCV 2017)",
    url="https://arxiv.org/abs/1708.06519",
    formula="s_c = |γ_c|  (the scale of the BatchNorm that follows the channel)",
    description="A channel that its BatchNorm multiplies by a tiny scale passes almost nothing on.",
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
