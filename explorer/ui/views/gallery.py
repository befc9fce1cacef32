"""(e) The filter gallery: the selected layer's filters as small images, and what each one detects in one
validation image (tiles drawn by the core, ``session.views.gallery``).

A tile grid has no axes (its pixel coordinates mean nothing): each tile carries its channel number, a line
under the grid says what the tiles are, and a legend outside the tiles explains the frames (kept, pruned).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from bokeh.layouts import row
from bokeh.models import ColumnDataSource, HoverTool, Legend, LegendItem, Range1d, Title
from bokeh.plotting import figure
from jupyter_bokeh import BokehModel

from explorer.ui.format import escape
from explorer.ui.naming import layer_labels
from explorer.ui.views._sync import serialized
from explorer.ui.views.plots import _status, quiet_toolbar

_TILES = ("x", "y", "lx", "ly", "number", "channel", "status")


class GalleryView(w.VBox):
    """(e) the selected layer's filters as small images and their feature maps for one validation image."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        self._weights_image = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        self._maps_image = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        self._weights_tiles = ColumnDataSource({k: [] for k in _TILES})
        self._maps_tiles = ColumnDataSource({k: [] for k in _TILES})
        self._weights_fig = self._image_figure(
            t, t("gallery.weights"), t("gallery.weights_tiles"), self._weights_image, self._weights_tiles
        )
        self._maps_fig = self._image_figure(
            t, t("gallery.maps"), t("gallery.maps_tiles"), self._maps_image, self._maps_tiles
        )
        self._note = w.HTML()
        state.observe(self._update, names="gallery")
        self._update()
        self._plot = BokehModel(row(self._weights_fig, self._maps_fig), combine_events=True)
        super().__init__([self._note, self._plot], **kwargs)

    @staticmethod
    def _image_figure(
        t: Any, title: str, caption: str, image: ColumnDataSource, tiles: ColumnDataSource
    ) -> Any:
        fig = figure(
            title=title,
            x_range=Range1d(0, 1),
            y_range=Range1d(0, 1),
            tools="save,reset,wheel_zoom,pan",
            match_aspect=True,
            height=380,
            width=330,
        )
        fig.axis.visible = False  # tiles, not a plot: their pixel coordinates mean nothing
        fig.grid.visible = False
        fig.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=image)
        fig.text(
            x="lx",
            y="ly",
            text="number",
            source=tiles,
            text_font_size="7pt",
            text_color="#202124",
            text_align="left",
            text_baseline="top",
        )
        dots = fig.scatter(x="x", y="y", source=tiles, size=6, alpha=0.0)
        tips = [(t("gallery.channel_tip"), "@channel"), (t("plot.status_tip"), "@status")]
        fig.add_tools(HoverTool(renderers=[dots], tooltips=tips))
        # the frames drawn in the image, explained outside it: one glyph left of the tiles (outside the fixed
        # ranges) is drawn in the legend only (a renderer without data gets no swatch there)
        kept = fig.scatter(
            x=[-100], y=[-100], marker="square", size=11, fill_color="#ffffff", line_color="#dcdcdc"
        )
        pruned = fig.scatter(
            x=[-100], y=[-100], marker="square", size=11, fill_color="#333333", line_color="#c82828"
        )
        legend = Legend(
            items=[
                LegendItem(label=t("gallery.legend.kept"), renderers=[kept]),
                LegendItem(label=t("gallery.legend.pruned"), renderers=[pruned]),
            ],
            orientation="horizontal",
            border_line_alpha=0.0,
            label_text_font_size="8pt",
            padding=2,
            margin=2,
        )
        fig.add_layout(legend, "below")
        fig.add_layout(Title(text=caption, text_font_size="8pt", text_color="#5f6368"), "below")
        quiet_toolbar(fig)
        return fig

    @property
    def sources(self) -> dict[str, ColumnDataSource]:
        return {"weights": self._weights_image, "maps": self._maps_image}

    def _show(
        self, fig: Any, image: Any, tiles: ColumnDataSource, source: ColumnDataSource, xs, ys, side
    ) -> None:
        g = self._state.gallery
        if image is None:
            source.data = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
            tiles.data = {k: [] for k in _TILES}
            return
        height, width = image.shape
        source.data = {"image": [image], "x": [0], "y": [0], "dw": [width], "dh": [height]}
        side = side or 0
        tiles.data = {
            "x": list(xs),
            "y": list(ys),
            "lx": [x - side / 2 + 0.5 for x in xs],  # the tile's top-left corner, inside its frame
            "ly": [y + side / 2 - 0.5 for y in ys],
            "number": [str(c) for c in g.channel],
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
            self._weights_fig,
            g.weights,
            self._weights_tiles,
            self._weights_image,
            g.tiles_x,
            g.tiles_y,
            g.weight_tile,
        )
        self._show(
            self._maps_fig,
            g.maps,
            self._maps_tiles,
            self._maps_image,
            g.map_tiles_x,
            g.map_tiles_y,
            g.map_tile,
        )
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
