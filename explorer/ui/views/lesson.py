"""The lesson panel: the current step's idea, its question and the live answer, Back / Next (the app's
:class:`~explorer.ui.lesson.Lesson` holds where the student is)."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from explorer.ui.format import escape, format_percent, format_points
from explorer.ui.lesson import STEPS, TUTORIALS
from explorer.ui.naming import criterion_label, layer_labels
from explorer.ui.views._sync import serialized

#: Catalogue keys of each step: title, text, question, and the answer (filled in with the numbers).
KEYS = {
    "filter": ("lesson.filter.title", "lesson.filter.text", "lesson.filter.task", "lesson.filter.done"),
    "slider": ("lesson.slider.title", "lesson.slider.text", "lesson.slider.task", "lesson.slider.done"),
    "criteria": (
        "lesson.criteria.title",
        "lesson.criteria.text",
        "lesson.criteria.task",
        "lesson.criteria.done",
    ),
    "sensitivity": (
        "lesson.sensitivity.title",
        "lesson.sensitivity.text",
        "lesson.sensitivity.task",
        "lesson.sensitivity.done",
    ),
    "finetune": (
        "lesson.finetune.title",
        "lesson.finetune.text",
        "lesson.finetune.task",
        "lesson.finetune.done",
    ),
    "export": ("lesson.export.title", "lesson.export.text", "lesson.export.task", "lesson.export.done"),
}

_BOX = (
    "<div style='background:#e8f0fe;border:1px solid #aecbfa;border-radius:8px;padding:8px 14px'>"
    "<div style='color:#1967d2;font-size:85%;font-weight:600'>{step}</div>"
    "<div style='font-size:125%;font-weight:600;margin:2px 0 4px 0'>{title}</div>"
    "<div style='max-width:900px'>{text}</div>"
    "<div style='margin-top:6px'><b>{ask}</b> {task}</div>"
    "<div style='margin-top:4px;color:{color}'>{answer}</div>"
    "<div style='margin-top:4px;color:#5f6368;font-size:85%'>{tutorial}</div></div>"
)


class LessonView(w.VBox):
    """The current step of ``lesson`` (an :class:`~explorer.ui.lesson.Lesson`), hidden in explore mode."""

    def __init__(self, state: Any, lesson: Any, **kwargs: Any):
        self._state = state
        self._lesson = lesson
        self._t = t = state.t
        self._html = w.HTML()
        self._back = w.Button(description=t("lesson.back"), icon="arrow-left", layout=w.Layout(width="auto"))
        self._next = w.Button(
            description=t("lesson.next"),
            icon="arrow-right",
            button_style="primary",
            layout=w.Layout(width="auto"),
        )
        self._back.on_click(lambda _b: lesson.back())
        self._next.on_click(lambda _b: lesson.next())
        buttons = w.HBox([self._back, self._next], layout=w.Layout(justify_content="flex-end"))
        super().__init__([self._html, buttons], **kwargs)
        self.add_class("pruning-explorer-lesson")
        lesson.observe(self._update, names=["step", "answers", "mode"])
        self._update()

    @property
    def text(self) -> str:
        return self._html.value

    @property
    def buttons(self) -> dict[str, w.Button]:
        return {"back": self._back, "next": self._next}

    def _answer(self, name: str, answer: dict) -> str:
        t, unit = self._t, self._t("unit.points")
        if name in ("filter", "slider", "sensitivity"):
            group = answer.get("group", "")
            layer = layer_labels(self._state.groups, t, counts=False).get(group, group)
            return t(
                KEYS[name][3],
                removed=answer.get("removed", 0),
                layer=escape(layer),
                change=format_points(answer["delta"], unit),
                macs=format_percent(answer["macs"]),
            )
        if name == "criteria":
            criterion = criterion_label(answer["criterion"], t)
            return t(
                KEYS[name][3], criterion=escape(criterion), channel=answer["channel"], rank=answer["rank"]
            )
        if name == "finetune":
            return t(
                KEYS[name][3], before=format_percent(answer["before"]), after=format_percent(answer["after"])
            )
        return t(KEYS[name][3], speedup=f"{answer['speedup']:.2f}")

    @serialized
    def _update(self, _change: Any = None) -> None:
        lesson, t = self._lesson, self._t
        self.layout.display = "none" if lesson.mode == "explore" else "flex"
        name = lesson.name
        title, text, task, _done = KEYS[name]
        answer = lesson.answer(name)
        notebook = TUTORIALS[name]
        tutorial = t(
            "lesson.tutorial", notebook=f"<a href='{notebook}' target='_blank'>notebooks/{notebook}</a>"
        )
        self._html.value = _BOX.format(
            step=escape(t("lesson.step", number=lesson.step + 1, total=len(STEPS))),
            title=escape(t(title)),
            text=t(text),
            ask=escape(t("lesson.ask")),
            task=t(task),
            color="#188038" if answer else "#5f6368",
            answer=("✓ " + self._answer(name, answer)) if answer else escape(t("lesson.waiting")),
            tutorial=tutorial,
        )
        self._back.disabled = lesson.step == 0
        self._next.disabled = lesson.step == len(STEPS) - 1
