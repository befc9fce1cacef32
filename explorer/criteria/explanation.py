"""One channel's score taken apart into its terms, for the "why" panel."""

from __future__ import annotations

from typing import Any

from torch import nn

from explorer.criteria._registry import get_criterion
from explorer.criteria.group_scores import GroupScores
from explorer.errors import ExplorerError
from explorer.graph import PruningGroup


def explain(
    name: str, model: nn.Module, group: PruningGroup, scores: GroupScores, channel: int
) -> dict[str, Any]:
    """The numbers behind criterion ``name``'s score of one channel, as its own criterion explains them.

    ================  ==============================================================================
    kind              terms
    ================  ==============================================================================
    ``"sum_abs"``     l1: |W_c,i| of the root layer's filter c
    ``"sqrt_sum_sq"`` l2: W_c,i² of the root layer's filter c
    ``"sum_dist"``    fpgm: ‖W_c − W_j‖₂ to each other filter j of the root layer
    ``"abs"``         bn_scale: [γ_c] of the group's first scored BatchNorm (signed; the score is |γ_c|)
    ``"value"``       criteria measured on data or at random: no terms
    ================  ==============================================================================

    Args:
        name: a registered criterion.
        model: the network the scores were computed on.
        group: the channel's group.
        scores: that group's ``GroupScores`` under ``name``.
        channel: the root channel, ``0 <= channel < group.num_channels``.

    Returns:
        ``{"kind", "terms", "n_terms", "layer_value"}``: at most six ``terms`` (floats), ``n_terms`` the full
        count, and ``layer_value`` the criterion's own per-layer score of the channel (NaN for ``"value"``).

    Raises:
        ExplorerError: unknown criterion, or ``channel`` out of range.
    """
    info = get_criterion(name)
    if not 0 <= int(channel) < group.num_channels:
        raise ExplorerError(f"{group.name} has {group.num_channels} channels; there is no channel {channel}")
    return info.explain(model, group, scores, int(channel))
