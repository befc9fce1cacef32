"""The one-shot vs iterative plot: accuracy against training steps done, for both schedules.

Each point is marked by when it was measured: a hollow triangle right after filters were removed, a filled
circle after training. Both schedules train for the same number of steps (``explorer.finetune.stage_steps``),
so the two lines end at the same x, and their last circles are the final numbers.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from bokeh.models import ColumnDataSource, HoverTool, Legend
from bokeh.plotting import figure
from jupyter_bokeh import BokehModel

from explorer.ui.views._sync import serialized
from explorer.ui.views.plots import CURRENT, KEPT, quiet_toolbar

SCHEDULE_COLORS = {"one_shot": CURRENT, "iterative": KEPT}
PHASE_MARKERS = {"pruned": "triangle", "trained": "circle"}
#: the legend's words for each schedule and each phase
LEGEND_KEYS = {
    "one_shot": "compare.plot.one_shot",
    "iterative": "compare.plot.iterative",
    "pruned": "compare.plot.pruned",
    "trained": "compare.plot.trained",
}
_EMPTY = {"steps": [], "accuracy": [], "stage": [], "color": []}


class SchedulePlot(w.VBox):
    """Draws ``state.jobs.schedules["curve"]``: one line per schedule, one marker per phase, with a legend
    entry for each line and each marker kind."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        self._lines = {s: ColumnDataSource(dict(_EMPTY)) for s in SCHEDULE_COLORS}
        self._marks = {p: ColumnDataSource(dict(_EMPTY)) for p in PHASE_MARKERS}
        fig = figure(
            title=t("compare.plot.title"),
            x_axis_label=t("compare.plot.steps"),
            y_axis_label=t("plot.accuracy_axis"),
            height=280,
            width=560,
            tools="pan,wheel_zoom,box_zoom,reset,save",
        )
        items = []
        for schedule, color in SCHEDULE_COLORS.items():
            line = fig.line(x="steps", y="accuracy", source=self._lines[schedule], color=color, line_width=2)
            items.append((t(LEGEND_KEYS[schedule]), [line]))
        for phase, marker in PHASE_MARKERS.items():
            hollow = phase == "pruned"
            mark = fig.scatter(
                x="steps",
                y="accuracy",
                source=self._marks[phase],
                marker=marker,
                size=10 if hollow else 8,
                line_color="color",
                fill_color="white" if hollow else "color",
                line_width=2,
            )
            items.append((t(LEGEND_KEYS[phase]), [mark]))
        fig.add_layout(Legend(items=items, location="top_left"), "right")  # outside the data
        fig.add_tools(
            HoverTool(
                tooltips=[
                    (t("compare.plot.steps"), "@steps"),
                    (t("compare.plot.stage"), "@stage"),
                    (t("plot.accuracy_tip"), "@accuracy{0.0} %"),
                ]
            )
        )
        quiet_toolbar(fig)
        self._fig = fig
        state.jobs.observe(self._update, names="schedules")
        self._update()  # before BokehModel: data set later reaches only views already rendered
        super().__init__([BokehModel(fig, combine_events=True)], **kwargs)

    @property
    def sources(self) -> dict[str, ColumnDataSource]:
        """``line.one_shot``, ``line.iterative``, ``mark.pruned`` and ``mark.trained``."""
        return {
            **{f"line.{k}": v for k, v in self._lines.items()},
            **{f"mark.{k}": v for k, v in self._marks.items()},
        }

    @serialized
    def _update(self, _change: Any = None) -> None:
        curve = (self._state.jobs.schedules or {}).get("curve", [])
        self.layout.display = "" if curve else "none"
        for schedule, source in self._lines.items():
            source.data = _columns([p for p in curve if p["schedule"] == schedule])
        for phase, source in self._marks.items():
            source.data = _columns([p for p in curve if p["phase"] == phase])


def _columns(points: list[dict]) -> dict[str, list]:
    return {
        "steps": [p["steps"] for p in points],
        "accuracy": [100 * p["accuracy"] for p in points],
        "stage": [p["stage"] for p in points],
        "color": [SCHEDULE_COLORS[p["schedule"]] for p in points],
    }
