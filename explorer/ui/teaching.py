"""Display helpers for the tutorial notebooks: a table, charts and an image gallery that show themselves in
Jupyter.

They take plain numbers (dicts and lists, never tensors to compute on) and return objects with
``_repr_html_`` / ``_repr_png_``, so a cell can simply end with them. The charts use matplotlib's
object-oriented ``Figure`` without pyplot: they render the same whatever backend is active
(``explorer.sensitivity.plot_sensitivity`` switches matplotlib to Agg, which would silence pyplot figures).

    from explorer.ui import teaching
    teaching.Table([{"layer": "features.0", "rho": 0.78}], {"layer": "layer", "rho": "Spearman ρ"})
    teaching.bar_chart({"dense": 12.1, "filters removed": 4.2}, title="latency", ylabel="ms")
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from explorer.criteria import spearman

#: Colours of the charts (the app's blue, grey and red).
COLORS = ("#1a73e8", "#9aa0a6", "#d93025", "#188038", "#f9ab00", "#a142f4")

Formatter = str | Callable[[Any], str]


def _format(value: Any, fmt: Formatter | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if fmt is None:
        return f"{value:.3g}" if isinstance(value, float) else str(value)
    return fmt(value) if callable(fmt) else fmt.format(value)


class Table:
    """Rows shown as an HTML table in Jupyter and as aligned text by ``print``.

    Args:
        rows: one dict per row, or one sequence of values per row in the order of ``columns``.
        columns: key → header, in display order (default: the first row's keys).
        formats: key → a ``str.format`` pattern (``"{:.1%}"``) or a function; floats default to 3
            significant digits, ``None`` and NaN show as "—".
    """

    def __init__(
        self,
        rows: Sequence[Mapping[str, Any] | Sequence[Any]],
        columns: Mapping[str, str] | None = None,
        formats: Mapping[str, Formatter] | None = None,
    ):
        if columns is None:
            first = rows[0] if rows else {}
            if not isinstance(first, Mapping):
                raise ValueError("rows given as sequences need columns=")
            columns = {k: k for k in first}
        self.columns = dict(columns)
        keys = list(self.columns)
        self.rows = [dict(r) if isinstance(r, Mapping) else dict(zip(keys, r, strict=True)) for r in rows]
        self.formats = dict(formats or {})

    def cells(self) -> list[list[str]]:
        """The formatted cells, row by row (without the header)."""
        return [[_format(r.get(k), self.formats.get(k)) for k in self.columns] for r in self.rows]

    def __str__(self) -> str:
        header = list(self.columns.values())
        body = self.cells()
        widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(header)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in body]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.columns.values())
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in self.cells()
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Chart:
    """A matplotlib ``Figure`` that shows itself as a PNG in Jupyter (``chart.figure`` to adjust it)."""

    def __init__(self, figure: Any):
        self.figure = figure

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()

    def __repr__(self) -> str:
        title = self.figure.axes[0].get_title() if self.figure.axes else ""
        return f"<Chart {title!r}>"


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def bar_chart(
    values: Mapping[str, float], *, title: str = "", ylabel: str = "", fmt: str = "{:.1f}"
) -> Chart:
    """One bar per entry, each labelled with its value."""
    figure = _figure(1.6 + 1.3 * len(values), 3.2)
    ax = figure.add_subplot()
    names = list(values)
    bars = ax.bar(
        names, [float(values[n]) for n in names], color=[COLORS[i % len(COLORS)] for i in range(len(names))]
    )
    ax.bar_label(bars, labels=[fmt.format(float(values[n])) for n in names], padding=2)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.margins(y=0.15)
    ax.grid(axis="y", alpha=0.3)
    return Chart(figure)


def scatter_against(scores: Mapping[str, Sequence[float]], truth: str, *, title: str = "") -> Chart:
    """One panel per criterion: its score of every channel (x) against ``scores[truth]`` (y), with ρ.

    Args:
        scores: criterion → the scores of one layer's channels (same channel order for all).
        truth: the key of the reference (usually ``"oracle"``).
    """
    others = [name for name in scores if name != truth]
    figure = _figure(3.1 * len(others), 3.0)
    y = [float(v) for v in scores[truth]]
    for i, name in enumerate(others):
        ax = figure.add_subplot(1, len(others), i + 1)
        x = [float(v) for v in scores[name]]
        ax.scatter(x, y, s=14, color=COLORS[i % len(COLORS)])
        ax.set_title(f"{name}: ρ = {spearman(x, y):+.2f}")
        ax.set_xlabel(f"{name} score")
        if i == 0:
            ax.set_ylabel(f"{truth} score")
        ax.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    return Chart(figure)


def line_chart(
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    percent: bool = False,
) -> Chart:
    """One line per series of ``(x, y)`` points; ``percent`` shows y fractions as percentages."""
    figure = _figure(6.0, 3.4)
    ax = figure.add_subplot()
    scale = 100.0 if percent else 1.0
    for i, (name, points) in enumerate(series.items()):
        xs = [float(p[0]) for p in points]
        ys = [scale * float(p[1]) for p in points]
        ax.plot(xs, ys, marker="o", ms=3, label=name, color=COLORS[i % len(COLORS)])
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{ylabel} (%)" if percent and ylabel else ylabel)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend()
    return Chart(figure)


# ---------------------------------------------------------------------------------------------- who pays
# Hooker, Courville, Clark, Dauphin & Frome, "What Do Compressed Deep Neural Networks Forget?" (2019),
# https://arxiv.org/abs/1911.05248: the overall accuracy of a pruned network hides which classes pay.
# These helpers take the plain rows of ``PruningSession.per_class()`` and ``flipped()`` (see
# ``explorer.who_pays``).


def overall_change(rows: Sequence[Mapping[str, Any]]) -> float:
    """Change of the overall accuracy in percentage points, from ``session.per_class()`` rows.

    Each class weighs by its number of images: 100 · Σ_c n_c (pruned_c − original_c) / Σ_c n_c, which is the
    change of the accuracy over all images (not the mean of the per-class changes, unless the classes are
    the same size). Classes without images are left out.
    """
    counted = [r for r in rows if r["count"]]
    total = sum(r["count"] for r in counted)
    if not total:
        raise ValueError("no class has a validation image")
    return 100 * sum(r["count"] * (r["pruned_accuracy"] - r["original_accuracy"]) for r in counted) / total


def class_spread(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The overall change and the classes that pay most and least (Hooker et al. 2019), in points.

    Returns:
        ``{overall, worst, worst_change, best, best_change, ratio}``: ``overall`` from ``overall_change``;
        ``worst`` / ``best`` the names of the classes with the lowest / highest change (the first in class
        order on a tie); ``ratio`` = worst_change / overall when the overall accuracy fell, else ``None``.
    """
    counted = [r for r in rows if r["count"]]
    overall = overall_change(counted)
    worst = min(counted, key=lambda r: r["change"])
    best = max(counted, key=lambda r: r["change"])
    return {
        "overall": overall,
        "worst": worst["name"],
        "worst_change": worst["change"],
        "best": best["name"],
        "best_change": best["change"],
        "ratio": worst["change"] / overall if overall < 0 else None,
    }


def class_change_chart(rows: Sequence[Mapping[str, Any]], *, title: str = "") -> Chart:
    """Per-class change of accuracy in points (one bar per class, most paid first) against the overall one.

    Args:
        rows: ``session.per_class()``. Classes whose change is worse than the overall change are red, the
            others blue; the dashed line is the overall change (``overall_change``). Each class's tick
            says how many images it has, since one image is worth 100 / n points of its accuracy.
        title: the chart's title (default: "Who pays: change of accuracy per class").
    """
    counted = sorted((r for r in rows if r["count"]), key=lambda r: (r["change"], r["class"]))
    overall = overall_change(counted)
    figure = _figure(1.2 + 0.75 * len(counted), 3.6)
    ax = figure.add_subplot()
    names = [f"{r['name']}\n({r['count']} img)" for r in counted]
    changes = [float(r["change"]) for r in counted]
    colours = [COLORS[2] if c < overall else COLORS[0] for c in changes]
    bars = ax.bar(names, changes, color=colours)
    ax.bar_label(bars, labels=[f"{c:+.0f}" for c in changes], padding=2, fontsize=8)
    label = f"all images: {overall:+.1f} points"
    ax.axhline(overall, color="black", linestyle="--", linewidth=1, label=label)
    ax.axhline(0, color=COLORS[1], linewidth=0.8)
    ax.set_title(title or "Who pays: change of accuracy per class")
    ax.set_xlabel("class (number of validation images)")
    ax.set_ylabel("change of accuracy (points)")
    ax.tick_params(axis="x", labelsize=8)
    # explicit limits: bars stick to 0, so margins alone would leave no room for the labels of +0 bars
    low, high = min(0.0, overall, *changes), max(0.0, *changes)
    pad = 0.12 * (high - low) or 1.0
    ax.set_ylim(low - pad, high + pad)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower right")
    return Chart(figure)


class Gallery:
    """Images with a caption each: an HTML strip in Jupyter, the captions as text for ``print``.

    Args:
        images: ``data:image/png;base64,…`` URIs (e.g. ``session.views.images(indices)``).
        captions: one caption per image; lines separated by ``"\n"``.
        size: the displayed width and height of each image in pixels (small images are scaled up, pixelated).
    """

    def __init__(self, images: Sequence[str], captions: Sequence[str], size: int = 96):
        if len(images) != len(captions):
            raise ValueError(f"{len(images)} images but {len(captions)} captions")
        self.images, self.captions, self.size = list(images), list(captions), int(size)

    def __str__(self) -> str:
        return "\n\n".join(self.captions)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        cells = []
        for uri, caption in zip(self.images, self.captions, strict=True):
            lines = "<br>".join(html.escape(line) for line in caption.split("\n"))
            cells.append(
                f'<figure style="margin:4px;width:{self.size + 40}px;text-align:center">'
                f'<img src="{html.escape(uri, quote=True)}" width="{self.size}" height="{self.size}" '
                'style="image-rendering:pixelated">'
                f'<figcaption style="font-size:12px">{lines}</figcaption></figure>'
            )
        return f'<div style="display:flex;flex-wrap:wrap">{"".join(cells)}</div>'


def flipped_gallery(rows: Sequence[Mapping[str, Any]], images: Sequence[str]) -> Gallery:
    """The images of ``session.flipped()`` rows, each captioned with its true class and both predictions.

    Args:
        rows: rows of ``flipped()["lost"]`` or ``["gained"]`` (``label_name``, ``original_name``,
            ``original_confidence``, ``pruned_name``, ``pruned_confidence``).
        images: their PNG data URIs, in the same order (``session.views.images([r["index"] for r in rows])``).
    """
    captions = [
        f"true: {r['label_name']}\n"
        f"original: {r['original_name']} ({r['original_confidence']:.0%})\n"
        f"pruned: {r['pruned_name']} ({r['pruned_confidence']:.0%})"
        for r in rows
    ]
    return Gallery(images, captions)


__all__ = [
    "Chart",
    "Gallery",
    "Table",
    "bar_chart",
    "class_change_chart",
    "class_spread",
    "flipped_gallery",
    "line_chart",
    "overall_change",
    "scatter_against",
]
