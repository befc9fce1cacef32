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
from explorer.ui.naming import criterion_label, layer_labels
from explorer.ui.views._sync import serialized
from explorer.ui.views.controls import JobStatus, JobView, _help, disable_while_busy
from explorer.ui.views.plots import quiet_toolbar

_TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
_POINTS = ("x", "y", "group", "label", "ratio", "accuracy", "loss", "color")
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
        self._t = t = state.t
        self._criterion = w.Dropdown(
            options=[(criterion_label(c["name"], t), c["name"]) for c in state.criteria],
            description=t("scan.rank_by"),
            tooltip=t("scan.rank_by.hint"),
            style={"description_width": "initial"},
            layout=w.Layout(width="360px"),
        )
        w.link((state.jobs, "scan_criterion"), (self._criterion, "value"))
        self._labels = layer_labels(state.groups, t, counts=False)
        self._run = w.Button(
            description=t("scan.run"),
            icon="play",
            button_style="primary",
            tooltip=t("scan.run.hint"),
            layout=w.Layout(width="auto"),
        )
        self._run.on_click(lambda _b: state.jobs.run_sensitivity(self._criterion.value))
        disable_while_busy(state, self._run)
        self._status = JobStatus(state, "sensitivity")
        self._lines = ColumnDataSource({"xs": [], "ys": [], "group": [], "label": [], "color": []})
        self._points = ColumnDataSource({k: [] for k in _POINTS})
        self._fig = figure(
            title=t("scan.plot.title"),
            x_axis_label=t("scan.plot.x"),
            y_axis_label=t("scan.plot.y"),
            tools=_TOOLS,
            height=340,
            width=720,
        )
        self._fig.multi_line(
            xs="xs", ys="ys", color="color", source=self._lines, line_width=2, legend_field="label"
        )
        dots = self._fig.scatter(x="x", y="y", color="color", source=self._points, size=7)
        self._fig.add_tools(
            HoverTool(
                renderers=[dots],
                tooltips=[
                    (t("plot.layer_tip"), "@label"),
                    (t("scan.plot.pruned_tip"), "@ratio{0} %"),
                    (t("plot.accuracy_short_tip"), "@accuracy{0.0} %"),
                    (t("scan.plot.loss_tip"), "@loss{0.000}"),
                ],
            )
        )
        self._baseline = Span(
            location=0, dimension="width", line_dash="dashed", line_color="#9aa0a6", visible=False
        )
        self._fig.add_layout(self._baseline)
        self._fig.add_layout(self._fig.legend[0], "right")
        self._fig.legend.title = t("plot.layer_tip")
        quiet_toolbar(self._fig)
        self._note = w.HTML()
        state.jobs.observe(self._update, names="sensitivity")
        self._update()  # before BokehModel (see plots.py)
        self._plot = BokehModel(self._fig, combine_events=True)
        super().__init__(
            [
                w.HTML(f"<h4 style='margin:4px 0'>{t('scan.title')}</h4>"),
                _help(t("scan.help")),
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
            self._lines.data = {"xs": [], "ys": [], "group": [], "label": [], "color": []}
            self._points.data = {k: [] for k in _POINTS}
            self._baseline.visible = False
            self._note.value = ""
            return
        groups = s["groups"]
        every = s.get("all_groups", groups)  # colours by place in the whole scan: they stay as curves arrive
        palette = group_colors(len(every))
        colors = {g: palette[every.index(g)] if g in every else palette[0] for g in groups}
        curves = s["curves"]
        self._lines.data = {
            "xs": [[100 * r for r in curves[g]["ratio"]] for g in groups],
            "ys": [[100 * a for a in curves[g]["accuracy"]] for g in groups],
            "group": list(groups),
            "label": [self._labels.get(g, g) for g in groups],
            "color": [colors[g] for g in groups],
        }
        rows = s["rows"]
        self._points.data = {
            "x": [100 * r["ratio"] for r in rows],
            "y": [100 * r["accuracy"] for r in rows],
            "group": [r["group"] for r in rows],
            "label": [self._labels.get(r["group"], r["group"]) for r in rows],
            "ratio": [100 * r["ratio"] for r in rows],
            "accuracy": [100 * r["accuracy"] for r in rows],
            "loss": [r["loss"] for r in rows],
            "color": [colors[r["group"]] for r in rows],
        }
        self._baseline.location = 100 * s["baseline_accuracy"]
        self._baseline.visible = True
        t = self._t
        criterion = criterion_label(s["criterion"], t)
        running = s.get("running", False)
        self._fig.title.text = t(
            "scan.plot.title_running" if running else "scan.plot.title_done", criterion=criterion
        )
        notes = [
            t(
                "scan.note",
                accuracy=format_percent(s["baseline_accuracy"]),
                count=len(rows),
                criterion=escape(criterion),
            )
        ]
        where = {"layer": s.get("layer", 0), "layers": s.get("layers", len(groups))}
        if running:
            notes.append(t("scan.running", **where))
        elif s.get("cancelled"):
            notes.append(t("scan.partial", **where))
        if s.get("stale"):
            notes.append(t("scan.stale"))
        self._note.value = f"<div style='color:#5f6368;font-size:90%'>{' '.join(notes)}</div>"


class PlanView(w.VBox):
    """Apply a suggested plan (Li et al.'s ε rule, a MACs target, one global ratio); the sliders move."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        style, layout = {"description_width": "130px"}, w.Layout(width="400px")
        self._epsilon = w.FloatSlider(
            value=1.0,
            min=0.0,
            max=10.0,
            step=0.5,
            readout_format=".1f",
            description=t("plans.epsilon"),
            tooltip=t("plans.epsilon.hint"),
            style=style,
            layout=layout,
        )
        self._reduction = w.IntSlider(
            value=30,
            min=5,
            max=90,
            step=5,
            description=t("plans.reduction"),
            tooltip=t("plans.reduction.hint"),
            style=style,
            layout=layout,
        )
        self._ratio = w.FloatSlider(
            value=0.5,
            min=0.0,
            max=0.9,
            step=0.05,
            readout_format=".0%",
            description=t("plans.ratio"),
            tooltip=t("plans.ratio.hint"),
            style=style,
            layout=layout,
        )
        width = w.Layout(width="220px")
        self._li = w.Button(description=t("plans.li"), icon="check", layout=width)
        self._target = w.Button(description=t("plans.target"), icon="bullseye", layout=width)
        self._global = w.Button(description=t("plans.global"), icon="globe", layout=width)
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
                w.HTML(f"<h4 style='margin:4px 0'>{t('plans.title')}</h4>"),
                _help(t("plans.help")),
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
        t = self._t
        labels = layer_labels(self._state.groups, t, counts=False)
        ratios = ", ".join(f"{escape(labels.get(g, g))} {100 * r:.0f} %" for g, r in s["ratios"].items())
        criterion = escape(criterion_label(s["criterion"], t))
        if s["kind"] == "li":
            title = t("plans.done.li", epsilon=f"{100 * s['epsilon']:.1f}", criterion=criterion)
        elif s["kind"] == "target":
            title = t("plans.done.target", reduction=f"{100 * s['reduction']:.0f}", criterion=criterion)
        else:
            title = t("plans.done.global", ratio=f"{100 * s['ratio']:.0f}", criterion=criterion)
        parts = [f"<b>{title}</b>", t("plans.moved", ratios=ratios or t("plans.nothing"))]
        base_acc, base_macs = s["baseline_accuracy"], s["baseline_macs"]
        real_acc, real_macs = s.get("real_accuracy"), s.get("real_macs")
        measuring = t("plans.measuring")

        def acc_cell(value: float | None) -> str:
            if value is None:
                return measuring
            return f"{format_percent(value)} ({format_points(value - base_acc, t('unit.points'))})"

        def macs_cell(value: int | None) -> str:
            if value is None:
                return measuring
            return f"{format_count(value)} ({format_percent(value / base_macs if base_macs else 1.0)})"

        if s["kind"] == "target":
            parts.append(
                html_table(
                    ["", t("plans.predicted"), t("plans.real")],
                    [
                        [t("plot.accuracy_tip"), acc_cell(s["predicted_accuracy"]), acc_cell(real_acc)],
                        [t("plans.macs_row"), macs_cell(s["predicted_macs"]), macs_cell(real_macs)],
                    ],
                )
            )
            target = s.get("target_macs")
            if target is not None and s["predicted_macs"] is not None and s["predicted_macs"] > target:
                parts.append(t("plans.unreachable", target=format_count(target)))
        else:
            parts.append(
                html_table(
                    ["", t("plans.evaluated")],
                    [
                        [t("plot.accuracy_tip"), acc_cell(real_acc)],
                        [t("plans.macs_row"), macs_cell(real_macs)],
                    ],
                )
            )
        self._result.value = "<br>".join(parts)
