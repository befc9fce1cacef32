"""``SessionLoader``: the jobs that replace the session explored, checkpoint upload and model switch.

They run on the state's worker like the other long jobs (progress, cancel, a status line in
``activity.job_status``). An uploaded file is checked before anything reads it, then read safely
(``weights_only``); the new session replaces the current one only once it is built, and on any error the
current one stays, usable.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from traitlets import Dict, HasTraits

from explorer.checkpoints import load_checkpoint_state_dict
from explorer.errors import CheckpointError, ExplorerError
from explorer.session import PruningSession
from explorer.ui.activity import Activity, JobCancelled
from explorer.ui.worker import Worker

#: Largest checkpoint the upload accepts, in bytes.
MAX_UPLOAD_BYTES = 200 * 2**20
#: File name endings the upload accepts.
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".th")

_CANCELLED_TEXT = {"upload": "loader.cancelled.upload", "model": "loader.cancelled.model"}


def unavailable_text(choice: Any, t: Callable[..., str]) -> str:
    """Why a model + data pair cannot be explored here, and the command that would change that."""
    missing = []
    if choice.weights == "missing":
        missing.append(t("models.missing.weights", model=choice.model))
    if choice.weights == "none":
        missing.append(t("models.missing.no_weights", model=choice.model))
    if not choice.data_ready:
        missing.append(t("models.missing.data", dataset=choice.dataset))
    text = t("models.unavailable", model=choice.model, missing=t("models.and").join(missing))
    if choice.commands:
        text += " " + t("models.run", commands=t("models.or").join(choice.commands))
    return text


def _safe_name(name: str) -> str:
    """The uploaded file's base name, reduced to harmless characters (it only names a temporary file)."""
    base = re.sub(r"[^\w.\-]+", "_", Path(name).name).strip("._") or "checkpoint"
    return base[:100]


class SessionLoader(HasTraits):
    """Builds the session to explore next, from an uploaded checkpoint or a zoo model, and hands it over.

    Args:
        worker: runs the jobs.
        activity: their progress, status and cancel flag.
        session: the session explored now.
        criterion: the active criterion (the new session starts with it).
        show_error: a message for the red box (a file refused before any job runs).
        replace_session: explore this session instead; raises, keeping the old one, when it cannot.
    """

    upload = Dict(help="the last checkpoint loaded: name, size")

    def __init__(
        self,
        worker: Worker,
        activity: Activity,
        *,
        session: Callable[[], Any],
        criterion: Callable[[], str],
        show_error: Callable[[str], None],
        replace_session: Callable[[Any], None],
        text: Callable[..., str],
    ):
        super().__init__()
        self._t = text
        self._worker, self._activity = worker, activity
        self._session, self._criterion = session, criterion
        self._show_error, self._replace_session = show_error, replace_session
        self.max_upload_bytes = MAX_UPLOAD_BYTES
        #: builds a session on a checkpoint file (set by ``build_app``; default: the current session's
        #: model and validation data with the new weights)
        self.session_factory: Callable[[Path], Any] | None = None
        #: the zoo model and data source explored now, when they are names (the Models tab marks them)
        self.current: tuple[str, str | None] | None = None

    def load_checkpoint(self, name: str, content: bytes | memoryview, size: int | None = None) -> None:
        """Explore uploaded weights: checked, read safely, then a new session replaces the current one.

        The file must end in .pt, .pth or .th and hold at most ``max_upload_bytes`` bytes
        (``MAX_UPLOAD_BYTES``); it is read with :func:`explorer.checkpoints.load_checkpoint_state_dict`
        (``weights_only``). On any error the message is shown and the current session stays as it was.

        Args:
            name: the file's name, as the user chose it.
            content: its bytes.
            size: the size the browser announced (checked as well as ``len(content)``).
        """
        limit = int(self.max_upload_bytes)
        size = max(int(size or 0), len(content))
        problem = ""
        if not name.lower().endswith(CHECKPOINT_SUFFIXES):
            problem = self._t("loader.not_checkpoint", name=name, suffixes=", ".join(CHECKPOINT_SUFFIXES))
        elif size > limit:
            problem = self._t(
                "loader.too_big", name=name, size=f"{size / 2**20:.1f}", limit=f"{limit / 2**20:.0f}"
            )
        elif size == 0:
            problem = self._t("loader.empty", name=name)
        if problem:
            self._activity.set_status("upload", "failed", problem)
            self._show_error(problem)
            return
        data = content if isinstance(content, (bytes, bytearray, memoryview)) else bytes(content)

        def body() -> str:
            with tempfile.TemporaryDirectory(prefix="pruning-explorer-upload-") as folder:
                path = Path(folder) / _safe_name(name)
                path.write_bytes(data)
                try:
                    load_checkpoint_state_dict(path, max_bytes=limit)  # refuses before a session is built
                    self._activity.begin(self._t("loader.building", name=name))
                    session = self._build_session(path)
                except ExplorerError as error:
                    # name the user's file, not the temporary copy
                    message = str(error).replace(str(path), name)
                    values = {
                        key: value.replace(str(path), name) if isinstance(value, str) else value
                        for key, value in error.values.items()
                    }
                    raise (CheckpointError if isinstance(error, CheckpointError) else ExplorerError)(
                        message, code=error.code, values=values
                    ) from error
            if self._activity.should_stop():
                raise JobCancelled
            self._replace_session(session)
            self.upload = {"name": name, "bytes": size, "model": session.model_name}
            return self._t("loader.now_exploring", name=name)

        self._long_job("upload", self._t("loader.checking", name=name), body)

    def switch_model(self, name: str, data: str | None = None, device: str | None = None) -> None:
        """Explore another zoo model, on ``data`` (default: its own dataset) and ``device`` (default: the
        current session's); on any error the current session stays. A pair whose weights or data are not on
        this machine, or a device that is not, is refused at once, with what would make it available (see
        :mod:`explorer.ui.model_choices`)."""
        from explorer.ui.model_choices import device_choices, find_choice

        choice = find_choice(name, data)
        devices = device_choices()
        old = self._session()
        device = device or (str(old.device) if getattr(old, "device", None) is not None else None)
        problem = ""
        if device is not None and device not in devices and f"{device}:0" not in devices:
            problem = self._t("models.device.absent", device=device, devices=", ".join(devices))
        elif choice is not None and not choice.available:
            problem = unavailable_text(choice, self._t)
        if problem:
            self._activity.set_status("model", "failed", problem)
            self._show_error(problem)
            return

        def body() -> str:
            old = self._session()
            seed = old.seed if old else 0
            session = PruningSession(name, data, criterion=self._criterion(), seed=seed, device=device)
            if self._activity.should_stop():
                raise JobCancelled
            self._replace_session(session)
            self.current = (name, data)
            return self._t("loader.now_exploring", name=name)

        self._long_job("model", self._t("loader.loading", name=name), body)

    def _build_session(self, checkpoint: Path) -> Any:
        """A session on ``checkpoint``: ``session_factory``'s, or the current session's model and data."""
        if self.session_factory is not None:
            return self.session_factory(checkpoint)
        old = self._session()
        # a zoo model is rebuilt by name; any other model from the session's copy (its weights are replaced)
        source = old.model_name if getattr(old, "spec", None) is not None else old.model
        options = {"criterion": self._criterion(), "seed": old.seed, "device": getattr(old, "device", None)}
        return PruningSession(source, old.data, checkpoint=checkpoint, **options)

    def _long_job(self, name: str, text: str, body: Callable[[], str]) -> None:
        cancelled = self._t(_CANCELLED_TEXT[name])
        self._worker.submit(name, self._activity.long_job(name, text, body, cancelled))


__all__ = ["CHECKPOINT_SUFFIXES", "MAX_UPLOAD_BYTES", "SessionLoader"]
