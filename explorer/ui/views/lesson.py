"""The lesson panel: the current step's idea, its question and the live answer, Back / Next (the app's
:class:`~explorer.ui.lesson.Lesson` holds where the student is). Step 5 adds its comparison table: the plan
pruned only, reconstructed and fine-tuned (:func:`~explorer.ui.recovery.compare_recovery`), "not yet" where
a state was not measured on this plan yet."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from explorer.ui.format import escape, format_percent, format_points
from explorer.ui.lesson import STEPS, TUTORIALS
from explorer.ui.naming import criterion_label, layer_labels
from explorer.ui.recovery import ROWS, compare_recovery
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
    "<div style='margin-top:4px;color:{color}'>{answer}</div>{table}"
    "<div style='margin-top:4px;color:#5f6368;font-size:85%'>{tutorial}</div></div>"
)


_CELL = "padding:2px 10px;border-bottom:1px solid #aecbfa;text-align:left"
_TABLE = "border-collapse:collapse;margin-top:2px"
_NOTE = "<div style='margin-top:6px'>{}</div>"


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
        state.observe(self._plan_measured, names=["trajectory", "pruned"])
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
            return t(KEYS[name][3], **{k: format_percent(answer[k]) for k in ROWS})
        return t(KEYS[name][3], speedup=f"{answer['speedup']:.2f}")

    def _plan_measured(self, _change: Any) -> None:
        if self._lesson.mode == "lesson" and self._lesson.name == "finetune":  # the comparison follows
            self._update()

    def _recovery(self) -> str:
        """Step 5's comparison: the current plan pruned only, reconstructed and fine-tuned (the map's
        points, :func:`~explorer.ui.recovery.compare_recovery`), "not yet" where not measured yet."""
        t, state = self._t, self._state
        table = compare_recovery(state.trajectory, state.pruned)
        if not table["planned"]:
            return _NOTE.format(escape(t("lesson.recovery.no_plan")))
        base = state.baseline or {}
        base_accuracy, base_macs = base.get("accuracy"), base.get("macs") or 0
        cells = [t("lesson.recovery.weights"), t("lesson.recovery.accuracy")]
        cells += [t("lesson.recovery.change"), t("lesson.recovery.macs")]
        head = "".join(f"<th style='{_CELL}'>{escape(c)}</th>" for c in cells)
        body = []
        for name in ROWS:
            row = table["rows"][name]
            label = t(f"lesson.recovery.{name}", steps=(row or {}).get("steps") or 0)
            if name == "finetuned" and row is not None and not row["from_original"]:
                label = t("lesson.recovery.finetuned_other", steps=row.get("steps") or 0)
            if row is None:
                values = [f"<i>{escape(t('lesson.recovery.not_yet'))}</i>", "", ""]
            else:
                change = row["accuracy"] - base_accuracy if base_accuracy is not None else None
                macs = row["macs"] / base_macs if base_macs else None
                values = [format_percent(row["accuracy"]), format_points(change, t("unit.points"))]
                values.append(escape(format_percent(macs)))
            cells = [escape(label), *values]
            tds = "".join(f"<td style='{_CELL}'>{c}</td>" for c in cells)
            body.append(f"<tr class='pe-recovery-row pe-recovery-{name}'>{tds}</tr>")
        caption = _NOTE.format(t("lesson.recovery.caption"))
        rows = "".join(body)
        return f"{caption}<table class='pe-recovery' style='{_TABLE}'><tr>{head}</tr>{rows}</table>"

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
            table=self._recovery() if name == "finetune" else "",
            tutorial=tutorial,
        )
        self._back.disabled = lesson.step == 0
        self._next.disabled = lesson.step == len(STEPS) - 1
