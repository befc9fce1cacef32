"""Errors specific to scoring; all are ``ExplorerError``s, so the UI shows their message as it is."""

from __future__ import annotations

from explorer.criteria.group_scores import GroupScores
from explorer.errors import ExplorerError


class ScoringCancelled(ExplorerError):
    """Raised while scoring when ``should_stop()`` turned true; nothing partial is returned."""


class CriterionNotApplicable(ExplorerError):
    """The criterion has no meaning for some of the requested groups (e.g. ``bn_scale`` without BatchNorm).

    The groups where it does apply were scored anyway, so a caller can show those and explain the others::

        try:
            scores = compute_group_scores("bn_scale", model, graph)
        except CriterionNotApplicable as error:
            scores, why = error.partial, error.reasons  # why["fc1"] == "bn_scale: no BatchNorm follows fc1"

    Attributes:
        criterion: the criterion's name.
        reasons: group name → one-line reason, e.g. ``"bn_scale: no BatchNorm follows conv3"``.
        partial: the scores of the groups where the criterion applies.
    """

    def __init__(self, criterion: str, reasons: dict[str, str], partial: dict[str, GroupScores]):
        self.criterion = criterion
        self.reasons = dict(reasons)
        self.partial = dict(partial)
        super().__init__("; ".join(self.reasons.values()))
