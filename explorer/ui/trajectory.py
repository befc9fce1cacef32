"""``Trajectory``: every plan evaluated so far, as points of accuracy against MACs (plot d).

A point is keyed by its plan *and* by the weights it was evaluated on: after a fine-tuning the same plan is a
new point (a star in the plot), joined to the point of that plan before.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Pruned = Mapping[str, Sequence[int]]


def plan_key(pruned: Pruned) -> str:
    """A plan's identity: the sorted removed channels of each group that loses some."""
    return json.dumps({g: sorted(int(i) for i in idxs) for g, idxs in sorted(pruned.items()) if idxs})


class Trajectory:
    """The points of the evaluated plans; the newest one is the current plan.

    Args:
        publish: sets the state's ``trajectory`` trait (a list of point dicts, see ``ExplorerState``).
    """

    def __init__(self, publish: Callable[[list[dict[str, Any]]], None]):
        self._publish = publish
        self._lock = threading.RLock()
        self._points: list[dict[str, Any]] = []
        self._weights_version = 0  # fine-tunings adopted by the current session

    def key(self, pruned: Pruned) -> str:
        """The key of ``pruned`` on the current weights."""
        return f"w{self._weights_version}:{plan_key(pruned)}"

    def add(
        self,
        metrics: Mapping[str, Any],
        pruned: Pruned,
        *,
        kind: str | None = None,
        before: float | None = None,
        steps: int | None = None,
    ) -> None:
        """Add (or move to the end, as the current plan) the point of ``pruned`` on the current weights.

        A point keeps its ``kind`` (and ``before``) when the same plan on the same weights is evaluated again.

        Args:
            metrics: at least ``macs``, ``params`` and ``accuracy``.
            pruned: the plan (group → removed channels).
            kind: ``"plan"`` (default) or ``"finetuned"``, the plan right after a fine-tuning.
            before: for ``"finetuned"``, the plan's accuracy before the fine-tuning.
            steps: for ``"finetuned"``, the training steps.
        """
        with self._lock:
            key = self.key(pruned)
            old = next((p for p in self._points if p["key"] == key), None)
            points = [dict(p, current=False) for p in self._points if p["key"] != key]
            removed = sum(len(v) for v in pruned.values())
            label = "original" if not removed else f"{removed} channel(s) pruned"
            kind = kind or (old["kind"] if old else "plan")
            if kind == "finetuned":
                steps = steps if steps is not None else (old or {}).get("steps")
                label += f", after fine-tuning ({steps} steps)" if steps else ", after fine-tuning"
            elif self._weights_version:
                label += ", fine-tuned weights"
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
        self, cost: Mapping[str, int], pruned: Pruned, before: float, after: float, steps: int
    ) -> None:
        """A fine-tuning of plan ``pruned`` took its accuracy from ``before`` to ``after``: the plan's point
        on the old weights (added if it was never evaluated), then the new weights' point, joined to it."""
        with self._lock:
            if not any(p["key"] == self.key(pruned) for p in self._points):
                self.add({**cost, "accuracy": before}, pruned)
            self._weights_version += 1
            self.add({**cost, "accuracy": after}, pruned, kind="finetuned", before=before, steps=steps)

    def clear(self) -> None:
        """No point, original weights (a new session)."""
        with self._lock:
            self._points = []
            self._weights_version = 0
            self._publish([])


__all__ = ["Trajectory", "plan_key"]
