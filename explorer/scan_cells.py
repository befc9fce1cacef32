"""One cell of a sensitivity scan (Li et al. 2017): a group pruned alone at one ratio, evaluated, as a row.

Shared by the in-process scan (``explorer.sensitivity``) and the Ray executor (``explorer.ray_scan``), so
both compute each cell the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.cost import Cost
from explorer.evaluation import Estimate, EvaluationCancelled, Evaluator
from explorer.masks import LayerCuts


@dataclass(frozen=True)
class Cell:
    """One (group, ratio) evaluation of a scan: only that group pruned, its lowest-scoring channels."""

    group: str
    ratio: float
    pruned: tuple[int, ...]


def evaluate_cell(
    evaluator: Evaluator,
    cuts: LayerCuts,
    *,
    tolerance: float | None = None,
    use_cache: bool = True,
    should_stop: Callable[[], bool] | None = None,
) -> Estimate:
    """The estimate of one cell: exact, or, with ``tolerance``, the first whose 95 % interval half-width
    (in accuracy, a fraction) is at most ``tolerance`` (progressive estimates make this free)."""
    estimate = None
    for estimate in evaluator.iter_estimates(cuts, use_cache=use_cache, should_stop=should_stop):
        if tolerance is not None and estimate.accuracy_ci <= tolerance:
            break
    if estimate is None:
        raise EvaluationCancelled
    return estimate


def row_of(cell: Cell, estimate: Estimate, cost: Cost) -> dict:
    """A table row: the cell, its accuracy and loss, its cost, and how many samples were evaluated."""
    return {
        "group": cell.group,
        "ratio": float(cell.ratio),
        "accuracy": estimate.accuracy,
        "loss": estimate.loss,
        "macs": cost.macs,
        "params": cost.params,
        "samples": estimate.seen,
    }


__all__ = ["Cell", "evaluate_cell", "row_of"]
