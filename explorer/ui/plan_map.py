"""``PlanMap``: the map of every plan evaluated: where each came from, the reference plans, restore, files.

The points themselves are the :class:`~explorer.ui.trajectory.Trajectory`'s (``state.trajectory``). This
part gives them their provenance and adds what the map draws around them:

* **provenance**: when a plan changes (on the worker), the name of the job that changed it and the groups
  it touched say where it came from (a slider, the global slider, a filter click, a suggestion, undo...);
  when its exact metrics arrive, the plan is recorded in ``session.provenance`` and its point annotated;
* **restore**: clicking a point goes back to that plan with the weights it ran on, through the session's
  plan history (``session.restore``); a plan the history no longer holds, or one of a reloaded file, is
  applied again on the live weights;
* **references**: uniform ratios, the global threshold, random scores, and Li et al.'s plan once a scan
  exists (``session.views.reference_plans``), evaluated once per criterion and weights, one plan per worker
  job, so that a slider move waits for at most one of them;
* **files**: the whole history saves to JSON (``session.provenance.save``) and reloads, its plans
  becoming points of the map.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from traitlets import Dict, HasTraits, List

from explorer.ui.trajectory import Trajectory, provenance_of
from explorer.ui.worker import Worker

#: Plan numbers whose source is remembered (the newest; older plans are recorded long before).
_SOURCES_KEPT = 64
#: Worker job names → the source recorded for a plan they make (``apply`` and ``plan`` are refined).
_SOURCES = {
    "toggle": "filter",
    "undo": "undo",
    "redo": "redo",
    "reset": "reset",
    "criterion": "criterion",
    "finetune": "finetune",
    "reconstruct": "reconstruct",
    "restore": "map",
    "precision": "precision",
}


def describe_source(job: str, before: Mapping[str, Any], after: Mapping[str, Any], global_moved: bool) -> str:
    """Where a plan came from, as ``kind`` or ``kind:detail`` (``session.provenance``'s ``source``).

    Args:
        job: the worker job that made the plan (``Worker.current``).
        before, after: the previous and the new plan's ``groups`` (``session.plan["groups"]``).
        global_moved: the global slider moved since the previous plan change.
    """
    if job == "apply":
        moved = sorted(
            g
            for g in set(before) | set(after)
            if before.get(g, {}).get("ratio", 0.0) != after.get(g, {}).get("ratio", 0.0)
        )
        if global_moved:
            return "global"
        return f"slider:{moved[0]}" if len(moved) == 1 else "sliders:" + ",".join(moved)
    if job == "toggle":
        changed = [g for g in after if before.get(g, {}).get("pruned") != after[g].get("pruned")]
        return "filter:" + ",".join(changed)
    return _SOURCES.get(job, job or "other")


class PlanMap(HasTraits):
    """Provenance, restore, references and files of the map of plans.

    Args:
        session: the session explored now.
        criterion: the active criterion (the references rank with it).
        plan_changed: publish the session's new plan and evaluate it.
        scan: the last sensitivity scan, as plain data (``jobs.sensitivity``; ``{}`` without one).
        suggestion: the kind of the last suggestion applied (``jobs.suggestion["kind"]``).
        worker: runs everything that reads the session.
        trajectory: the map's points.
        show_error: a message for the red box.
        text: ``t(key, **values)``, the app's words.
    """

    references = List(help="[{kind, criterion, setting, accuracy, macs, params}] of the active criterion")
    selected = Dict(help="the point clicked last (its provenance) and how it was restored")
    file = Dict(help="the last save or load of the history: {action, path, count}")

    def __init__(
        self,
        *,
        session: Callable[[], Any],
        criterion: Callable[[], str],
        plan_changed: Callable[[], None],
        scan: Callable[[], Mapping[str, Any]],
        suggestion: Callable[[], str],
        worker: Worker,
        trajectory: Trajectory,
        show_error: Callable[[str], None],
        text: Callable[..., str],
    ):
        super().__init__()
        self._session, self._criterion, self._plan_changed = session, criterion, plan_changed
        self._scan, self._suggestion, self._show_error, self._t = scan, suggestion, show_error, text
        self._worker, self._trajectory = worker, trajectory
        self._sources: dict[int, str] = {}
        self._groups: dict[str, Any] = {}
        self._done: dict[tuple, dict[str, Any]] = {}  # (kind, criterion, weights, setting) → evaluated
        self._round = 0  # a new round of references makes the older rounds' jobs stop
        self._global_moved = False
        self.wanted = False  # a view draws the references: compute them

    # ====================================================================================== provenance
    def plan_changed(self) -> None:
        """On the worker, when the plan number changed: remember where the new plan came from."""
        session = self._session()
        groups = session.plan["groups"]
        moved, self._global_moved = self._global_moved, False
        source = describe_source(self._worker.current, self._groups, groups, moved)
        if source == "plan":
            source = f"suggestion:{self._suggestion()}"
        self._groups = groups
        self._sources[session.plan_number] = source
        while len(self._sources) > _SOURCES_KEPT:
            self._sources.pop(next(iter(self._sources)))

    def global_moved(self) -> None:
        """The global slider moved (or was shown a value): the next plan change says so."""
        self._global_moved = True

    def record(self, published: Mapping[str, Any]) -> None:
        """On the worker: the exact metrics of a plan arrived; record it (if it is still the session's)."""
        session = self._session()
        if session is None or published.get("generation") != session.generation:
            return  # a newer plan is on its way
        number = session.plan_number
        source = self._sources.get(number, "original" if number == 0 else "other")
        record = session.record_plan(source, published)
        self._trajectory.annotate(session.pruned, provenance_of(record))

    # ========================================================================================= restore
    def restore(self, index: int) -> None:
        """Go back to the plan of point ``index`` (of ``state.trajectory``) and the weights it ran on."""
        point = self._trajectory.point(int(index))
        if point is None or "plan" not in point:
            return

        def restore(session: Any) -> None:
            restored = not point.get("loaded") and session.restore(point["plan_number"])
            if not restored:
                session.apply_plan(point["plan"])
            self.selected = {
                **{k: point[k] for k in ("key", "plan_number", "source", "detail", "criteria", "weights")},
                "accuracy": point["accuracy"],
                "macs": point["macs"],
                "through_history": bool(restored),
                "weights_now": session.weights.label,
            }

        self._worker.submit("restore", lambda: self._run(restore))

    def _run(self, change: Callable[[Any], None]) -> None:
        change(self._session())
        self._plan_changed()

    # ====================================================================================== references
    def request_references(self) -> None:
        """Compute (once per criterion and weights) the reference plans, one worker job per plan."""
        if not self.wanted or self._session() is None:
            return
        self._round += 1
        self._worker.submit("references", lambda r=self._round: self._plan_references(r))

    def _plan_references(self, round_: int) -> None:
        session, criterion = self._session(), self._criterion()
        weights = session.weights.label
        plans = session.views.reference_plans(criterion, self._fresh_scan())
        todo = [p for p in plans if (p["kind"], p["criterion"], weights, p["setting"]) not in self._done]
        self._publish_references(criterion, weights)
        self._next_reference(round_, todo, weights)

    def _next_reference(self, round_: int, todo: list[dict[str, Any]], weights: str) -> None:
        if round_ != self._round or not todo:
            return
        session = self._session()
        if session is None or session.weights.label != weights:
            return  # other weights: a new round follows
        plan = todo[0]
        numbers = session.views.evaluate_reference(plan["pruned"])
        key = (plan["kind"], plan["criterion"], weights, plan["setting"])
        self._done[key] = {k: plan[k] for k in ("kind", "criterion", "setting")} | numbers
        self._publish_references(self._criterion(), weights)
        rest = todo[1:]
        if rest:  # queued behind whatever the user asked meanwhile
            self._worker.submit("references", lambda: self._next_reference(round_, rest, weights))

    def _fresh_scan(self) -> dict[str, Any] | None:
        scan = self._scan()
        return dict(scan) if scan and not scan.get("stale") else None

    def _publish_references(self, criterion: str, weights: str) -> None:
        scan = self._fresh_scan()
        li = scan["criterion"] if scan else None
        self.references = [
            dict(r)
            for (kind, crit, w, _), r in self._done.items()
            if w == weights and (crit == criterion or kind == "random" or (kind == "li" and crit == li))
        ]

    # =========================================================================================== files
    def save(self, path: str | Path) -> None:
        """Write the history of plans (``session.provenance``) to ``path`` as JSON."""
        target = self._path(path)
        if target is not None:
            self._worker.submit("save history", lambda: self._save(target))

    def _save(self, target: Path) -> None:
        session = self._session()
        session.provenance.save(target)
        self.file = {"action": "saved", "path": str(target), "count": len(session.provenance.records())}

    def load(self, path: str | Path) -> None:
        """Reload a saved history: its records join ``session.provenance`` and its plans the map."""
        target = self._path(path)
        if target is not None:
            self._worker.submit("load history", lambda: self._load(target))

    def _load(self, target: Path) -> None:
        records = self._session().provenance.load(target)
        added = self._trajectory.add_loaded(records)
        self.file = {"action": "loaded", "path": str(target), "count": len(records), "added": added}

    def _path(self, path: str | Path) -> Path | None:
        text = str(path).strip()
        if not text:
            self._show_error(self._t("map.no_file"))
            return None
        target = Path(text).expanduser()
        return target if target.is_absolute() else Path.cwd() / target

    def reset(self) -> None:
        """Forget everything (a new session)."""
        self._round += 1
        self._sources, self._groups, self._done = {}, {}, {}
        self.references, self.selected, self.file = [], {}, {}


__all__ = ["PlanMap", "describe_source"]
