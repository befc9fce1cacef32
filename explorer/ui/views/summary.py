"""The summary: what model and data are being explored, and what the unpruned network costs."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from explorer.ui.format import escape, format_count, format_percent
from explorer.ui.views._sync import serialized

_BADGE = (
    '<span title="{tip}" style="background:#f9ab00;color:#202124;border-radius:10px;padding:1px 8px;'
    'font-size:85%;margin-left:6px">untrained</span>'
)
_UNTRAINED_TIP = (
    "These weights were not trained: accuracy is near chance, so scores and accuracy changes mean little."
)


class SummaryView(w.VBox):
    """Architecture, classes, validation subset, baseline accuracy, MACs and params; refused groups."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
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
        base = self._state.baseline
        badge = "" if s.get("trained", True) else _BADGE.format(tip=escape(_UNTRAINED_TIP))
        warnings = "".join(f"<li>{escape(x)}</li>" for x in s.get("warnings", []))
        self._html.value = (
            f"<h3 style='margin:4px 0'>{escape(s['model'])}{badge}</h3>"
            f"<div>Architecture: <b>{escape(s.get('architecture', '?'))}</b> with {s.get('layers', '?')} "
            "convolution and linear layers.</div>"
            f"<div>Data: <b>{escape(s['dataset'])}</b>, {s['classes']} classes; validation subset of "
            f"<b>{s['val_samples']}</b> images. Original network: accuracy "
            f"<b>{format_percent(base.get('accuracy'))}</b>, "
            f"<b>{format_count(s['macs'])}</b> MACs per image, "
            f"<b>{format_count(s['params'])}</b> parameters; {s['groups']} layer(s) can be pruned.</div>"
            + (f"<ul style='color:#a15c00;margin:2px 0'>{warnings}</ul>" if warnings else "")
        )
        refused = s.get("refused_groups", {})
        items = [w.HTML(f"<b>{escape(name)}</b>: {escape(reason)}") for name, reason in refused.items()]
        self._refused.children = [w.VBox(items)] if items else []
        if items:
            self._refused.set_title(0, f"{len(items)} layer(s) that cannot be pruned, and why")
        self._refused.layout.display = "block" if items else "none"
        self._refused.selected_index = None
