"""``ExplorerState``: the explorer's model layer, a ``traitlets.HasTraits`` object with no widget in it.

Its input traits are what the controls change, its result traits what the views draw, and its observers
call the session on the ``worker``, one call after the other. It composes the rest, handing each part what
it needs: ``inputs`` (slider moves, debounce, echoes, toggles, undo), ``activity`` (progress, cancel),
``scorer``, ``live`` (the newest plan's evaluation), ``visited`` (the trajectory), ``jobs`` (scans,
suggestions, fine-tuning, export), ``analyses`` (who pays, reconstruction, training modes, dynamic
channels, and ``analyses.plans``, the map of plans) and ``loader`` (uploads, model switch). What it shows
comes from the session, read once per plan generation (``session.views.snapshot()``, laid out by
:mod:`explorer.ui.tables`) and from its view methods (``rank``, ``explain``, ``gallery``, ``latency``).
Tests set traits or call the methods, then :meth:`ExplorerState.wait_idle`.
"""

from __future__ import annotations

import logging
from typing import Any

from traitlets import dlink, observe

from explorer.criteria import ScoringCancelled, list_criteria
from explorer.errors import ExplorerError
from explorer.inspection import Gallery
from explorer.ui import tables
from explorer.ui.activity import Activity
from explorer.ui.analyses import attach_analyses
from explorer.ui.format import describe_error
from explorer.ui.i18n import Translator
from explorer.ui.jobs import JobHooks, LongJobs
from explorer.ui.live_metrics import LiveMetrics
from explorer.ui.loader import SessionLoader
from explorer.ui.network import NetworkStatus
from explorer.ui.plan_inputs import PlanInputs
from explorer.ui.scoring import Scorer
from explorer.ui.state_traits import ExplorerTraits
from explorer.ui.trajectory import Trajectory
from explorer.ui.worker import Worker, close_at_exit

log = logging.getLogger(__name__)

#: Seconds of slider quiet before the newest ratios are applied.
DEBOUNCE_SECONDS = 0.06


class ExplorerState(ExplorerTraits):
    """Everything the explorer shows, and the actions that change it.

    Args:
        session: a ready ``PruningSession``; or call :meth:`attach` later (the app builds the session in a
            thread and shows "Loading model…" meanwhile).
        debounce: seconds of quiet before slider values are applied.
    """

    def __init__(self, session: Any = None, *, debounce: float = DEBOUNCE_SECONDS, **kwargs: Any):
        self.session: Any = None
        self.live: LiveMetrics | None = None
        self._ready = False
        self.t = Translator(lambda: self.lang)  # t(key, **values): the app's words in its language
        self.activity = Activity(self.t)
        self.worker = Worker(self._job_failed, debounce=debounce, runnable=lambda: self.session is not None)
        self.inputs = PlanInputs(
            self.worker,
            session=lambda: self.session,
            criterion=lambda: self.criterion,
            global_ratio=lambda: self.global_ratio,
            publish_ratios=lambda ratios: setattr(self, "ratios", dict(ratios)),
            publish_global=lambda ratio: self.set_trait("global_ratio", ratio),
            changed=self._plan_changed,
            unchanged=self._sync_plan,
        )
        self.scorer = Scorer(self.activity, self.t)
        self.network = NetworkStatus()
        self.visited = Trajectory(
            lambda points: setattr(self, "trajectory", points),
            weights=lambda: self.session.weights.label if self.session is not None else "original",
            text=self.t,
        )
        hooks = JobHooks(
            session=lambda: self.session,
            criterion=lambda: self.criterion,
            use_criterion=lambda name: setattr(self, "criterion", name),
            show_error=lambda text: setattr(self, "error", text),
            plan_changed=self._plan_changed,
            weights_adopted=self.scorer.forget,
            text=self.t,
        )
        self.jobs = LongJobs(hooks, self.worker, self.activity, self.inputs, self.visited)
        self.analyses = attach_analyses(self, hooks)  # who pays, reconstruction, training modes, the map
        self.loader = SessionLoader(
            self.worker,
            self.activity,
            session=hooks.session,
            criterion=hooks.criterion,
            show_error=hooks.show_error,
            replace_session=self.replace_session,
            text=self.t,
        )
        super().__init__(**kwargs)
        dlink((self, "criterion"), (self.jobs, "scan_criterion"))
        close_at_exit(self.close)
        if session is not None:
            self.attach(session)

    # ====================================================================================== lifecycle
    def attach(self, session: Any) -> None:
        """Start exploring ``session``: baseline, first scores, live evaluation. Blocks (a second or so)."""
        self.session = session
        names = list_criteria()
        criterion, second = tables.choose_criteria(names, (self.criterion, session.criterion))
        session.criterion = criterion
        self.criteria = tables.criterion_rows(names)
        self.groups = tables.group_rows(session.groups)
        base = session.baseline()
        self.summary = session.views.describe()
        self._publish_baseline(base)
        if session.groups:
            session.group_scores(criterion)
            self.scorer.scored(criterion)
        self.set_trait("criterion", criterion)
        self.jobs.scan_criterion = criterion
        self.compare = (criterion, second)
        self.live = LiveMetrics(session, self._on_metrics, self.report)
        self.visited.add(tables.metrics_dict(base, self.baseline, session.generation), {})
        if session.groups:
            self.set_trait("selected_group", session.groups[0].name)
        self._sync_plan()
        if session.pruned:  # a session that arrives with a plan: evaluate it
            self.live.request()
        else:
            self.metrics = tables.metrics_dict(base, self.baseline, session.generation)
        self._ready = True
        self.status_text = ""
        self.status = "ready"

    def _publish_baseline(self, base: Any) -> None:
        """The original network's metrics (measured in the session's current precision)."""
        self.baseline = tables.metrics_dict(base, None, self.session.generation)
        self.summary = {**self.summary, "baseline_accuracy": base.accuracy}

    def replace_session(self, session: Any) -> None:
        """Explore ``session`` instead of the current one: every result of the old one is dropped.

        If the new session cannot even be attached (say its weights make every score NaN), the old one is
        attached again, so the app stays usable, and the error is raised.
        """
        old = self.session
        self._detach()
        try:
            self.attach(session)
        except Exception:
            self._detach()
            self.attach(old)
            raise
        self.session_version += 1

    def _detach(self) -> None:
        """Forget the session's results and stop its evaluation thread (before ``attach``)."""
        live, self.live = self.live, None
        self._ready = False
        if live is not None:
            live.close()
        self.inputs.clear()
        self.scorer.forget()
        self.visited.clear()
        self.jobs.reset()
        self.network.clear()
        self.latency = {}
        self.error = ""

    def fail(self, error: BaseException) -> None:
        """Record that the session could not be built (shown by the app instead of the explorer)."""
        self.report(error)
        self.status_text = ""
        self.status = "failed"

    def close(self) -> None:
        """Stop the worker threads and wait for them (the state cannot be used afterwards)."""
        self.activity.cancel()
        self.worker.cancel_debounce()
        if self.live is not None:
            self.live.close()
        self.worker.close()

    # ======================================================================================== actions
    def set_ratio(self, group: str, ratio: float) -> None:
        """Ask to prune ``ratio`` of ``group``; applied after ``debounce`` s of quiet (newest value wins)."""
        self.inputs.move(group, float(ratio))

    def apply_global(self, ratio: float) -> None:
        """Ask for one ratio over every group (debounced like :meth:`set_ratio`; replaces the others)."""
        self.set_trait("global_ratio", float(ratio))
        self.inputs.move_global(restart=True)

    def toggle_filter(self, group: str, idx: int) -> None:
        """Prune channel ``idx`` of ``group`` if it is kept, restore it if it is pruned."""

        def toggle(session: Any) -> None:
            session.toggle_channel(group, int(idx))
            if group == self.selected_group:
                self.set_trait("selected_filter", int(idx))

        self.inputs.change("toggle", toggle)

    def undo(self) -> None:
        """Go back one step: a plan change or a fine-tuning."""
        self.inputs.undo()

    def redo(self) -> None:
        """Go forward again after :meth:`undo`."""
        self.inputs.redo()

    def reset(self) -> None:
        """Back to the original network: original weights, nothing pruned (undoable)."""
        self.inputs.reset()

    def set_precision(self, precision: str) -> None:
        """Compute the live metrics in ``precision`` (``"fp32"``, ``"bf16"``, ``"auto"``); the baseline is
        measured again in it, so that the change from the original compares like with like."""

        def switch() -> None:
            session = self.session
            session.set_precision(precision)
            self._publish_baseline(session.baseline())
            self._plan_changed()

        self.inputs.flush()
        self.worker.submit("precision", lambda: self.activity.busy_while(self.t("state.precision"), switch))

    def measure_latency(self) -> None:
        """Export the pruned model and time it against the original on one validation image (CPU)."""

        def measure() -> None:
            self.latency = self.session.views.latency()

        text = self.t("state.latency")
        self.worker.submit("latency", lambda: self.activity.busy_while(text, measure))

    def cancel(self) -> None:
        """Stop the running long job (scoring, scan, fine-tuning...) at its next checkpoint."""
        self.activity.cancel()

    def clear_error(self) -> None:
        self.error = ""

    def report(self, error: BaseException) -> None:
        """Show ``error`` to the user, and log its traceback."""
        message = describe_error(error, self.t)
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
        return self.worker.wait(timeout, self._settled)

    def _settled(self) -> bool:
        if not self._ready or self.live is None:
            return self.status != "loading"
        return self.live.settled(self.metrics)

    # ====================================================================================== observers
    @observe("criterion")
    def _criterion_changed(self, change: dict) -> None:
        if self._ready:
            old, new = change["old"], change["new"]
            self.inputs.flush()
            self.worker.submit("criterion", lambda: self._switch_criterion(old, new))

    @observe("global_ratio")
    def _global_changed(self, _change: dict) -> None:
        if self._ready:  # a slider linked to the trait (the state's own values are echoes)
            self.inputs.move_global()

    @observe("selected_group")
    def _group_changed(self, _change: dict) -> None:
        if self._ready:
            self.set_trait("selected_filter", -1)
            self.worker.submit("select", self._refresh_selection)

    @observe("selected_filter")
    def _filter_changed(self, _change: dict) -> None:
        if self._ready:
            self.worker.submit("why", self._refresh_why)

    @observe("compare")
    def _compare_changed(self, _change: dict) -> None:
        if self._ready:
            self.worker.submit("compare", self._refresh_selection)

    # ============================================================================ on the worker thread
    def _job_failed(self, error: BaseException) -> None:
        self.report(error)
        if self.session is not None:
            self._sync_plan()  # the sliders go back to the session's plan

    def _switch_criterion(self, old: str, new: str) -> None:
        try:
            self.scorer.score(self.session, new)
        except Exception as error:
            self.set_trait("criterion", old)
            if not isinstance(error, ScoringCancelled):
                raise
            self.error = self.scorer.cancelled_text(new, old)
            return
        self.session.criterion = new
        x, y = self.compare
        if x == old:
            self.set_trait("compare", (new, y if y != new else old))
        if self.inputs.rerank(new):
            self._plan_changed()
        else:
            self._refresh_selection()

    def _on_metrics(self, metrics: Any, generation: int) -> None:
        published = tables.metrics_dict(metrics, self.baseline, generation)
        if published["final"]:
            self.jobs.on_final_metrics(published)
        self.metrics = published
        if published["final"]:
            self.visited.add(published, self.session.pruned)

    def _plan_changed(self) -> None:
        self.error = ""
        self._sync_plan()
        self.live.request()

    def _sync_plan(self) -> None:
        """Publish everything that follows from the plan alone (no evaluation), read once per generation."""
        if self.session is None or self.live is None:
            return
        snapshot = self.session.views.snapshot()
        weights = self.network.weights.get("label")
        self.network.read(self.session)
        if weights is not None and weights != self.network.weights["label"]:  # undo, redo or reset
            self.jobs.weights_changed()  # across a fine-tuning: scans and scores are of other weights
        self.pruned = {g: list(v) for g, v in snapshot.pruned.items()}
        self.inputs.show(snapshot.ratios)
        self.cost = tables.cost_dict(snapshot)
        self.layers = tables.layers_table(snapshot, self.groups)
        self._refresh_selection()

    def _refresh_selection(self) -> None:
        group, session = self.selected_group, self.session
        if not group or session is None:
            return
        x, y = self.compare
        for name in {self.criterion, x, y}:
            self.scorer.score(session, name, None if name == self.criterion else [group])
        snapshot = session.views.snapshot()
        self.scores = tables.scores_table(session, snapshot, group, self.criterion, (x, y), self.scorer.known)
        self._refresh_why()
        self.gallery = session.views.gallery(group)

    def _refresh_why(self) -> None:
        group, size = self.selected_group, len(self.scores.get("channel", ()))
        if group and self.scores.get("group") == group:
            channel = self.selected_filter if 0 <= self.selected_filter < size else None
            self.why = self.session.views.explain(group, channel, self.criterion)


__all__ = ["DEBOUNCE_SECONDS", "ExplorerState", "Gallery", "describe_error"]
