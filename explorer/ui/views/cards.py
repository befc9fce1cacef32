"""What the analyses of a few validation images share: the HTML of an image card, and ``ImagesJobView``,
the frame of an analysis run as a job (its title, help, controls, run button, progress and result)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w

from explorer.ui.views._sync import serialized
from explorer.ui.views.controls import JobStatus, JobView, _help, disable_while_busy

CARD = (
    "<div style='display:inline-block;width:150px;margin:3px;padding:4px;border:1px solid #e8eaed;"
    "border-radius:4px;font-size:85%;vertical-align:top'>{}</div>"
)
WIDE_CARD = CARD.replace("width:150px", "width:auto")
IMAGE = "<img src='{}' style='width:56px;height:56px;image-rendering:pixelated;display:block'>"
NOTE = "<div style='color:#5f6368;font-size:90%'>{}</div>"


def ratio_slider(description: str) -> w.FloatSlider:
    """A 10 %–90 % slider in steps of 10 %, at 50 %."""
    return w.FloatSlider(
        value=0.5,
        min=0.1,
        max=0.9,
        step=0.1,
        readout_format=".0%",
        description=description,
        style={"description_width": "initial"},
        layout=w.Layout(width="300px"),
    )


class ImagesJobView(w.VBox):
    """An analysis run as a job on the state's ``analyses``: the result under ``state.analyses.<job>`` is
    drawn by ``render`` (HTML) whenever it changes, and is empty until there is one.

    Args:
        job: the job's name, also the ``Analyses`` trait holding its result.
        texts: the title, the help, the run button's label and its tooltip, already translated.
        controls: the widgets set before running, shown beside the button.
        run: starts the job.
    """

    def __init__(
        self,
        state: Any,
        job: str,
        texts: tuple[str, str, str, str],
        controls: Sequence[w.Widget],
        run: Callable[[], None],
        **kwargs: Any,
    ):
        self._state, self._t, self._job = state, state.t, job
        title, help_text, label, hint = texts
        self._run = w.Button(description=label, icon="eye", tooltip=hint, layout=w.Layout(width="auto"))
        self._run.on_click(lambda _b: run())
        disable_while_busy(state, self._run)
        self._result = w.HTML()
        state.analyses.observe(self._update, names=job)
        super().__init__(
            [
                w.HTML(f"<h4 style='margin:8px 0 4px 0'>{title}</h4>"),
                _help(help_text),
                w.HBox([*controls, self._run]),
                JobView(state, jobs=(job,)),
                JobStatus(state, job),
                self._result,
            ],
            **kwargs,
        )
        self._update()

    @property
    def run_button(self) -> w.Button:
        return self._run

    @property
    def text(self) -> str:
        return self._result.value

    def render(self, result: dict) -> str:
        """The HTML of a (non-empty) result."""
        raise NotImplementedError

    @serialized
    def _update(self, _change: Any = None) -> None:
        result = getattr(self._state.analyses, self._job)
        self._result.value = self.render(result) if result else ""


__all__ = ["CARD", "IMAGE", "NOTE", "WIDE_CARD", "ImagesJobView", "ratio_slider"]
