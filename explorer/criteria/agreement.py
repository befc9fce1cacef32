"""How much two criteria agree: rank correlation and overlap of the channels they would prune.

Two criteria can have a middling rank correlation over all channels and still prune the same few, or the
reverse, so both are reported: Spearman's ρ over every channel of a group, and the overlap of the sets that
a given pruning ratio removes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from explorer.criteria.group_scores import GroupScores
from explorer.errors import ExplorerError

ArrayLike = torch.Tensor | np.ndarray | Sequence[float]


def _vector(x: ArrayLike, what: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ExplorerError(f"{what} must be 1-D scores, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ExplorerError(f"{what} contains NaN or Inf")
    return arr


def rank_average(x: ArrayLike) -> np.ndarray:
    """1-based ranks; tied values share the mean of the ranks they span (as ``scipy.stats.rankdata``).

    Args:
        x: ``[C]`` values.

    Returns:
        ``[C]`` float64 ranks.
    """
    values = _vector(x, "values")
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        stop = start
        while stop + 1 < len(values) and sorted_values[stop + 1] == sorted_values[start]:
            stop += 1
        # Positions start..stop (0-based) hold ranks start+1..stop+1; ties get their mean.
        ranks[order[start : stop + 1]] = (start + stop) / 2.0 + 1.0
        start = stop + 1
    return ranks


def spearman(a: ArrayLike, b: ArrayLike) -> float:
    """Spearman's rank correlation ρ: the Pearson correlation of the average ranks.

    Args:
        a: ``[C]`` scores.
        b: ``[C]`` scores of the same channels.

    Returns:
        ρ in [−1, 1]; NaN when either vector is constant (no ranking to correlate), as in scipy.

    Raises:
        ExplorerError: different lengths, fewer than two channels, or non-finite scores.
    """
    x, y = _vector(a, "a"), _vector(b, "b")
    if x.shape != y.shape or len(x) < 2:
        raise ExplorerError(f"spearman needs two score vectors of equal length ≥ 2, got {len(x)}, {len(y)}")
    rx, ry = rank_average(x), rank_average(y)
    rx -= rx.mean()
    ry -= ry.mean()
    denominator = math.sqrt(float((rx * rx).sum()) * float((ry * ry).sum()))
    if denominator == 0.0:
        return float("nan")
    return float(np.clip((rx * ry).sum() / denominator, -1.0, 1.0))


def prune_set(scores: ArrayLike, ratio: float) -> set[int]:
    """The channels a ratio removes: the ⌊ratio·C⌋ lowest scores, always keeping at least one channel.

    Ties are broken by channel index (the lower index goes first), so the set is deterministic.

    Args:
        scores: ``[C]`` scores, higher = more important.
        ratio: fraction of channels to remove, in [0, 1].

    Returns:
        The removed channel indices.

    Raises:
        ExplorerError: ``ratio`` outside [0, 1] or non-finite scores.
    """
    values = _vector(scores, "scores")
    if not 0.0 <= float(ratio) <= 1.0:
        raise ExplorerError(f"pruning ratio must be in [0, 1], got {ratio}")
    # The epsilon keeps 0.29·100 = 28.999999999999996 from flooring to 28.
    count = min(math.floor(float(ratio) * len(values) + 1e-9), len(values) - 1)
    order = np.lexsort((np.arange(len(values)), values))
    return {int(i) for i in order[: max(count, 0)]}


def overlap(a_scores: ArrayLike, b_scores: ArrayLike, ratio: float) -> float:
    """|A ∩ B| / |A|, where A and B are the channels each criterion prunes at ``ratio``.

    Both sets have the same size, so this is also |A ∩ B| / |B|: the share of A's choices that B makes too.
    When the ratio prunes nothing, the criteria trivially agree and the overlap is 1.
    """
    a, b = prune_set(a_scores, ratio), prune_set(b_scores, ratio)
    return 1.0 if not a else len(a & b) / len(a)


def jaccard(a_scores: ArrayLike, b_scores: ArrayLike, ratio: float) -> float:
    """|A ∩ B| / |A ∪ B| of the pruned sets (1 when neither prunes anything); stricter than ``overlap``."""
    a, b = prune_set(a_scores, ratio), prune_set(b_scores, ratio)
    union = a | b
    return 1.0 if not union else len(a & b) / len(union)


def agreement_table(
    scores_by_criterion: Mapping[str, Mapping[str, GroupScores]], ratio: float
) -> list[dict[str, Any]]:
    """Pairwise agreement of criteria, per group.

    Args:
        scores_by_criterion: criterion → group → its scores (``compute_group_scores``'s result).
        ratio: the pruning ratio at which the pruned sets are compared.

    Returns:
        One row per group and unordered pair of criteria (in the mapping's order) that both scored it:
        ``{"group", "criterion_a", "criterion_b", "rho", "overlap", "jaccard"}``. ``rho`` is NaN when a
        criterion gives the group constant scores.
    """
    criteria = list(scores_by_criterion)
    group_names = list(dict.fromkeys(g for c in criteria for g in scores_by_criterion[c]))
    rows = []
    for group in group_names:
        for i, first in enumerate(criteria):
            for second in criteria[i + 1 :]:
                a = scores_by_criterion[first].get(group)
                b = scores_by_criterion[second].get(group)
                if a is None or b is None:
                    continue
                rows.append(
                    {
                        "group": group,
                        "criterion_a": first,
                        "criterion_b": second,
                        "rho": spearman(a.score, b.score),
                        "overlap": overlap(a.score, b.score, ratio),
                        "jaccard": jaccard(a.score, b.score, ratio),
                    }
                )
    return rows
