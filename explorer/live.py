"""Live evaluation: one background thread that always works on the newest plan.

The UI (or a script) calls :meth:`LiveEvaluator.request` after every plan change. The worker evaluates the
session's current plan batch by batch and reports every running estimate through ``on_update``. A newer
request makes the running evaluation stop at its next batch boundary (the session's generation counter
changed), so a storm of slider moves evaluates only the last plan to the end, and the kernel's own thread is
never blocked: it only sets a flag.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from explorer.session import Metrics, PruningSession


class LiveEvaluator:
    """Evaluate the newest plan of ``session`` in a daemon thread.

    Args:
        session: the session whose plan is evaluated.
        on_update: called with ``(metrics, generation)`` after every batch, from the worker thread.
        on_error: called with the exception when an evaluation fails; the worker keeps running.
    """

    def __init__(
        self,
        session: PruningSession,
        on_update: Callable[[Metrics, int], None],
        on_error: Callable[[BaseException], None] | None = None,
    ):
        self.session = session
        self.on_update = on_update
        self.on_error = on_error
        self._wake = threading.Condition()
        self._pending = False
        self._closed = False
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="pruning-explorer-eval", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Ask for an evaluation of the session's current plan (returns at once)."""
        with self._wake:
            self._pending = True
            self._idle.clear()
            self._wake.notify()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no evaluation is pending or running. Returns False on timeout."""
        return self._idle.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread (a running evaluation stops at its next batch) and wait up to ``timeout`` s."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._idle.set()
                    self._wake.wait()
                if self._closed:
                    self._idle.set()
                    return
                self._pending = False
            generation = self.session.generation
            try:
                # the plan's snapshot: its layer cuts and cost are computed once per plan change
                for metrics in self.session.views.iter_evaluate():
                    self.on_update(metrics, generation)
                    if self._pending or self._closed:
                        break
            except Exception as error:  # reported to the UI, never lost in a thread
                if self.on_error is not None:
                    self.on_error(error)
