"""(e) The filter gallery: the selected layer's filters as small images, and what each one detects in one
validation image (tiles drawn by the core, ``session.views.gallery``)."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from bokeh.layouts import row
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.plotting import figure
from jupyter_bokeh import BokehModel

from explorer.ui.format import escape
from explorer.ui.naming import layer_labels
from explorer.ui.views._sync import serialized
from explorer.ui.views.plots import _status, quiet_toolbar


class GalleryView(w.VBox):
    """(e) the selected layer's filters as small images and their feature maps for one validation image."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        self._weights_image = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        self._maps_image = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        self._weights_tiles = ColumnDataSource({"x": [], "y": [], "channel": [], "status": []})
        self._maps_tiles = ColumnDataSource({"x": [], "y": [], "channel": [], "status": []})
        self._weights_fig = self._image_figure(
            t, t("gallery.weights"), self._weights_image, self._weights_tiles
        )
        self._maps_fig = self._image_figure(t, t("gallery.maps"), self._maps_image, self._maps_tiles)
        self._note = w.HTML()
        state.observe(self._update, names="gallery")
        self._update()
        self._plot = BokehModel(row(self._weights_fig, self._maps_fig), combine_events=True)
        super().__init__([self._note, self._plot], **kwargs)

    @staticmethod
    def _image_figure(t: Any, title: str, image: ColumnDataSource, tiles: ColumnDataSource) -> Any:
        fig = figure(
            title=title,
            x_range=Range1d(0, 1),
            y_range=Range1d(0, 1),
            x_axis_label=t("gallery.pixels"),
            y_axis_label=t("gallery.pixels"),
            tools="save,reset,wheel_zoom,pan",
            match_aspect=True,
            height=330,
            width=330,
        )
        fig.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=image)
        dots = fig.scatter(x="x", y="y", source=tiles, size=6, alpha=0.0)
        tips = [(t("gallery.channel_tip"), "@channel"), (t("plot.status_tip"), "@status")]
        fig.add_tools(HoverTool(renderers=[dots], tooltips=tips))
        fig.grid.visible = False
        quiet_toolbar(fig)
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
            "status": _status(list(g.pruned), self._t),
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
        t = self._t
        kind = t("gallery.rgb") if g.rgb else t("gallery.mean")
        layer = layer_labels(self._state.groups, t, counts=False).get(g.group, g.group)
        self._weights_fig.title.text = t("gallery.weights_for", layer=layer, kind=kind)
        self._maps_fig.title.text = t("gallery.maps_for", layer=layer, label=g.image_label)
        how = t("gallery.in_colour") if g.rgb else t("gallery.averaged")
        note = t("gallery.help", how=how)
        if g.weights is None:
            note += " " + t("gallery.not_conv", layer=escape(layer))
        self._note.value = f"<div style='color:#5f6368;font-size:90%'>{note}</div>"
