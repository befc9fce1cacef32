"""``Analyses``: what a plan costs beyond its accuracy, and how to win accuracy back, as the app shows them.

* **who pays** (Hooker et al. 2019): per-class accuracy against the original network, and the images whose
  prediction flips (``session.views.who_pays``, one prediction pass). It follows the sliders while the
  Analyses area is open (``following``): after each plan's *exact* evaluation, on the worker, never on a
  running estimate;
* **reconstruct** (He, Zhang & Sun 2017): least-squares refit of the layers that read pruned channels, a
  long job with progress and cancel, whose weights become the live weights ("reconstructed under plan #N");
* **training modes**: plain masked fine-tuning vs Soft Filter Pruning vs group lasso at the same steps and
  final channel counts (``session.compare_training_modes``), a long job;
* **dynamic channels**: which channels each of a few images keeps under per-input top-k pruning
  (``session.dynamic_channels``), with the static comparison at the same MACs (``session.dynamic``);
* **tokens** (ViTs only): which tokens each of a few images keeps when tokens are dropped after one block
  (``session.tokens_kept``), with static and random tokens at the same MACs (``session.tokens``).

It also holds the map's part, ``plans`` (:class:`~explorer.ui.plan_map.PlanMap`). :func:`attach_analyses`
builds both for an ``ExplorerState`` and connects them to the traits they follow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from traitlets import Bool, Dict, HasTraits

from explorer.ui.activity import Activity, JobCancelled
from explorer.ui.jobs import JobHooks
from explorer.ui.plan_map import PlanMap
from explorer.ui.trajectory import ORIGINAL, Trajectory
from explorer.ui.worker import Worker

#: Flipped images shown on each side (lost, gained).
EXAMPLES = 6
#: Validation images of the dynamic-channel view.
DYNAMIC_IMAGES = 4
_CANCELLED = {
    "reconstruct": "analyses.cancelled.reconstruct",
    "modes": "analyses.cancelled.modes",
    "dynamic": "analyses.cancelled.dynamic",
    "tokens": "analyses.cancelled.dynamic",
}


class Analyses(HasTraits):
    """Who pays, reconstruction, training modes and dynamic channels of the session explored.

    Args:
        hooks: what the jobs need from the state (session, criterion, plan_changed, text...).
        worker: runs everything that reads the session.
        activity: progress, status and cancel of the long jobs.
        trajectory: a reconstruction adds its point to the map.
        weights_changed: other weights are live (the scan and the scores are stale).
        plans: the map's part.
    """

    following = Bool(False, help="refresh who pays after each exact evaluation (the Analyses area is open)")
    who_pays = Dict(help="session.views.who_pays() of the plan evaluated last, plus 'seconds' it took")
    reconstruction = Dict(help="the last reconstruction: accuracy before / after, layers refitted, weights")
    training_modes = Dict(help="session.compare_training_modes(): plain vs soft vs group lasso")
    dynamic = Dict(help="{ratio, images: [{index, label, prediction, confidence, channels, image}], summary}")
    tokens = Dict(
        help="{keep_ratio, block, images: [{index, label, prediction, grid, stages, image}], summary}"
    )

    def __init__(
        self,
        hooks: JobHooks,
        worker: Worker,
        activity: Activity,
        trajectory: Trajectory,
        weights_changed: Callable[[], None],
        plans: PlanMap,
    ):
        super().__init__()
        self._hooks, self._t = hooks, hooks.text
        self._worker, self._activity, self._trajectory = worker, activity, trajectory
        self._weights_changed = weights_changed
        self.plans = plans

    # ======================================================================================= who pays
    def follow(self, on: bool) -> None:
        """Follow the sliders (the Analyses area opened) or stop (closed); opening refreshes at once."""
        self.following = bool(on)
        if self.following:
            self._worker.submit("who pays", self._refresh_who_pays)

    def after_evaluation(self, published: Mapping[str, Any]) -> None:
        """On the worker, after a plan's exact metrics: record it on the map; refresh who pays."""
        session = self._hooks.session()
        if session is None or published.get("generation") != session.generation:
            return  # a newer plan is being evaluated: its own exact metrics will come
        self.plans.record(published)
        if self.following:
            self._refresh_who_pays()

    def _refresh_who_pays(self) -> None:
        session = self._hooks.session()
        if session is None:
            return
        start = time.perf_counter()
        result = session.views.who_pays(EXAMPLES)
        self.who_pays = {**result, "seconds": time.perf_counter() - start}

    # ======================================================================================== jobs
    def run_reconstruct(self) -> None:
        """Refit, without training, the layers reading the plan's pruned channels; the result goes live."""

        def body() -> str:
            session = self._hooks.session()
            pruned = session.pruned
            if not pruned:
                return self._t("analyses.reconstruct.nothing")
            result = session.reconstruct(
                progress=self._activity.advance, should_stop=self._activity.should_stop
            )
            if result.get("cancelled"):
                raise JobCancelled
            snapshot = session.views.snapshot()
            cost = {"macs": snapshot.macs, "params": snapshot.params}
            before, after = result["accuracy_before"], result["accuracy_after"]
            # it starts from the original weights, whatever weights were live
            self._trajectory.add_finetuned(cost, pruned, before, after, 0, ORIGINAL, kind="reconstructed")
            self._weights_changed()
            self.reconstruction = {
                "accuracy_before": before,
                "accuracy_after": after,
                "layers": len(result["layers"]),
                "skipped": len(result["skipped"]),
                "calibration_samples": result["calibration_samples"],
                "weights": result["weights"],
                "plan_number": result["plan_number"],
                "generation": session.generation,
            }
            self._hooks.plan_changed()
            return self._t("analyses.reconstruct.done", layers=len(result["layers"]))

        self._long_job("reconstruct", self._t("analyses.reconstruct.running"), body)

    def compare_training_modes(self, steps: int = 100) -> None:
        """Plain vs soft vs group lasso, ``steps`` each, from the original weights, to the current plan's
        channel counts (on copies: the plan and weights stay)."""
        steps = int(steps)
        if steps < 1:
            self._hooks.show_error(self._t("jobs.finetune.no_steps", steps=steps))
            return

        def body() -> str:
            polls, expected = [0], 3 * steps

            def should_stop() -> bool:  # training polls this before each step: the count is the progress
                polls[0] += 1
                self._activity.progress = min(polls[0] / expected, 0.99)
                return self._activity.should_stop()

            result = self._hooks.session().compare_training_modes(steps, should_stop=should_stop)
            if self._activity.should_stop():
                raise JobCancelled
            self.training_modes = dict(result)
            return ""

        self._long_job("modes", self._t("analyses.modes.running", steps=steps), body)

    def show_dynamic(self, ratio: float = 0.5, count: int = DYNAMIC_IMAGES) -> None:
        """Which channels each of the first ``count`` validation images keeps at ``ratio`` (per input)."""
        ratio = float(ratio)
        keep = ("dynamic_accuracy", "static_accuracy", "baseline_accuracy", "static_criterion")
        keep += ("dynamic_macs", "static_macs", "baseline_macs", "keep")

        def summary(session: Any) -> dict:
            result = session.dynamic(ratio)
            return {k: result[k] for k in keep}

        def rows(session: Any, indices: list[int]) -> list[dict]:
            return session.dynamic_channels(indices, ratio)

        self._images_job("dynamic", "analyses.dynamic.running", count, rows, summary, {"ratio": ratio})

    def show_tokens(self, keep_ratio: float = 0.5, block: int = 2, count: int = DYNAMIC_IMAGES) -> None:
        """ViTs: which tokens each of the first ``count`` validation images keeps when only ``keep_ratio`` of
        them go on after block ``block`` (0-based), and the accuracy of that against static and random
        tokens at the same MACs."""
        keep_ratio, stages = float(keep_ratio), [int(block)]

        def summary(session: Any) -> dict:
            result = session.tokens(keep_ratio, stages=stages)
            return {k: v for k, v in result.items() if k not in ("method", "note")}

        def rows(session: Any, indices: list[int]) -> list[dict]:
            return session.tokens_kept(indices, keep_ratio, stages=stages)

        settings = {"keep_ratio": keep_ratio, "block": stages[0]}
        self._images_job("tokens", "analyses.tokens.running", count, rows, summary, settings)

    def _images_job(
        self,
        name: str,
        running: str,
        count: int,
        rows_of: Callable[[Any, list[int]], list[dict]],
        summary_of: Callable[[Any], dict],
        settings: Mapping[str, Any],
    ) -> None:
        """The long job ``name``: per-image rows for the first ``count`` validation images (each with its
        picture), then a summary; the result, with ``settings``, goes to the trait of the same name."""

        def body() -> str:
            session = self._hooks.session()
            indices = list(range(min(int(count), int(session.summary()["val_samples"]))))
            rows = rows_of(session, indices)
            images = session.views.images(indices)
            if self._activity.should_stop():
                raise JobCancelled
            summary = summary_of(session)
            pictured = [{**row, "image": uri} for row, uri in zip(rows, images, strict=True)]
            setattr(self, name, {**settings, "images": pictured, "summary": summary})
            return ""

        self._long_job(name, self._t(running), body)

    def reset(self) -> None:
        """Forget every result (a new session)."""
        self.who_pays, self.reconstruction, self.training_modes, self.dynamic = {}, {}, {}, {}
        self.tokens = {}
        self.plans.reset()

    def _long_job(self, name: str, text: str, body: Callable[[], str]) -> None:
        job = self._activity.long_job(name, text, body, self._t(_CANCELLED[name]))
        self._worker.submit(name, job)


def attach_analyses(state: Any, hooks: JobHooks) -> Analyses:
    """The analyses and the map's part of an ``ExplorerState``, connected to what they follow: the plan
    number (where a plan came from), the exact metrics (record, who pays), the criterion, the weights and
    the scan (the references), and a new session (everything is forgotten)."""
    plans = PlanMap(
        session=hooks.session,
        criterion=hooks.criterion,
        plan_changed=hooks.plan_changed,
        scan=lambda: state.jobs.sensitivity,
        suggestion=lambda: str(state.jobs.suggestion.get("kind", "")),
        worker=state.worker,
        trajectory=state.visited,
        show_error=hooks.show_error,
        text=hooks.text,
    )
    analyses = Analyses(hooks, state.worker, state.activity, state.visited, state.jobs.weights_changed, plans)
    weights = [""]

    def plan_number(_change: Any) -> None:
        if state.session is not None and state.network.weights:
            plans.plan_changed()
            if state.network.weights["label"] != weights[0]:
                weights[0] = state.network.weights["label"]
                plans.request_references()

    def metrics(change: Any) -> None:
        published = change["new"]
        if published.get("final"):
            state.worker.submit("analyses", lambda: analyses.after_evaluation(published))

    state.network.observe(plan_number, names="plan_number")
    state.observe(metrics, names="metrics")
    state.observe(lambda _c: plans.global_moved(), names="global_ratio")
    state.observe(lambda _c: plans.request_references(), names="criterion")
    state.observe(lambda _c: analyses.reset(), names="session_version")
    state.jobs.observe(lambda _c: plans.request_references(), names="sensitivity")
    return analyses


__all__ = ["DYNAMIC_IMAGES", "EXAMPLES", "Analyses", "attach_analyses"]
