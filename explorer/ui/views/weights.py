"""The weights bar: which weights are live, Undo / Redo / Back to the original network, a warning when the
plan does not fit the live weights, and the precision of the live metrics (fp32 one click away)."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from explorer.ui.format import escape
from explorer.ui.views._sync import serialized

_WARNING = (
    "<div style='background:#fef7e0;border:1px solid #f9ab00;border-radius:4px;color:#7a4f01;"
    "padding:4px 8px;font-size:90%'>⚠ {}</div>"
)


def weights_label(weights: dict[str, Any], t: Any) -> str:
    """The live weights' name in the page's language (``session.weights.label`` in English)."""
    if weights["is_original"]:
        return t("weights.original")
    if weights["kind"] == "fine-tuned":
        return t("weights.finetuned", plan=weights["plan_number"], steps=weights["steps"])
    if weights["kind"] == "reconstructed" and not weights["steps"]:
        return t("weights.reconstructed", plan=weights["plan_number"])
    return str(weights["label"])  # a kind of weights the catalogues do not know: the core's own words


class WeightsView(w.VBox):
    """``state.network``: the live weights' label, the fit warning, the precision; and the history buttons."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        self._label = w.HTML()
        self._warning = w.HTML()
        auto = {"layout": w.Layout(width="auto")}
        self._undo = w.Button(
            description=t("weights.undo"), icon="undo", tooltip=t("weights.undo.hint"), **auto
        )
        self._redo = w.Button(
            description=t("weights.redo"), icon="repeat", tooltip=t("weights.redo.hint"), **auto
        )
        self._reset = w.Button(
            description=t("weights.reset"), icon="home", tooltip=t("weights.reset.hint"), **auto
        )
        self._undo.on_click(lambda _b: state.undo())
        self._redo.on_click(lambda _b: state.redo())
        self._reset.on_click(lambda _b: state.reset())
        self._precision = w.ToggleButtons(
            options=[(t("weights.bf16"), "bf16"), (t("weights.fp32"), "fp32")],
            tooltips=[t("weights.bf16.hint"), t("weights.fp32.hint")],
            style={"button_width": "110px"},
        )
        self._precision.observe(self._precision_chosen, names="value")
        self._syncing = False
        precision = w.HBox(
            [w.HTML(f"<span style='color:#5f6368'>{t('weights.precision')}</span>"), self._precision],
            layout=w.Layout(align_items="center", margin="0 0 0 auto"),
        )
        super().__init__(
            [
                w.HBox(
                    [self._label, self._undo, self._redo, self._reset, precision],
                    layout=w.Layout(align_items="center", flex_flow="row wrap"),
                ),
                self._warning,
            ],
            **kwargs,
        )
        self.add_class("pruning-explorer-weights")
        state.network.observe(self._update, names=["weights", "precision", "plan_number"])
        self._update()

    @property
    def buttons(self) -> dict[str, w.Button]:
        return {"undo": self._undo, "redo": self._redo, "reset": self._reset}

    @property
    def precision(self) -> w.ToggleButtons:
        return self._precision

    @property
    def text(self) -> str:
        """The live weights' line."""
        return self._label.value

    @property
    def warning(self) -> str:
        """The fit warning ('' when the plan fits the live weights)."""
        return self._warning.value

    def _precision_chosen(self, _change: dict) -> None:
        if not self._syncing and self._precision.value != self._state.network.precision:
            self._state.set_precision(self._precision.value)

    @serialized
    def _update(self, _change: Any = None) -> None:
        network = self._state.network
        weights, t = network.weights, self._t
        if not weights:
            return
        plan = t("weights.plan", number=network.plan_number) if network.plan_number else ""
        label = weights_label(weights, t)
        live = t("weights.live", label=f"<b>{escape(label)}</b>")
        self._label.value = (
            f"<span title='{escape(t('weights.live.hint'))}'>{live}"
            f"<span style='color:#5f6368'>{escape(plan)}</span></span>"
        )
        self._warning.value = "" if weights["fits"] else _WARNING.format(t("weights.misfit"))
        self._syncing = True
        try:
            if network.precision in ("bf16", "fp32"):
                self._precision.value = network.precision
        finally:
            self._syncing = False
