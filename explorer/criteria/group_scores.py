"""The result every criterion returns for one group: its channel scores and each member layer's own."""

from __future__ import annotations

from dataclasses import dataclass

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
    """

    group: str
    score: torch.Tensor
    members: dict[str, torch.Tensor]
    reduction: str
