"""``ExplorerState``: the explorer's model layer, a ``traitlets.HasTraits`` object with no widget in it.

Input traits (``criterion``, ``selected_group``, ``selected_filter``, ``ratios``, ``global_ratio``,
``compare``) are what the controls change; result traits (``metrics``, ``baseline``, ``cost``, ``scores``,
``layers``, ``trajectory``, ``why``, ``gallery``, ``latency``, ``error``, ``busy``/``progress``) are what the
views draw; the long jobs (sensitivity scan, plan suggestions, fine-tuning, comparisons, export, checkpoint
upload) and their traits come from :class:`~explorer.ui.jobs.JobsMixin`. Every call into the session runs off
the kernel's thread:

* slider moves are debounced: :meth:`ExplorerState.set_ratio` only records the newest value and restarts a
  short timer; when the sliders have been quiet for ``debounce`` seconds the *current* values are applied in
  one plan change (events are never counted: sliders send merged events);
* plan changes, scoring, latency measurement and the long jobs run one after the other on a single worker
  thread, so the kernel never blocks and two changes never race;
* evaluation runs through :class:`explorer.live.LiveEvaluator`: the newest plan wins, running estimates are
  published at most every ``PUBLISH_INTERVAL`` seconds, and the exact result always.

Tests drive the state by setting traits or calling the methods, then :meth:`ExplorerState.wait_idle`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from traitlets import Any as AnyTrait
from traitlets import Bool, Dict, Float, Int, List, Tuple, Unicode, observe

from explorer import criteria as _criteria
from explorer.errors import ExplorerError
from explorer.plan import count_to_prune, lowest
from explorer.ui.jobs import JobsMixin

log = logging.getLogger(__name__)

#: Seconds of slider quiet before the newest ratios are applied.
DEBOUNCE_SECONDS = 0.06
#: Minimum seconds between two published running (non-final) estimates.
PUBLISH_INTERVAL = 0.1
#: Criteria cheap enough to compute for every hover (no data needed).
CHEAP_NEEDS = ("none", "weights", "bn")
_TOLERANCE = 1e-9


@dataclass(eq=False)
class Gallery:
    """Tiled images of one group's filters and feature maps, ready for bokeh's ``image_rgba``.

    Attributes:
        group: the group (its root layer's name).
        weights: ``[H, W]`` uint32 RGBA, one tile per filter, rows bottom-up as bokeh draws them
            (``None`` when the root is not a convolution).
        maps: ``[H, W]`` uint32 RGBA, one tile per channel of the root's output for one validation image.
        tiles_x, tiles_y: centre of each channel's tile, in pixels of the tiled image.
        channel: the channel index of each tile.
        pruned: whether each channel is pruned in the current plan (its tiles are darkened).
        weight_tile, map_tile: the side of one tile in pixels.
        image_label: the class of the validation image whose feature maps are shown.
        rgb: whether the filters are drawn in colour (a first layer with 3 input channels).
    """

    group: str
    weights: np.ndarray | None
    maps: np.ndarray | None
    tiles_x: list[float] = field(default_factory=list)
    tiles_y: list[float] = field(default_factory=list)
    map_tiles_x: list[float] = field(default_factory=list)
    map_tiles_y: list[float] = field(default_factory=list)
    channel: list[int] = field(default_factory=list)
    pruned: list[bool] = field(default_factory=list)
    weight_tile: int = 0
    map_tile: int = 0
    image_label: str = ""
    rgb: bool = False


def describe_error(error: BaseException) -> str:
    """The user-facing message of an error: ``str(e)`` for the explorer's own, type and text otherwise."""
    if isinstance(error, ExplorerError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _plan_key(pruned: Mapping[str, Sequence[int]]) -> str:
    return json.dumps({g: sorted(int(i) for i in idxs) for g, idxs in sorted(pruned.items()) if idxs})


def _metrics_dict(metrics: Any, baseline: Mapping[str, Any] | None, generation: int) -> dict[str, Any]:
    out = {
        "accuracy": float(metrics.accuracy),
        "accuracy_ci": float(metrics.accuracy_ci),
        "top5": None if metrics.top5 is None else float(metrics.top5),
        "loss": float(metrics.loss),
        "macs": int(metrics.macs),
        "params": int(metrics.params),
        "seen": int(metrics.seen),
        "total": int(metrics.total),
        "final": bool(metrics.seen == metrics.total),
        "generation": int(generation),
    }
    if baseline:
        out["delta"] = out["accuracy"] - baseline["accuracy"]
        out["macs_fraction"] = out["macs"] / baseline["macs"] if baseline["macs"] else 1.0
        out["params_fraction"] = out["params"] / baseline["params"] if baseline["params"] else 1.0
    return out


class ExplorerState(JobsMixin):
    """Everything the explorer shows, and the actions that change it.

    Args:
        session: a ready ``PruningSession``; or call :meth:`attach` later (the app builds the session in a
            thread and shows "Loading model…" meanwhile).
        debounce: seconds of quiet before slider values are applied.
    """

    # ------------------------------------------------------------------------------------------ inputs
    criterion = Unicode("l1", help="the criterion that ranks channels")
    selected_group = Unicode("", help="the group inspected by the plots and the gallery")
    selected_filter = Int(-1, help="the channel explained by the 'why' panel (-1: the first to be pruned)")
    ratios = Dict(help="group → pruning ratio, as the sliders show it")
    global_ratio = Float(0.0, help="one ratio over all groups")
    compare = Tuple(Unicode(), Unicode(), default_value=("l1", "fpgm"), help="criteria of the scatter plot")

    # ----------------------------------------------------------------------------------------- results
    status = Unicode("loading", help="'loading', 'ready' or 'failed'")
    status_text = Unicode("Loading model…")
    criteria = List(help="[{name, title, url, formula, description, needs_data}] of every criterion")
    groups = List(help="[{name, num_channels, layers, coupled}] of every prunable group")
    summary = Dict(help="session.summary() plus the warnings")
    baseline = Dict(help="metrics of the unpruned model")
    metrics = Dict(help="metrics of the current plan: running while 'final' is False")
    cost = Dict(help="MACs and params of the current plan and of the original")
    pruned = Dict(help="group → sorted list of pruned channels")
    scores = Dict(help="per-channel table of the selected group (see _build_scores)")
    layers = Dict(help="per-group overview: channels kept, total, MACs and their share")
    trajectory = List(
        help="[{macs, accuracy, params, key, label, current, kind, before}] of every evaluated plan; kind is "
        "'plan', or 'finetuned' for the plan right after fine-tuning (before: its accuracy before)"
    )
    why = Dict(help="the active criterion's formula filled in for the selected filter")
    gallery = AnyTrait(None, allow_none=True, help="a Gallery of the selected group")
    latency = Dict(help="{pruned_ms, baseline_ms, speedup, generation} of the last measurement")
    error = Unicode("", help="the last error's message ('' when none)")
    busy = Bool(False, help="a long job (scoring, latency) is running")
    progress = Float(0.0, help="fraction done of the long job")
    progress_text = Unicode("")

    def __init__(self, session: Any = None, *, debounce: float = DEBOUNCE_SECONDS, **kwargs: Any):
        self.session: Any = None
        self.debounce = float(debounce)
        self._ready = False
        self._live: Any = None
        self._jobs: queue.Queue[tuple[str, Callable[[], None]]] = queue.Queue()
        self._cond = threading.Condition()
        self._outstanding = 0
        self._timer: threading.Timer | None = None
        self._dirty: set[str] = set()  # groups whose slider moved since the last apply
        # guards ratios + _dirty together: sliders write them on the kernel's thread, the worker reads them
        self._inputs = threading.RLock()
        self._global_pending = False
        self._publishing_global = False  # the state itself sets global_ratio: not a user request
        self._cancel = threading.Event()
        self._computed: set[str] = set()  # criteria scored on every group
        self._last_publish = 0.0
        self._failed_generation = -1
        self._probe_model: torch.nn.Module | None = None
        self._feature_maps: dict[str, np.ndarray] = {}
        self._baseline_latency: float | None = None
        self._init_jobs()
        super().__init__(**kwargs)
        self._worker = threading.Thread(target=self._work, name="pruning-explorer-ui", daemon=True)
        self._worker.start()
        if session is not None:
            self.attach(session)

    # ====================================================================================== lifecycle
    def attach(self, session: Any) -> None:
        """Start exploring ``session``: baseline, first scores, live evaluation. Blocks (a second or so)."""
        from explorer.live import LiveEvaluator

        self.session = session
        names = _criteria.list_criteria()
        self.criteria = [self._criterion_info(n) for n in names]
        criterion = self.criterion if self.criterion in names else session.criterion
        if criterion not in names:
            criterion = names[0]
        session.criterion = criterion
        self.groups = [
            {
                "name": g.name,
                "num_channels": g.num_channels,
                "layers": list(g.layers),
                "coupled": g.coupled_layers,
            }
            for g in session.groups
        ]
        summary = dict(session.summary())
        summary["warnings"] = list(session.warnings)
        summary["architecture"] = type(session.model).__name__
        summary["layers"] = sum(
            isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.Linear))
            for m in session.model.modules()
        )
        summary["refused_groups"] = {g.name: g.reason for g in session.all_groups if not g.prunable}
        base = session.baseline()
        self.baseline = _metrics_dict(base, None, session.generation)
        summary["baseline_accuracy"] = base.accuracy
        self.summary = summary
        if session.groups:
            session.group_scores(criterion)
            self._computed.add(criterion)
        second = next((n for n in names if n != criterion and self._is_cheap(n)), criterion)
        self.set_trait("criterion", criterion)
        self.scan_criterion = criterion
        self.compare = (criterion, second)
        self._live = LiveEvaluator(session, self._on_metrics, self._on_eval_error)
        self._add_trajectory_point(_metrics_dict(base, self.baseline, session.generation), {})
        if session.groups:
            self.set_trait("selected_group", session.groups[0].name)
        self._sync_plan()
        if session.pruned:  # a session that arrives with a plan: evaluate it
            self._live.request()
        else:
            self.metrics = _metrics_dict(base, self.baseline, session.generation)
        self._ready = True
        self.status_text = ""
        self.status = "ready"

    def fail(self, error: BaseException) -> None:
        """Record that the session could not be built (shown by the app instead of the explorer)."""
        self.report(error)
        self.status_text = ""
        self.status = "failed"

    def close(self) -> None:
        """Stop the worker threads (the state cannot be used afterwards)."""
        self._cancel_timer()
        self._cancel.set()
        if self._live is not None:
            self._live.close()
        self._jobs.put(("stop", lambda: None))

    # ======================================================================================== actions
    def set_ratio(self, group: str, ratio: float) -> None:
        """Ask to prune ``ratio`` of ``group``; applied after ``debounce`` s of quiet (newest value wins)."""
        ratio = float(ratio)
        with self._inputs:
            if abs(self.ratios.get(group, 0.0) - ratio) < _TOLERANCE and group not in self._dirty:
                return  # an echo of a value the state itself published
            self.ratios = {**self.ratios, group: ratio}
            self._dirty.add(group)
        self._schedule()

    def apply_global(self, ratio: float) -> None:
        """Ask for one ratio over every group (debounced like :meth:`set_ratio`; replaces the others)."""
        self._global_pending = True
        self._dirty.clear()
        self.set_trait("global_ratio", float(ratio))
        self._schedule()

    def toggle_filter(self, group: str, idx: int) -> None:
        """Prune channel ``idx`` of ``group`` if it is kept, restore it if it is pruned."""

        def job() -> None:
            self.session.toggle_channel(group, int(idx))
            if group == self.selected_group:
                self.set_trait("selected_filter", int(idx))
            self._plan_changed()

        self._flush_pending()
        self._submit("toggle", job)

    def undo(self) -> None:
        """Go back one plan change."""

        def job() -> None:
            if self.session.undo():
                self._plan_changed()

        self._flush_pending(drop=True)
        self._submit("undo", job)

    def reset(self) -> None:
        """Back to the unpruned network (undoable)."""

        def job() -> None:
            self.session.reset()
            self._publishing_global = True
            try:
                self.set_trait("global_ratio", 0.0)
            finally:
                self._publishing_global = False
            self._plan_changed()

        self._flush_pending(drop=True)
        self._submit("reset", job)

    def measure_latency(self) -> None:
        """Export the pruned model and time it against the original on one validation image (CPU)."""
        from explorer.session import measure_latency

        def job() -> None:
            self._set_busy(True, "Exporting and timing the pruned model…")
            try:
                generation = self.session.generation
                example = self.session.data.val.inputs[:1]
                exported = self.session.export()
                pruned_ms = measure_latency(exported, example)
                if self._baseline_latency is None:
                    self._baseline_latency = measure_latency(self._unpruned_copy(), example)
                base = self._baseline_latency
                self.latency = {
                    "pruned_ms": pruned_ms,
                    "baseline_ms": base,
                    "speedup": base / pruned_ms if pruned_ms > 0 else float("nan"),
                    "generation": generation,
                }
            finally:
                self._set_busy(False)

        self._submit("latency", job)

    def cancel(self) -> None:
        """Stop the running long job (scoring, scan, fine-tuning...) at its next checkpoint."""
        self._cancel.set()

    def clear_error(self) -> None:
        self.error = ""

    def report(self, error: BaseException) -> None:
        """Show ``error`` to the user, and log its traceback."""
        message = describe_error(error)
        if isinstance(error, ExplorerError):
            log.warning("pruning explorer: %s", message, exc_info=error)
        else:
            log.error("pruning explorer: unexpected error: %s", message, exc_info=error)
        self.error = message

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no debounce, job or evaluation is pending and the exact metrics are published.

        Returns:
            False when ``timeout`` seconds passed first.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                quiet = self._timer is None and self._outstanding == 0
            if quiet and self._settled():
                with self._cond:
                    if self._timer is None and self._outstanding == 0:
                        return True
            time.sleep(0.01)
        return False

    def _settled(self) -> bool:
        if not self._ready or self._live is None:
            return self.status != "loading"
        if not self._live.wait(0):
            return False
        generation = self.session.generation
        if self._failed_generation == generation:
            return True
        return self.metrics.get("generation") == generation and bool(self.metrics.get("final"))

    # ====================================================================================== observers
    @observe("criterion")
    def _criterion_changed(self, change: dict) -> None:
        if not self._ready:
            return
        old, new = change["old"], change["new"]
        self._flush_pending()
        self._submit("criterion", lambda: self._switch_criterion(old, new))

    @observe("global_ratio")
    def _global_changed(self, change: dict) -> None:
        # a slider linked to the trait: the same path as apply_global
        if self._ready and not self._global_pending and not self._publishing_global:
            self._global_pending = True
            self._dirty.clear()
            self._schedule()

    @observe("selected_group")
    def _group_changed(self, change: dict) -> None:
        if not self._ready:
            return
        self.set_trait("selected_filter", -1)
        self._submit("select", self._refresh_selection)

    @observe("selected_filter")
    def _filter_changed(self, change: dict) -> None:
        if self._ready:
            self._submit("why", self._refresh_why)

    @observe("compare")
    def _compare_changed(self, change: dict) -> None:
        if self._ready:
            self._submit("compare", self._refresh_selection)

    # ========================================================================================= worker
    def _submit(self, name: str, job: Callable[[], None]) -> None:
        with self._cond:
            self._outstanding += 1
        self._jobs.put((name, job))

    def _work(self) -> None:
        while True:
            name, job = self._jobs.get()
            if name == "stop":
                return
            try:
                if self.session is not None:
                    job()
            except Exception as error:  # shown in the app, never lost in a thread
                self.report(error)
                if self.session is not None:
                    self._sync_plan()
            finally:
                with self._cond:
                    self._outstanding -= 1
                    self._cond.notify_all()

    def _schedule(self) -> None:
        with self._cond:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce, self._on_quiet)
            self._timer.daemon = True
            self._timer.start()

    def _cancel_timer(self) -> None:
        with self._cond:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _on_quiet(self) -> None:
        with self._cond:
            self._timer = None
            self._outstanding += 1  # counted before the timer stops being pending
        self._jobs.put(("apply", self._apply_inputs))

    def _flush_pending(self, drop: bool = False) -> None:
        """Apply (or, with ``drop``, forget) slider moves still waiting for their debounce."""
        with self._cond:
            waiting = self._timer is not None
        if not waiting:
            return
        self._cancel_timer()
        if drop:
            self._dirty.clear()
            self._global_pending = False
        else:
            self._submit("apply", self._apply_inputs)

    def _apply_inputs(self) -> None:
        """Apply the *current* global ratio and slider values (whatever number of events led to them)."""
        session = self.session
        changed = False
        try:
            if self._global_pending:
                self._global_pending = False
                session.set_global_ratio(float(self.global_ratio), criterion=self.criterion)
                changed = True
            with self._inputs:
                dirty, self._dirty = self._dirty, set()
                current = dict(self.ratios)
            diff = {
                g: float(current[g])
                for g in sorted(dirty)
                if g in current and abs(float(current[g]) - session.ratio(g)) > _TOLERANCE
            }
            if diff:
                session.set_ratios(diff, criterion=self.criterion)
                changed = True
        finally:
            if changed:
                self._plan_changed()
            else:
                self._sync_plan()

    def _switch_criterion(self, old: str, new: str) -> None:
        session = self.session
        try:
            self._score_all(new)
        except _criteria.ScoringCancelled:
            self.set_trait("criterion", old)
            self.error = f"Scoring with {new} was cancelled; still ranking by {old}."
            return
        except Exception:
            self.set_trait("criterion", old)
            raise
        session.criterion = new
        x, y = self.compare
        if x == old:
            self.set_trait("compare", (new, y if y != new else old))
        groups = session.plan.get("groups", {})
        redo = {
            g: c["ratio"]
            for g, c in groups.items()
            if c["ratio"] > 0 and c["criterion"] not in ("manual", new)
        }
        if redo:
            session.set_ratios(redo, criterion=new)
            self._plan_changed()
        else:
            self._refresh_selection()

    def _score_all(self, criterion: str, groups: Sequence[str] | None = None) -> None:
        """Score ``criterion`` (cached by the session), with progress and cancellation for slow criteria."""
        if groups is None and criterion in self._computed:
            return
        if self._is_cheap(criterion):
            with contextlib.suppress(_criteria.CriterionNotApplicable):
                self.session.group_scores(criterion, groups)
            if groups is None:
                self._computed.add(criterion)
            return
        self._cancel.clear()
        self._set_busy(True, f"Scoring channels with {criterion}…")
        try:
            self.session.group_scores(
                criterion, groups, progress=self._on_progress, should_stop=self._cancel.is_set
            )
        finally:
            self._set_busy(False)
        if groups is None:
            self._computed.add(criterion)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress = done / total if total else 0.0

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.progress = 0.0
        self.progress_text = text
        self.busy = busy

    # ===================================================================================== evaluation
    def _on_metrics(self, metrics: Any, generation: int) -> None:
        session = self.session
        if generation != session.generation:
            return  # an older plan's estimate: the newest plan wins
        final = metrics.seen == metrics.total
        now = time.monotonic()
        if not final and now - self._last_publish < PUBLISH_INTERVAL:
            return
        self._last_publish = now
        published = _metrics_dict(metrics, self.baseline, generation)
        if final:
            self._on_final_metrics(published, generation)
        self.metrics = published
        if final:
            self._add_trajectory_point(published, session.pruned)

    def _on_eval_error(self, error: BaseException) -> None:
        self._failed_generation = self.session.generation
        self.report(error)

    def _add_trajectory_point(
        self,
        metrics: Mapping[str, Any],
        pruned: Mapping[str, Sequence[int]],
        *,
        kind: str | None = None,
        before: float | None = None,
        steps: int | None = None,
    ) -> None:
        """Add (or move to the end, as the current plan) the point of ``pruned`` on the current weights.

        A point keeps its ``kind`` (and ``before``) when the same plan on the same weights is evaluated again.
        """
        with self._trajectory_lock:
            key = self._trajectory_key(pruned)
            old = next((p for p in self.trajectory if p["key"] == key), None)
            points = [dict(p, current=False) for p in self.trajectory if p["key"] != key]
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
            self.trajectory = points

    # ======================================================================================== derived
    def _plan_changed(self) -> None:
        self.error = ""
        self._sync_plan()
        self._live.request()

    def _sync_plan(self) -> None:
        """Publish everything that follows from the plan alone (no evaluation)."""
        session = self.session
        if session is None or self._live is None:
            return
        pruned = session.pruned
        self.pruned = {g: list(v) for g, v in pruned.items()}
        with self._inputs:
            waiting = self._dirty  # slider moves not applied yet keep their value
            self.ratios = {
                g.name: self.ratios[g.name]
                if g.name in waiting and g.name in self.ratios
                else session.ratio(g.name)
                for g in session.groups
            }
        cost, base = session.cost(), session.baseline_cost()
        self.cost = {
            "macs": cost.macs,
            "params": cost.params,
            "base_macs": base.macs,
            "base_params": base.params,
            "macs_fraction": cost.macs / base.macs if base.macs else 1.0,
            "params_fraction": cost.params / base.params if base.params else 1.0,
        }
        self.layers = self._build_layers()
        self._refresh_selection()

    def _refresh_selection(self) -> None:
        group = self.selected_group
        if not group or self.session is None:
            return
        x, y = self.compare
        for name in {self.criterion, x, y}:
            self._score_all(name, None if name == self.criterion else [group])
        self.scores = self._build_scores(group)
        self._refresh_why()
        self.gallery = self._build_gallery(group)

    def _refresh_why(self) -> None:
        if self.selected_group and self.scores.get("group") == self.selected_group:
            self.why = self._build_why(self.selected_group)

    # ----------------------------------------------------------------------------------------- scores
    def _is_cheap(self, name: str) -> bool:
        return _criteria.get_criterion(name).needs in CHEAP_NEEDS

    @staticmethod
    def _criterion_info(name: str) -> dict[str, Any]:
        info = _criteria.get_criterion(name)
        return {
            "name": info.name,
            "title": info.title,
            "url": info.url,
            "formula": info.formula,
            "description": info.description,
            "needs_data": info.needs_data,
        }

    def _group_values(self, name: str, group: str) -> tuple[list[float], str]:
        """Scores of ``group`` under ``name`` if they are known or cheap; NaN (and why) otherwise."""
        size = self.session.group(group).num_channels
        if not (self._is_cheap(name) or name in self._computed or name in self.compare):
            return [math.nan] * size, "not computed yet: choose it to compute"
        try:
            return [float(v) for v in self.session.scores(name, groups=[group])[group]], ""
        except _criteria.CriterionNotApplicable as error:
            return [math.nan] * size, error.reasons.get(group, str(error))

    def _build_scores(self, group: str) -> dict[str, Any]:
        """The per-channel table of ``group`` (plots a and b)."""
        session = self.session
        size = session.group(group).num_channels
        values, notes = {}, {}
        for info in self.criteria:
            values[info["name"]], notes[info["name"]] = self._group_values(info["name"], group)
        active = values[self.criterion]
        order = sorted(range(size), key=lambda i: (active[i] if math.isfinite(active[i]) else -math.inf, i))
        pruned = set(session.pruned.get(group, ()))
        x, y = self.compare
        try:
            rho = _criteria.spearman(values[x], values[y])
        except ExplorerError:
            rho = math.nan
        return {
            "group": group,
            "criterion": self.criterion,
            "channel": list(range(size)),
            "order": order,
            "rank": [order.index(i) + 1 for i in range(size)],
            "values": values,
            "notes": notes,
            "pruned": [i in pruned for i in range(size)],
            "compare": [x, y],
            "rho": rho,
            "ratio": session.ratio(group),
        }

    def _build_layers(self) -> dict[str, Any]:
        """Plot (c): channels kept per group and each root layer's share of the current MACs."""
        session = self.session
        names = [g.name for g in session.groups]
        pruned = session.pruned
        total = [g.num_channels for g in session.groups]
        kept = [g.num_channels - len(pruned.get(g.name, ())) for g in session.groups]
        now, base = session.layer_macs(), session.layer_macs({})
        macs = [int(now.get(n, 0)) for n in names]
        base_macs = [int(base.get(n, 0)) for n in names]
        all_macs = session.cost().macs or 1
        all_base = session.baseline_cost().macs or 1
        return {
            "group": names,
            "kept": kept,
            "total": total,
            "kept_fraction": [k / t for k, t in zip(kept, total, strict=True)],
            "macs": macs,
            "macs_share": [m / all_macs for m in macs],
            "base_macs_share": [m / all_base for m in base_macs],
        }

    # -------------------------------------------------------------------------------------------- why
    def _build_why(self, group: str) -> dict[str, Any]:
        """The active criterion's formula with the selected filter's own numbers (panel f)."""
        session = self.session
        table = self.scores
        name = self.criterion
        info = _criteria.get_criterion(name)
        size = len(table["channel"])
        channel = self.selected_filter if 0 <= self.selected_filter < size else table["order"][0]
        scores = session.group_scores(name, groups=[group])[group]
        score = scores.score
        ratio = session.ratio(group)
        by_ratio = set(lowest(score, count_to_prune(size, ratio, group))) if ratio > 0 else set()
        module = session.model.get_submodule(group)
        weight = getattr(module, "weight", None)
        kind, terms, n_terms, layer_value = "value", [], 0, math.nan
        with torch.no_grad():
            if name in ("l1", "l2", "fpgm") and isinstance(weight, torch.Tensor):
                row = weight.detach()[channel].reshape(-1).double()
                if name == "l1":
                    kind, values = "sum_abs", row.abs()
                    layer_value = float(_criteria.l1_scores(weight)[channel])
                elif name == "l2":
                    kind, values = "sqrt_sum_sq", row.square()
                    layer_value = float(_criteria.l2_scores(weight)[channel])
                else:
                    flat = weight.detach().reshape(weight.shape[0], -1).double()
                    values = (flat - flat[channel]).norm(dim=1)
                    values = torch.cat([values[:channel], values[channel + 1 :]])
                    kind = "sum_dist"
                    layer_value = float(_criteria.fpgm_scores(weight)[channel])
                terms, n_terms = [float(v) for v in values[:6]], int(values.numel())
            elif name == "bn_scale":
                bn = next((m for m in scores.members if m != group), None)
                if bn is not None:
                    gamma = session.model.get_submodule(bn).weight.detach()[channel]
                    kind, terms, n_terms = "abs", [float(gamma)], 1
                    layer_value = float(_criteria.bn_scale_scores(gamma.reshape(1))[0])
        return {
            "group": group,
            "channel": channel,
            "criterion": name,
            "title": info.title,
            "url": info.url,
            "formula": info.formula,
            "description": info.description,
            "kind": kind,
            "terms": terms,
            "n_terms": n_terms,
            "layer_value": layer_value,
            "members": {m: float(v[channel]) for m, v in scores.members.items()},
            "reduction": scores.reduction,
            "score": float(score[channel]),
            "rank": table["rank"][channel],
            "count": size,
            "ratio": ratio,
            "pruned_by_ratio": channel in by_ratio,
            "pruned": channel in set(session.pruned.get(group, ())),
        }

    # ---------------------------------------------------------------------------------------- gallery
    def _unpruned_copy(self) -> torch.nn.Module:
        # a private copy: hooks on the session's model would also fire inside the evaluation thread
        if self._probe_model is None:
            self._probe_model = copy.deepcopy(self.session.model).eval()
        return self._probe_model

    def _maps_of(self, group: str) -> np.ndarray | None:
        """``[C, H, W]`` outputs of the group's root layer for the first validation image (unpruned)."""
        if group not in self._feature_maps:
            model = self._unpruned_copy()
            module = model.get_submodule(group)
            captured: list[torch.Tensor] = []
            handle = module.register_forward_hook(lambda _m, _i, out: captured.append(out.detach()))
            try:
                with torch.no_grad():
                    model(self.session.data.val.inputs[:1])
            finally:
                handle.remove()
            out = captured[0][0] if captured else None
            self._feature_maps[group] = out.float().numpy() if out is not None and out.dim() == 3 else None
        return self._feature_maps[group]

    def _build_gallery(self, group: str) -> Gallery:
        """Plot (e): the group's filters and feature maps as tiles, pruned channels darkened."""
        session = self.session
        size = session.group(group).num_channels
        pruned = set(session.pruned.get(group, ()))
        dark = [i in pruned for i in range(size)]
        weight = getattr(session.model.get_submodule(group), "weight", None)
        weights_rgb, rgb = None, False
        if isinstance(weight, torch.Tensor) and weight.dim() == 4:
            w = weight.detach().float().numpy()
            if w.shape[1] == 3:
                rgb = True
                lo = w.min(axis=(1, 2, 3), keepdims=True)
                hi = w.max(axis=(1, 2, 3), keepdims=True)
                weights_rgb = ((w - lo) / np.maximum(hi - lo, 1e-12)).transpose(0, 2, 3, 1)
            else:
                weights_rgb = _diverging(w.mean(axis=1))
        maps = self._maps_of(group)
        maps_rgb = _sequential(maps) if maps is not None else None
        labels = session.data.val.labels
        classes = session.data.classes
        label = classes[int(labels[0])] if len(classes) > int(labels[0]) else str(int(labels[0]))
        gallery = Gallery(
            group, None, None, channel=list(range(size)), pruned=dark, image_label=label, rgb=rgb
        )
        if weights_rgb is not None:
            gallery.weights, gallery.tiles_x, gallery.tiles_y, gallery.weight_tile = _tile(weights_rgb, dark)
        if maps_rgb is not None:
            gallery.maps, gallery.map_tiles_x, gallery.map_tiles_y, gallery.map_tile = _tile(maps_rgb, dark)
        return gallery


# ------------------------------------------------------------------------------------------ image helpers
def _diverging(values: np.ndarray) -> np.ndarray:
    """``[C, h, w]`` signed values → ``[C, h, w, 3]`` in [0, 1]: blue < 0 < red, white at 0 (per tile)."""
    scale = np.abs(values).max(axis=(1, 2), keepdims=True)
    v = values / np.maximum(scale, 1e-12)
    pos, neg = np.clip(v, 0, 1), np.clip(-v, 0, 1)
    return np.stack([1 - neg, 1 - pos - neg, 1 - pos], axis=-1).clip(0, 1)


def _sequential(values: np.ndarray) -> np.ndarray:
    """``[C, h, w]`` activations → ``[C, h, w, 3]``: dark blue (low) to yellow (high), per tile."""
    lo = values.min(axis=(1, 2), keepdims=True)
    hi = values.max(axis=(1, 2), keepdims=True)
    t = (values - lo) / np.maximum(hi - lo, 1e-12)
    return np.stack([t, 0.2 + 0.7 * t, 0.5 * (1 - t) + 0.1], axis=-1).clip(0, 1)


def _tile(images: np.ndarray, dark: Sequence[bool]) -> tuple[np.ndarray, list[float], list[float], int]:
    """``[C, h, w, 3]`` in [0, 1] → one RGBA uint32 image (bottom-up rows), tile centres and tile size.

    Pruned tiles are darkened and framed in red; the others are framed in light grey.
    """
    count, h, w = images.shape[:3]
    cols = max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / cols)
    side = max(h, w) + 2
    canvas = np.full((rows * side, cols * side, 4), 255, dtype=np.uint8)
    xs, ys = [], []
    for c in range(count):
        r, k = divmod(c, cols)
        top, left = r * side, k * side
        frame = (200, 40, 40) if dark[c] else (220, 220, 220)
        canvas[top : top + side, left : left + side, :3] = frame
        tile = images[c] * (0.2 if dark[c] else 1.0)
        canvas[top + 1 : top + 1 + h, left + 1 : left + 1 + w, :3] = (tile * 255).astype(np.uint8)
        xs.append(left + side / 2)
        ys.append(rows * side - (top + side / 2))
    flipped = np.ascontiguousarray(canvas[::-1])
    return flipped.view(dtype=np.uint32).reshape(flipped.shape[:2]), xs, ys, side


__all__ = ["DEBOUNCE_SECONDS", "ExplorerState", "Gallery", "describe_error"]
