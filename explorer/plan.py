"""Pruning plans: which root channels of which group are removed, and why.

A plan maps group names to the root channel indices that are removed. It also remembers, per group, the
ratio and criterion that chose them, so the UI can show the slider where the user left it. Plans are plain
JSON: the indices are stored explicitly, so a plan replays identically even when scores depend on data.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch

from explorer.errors import ExplorerError

PLAN_FORMAT = "pruning-explorer-plan"
PLAN_VERSION = 1


class PlanError(ExplorerError):
    """A plan that cannot be applied (unknown group, bad ratio, index out of range...)."""


@dataclass(frozen=True)
class GroupChoice:
    """What was removed from one group, and how it was chosen.

    Attributes:
        pruned: removed root channel indices, sorted.
        ratio: fraction of channels removed, as asked for (``len(pruned) / C`` for hand-picked channels).
        criterion: the criterion that ranked the channels, or ``"manual"``.
    """

    pruned: tuple[int, ...]
    ratio: float
    criterion: str


@dataclass
class Plan:
    """A whole-network plan. Groups absent from ``choices`` are left intact."""

    choices: dict[str, GroupChoice] = field(default_factory=dict)
    model: str | None = None

    def pruned(self) -> dict[str, tuple[int, ...]]:
        """Group name → removed root indices, only for groups that lose channels."""
        return {name: c.pruned for name, c in self.choices.items() if c.pruned}

    def to_dict(self) -> dict:
        return {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "model": self.model,
            "groups": {
                name: {"pruned": list(c.pruned), "ratio": c.ratio, "criterion": c.criterion}
                for name, c in self.choices.items()
            },
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping) -> Plan:
        if not isinstance(data, Mapping) or not isinstance(data.get("groups"), Mapping):
            raise PlanError(
                "not a pruning plan: expected a JSON object whose 'groups' is an object",
                code="plan.not_a_plan",
                values={},
            )
        if data.get("format", PLAN_FORMAT) != PLAN_FORMAT:
            raise PlanError(
                f"not a pruning plan: format is {data.get('format')!r}",
                code="plan.format",
                values={"format": str(data.get("format"))},
            )
        choices = {}
        for name, entry in data["groups"].items():
            if not isinstance(entry, Mapping) or not isinstance(entry.get("pruned"), list):
                raise PlanError(
                    f"plan entry for {name!r} needs a 'pruned' list of channel indices",
                    code="plan.no_pruned",
                    values={"group": str(name)},
                )
            if not all(isinstance(i, int) and not isinstance(i, bool) for i in entry["pruned"]):
                raise PlanError(
                    f"plan entry for {name!r}: 'pruned' must hold integer channel indices",
                    code="plan.pruned_not_integers",
                    values={"group": str(name)},
                )
            ratio = entry.get("ratio", 0.0)
            if not isinstance(ratio, (int, float)) or isinstance(ratio, bool):
                raise PlanError(
                    f"plan entry for {name!r}: 'ratio' must be a number, not {ratio!r}",
                    code="plan.ratio_not_number",
                    values={"group": str(name), "ratio": repr(ratio)},
                )
            criterion = entry.get("criterion", "manual")
            if not isinstance(criterion, str):
                raise PlanError(
                    f"plan entry for {name!r}: 'criterion' must be a string, not {criterion!r}",
                    code="plan.criterion_not_text",
                    values={"group": str(name), "criterion": repr(criterion)},
                )
            choices[name] = GroupChoice(tuple(sorted(entry["pruned"])), float(ratio), criterion)
        model = data.get("model")
        return cls(choices, model if isinstance(model, str) else None)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as error:
            raise PlanError(
                f"the plan is not valid JSON: {error}", code="plan.not_json", values={"detail": str(error)}
            ) from error


def count_to_prune(num_channels: int, ratio: float, group: str = "") -> int:
    """How many channels a ratio removes: ``round(ratio · C)``, always keeping at least one channel.

    Raises:
        PlanError: a ratio outside [0, 1).
    """
    if not (isinstance(ratio, (int, float)) and math.isfinite(ratio)) or ratio < 0 or ratio >= 1:
        where = f" for {group}" if group else ""
        raise PlanError(
            f"ratio {ratio!r}{where} is outside [0, 1): a ratio of 1 would remove all {num_channels} "
            "channels, "
            "and at least one channel is always kept"
        )
    return min(round(ratio * num_channels), num_channels - 1)


def lowest(scores: torch.Tensor, count: int) -> tuple[int, ...]:
    """Indices of the ``count`` lowest scores (ties broken by index), sorted."""
    if count <= 0:
        return ()
    order = sorted(range(scores.numel()), key=lambda i: (float(scores[i]), i))
    return tuple(sorted(order[:count]))


#: The default per-group cap of the global choice: at most 90 % of any one group's channels are removed.
DEFAULT_MAX_PRUNING_RATIO = 0.9


def choose_global(
    scores: Mapping[str, torch.Tensor], ratio: float, max_pruning_ratio: float = DEFAULT_MAX_PRUNING_RATIO
) -> dict[str, tuple[int, ...]]:
    """One ratio over all groups, on scores normalised per group, with a cap on each group.

    Each group's scores are divided by their ℓ2 norm, ŝ_c = s_c / ‖s‖₂ (so that layers whose scores are on
    different scales compete on one scale, as in Molchanov et al. 2017), all channels are sorted by ŝ (ties:
    group name, then index), and the lowest are removed until ``round(ratio · total)`` are gone, skipping a
    channel whose group has already lost ``min(floor(max_pruning_ratio · C), C − 1)`` of its C channels.

    The normalisation does not make every layer lose the same share: a layer whose channels all score alike
    has all its ŝ near 1/√C, and one with a few large scores has many ŝ near 0, so the second loses far more.
    ``max_pruning_ratio`` (torch-pruning's name for the same cap) bounds that; 0.9 keeps the choice as it was.

    Args:
        scores: group → ``[C]`` scores (higher = more important).
        ratio: the share of all channels removed, in [0, 1).
        max_pruning_ratio: the largest share of one group's channels that may be removed, in (0, 1].

    Returns:
        group → removed root indices, sorted. Fewer than ``round(ratio · total)`` are removed when the caps
        do not leave enough channels.
    """
    if not (0 < float(max_pruning_ratio) <= 1):
        raise PlanError(f"max_pruning_ratio must be in (0, 1], not {max_pruning_ratio!r}")
    sizes = {name: s.numel() for name, s in scores.items()}
    total = sum(sizes.values())
    target = count_to_prune(total, ratio) if total else 0
    limits = {name: min(math.floor(max_pruning_ratio * n), n - 1) for name, n in sizes.items()}
    pool = []
    for name, s in scores.items():
        norm = float(torch.linalg.vector_norm(s.double()))
        normalised = s.double() / norm if norm > 0 else s.double()
        pool.extend((float(v), name, i) for i, v in enumerate(normalised))
    pool.sort()
    chosen: dict[str, list[int]] = {name: [] for name in scores}
    removed = 0
    for _, name, index in pool:
        if removed >= target:
            break
        if len(chosen[name]) < limits[name]:
            chosen[name].append(index)
            removed += 1
    return {name: tuple(sorted(idxs)) for name, idxs in chosen.items()}


def validate_indices(group: str, num_channels: int, pruned: Sequence[int]) -> tuple[int, ...]:
    """Check hand-given indices: in range, and not every channel."""
    unique = sorted({int(i) for i in pruned})
    bad = [i for i in unique if i < 0 or i >= num_channels]
    if bad:
        raise PlanError(
            f"{group} has {num_channels} channels; indices {bad} are out of range",
            code="plan.out_of_range",
            values={"group": group, "channels": num_channels, "indices": ", ".join(map(str, bad))},
        )
    if len(unique) >= num_channels:
        raise PlanError(
            f"the plan removes all {num_channels} channels of {group}; at least one must be kept",
            code="plan.removes_all",
            values={"group": group, "channels": num_channels},
        )
    return tuple(unique)
