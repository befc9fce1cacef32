"""The summary: what model and data are being explored, and what the unpruned network costs."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from explorer.ui.format import escape, format_count, format_percent, say
from explorer.ui.views._sync import serialized

_BADGE = (
    '<span title="{tip}" style="background:#f9ab00;color:#202124;border-radius:10px;padding:1px 8px;'
    'font-size:85%;margin-left:6px">{text}</span>'
)


class SummaryView(w.VBox):
    """Architecture, classes, validation subset, baseline accuracy, MACs and params; refused groups."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = state.t
        self._html = w.HTML()
        self._refused = w.Accordion()
        super().__init__([self._html, self._refused], **kwargs)
        state.observe(self._update, names=["summary", "baseline"])
        self._update()

    @property
    def text(self) -> str:
        return self._html.value

    @serialized
    def _update(self, _change: Any = None) -> None:
        s = self._state.summary
        if not s:
            self._html.value = ""
            return
        base, t = self._state.baseline, self._t
        badge = (
            ""
            if s.get("trained", True)
            else _BADGE.format(tip=escape(t("summary.untrained.hint")), text=escape(t("summary.untrained")))
        )
        warnings = "".join(f"<li>{escape(say(x, t))}</li>" for x in s.get("warnings", []))
        self._html.value = (
            f"<h3 style='margin:4px 0'>{escape(s['model'])}{badge}</h3>"
            + "<div>"
            + t(
                "summary.architecture",
                architecture=f"<b>{escape(s.get('architecture', '?'))}</b>",
                layers=s.get("layers", "?"),
            )
            + "</div><div>"
            + t(
                "summary.data",
                dataset=f"<b>{escape(s['dataset'])}</b>",
                classes=s["classes"],
                samples=f"<b>{s['val_samples']}</b>",
                accuracy=f"<b>{format_percent(base.get('accuracy'))}</b>",
                macs=f"<b>{format_count(s['macs'])}</b>",
                params=f"<b>{format_count(s['params'])}</b>",
                groups=s["groups"],
            )
            + "</div>"
            + (f"<ul style='color:#a15c00;margin:2px 0'>{warnings}</ul>" if warnings else "")
        )
        refused = s.get("refused_groups", {})
        items = [
            w.HTML(f"<b>{escape(name)}</b>: {escape(say(reason, t))}") for name, reason in refused.items()
        ]
        self._refused.children = [w.VBox(items)] if items else []
        if items:
            self._refused.set_title(0, t("summary.refused", count=len(items)))
        self._refused.layout.display = "block" if items else "none"
        self._refused.selected_index = None
