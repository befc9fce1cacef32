"""Bokeh figures, one ``jupyter_bokeh.BokehModel`` per group of linked figures.

A bokeh model belongs to one document, so figures that share a ``ColumnDataSource`` live in one
``row``/``column`` inside a single ``BokehModel``. Redrawing means assigning ``source.data`` (never
``push_notebook``, which does not reach Voilà). Each view fills its sources *before* wrapping them in a
``BokehModel``: the model's render bundle is what a newly rendered view shows, and changes made before the
browser renders it are lost. jupyter_bokeh needs BokehJS on the page: ``explorer.app.show`` loads it inline,
so nothing is fetched from a CDN.

(a) the selected layer's filters sorted by the active criterion (click a bar to prune or restore it),
(b) two criteria against each other, (c) per-layer overview, (d) the trajectory of visited plans,
(d) also marks each fine-tuning (a star joined to the plan before it), (e) the filter gallery.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as w
from bokeh.layouts import row
from bokeh.models import ColumnDataSource, HoverTool, Range1d, TapTool
from bokeh.plotting import figure
from jupyter_bokeh import BokehModel

from explorer.ui.format import escape, format_count
from explorer.ui.views._sync import serialized

KEPT, PRUNED, CURRENT, FINETUNED = "#1a73e8", "#bdc1c6", "#d93025", "#188038"
_TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
_SMALL = {"height": 300, "width": 430}


def _status(pruned: list[bool]) -> list[str]:
    return ["pruned" if p else "kept" for p in pruned]


def _colors(pruned: list[bool]) -> list[str]:
    return [PRUNED if p else KEPT for p in pruned]


def _finite(values: list[float]) -> list[float]:
    # scores not computed yet are NaN: bokeh draws no bar and the hover shows NaN
    return [float(v) for v in values]


class FilterPlotsView(w.VBox):
    """(a) sorted filter scores, clickable, and (b) criterion-vs-criterion scatter, sharing one source."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        names = [c["name"] for c in state.criteria]
        self._names = names
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
        }
        self._source = ColumnDataSource(empty)
        tips = [("filter", "@channel"), ("rank", "@rank"), ("status", "@status")] + [
            (n, f"@s_{n}{{0.0000}}") for n in names
        ]
        self._bars = figure(
            title="Filters by score",
            x_axis_label="rank (1 = removed first)",
            y_axis_label="score",
            tools=_TOOLS,
            **_SMALL,
        )
        self._bars.vbar(
            x="x", top="score", width=0.8, source=self._source, color="color", legend_field="status"
        )
        self._bars.add_tools(HoverTool(tooltips=tips), TapTool())
        self._bars.legend.location = "top_left"
        self._bars.xgrid.visible = False
        self._scatter = figure(title="Two criteria", x_axis_label="", y_axis_label="", tools=_TOOLS, **_SMALL)
        self._scatter.scatter(
            x="cx", y="cy", size=8, source=self._source, color="color", legend_field="status", alpha=0.8
        )
        self._scatter.add_tools(HoverTool(tooltips=tips), TapTool())
        self._scatter.legend.location = "top_left"
        self._source.selected.on_change("indices", self._tapped)
        state.observe(self._update, names="scores")
        self._update()  # before BokehModel: data set later reaches only views already rendered
        self._plot = BokehModel(row(self._bars, self._scatter), combine_events=True)
        self._group = w.Dropdown(
            options=[g["name"] for g in state.groups],
            description="Layer",
            style={"description_width": "50px"},
        )
        w.link((state, "selected_group"), (self._group, "value"))
        self._x = w.Dropdown(options=names, description="x", layout=w.Layout(width="170px"))
        self._y = w.Dropdown(options=names, description="y", layout=w.Layout(width="170px"))
        self._x.observe(self._compare_chosen, names="value")
        self._y.observe(self._compare_chosen, names="value")
        self._syncing = False
        super().__init__(
            [
                w.HBox([self._group, w.HTML("&nbsp;Compare:"), self._x, self._y]),
                w.HTML(
                    "<div style='color:#5f6368;font-size:90%'>Left: the layer's filters, lowest score first; "
                    "grey ones are pruned. Click a bar (or a point) to prune or restore that filter by hand. "
                    "Right: do two criteria agree? Spearman ρ near 1 means they rank filters alike.</div>"
                ),
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
            "status": _status(pruned),
            **{f"s_{n}": _finite([values[n][i] for i in order]) for n in self._names},
        }
        self._source.data = data
        self._bars.title.text = f"{s['group']}: {len(order)} filters by {s['criterion']} score"
        self._bars.yaxis.axis_label = f"{s['criterion']} score (unitless)"
        rho = s["rho"]
        rho_text = f"{rho:.2f}" if isinstance(rho, float) and math.isfinite(rho) else "n/a"
        self._scatter.title.text = f"{s['group']}: {x_name} vs {y_name}, Spearman ρ = {rho_text}"
        self._scatter.xaxis.axis_label = f"{x_name} score (unitless)"
        self._scatter.yaxis.axis_label = f"{y_name} score (unitless)"


class OverviewView(w.VBox):
    """(c) channels kept per layer and each layer's share of the network's MACs; click a bar to inspect it."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        names = [g["name"] for g in state.groups]
        self._source = ColumnDataSource(
            {"group": [], "kept": [], "total": [], "macs": [], "share": [], "base_share": [], "label": []}
        )
        self._channels = figure(
            title="Channels kept per layer",
            x_range=names,
            x_axis_label="layer",
            y_axis_label="channels",
            tools="save,reset",
            **_SMALL,
        )
        self._channels.vbar(
            x="group", top="total", width=0.8, source=self._source, color=PRUNED, legend_label="original"
        )
        self._channels.vbar(
            x="group", top="kept", width=0.5, source=self._source, color=KEPT, legend_label="kept"
        )
        self._channels.add_tools(
            HoverTool(tooltips=[("layer", "@group"), ("kept", "@kept of @total")]), TapTool()
        )
        self._macs = figure(
            title="Share of the network's MACs",
            x_range=names,
            x_axis_label="layer",
            y_axis_label="share of MACs (%)",
            tools="save,reset",
            **_SMALL,
        )
        self._macs.vbar(
            x="group", top="base_share", width=0.8, source=self._source, color=PRUNED, legend_label="original"
        )
        self._macs.vbar(
            x="group", top="share", width=0.5, source=self._source, color=KEPT, legend_label="now"
        )
        self._macs.add_tools(
            HoverTool(tooltips=[("layer", "@group"), ("MACs", "@label"), ("share", "@share%")])
        )
        for fig in (self._channels, self._macs):
            fig.xaxis.major_label_orientation = 0.8
            fig.legend.location = "top_left"
            fig.xgrid.visible = False
        self._source.selected.on_change("indices", self._tapped)
        state.observe(self._update, names="layers")
        self._update()
        self._plot = BokehModel(row(self._channels, self._macs), combine_events=True)
        super().__init__(
            [
                w.HTML(
                    "<div style='color:#5f6368;font-size:90%'>Where the compute is: pruning a layer that "
                    "holds a large share of the MACs saves the most. Click a layer's bar to inspect it.</div>"
                ),
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
            "kept": list(layers["kept"]),
            "total": list(layers["total"]),
            "macs": list(layers["macs"]),
            "share": [100 * s for s in layers["macs_share"]],
            "base_share": [100 * s for s in layers["base_macs_share"]],
            "label": [format_count(m) for m in layers["macs"]],
        }


class TrajectoryView(w.VBox):
    """(d) accuracy against MACs of every plan evaluated so far; the current plan is highlighted, and each
    fine-tuning is a star joined to the same plan before it."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._source = ColumnDataSource(
            {
                "macs": [],
                "accuracy": [],
                "label": [],
                "step": [],
                "color": [],
                "size": [],
                "status": [],
                "marker": [],
            }
        )
        self._links = ColumnDataSource({"macs": [], "before": [], "after": []})
        self._fig = figure(
            title="Every plan you tried",
            x_axis_label="MACs per image (millions)",
            y_axis_label="top-1 accuracy (%)",
            tools=_TOOLS,
            height=300,
            width=520,
        )
        self._fig.line(x="macs", y="accuracy", source=self._source, color=PRUNED, line_dash="dotted")
        self._fig.segment(
            x0="macs", y0="before", x1="macs", y1="after", source=self._links, color=FINETUNED, line_width=2
        )
        self._fig.scatter(
            x="macs",
            y="accuracy",
            size="size",
            color="color",
            marker="marker",
            source=self._source,
            legend_field="status",
        )
        self._fig.add_tools(
            HoverTool(
                tooltips=[("plan", "@label"), ("MACs", "@macs{0.000} M"), ("accuracy", "@accuracy{0.0} %")]
            )
        )
        self._fig.legend.location = "bottom_right"
        state.observe(self._update, names="trajectory")
        self._update()
        self._plot = BokehModel(self._fig, combine_events=True)
        super().__init__(
            [
                w.HTML(
                    "<div style='color:#5f6368;font-size:90%'>Each point is a plan you evaluated: the best "
                    "plans sit top-left (accurate and cheap). The red point is the current plan; a star is "
                    "a plan after fine-tuning, joined by a green line to the same plan before it.</div>"
                ),
                self._plot,
            ],
            **kwargs,
        )

    @property
    def source(self) -> ColumnDataSource:
        return self._source

    @property
    def links(self) -> ColumnDataSource:
        """One row per fine-tuning: the plan's accuracy before and after, at its MACs."""
        return self._links

    @serialized
    def _update(self, _change: Any = None) -> None:
        points = self._state.trajectory
        tuned = [p.get("kind") == "finetuned" for p in points]
        self._source.data = {
            "macs": [p["macs"] / 1e6 for p in points],
            "accuracy": [100 * p["accuracy"] for p in points],
            "label": [p["label"] for p in points],
            "step": [p["step"] for p in points],
            "color": [
                CURRENT if p["current"] else FINETUNED if t else KEPT
                for p, t in zip(points, tuned, strict=True)
            ],
            "size": [
                (18 if t else 14) if p["current"] else (14 if t else 8)
                for p, t in zip(points, tuned, strict=True)
            ],
            "status": [
                "after fine-tuning" if t else "current plan" if p["current"] else "earlier plan"
                for p, t in zip(points, tuned, strict=True)
            ],
            "marker": ["star" if t else "circle" for t in tuned],
        }
        links = [p for p, t in zip(points, tuned, strict=True) if t and p.get("before") is not None]
        self._links.data = {
            "macs": [p["macs"] / 1e6 for p in links],
            "before": [100 * p["before"] for p in links],
            "after": [100 * p["accuracy"] for p in links],
        }


class GalleryView(w.VBox):
    """(e) the selected layer's filters as small images and their feature maps for one validation image."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._weights_image = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        self._maps_image = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        self._weights_tiles = ColumnDataSource({"x": [], "y": [], "channel": [], "status": []})
        self._maps_tiles = ColumnDataSource({"x": [], "y": [], "channel": [], "status": []})
        self._weights_fig = self._image_figure("Filters (weights)", self._weights_image, self._weights_tiles)
        self._maps_fig = self._image_figure("Feature maps", self._maps_image, self._maps_tiles)
        self._note = w.HTML()
        state.observe(self._update, names="gallery")
        self._update()
        self._plot = BokehModel(row(self._weights_fig, self._maps_fig), combine_events=True)
        super().__init__([self._note, self._plot], **kwargs)

    @staticmethod
    def _image_figure(title: str, image: ColumnDataSource, tiles: ColumnDataSource) -> Any:
        fig = figure(
            title=title,
            x_range=Range1d(0, 1),
            y_range=Range1d(0, 1),
            x_axis_label="pixels",
            y_axis_label="pixels",
            tools="save,reset,wheel_zoom,pan",
            match_aspect=True,
            height=330,
            width=330,
        )
        fig.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=image)
        dots = fig.scatter(x="x", y="y", source=tiles, size=6, alpha=0.0)
        fig.add_tools(HoverTool(renderers=[dots], tooltips=[("channel", "@channel"), ("status", "@status")]))
        fig.grid.visible = False
        return fig

    @property
    def sources(self) -> dict[str, ColumnDataSource]:
        return {"weights": self._weights_image, "maps": self._maps_image}

    def _show(self, fig: Any, image: Any, tiles: ColumnDataSource, source: ColumnDataSource, xs, ys) -> None:
        g = self._state.gallery
        if image is None:
            source.data = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
            tiles.data = {"x": [], "y": [], "channel": [], "status": []}
            return
        height, width = image.shape
        source.data = {"image": [image], "x": [0], "y": [0], "dw": [width], "dh": [height]}
        tiles.data = {
            "x": list(xs),
            "y": list(ys),
            "channel": list(g.channel),
            "status": ["pruned" if p else "kept" for p in g.pruned],
        }
        fig.x_range.start, fig.x_range.end = 0, width
        fig.y_range.start, fig.y_range.end = 0, height

    @serialized
    def _update(self, _change: Any = None) -> None:
        g = self._state.gallery
        if g is None:
            return
        self._show(
            self._weights_fig, g.weights, self._weights_tiles, self._weights_image, g.tiles_x, g.tiles_y
        )
        self._show(self._maps_fig, g.maps, self._maps_tiles, self._maps_image, g.map_tiles_x, g.map_tiles_y)
        kind = "RGB" if g.rgb else "mean over inputs"
        self._weights_fig.title.text = f"{g.group} filters ({kind})"
        self._maps_fig.title.text = f"{g.group} outputs, one '{g.image_label}'"
        self._note.value = (
            "<div style='color:#5f6368;font-size:90%'>Each tile is one filter (left: its weights, "
            + ("in colour" if g.rgb else "averaged over its input channels, red &gt; 0 &gt; blue")
            + ") and what it detects in one validation image (right). Pruned channels are dark, framed in "
            "red."
            + ("" if g.weights is not None else f" {escape(g.group)} is not a convolution: no filter images.")
            + "</div>"
        )
