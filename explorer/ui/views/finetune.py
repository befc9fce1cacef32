"""The "Fine-tune" part of the second panel: retrain the pruned network with a live curve, then two
comparisons: one-shot vs iterative pruning, and removing filters vs zeroing single weights."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from bokeh.layouts import row
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.plotting import figure
from jupyter_bokeh import BokehModel

from explorer.ui.format import escape, format_count, format_ms, format_percent, format_points
from explorer.ui.views._sync import serialized
from explorer.ui.views.controls import JobStatus, JobView, _help, disable_while_busy
from explorer.ui.views.plots import CURRENT, KEPT
from explorer.ui.views.sensitivity import html_table

_SMALL = {"height": 260, "width": 400, "tools": "pan,wheel_zoom,box_zoom,reset,save"}


class FinetuneView(w.VBox):
    """Steps, Run, progress and Cancel; training loss and validation accuracy drawn live, by step."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._steps = w.BoundedIntText(
            value=200,
            min=1,
            max=20000,
            step=50,
            description="Steps",
            tooltip="training steps, one batch of 64 images each",
            style={"description_width": "50px"},
            layout=w.Layout(width="150px"),
        )
        self._lr = w.BoundedFloatText(
            value=3e-3,
            min=1e-6,
            max=1.0,
            step=1e-3,
            description="Learning rate",
            style={"description_width": "95px"},
            layout=w.Layout(width="200px"),
        )
        self._run = w.Button(
            description="Fine-tune", icon="graduation-cap", button_style="primary", tooltip="retrain the plan"
        )
        self._run.on_click(lambda _b: state.jobs.run_finetune(self._steps.value, lr=self._lr.value))
        disable_while_busy(state, self._run)
        self._status = JobStatus(state, "finetune")
        self._result = w.HTML()
        self._loss = ColumnDataSource({"step": [], "loss": []})
        self._accuracy = ColumnDataSource({"step": [], "accuracy": []})
        steps = Range1d(0, 1)
        self._loss_fig = figure(
            title="Training loss", x_axis_label="step", y_axis_label="cross-entropy", x_range=steps, **_SMALL
        )
        self._loss_fig.line(x="step", y="loss", source=self._loss, color=KEPT)
        self._loss_fig.add_tools(HoverTool(tooltips=[("step", "@step"), ("loss", "@loss{0.000}")]))
        self._acc_fig = figure(
            title="Validation accuracy",
            x_axis_label="step",
            y_axis_label="top-1 accuracy (%)",
            x_range=steps,
            **_SMALL,
        )
        self._acc_fig.line(x="step", y="accuracy", source=self._accuracy, color=CURRENT)
        self._acc_fig.scatter(x="step", y="accuracy", source=self._accuracy, color=CURRENT, size=7)
        self._acc_fig.add_tools(HoverTool(tooltips=[("step", "@step"), ("accuracy", "@accuracy{0.0} %")]))
        self._steps_range = steps
        state.jobs.observe(self._update_curve, names="finetune_curve")
        state.jobs.observe(self._update_result, names="finetune")
        self._update_curve()
        self._update_result()
        self._plot = BokehModel(row(self._loss_fig, self._acc_fig), combine_events=True)
        super().__init__(
            [
                w.HTML("<h4 style='margin:4px 0'>Fine-tune the pruned network</h4>"),
                _help(
                    "Removing filters costs accuracy; a little retraining lets the remaining filters take "
                    "over their work (Han et al. 2015, <a href='https://arxiv.org/abs/1506.02626' "
                    "target='_blank'>Learning both Weights and Connections</a>). Training runs on the "
                    "training split with the pruned filters kept at zero, so it is the same as training the "
                    "smaller network. When it finishes the explorer goes on with the new weights: the "
                    "'Every plan you tried' plot gets a star for the result. Cancel keeps the old weights."
                ),
                w.HBox([self._steps, self._lr, self._run]),
                JobView(state, jobs=("finetune",)),
                self._status,
                self._result,
                self._plot,
            ],
            **kwargs,
        )

    @property
    def sources(self) -> dict[str, ColumnDataSource]:
        """``loss`` (one row per step) and ``accuracy`` (one row per validation point)."""
        return {"loss": self._loss, "accuracy": self._accuracy}

    @property
    def inputs(self) -> dict[str, w.ValueWidget]:
        return {"steps": self._steps, "lr": self._lr}

    @property
    def run_button(self) -> w.Button:
        return self._run

    @property
    def text(self) -> str:
        return self._result.value

    @serialized
    def _update_curve(self, _change: Any = None) -> None:
        c = self._state.jobs.finetune_curve
        if not c:
            self._loss.data = {"step": [], "loss": []}
            self._accuracy.data = {"step": [], "accuracy": []}
            return
        self._loss.data = {"step": list(c["loss_step"]), "loss": list(c["loss"])}
        self._accuracy.data = {"step": list(c["acc_step"]), "accuracy": [100 * a for a in c["accuracy"]]}
        steps = max(int(c["steps"]), 1)
        self._steps_range.start, self._steps_range.end = -0.02 * steps, 1.03 * steps  # room for the points

    @serialized
    def _update_result(self, _change: Any = None) -> None:
        f = self._state.jobs.finetune
        if not f:
            self._result.value = ""
            return
        before, after = f["accuracy_before"], f["accuracy_after"]
        self._result.value = (
            f"After {f['steps']} steps: accuracy <b>{format_percent(before)}</b> → "
            f"<b>{format_percent(after)}</b> ({format_points(after - before)}), at "
            f"{format_count(f['macs'])} MACs per image. The explorer now uses the fine-tuned weights: every "
            "plan from here on is evaluated with them."
        )


class CompareView(w.VBox):
    """Two experiments on copies (the plan and weights stay): one-shot vs iterative; filters vs weights."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._ratio = w.FloatSlider(
            value=0.5,
            min=0.1,
            max=0.9,
            step=0.05,
            readout_format=".0%",
            description="Prune to",
            tooltip="the global share of filters both schedules remove",
            style={"description_width": "70px"},
            layout=w.Layout(width="300px"),
        )
        self._k = w.IntSlider(
            value=4, min=2, max=8, description="k steps", style={"description_width": "60px"}
        )
        self._steps = w.BoundedIntText(
            value=200,
            min=4,
            max=20000,
            step=50,
            description="Train steps",
            style={"description_width": "80px"},
            layout=w.Layout(width="170px"),
        )
        self._schedules = w.Button(
            description="One-shot vs iterative", icon="random", layout=w.Layout(width="200px")
        )
        self._schedules.on_click(
            lambda _b: state.jobs.compare_schedules(self._ratio.value, self._steps.value, self._k.value)
        )
        self._unstructured = w.Button(
            description="Filters vs single weights", icon="th", layout=w.Layout(width="220px")
        )
        self._unstructured.on_click(lambda _b: state.jobs.compare_unstructured())
        disable_while_busy(state, self._schedules, self._unstructured)
        self._schedules_html = w.HTML()
        self._unstructured_html = w.HTML()
        super().__init__(
            [
                w.HTML("<h4 style='margin:4px 0'>One-shot or iterative pruning?</h4>"),
                _help(
                    "Prune the whole ratio at once and train, or reach it in k smaller steps with training "
                    "after each (the same number of training steps in total)? Both run on copies: your plan "
                    "and weights stay as they are."
                ),
                w.HBox([self._ratio, self._k, self._steps, self._schedules]),
                JobView(state, jobs=("schedules",)),
                JobStatus(state, "schedules"),
                self._schedules_html,
                w.HTML("<h4 style='margin:10px 0 4px 0'>Remove filters, or zero single weights?</h4>"),
                _help(
                    "Compares the current plan, exported (the filters are really gone), with zeroing the "
                    "smallest single weights until the same number of parameters is left (Han et al. 2015), "
                    "without retraining. Zeroed weights keep every layer's shape, so a dense CPU or GPU does "
                    "exactly the same work: no speed-up without special sparse kernels. Removed filters make "
                    "every layer smaller: fewer operations, really faster."
                ),
                self._unstructured,
                JobView(state, jobs=("unstructured",)),
                JobStatus(state, "unstructured"),
                self._unstructured_html,
            ],
            **kwargs,
        )
        state.jobs.observe(self._update_schedules, names="schedules")
        state.jobs.observe(self._update_unstructured, names="unstructured")
        self._update_schedules()
        self._update_unstructured()

    @property
    def buttons(self) -> dict[str, w.Button]:
        return {"schedules": self._schedules, "unstructured": self._unstructured}

    @property
    def inputs(self) -> dict[str, w.ValueWidget]:
        return {"ratio": self._ratio, "k": self._k, "steps": self._steps}

    @property
    def texts(self) -> dict[str, str]:
        return {"schedules": self._schedules_html.value, "unstructured": self._unstructured_html.value}

    @serialized
    def _update_schedules(self, _change: Any = None) -> None:
        s = self._state.jobs.schedules
        if not s:
            self._schedules_html.value = ""
            return
        steps = ", ".join(format_percent(a) for a in s.get("iterative_steps", []))
        self._schedules_html.value = html_table(
            ["", "top-1 accuracy"],
            [
                [f"pruned to {100 * s['ratio']:.0f} % at once, not trained", format_percent(s["before"])],
                [f"one-shot, then {s['steps']} training steps", f"<b>{format_percent(s['one_shot'])}</b>"],
                [
                    f"iterative: {s['k']} steps of {s['steps'] // s['k']} training steps",
                    f"<b>{format_percent(s['iterative'])}</b>",
                ],
            ],
        ) + (f"<div style='color:#5f6368;font-size:90%'>After each iterative step: {steps}</div>")

    @serialized
    def _update_unstructured(self, _change: Any = None) -> None:
        u = self._state.jobs.unstructured
        if not u:
            self._unstructured_html.value = ""
            return
        params = format_count(u["params"])
        rows = [
            [
                "dense original",
                format_count(u["dense_params"]),
                "—",
                format_ms(u["dense_latency_ms"]),
                "×1.00",
            ],
            [
                "filters removed (exported)",
                params,
                format_percent(u["filter_accuracy"]),
                format_ms(u["filter_latency_ms"]),
                f"×{u['filter_speedup']:.2f}",
            ],
            [
                "single weights zeroed",
                f"{format_count(u['unstructured_nonzero_params'])} non-zero",
                format_percent(u["unstructured_accuracy"]),
                format_ms(u["unstructured_latency_ms"]),
                f"×{u['unstructured_speedup']:.2f}",
            ],
        ]
        note = (
            "Nothing is pruned yet: move some sliders first, then compare again."
            if not u.get("channels_removed")
            else "Latency: median of repeated runs on a batch of 128 validation images, on this CPU. On a "
            "small network or a busy machine the difference can drown in timing noise: prune more and "
            "compare again."
        )
        self._unstructured_html.value = (
            html_table(["", "parameters", "top-1 accuracy", "latency", "speed-up"], rows)
            + f"<div style='color:#5f6368;font-size:90%'>{escape(note)}</div>"
        )
