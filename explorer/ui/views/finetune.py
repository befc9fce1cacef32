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
from explorer.ui.views.plots import CURRENT, KEPT, quiet_toolbar
from explorer.ui.views.schedules import SchedulePlot
from explorer.ui.views.sensitivity import html_table

_SMALL = {"height": 260, "width": 400, "tools": "pan,wheel_zoom,box_zoom,reset,save"}


class FinetuneView(w.VBox):
    """Steps, Run, progress and Cancel; training loss and validation accuracy drawn live, by step."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        self._steps = w.BoundedIntText(
            value=200,
            min=1,
            max=20000,
            step=50,
            description=t("finetune.steps"),
            tooltip=t("finetune.steps.hint"),
            style={"description_width": "initial"},
            layout=w.Layout(width="170px"),
        )
        self._lr = w.BoundedFloatText(
            value=3e-3,
            min=1e-6,
            max=1.0,
            step=1e-3,
            description=t("finetune.lr"),
            tooltip=t("finetune.lr.hint"),
            style={"description_width": "initial"},
            layout=w.Layout(width="220px"),
        )
        self._run = w.Button(
            description=t("finetune.run"),
            icon="graduation-cap",
            button_style="primary",
            tooltip=t("finetune.run.hint"),
        )
        self._run.on_click(lambda _b: state.jobs.run_finetune(self._steps.value, lr=self._lr.value))
        self._reconstruct = w.Button(
            description=t("reconstruct.run"), icon="magic", tooltip=t("reconstruct.run.hint")
        )
        self._reconstruct.on_click(lambda _b: state.analyses.run_reconstruct())
        disable_while_busy(state, self._run, self._reconstruct)
        self._status = JobStatus(state, "finetune")
        self._result = w.HTML()
        self._reconstructed = w.HTML()
        self._loss = ColumnDataSource({"step": [], "loss": []})
        self._accuracy = ColumnDataSource({"step": [], "accuracy": []})
        steps = Range1d(0, 1)
        step = t("finetune.plot.step")
        self._loss_fig = figure(
            title=t("finetune.plot.loss"),
            x_axis_label=step,
            y_axis_label=t("finetune.plot.loss_axis"),
            x_range=steps,
            **_SMALL,
        )
        self._loss_fig.line(x="step", y="loss", source=self._loss, color=KEPT)
        self._loss_fig.add_tools(
            HoverTool(tooltips=[(step, "@step"), (t("finetune.plot.loss_tip"), "@loss{0.000}")])
        )
        self._acc_fig = figure(
            title=t("finetune.plot.accuracy"),
            x_axis_label=step,
            y_axis_label=t("plot.accuracy_axis"),
            x_range=steps,
            **_SMALL,
        )
        self._acc_fig.line(x="step", y="accuracy", source=self._accuracy, color=CURRENT)
        self._acc_fig.scatter(x="step", y="accuracy", source=self._accuracy, color=CURRENT, size=7)
        self._acc_fig.add_tools(
            HoverTool(tooltips=[(step, "@step"), (t("plot.accuracy_tip"), "@accuracy{0.0} %")])
        )
        quiet_toolbar(self._loss_fig, self._acc_fig)
        self._steps_range = steps
        state.jobs.observe(self._update_curve, names="finetune_curve")
        state.jobs.observe(self._update_result, names="finetune")
        state.analyses.observe(self._update_reconstruction, names="reconstruction")
        self._update_curve()
        self._update_result()
        self._update_reconstruction()
        self._plot = BokehModel(row(self._loss_fig, self._acc_fig), combine_events=True)
        super().__init__(
            [
                w.HTML(f"<h4 style='margin:4px 0'>{t('finetune.title')}</h4>"),
                _help(t("finetune.help")),
                w.HBox([self._steps, self._lr, self._run, self._reconstruct]),
                _help(t("reconstruct.help")),
                JobView(state, jobs=("finetune", "reconstruct")),
                self._status,
                JobStatus(state, "reconstruct"),
                self._result,
                self._reconstructed,
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
    def reconstruct_button(self) -> w.Button:
        return self._reconstruct

    @property
    def text(self) -> str:
        return self._result.value

    @property
    def reconstruction_text(self) -> str:
        return self._reconstructed.value

    @serialized
    def _update_reconstruction(self, _change: Any = None) -> None:
        r, t = self._state.analyses.reconstruction, self._t
        if not r:
            self._reconstructed.value = ""
            return
        before, after = r["accuracy_before"], r["accuracy_after"]
        self._reconstructed.value = t(
            "reconstruct.result",
            before=f"<b>{format_percent(before)}</b>",
            after=f"<b>{format_percent(after)}</b>",
            change=format_points(after - before, t("unit.points")),
            layers=r["layers"],
            samples=r["calibration_samples"],
        )

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
        before, after, t = f["accuracy_before"], f["accuracy_after"], self._t
        self._result.value = t(
            "finetune.result",
            steps=f["steps"],
            before=f"<b>{format_percent(before)}</b>",
            after=f"<b>{format_percent(after)}</b>",
            change=format_points(after - before, t("unit.points")),
            macs=format_count(f["macs"]),
        )


class CompareView(w.VBox):
    """Two experiments on copies (the plan and weights stay): one-shot vs iterative; filters vs weights."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        self._ratio = w.FloatSlider(
            value=0.5,
            min=0.1,
            max=0.9,
            step=0.05,
            readout_format=".0%",
            description=t("compare.ratio"),
            tooltip=t("compare.ratio.hint"),
            style={"description_width": "initial"},
            layout=w.Layout(width="320px"),
        )
        self._k = w.IntSlider(
            value=4,
            min=2,
            max=8,
            description=t("compare.k"),
            tooltip=t("compare.k.hint"),
            style={"description_width": "initial"},
        )
        self._steps = w.BoundedIntText(
            value=200,
            min=4,
            max=20000,
            step=50,
            description=t("compare.steps"),
            style={"description_width": "initial"},
            layout=w.Layout(width="190px"),
        )
        self._schedules = w.Button(
            description=t("compare.schedules"), icon="random", layout=w.Layout(width="auto")
        )
        self._schedules.on_click(
            lambda _b: state.jobs.compare_schedules(self._ratio.value, self._steps.value, self._k.value)
        )
        self._unstructured = w.Button(
            description=t("compare.unstructured"), icon="th", layout=w.Layout(width="auto")
        )
        self._unstructured.on_click(lambda _b: state.jobs.compare_unstructured())
        disable_while_busy(state, self._schedules, self._unstructured)
        self._schedules_html = w.HTML()
        self._schedule_plot = SchedulePlot(state)
        self._unstructured_html = w.HTML()
        super().__init__(
            [
                w.HTML(f"<h4 style='margin:4px 0'>{t('compare.schedules.title')}</h4>"),
                _help(t("compare.schedules.help")),
                w.HBox([self._ratio, self._k, self._steps, self._schedules]),
                JobView(state, jobs=("schedules",)),
                JobStatus(state, "schedules"),
                self._schedules_html,
                self._schedule_plot,
                w.HTML(f"<h4 style='margin:10px 0 4px 0'>{t('compare.unstructured.title')}</h4>"),
                _help(t("compare.unstructured.help")),
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
        s, t = self._state.jobs.schedules, self._t
        if not s:
            self._schedules_html.value = ""
            return
        steps = ", ".join(format_percent(a) for a in s.get("iterative_steps", []))
        total = s.get("training_steps", {}).get("iterative", s["steps"])
        self._schedules_html.value = html_table(
            ["", escape(t("plot.accuracy_tip"))],
            [
                [escape(t("compare.at_once", ratio=f"{100 * s['ratio']:.0f}")), format_percent(s["before"])],
                [
                    escape(t("compare.one_shot", steps=s["steps"])),
                    f"<b>{format_percent(s['one_shot'])}</b>",
                ],
                [
                    escape(t("compare.iterative.fair", k=s["k"], steps=total)),
                    f"<b>{format_percent(s['iterative'])}</b>",
                ],
            ],
        ) + (
            f"<div style='color:#5f6368;font-size:90%'>{escape(t('compare.each_step', steps=steps))} "
            f"{escape(t('compare.plot.fair'))}</div>"
        )

    @serialized
    def _update_unstructured(self, _change: Any = None) -> None:
        u, t = self._state.jobs.unstructured, self._t
        if not u:
            self._unstructured_html.value = ""
            return
        rows = [
            [
                escape(t("compare.dense")),
                format_count(u["dense_params"]),
                "—",
                format_ms(u["dense_latency_ms"]),
                "×1.00",
            ],
            [
                escape(t("compare.filters")),
                format_count(u["params"]),
                format_percent(u["filter_accuracy"]),
                format_ms(u["filter_latency_ms"]),
                f"×{u['filter_speedup']:.2f}",
            ],
            [
                escape(t("compare.weights")),
                escape(t("compare.nonzero", count=format_count(u["unstructured_nonzero_params"]))),
                format_percent(u["unstructured_accuracy"]),
                format_ms(u["unstructured_latency_ms"]),
                f"×{u['unstructured_speedup']:.2f}",
            ],
        ]
        note = t("compare.nothing_pruned") if not u.get("channels_removed") else t("compare.latency_note")
        header = ["", t("compare.column.params"), t("plot.accuracy_tip"), t("compare.column.latency")]
        self._unstructured_html.value = (
            html_table([escape(h) for h in [*header, t("compare.column.speedup")]], rows)
            + f"<div style='color:#5f6368;font-size:90%'>{escape(note)}</div>"
        )
