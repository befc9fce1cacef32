"""Bokeh figures, one ``jupyter_bokeh.BokehModel`` per group of linked figures.

A bokeh model belongs to one document, so figures that share a ``ColumnDataSource`` live in one
``row``/``column`` inside a single ``BokehModel``. Redrawing means assigning ``source.data`` (never
``push_notebook``, which does not reach Voilà). Each view fills its sources *before* wrapping them in a
``BokehModel``: the model's render bundle is what a newly rendered view shows, and changes made before the
browser renders it are lost. jupyter_bokeh needs BokehJS on the page: ``explorer.app.show`` loads it inline,
so nothing is fetched from a CDN.

(a) the selected layer's filters sorted by the active criterion (click a bar to prune or restore it),
(b) two criteria against each other, (c) per-layer overview; (d), the map of every plan tried, is
:mod:`explorer.ui.views.plan_map`, and (e), the filter gallery, :mod:`explorer.ui.views.gallery`.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as w
from bokeh.layouts import row
from bokeh.models import ColumnDataSource, HoverTool, TapTool
from bokeh.plotting import figure
from jupyter_bokeh import BokehModel

from explorer.ui.format import format_count, format_number
from explorer.ui.naming import criterion_label, layer_labels
from explorer.ui.views._sync import serialized

KEPT, PRUNED, CURRENT, FINETUNED = "#1a73e8", "#bdc1c6", "#d93025", "#188038"
_TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
_SMALL = {"height": 300, "width": 430}
_BESIDE_CARDS = {"height": 300, "width": 375}  # plots (a) and (b) share the left column with the controls


def quiet_toolbar(*figures: Any) -> None:
    """Hide each figure's toolbar until the pointer is over the figure (less clutter on a projector)."""
    for fig in figures:
        fig.toolbar.autohide = True


def _status(pruned: list[bool], t: Any) -> list[str]:
    kept, removed = t("plot.kept"), t("plot.pruned")
    return [removed if p else kept for p in pruned]


def _colors(pruned: list[bool]) -> list[str]:
    return [PRUNED if p else KEPT for p in pruned]


def _finite(values: list[float]) -> list[float]:
    # scores not computed yet are NaN: bokeh draws no bar (the hover shows the "f_" column instead)
    return [float(v) for v in values]


def _texts(values: list[float], missing: str) -> list[str]:
    """Scores as the hover shows them: a number, or ``missing`` for one not computed yet."""
    return [format_number(float(v)) if math.isfinite(float(v)) else missing for v in values]


class FilterPlotsView(w.VBox):
    """(a) sorted filter scores, clickable, and (b) criterion-vs-criterion scatter, sharing one source."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        names = [c["name"] for c in state.criteria]
        self._names = names
        self._labels = layer_labels(state.groups, t, counts=False)
        empty = {
            "x": [],
            "channel": [],
            "rank": [],
            "score": [],
            "cx": [],
            "cy": [],
            "color": [],
            "status": [],
            **{f"s_{n}": [] for n in names},
            **{f"f_{n}": [] for n in names},
        }
        self._source = ColumnDataSource(empty)
        tips = [
            (t("plot.filter_tip"), "@channel"),
            (t("plot.rank_tip"), "@rank"),
            (t("plot.status_tip"), "@status"),
        ] + [(criterion_label(n, t), f"@f_{n}") for n in names]
        self._bars = figure(
            title=t("filters.plot.title"),
            x_axis_label=t("filters.plot.x"),
            y_axis_label=t("filters.plot.y"),
            tools=_TOOLS,
            **_BESIDE_CARDS,
        )
        self._bars.vbar(
            x="x", top="score", width=0.8, source=self._source, color="color", legend_field="status"
        )
        self._bars.add_tools(HoverTool(tooltips=tips), TapTool())
        self._bars.legend.location = "top_left"
        self._bars.xgrid.visible = False
        self._scatter = figure(
            title=t("filters.scatter.title"), x_axis_label="", y_axis_label="", tools=_TOOLS, **_BESIDE_CARDS
        )
        self._scatter.scatter(
            x="cx", y="cy", size=8, source=self._source, color="color", legend_field="status", alpha=0.8
        )
        self._scatter.add_tools(HoverTool(tooltips=tips), TapTool())
        self._scatter.legend.location = "top_left"
        quiet_toolbar(self._bars, self._scatter)
        self._source.selected.on_change("indices", self._tapped)
        state.observe(self._update, names="scores")
        self._update()  # before BokehModel: data set later reaches only views already rendered
        self._plot = BokehModel(row(self._bars, self._scatter), combine_events=True)
        self._group = w.Dropdown(
            options=[(label, name) for name, label in layer_labels(state.groups, t).items()],
            description=t("filters.layer"),
            style={"description_width": "initial"},
            layout=w.Layout(width="270px"),
        )
        w.link((state, "selected_group"), (self._group, "value"))
        options = [(criterion_label(n, t), n) for n in names]
        narrow = {"description_width": "initial"}
        self._x = w.Dropdown(options=options, description="x", style=narrow, layout=w.Layout(width="210px"))
        self._y = w.Dropdown(options=options, description="y", style=narrow, layout=w.Layout(width="210px"))
        self._x.observe(self._compare_chosen, names="value")
        self._y.observe(self._compare_chosen, names="value")
        self._syncing = False
        compare = w.HTML(f"&nbsp;{t('filters.compare')}")
        compare_help = w.HTML(f"<div style='color:#5f6368;font-size:90%'>{t('filters.compare_help')}</div>")
        #: what compares two criteria (the lesson shows it with the criteria): the dropdowns and plot (b)
        self.compare_parts = [compare, compare_help, self._x, self._y, self._scatter]
        super().__init__(
            [
                w.HBox(
                    [self._group, compare, self._x, self._y],
                    layout=w.Layout(flex_flow="row wrap", align_items="center"),
                ),
                w.HTML(f"<div style='color:#5f6368;font-size:90%'>{t('filters.help')}</div>"),
                compare_help,
                self._plot,
            ],
            **kwargs,
        )
        state.observe(self._compare_changed, names="compare")
        self._compare_changed()

    @property
    def source(self) -> ColumnDataSource:
        """The shared source (row i = the filter of rank i + 1)."""
        return self._source

    @property
    def figures(self) -> tuple[Any, Any]:
        return self._bars, self._scatter

    def _tapped(self, _attr: str, _old: list[int], _new: list[int]) -> None:
        # read the current selection, not the callback's argument: jupyter_bokeh runs each callback twice
        # for a browser change, and the second call must not toggle the filter back
        new = list(self._source.selected.indices)
        if not new:
            return
        # rows follow the state's order, not source.data: jupyter_bokeh echoes old data back from the browser
        scores = self._state.scores
        group, order = scores.get("group"), scores.get("order", [])
        channels = [order[i] for i in new if i < len(order)]
        self._source.selected.indices = []  # so that the next click on the same bar counts again
        for channel in channels:
            self._state.toggle_filter(group, int(channel))

    def _compare_chosen(self, _change: dict) -> None:
        if not self._syncing:
            self._state.compare = (self._x.value, self._y.value)

    @serialized
    def _compare_changed(self, _change: Any = None) -> None:
        self._syncing = True
        try:
            self._x.value, self._y.value = self._state.compare
        finally:
            self._syncing = False

    @serialized
    def _update(self, _change: Any = None) -> None:
        s = self._state.scores
        if not s:
            return
        order = s["order"]
        values = s["values"]
        pruned = [s["pruned"][i] for i in order]
        x_name, y_name = s["compare"]
        data = {
            "x": list(range(1, len(order) + 1)),
            "channel": list(order),
            "rank": [s["rank"][i] for i in order],
            "score": _finite([values[s["criterion"]][i] for i in order]),
            "cx": _finite([values[x_name][i] for i in order]),
            "cy": _finite([values[y_name][i] for i in order]),
            "color": _colors(pruned),
            "status": _status(pruned, self._t),
            **{f"s_{n}": _finite([values[n][i] for i in order]) for n in self._names},
            **{f"f_{n}": _texts([values[n][i] for i in order], "—") for n in self._names},
        }
        self._source.data = data
        t = self._t
        layer = self._labels.get(s["group"], s["group"])
        shown = criterion_label(s["criterion"], t)  # plain words in the page; the code name in tooltips
        x_name, y_name = criterion_label(x_name, t), criterion_label(y_name, t)
        self._bars.title.text = t("filters.plot.title_for", layer=layer, count=len(order), criterion=shown)
        self._bars.yaxis.axis_label = t("filters.plot.score", criterion=shown)
        rho = s["rho"]
        rho_text = f"{rho:.2f}" if isinstance(rho, float) and math.isfinite(rho) else t("filters.no_rho")
        self._scatter.title.text = t(
            "filters.scatter.title_for", layer=layer, x=x_name, y=y_name, rho=rho_text
        )
        self._scatter.xaxis.axis_label = t("filters.plot.score", criterion=x_name)
        self._scatter.yaxis.axis_label = t("filters.plot.score", criterion=y_name)


class OverviewView(w.VBox):
    """(c) channels kept per layer and each layer's share of the network's MACs; click a bar to inspect it."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        t = state.t
        self._labels = layer_labels(state.groups, t, counts=False)
        names = [self._labels[g["name"]] for g in state.groups]
        columns = ("group", "layer", "kept", "total", "macs", "share", "base_share", "label")
        self._source = ColumnDataSource({c: [] for c in columns})
        layer, original = t("plot.layer_tip"), t("plot.original")
        self._channels = figure(
            title=t("overview.channels.title"),
            x_range=names,
            x_axis_label=layer,
            y_axis_label=t("overview.channels.y"),
            tools="save,reset",
            **_SMALL,
        )
        self._channels.vbar(
            x="layer", top="total", width=0.8, source=self._source, color=PRUNED, legend_label=original
        )
        self._channels.vbar(
            x="layer", top="kept", width=0.5, source=self._source, color=KEPT, legend_label=t("plot.kept")
        )
        self._channels.add_tools(
            HoverTool(tooltips=[(layer, "@layer (@group)"), (t("plot.kept"), t("overview.kept_tip"))]),
            TapTool(),
        )
        self._macs = figure(
            title=t("overview.macs.title"),
            x_range=names,
            x_axis_label=layer,
            y_axis_label=t("overview.macs.y"),
            tools="save,reset",
            **_SMALL,
        )
        self._macs.vbar(
            x="layer", top="base_share", width=0.8, source=self._source, color=PRUNED, legend_label=original
        )
        self._macs.vbar(
            x="layer", top="share", width=0.5, source=self._source, color=KEPT, legend_label=t("plot.now")
        )
        self._macs.add_tools(
            HoverTool(
                tooltips=[
                    (layer, "@layer (@group)"),
                    (t("overview.macs_tip"), "@label"),
                    (t("overview.share_tip"), "@share%"),
                ]
            )
        )
        for fig in (self._channels, self._macs):
            fig.xaxis.major_label_orientation = 0.8 if len(names) > 5 else 0.0
            fig.legend.location = "top_left"
            fig.xgrid.visible = False
        quiet_toolbar(self._channels, self._macs)
        self._source.selected.on_change("indices", self._tapped)
        state.observe(self._update, names="layers")
        self._update()
        self._plot = BokehModel(row(self._channels, self._macs), combine_events=True)
        super().__init__(
            [
                w.HTML(f"<div style='color:#5f6368;font-size:90%'>{t('overview.help')}</div>"),
                self._plot,
            ],
            **kwargs,
        )

    @property
    def source(self) -> ColumnDataSource:
        return self._source

    def _tapped(self, _attr: str, _old: list[int], _new: list[int]) -> None:
        new = list(self._source.selected.indices)  # the current selection (see FilterPlotsView._tapped)
        names = self._state.layers.get("group", [])
        if new and new[0] < len(names):
            self._source.selected.indices = []
            self._state.selected_group = names[new[0]]

    @serialized
    def _update(self, _change: Any = None) -> None:
        layers = self._state.layers
        if not layers:
            return
        self._source.data = {
            "group": list(layers["group"]),
            "layer": [self._labels.get(g, g) for g in layers["group"]],
            "kept": list(layers["kept"]),
            "total": list(layers["total"]),
            "macs": list(layers["macs"]),
            "share": [100 * s for s in layers["macs_share"]],
            "base_share": [100 * s for s in layers["base_macs_share"]],
            "label": [format_count(m) for m in layers["macs"]],
        }
