"""``LiveMetrics``: the live evaluation of the session's newest plan, filtered for the state to publish.

:class:`explorer.live.LiveEvaluator` evaluates on its own thread, batch by batch. Here its estimates are
thinned: an older plan's are dropped (the newest plan wins), running ones pass at most every
``PUBLISH_INTERVAL`` seconds, and the exact one always. A plan whose evaluation failed is remembered, so
that waiting for the exact metrics does not wait for ever.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from explorer.live import LiveEvaluator

#: Seconds after a published running estimate of a plan before a later one of the same plan is published.
REFRESH_INTERVAL = 2.0


class LiveMetrics:
    """Evaluates the newest plan of ``session`` off the kernel's thread and hands on what to publish.

    Args:
        session: the session explored.
        publish: called from the evaluation thread with ``(metrics, generation)``: running estimates
            (thinned) and the exact metrics of the session's current plan.
        report: called with the exception when an evaluation fails.
    """

    def __init__(
        self,
        session: Any,
        publish: Callable[[Any, int], None],
        report: Callable[[BaseException], None],
    ):
        self._session = session
        self._publish = publish
        self._report = report
        self._last_publish = 0.0
        self._estimated = -1  # the generation whose first running estimate was published
        self._failed_generation = -1
        self._live = LiveEvaluator(session, self._on_metrics, self._on_error)

    def request(self) -> None:
        """Evaluate the session's current plan (returns at once; a running evaluation of an older plan
        stops at its next batch)."""
        self._live.request()

    def settled(self, shown: Mapping[str, Any]) -> bool:
        """Nothing is being evaluated, and ``shown`` (the published metrics) are the exact metrics of the
        session's plan, or that plan's evaluation failed."""
        if not self._live.wait(0):
            return False
        generation = self._session.generation
        if self._failed_generation == generation:
            return True
        return shown.get("generation") == generation and bool(shown.get("final"))

    def close(self) -> None:
        """Stop the evaluation thread (at its next batch) and wait for it."""
        self._live.close()

    def _on_metrics(self, metrics: Any, generation: int) -> None:
        if generation != self._session.generation:
            return  # an older plan's estimate: the newest plan wins
        final = metrics.seen == metrics.total
        now = time.monotonic()
        if not final:
            if generation == self._estimated and now - self._last_publish < REFRESH_INTERVAL:
                return  # the shown estimate stands, with its interval, until the exact figure
            self._estimated = generation
        self._last_publish = now
        self._publish(metrics, generation)

    def _on_error(self, error: BaseException) -> None:
        self._failed_generation = self._session.generation
        self._report(error)


__all__ = ["REFRESH_INTERVAL", "LiveMetrics"]
