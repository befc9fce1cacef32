"""The "Sensitivity & plans" panel: the one-layer-at-a-time scan (Li et al. 2017, Fig. 2) and the plans it
suggests.

The curves live in one ``BokehModel`` (lines and hover points share the figure); redrawing assigns
``source.data``, filled before the model is built (see :mod:`explorer.ui.views.plots`).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from bokeh.models import ColumnDataSource, HoverTool, Span
from bokeh.palettes import Category10_10, Category20_20
from bokeh.plotting import figure
from jupyter_bokeh import BokehModel

from explorer.ui.format import escape, format_count, format_percent, format_points
from explorer.ui.views._sync import serialized
from explorer.ui.views.controls import JobStatus, JobView, _help, disable_while_busy

_TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
_TABLE = "border-collapse:collapse;margin:4px 0"
_CELL = "padding:2px 10px;border-bottom:1px solid #e0e0e0;text-align:{}"


def group_colors(count: int) -> list[str]:
    """One colour per line: Category10 up to 10 lines, Category20 (repeated) beyond."""
    palette = Category10_10 if count <= 10 else Category20_20
    return [palette[i % len(palette)] for i in range(count)]


def html_table(header: list[str], rows: list[list[str]]) -> str:
    """A small HTML table; the cells are already escaped."""
    head = "".join(f"<th style='{_CELL.format('left')}'>{h}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='{_CELL.format('left' if i == 0 else 'right')}'>{c}</td>" for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table style='{_TABLE}'><tr>{head}</tr>{body}</table>"


class SensitivityView(w.VBox):
    """Run the scan and draw accuracy against the share of filters removed, one line per layer."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._criterion = w.Dropdown(
            options=[(c["name"], c["name"]) for c in state.criteria],
            description="Rank by",
            tooltip="the criterion that picks the filters removed at each step (default: the active one)",
            style={"description_width": "60px"},
            layout=w.Layout(width="200px"),
        )
        w.link((state.jobs, "scan_criterion"), (self._criterion, "value"))
        self._run = w.Button(
            description="Run sensitivity scan",
            icon="play",
            button_style="primary",
            tooltip="prune each layer alone at 10 %, 20 % … 90 % and measure the accuracy",
            layout=w.Layout(width="190px"),
        )
        self._run.on_click(lambda _b: state.jobs.run_sensitivity(self._criterion.value))
        disable_while_busy(state, self._run)
        self._status = JobStatus(state, "sensitivity")
        self._lines = ColumnDataSource({"xs": [], "ys": [], "group": [], "color": []})
        self._points = ColumnDataSource(
            {"x": [], "y": [], "group": [], "ratio": [], "accuracy": [], "loss": [], "color": []}
        )
        self._fig = figure(
            title="Sensitivity to pruning, one layer at a time",
            x_axis_label="filters pruned away (%)",
            y_axis_label="validation accuracy (%)",
            tools=_TOOLS,
            height=340,
            width=720,
        )
        self._fig.multi_line(
            xs="xs", ys="ys", color="color", source=self._lines, line_width=2, legend_field="group"
        )
        dots = self._fig.scatter(x="x", y="y", color="color", source=self._points, size=7)
        self._fig.add_tools(
            HoverTool(
                renderers=[dots],
                tooltips=[
                    ("layer", "@group"),
                    ("pruned", "@ratio{0} %"),
                    ("accuracy", "@accuracy{0.0} %"),
                    ("loss", "@loss{0.000}"),
                ],
            )
        )
        self._baseline = Span(
            location=0, dimension="width", line_dash="dashed", line_color="#9aa0a6", visible=False
        )
        self._fig.add_layout(self._baseline)
        self._fig.add_layout(self._fig.legend[0], "right")
        self._fig.legend.title = "layer"
        self._note = w.HTML()
        state.jobs.observe(self._update, names="sensitivity")
        self._update()  # before BokehModel (see plots.py)
        self._plot = BokehModel(self._fig, combine_events=True)
        super().__init__(
            [
                w.HTML("<h4 style='margin:4px 0'>Sensitivity: which layers can lose filters?</h4>"),
                _help(
                    "The scan prunes <b>one layer at a time</b> (10 %, 20 % … 90 % of its filters, the "
                    "lowest scores first) while every other layer stays intact, and measures the accuracy "
                    "each time, as in Fig. 2 of Li et al. 2017, <a href='https://arxiv.org/abs/1608.08710' "
                    "target='_blank'>Pruning Filters for Efficient ConvNets</a>. A flat curve means the "
                    "layer is robust: prune it hard. A curve that drops early marks a sensitive layer: "
                    "spare it. Hover a point for its numbers."
                ),
                w.HBox([self._criterion, self._run]),
                JobView(state, jobs=("sensitivity",)),
                self._status,
                self._note,
                self._plot,
            ],
            **kwargs,
        )

    @property
    def sources(self) -> dict[str, ColumnDataSource]:
        """``lines`` (one row per layer) and ``points`` (one row per scanned ratio)."""
        return {"lines": self._lines, "points": self._points}

    @property
    def figure(self) -> Any:
        return self._fig

    @property
    def run_button(self) -> w.Button:
        return self._run

    @property
    def criterion_dropdown(self) -> w.Dropdown:
        return self._criterion

    @serialized
    def _update(self, _change: Any = None) -> None:
        s = self._state.jobs.sensitivity
        if not s:
            self._lines.data = {"xs": [], "ys": [], "group": [], "color": []}
            self._points.data = {k: [] for k in ("x", "y", "group", "ratio", "accuracy", "loss", "color")}
            self._baseline.visible = False
            self._note.value = ""
            return
        groups = s["groups"]
        colors = dict(zip(groups, group_colors(len(groups)), strict=True))
        curves = s["curves"]
        self._lines.data = {
            "xs": [[100 * r for r in curves[g]["ratio"]] for g in groups],
            "ys": [[100 * a for a in curves[g]["accuracy"]] for g in groups],
            "group": list(groups),
            "color": [colors[g] for g in groups],
        }
        rows = s["rows"]
        self._points.data = {
            "x": [100 * r["ratio"] for r in rows],
            "y": [100 * r["accuracy"] for r in rows],
            "group": [r["group"] for r in rows],
            "ratio": [100 * r["ratio"] for r in rows],
            "accuracy": [100 * r["accuracy"] for r in rows],
            "loss": [r["loss"] for r in rows],
            "color": [colors[r["group"]] for r in rows],
        }
        self._baseline.location = 100 * s["baseline_accuracy"]
        self._baseline.visible = True
        self._fig.title.text = (
            f"Sensitivity to pruning, one layer at a time (criterion: {s['criterion']}; dashed: unpruned)"
        )
        stale = (
            " <b>Measured before the last fine-tuning</b>: run it again for the new weights."
            if s.get("stale")
            else ""
        )
        self._note.value = (
            f"<div style='color:#5f6368;font-size:90%'>Unpruned accuracy "
            f"{format_percent(s['baseline_accuracy'])}; {len(rows)} evaluations, ranked by "
            f"{escape(s['criterion'])}.{stale}</div>"
        )


class PlanView(w.VBox):
    """Apply a suggested plan (Li et al.'s ε rule, a MACs target, one global ratio); the sliders move."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._epsilon = w.FloatSlider(
            value=1.0,
            min=0.0,
            max=10.0,
            step=0.5,
            readout_format=".1f",
            description="ε (points)",
            tooltip="accuracy drop allowed per layer, in percentage points",
            style={"description_width": "110px"},
            layout=w.Layout(width="360px"),
        )
        self._reduction = w.IntSlider(
            value=30,
            min=5,
            max=90,
            step=5,
            description="MACs cut (%)",
            tooltip="the share of the MACs to remove",
            style={"description_width": "110px"},
            layout=w.Layout(width="360px"),
        )
        self._ratio = w.FloatSlider(
            value=0.5,
            min=0.0,
            max=0.9,
            step=0.05,
            readout_format=".0%",
            description="Global ratio",
            tooltip="the share of all filters to remove, lowest normalised scores first",
            style={"description_width": "110px"},
            layout=w.Layout(width="360px"),
        )
        width = w.Layout(width="200px")
        self._li = w.Button(description="Apply Li et al. plan", icon="check", layout=width)
        self._target = w.Button(description="Apply MACs target", icon="bullseye", layout=width)
        self._global = w.Button(description="Apply global ratio", icon="globe", layout=width)
        self._li.on_click(lambda _b: state.jobs.apply_suggestion("li", epsilon=self._epsilon.value / 100))
        self._target.on_click(
            lambda _b: state.jobs.apply_suggestion("target", reduction=self._reduction.value / 100)
        )
        self._global.on_click(lambda _b: state.jobs.apply_suggestion("global", ratio=self._ratio.value))
        disable_while_busy(state, self._li, self._target, self._global)
        self._status = JobStatus(state, "plan")
        self._result = w.HTML()
        super().__init__(
            [
                w.HTML("<h4 style='margin:4px 0'>Suggested plans</h4>"),
                _help(
                    "Each button replaces the current plan and moves the sliders above (Undo goes back). "
                    "<b>Li et al.</b>: in every layer, the largest ratio whose accuracy drop in the scan is "
                    "at most ε points. <b>MACs target</b>: repeatedly cut where the scan predicts the least "
                    "accuracy lost per MAC saved, until the target is met; the prediction adds up the "
                    "single-layer drops, so compare it with the real, evaluated figure. <b>Global</b>: one "
                    "ratio over all layers. The first two run the scan first if there is none."
                ),
                w.HBox([self._epsilon, self._li]),
                w.HBox([self._reduction, self._target]),
                w.HBox([self._ratio, self._global]),
                JobView(state, jobs=("plan",)),
                self._status,
                self._result,
            ],
            **kwargs,
        )
        state.jobs.observe(self._update, names="suggestion")
        self._update()

    @property
    def buttons(self) -> dict[str, w.Button]:
        return {"li": self._li, "target": self._target, "global": self._global}

    @property
    def inputs(self) -> dict[str, w.ValueWidget]:
        return {"epsilon": self._epsilon, "reduction": self._reduction, "ratio": self._ratio}

    @property
    def text(self) -> str:
        return self._result.value

    @serialized
    def _update(self, _change: Any = None) -> None:
        s = self._state.jobs.suggestion
        if not s:
            self._result.value = ""
            return
        ratios = ", ".join(f"{escape(g)} {100 * r:.0f} %" for g, r in s["ratios"].items())
        title = {
            "li": f"Li et al. plan, ε = {100 * s['epsilon']:.1f} points, ranked by {escape(s['criterion'])}",
            "target": f"Plan for {100 * s['reduction']:.0f} % fewer MACs, ranked by {escape(s['criterion'])}",
            "global": f"Global plan, {100 * s['ratio']:.0f} % of all filters, ranked by "
            f"{escape(s['criterion'])}",
        }[s["kind"]]
        parts = [f"<b>{title}</b>", f"Sliders moved to: {ratios or 'nothing pruned'}."]
        base_acc, base_macs = s["baseline_accuracy"], s["baseline_macs"]
        real_acc, real_macs = s.get("real_accuracy"), s.get("real_macs")
        measuring = "measuring…"

        def acc_cell(value: float | None) -> str:
            if value is None:
                return measuring
            return f"{format_percent(value)} ({format_points(value - base_acc)})"

        def macs_cell(value: int | None) -> str:
            if value is None:
                return measuring
            return f"{format_count(value)} ({format_percent(value / base_macs if base_macs else 1.0)})"

        if s["kind"] == "target":
            parts.append(
                html_table(
                    ["", "predicted (from the scan)", "real (evaluated)"],
                    [
                        ["top-1 accuracy", acc_cell(s["predicted_accuracy"]), acc_cell(real_acc)],
                        ["MACs per image", macs_cell(s["predicted_macs"]), macs_cell(real_macs)],
                    ],
                )
            )
            target = s.get("target_macs")
            if target is not None and s["predicted_macs"] is not None and s["predicted_macs"] > target:
                parts.append(
                    "The scan's ratios cannot reach the target: this is as far as they go "
                    f"(target {format_count(target)} MACs)."
                )
        else:
            parts.append(
                html_table(
                    ["", "evaluated"],
                    [["top-1 accuracy", acc_cell(real_acc)], ["MACs per image", macs_cell(real_macs)]],
                )
            )
        self._result.value = "<br>".join(parts)
