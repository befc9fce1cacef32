"""``NetworkStatus``: which weights are live and in what precision the live metrics are computed.

The session keeps the original network as a fixed reference; fine-tuning makes a named weights state tied to
the plan it was trained under (``session.weights``). The page always says which one is live, and warns when
the current plan puts back channels those weights were trained without (``weights.fits``). The precision of
the live metrics (``"bf16"`` or ``"fp32"``) is shown too, because the baseline is measured in it.
"""

from __future__ import annotations

from typing import Any

from traitlets import Dict, HasTraits, Int, Unicode


def weights_dict(session: Any) -> dict[str, Any]:
    """The live weights of ``session`` as plain data: kind, label, plan number, steps, and whether the
    current plan removes every channel they were trained without."""
    weights = session.weights
    return {
        "kind": weights.kind,
        "label": weights.label,
        "is_original": bool(weights.is_original),
        "plan_number": weights.plan_number,
        "steps": int(weights.steps),
        "fits": bool(weights.fits(session.pruned)),
    }


class NetworkStatus(HasTraits):
    """The live weights and the precision of the live metrics, read from the session after every change."""

    weights = Dict(help="the live weights: {kind, label, is_original, plan_number, steps, fits}")
    precision = Unicode("", help="the precision of the live metrics and of the baseline: 'bf16' or 'fp32'")
    plan_number = Int(0, help="the current plan's number, #N in the page")

    def read(self, session: Any) -> None:
        """Publish what ``session`` has now (on any thread: called after each plan or weights change)."""
        self.weights = weights_dict(session)
        self.precision = str(session.precision)
        self.plan_number = int(session.plan_number)

    def clear(self) -> None:
        self.weights = {}
        self.precision = ""
        self.plan_number = 0


__all__ = ["NetworkStatus", "weights_dict"]
