"""Masked must equal exported: the checks that keep exploring (masks) and exporting (removal) in agreement.

Exploring zeroes channels with hooks; exporting removes them. Both must compute the same function, or every
number the explorer shows describes a network that export does not produce. ``refuse_mismatching_groups``
runs at session start and takes out every group whose masked outputs differ from its exported outputs
(found by bisection, so the common case costs one export); ``max_export_error`` measures a finished export.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from explorer.graph import GroupGraph, PruningGroup, export_pruned
from explorer.guard import BudgetExceeded, WorkBudget, guarded, out_of_memory
from explorer.masks import apply_masks, compute_layer_cuts

EXPORT_TOLERANCE = 1e-4
MISMATCH_REASON = "masking it does not reproduce removing it (checked on this model), so it is not offered"
BUDGET_REASON = (
    "the masked = exported check ran over its time or memory budget before reaching it, and an unchecked "
    "group is not offered"
)


def probe_plan(groups: Iterable[PruningGroup]) -> dict[str, tuple[int, ...]]:
    """Every third channel of each group: spread over the whole range, never all of a group."""
    return {g.name: tuple(range(0, g.num_channels - 1, 3)) for g in groups if g.num_channels > 1}


def probe_plans(groups: Sequence[PruningGroup]) -> list[dict[str, tuple[int, ...]]]:
    """The plans the start-up check tries, each on every group at once.

    A regular pattern alone misses ties it does not model: with every third unit pruned, units ``i`` and
    ``n + i`` of a concatenation of two ``n``-channel halves are pruned together whenever 3 divides ``n``.
    So the check also prunes a seeded random half (which splits almost any pair), the first half only (one
    part of a concatenation without the other) and all units but the last (which finds any layer a single
    kept unit would empty).
    """
    plans = [probe_plan(groups)]
    plans.append({g.name: _random_half(g) for g in groups})
    plans.append({g.name: tuple(range(g.num_channels // 2)) for g in groups})
    plans.append({g.name: tuple(range(g.num_channels - 1)) for g in groups})
    return [{k: v for k, v in plan.items() if v} for plan in plans]


def _random_half(group: PruningGroup) -> tuple[int, ...]:
    # seeded by the name, so that a group draws the same units whichever others it is checked with
    chosen = random.Random(group.name).sample(range(group.num_channels), group.num_channels // 2)
    return tuple(sorted(chosen))


def _agrees(
    model: nn.Module, graph: GroupGraph, x: torch.Tensor, pruned: dict, lock: threading.RLock
) -> bool:
    if not pruned:
        return True
    try:
        with lock:
            exported = export_pruned(model, x, pruned, graph)
        with torch.no_grad(), lock:
            want = exported(x)
            with apply_masks(model, compute_layer_cuts(graph, pruned)):
                got = model(x)
    except BudgetExceeded:
        raise
    except Exception as error:
        if out_of_memory(error):
            raise  # the guard reports it; it says nothing about this group
        return False
    # equal_nan: a model with NaN weights is refused later, by the criteria, with the layers named
    return got.shape == want.shape and bool(
        torch.allclose(got, want, atol=EXPORT_TOLERANCE, rtol=1e-4, equal_nan=True)
    )


def masked_equals_exported(
    model: nn.Module,
    graph: GroupGraph,
    x: torch.Tensor,
    groups: Sequence[PruningGroup],
    lock: threading.RLock,
) -> bool:
    """True when, for every probe plan of ``groups``, masking gives the exported model's outputs on ``x``
    (and export succeeds: no layer is emptied, no grouped conv cut unevenly)."""
    return all(_agrees(model, graph, x, pruned, lock) for pruned in probe_plans(list(groups)))


def find_mismatching(
    groups: list[PruningGroup], agree: Callable[[Sequence[PruningGroup]], bool]
) -> list[PruningGroup]:
    """The groups for which ``agree`` fails, by bisection (one call when all of them agree)."""
    if not groups or agree(groups):
        return []
    if len(groups) == 1:
        return groups
    half = len(groups) // 2
    return find_mismatching(groups[:half], agree) + find_mismatching(groups[half:], agree)


def refuse_mismatching_groups(
    model: nn.Module,
    graph: GroupGraph,
    x: torch.Tensor,
    lock: threading.RLock,
    budget: WorkBudget | None = None,
) -> list[PruningGroup]:
    """Mark every offered group whose masked outputs differ from its exported ones as refused, with a
    reason; returns them.

    Under ``budget`` (see ``explorer.guard``): when the check goes over it, every group it had not yet
    confirmed is refused too (an unchecked group is never offered), and ``BudgetExceeded`` is raised after
    the groups are marked, for the caller to report.
    """
    confirmed: set[str] = set()

    def agree(groups: Sequence[PruningGroup]) -> bool:
        same = masked_equals_exported(model, graph, x, groups, lock)
        if same:
            confirmed.update(g.name for g in groups)
        return same

    offered = list(graph.prunable)
    try:
        with guarded("the masked = exported check", budget):
            bad = find_mismatching(offered, agree)
    except BudgetExceeded:
        for group in offered:
            if group.name not in confirmed:
                group.prunable = False
                group.reason = BUDGET_REASON
        raise
    for group in bad:
        group.prunable = False
        group.reason = MISMATCH_REASON
    return bad


def check_offered_groups(
    model: nn.Module,
    graph: GroupGraph,
    x: torch.Tensor,
    lock: threading.RLock,
    budget: WorkBudget | None = None,
    *,
    verify: bool = True,
) -> list[str]:
    """Session start: refuse the offered groups whose masked outputs differ from their exported ones (and,
    over ``budget``, those left unchecked); returns the warnings to show."""
    broken = [n for n, t in model.state_dict().items() if t.is_floating_point() and not t.isfinite().all()]
    if broken:
        # 0 · NaN is NaN: masking can never match removal here, so the check would refuse every group for a
        # misleading reason; the criteria refuse such weights with the layers named instead
        return [f"non-finite weights (NaN or Inf) in {', '.join(broken)}"]
    if not (verify and graph.exportable):
        return []
    warnings = []
    try:
        bad = refuse_mismatching_groups(model, graph, x, lock, budget)
    except BudgetExceeded as error:
        bad = [g for g in graph.groups if g.reason == BUDGET_REASON]
        warnings.append(f"{error}: {len(bad)} unchecked group(s) are not offered")
    if bad:
        warnings.append(f"{len(bad)} group(s) left out after the masked = exported check")
    return warnings


def max_export_error(
    masked: Callable[[torch.Tensor], torch.Tensor],
    exported: nn.Module,
    inputs: torch.Tensor,
    batch: int = 250,
) -> float:
    """Max |masked − exported| over ``inputs``, in batches."""
    worst = 0.0
    for start in range(0, inputs.shape[0], batch):
        x = inputs[start : start + batch]
        with torch.no_grad():
            worst = max(worst, float((masked(x) - exported(x)).abs().max()))
    return worst


__all__ = [
    "BUDGET_REASON",
    "EXPORT_TOLERANCE",
    "check_offered_groups",
    "find_mismatching",
    "masked_equals_exported",
    "max_export_error",
    "probe_plan",
    "probe_plans",
    "refuse_mismatching_groups",
]
