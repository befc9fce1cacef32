"""``Worker``: the one thread on which the explorer calls the session, with a debounce timer in front of it.

Plan changes, scoring, latency measurement and the long jobs run one after the other on this thread, so
the kernel's thread never blocks and two changes never race. :func:`close_at_exit` stops such threads when
the interpreter exits: Python lets daemon threads run on while it finalises, and one still inside torch then
aborts the process ("terminate called without an active exception").
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable

log = logging.getLogger(__name__)

Job = Callable[[], None]


class Worker:
    """Runs jobs in order on one daemon thread; debounces bursts of requests in front of it.

    Args:
        on_error: called on the worker's thread with any exception a job raises; the worker goes on.
        debounce: seconds of quiet after the last :meth:`debounce` call before its job is queued.
        runnable: checked before each job; a job is skipped when it returns False (no session yet).
        name: the thread's name.
    """

    def __init__(
        self,
        on_error: Callable[[BaseException], None],
        *,
        debounce: float,
        runnable: Callable[[], bool] = lambda: True,
        name: str = "pruning-explorer-ui",
    ):
        self.debounce_seconds = float(debounce)
        self._on_error = on_error
        self._runnable = runnable
        self._queue: queue.Queue[tuple[str, Job | None]] = queue.Queue()
        self._cond = threading.Condition()
        self._outstanding = 0  # queued or running jobs, and a debounced job about to be queued
        self._timer: threading.Timer | None = None
        self.current = ""  # the name of the job running now ('' between jobs): what changed the plan
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        close_at_exit(self.close)

    @property
    def quiet(self) -> bool:
        """No job queued or running, and no debounced job waiting."""
        with self._cond:
            return self._timer is None and self._outstanding == 0

    def wait(self, timeout: float, settled: Callable[[], bool] = lambda: True) -> bool:
        """Block until the worker is quiet and ``settled()`` holds. Returns False after ``timeout`` seconds.

        ``settled`` is read between two quiet readings, so a job it waits for cannot slip in unseen.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.quiet and settled() and self.quiet:
                return True
            time.sleep(0.01)
        return False

    def submit(self, name: str, job: Job) -> None:
        """Queue ``job`` (``name`` is for the logs) after everything queued before it."""
        with self._cond:
            self._outstanding += 1
        self._queue.put((name, job))

    def debounce(self, job: Job) -> None:
        """Queue ``job`` once ``debounce`` seconds pass without another call (the newest job wins)."""
        with self._cond:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce_seconds, self._on_quiet, args=(job,))
            self._timer.daemon = True
            self._timer.start()

    def cancel_debounce(self) -> bool:
        """Forget the debounced job still waiting, if any. Returns whether one was waiting."""
        with self._cond:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        return timer is not None

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread after the running job, and wait up to ``timeout`` s for it (idempotent)."""
        self.cancel_debounce()
        if self._thread.is_alive():
            self._queue.put(("stop", None))
            if threading.current_thread() is not self._thread:
                self._thread.join(timeout)

    def _on_quiet(self, job: Job) -> None:
        with self._cond:
            if self._timer is not threading.current_thread():
                return  # cancelled or replaced after this timer fired (the callback runs on the timer)
            self._timer = None
            self._outstanding += 1  # counted before the timer stops being pending
        self._queue.put(("apply", job))

    def _run(self) -> None:
        while True:
            name, job = self._queue.get()
            if job is None:
                return
            try:
                if self._runnable():
                    self.current = name
                    job()
            except Exception as error:  # shown by the owner, never lost in a thread
                try:
                    self._on_error(error)
                except Exception:
                    log.exception("pruning explorer: handling the error of job %r failed", name)
            finally:
                self.current = ""
                with self._cond:
                    self._outstanding -= 1
                    self._cond.notify_all()


# ------------------------------------------------------------------------------------------ exit hooks
_AT_EXIT: list[weakref.WeakMethod] = []
_AT_EXIT_LOCK = threading.Lock()


def close_at_exit(close: Callable[[], None]) -> None:
    """Call ``close`` (a bound method, held weakly) when the interpreter exits; the newest is called first.

    Exit hooks run before the interpreter freezes its daemon threads, so ``close`` can stop and join them.
    """
    with _AT_EXIT_LOCK:
        _AT_EXIT[:] = [ref for ref in _AT_EXIT if ref() is not None]
        _AT_EXIT.append(weakref.WeakMethod(close))  # type: ignore[arg-type]


@atexit.register
def _close_all() -> None:
    with _AT_EXIT_LOCK:
        hooks = [ref() for ref in reversed(_AT_EXIT)]
        _AT_EXIT.clear()
    for hook in hooks:
        if hook is not None:
            try:
                hook()
            except Exception:
                log.exception("pruning explorer: stopping a thread at exit failed")


__all__ = ["Worker", "close_at_exit"]
