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
        model = state.summary.get("model", "model")
        self._folder = w.Text(
            value=f"pruned_{model}",
            placeholder="folder (relative to the notebook's folder, or absolute)",
            description="Folder",
            style={"description_width": "50px"},
            layout=w.Layout(width="420px"),
        )
        self._save = w.Button(
            description="Save pruned model",
            icon="save",
            button_style="primary",
            layout=w.Layout(width="190px"),
        )
        self._save.on_click(lambda _b: state.jobs.save(self._folder.value))
        disable_while_busy(state, self._save)
        self._result = w.HTML()
        super().__init__(
            [
                w.HTML("<h4 style='margin:4px 0'>Export</h4>"),
                _help(
                    "Saves the network with the pruned filters physically removed: <code>plan.json</code> "
                    "(which filters went), <code>pruned_state_dict.pt</code> (the smaller weights, load them "
                    "with <code>explorer.load_pruned</code>) and <code>SUMMARY.md</code> (plan, metrics and "
                    "criteria, readable). The folder is replaced as a whole; a folder holding other files is "
                    "refused."
                ),
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
        self._result.value = f"<div>Written:</div><ul style='margin:2px 0'>{files}</ul>{summary}"


class ModelView(w.VBox):
    """Switch to another model of the zoo (its own dataset); the explorer restarts on it."""

    def __init__(self, state: Any, **kwargs: Any):
        from explorer.zoo import list_models

        self._state = state
        current = state.summary.get("model", "")
        names = list_models()
        self._choice = w.Dropdown(
            options=names,
            value=current if current in names else names[0],
            description="Model",
            style={"description_width": "50px"},
            layout=w.Layout(width="260px"),
        )
        self._load = w.Button(
            description="Explore this model", icon="exchange", layout=w.Layout(width="170px")
        )
        self._load.on_click(lambda _button: self._state.loader.switch_model(self._choice.value))
        disable_while_busy(state, self._load)
        super().__init__(
            [
                w.HTML("<h4 style='margin:4px 0'>Another model</h4>"),
                _help(
                    "The zoo: the small digits network, the CIFAR-10 VGG-16 and ResNets of Li et al. 2017. A "
                    "CIFAR model needs the CIFAR-10 test set and its pretrained weights on this machine "
                    "(<code>pruning-explorer fetch resnet20_cifar cifar10</code>); without weights it is "
                    "explored untrained, and says so."
                ),
                w.HBox([self._choice, self._load]),
                JobView(state, jobs=("model",)),
                JobStatus(state, "model"),
            ],
            **kwargs,
        )

    @property
    def choice(self) -> w.Dropdown:
        return self._choice

    @property
    def load_button(self) -> w.Button:
        return self._load


class UploadView(w.VBox):
    """Upload a state_dict checkpoint for the same architecture; the explorer restarts on those weights."""

    def __init__(self, state: Any, **kwargs: Any):
        self._state = state
        limit = f"{state.loader.max_upload_bytes / 2**20:.0f} MB"
        self._upload = w.FileUpload(
            accept=",".join(CHECKPOINT_SUFFIXES),
            multiple=False,
            description="Upload checkpoint",
            tooltip=f"a state_dict file ({', '.join(CHECKPOINT_SUFFIXES)}), at most {limit}",
            layout=w.Layout(width="200px"),
        )
        self._upload.observe(self._uploaded, names="value")
        disable_while_busy(state, self._upload)
        self._result = w.HTML()
        model = escape(state.summary.get("model", "this model"))
        super().__init__(
            [
                w.HTML("<h4 style='margin:4px 0'>Explore your own weights</h4>"),
                _help(
                    f"Upload a checkpoint of <b>{model}</b> trained by you: a <code>state_dict</code> saved "
                    "with <code>torch.save(model.state_dict(), path)</code>, as a "
                    f"{escape(', '.join(CHECKPOINT_SUFFIXES))} file of at most {limit}. It is "
                    "read with <code>torch.load(weights_only=True)</code>: only tensors, a file holding "
                    "pickled Python objects is refused. The explorer then starts again on the new weights "
                    "(the plan, history and results of the current ones are dropped); if anything is wrong, "
                    "it says why and keeps the current weights."
                ),
                _help(
                    "Jupyter servers drop messages over 10 MB unless started with a larger limit: if nothing "
                    "happens after choosing a bigger file, restart the server with "
                    "<code>--Voila.tornado_settings='{\"websocket_max_message_size\": 230686720}'</code> "
                    "(JupyterLab: <code>--ServerApp.tornado_settings=…</code>)."
                ),
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
        self._result.value = (
            f"<div style='color:#5f6368'>Exploring the weights of <b>{escape(u['name'])}</b> "
            f"({format_bytes(u['bytes'])}).</div>"
            if u
            else ""
        )
