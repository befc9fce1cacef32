"""The controls: criterion, the selected layer's slider, a global slider and one slider per prunable layer;
job progress and status."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import ipywidgets as w

from explorer.ui.format import escape
from explorer.ui.naming import criterion_hint, criterion_label, layer_labels
from explorer.ui.plan_inputs import CAP_MAX, CAP_MIN, RATIO_MAX, RATIO_MIN, RATIO_STEP, on_grid
from explorer.ui.views._sync import serialized

_HELP = "<div style='color:#5f6368;font-size:90%;line-height:1.3'>{}</div>"


def _help(text: str) -> w.HTML:
    return w.HTML(_HELP.format(text), layout=w.Layout(max_width="780px"))


def _ratio_slider(tooltip: str = "", description: str = "", width: str = "300px") -> w.FloatSlider:
    return w.FloatSlider(
        value=0.0,
        min=RATIO_MIN,
        max=RATIO_MAX,
        step=RATIO_STEP,
        continuous_update=True,
        readout_format=".0%",
        description=description,
        description_allow_html=False,
        tooltip=tooltip,
        style={"description_width": "initial" if description else "0px"},
        layout=w.Layout(width=width),
    )


def css_name(name: str) -> str:
    """A layer's name as a CSS class suffix: ``layer1.0.conv1`` → ``layer1-0-conv1``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class ControlsView(w.VBox):
    """Everything that changes the plan: the criterion, the selected layer's slider (large, at the top), the
    global slider, and every layer's slider in a scrollable list.

    Args:
        state: an ``ExplorerState`` that is ready (its ``groups`` known).
    """

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        self._labels = layer_labels(state.groups, t)
        self._criterion = w.Dropdown(
            options=[(criterion_label(c["name"], t), c["name"]) for c in state.criteria],
            description=t("controls.criterion"),
            style={"description_width": "initial"},
            layout=w.Layout(width="360px"),
        )
        w.link((state, "criterion"), (self._criterion, "value"))
        self._criterion_help = w.HTML(layout=w.Layout(max_width="560px"))
        self._sliders: dict[str, w.FloatSlider] = {}
        self._counts: dict[str, w.HTML] = {}
        self._syncing = False
        rows = [self._row(group) for group in state.groups]
        self._layer = w.Dropdown(
            options=[(self._labels[g["name"]], g["name"]) for g in state.groups],
            description=t("controls.selected"),
            style={"description_width": "initial"},
            layout=w.Layout(width="auto"),
        )
        w.link((state, "selected_group"), (self._layer, "value"))
        self._selected = _ratio_slider(t("controls.selected.hint"), width="100%")
        self._selected.add_class("pe-selected-slider")
        self._selected.observe(self._selected_moved, names="value")
        self._selected_count = w.HTML()
        selected = w.VBox([self._layer, self._selected, self._selected_count])
        selected.add_class("pe-selected")
        self._global = _ratio_slider(t("controls.global.help"), t("controls.global"), width="100%")
        self._global.add_class("pe-global-slider")
        w.link((state, "global_ratio"), (self._global, "value"))
        self._cap = w.FloatSlider(
            value=state.inputs.max_pruning_ratio,
            min=CAP_MIN,
            max=CAP_MAX,
            step=RATIO_STEP,
            readout_format=".0%",
            description=t("controls.cap"),
            tooltip=t("controls.cap.hint"),
            style={"description_width": "initial"},
            layout=w.Layout(width="100%"),
        )
        self._cap.add_class("pe-cap-slider")
        self._cap.observe(lambda change: state.inputs.set_max_pruning_ratio(change["new"]), names="value")
        global_help = _help(t("controls.global.explain"))
        layer_list = w.VBox(rows)
        layer_list.add_class("pe-layer-list")
        criterion = w.HBox([self._criterion, self._criterion_help], layout=w.Layout(align_items="center"))
        every = w.HTML(f"<b style='font-size:90%'>{t('controls.every_layer')}</b>")
        sliders = [
            selected,
            self._global,
            self._cap,
            global_help,
            every,
            layer_list,
            _help(t("controls.sliders.help")),
        ]
        #: the widgets of each part the lesson unlocks: the criterion row, and the sliders
        self.parts = {"criterion": [criterion], "sliders": sliders}
        super().__init__([criterion, *sliders], **kwargs)
        self.add_class("pruning-explorer-controls")
        # slider positions follow only `ratios`: the state publishes it, under its own lock, from any thread,
        # and a slider set here reports back to the state on that same thread (see PlanInputs)
        state.observe(self._ratios_changed, names="ratios")
        state.observe(self._counts_changed, names="pruned")
        state.observe(self._describe_criterion, names="criterion")
        state.observe(self._show_selected, names="selected_group")
        self._ratios_changed()
        self._counts_changed()
        self._describe_criterion()

    def _row(self, group: dict[str, Any]) -> w.HBox:
        name, t = group["name"], self._t
        slider = _ratio_slider(
            t("controls.slider.hint", count=group["num_channels"], layer=self._labels[name])
        )
        slider.add_class(f"pe-slider-{css_name(name)}")
        slider.observe(lambda change, name=name: self._slider_moved(name, change), names="value")
        self._sliders[name] = slider
        self._counts[name] = w.HTML(layout=w.Layout(width="190px"))
        coupled = ", ".join(group["coupled"])
        code = t("controls.code_name", name=name) + (
            f" · {t('controls.also_cuts', layers=coupled)}" if coupled else ""
        )
        label = w.HTML(
            f"<span title='{escape(code)}' style='cursor:help'>{escape(self._labels[name])}</span>",
            layout=w.Layout(width="230px"),
        )
        row = w.HBox([label, slider, self._counts[name]], layout=w.Layout(align_items="center"))
        row.add_class(f"pe-row-{css_name(name)}")
        return row

    @property
    def sliders(self) -> dict[str, w.FloatSlider]:
        """Layer name → its slider (read-only view, for tests and scripts)."""
        return dict(self._sliders)

    @property
    def global_slider(self) -> w.FloatSlider:
        return self._global

    @property
    def selected_slider(self) -> w.FloatSlider:
        """The large slider of the selected layer (``state.selected_group``)."""
        return self._selected

    @property
    def criterion_dropdown(self) -> w.Dropdown:
        return self._criterion

    @property
    def labels(self) -> dict[str, str]:
        """Layer name → the plain name the page shows."""
        return dict(self._labels)

    def _slider_moved(self, name: str, change: dict) -> None:
        # the slider's current value, whatever number of events brought it there; the state tells echoes
        # (the ratio it published, or that ratio snapped to the slider's step) from moves
        self._state.set_ratio(name, float(self._sliders[name].value))

    def _selected_moved(self, _change: dict) -> None:
        group = self._state.selected_group
        if not self._syncing and group in self._sliders:
            self._state.set_ratio(group, float(self._selected.value))

    @serialized
    def _ratios_changed(self, _change: Any = None) -> None:
        for name, ratio in self._state.ratios.items():
            slider = self._sliders.get(name)
            shown = on_grid(ratio)
            if slider is not None and abs(slider.value - shown) > 1e-9 and abs(slider.value - ratio) > 1e-9:
                slider.value = shown  # comes back to the state, which knows it for an echo
        self._show_selected()

    @serialized
    def _show_selected(self, _change: Any = None) -> None:
        """The large slider shows the selected layer's ratio (set quietly: it is not a move)."""
        group = self._state.selected_group
        ratio = self._state.ratios.get(group, 0.0)
        self._syncing = True
        try:
            if abs(self._selected.value - ratio) > 1e-9 and abs(self._selected.value - on_grid(ratio)) > 1e-9:
                self._selected.value = on_grid(ratio)
        finally:
            self._syncing = False
        self._counts_changed()

    @serialized
    def _counts_changed(self, _change: Any = None) -> None:
        pruned, t = self._state.pruned, self._t
        for group in self._state.groups:
            name, total = group["name"], group["num_channels"]
            removed = len(pruned.get(name, ()))
            text = t("controls.removed", removed=f"<b>{removed}</b>", total=total)
            self._counts[name].value = f"<span style='color:#5f6368;white-space:nowrap'>{text}</span>"
            if name == self._state.selected_group:
                self._selected_count.value = f"<span style='color:#5f6368'>{text}</span>"

    @serialized
    def _describe_criterion(self, _change: Any = None) -> None:
        name, t = self._state.criterion, self._t
        info = next((c for c in self._state.criteria if c["name"] == name), None)
        if info is None:
            self._criterion_help.value = ""
            return
        self._criterion.tooltip = t("controls.criterion.hint", name=name, formula=info["formula"])
        data = " " + t("controls.needs_data") if info["needs_data"] else ""
        hint = escape(criterion_hint(name, t, info["description"]))
        self._criterion_help.value = _HELP.format(
            f"{hint}{data} <a href='{escape(info['url'])}' target='_blank' title='{escape(info['title'])}'>"
            f"{escape(info['title'])}</a>"
        )


class JobView(w.HBox):
    """Progress of the running long job, with a Cancel button; hidden while no job runs.

    Args:
        state: an ``ExplorerState`` (its ``activity`` is shown).
        jobs: show only these jobs (names of ``activity.job``); default: every job, scoring and latency too.
    """

    def __init__(self, state: Any, jobs: Sequence[str] | None = None, **kwargs: Any):
        self._activity = state.activity
        self._jobs = None if jobs is None else tuple(jobs)
        self._bar = w.IntProgress(min=0, max=100, value=0, layout=w.Layout(width="240px"))
        self._label = w.HTML()
        self._cancel = w.Button(description=state.t("job.cancel"), icon="stop", button_style="warning")
        self._cancel.on_click(lambda _b: state.cancel())
        super().__init__([self._label, self._bar, self._cancel], **kwargs)
        self._activity.observe(self._update, names=["busy", "progress", "progress_text", "job"])
        self._update()

    @property
    def visible(self) -> bool:
        return self.layout.display != "none"

    @serialized
    def _update(self, _change: Any = None) -> None:
        activity = self._activity
        self._bar.value = round(100 * activity.progress)
        self._label.value = escape(activity.progress_text)
        mine = self._jobs is None or activity.job in self._jobs
        self.layout.display = "flex" if activity.busy and mine else "none"


_STATUS_COLOR = {"running": "#5f6368", "done": "#188038", "cancelled": "#a15c00", "failed": "#a50e0e"}


class JobStatus(w.HTML):
    """One line saying how the last run of a job ended (``state.activity.job_status[name]``)."""

    def __init__(self, state: Any, name: str, **kwargs: Any):
        self._activity = state.activity
        self._name = name
        super().__init__(**kwargs)
        self._activity.observe(self._update, names="job_status")
        self._update()

    @property
    def text(self) -> str:
        return self._activity.job_status.get(self._name, {}).get("text", "")

    @serialized
    def _update(self, _change: Any = None) -> None:
        status = self._activity.job_status.get(self._name)
        if not status or not status.get("text"):
            self.value = ""
            return
        color = _STATUS_COLOR.get(status["state"], "#5f6368")
        self.value = f"<span style='color:{color};font-size:90%'>{escape(status['text'])}</span>"


def disable_while_busy(state: Any, *buttons: w.Button) -> None:
    """Grey ``buttons`` out while a long job runs (a click would only queue behind it)."""

    activity = state.activity

    def update(_change: Any = None) -> None:
        for button in buttons:
            button.disabled = bool(activity.busy)

    activity.observe(update, names="busy")
    update()
