"""``Lesson``: the guided lesson on top of the explorer, six short steps with Back/Next (no widgets here).

Each step explains one idea, unlocks the part of the explorer that shows it, and asks one question the student
answers by moving something; the answer is checked live from the explorer state's traits:

1. ``filter``: what a filter is, and what removing one costs (the gallery and the filter bars).
2. ``slider``: one layer's slider, MACs against accuracy: find a layer that can lose half its filters for
   less than ten points (on the small digits network two layers out of three collapse, one barely moves).
3. ``criteria``: L1, FPGM, Taylor and the "why" of a real filter: switch criterion, then pick a filter.
4. ``sensitivity``: the one-layer-at-a-time scan and Li et al.'s plan: run it, apply the plan.
5. ``finetune``: winning accuracy back: fine-tune a pruned plan, then reconstruct it (no training), and
   compare the plan's accuracy pruned only, reconstructed and fine-tuned (:mod:`explorer.ui.recovery`).
6. ``export``: the real speed-up: measure the exported network's latency.

``mode`` is ``"lesson"`` (the Voilà app's landing page) or ``"explore"`` (everything unlocked, the lesson
hidden; one click either way).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from traitlets import Dict, HasTraits, Int, Unicode, observe

from explorer.ui.recovery import compare_recovery

#: The steps, in order.
STEPS = ("filter", "slider", "criteria", "sensitivity", "finetune", "export")
#: What each step unlocks in the explorer (cumulative: a step shows its own parts and the earlier ones').
UNLOCKS = {
    "filter": ("cards", "gallery", "filters"),
    "slider": ("sliders", "network"),
    "criteria": ("criterion", "why"),
    "sensitivity": ("panels",),
    "finetune": (),
    "export": ("latency",),
}
#: Every part the lesson can hide.
PARTS = tuple(part for step in STEPS for part in UNLOCKS[step])
#: The notebook that goes deeper into each step.
TUTORIALS = {
    "filter": "01_what_is_pruning.ipynb",
    "slider": "01_what_is_pruning.ipynb",
    "criteria": "02_criteria_vs_oracle.ipynb",
    "sensitivity": "03_sensitivity_and_li_plan.ipynb",
    "finetune": "04_finetune_export_speedup.ipynb",
    "export": "04_finetune_export_speedup.ipynb",
}
#: The tab each step opens (``None``: leave the tabs alone).
TABS = {"sensitivity": 0, "finetune": 1, "export": 1}
#: Step 2's question: a layer at least this pruned, for an accuracy loss under this (a fraction: 10 points).
HALF, LOSS_LIMIT = 0.5, 0.10


def _exact(state: Any) -> dict | None:
    """The published metrics if they are the exact ones of the session's current plan (the sliders publish
    their ratios before the plan changes: an older plan's metrics must not answer for them)."""
    metrics, session = state.metrics, state.session
    if not metrics or not metrics.get("final"):
        return None
    current = session is None or metrics.get("generation") == session.generation
    return metrics if current else None


def check_filter(state: Any) -> dict | None:
    """Step 1: at least one filter removed (and its cost measured)."""
    removed = sum(len(v) for v in state.pruned.values())
    metrics = _exact(state)
    if not removed or metrics is None:
        return None
    return {"removed": removed, "delta": metrics.get("delta", 0.0), "macs": metrics.get("macs_fraction", 1.0)}


def check_slider(state: Any) -> dict | None:
    """Step 2: a layer pruned by half or more, losing less than ten points of accuracy in all."""
    metrics, session = _exact(state), state.session
    # the plan's ratios, not the sliders': a slider shows its new value before the plan has it
    ratios = {g: session.ratio(g) for g in state.ratios} if session is not None else state.ratios
    halved = [g for g, r in ratios.items() if r >= HALF - 1e-6]
    if metrics is None or not halved or metrics.get("delta", -1.0) <= -LOSS_LIMIT:
        return None
    return {"group": halved[0], "delta": metrics["delta"], "macs": metrics.get("macs_fraction", 1.0)}


def check_criteria(state: Any) -> dict | None:
    """Step 3: another criterion than L1 ranks the filters, and one filter's "why" is on show."""
    why = state.why
    if state.criterion == "l1" or state.selected_filter < 0 or why.get("criterion") != state.criterion:
        return None
    return {"criterion": state.criterion, "channel": state.why.get("channel"), "rank": state.why.get("rank")}


def check_sensitivity(state: Any) -> dict | None:
    """Step 4: a scan, and Li et al.'s plan applied and evaluated."""
    suggestion = state.jobs.suggestion
    if suggestion.get("kind") != "li" or suggestion.get("real_accuracy") is None:
        return None
    base = suggestion["baseline_accuracy"]
    return {
        "delta": suggestion["real_accuracy"] - base,
        "macs": suggestion["real_macs"] / suggestion["baseline_macs"] if suggestion["baseline_macs"] else 1.0,
    }


def check_finetune(state: Any) -> dict | None:
    """Step 5: the current plan measured pruned only, reconstructed and fine-tuned, the fine-tuning winning
    accuracy back (the numbers are the map's points: :func:`~explorer.ui.recovery.compare_recovery`)."""
    table, metrics, points = compare_recovery(state.trajectory, state.pruned), _exact(state), state.trajectory
    # the newest point is the live weights' exact evaluation (a reconstruction's or fine-tuning's own fp32
    # measure comes first, then the plan is evaluated again like any plan): answer with the final figures
    if not table["complete"] or metrics is None or points[-1]["accuracy"] != metrics["accuracy"]:
        return None
    rows = table["rows"]
    if rows["finetuned"]["accuracy"] <= rows["pruned"]["accuracy"]:
        return None
    return {name: row["accuracy"] for name, row in rows.items()}


def check_export(state: Any) -> dict | None:
    """Step 6: the pruned plan's exported latency measured."""
    latency, metrics = state.latency, state.metrics
    if not latency or not state.pruned or latency.get("generation") != metrics.get("generation"):
        return None
    return {"speedup": latency["speedup"]}


CHECKS: dict[str, Callable[[Any], dict | None]] = {
    "filter": check_filter,
    "slider": check_slider,
    "criteria": check_criteria,
    "sensitivity": check_sensitivity,
    "finetune": check_finetune,
    "export": check_export,
}


class Lesson(HasTraits):
    """Where the student is in the lesson, what is unlocked, and which questions are answered.

    Args:
        state: the ``ExplorerState`` the checks read (and observe).
        mode: ``"lesson"`` or ``"explore"``.
    """

    mode = Unicode("lesson", help="'lesson' (guided, parts unlocked step by step) or 'explore' (everything)")
    step = Int(0, help="the step shown (index into STEPS)")
    reached = Int(0, help="the furthest step shown so far: it and the earlier ones are unlocked")
    answers = Dict(help="step name → the numbers of its answer, once the question is answered")

    def __init__(self, state: Any, mode: str = "lesson", **kwargs: Any):
        self._state = state
        super().__init__(mode=mode, **kwargs)
        names = [
            "pruned",
            "metrics",
            "ratios",
            "criterion",
            "selected_filter",
            "why",
            "latency",
            "trajectory",
        ]
        state.observe(self._recheck, names=names)
        state.jobs.observe(self._recheck, names=["suggestion", "finetune"])

    @property
    def name(self) -> str:
        return STEPS[self.step]

    @property
    def unlocked(self) -> set[str]:
        """The parts of the explorer on show: all of them in explore mode."""
        if self.mode == "explore":
            return set(PARTS)
        return {part for step in STEPS[: self.reached + 1] for part in UNLOCKS[step]}

    def answer(self, step: str | None = None) -> dict | None:
        return self.answers.get(step or self.name)

    def next(self) -> None:
        self.go(self.step + 1)

    def back(self) -> None:
        self.go(self.step - 1)

    def go(self, step: int) -> None:
        step = min(max(int(step), 0), len(STEPS) - 1)
        self.reached = max(self.reached, step)
        self.step = step

    def explore(self) -> None:
        """Open the free explorer (the lesson keeps its place)."""
        self.mode = "explore"

    def resume(self) -> None:
        """Back to the lesson, where it was left."""
        self.mode = "lesson"

    @observe("step", "mode")
    def _step_changed(self, _change: dict) -> None:
        self._recheck()

    def _recheck(self, _change: Any = None) -> None:
        """Check every step's question against the state's current traits (answers stay once given)."""
        found = {}
        shown = (
            STEPS if self.mode == "explore" else STEPS[: self.reached + 1]
        )  # no answer before the question
        for name in shown:
            check = CHECKS[name]
            if name in self.answers:
                continue
            try:
                result = check(self._state)
            except (KeyError, TypeError, ZeroDivisionError):  # traits half published: check again later
                result = None
            if result is not None:
                found[name] = result
        if found:
            self.answers = {**self.answers, **found}


__all__ = ["CHECKS", "PARTS", "STEPS", "TABS", "TUTORIALS", "UNLOCKS", "Lesson"]
