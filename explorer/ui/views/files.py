"""Files in and out: save the pruned model (``explorer.save_pruned``), download it from the page, and explore
an uploaded checkpoint.

The download is an ``<a download>`` link whose ``href`` is a ``data:`` URI holding the zip of the saved
files: it needs no server route and no JavaScript of ours, so it works in Voilà and in JupyterLab alike.
Chromium takes URLs up to 2 MiB, hence ``explorer.ui.download.DOWNLOAD_LIMIT``; a bigger export says where
it was saved instead. ``SUMMARY.md`` is rendered as HTML (mistune, escaping any HTML in it).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import mistune

from explorer.ui.format import escape, format_bytes
from explorer.ui.loader import CHECKPOINT_SUFFIXES
from explorer.ui.views._sync import serialized
from explorer.ui.views.controls import JobStatus, JobView, _help, disable_while_busy
from explorer.ui.views.weights import weights_label

#: SUMMARY.md → HTML: tables on, raw HTML escaped (model and data names come from the user).
_MARKDOWN = mistune.create_markdown(escape=True, plugins=["table"])
_SUMMARY_STYLE = (
    "<style>.pe-summary table{border-collapse:collapse;margin:4px 0}"
    ".pe-summary th,.pe-summary td{border:1px solid #dadce0;padding:1px 8px;text-align:left}"
    ".pe-summary h1{font-size:120%;margin:4px 0}.pe-summary p{margin:4px 0}</style>"
)
_BUTTON = (
    "display:inline-block;padding:4px 12px;border-radius:4px;background:#1a73e8;color:#fff;"
    "text-decoration:none;font-weight:600"
)


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
        self._download = w.HTML()
        super().__init__(
            [
                w.HTML(f"<h4 style='margin:4px 0'>{t('export.title')}</h4>"),
                _help(t("export.help")),
                w.HBox([self._folder, self._save]),
                JobView(state, jobs=("export",)),
                JobStatus(state, "export"),
                self._download,
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

    @property
    def download(self) -> str:
        """The HTML of the download link (empty before a save)."""
        return self._download.value

    @serialized
    def _update(self, _change: Any = None) -> None:
        e, t = self._state.jobs.export, self._t
        if not e:
            self._result.value = ""
            self._download.value = ""
            return
        files = "".join(
            f"<li><code>{escape(f['path'])}</code> ({format_bytes(f['bytes'])})</li>" for f in e["files"]
        )
        weights = e.get("weights")
        exported = (
            "<div>" + t("export.weights", label=f"<b>{escape(weights_label(weights, t))}</b>") + "</div>"
            if weights
            else ""
        )
        summary = (
            f"<details open><summary>{escape(t('export.summary'))}</summary>{_SUMMARY_STYLE}"
            "<div class='pe-summary' style='background:#f8f9fa;padding:6px;max-height:360px;overflow:auto'>"
            f"{_MARKDOWN(e['summary'])}</div></details>"
            if e["summary"]
            else ""
        )
        written = escape(t("export.written"))
        self._result.value = f"{exported}<div>{written}</div><ul style='margin:2px 0'>{files}</ul>{summary}"
        self._download.value = self._link(e.get("download"))

    def _link(self, download: dict | None) -> str:
        if not download:
            return ""
        t, name, size = self._t, escape(download["name"]), format_bytes(download["bytes"])
        if download.get("data") is None:
            return _help(t("export.too_big", name=name, size=size)).value
        href = f"data:application/zip;base64,{download['data']}"
        text = escape(t("export.download", name=download["name"], size=size))
        return (
            f"<a class='pe-download' download='{name}' href='{href}' style='{_BUTTON}' "
            f"title='{escape(t('export.download.hint'))}'>⬇ {text}</a>"
        )


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
