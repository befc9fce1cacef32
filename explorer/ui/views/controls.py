"""The controls: criterion, one slider per prunable layer, a global slider, Reset and Undo; job progress and
status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as w

from explorer.ui.format import escape
from explorer.ui.plan_inputs import RATIO_MAX, RATIO_MIN, RATIO_STEP, on_grid
from explorer.ui.views._sync import serialized

_HELP = "<div style='color:#5f6368;font-size:90%;line-height:1.3'>{}</div>"


def _help(text: str) -> w.HTML:
    return w.HTML(_HELP.format(text), layout=w.Layout(max_width="420px"))


def _ratio_slider(description: str, tooltip: str = "") -> w.FloatSlider:
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
        style={"description_width": "150px"},
        layout=w.Layout(width="400px"),
    )


class ControlsView(w.VBox):
    """Everything that changes the plan.

    Args:
        state: an ``ExplorerState`` that is ready (its ``groups`` known).
    """

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        self._criterion = w.Dropdown(
            options=[(c["name"], c["name"]) for c in state.criteria],
            description=t("controls.criterion"),
            style={"description_width": "70px"},
        )
        w.link((state, "criterion"), (self._criterion, "value"))
        self._criterion_help = w.HTML(layout=w.Layout(max_width="420px"))
        self._sliders: dict[str, w.FloatSlider] = {}
        self._counts: dict[str, w.HTML] = {}
        rows = []
        for group in state.groups:
            name = group["name"]
            slider = _ratio_slider(name, t("controls.slider.hint", count=group["num_channels"], layer=name))
            slider.observe(lambda change, name=name: self._slider_moved(name, change), names="value")
            self._sliders[name] = slider
            coupled = ", ".join(group["coupled"])
            beside = escape(t("controls.also_cuts", layers=coupled)) if coupled else ""
            self._counts[name] = w.HTML()
            rows.append(
                w.HBox(
                    [
                        slider,
                        w.VBox(
                            [self._counts[name], w.HTML(f"<span style='color:#5f6368'>{beside}</span>")],
                            layout=w.Layout(width="240px"),
                        ),
                    ]
                )
            )
        self._global = _ratio_slider(t("controls.global"), t("controls.global.hint"))
        w.link((state, "global_ratio"), (self._global, "value"))
        super().__init__(
            [
                w.HTML(f"<h4 style='margin:4px 0'>{t('controls.title')}</h4>"),
                self._criterion,
                self._criterion_help,
                _help(t("controls.sliders.help")),
                *rows,
                _help(t("controls.global.help")),
                self._global,
            ],
            **kwargs,
        )
        # slider positions follow only `ratios`: the state publishes it, under its own lock, from any thread,
        # and a slider set here reports back to the state on that same thread (see PlanInputs)
        state.observe(self._ratios_changed, names="ratios")
        state.observe(self._counts_changed, names="pruned")
        state.observe(self._describe_criterion, names="criterion")
        self._ratios_changed()
        self._counts_changed()
        self._describe_criterion()

    @property
    def sliders(self) -> dict[str, w.FloatSlider]:
        """Layer name → its slider (read-only view, for tests and scripts)."""
        return dict(self._sliders)

    @property
    def global_slider(self) -> w.FloatSlider:
        return self._global

    @property
    def criterion_dropdown(self) -> w.Dropdown:
        return self._criterion

    def _slider_moved(self, name: str, change: dict) -> None:
        # the slider's current value, whatever number of events brought it there; the state tells echoes
        # (the ratio it published, or that ratio snapped to the slider's step) from moves
        self._state.set_ratio(name, float(self._sliders[name].value))

    @serialized
    def _ratios_changed(self, _change: Any = None) -> None:
        for name, ratio in self._state.ratios.items():
            slider = self._sliders.get(name)
            shown = on_grid(ratio)
            if slider is not None and abs(slider.value - shown) > 1e-9 and abs(slider.value - ratio) > 1e-9:
                slider.value = shown  # comes back to the state, which knows it for an echo

    @serialized
    def _counts_changed(self, _change: Any = None) -> None:
        pruned = self._state.pruned
        for group in self._state.groups:
            name, total = group["name"], group["num_channels"]
            removed = len(pruned.get(name, ()))
            text = self._t("controls.removed", removed=f"<b>{removed}</b>", total=total)
            self._counts[name].value = f"<span style='color:#5f6368'>{text}</span>"

    @serialized
    def _describe_criterion(self, _change: Any = None) -> None:
        info = next((c for c in self._state.criteria if c["name"] == self._state.criterion), None)
        if info is None:
            self._criterion_help.value = ""
            return
        data = " " + self._t("controls.needs_data") if info["needs_data"] else ""
        self._criterion_help.value = _HELP.format(
            f"{escape(info['description'])}{data}<br><code>{escape(info['formula'])}</code><br>"
            f"<a href='{escape(info['url'])}' target='_blank'>{escape(info['title'])}</a>"
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
