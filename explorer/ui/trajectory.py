"""``Trajectory``: every plan evaluated so far, as points of accuracy against MACs (the map of plans, plot d).

A point is keyed by its plan *and* by the weights it was evaluated on: after a fine-tuning (or a
reconstruction) the same plan is a new point (a star, or a diamond), joined to the point of that plan before.
Each point carries its provenance once the explorer has recorded it (:meth:`Trajectory.annotate`): the plan's
number, where it came from (a slider, a suggestion...), its criteria, its weights and the plan itself, so
that clicking it can restore it. Points of a reloaded history come in with :meth:`Trajectory.add_loaded`.

Memory stays bounded: at most ``MAX_POINTS`` points are kept (the oldest go first, never the current plan);
at 300 points of a ResNet-20 plan (a few KB each) the map holds about 1 MB. Each point says whether it is on
the Pareto front (no other point has at least its accuracy with fewer MACs, or more accuracy with as few).
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
#: The most points the map keeps (the oldest are dropped first, never the current one).
MAX_POINTS = 300
#: Point kinds: a plan, the plan right after a fine-tuning or a reconstruction, a plan of a reloaded history.
KINDS = ("plan", "finetuned", "reconstructed", "loaded")


def mark_pareto(points: list[dict[str, Any]]) -> None:
    """Set ``pareto`` on each point: True when no other point is at least as accurate with fewer MACs, or
    more accurate with as few (ties keep the first)."""
    best = -1.0
    for p in sorted(points, key=lambda p: (p["macs"], -p["accuracy"])):
        p["pareto"] = p["accuracy"] > best
        best = max(best, p["accuracy"])


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
        self._notes: dict[str, dict[str, Any]] = {}  # point key → its provenance (see annotate)

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
        start: str | None = None,
    ) -> None:
        """Add (or move to the end, as the current plan) the point of ``pruned`` on the current weights.

        A point keeps its ``kind`` (and ``before``) when the same plan on the same weights is evaluated again.

        Args:
            metrics: at least ``macs``, ``params`` and ``accuracy``.
            pruned: the plan (group → removed channels).
            kind: ``"plan"`` (default), ``"finetuned"`` or ``"reconstructed"``, the plan right after a
                fine-tuning or a reconstruction.
            before: for those, the plan's accuracy before.
            steps: for ``"finetuned"``, the training steps.
            weights: the weights it was evaluated on (default: the live weights).
            start: for those, the weights the fine-tuning or reconstruction started from.
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
            elif kind == "reconstructed":
                label += t("map.after_reconstruction")
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
                    "start": start if start is not None else (old or {}).get("start"),
                    **self._notes.get(key, {}),
                }
            )
            self._keep(points)

    def annotate(self, pruned: Pruned, provenance: Mapping[str, Any], weights: str | None = None) -> None:
        """Attach ``provenance`` (``plan_number``, ``source``, ``criteria``, ``weights``, ``plan``...) to the
        point of ``pruned`` on ``weights``, now or when it is added. A point keeps where it first came
        from; a later visit only updates its plan number (the newest step of the history that holds it)."""
        with self._lock:
            key = self.key(pruned, weights)
            old = self._notes.get(key)
            note = dict(provenance) if old is None else {**old, "plan_number": provenance["plan_number"]}
            self._notes[key] = note
            if any(p["key"] == key for p in self._points):
                self._keep([dict(p, **note) if p["key"] == key else p for p in self._points])

    def add_loaded(self, records: Sequence[Mapping[str, Any]]) -> int:
        """Add the points of a reloaded history (``session.provenance`` records) that the map lacks; the
        current plan stays current. Returns how many were added."""
        with self._lock:
            points, known = list(self._points), {p["key"] for p in self._points}
            for record in records:
                pruned = {g: c["pruned"] for g, c in record["plan"]["groups"].items() if c["pruned"]}
                key = self.key(pruned, record["weights"])
                if key in known:
                    continue
                known.add(key)
                note = {**provenance_of(record), "loaded": True}
                self._notes.setdefault(key, note)
                removed = sum(len(v) for v in pruned.values())
                label = (
                    self._t("trajectory.pruned", count=removed) if removed else self._t("trajectory.original")
                )
                numbers = {n: record[n] for n in ("macs", "params", "accuracy")}
                points.insert(0, {**numbers, "key": key, "label": label, "step": 0, "current": False})
                points[0].update(kind="loaded", before=None, steps=None, **note)
            added = len(points) - len(self._points)
            self._keep(points)
            return added

    def point(self, index: int) -> dict[str, Any] | None:
        """The point at ``index`` of the published list (``None`` out of range)."""
        with self._lock:
            return dict(self._points[index]) if 0 <= index < len(self._points) else None

    def _keep(self, points: list[dict[str, Any]]) -> None:
        """Keep at most ``MAX_POINTS`` (the oldest non-current go first), mark the front, publish."""
        while len(points) > MAX_POINTS:
            oldest = next(i for i, p in enumerate(points) if not p["current"])
            self._notes.pop(points.pop(oldest)["key"], None)
        for step, p in enumerate(points):
            p["step"] = step
        mark_pareto(points)
        self._points = points
        self._publish(points)

    def add_finetuned(
        self,
        cost: Mapping[str, int],
        pruned: Pruned,
        before: float,
        after: float,
        steps: int,
        old: str,
        kind: str = "finetuned",
    ) -> None:
        """A fine-tuning (or, with ``kind="reconstructed"``, a reconstruction) of plan ``pruned`` took its
        accuracy from ``before`` to ``after``: the plan's point on the ``old`` weights (added if it was never
        evaluated), then the new weights' point, joined to it."""
        with self._lock:
            if not any(p["key"] == self.key(pruned, old) for p in self._points):
                self.add({**cost, "accuracy": before}, pruned, weights=old)
            self.add({**cost, "accuracy": after}, pruned, kind=kind, before=before, steps=steps, start=old)

    def clear(self) -> None:
        """No point, original weights (a new session)."""
        with self._lock:
            self._points = []
            self._notes = {}
            self._publish([])


def provenance_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance a point shows, from the ``session.provenance`` record of its plan (its ``source`` is
    ``kind`` or ``kind:detail``, e.g. ``slider:features.3``)."""
    source = str(record["source"])
    kind, _, detail = source.partition(":")
    return {
        "plan_number": int(record["plan_number"]),
        "source": kind,
        "detail": detail,
        "criteria": list(record.get("criteria", [])),
        "weights": str(record["weights"]),
        "plan": record["plan"],
        "loaded": False,
    }


__all__ = ["KINDS", "MAX_POINTS", "Trajectory", "mark_pareto", "plan_key", "provenance_of"]
