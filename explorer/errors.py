"""The exceptions the explorer raises on purpose.

Every error carries a clear, user-facing message in English, for scripts: it names what was expected, what
was given and, when there is one, the fix. Messages the app shows often also carry a ``code`` and the
``values`` filled into them (a :class:`CoreText`, or ``ExplorerError(..., code=..., values=...)``): the app
looks the code up in its catalogues (``core.<code>``) and says the same thing in the page's language, while
the core never imports the UI.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CheckpointError",
    "CoreText",
    "DataError",
    "ExplorerError",
    "ModelError",
    "WeightsUnavailableError",
]


class CoreText(str):
    """An English message of the core that also carries its ``code`` and ``values``.

    It is a ``str`` (scripts print, compare and store it as the English text); a UI that knows the code says
    it in its own words: ``CoreText("refusal.classifier", "no layer consumes …")``.

    Attributes:
        code: the message's stable name (the app's catalogue key is ``core.<code>``).
        values: the names and values filled into the message (module names, counts...).
    """

    code: str
    values: dict[str, Any]

    def __new__(cls, code: str, text: str, **values: Any) -> CoreText:
        made = super().__new__(cls, text)
        made.code = code
        made.values = values
        return made

    def __reduce__(self) -> tuple:
        return (_core_text, (self.code, str(self), self.values))


def _core_text(code: str, text: str, values: dict[str, Any]) -> CoreText:
    return CoreText(code, text, **values)


class ExplorerError(Exception):
    """Base: a clear, user-facing message; the UI shows ``str(e)``, or says ``code`` in its own words.

    Args:
        message: the English message.
        code: the message's stable name (see :class:`CoreText`), when the app has it in its catalogues.
        values: the values filled into the message.
    """

    def __init__(self, *args: Any, code: str | None = None, values: dict[str, Any] | None = None):
        super().__init__(*args)
        self.code = code
        self.values = dict(values or {})


class ModelError(ExplorerError):
    """A model the explorer cannot work with (unknown name, no conv layers, untraceable...)."""


class DataError(ExplorerError):
    """Data the explorer cannot use (wrong shape, empty dataset, bad labels, not ``(input, label)`` pairs)."""


class CheckpointError(ExplorerError):
    """A checkpoint that cannot be loaded (corrupt, a pickled module, keys that do not match...)."""


class WeightsUnavailableError(ExplorerError):
    """Pretrained weights that are not cached and cannot be downloaded or verified."""
