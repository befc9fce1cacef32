"""``Metrics``: what the explorer reports for a plan: accuracy and loss with their interval, MACs, params."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.cost import Cost
from explorer.evaluation import Estimate


@dataclass(frozen=True)
class Metrics:
    """Metrics of the pruned network on the validation subset.

    Attributes:
        accuracy, top5: fractions in [0, 1] (``top5`` is ``None`` with fewer than 5 classes).
        loss: mean cross-entropy.
        accuracy_ci: half-width of the 95 % interval (0 once every sample is evaluated).
        macs, params: of the pruned network, per sample.
        seen, total: samples evaluated so far, and in the subset.
        device: where the evaluation ran (``"cpu"``, ``"cuda:0"``).
    """

    accuracy: float
    top5: float | None
    loss: float
    accuracy_ci: float
    macs: int
    params: int
    seen: int
    total: int
    device: str = "cpu"

    @property
    def final(self) -> bool:
        return self.seen == self.total

    @classmethod
    def of(cls, estimate: Estimate, cost: Cost, device: str = "cpu") -> Metrics:
        """An evaluation's estimate together with the plan's analytic cost, computed on ``device``."""
        return cls(
            accuracy=estimate.accuracy,
            top5=estimate.top5,
            loss=estimate.loss,
            accuracy_ci=estimate.accuracy_ci,
            macs=cost.macs,
            params=cost.params,
            seen=estimate.seen,
            total=estimate.total,
            device=device,
        )


__all__ = ["Metrics"]
