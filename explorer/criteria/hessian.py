"""Optimal Brain Damage: second-order saliency with a diagonal Hessian.

LeCun, Denker & Solla, "Optimal Brain Damage", NIPS 1989, http://yann.lecun.com/exdb/publis/pdf/lecun-90b.pdf.
At a minimum of the loss the gradient vanishes and, with a diagonal Hessian, deleting weight i costs
ΔL ≈ ½·H_ii·w_i² (their Eq. 5). Deleting a channel deletes a set of weights, whose saliencies add under the
diagonal approximation: s_c = ½ Σ_{i ∈ channel c} H_ii·w_i², over the filter, its BN γ and β and the
consumers' input slices.

H_ii is approximated by the empirical Fisher information, F_ii = (1/N) Σ_n (∂ℓ_n/∂w_i)², the mean over
the calibration samples of the squared *per-sample* gradients (the square of a batch-mean gradient would be a
different, much smaller quantity). The per-sample gradients are exact (see
``explorer.criteria.statistics``).
"""

from __future__ import annotations

import torch

from explorer.criteria._registry import register_criterion
from explorer.criteria.generic import score_per_sample_gradients


@register_criterion(
    "hessian",
    needs="per_sample_gradients",
    title="LeCun et al., Optimal Brain Damage (NIPS 1989), diagonal Hessian ≈ empirical Fisher",
    url="http://yann.lecun.com/exdb/publis/pdf/lecun-90b.pdf",
    formula="s_c = ½ Σ_{i ∈ channel c} H_ii · w_i²,  H_ii ≈ (1/N) Σ_n (∂ℓ_n/∂w_i)²",
    description="Uses the curvature of the loss to estimate how much it rises when the channel's weights "
    "are deleted.",
    score=score_per_sample_gradients,
)
def hessian_scores(fisher_diagonal: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """OBD saliency s_c = ½ Σ_i F_c,i · w_c,i², with F the empirical-Fisher estimate of diag(H).

    LeCun, Denker & Solla, "Optimal Brain Damage", NIPS 1989,
    http://yann.lecun.com/exdb/publis/pdf/lecun-90b.pdf (Eq. 5).

    Args:
        fisher_diagonal: ``[C, K]`` the Hessian diagonal estimate of the K weights removed with channel c.
        weight: ``[C, K]`` those weights, in the same order.

    Returns:
        ``[C]`` float32 saliencies.
    """
    fisher = fisher_diagonal.detach().double()
    w = weight.detach().double()
    return (0.5 * (fisher * w.square()).sum(dim=1)).float()
