"""The metric cards: accuracy (± its running 95 % interval), change from the original, MACs, params,
latency."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from explorer.ui.format import escape, format_accuracy, format_count, format_percent, format_points
from explorer.ui.views._sync import serialized

_CARD = (
    "<div style='border:1px solid #dadce0;border-radius:6px;padding:6px 10px;min-width:150px'>"
    "<div style='color:#5f6368;font-size:85%'>{title}</div>"
    "<div style='font-size:150%;font-weight:600'>{value}</div>"
    "<div style='color:#5f6368;font-size:85%'>{note}</div></div>"
)


class MetricsView(w.VBox):
    """Cards drawn from ``state.metrics``, ``state.cost`` and ``state.latency``."""

    _NAMES = ("accuracy", "change", "macs", "params", "latency")

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._cards = {name: w.HTML() for name in self._NAMES}
        self._texts: dict[str, str] = {}
        self._latency = w.Button(
            description="Measure latency",
            icon="clock-o",
            tooltip="export the pruned model and time it on CPU",
        )
        self._latency.on_click(lambda _b: state.measure_latency())
        super().__init__(
            [
                w.HBox([self._cards[n] for n in self._NAMES[:4]]),
                w.HBox([self._cards["latency"], self._latency]),
                w.HTML(
                    "<div style='color:#5f6368;font-size:90%'>Accuracy is measured on the validation subset "
                    "after every change: the first estimate comes with its 95 % interval, then it is exact. "
                    "MACs are multiply-accumulates per image; the pruned model is really that small once "
                    "exported.</div>"
                ),
            ],
            **kwargs,
        )
        state.observe(self._update, names=["metrics", "cost", "latency", "baseline"])
        self._update()

    @property
    def texts(self) -> dict[str, str]:
        """Card name (``accuracy``, ``change``, ``macs``, ``params``, ``latency``) → the value it shows."""
        return dict(self._texts)

    def _card(self, name: str, title: str, value: str, note: str) -> None:
        self._texts[name] = value
        self._cards[name].value = _CARD.format(title=escape(title), value=escape(value), note=escape(note))

    @serialized
    def _update(self, _change: Any = None) -> None:
        m, cost, base = self._state.metrics, self._state.cost, self._state.baseline
        if not m:
            return
        final = m.get("final", True)
        progress = "exact" if final else f"estimate from {m['seen']} of {m['total']} images"
        self._card(
            "accuracy", "Top-1 accuracy", format_accuracy(m["accuracy"], m["accuracy_ci"], final), progress
        )
        self._card(
            "change",
            "Change from original",
            format_points(m.get("delta")),
            f"original: {format_percent(base.get('accuracy'))}",
        )
        macs = cost.get("macs", m["macs"])
        params = cost.get("params", m["params"])
        self._card(
            "macs",
            "MACs per image",
            format_count(macs),
            f"{format_percent(cost.get('macs_fraction', m.get('macs_fraction')))} of original",
        )
        self._card(
            "params",
            "Parameters",
            format_count(params),
            f"{format_percent(cost.get('params_fraction', m.get('params_fraction')))} of original",
        )
        lat = self._state.latency
        if lat:
            stale = "" if lat.get("generation") == m.get("generation") else " (an earlier plan)"
            self._card(
                "latency",
                "Exported latency (CPU, 1 image)",
                f"{lat['pruned_ms']:.2f} ms",
                f"original {lat['baseline_ms']:.2f} ms: speed-up ×{lat['speedup']:.2f}{stale}",
            )
        else:
            self._card("latency", "Exported latency (CPU, 1 image)", "—", "press the button to measure")
