"""``Trajectory``: every plan evaluated so far, as points of accuracy against MACs (plot d).

A point is keyed by its plan *and* by the weights it was evaluated on: after a fine-tuning the same plan is a
new point (a star in the plot), joined to the point of that plan before.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from explorer.ui.i18n import Translator

Pruned = Mapping[str, Sequence[int]]
#: The label of the original weights (``session.weights.label``).
ORIGINAL = "original"
#: The most points kept (the newest): every point is sent to the page at each plan change, so a long class
#: session of slider moves must not grow it without end.
MAX_POINTS = 500


def plan_key(pruned: Pruned) -> str:
    """A plan's identity: the sorted removed channels of each group that loses some."""
    return json.dumps({g: sorted(int(i) for i in idxs) for g, idxs in sorted(pruned.items()) if idxs})


class Trajectory:
    """The points of the evaluated plans; the newest one is the current plan.

    Args:
        publish: sets the state's ``trajectory`` trait (a list of point dicts, see ``ExplorerState``).
        weights: the label of the live weights (``session.weights.label``; ``"original"`` for the original).
        text: ``t(key, **values)``, the app's words (the points' labels).
    """

    def __init__(
        self,
        publish: Callable[[list[dict[str, Any]]], None],
        weights: Callable[[], str] = lambda: ORIGINAL,
        text: Callable[..., str] | None = None,
    ):
        self._publish = publish
        self._t = text or Translator()
        self._weights = weights
        self._lock = threading.RLock()
        self._points: list[dict[str, Any]] = []

    def key(self, pruned: Pruned, weights: str | None = None) -> str:
        """The key of ``pruned`` on ``weights`` (default: the live weights)."""
        return f"{self._weights() if weights is None else weights}:{plan_key(pruned)}"

    def add(
        self,
        metrics: Mapping[str, Any],
        pruned: Pruned,
        *,
        kind: str | None = None,
        before: float | None = None,
        steps: int | None = None,
        weights: str | None = None,
    ) -> None:
        """Add (or move to the end, as the current plan) the point of ``pruned`` on the current weights.

        A point keeps its ``kind`` (and ``before``) when the same plan on the same weights is evaluated again.

        Args:
            metrics: at least ``macs``, ``params`` and ``accuracy``.
            pruned: the plan (group → removed channels).
            kind: ``"plan"`` (default) or ``"finetuned"``, the plan right after a fine-tuning.
            before: for ``"finetuned"``, the plan's accuracy before the fine-tuning.
            steps: for ``"finetuned"``, the training steps.
            weights: the weights it was evaluated on (default: the live weights).
        """
        with self._lock:
            weights = self._weights() if weights is None else weights
            key = self.key(pruned, weights)
            old = next((p for p in self._points if p["key"] == key), None)
            points = [dict(p, current=False) for p in self._points if p["key"] != key][-(MAX_POINTS - 1) :]
            removed = sum(len(v) for v in pruned.values())
            t = self._t
            label = t("trajectory.pruned", count=removed) if removed else t("trajectory.original")
            kind = kind or (old["kind"] if old else "plan")
            if kind == "finetuned":
                steps = steps if steps is not None else (old or {}).get("steps")
                label += t("trajectory.after_steps", steps=steps) if steps else t("trajectory.after")
            elif weights != ORIGINAL:
                label += t("trajectory.finetuned_weights")
            points.append(
                {
                    "macs": metrics["macs"],
                    "params": metrics["params"],
                    "accuracy": metrics["accuracy"],
                    "key": key,
                    "label": label,
                    "step": len(points),
                    "current": True,
                    "kind": kind,
                    "before": before if before is not None else (old or {}).get("before"),
                    "steps": steps,
                }
            )
            self._points = points
            self._publish(points)

    def add_finetuned(
        self, cost: Mapping[str, int], pruned: Pruned, before: float, after: float, steps: int, old: str
    ) -> None:
        """A fine-tuning of plan ``pruned`` took its accuracy from ``before`` to ``after``: the plan's point
        on the ``old`` weights (added if it was never evaluated), then the new weights' point, joined to
        it."""
        with self._lock:
            if not any(p["key"] == self.key(pruned, old) for p in self._points):
                self.add({**cost, "accuracy": before}, pruned, weights=old)
            self.add({**cost, "accuracy": after}, pruned, kind="finetuned", before=before, steps=steps)

    def clear(self) -> None:
        """No point, original weights (a new session)."""
        with self._lock:
            self._points = []
            self._publish([])


__all__ = ["MAX_POINTS", "Trajectory", "plan_key"]
