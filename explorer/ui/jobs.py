"""``LongJobs``: the explorer's long jobs on the current session, sensitivity scan, plan suggestions,
fine-tuning, comparisons and export, and the traits holding their results (the jobs that replace the
session, upload and model switch, are :mod:`explorer.ui.loader`'s).

Every job runs on the state's worker, one after the other with the plan changes, so the kernel never blocks
and a job never races a slider. A job publishes its progress through the shared
:class:`~explorer.ui.activity.Activity` (``busy``, ``progress``, ``progress_text`` and ``job``), can be
cancelled (``activity.cancel()``), and records how it ended in ``activity.job_status[name]``: ``running``,
``done``, ``cancelled`` or ``failed`` (the message then goes to the red error box, like any error). A
cancelled or failed job leaves the session as it was and usable. Whatever a job needs from the state comes
in explicitly, as :class:`JobHooks` and the objects the state composes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traitlets import Dict, HasTraits, Unicode

from explorer.export import SUMMARY_FILE, save_pruned
from explorer.ui.activity import Activity, JobCancelled
from explorer.ui.download import download_of
from explorer.ui.naming import criterion_label
from explorer.ui.network import weights_dict
from explorer.ui.plan_inputs import PlanInputs
from explorer.ui.scan_job import run_scan
from explorer.ui.trajectory import Trajectory
from explorer.ui.worker import Worker

#: Minimum seconds between two published points of the live fine-tuning curve.
CURVE_INTERVAL = 0.1
#: Plan suggestions (``apply_suggestion``'s ``kind``).
SUGGESTIONS = ("li", "target", "global")

_CANCELLED_TEXT = {
    "sensitivity": "jobs.cancelled.sensitivity",
    "plan": "jobs.cancelled.plan",
    "finetune": "jobs.cancelled.finetune",
    "schedules": "jobs.cancelled.compare",
    "unstructured": "jobs.cancelled.compare",
    "export": "jobs.cancelled.export",
}
_RESULTS = ("sensitivity", "suggestion", "finetune_curve", "finetune", "schedules", "unstructured")


@dataclass(frozen=True)
class JobHooks:
    """What the long jobs read from the explorer state and tell it."""

    session: Callable[[], Any]  # the session explored now
    criterion: Callable[[], str]  # the active criterion
    use_criterion: Callable[[str], None]  # make another criterion the active one
    show_error: Callable[[str], None]  # a message for the red box (a request that cannot be run)
    plan_changed: Callable[[], None]  # publish the session's new plan, or its new weights, and evaluate
    weights_adopted: Callable[[], None]  # scores of the old weights are stale
    text: Callable[..., str]  # t(key, **values): the app's words in its language (explorer.ui.i18n)


class LongJobs(HasTraits):
    """The long jobs on the current session, and their results.

    Args:
        hooks: what the jobs need from the state.
        worker: runs the jobs.
        activity: their progress, status and cancel flag.
        inputs: a suggested plan drops the slider moves still waiting, and moves the global slider.
        trajectory: a fine-tuning adds its points.
    """

    scan_criterion = Unicode("", help="the criterion of the sensitivity scan (follows the active one)")
    sensitivity = Dict(
        help="the last sensitivity scan: rows, a curve per group, baseline (see sensitivity_dict)"
    )
    suggestion = Dict(help="the last plan suggestion applied: ratios, predicted and real accuracy and MACs")
    finetune_curve = Dict(help="live curve of the running fine-tuning: loss and validation accuracy by step")
    finetune = Dict(help="the last fine-tuning: accuracy before and after, steps")
    schedules = Dict(help="one-shot vs iterative pruning (session.compare_schedules)")
    unstructured = Dict(help="filters vs single weights (session.compare_unstructured), with the speed-ups")
    export = Dict(
        help="the last save: folder, files written, SUMMARY.md text, weights exported, download (zip)"
    )

    def __init__(
        self,
        hooks: JobHooks,
        worker: Worker,
        activity: Activity,
        inputs: PlanInputs,
        trajectory: Trajectory,
    ):
        super().__init__()
        self._hooks = hooks
        self._t = hooks.text
        self._worker = worker
        self._activity = activity
        self._inputs = inputs
        self._trajectory = trajectory
        self._table: Any = None  # the SensitivityTable behind ``sensitivity`` (None when stale)

    # ============================================================================ scan and suggestions
    def run_sensitivity(self, criterion: str | None = None, ratios: Sequence[float] | None = None) -> None:
        """Scan every group alone at every ratio (Li et al. 2017, Fig. 2); fills ``sensitivity``.

        Args:
            criterion: ranks the channels (default: ``scan_criterion``, i.e. the active criterion).
            ratios: the grid (default 10 %, 20 % … 90 %).
        """
        name = criterion or self.scan_criterion or self._hooks.criterion()
        grid = None if ratios is None else tuple(float(r) for r in ratios)

        def body() -> str:
            table = self._scan(name, grid)
            seconds = f"{self.sensitivity['seconds']:.1f}"
            label = criterion_label(name, self._t)
            return self._t("jobs.scan.done", count=len(table.rows), criterion=label, seconds=seconds)

        text = self._t("jobs.scan.running", criterion=criterion_label(name, self._t))
        self._long_job("sensitivity", text, body)

    def apply_suggestion(
        self, kind: str, *, epsilon: float = 0.01, reduction: float = 0.3, ratio: float = 0.5
    ) -> None:
        """Apply a suggested plan; the sliders move to it. ``li`` and ``target`` scan first if needed.

        Args:
            kind: ``"li"`` (per group, the largest ratio whose scanned accuracy drop is ≤ ``epsilon``),
                ``"target"`` (``reduction`` fewer MACs at the least predicted accuracy loss) or ``"global"``
                (``ratio`` of all channels, normalised scores).
            epsilon: accuracy drop allowed per group, as a fraction (0.01 = 1 point).
            reduction: fraction of the MACs to remove.
            ratio: the global ratio.
        """
        if kind not in SUGGESTIONS:
            self._hooks.show_error(self._t("jobs.plan.unknown", kind=kind, kinds=", ".join(SUGGESTIONS)))
            return

        def body() -> str:
            session, active = self._hooks.session(), self._hooks.criterion()
            table = None
            if kind != "global":
                wanted = self.scan_criterion or active
                table = self._table
                if table is None or table.criterion != wanted:
                    table = self._scan(wanted, None)
                self._activity.begin(self._t("jobs.plan.applying"))
            criterion = table.criterion if table is not None else active
            result = session.suggest_plan(
                kind,
                table=table,
                epsilon=float(epsilon),
                reduction=float(reduction),
                ratio=float(ratio),
                criterion=criterion,
            )
            base = session.baseline()
            # set before the evaluation starts: the exact metrics of this generation fill in the real figures
            self.suggestion = {
                "kind": kind,
                "criterion": criterion,
                "epsilon": float(epsilon),
                "reduction": float(reduction),
                "ratio": float(ratio),
                "ratios": {g: float(r) for g, r in result["ratios"].items()},
                "predicted_accuracy": result["predicted_accuracy"],
                "predicted_macs": result["predicted_macs"],
                "target_macs": round(base.macs * (1 - float(reduction))) if kind == "target" else None,
                "baseline_accuracy": base.accuracy,
                "baseline_macs": base.macs,
                "real_accuracy": None,
                "real_macs": None,
                "generation": session.generation,
            }
            self._inputs.show_global(float(ratio) if kind == "global" else 0.0)
            self._hooks.plan_changed()
            if criterion != active:  # the plan ranks by the scan's criterion: so do the sliders
                self._hooks.use_criterion(criterion)
            moved = sum(1 for r in result["ratios"].values() if r > 0)
            return self._t("jobs.plan.done", count=moved)

        self._inputs.flush(drop=True)  # the suggestion replaces the whole plan
        self._long_job("plan", self._t("jobs.plan.running"), body)

    def on_final_metrics(self, published: Mapping[str, Any]) -> None:
        """The exact metrics of a plan, before they are published: fill in a suggestion's real figures."""
        suggestion = self.suggestion
        if suggestion.get("generation") == published["generation"] and suggestion["real_accuracy"] is None:
            self.suggestion = {
                **suggestion,
                "real_accuracy": published["accuracy"],
                "real_macs": published["macs"],
            }

    # ======================================================================= fine-tuning and comparisons
    def run_finetune(self, steps: int = 200, *, lr: float = 3e-3, eval_every: int | None = None) -> None:
        """Fine-tune the pruned network (masked) and adopt the new weights unless cancelled.

        Args:
            steps: training steps (batches of 64).
            lr: learning rate.
            eval_every: measure validation accuracy every this many steps (default: 8 points per run).
        """
        steps = int(steps)
        if steps < 1:
            self._hooks.show_error(self._t("jobs.finetune.no_steps", steps=steps))
            return
        every = int(eval_every) if eval_every else max(1, math.ceil(steps / 8))

        def body() -> str:
            session = self._hooks.session()
            curve: dict[str, Any] = {
                "steps": steps,
                "loss_step": [],
                "loss": [],
                "acc_step": [],
                "accuracy": [],
            }
            curve["running"] = True
            last = [0.0]

            def publish(force: bool = False) -> None:
                now = time.monotonic()
                if force or now - last[0] >= CURVE_INTERVAL:
                    last[0] = now
                    self.finetune_curve = {k: list(v) if isinstance(v, list) else v for k, v in curve.items()}

            def on_step(step: int, total: int, loss: float) -> None:
                curve["loss_step"].append(int(step))
                curve["loss"].append(float(loss))
                self._activity.advance(step, total)
                publish()

            def on_point(step: int, accuracy: float) -> None:
                curve["acc_step"].append(int(step))
                curve["accuracy"].append(float(accuracy))
                publish(force=True)

            publish(force=True)
            pruned, old_weights = session.pruned, session.weights.label
            try:
                result = session.finetune(
                    steps,
                    lr=float(lr),
                    eval_every=every,
                    progress=on_step,
                    on_point=on_point,
                    should_stop=self._activity.should_stop,
                )
            finally:
                curve["running"] = False
                publish(force=True)
            if result.cancelled:
                raise JobCancelled
            snapshot = session.views.snapshot()
            cost = {"macs": snapshot.macs, "params": snapshot.params}
            self._trajectory.add_finetuned(
                cost, pruned, result.accuracy_before, result.accuracy_after, steps, old_weights
            )
            self.weights_changed()
            self.finetune = {
                "steps": steps,
                "lr": float(lr),
                "accuracy_before": result.accuracy_before,
                "accuracy_after": result.accuracy_after,
                "curve": [list(p) for p in result.curve],
                "macs": snapshot.macs,
                "generation": session.generation,
            }
            self._hooks.plan_changed()
            return self._t("jobs.finetune.done", steps=steps)

        self._long_job("finetune", self._t("jobs.finetune.running", steps=steps), body)

    def compare_schedules(self, ratio: float = 0.5, steps: int = 200, k: int = 4) -> None:
        """One-shot vs iterative (``k`` increments) pruning to a global ``ratio``, on copies."""
        ratio, steps, k = float(ratio), int(steps), int(k)

        def body() -> str:
            polls = [0]
            expected = max(steps + k * (steps // k), 1)

            def should_stop() -> bool:
                # training polls this before each step: the count is the progress
                polls[0] += 1
                self._activity.progress = min(polls[0] / expected, 0.99)
                return self._activity.should_stop()

            result = self._hooks.session().compare_schedules(
                ratio=ratio, steps=steps, k=k, criterion=self._hooks.criterion(), should_stop=should_stop
            )
            if self._activity.should_stop():
                raise JobCancelled
            self.schedules = {**result, "steps": steps, "k": k}
            return ""

        self._long_job("schedules", self._t("jobs.schedules.running", k=k), body)

    def compare_unstructured(self) -> None:
        """Filters removed (exported) vs single weights zeroed at the same parameter count: accuracy and
        latency."""

        def body() -> str:
            session = self._hooks.session()
            snapshot = session.views.snapshot()
            result = dict(session.compare_unstructured())
            if self._activity.should_stop():
                raise JobCancelled
            dense = result["dense_latency_ms"]
            for name in ("filter", "unstructured"):
                ms = result[f"{name}_latency_ms"]
                result[f"{name}_speedup"] = dense / ms if ms > 0 else math.nan
            result["channels_removed"] = sum(len(v) for v in snapshot.pruned.values())
            result["dense_params"] = snapshot.base_params
            self.unstructured = result
            return ""

        self._long_job("unstructured", self._t("jobs.unstructured.running"), body)

    # ========================================================================================= export
    def save(self, folder: str | Path) -> None:
        """Save the pruned model (``plan.json``, ``pruned_state_dict.pt``, ``SUMMARY.md``) into ``folder``."""
        text = str(folder).strip()
        if not text:
            self._hooks.show_error(self._t("jobs.export.no_folder"))
            return

        def body() -> str:
            session = self._hooks.session()
            path = Path(text).expanduser()
            path = path if path.is_absolute() else Path.cwd() / path
            out = save_pruned(session, path)
            files = sorted(p for p in out.iterdir() if p.is_file())
            summary = out / SUMMARY_FILE
            self.export = {
                "folder": str(out),
                "files": [{"path": str(p), "name": p.name, "bytes": p.stat().st_size} for p in files],
                "summary": summary.read_text() if summary.is_file() else "",
                "weights": weights_dict(session),
                "download": download_of(out, files),
                "channels_removed": sum(len(v) for v in session.pruned.values()),
                "generation": session.generation,
            }
            return self._t("jobs.export.done", folder=out)

        self._long_job("export", self._t("jobs.export.running"), body)

    def reset(self) -> None:
        """Forget every result and status (a new session is explored), except the last upload's."""
        self._table = None
        for trait in _RESULTS:
            setattr(self, trait, {})
        self._activity.job_status = {k: v for k, v in self._activity.job_status.items() if k == "upload"}

    # ======================================================================================== plumbing
    def _long_job(self, name: str, text: str, body: Callable[[], str]) -> None:
        cancelled = self._t(_CANCELLED_TEXT[name])
        self._worker.submit(name, self._activity.long_job(name, text, body, cancelled))

    def _scan(self, criterion: str, ratios: Sequence[float] | None) -> Any:
        """Score (cancellable, with progress) then scan, drawing the curves as they come
        (:func:`~explorer.ui.scan_job.run_scan`); publishes and returns the table."""
        self._table = None
        publish = lambda result: setattr(self, "sensitivity", result)  # noqa: E731
        self._table = run_scan(self._hooks.session(), criterion, ratios, self._activity, self._t, publish)
        return self._table

    def weights_changed(self) -> None:
        """Other weights are live (adopted, or undo/redo/reset across a fine-tuning): the scan is stale, and
        so are the state's scores."""
        self._table = None
        if self.sensitivity:
            self.sensitivity = {**self.sensitivity, "stale": True}
        self._hooks.weights_adopted()


__all__ = ["SUGGESTIONS", "JobCancelled", "JobHooks", "LongJobs"]
