"""(d) The map of plans: accuracy against MACs of every plan evaluated, its Pareto front, the reference plans,
each point's provenance, click to restore, and the history saved to and reloaded from JSON.

The points are ``state.trajectory`` (each with its provenance and whether it is on the front); the reference
plans are ``state.analyses.plans.references``. A click on a point restores that plan with its weights
(``state.analyses.plans.restore``). The legend sits outside the data, on the right.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from bokeh.models import ColumnDataSource, HoverTool, Legend, TapTool
from bokeh.plotting import figure
from jupyter_bokeh import BokehModel

from explorer.ui.format import escape, format_count, format_percent
from explorer.ui.naming import criterion_label, layer_labels
from explorer.ui.views._sync import serialized
from explorer.ui.views.controls import _help
from explorer.ui.views.plots import _TOOLS, CURRENT, FINETUNED, KEPT, PRUNED, quiet_toolbar

RECONSTRUCTED, LOADED, FRONT = "#a142f4", "#80868b", "#202124"
#: Reference kind → (catalogue key of its name, colour, marker, dash).
_REFERENCES = {
    "uniform": ("map.ref.uniform", "#f29900", "square", "dashed"),
    "global": ("map.ref.global", "#12b5cb", "triangle", "dashed"),
    "random": ("map.ref.random", "#5f6368", "x", "dotted"),
    "li": ("map.ref.li", "#e52592", "diamond", "dashdot"),
}
#: Provenance source (``kind`` of ``kind:detail``) → catalogue key of its words.
_SOURCES = {
    "original": "map.source.original",
    "slider": "map.source.slider",
    "sliders": "map.source.sliders",
    "global": "map.source.global",
    "filter": "map.source.filter",
    "suggestion": "map.source.suggestion",
    "undo": "map.source.undo",
    "redo": "map.source.redo",
    "reset": "map.source.reset",
    "criterion": "map.source.criterion",
    "finetune": "map.source.finetune",
    "reconstruct": "map.source.reconstruct",
    "map": "map.source.map",
    "precision": "map.source.precision",
    "other": "map.source.other",
}
_SUGGESTIONS = {
    "li": "map.suggestion.li",
    "target": "map.suggestion.target",
    "global": "map.suggestion.global",
}
_EMPTY = {"macs": [], "accuracy": [], "setting": [], "criterion": []}


def source_text(point: dict[str, Any], t: Any, labels: dict[str, str]) -> str:
    """Where a point's plan came from, in words (``""`` before it is recorded)."""
    source, detail = point.get("source"), point.get("detail", "")
    if not source:
        return ""
    if source == "suggestion":
        detail = t(_SUGGESTIONS[detail]) if detail in _SUGGESTIONS else detail
    else:
        detail = ", ".join(labels.get(g, g) for g in detail.split(",") if g)
    key = _SOURCES.get(source)
    text = t(key, detail=detail) if key else source
    return text + (t("map.from_file") if point.get("loaded") else "")


def weights_text(label: str, t: Any) -> str:
    return t("weights.original") if label in ("", "original") else label


class PlanMapView(w.VBox):
    """(d) every plan on one map: click a point to go back to it; the side panel tells where it came from."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._plans = state.analyses.plans
        self._t = t = state.t
        self._labels = layer_labels(state.groups, t, counts=False)
        columns = ("macs", "accuracy", "label", "step", "color", "size", "status", "marker", "source")
        self._source = ColumnDataSource({c: [] for c in (*columns, "criteria", "weights")})
        self._links = ColumnDataSource({"macs": [], "before": [], "after": []})
        self._front = ColumnDataSource({"macs": [], "accuracy": []})
        self._refs = {kind: ColumnDataSource(dict(_EMPTY)) for kind in _REFERENCES}
        fig = figure(
            title=t("trajectory.title"),
            x_axis_label=t("trajectory.x"),
            y_axis_label=t("plot.accuracy_axis"),
            tools=_TOOLS,
            height=330,
            width=760,
        )
        legend = Legend(location="top_left", click_policy="hide", label_text_font_size="11px")
        fig.add_layout(legend, "right")
        for kind, (key, colour, marker, dash) in _REFERENCES.items():
            ref = self._refs[kind]
            fig.line(x="macs", y="accuracy", source=ref, color=colour, line_dash=dash, legend_label=t(key))
            fig.scatter(
                x="macs", y="accuracy", source=ref, color=colour, marker=marker, size=7, legend_label=t(key)
            )
        fig.line(
            x="macs",
            y="accuracy",
            source=self._source,
            color=PRUNED,
            line_dash="dotted",
            legend_label=t("map.order"),
        )
        fig.step(
            x="macs",
            y="accuracy",
            source=self._front,
            mode="after",
            color=FRONT,
            line_width=2,
            alpha=0.6,
            legend_label=t("map.front"),
        )
        fig.segment(
            x0="macs",
            y0="before",
            x1="macs",
            y1="after",
            source=self._links,
            color=FINETUNED,
            line_width=2,
            legend_label=t("map.recovery"),
        )
        points = fig.scatter(
            x="macs",
            y="accuracy",
            size="size",
            color="color",
            marker="marker",
            source=self._source,
            legend_field="status",
        )
        tips = [
            (t("trajectory.plan_tip"), "@label"),
            (t("map.source_tip"), "@source"),
            (t("map.criteria_tip"), "@criteria"),
            (t("map.weights_tip"), "@weights"),
            (t("overview.macs_tip"), "@macs{0.000} M"),
            (t("plot.accuracy_short_tip"), "@accuracy{0.0} %"),
        ]
        fig.add_tools(HoverTool(renderers=[points], tooltips=tips), TapTool(renderers=[points]))
        ref_tips = [(t("map.setting_tip"), "@setting"), (t("map.criteria_tip"), "@criterion")]
        ref_tips += [
            (t("overview.macs_tip"), "@macs{0.000} M"),
            (t("plot.accuracy_short_tip"), "@accuracy{0.0} %"),
        ]
        refs = [r for r in fig.renderers if r.data_source in self._refs.values()]
        fig.add_tools(HoverTool(renderers=refs, tooltips=ref_tips))
        quiet_toolbar(fig)
        self._fig = fig
        self._source.selected.on_change("indices", self._tapped)
        self._panel = w.HTML(layout=w.Layout(width="250px"))
        self._path = w.Text(
            value="plans-history.json",
            description=t("map.file"),
            tooltip=t("map.file.hint"),
            style={"description_width": "initial"},
            layout=w.Layout(width="320px"),
        )
        self._save = w.Button(description=t("map.save"), icon="download", tooltip=t("map.save.hint"))
        self._load = w.Button(description=t("map.load"), icon="upload", tooltip=t("map.load.hint"))
        self._save.on_click(lambda _b: self._plans.save(self._path.value))
        self._load.on_click(lambda _b: self._plans.load(self._path.value))
        self._file = w.HTML()
        state.observe(self._update, names="trajectory")
        self._plans.observe(self._update_references, names="references")
        self._plans.observe(self._update_panel, names="selected")
        self._plans.observe(self._update_file, names="file")
        self._update()
        self._update_references()
        self._update_file()
        self._plot = BokehModel(fig, combine_events=True)
        self._plans.wanted = True
        self._plans.request_references()
        super().__init__(
            [
                _help(t("trajectory.help") + " " + t("map.help")),
                w.HBox([self._plot, self._panel], layout=w.Layout(flex_flow="row wrap")),
                w.HBox([self._path, self._save, self._load], layout=w.Layout(flex_flow="row wrap")),
                self._file,
            ],
            **kwargs,
        )

    @property
    def source(self) -> ColumnDataSource:
        """One row per point of ``state.trajectory``, in its order."""
        return self._source

    @property
    def links(self) -> ColumnDataSource:
        """One row per fine-tuning or reconstruction: the plan's accuracy before and after, at its MACs."""
        return self._links

    @property
    def front(self) -> ColumnDataSource:
        return self._front

    @property
    def references(self) -> dict[str, ColumnDataSource]:
        return self._refs

    @property
    def figure(self) -> Any:
        return self._fig

    @property
    def buttons(self) -> dict[str, w.Button]:
        return {"save": self._save, "load": self._load}

    @property
    def path(self) -> w.Text:
        return self._path

    @property
    def panel(self) -> str:
        return self._panel.value

    def _tapped(self, _attr: str, _old: list[int], _new: list[int]) -> None:
        new = list(self._source.selected.indices)  # the current selection (see FilterPlotsView._tapped)
        if not new:
            return
        self._source.selected.indices = []
        self._plans.restore(new[0])

    @serialized
    def _update(self, _change: Any = None) -> None:
        points, t = self._state.trajectory, self._t
        names = {
            "finetuned": t("trajectory.after_finetuning"),
            "reconstructed": t("map.after_reconstruction_status"),
            "loaded": t("map.loaded"),
        }
        current, earlier = t("trajectory.current"), t("trajectory.earlier")
        colours = {"finetuned": FINETUNED, "reconstructed": RECONSTRUCTED, "loaded": LOADED}
        markers = {"finetuned": "star", "reconstructed": "diamond", "loaded": "circle_x"}
        self._source.data = {
            "macs": [p["macs"] / 1e6 for p in points],
            "accuracy": [100 * p["accuracy"] for p in points],
            "label": [p["label"] for p in points],
            "step": [p["step"] for p in points],
            "color": [CURRENT if p["current"] else colours.get(p["kind"], KEPT) for p in points],
            "size": [(16 if p["kind"] != "plan" else 14) if p["current"] else 9 for p in points],
            "status": [
                names[p["kind"]] if p["kind"] in names else current if p["current"] else earlier
                for p in points
            ],
            "marker": [markers.get(p["kind"], "circle") for p in points],
            "source": [source_text(p, t, self._labels) for p in points],
            "criteria": [", ".join(criterion_label(c, t) for c in p.get("criteria", [])) for p in points],
            "weights": [weights_text(p.get("weights", ""), t) for p in points],
        }
        links = [
            p for p in points if p["kind"] in ("finetuned", "reconstructed") and p.get("before") is not None
        ]
        self._links.data = {
            "macs": [p["macs"] / 1e6 for p in links],
            "before": [100 * p["before"] for p in links],
            "after": [100 * p["accuracy"] for p in links],
        }
        front = sorted((p for p in points if p.get("pareto")), key=lambda p: p["macs"])
        self._front.data = {
            "macs": [p["macs"] / 1e6 for p in front],
            "accuracy": [100 * p["accuracy"] for p in front],
        }
        self._update_panel()

    @serialized
    def _update_references(self, _change: Any = None) -> None:
        refs, t = self._plans.references, self._t
        for kind, source in self._refs.items():
            rows = sorted((r for r in refs if r["kind"] == kind), key=lambda r: r["macs"])
            source.data = {
                "macs": [r["macs"] / 1e6 for r in rows],
                "accuracy": [100 * r["accuracy"] for r in rows],
                "setting": [
                    t("map.epsilon", points=f"{100 * r['setting']:g}")
                    if kind == "li"
                    else format_percent(r["setting"])
                    for r in rows
                ],
                "criterion": [criterion_label(r["criterion"], t) for r in rows],
            }

    @serialized
    def _update_panel(self, _change: Any = None) -> None:
        t, chosen = self._t, self._plans.selected
        points = self._state.trajectory
        point = next((p for p in points if chosen and p["key"] == chosen.get("key")), None)
        point = point or next((p for p in points if p["current"]), None)
        if point is None:
            self._panel.value = ""
            return
        rows = [
            (t("trajectory.plan_tip"), escape(point["label"])),
            (t("map.number_tip"), f"#{point['plan_number']}" if "plan_number" in point else "—"),
            (t("map.source_tip"), escape(source_text(point, t, self._labels)) or "—"),
            (
                t("map.criteria_tip"),
                escape(", ".join(criterion_label(c, t) for c in point.get("criteria", []))),
            ),
            (t("map.weights_tip"), escape(weights_text(point.get("weights", ""), t))),
            (t("plot.accuracy_short_tip"), format_percent(point["accuracy"])),
            (t("overview.macs_tip"), format_count(point["macs"])),
        ]
        rows = [(k, v or "—") for k, v in rows]
        title = t("map.clicked") if point.get("key") == chosen.get("key") else t("map.current")
        body = "".join(
            f"<tr><td style='color:#5f6368;padding-right:6px'>{k}</td><td>{v}</td></tr>" for k, v in rows
        )
        note = ""
        if point.get("key") == chosen.get("key") and not chosen.get("through_history"):
            note = f"<div style='color:#5f6368;font-size:90%'>{escape(t('map.reapplied'))}</div>"
        self._panel.value = (
            f"<div style='font-size:90%;padding:4px 8px'><b>{escape(title)}</b>"
            f"<table style='margin-top:4px'>{body}</table>{note}</div>"
        )

    @serialized
    def _update_file(self, _change: Any = None) -> None:
        f, t = self._plans.file, self._t
        if not f:
            self._file.value = ""
            return
        key = "map.saved" if f["action"] == "saved" else "map.loaded_file"
        text = t(key, count=f["count"], path=escape(f["path"]), added=f.get("added", 0))
        self._file.value = f"<div style='color:#5f6368;font-size:90%'>{text}</div>"


#: The name the app and its tests use for plot (d).
TrajectoryView = PlanMapView

__all__ = ["PlanMapView", "TrajectoryView", "source_text", "weights_text"]
