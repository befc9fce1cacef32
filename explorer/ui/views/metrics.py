"""The metric cards: accuracy (± its running 95 % interval), change from the original, MACs, params,
latency. Each card explains itself on hover."""

from __future__ import annotations

from typing import Any, ClassVar

import ipywidgets as w

from explorer.ui.format import escape, format_accuracy, format_count, format_percent, format_points
from explorer.ui.views._sync import serialized

_CARD = (
    "<div class='pe-card' title='{hint}' style='border:1px solid #dadce0;border-radius:6px;padding:4px 10px;"
    "min-width:140px;background:#fff;cursor:help'>"
    "<div style='color:#5f6368;font-size:85%'>{title}</div>"
    "<div style='font-size:150%;font-weight:600;line-height:1.25'>{value}</div>"
    "<div style='color:#5f6368;font-size:85%'>{note}</div></div>"
)


class MetricsView(w.VBox):
    """Cards drawn from ``state.metrics``, ``state.cost`` and ``state.latency``."""

    _NAMES = ("accuracy", "change", "macs", "params", "latency")
    #: Each card's title and hover explanation (catalogue keys).
    _KEYS: ClassVar[dict[str, tuple[str, str]]] = {
        "accuracy": ("metrics.accuracy.title", "metrics.accuracy.hint"),
        "change": ("metrics.change.title", "metrics.change.hint"),
        "macs": ("metrics.macs.title", "metrics.macs.hint"),
        "params": ("metrics.params.title", "metrics.params.hint"),
        "latency": ("metrics.latency.title", "metrics.latency.hint"),
    }

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        self._cards = {name: w.HTML() for name in self._NAMES}
        self._texts: dict[str, str] = {}
        self._latency = w.Button(
            description=t("metrics.latency.button"),
            icon="clock-o",
            tooltip=t("metrics.latency.button_hint"),
            layout=w.Layout(width="auto"),
        )
        self._latency.on_click(lambda _b: state.measure_latency())
        grid = w.GridBox(
            [self._cards[n] for n in self._NAMES[:4]],
            layout=w.Layout(grid_template_columns="repeat(2, minmax(150px, 1fr))", grid_gap="6px"),
        )
        self.latency_row = w.HBox(
            [self._cards["latency"], self._latency], layout=w.Layout(align_items="center")
        )
        super().__init__(
            [
                grid,
                self.latency_row,
                w.HTML(
                    f"<div class='pe-help' style='color:#5f6368;font-size:85%;max-width:420px'>"
                    f"{t('metrics.help')}</div>"
                ),
            ],
            **kwargs,
        )
        self.add_class("pruning-explorer-metrics")
        state.observe(self._update, names=["metrics", "cost", "latency", "baseline"])
        self._update()

    @property
    def texts(self) -> dict[str, str]:
        """Card name (``accuracy``, ``change``, ``macs``, ``params``, ``latency``) → the value it shows."""
        return dict(self._texts)

    def _card(self, name: str, value: str, note: str) -> None:
        self._texts[name] = value
        title, hint = self._KEYS[name]
        self._cards[name].value = _CARD.format(
            title=escape(self._t(title)),
            hint=escape(self._t(hint)),
            value=escape(value),
            note=escape(note),
        )

    @serialized
    def _update(self, _change: Any = None) -> None:
        m, cost, base, t = self._state.metrics, self._state.cost, self._state.baseline, self._t
        if not m:
            return
        final = m.get("final", True)
        progress = t("metrics.exact") if final else t("metrics.estimate", seen=m["seen"], total=m["total"])
        self._card("accuracy", format_accuracy(m["accuracy"], m["accuracy_ci"], final), progress)
        self._card(
            "change",
            format_points(m.get("delta"), t("unit.points")),
            t("metrics.change.note", accuracy=format_percent(base.get("accuracy"))),
        )
        macs = cost.get("macs", m["macs"])
        params = cost.get("params", m["params"])
        share = t(
            "metrics.of_original", share=format_percent(cost.get("macs_fraction", m.get("macs_fraction")))
        )
        self._card("macs", format_count(macs), share)
        fraction = cost.get("params_fraction", m.get("params_fraction"))
        self._card("params", format_count(params), t("metrics.of_original", share=format_percent(fraction)))
        lat = self._state.latency
        if lat:
            stale = "" if lat.get("generation") == m.get("generation") else t("metrics.latency.stale")
            self._card(
                "latency",
                f"{lat['pruned_ms']:.2f} ms",
                t(
                    "metrics.latency.note",
                    baseline=f"{lat['baseline_ms']:.2f}",
                    speedup=f"{lat['speedup']:.2f}",
                    stale=stale,
                ),
            )
        else:
            self._card("latency", "—", t("metrics.latency.none"))
