"""The result every criterion returns for one group: its channel scores and each member layer's own."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class GroupScores:
    """One group's channel scores under one criterion; higher = more important, the lowest are pruned.

    Attributes:
        group: the group's name (its root layer).
        score: ``[num_channels]`` float32, the group score of each root channel.
        members: layer name → ``[num_channels]`` float32, that layer's own score in root channel order (see
            ``explorer.criteria.scoring`` for which layers each criterion scores).
        reduction: how ``members`` became ``score``: ``"mean"``, ``"sum"``, ``"max"``, ``"min"``,
            ``"square_of_sum"`` (taylor_weight) or ``"none"`` (scored as a whole).
        details: other per-channel quantities ``[num_channels]`` a criterion measured on the way, for its
            explanation (``greedy_oracle``: each channel's loss increase alone and at its removal).
    """

    group: str
    score: torch.Tensor
    members: dict[str, torch.Tensor]
    reduction: str
    details: dict[str, torch.Tensor] = field(default_factory=dict)
