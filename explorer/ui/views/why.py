"""The "why" panel: the active criterion's formula filled in with one filter's actual numbers."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from explorer.ui.format import escape, format_number, format_terms
from explorer.ui.naming import criterion_hint, criterion_label, layer_labels
from explorer.ui.views._sync import serialized

_SYMBOL = {"sum_abs": "Σ|W|", "sqrt_sum_sq": "√(Σ W²)", "sum_dist": "Σ_j ‖W_c − W_j‖₂", "abs": "|γ|"}


class WhyView(w.VBox):
    """Explains ``state.why``; the filter can be chosen here or by clicking a bar."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        self._filter = w.BoundedIntText(
            value=0, min=0, max=0, description=t("why.filter"), layout=w.Layout(width="180px")
        )
        self._filter.observe(self._filter_typed, names="value")
        self._html = w.HTML()
        super().__init__(
            [w.HTML(f"<h4 style='margin:4px 0'>{t('why.title')}</h4>"), self._filter, self._html], **kwargs
        )
        self._updating = False
        state.observe(self._update, names="why")
        self._update()

    @property
    def text(self) -> str:
        return self._html.value

    def _filter_typed(self, change: dict) -> None:
        if not self._updating:
            self._state.selected_filter = int(self._filter.value)

    @serialized
    def _update(self, _change: Any = None) -> None:
        y = self._state.why
        if not y:
            self._html.value = ""
            return
        self._updating = True
        try:
            self._filter.max = max(y["count"] - 1, 0)
            self._filter.value = y["channel"]
        finally:
            self._updating = False
        kind, t = y["kind"], self._t
        name = criterion_label(y["criterion"], t)
        lines = [
            f"<b title='{escape(y['criterion'])}'>{escape(name)}</b>: <code>{escape(y['formula'])}</code>"
        ]
        layer = layer_labels(self._state.groups, t, counts=False).get(y["group"], y["group"])
        where = t("why.for_filter", channel=y["channel"], layer=escape(layer))
        if kind in _SYMBOL:
            terms = format_terms(y["terms"], y["n_terms"], more=t("why.terms"))
            inner = f"√({terms})" if kind == "sqrt_sum_sq" else terms
            if kind == "abs":
                inner = f"|{format_number(y['terms'][0])}|"
            value = f"<b>{format_number(y['layer_value'])}</b>"
            lines.append(f"{where}: {_SYMBOL[kind]} = {escape(inner)} = {value}")
        elif kind == "greedy":
            lines.append(f"{where}: {self._greedy(y['terms'])}")
        else:
            lines.append(f"{where}: {t('why.measured')}")
        members = y.get("members", {})
        if len(members) > 1:
            parts = ", ".join(f"{escape(k)}: {format_number(v)}" for k, v in members.items())
            lines.append(t("why.members", reduction=escape(y["reduction"]), parts=parts))
        lines.append(t("why.group_score", score=f"<b>{format_number(y['score'])}</b>"))
        yes, no = t("why.yes"), t("why.no")
        lines.append(
            t(
                "why.rank",
                rank=f"<b>{y['rank']}</b>",
                count=y["count"],
                ratio=f"{100 * y['ratio']:.0f} %",
                by_ratio=f"<b>{yes if y['pruned_by_ratio'] else no}</b>",
                in_plan=f"<b>{yes if y['pruned'] else no}</b>",
            )
        )
        lines.append(
            f"<span style='color:#5f6368'>{escape(criterion_hint(y['criterion'], t, y['description']))} "
            f"<a href='{escape(y['url'])}' target='_blank'>{escape(y['title'])}</a></span>"
        )
        self._html.value = "<br>".join(lines)

    def _greedy(self, terms: list[float]) -> str:
        """The greedy oracle's live numbers: the loss increase alone and at the filter's removal."""
        t = self._t
        alone, at_removal, step, searched = terms
        if step > searched:
            return t("why.greedy.unsearched", alone=f"<b>{format_number(alone)}</b>", searched=int(searched))
        text = t(
            "why.greedy",
            alone=f"<b>{format_number(alone)}</b>",
            at_removal=f"<b>{format_number(at_removal)}</b>",
            step=int(step),
            searched=int(searched),
            before=int(step) - 1,
        )
        return f"{text} {t('why.greedy.redundant')}"
