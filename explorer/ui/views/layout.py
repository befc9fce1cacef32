"""The page's layout: which view goes where, and the few CSS rules the widgets need for it.

The first screen is made for a projector (1280×720): the weights bar, then the controls beside the metric
cards, with the selected layer's slider and the global slider at the top of the controls and every layer's
slider in a scrollable list below them. The cards stay in view (sticky) while the page scrolls. Below come
the layer's plots, the gallery, the whole network with the map of plans, the collapsible Analyses area (who
pays, dynamic channels) and the longer jobs in tabs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ipywidgets as w

from explorer.ui.views.lazy import LazyTab

#: The tabs below the explorer: catalogue keys of their titles, and the views each one holds.
PANELS = (
    ("panels.sensitivity", ("sensitivity", "plans")),
    ("panels.finetune", ("finetune", "compare", "modes", "export")),
    ("panels.models", ("model", "upload")),
)

#: CSS for the app (class names of ``add_class``). ipywidgets boxes and Jupyter's output areas default to
#: ``overflow: auto`` or ``hidden``, which makes each its own scroll container: the sticky cards need every
#: box between them and the page's scroller to let them out (the output areas: only the app's own).
STYLE = """<style>
.pruning-explorer .pe-main, .pruning-explorer .pe-main > .widget-box,
.pruning-explorer.widget-box, .pruning-explorer > .widget-box { overflow: visible; }
.jp-OutputArea:has(.pruning-explorer), .jp-OutputArea-child:has(.pruning-explorer),
.jp-OutputArea-output:has(.pruning-explorer) { overflow: visible; }
.pruning-explorer .pe-cards { position: sticky; top: 0; z-index: 5; align-self: flex-start;
  background: #fff; padding: 2px 0 4px 8px; }
.pruning-explorer .pe-layer-list { overflow-y: auto; max-height: 210px; border-top: 1px solid #e8eaed;
  border-bottom: 1px solid #e8eaed; }
.pruning-explorer .pe-selected { background: #e8f0fe; border-radius: 6px; padding: 2px 4px; }
.pruning-explorer .widget-slider .widget-readout { min-width: 40px; }
.pruning-explorer .bk-toolbar { transition: opacity 0.2s; }
.pruning-explorer h3, .pruning-explorer h4 { line-height: 1.2; }
.pruning-explorer .pe-help, .pruning-explorer .widget-html-content { line-height: 1.4; }
.pruning-explorer .pe-card { line-height: 1.3; }
</style>"""


def section(title: str, *children: w.Widget) -> w.VBox:
    return w.VBox([w.HTML(f"<h3 style='margin:10px 0 2px 0'>{title}</h3>"), *children])


def build_panels(views: Mapping[str, w.Widget], t: Callable[..., str], selected: int = 0) -> LazyTab:
    """The tabs of the longer jobs (sensitivity and plans, fine-tuning and export, models and weights).

    Their pages are empty until selected (``LazyTab``): the app fills the selected one when the tabs are
    shown, the others when the user opens them.
    """
    panels = LazyTab(
        views,
        tuple(names for _key, names in PANELS),
        titles=tuple(t(key) for key, _names in PANELS),
        selected_index=selected,
    )
    panels.add_class("pruning-explorer-panels")
    return panels


def arrange(
    views: Mapping[str, w.Widget], panels: w.Tab, t: Callable[..., str]
) -> tuple[list[w.Widget], dict[str, list[w.Widget]]]:
    """The body of the page, top to bottom: the controls and the selected layer's plots on the left, the
    cards on the right (sticky while those scroll by), then the rest at full width.

    Returns:
        The body's children, and the widgets of each part the lesson unlocks (``explorer.ui.lesson.PARTS``).
    """
    cards = w.VBox([views["metrics"], views["job"]], layout=w.Layout(flex="0 0 auto"))
    cards.add_class("pe-cards")
    layer = section(t("sections.layer"), views["filters"], views["why"])
    left = w.VBox([views["controls"], layer], layout=w.Layout(flex="1 1 560px", min_width="520px"))
    main = w.HBox([left, cards], layout=w.Layout(align_items="flex-start"))
    main.add_class("pe-main")
    gallery = section(t("sections.gallery"), views["gallery"])
    network = section(t("sections.network"), views["summary"], views["overview"], views["trajectory"])
    analyses = views["analyses"]  # collapsible: who pays follows the sliders only while it is open
    further = section(t("sections.further"), panels)
    controls = views["controls"].parts
    parts = {
        "cards": [cards],
        "latency": [views["metrics"].latency_row],
        "gallery": [gallery],
        "filters": [layer],
        "why": [views["why"]],
        "sliders": controls["sliders"],
        "criterion": [*controls["criterion"], *views["filters"].compare_parts],
        "network": [network, analyses],
        "panels": [further],
    }
    return [views["weights"], main, gallery, network, analyses, further], parts


def show_unlocked(parts: Mapping[str, list[w.Widget]], unlocked: set[str]) -> None:
    """Show the parts in ``unlocked`` and hide the others (the lesson's steps unlock them one by one)."""
    for name, widgets in parts.items():
        for widget in widgets:
            if isinstance(widget, w.Widget):
                widget.layout.display = None if name in unlocked else "none"
            else:  # a bokeh figure inside a BokehModel
                widget.visible = name in unlocked


def page_style() -> w.HTML:
    """The app's CSS, as a widget to put on the page once."""
    return w.HTML(STYLE, layout=w.Layout(height="0px", margin="0"))


__all__ = ["PANELS", "STYLE", "arrange", "build_panels", "page_style", "section", "show_unlocked"]
