"""The error area: a red box with the message of the last error, and a button to dismiss it."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from explorer.ui.format import escape
from explorer.ui.views._sync import serialized

BOX_STYLE = "background:#fdecea;border:1px solid #d93025;border-radius:4px;color:#a50e0e;padding:6px 10px;"


class ErrorView(w.HBox):
    """Shows ``state.error`` (hidden while it is empty).

    Args:
        state: an ``ExplorerState`` (or anything with an ``error`` trait and ``clear_error()``).
    """

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._message = w.HTML()
        self._t = state.t
        self._dismiss = w.Button(
            description=self._t("error.dismiss"), button_style="danger", layout=w.Layout(width="auto")
        )
        self._dismiss.on_click(lambda _b: state.clear_error())
        super().__init__([self._message, self._dismiss], **kwargs)
        self.add_class("pruning-explorer-error")
        state.observe(self._update, names="error")
        self._update()

    @property
    def message(self) -> str:
        """The message shown (empty when hidden)."""
        return self._state.error

    @property
    def html(self) -> str:
        return self._message.value

    @serialized
    def _update(self, _change: Any = None) -> None:
        text = self._state.error
        title = escape(self._t("error.title"))
        self._message.value = f'<div style="{BOX_STYLE}"><b>{title}</b> {escape(text)}</div>' if text else ""
        self.layout.display = "flex" if text else "none"
