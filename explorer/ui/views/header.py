"""The header: the app's name, one line on what it does, and the language switch.

It is built before the session (ipywidgets only, no bokeh), so the first render stays cheap.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from explorer.ui.format import escape
from explorer.ui.i18n import LANGUAGES
from explorer.ui.views._sync import serialized


class HeaderView(w.HBox):
    """Title and intro on the left; the language switch on the right (``state.lang``)."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._title = w.HTML(layout=w.Layout(flex="1 1 auto"))
        self._lang = w.ToggleButtons(
            options=[(name, code) for code, name in LANGUAGES.items()],
            value=state.lang,
            style={"button_width": "76px"},
            layout=w.Layout(flex="0 0 auto"),
        )
        w.link((state, "lang"), (self._lang, "value"))
        super().__init__([self._title], layout=w.Layout(align_items="flex-start", width="100%"), **kwargs)
        self._tools = w.HBox([self._lang], layout=w.Layout(flex="0 0 auto", align_items="center"))
        self.children = [self._title, self._tools]
        self.add_class("pruning-explorer-header")
        state.observe(self._update, names=["lang", "summary"])
        self._update()

    @property
    def language(self) -> w.ToggleButtons:
        return self._lang

    def add_tool(self, widget: w.Widget) -> None:
        """Put ``widget`` beside the language switch (the glossary and lesson buttons)."""
        self._tools.children = (widget, *self._tools.children)

    @serialized
    def _update(self, _change: Any = None) -> None:
        t = self._state.t
        self._title.value = (
            f"<div style='display:flex;align-items:baseline;gap:12px;flex-wrap:wrap'>"
            f"<span style='font-size:135%;font-weight:600'>{t('app.title')}</span>"
            f"<span style='color:#5f6368'>{t('app.intro')}</span>{self._device(t)}</div>"
        )

    def _device(self, t: Any) -> str:
        """Where the session computes (the CPU, or which GPU), once there is a session."""
        name = (self._state.summary or {}).get("device_name")
        if not name:
            return ""
        return f"<span style='color:#5f6368;font-size:90%'>{escape(t('app.device', device=name))}</span>"
