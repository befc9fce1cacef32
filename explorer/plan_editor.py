"""Plan edits: a ratio, a global ratio, hand-picked channels or a saved plan become one step of the history.

Every request is checked in full (group names, ratios, channel indices) before anything changes, and makes
exactly one undo step. Ratios pick the lowest-scoring channels of the criterion asked for; the scores come
from the session, so they always describe the live weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch

from explorer.export import write_atomically
from explorer.graph import PruningGroup
from explorer.history import PlanHistory
from explorer.plan import (
    GroupChoice,
    Plan,
    PlanError,
    choose_global,
    count_to_prune,
    lowest,
    validate_indices,
)

ScoresOf = Callable[[str, Sequence[str] | None], dict[str, torch.Tensor]]


class PlanEditor:
    """Edits the plan of a ``PlanHistory``.

    Args:
        history: where each edit becomes a step.
        group: name → offered group (raises ``PlanError`` for unknown or refused ones).
        groups: the offered groups.
        scores: ``(criterion, group names or None) → {group: per-channel scores}``; low = removed first.
    """

    def __init__(
        self,
        history: PlanHistory,
        group: Callable[[str], PruningGroup],
        groups: Callable[[], list[PruningGroup]],
        scores: ScoresOf,
    ):
        self._history = history
        self._group = group
        self._groups = groups
        self._scores = scores

    def ratio(self, group: str) -> float:
        choice = self._history.plan.choices.get(group)
        return choice.ratio if choice else 0.0

    def _commit(self, choices: Mapping[str, GroupChoice], *, replace: bool = False) -> None:
        new = {} if replace else dict(self._history.plan.choices)
        new.update(choices)
        kept = {k: v for k, v in new.items() if v.pruned or v.ratio}
        self._history.commit(Plan(kept, self._history.plan.model))

    def _choose(self, name: str, ratio: float, criterion: str) -> GroupChoice:
        group = self._group(name)
        count = count_to_prune(group.num_channels, ratio, group.name)
        if count == 0:
            return GroupChoice((), float(ratio), criterion)
        scores = self._scores(criterion, [group.name])[group.name]
        return GroupChoice(lowest(scores, count), float(ratio), criterion)

    def set_ratios(self, ratios: Mapping[str, float], criterion: str, *, replace: bool = False) -> None:
        """The ``ratio`` lowest-scoring channels of each group (at least one channel is kept)."""
        self._commit({name: self._choose(name, r, criterion) for name, r in ratios.items()}, replace=replace)

    def set_global_ratio(self, ratio: float, criterion: str, max_pruning_ratio: float) -> None:
        """One ratio over every offered group, with per-group normalised scores and at most
        ``max_pruning_ratio`` of any group removed (see ``choose_global``)."""
        groups = self._groups()
        count_to_prune(sum(g.num_channels for g in groups), ratio)  # validates the ratio
        scores = self._scores(criterion, None)
        chosen = choose_global({g.name: scores[g.name] for g in groups}, ratio, max_pruning_ratio)
        choices = {
            g.name: GroupChoice(chosen[g.name], len(chosen[g.name]) / g.num_channels, criterion)
            for g in groups
        }
        self._commit(choices, replace=True)

    def set_pruned(self, name: str, pruned: Sequence[int]) -> None:
        """Exactly these root channels of one group (hand-picked)."""
        group = self._group(name)
        idxs = validate_indices(name, group.num_channels, pruned)
        self._commit({name: GroupChoice(idxs, len(idxs) / group.num_channels, "manual")})

    def apply(self, plan: Plan | Mapping | str) -> None:
        """A whole plan (a ``Plan``, its dict, or its JSON), checked group by group first."""
        if isinstance(plan, str):
            plan = Plan.from_json(plan)
        elif not isinstance(plan, Plan):
            plan = Plan.from_dict(plan)
        choices = {}
        for name, choice in plan.choices.items():
            size = self._group(name).num_channels
            choices[name] = GroupChoice(
                validate_indices(name, size, choice.pruned), choice.ratio, choice.criterion
            )
        self._commit(choices, replace=True)

    def save(self, path: str | Path) -> None:
        write_atomically(Path(path), self._history.plan.to_json().encode())

    def load(self, path: str | Path) -> None:
        """Apply a plan saved by ``save``; the current plan is kept when anything is wrong."""
        try:
            text = Path(path).read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise PlanError(f"cannot read the plan file {path}: {error}") from error
        self.apply(text)


__all__ = ["PlanEditor"]
