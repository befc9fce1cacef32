"""The Analyses area (collapsible): who pays for the plan, and which channels each image would use under
dynamic pruning; and the training-modes comparison panel (in the fine-tuning tab).

Who pays follows the sliders only while the area is open: opening it asks ``state.analyses.follow(True)``.
The data is ``state.analyses``' (``who_pays``, ``dynamic``, ``training_modes``), read from the session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w
from bokeh.models import ColumnDataSource, HoverTool, Legend
from bokeh.plotting import figure
from jupyter_bokeh import BokehModel

from explorer.ui.format import escape, format_percent, format_points
from explorer.ui.views._sync import serialized
from explorer.ui.views.cards import CARD as _CARD
from explorer.ui.views.cards import IMAGE as _IMAGE
from explorer.ui.views.cards import NOTE as _NOTE
from explorer.ui.views.cards import WIDE_CARD, ImagesJobView, ratio_slider
from explorer.ui.views.controls import JobStatus, JobView, _help, disable_while_busy
from explorer.ui.views.plots import KEPT, PRUNED, quiet_toolbar
from explorer.ui.views.sensitivity import html_table
from explorer.ui.views.tokens import TokensView

LOST, GAINED = "#d93025", "#188038"
_SIDES = {"lost": "whopays.lost", "gained": "whopays.gained"}


class WhoPaysView(w.VBox):
    """Per class, the change in points against the original network (bars), and flipped images."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        columns = ("name", "change", "original", "pruned", "count", "color", "status")
        self._source = ColumnDataSource({c: [] for c in columns})
        self._fig = figure(
            title=t("whopays.title"),
            x_range=[],
            x_axis_label=t("whopays.x"),
            y_axis_label=t("whopays.y"),
            tools="save,reset",
            height=280,
            width=620,
        )
        self._fig.add_layout(Legend(location="top_left", label_text_font_size="11px"), "right")
        self._fig.vbar(
            x="name", top="change", width=0.8, source=self._source, color="color", legend_field="status"
        )
        tips = [
            (t("whopays.class_tip"), "@name"),
            (t("whopays.original_tip"), "@original{0.0} %"),
            (t("whopays.pruned_tip"), "@pruned{0.0} %"),
            (t("whopays.change_tip"), "@change{+0.0}"),
            (t("whopays.count_tip"), "@count"),
        ]
        self._fig.add_tools(HoverTool(tooltips=tips))
        self._fig.xgrid.visible = False
        quiet_toolbar(self._fig)
        self._summary = w.HTML()
        self._gallery = w.HTML()
        state.analyses.observe(self._update, names="who_pays")
        self._update()
        self._plot = BokehModel(self._fig, combine_events=True)
        super().__init__([_help(t("whopays.help")), self._summary, self._plot, self._gallery], **kwargs)

    @property
    def source(self) -> ColumnDataSource:
        """One row per class: its change in points, both accuracies in %, and its images."""
        return self._source

    @property
    def gallery(self) -> str:
        return self._gallery.value

    @serialized
    def _update(self, _change: Any = None) -> None:
        result, t = self._state.analyses.who_pays, self._t
        if not result:
            self._summary.value = _NOTE.format(escape(t("whopays.waiting")))
            return
        rows = [r for r in result["per_class"] if r["count"]]
        names = [str(r["name"]) for r in rows]
        lost, gained = t("whopays.lost_bar"), t("whopays.gained_bar")
        self._fig.x_range.factors = names
        self._source.data = {
            "name": names,
            "change": [r["change"] for r in rows],
            "original": [100 * r["original_accuracy"] for r in rows],
            "pruned": [100 * r["pruned_accuracy"] for r in rows],
            "count": [r["count"] for r in rows],
            "color": [LOST if r["change"] < 0 else GAINED for r in rows],
            "status": [lost if r["change"] < 0 else gained for r in rows],
        }
        worst = min(rows, key=lambda r: r["change"], default=None)
        summary = t("whopays.summary", lost=result["lost_count"], gained=result["gained_count"])
        if worst is not None and worst["change"] < 0:
            summary += " " + t(
                "whopays.worst", name=escape(str(worst["name"])), change=format_points(worst["change"] / 100)
            )
        self._summary.value = _NOTE.format(summary)
        self._gallery.value = self._side(result, "lost", LOST) + self._side(result, "gained", GAINED)

    def _side(self, result: dict[str, Any], side: str, colour: str) -> str:
        t = self._t
        title = t(_SIDES[side], count=result[f"{side}_count"], shown=len(result[side]))
        cards = []
        for row in result[side]:
            lines = [
                _IMAGE.format(row["image"]),
                escape(t("whopays.label", name=row["label_name"])),
                escape(
                    t(
                        "whopays.before",
                        name=row["original_name"],
                        confidence=format_percent(row["original_confidence"]),
                    )
                ),
                f"<span style='color:{colour}'>"
                + escape(
                    t(
                        "whopays.after",
                        name=row["pruned_name"],
                        confidence=format_percent(row["pruned_confidence"]),
                    )
                )
                + "</span>",
            ]
            cards.append(_CARD.format("<br>".join(lines)))
        empty = _NOTE.format(escape(t("whopays.none"))) if not cards else ""
        head = f"<div style='margin-top:6px'><b style='color:{colour}'>{escape(title)}</b></div>"
        return head + "".join(cards) + empty


class DynamicView(ImagesJobView):
    """Which channels each of a few validation images keeps when each input picks its own top-k."""

    def __init__(self, state: Any, **kwargs: Any):
        t = state.t
        self._sizes = {g["name"]: g["num_channels"] for g in state.groups}
        self._ratio = ratio_slider(t("dynamic.ratio"))
        texts = (t("dynamic.title"), t("dynamic.help"), t("dynamic.run"), t("dynamic.run.hint"))
        super().__init__(state, "dynamic", texts, [self._ratio], self._show, **kwargs)

    def _show(self) -> None:
        self._state.analyses.show_dynamic(self._ratio.value)

    def render(self, d: dict) -> str:
        t, s = self._t, d["summary"]
        head = t(
            "dynamic.summary",
            dynamic=format_percent(s["dynamic_accuracy"]),
            static=format_percent(s["static_accuracy"]),
            original=format_percent(s["baseline_accuracy"]),
            share=format_percent(s["static_macs"] / s["baseline_macs"] if s["baseline_macs"] else 1.0),
        )
        images = []
        for row in d["images"]:
            strips = []
            for group, kept in row["channels"].items():
                total, used = self._sizes.get(group, max(kept, default=-1) + 1), set(kept)
                cells = "".join(
                    f"<span style='display:inline-block;width:5px;height:9px;margin-right:1px;"
                    f"background:{KEPT if c in used else PRUNED}'></span>"
                    for c in range(total)
                )
                strips.append(f"<div title='{escape(group)}' style='line-height:10px'>{cells}</div>")
            caption = t("dynamic.image", label=row["label"], prediction=row["prediction"])
            images.append(WIDE_CARD.format(_IMAGE.format(row["image"]) + escape(caption) + "".join(strips)))
        return _NOTE.format(head) + "".join(images) + _NOTE.format(t("dynamic.legend"))


class TrainingModesView(w.VBox):
    """Plain masked fine-tuning vs Soft Filter Pruning vs group lasso, at the same steps and final plan."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        self._steps = w.BoundedIntText(
            value=100,
            min=3,
            max=20000,
            step=50,
            description=t("modes.steps"),
            style={"description_width": "initial"},
            layout=w.Layout(width="190px"),
        )
        self._run = w.Button(
            description=t("modes.run"),
            icon="balance-scale",
            tooltip=t("modes.run.hint"),
            layout=w.Layout(width="auto"),
        )
        self._run.on_click(lambda _b: state.analyses.compare_training_modes(self._steps.value))
        disable_while_busy(state, self._run)
        self._result = w.HTML()
        state.analyses.observe(self._update, names="training_modes")
        self._update()
        super().__init__(
            [
                w.HTML(f"<h4 style='margin:10px 0 4px 0'>{t('modes.title')}</h4>"),
                _help(t("modes.help")),
                w.HBox([self._steps, self._run]),
                JobView(state, jobs=("modes",)),
                JobStatus(state, "modes"),
                self._result,
            ],
            **kwargs,
        )

    @property
    def run_button(self) -> w.Button:
        return self._run

    @property
    def inputs(self) -> dict[str, w.ValueWidget]:
        return {"steps": self._steps}

    @property
    def text(self) -> str:
        return self._result.value

    @serialized
    def _update(self, _change: Any = None) -> None:
        r, t = self._state.analyses.training_modes, self._t
        if not r:
            self._result.value = ""
            return
        names = {"masked": t("modes.masked"), "soft": t("modes.soft"), "group_lasso": t("modes.group_lasso")}
        rows = []
        for mode, m in r["modes"].items():
            width = max(0.0, min(1.0, m["accuracy_after"])) * 120
            bar = (
                f"<span style='display:inline-block;height:9px;width:{width:.0f}px;background:{KEPT}'></span>"
            )
            rows.append(
                [
                    escape(names.get(mode, mode)),
                    format_percent(m["accuracy_before"]),
                    f"<b>{format_percent(m['accuracy_after'])}</b> {bar}",
                    format_percent(m["overlap_with_plan"]),
                ]
            )
        header = [
            t("modes.column.mode"),
            t("modes.column.before"),
            t("modes.column.after"),
            t("modes.column.overlap"),
        ]
        note = t("modes.note", steps=r["steps"], share=format_percent(r["macs"] / r["baseline_macs"]))
        self._result.value = html_table([escape(h) for h in header], rows) + _NOTE.format(escape(note))


class AnalysesView(w.VBox):
    """The collapsible Analyses area: who pays (live while open), dynamic channels and, for a ViT, tokens.

    The area starts closed, and its content is built the first time it is opened (or asked for: ``.who_pays``,
    ``.dynamic``, ``.tokens``): see :mod:`explorer.ui.views.lazy`.

    Args:
        state: the explorer state.
        build: calls the function it is given and returns its result; the app passes its ``ObserverLog.build``
            to remember the observers the content adds.
    """

    def __init__(self, state: Any, build: Callable[[Callable[[], Any]], Any] | None = None, **kwargs: Any):
        self._state = state
        self._build = build or (lambda make: make())
        self._parts: tuple[WhoPaysView, DynamicView, TokensView | None] | None = None
        self._page = w.VBox()
        self._accordion = w.Accordion([self._page], titles=(state.t("analyses.title"),))
        self._accordion.selected_index = None
        self._accordion.observe(self._opened, names="selected_index")
        super().__init__([self._accordion], **kwargs)

    @property
    def accordion(self) -> w.Accordion:
        """Its ``selected_index`` is 0 while the area is open, ``None`` while it is closed."""
        return self._accordion

    @property
    def built(self) -> bool:
        """Whether the content is built (it is the first time the area opens)."""
        return self._parts is not None

    @property
    def who_pays(self) -> WhoPaysView:
        return self._content()[0]

    @property
    def dynamic(self) -> DynamicView:
        return self._content()[1]

    @property
    def tokens(self) -> TokensView | None:
        """The tokens view, for a ViT (``None`` for other networks)."""
        return self._content()[2]

    def _content(self) -> tuple[WhoPaysView, DynamicView, TokensView | None]:
        if self._parts is None:
            self._parts = self._build(self._make)
            self._page.children = [p for p in self._parts if p is not None]
        return self._parts

    def _make(self) -> tuple[WhoPaysView, DynamicView, TokensView | None]:
        state = self._state
        tokens = TokensView(state) if int(state.summary.get("token_blocks", 0)) > 1 else None
        return WhoPaysView(state), DynamicView(state), tokens

    def _opened(self, change: dict) -> None:
        if change["new"] == 0:
            self._content()
        self._state.analyses.follow(change["new"] == 0)


__all__ = ["AnalysesView", "DynamicView", "TrainingModesView", "WhoPaysView"]
