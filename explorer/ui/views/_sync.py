"""One lock per view: the state publishes from the kernel's thread, the worker and the evaluation thread."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_CREATE = threading.Lock()


def serialized(method: F) -> F:
    """Run ``method`` under its view's lock, so that two threads redrawing one view cannot interleave.

    Each redraw reads the state's *current* values, so whichever thread runs last draws the newest state.
    """

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        lock = self.__dict__.get("_redraw_lock")
        if lock is None:
            with _CREATE:
                lock = self.__dict__.setdefault("_redraw_lock", threading.RLock())
        with lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
