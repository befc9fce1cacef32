"""Files in and out: save the pruned model (``explorer.save_pruned``) and explore an uploaded checkpoint."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from explorer.ui.format import escape, format_bytes
from explorer.ui.loader import CHECKPOINT_SUFFIXES
from explorer.ui.views._sync import serialized
from explorer.ui.views.controls import JobStatus, JobView, _help, disable_while_busy


class ExportView(w.VBox):
    """A folder, a Save button; then the files written and the content of ``SUMMARY.md``."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        model = state.summary.get("model", "model")
        self._folder = w.Text(
            value=f"pruned_{model}",
            placeholder=t("export.folder.placeholder"),
            description=t("export.folder"),
            style={"description_width": "initial"},
            layout=w.Layout(width="420px"),
        )
        self._save = w.Button(
            description=t("export.save"),
            icon="save",
            button_style="primary",
            layout=w.Layout(width="auto"),
        )
        self._save.on_click(lambda _b: state.jobs.save(self._folder.value))
        disable_while_busy(state, self._save)
        self._result = w.HTML()
        super().__init__(
            [
                w.HTML(f"<h4 style='margin:4px 0'>{t('export.title')}</h4>"),
                _help(t("export.help")),
                w.HBox([self._folder, self._save]),
                JobView(state, jobs=("export",)),
                JobStatus(state, "export"),
                self._result,
            ],
            **kwargs,
        )
        state.jobs.observe(self._update, names="export")
        self._update()

    @property
    def folder(self) -> w.Text:
        return self._folder

    @property
    def save_button(self) -> w.Button:
        return self._save

    @property
    def text(self) -> str:
        return self._result.value

    @serialized
    def _update(self, _change: Any = None) -> None:
        e = self._state.jobs.export
        if not e:
            self._result.value = ""
            return
        files = "".join(
            f"<li><code>{escape(f['path'])}</code> ({format_bytes(f['bytes'])})</li>" for f in e["files"]
        )
        summary = (
            "<details open><summary>SUMMARY.md</summary>"
            "<pre style='background:#f8f9fa;padding:6px;max-height:320px;overflow:auto;white-space:pre-wrap;"
            "line-height:1.35'>"
            f"{escape(e['summary'])}</pre></details>"
            if e["summary"]
            else ""
        )
        written = escape(self._t("export.written"))
        self._result.value = f"<div>{written}</div><ul style='margin:2px 0'>{files}</ul>{summary}"


class ModelView(w.VBox):
    """Switch to another model + data pair; only the pairs this machine can load are offered, the others are
    greyed out with the command that would make them available."""

    def __init__(self, state: Any, **kwargs: Any):
        from explorer.ui.model_choices import device_choices, list_choices

        self._state = state
        self._t = t = state.t
        current = state.loader.current or (state.summary.get("model", ""), None)
        self._choices = {c.key: c for c in list_choices(current)}
        names = list(self._choices)
        now = next((c.key for c in self._choices.values() if (c.model, c.data) == current), None)
        now = now or next((k for k in names if self._choices[k].model == current[0]), names[0])
        self._choice = w.Dropdown(
            options=[(self._option(c), c.key) for c in self._choices.values()],
            value=now,
            description=t("models.model"),
            style={"description_width": "initial"},
            layout=w.Layout(width="420px"),
        )
        devices = device_choices()  # only the devices present here
        here = state.summary.get("device")
        self._device = w.Dropdown(
            options=devices,
            value=here if here in devices else devices[0],
            description=t("models.device"),
            tooltip=t("models.device.tip"),
            style={"description_width": "initial"},
            layout=w.Layout(width="190px"),
        )
        self._load = w.Button(description=t("models.explore"), icon="exchange", layout=w.Layout(width="auto"))
        self._load.on_click(lambda _button: self._switch())
        self._hint = w.HTML()
        self._choice.observe(self._chosen, names="value")
        state.activity.observe(self._chosen, names="busy")
        super().__init__(
            [
                w.HTML(f"<h4 style='margin:4px 0'>{t('models.title')}</h4>"),
                _help(t("models.help")),
                w.HBox([self._choice, self._device, self._load], layout=w.Layout(align_items="center")),
                self._hint,
                JobView(state, jobs=("model",)),
                JobStatus(state, "model"),
                w.HTML(self._table()),
            ],
            **kwargs,
        )
        self._chosen()

    @property
    def choice(self) -> w.Dropdown:
        return self._choice

    @property
    def device(self) -> w.Dropdown:
        return self._device

    @property
    def load_button(self) -> w.Button:
        return self._load

    @property
    def choices(self) -> dict[str, Any]:
        """Choice key → its ``ModelChoice`` (availability and commands)."""
        return dict(self._choices)

    def _option(self, choice: Any) -> str:
        mark = "" if choice.available else " " + self._t("models.not_here")
        return f"{choice.model} · {choice.dataset}{mark}"

    def _switch(self) -> None:
        choice = self._choices[self._choice.value]
        self._state.loader.switch_model(choice.model, choice.data, device=self._device.value)

    def _chosen(self, _change: Any = None) -> None:
        choice = self._choices[self._choice.value]
        self._load.disabled = not choice.available or bool(self._state.activity.busy)
        self._hint.value = "" if choice.available else _help(self._missing(choice)).value

    def _missing(self, choice: Any) -> str:
        from explorer.ui.loader import unavailable_text

        return escape(unavailable_text(choice, self._t))

    def _table(self) -> str:
        t, rows = self._t, []
        for c in self._choices.values():
            style = "padding:1px 8px;" + ("" if c.available else "color:#9aa0a6")
            how = "<br>".join(f"<code>{escape(cmd)}</code>" for cmd in c.commands)
            here = t("models.ready") if c.available else (how or t("models.no_weights"))
            rows.append(
                f"<tr><td style='{style}'>{escape(c.model)}</td><td style='{style}'>{escape(c.dataset)}</td>"
                f"<td style='{style}'>{here}</td></tr>"
            )
        head = "".join(
            f"<th align='left' style='padding:1px 8px'>{escape(h)}</th>"
            for h in (t("models.column.model"), t("models.column.data"), t("models.column.here"))
        )
        return f"<table style='border-collapse:collapse;font-size:90%'><tr>{head}</tr>{''.join(rows)}</table>"


class UploadView(w.VBox):
    """Upload a state_dict checkpoint for the same architecture; the explorer restarts on those weights."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        self._t = t = state.t
        limit = f"{state.loader.max_upload_bytes / 2**20:.0f} MB"
        suffixes = ", ".join(CHECKPOINT_SUFFIXES)
        self._upload = w.FileUpload(
            accept=",".join(CHECKPOINT_SUFFIXES),
            multiple=False,
            description=t("upload.button"),
            tooltip=t("upload.button.hint", suffixes=suffixes, limit=limit),
            layout=w.Layout(width="auto"),
        )
        self._upload.observe(self._uploaded, names="value")
        disable_while_busy(state, self._upload)
        self._result = w.HTML()
        model = escape(state.summary.get("model", ""))
        super().__init__(
            [
                w.HTML(f"<h4 style='margin:4px 0'>{t('upload.title')}</h4>"),
                _help(t("upload.help", model=f"<b>{model}</b>", suffixes=escape(suffixes), limit=limit)),
                _help(t("upload.too_big")),
                self._upload,
                JobView(state, jobs=("upload",)),
                JobStatus(state, "upload"),
                self._result,
            ],
            **kwargs,
        )
        state.loader.observe(self._update, names="upload")
        self._update()

    @property
    def upload(self) -> w.FileUpload:
        return self._upload

    @property
    def text(self) -> str:
        return self._result.value

    def _uploaded(self, _change: dict) -> None:
        files = self._upload.value  # the current value: merged events must not load a file twice
        if not files:
            return
        item = files[0]
        self._upload.value = ()  # so that choosing the same file again counts
        self._state.loader.load_checkpoint(item["name"], item["content"], item.get("size"))

    @serialized
    def _update(self, _change: Any = None) -> None:
        u = self._state.loader.upload
        if not u:
            self._result.value = ""
            return
        text = self._t("upload.exploring", name=f"<b>{escape(u['name'])}</b>", size=format_bytes(u["bytes"]))
        self._result.value = f"<div style='color:#5f6368'>{text}</div>"
