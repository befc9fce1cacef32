"""Filter Pruning via Geometric Median (FPGM).

He, Liu, Wang, Hu & Yang, "Filter Pruning via Geometric Median for Deep Convolutional Neural Networks
Acceleration", CVPR 2019, https://arxiv.org/abs/1811.00250.

The paper's argument (its §3.3-3.4): the geometric median x* of a layer's filters is the point that best
represents them all, so the filters *nearest* to it are the most replaceable by the others and are pruned.
Computing x* exactly is costly, so the paper ranks filter c by g(W_c) = Σ_j ‖W_c − W_j‖₂ (its Eq. 6-8): the
filter minimising that sum is the sample closest to the median. The distances are taken between the *raw*
flattened filter weights; torch-pruning 1.6.1's ``FPGMImportance`` uses |W|^p instead, which changes the
ranking (see ``../shared/DESIGN.md`` §3 and ``tests/test_criteria.py``).

``geometric_median_distance`` gives, for display, each filter's distance to the true geometric median
(Weiszfeld's algorithm with the Vardi-Zhang fix for iterates that land on a filter).
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


def _as_filters(weight: torch.Tensor) -> torch.Tensor:
    return weight.detach().reshape(weight.shape[0], -1).double()


# Pairs whose squared distance is below this fraction of ‖a‖² + ‖b‖² are recomputed from real differences.
_CLOSE = 1e-4


def _pairwise_distances(points: torch.Tensor) -> torch.Tensor:
    """``[C, D] → [C, C]`` Euclidean distances, exact to float64 rounding, at matrix-product speed.

    ‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b runs on BLAS (about 10x faster than real differences on ConvNeXt's
    3072-filter layers) but loses digits when two filters are close: the result is then a small difference
    of large numbers. The rows holding such a pair are recomputed from real differences, so near-duplicate
    filters (the very ones FPGM is about) are measured exactly. Elsewhere the relative error of d² is at
    most about D·1e-16 / _CLOSE.
    """
    squares = (points * points).sum(dim=1)
    scale = squares[:, None] + squares[None, :]
    d2 = (scale - 2.0 * (points @ points.T)).clamp_min_(0.0)
    close = d2 < _CLOSE * scale
    close.fill_diagonal_(False)
    rows = close.any(dim=1).nonzero().flatten()
    for start in range(0, rows.numel(), 256):  # bounded memory even when every pair is close
        chunk = rows[start : start + 256]
        exact = torch.cdist(points[chunk], points, compute_mode="donot_use_mm_for_euclid_dist")
        d2[chunk] = exact * exact
    d2.fill_diagonal_(0.0)
    return d2.sqrt()


def explain_fpgm(model: nn.Module, group: PruningGroup, scores: GroupScores, channel: int) -> dict[str, Any]:
    """The distances ‖W_c − W_j‖₂ from the root layer's filter ``channel`` to the others, and their sum."""
    weight = root_weight(model, group)
    if weight is None:
        return explain_value(model, group, scores, channel)
    flat = _as_filters(weight)
    distances = (flat - flat[channel]).norm(dim=1)
    others = torch.cat([distances[:channel], distances[channel + 1 :]])
    return explanation("sum_dist", others, float(fpgm_scores(weight)[channel]))


@register_criterion(
    "fpgm",
    needs="weights",
    title="He et al., Filter Pruning via Geometric Median for Deep Convolutional Neural Networks "
    "Acceleration (CVPR 2019)",
    url="https://arxiv.org/abs/1811.00250",
    formula="s_c = Σ_j ‖W_c − W_j‖₂  (raw weights; smallest = nearest the geometric median)",
    description="Filters that sit nearest the 'centre' of their layer are the most replaceable by the "
    "others, so they go first.",
    score=score_weights,
    explain=explain_fpgm,
)
def fpgm_scores(weight: torch.Tensor) -> torch.Tensor:
    """Sum of distances to the layer's other filters: s_c = Σ_j ‖W_c − W_j‖₂ on the raw weights.

    He et al., "Filter Pruning via Geometric Median for Deep Convolutional Neural Networks Acceleration",
    CVPR 2019, https://arxiv.org/abs/1811.00250 (Eq. 6-8).

    Args:
        weight: all the filters of one layer, ``[C_out, ...]``.

    Returns:
        ``[C_out]`` float32 scores; the filters nearest the geometric median score lowest.
    """
    return _pairwise_distances(_as_filters(weight)).sum(dim=1).float()


def geometric_median(points: torch.Tensor, *, max_iter: int = 1000, tol: float = 1e-10) -> torch.Tensor:
    """The geometric median argmin_y Σ_c ‖x_c − y‖₂ by Weiszfeld's algorithm.

    When an iterate coincides with a point, the plain Weiszfeld step divides by zero; the Vardi-Zhang
    step (Vardi & Zhang, PNAS 2000) is used instead, so the iteration still converges to the median.

    Args:
        points: ``[C, D]`` (any trailing shape is flattened).
        max_iter: upper bound on the number of iterations.
        tol: stop when an update moves less than ``tol · (1 + ‖y‖)``.

    Returns:
        ``[D]`` float64 median.
    """
    x = _as_filters(points)
    y = x.mean(dim=0)
    for _ in range(max_iter):
        dist = (x - y).norm(dim=1)
        scale = dist.max().clamp_min(1e-300)
        away = dist > 1e-12 * scale
        if not bool(away.any()):
            return y
        inv = 1.0 / dist[away]
        target = (x[away] * inv[:, None]).sum(dim=0) / inv.sum()
        coinciding = int((~away).sum())
        if coinciding:
            pull = ((x[away] - y) * inv[:, None]).sum(dim=0).norm()
            gamma = min(1.0, coinciding / float(pull)) if float(pull) > 0 else 1.0
            new = (1.0 - gamma) * target + gamma * y
        else:
            new = target
        moved = float((new - y).norm())
        y = new
        if moved < tol * (1.0 + float(y.norm())):
            break
    return y


def geometric_median_distance(weight: torch.Tensor) -> torch.Tensor:
    """Each filter's Euclidean distance to the layer's true geometric median (for display).

    Args:
        weight: ``[C_out, ...]`` raw filter weights.

    Returns:
        ``[C_out]`` float32 distances ‖W_c − x*‖₂.
    """
    filters = _as_filters(weight)
    return (filters - geometric_median(filters)).norm(dim=1).float()
