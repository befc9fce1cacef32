"""The glossary drawer: the page's words (MACs, parameters, the 95 % interval, sensitivity, coupled layers…)
explained in a sentence or two, behind a button in the header."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from explorer.ui.format import escape
from explorer.ui.views._sync import serialized

#: The terms, in the order the drawer lists them (catalogue keys ``glossary.<term>.term`` / ``.text``).
TERMS = (
    ("glossary.filter.term", "glossary.filter.text"),
    ("glossary.pruning.term", "glossary.pruning.text"),
    ("glossary.criterion.term", "glossary.criterion.text"),
    ("glossary.macs.term", "glossary.macs.text"),
    ("glossary.params.term", "glossary.params.text"),
    ("glossary.interval.term", "glossary.interval.text"),
    ("glossary.sensitivity.term", "glossary.sensitivity.text"),
    ("glossary.coupled.term", "glossary.coupled.text"),
    ("glossary.finetuning.term", "glossary.finetuning.text"),
)

_DRAWER = (
    "<div style='background:#f8f9fa;border:1px solid #dadce0;border-radius:6px;padding:6px 12px;"
    "columns:2 320px;column-gap:24px'>{}</div>"
)


class GlossaryView(w.VBox):
    """A drawer (hidden until its button is pressed) listing the terms; ``button`` goes in the header."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._html = w.HTML()
        self.button = w.ToggleButton(value=False, icon="book", layout=w.Layout(width="auto"))
        self.button.observe(self._toggled, names="value")
        super().__init__([self._html], **kwargs)
        self.add_class("pruning-explorer-glossary")
        self.layout.display = "none"
        state.observe(self._update, names="lang")
        self._update()

    @property
    def is_open(self) -> bool:
        return self.layout.display != "none"

    @property
    def text(self) -> str:
        return self._html.value

    def _toggled(self, _change: dict) -> None:
        self.layout.display = "flex" if self.button.value else "none"

    @serialized
    def _update(self, _change: Any = None) -> None:
        t = self._state.t
        self.button.description = t("glossary.button")
        self.button.tooltip = t("glossary.button.hint")
        items = "".join(
            f"<p style='margin:4px 0;break-inside:avoid'><b>{escape(t(term))}</b>: {escape(t(text))}</p>"
            for term, text in TERMS
        )
        self._html.value = f"<h4 style='margin:2px 0'>{escape(t('glossary.title'))}</h4>" + _DRAWER.format(
            items
        )
