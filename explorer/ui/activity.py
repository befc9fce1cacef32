"""``Activity``: what the worker is doing now, for the progress bar and the job status lines.

One object holds the busy flag, the fraction done, its text, the running long job's name, how each long job
ended (``job_status``), and the cancel flag that the running work polls. The state and its long jobs share
it; the views observe it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from traitlets import Bool, Dict, Float, HasTraits, Unicode

from explorer.criteria import ScoringCancelled
from explorer.evaluation import EvaluationCancelled
from explorer.ui.format import describe_error
from explorer.ui.i18n import Translator


class JobCancelled(Exception):
    """A job noticed the cancel flag (for the jobs whose core call returns instead of raising)."""


#: What a cancelled job raises: its own signal, or the core's.
CANCELLED = (JobCancelled, EvaluationCancelled, ScoringCancelled)
#: The time left is shown once the work has run this many seconds and done this share (before, the rate is
#: mostly start-up cost: the first batch, the first kernels) ...
ETA_AFTER_SECONDS, ETA_AFTER_FRACTION = 2.0, 0.05
#: ... and while at least this many seconds are left.
ETA_MIN_LEFT = 1.0


def estimate_left(elapsed: float, fraction: float) -> float | None:
    """Seconds left at the measured progress rate, ``fraction / elapsed``: ``(1 - fraction) / rate``.

    The rate is the average since the work began (steadier than the last step's), so the estimate assumes
    the remaining steps cost what the finished ones did. ``None`` until it means something: less than
    ``ETA_AFTER_SECONDS`` run, less than ``ETA_AFTER_FRACTION`` done, or under ``ETA_MIN_LEFT`` left.
    """
    if elapsed < ETA_AFTER_SECONDS or fraction < ETA_AFTER_FRACTION or fraction >= 1.0:
        return None
    left = elapsed * (1.0 - fraction) / fraction
    return left if left >= ETA_MIN_LEFT else None


class Activity(HasTraits):
    """Progress, status and cancellation of the work running on the state's worker."""

    busy = Bool(False, help="a long job (scoring, latency, scan...) is running")
    progress = Float(0.0, help="fraction done of the long job")
    progress_text = Unicode("")
    job = Unicode("", help="name of the long job running now ('' when none)")
    job_status = Dict(help="job name → {state: running|done|cancelled|failed, text}")
    eta = Float(-1.0, help="seconds left at the measured rate (estimate_left); -1 while not meaningful")

    def __init__(self, text: Callable[..., str] | None = None, **kwargs: object):
        super().__init__(**kwargs)
        self._t = text or Translator()
        self._cancel = threading.Event()
        self._text = ""  # progress_text without the time left
        self._began = time.monotonic()

    # ------------------------------------------------------------------------------------ progress
    def begin(self, text: str) -> None:
        """Show that work is running, with ``text`` and no progress yet (also to change the text); the time
        left is measured from here."""
        self._began = time.monotonic()
        self.eta = -1.0
        self.progress = 0.0
        self.retext(text)
        self.busy = True

    def retext(self, text: str) -> None:
        """Change the text of the running work, keeping its progress and time left."""
        self._text = text
        self.progress_text = self._with_eta()

    def end(self) -> None:
        self.progress = 0.0
        self.eta = -1.0
        self._text = ""
        self.progress_text = ""
        self.busy = False

    def busy_while(self, text: str, work: Callable[[], None]) -> None:
        """Run ``work`` (on the worker) showing ``text`` as busy, and not busy after it, whatever happens."""
        self.begin(text)
        try:
            work()
        finally:
            self.end()

    def advance(self, done: int, total: int) -> None:
        """Progress callback of the core's long calls: ``done`` of ``total`` steps; updates the time left
        (:func:`estimate_left`, from the rate measured since :meth:`begin`)."""
        self.progress = done / total if total else 0.0
        left = estimate_left(time.monotonic() - self._began, self.progress)
        self.eta = -1.0 if left is None else left
        self.progress_text = self._with_eta()

    def _with_eta(self) -> str:
        if self.eta < 0 or not self._text:
            return self._text
        seconds = self.eta
        if seconds < 60:
            left = self._t(
                "job.eta.seconds",
                seconds=f"{seconds:.0f}" if seconds < 20 else f"{5 * round(seconds / 5):.0f}",
            )
        else:
            left = self._t(
                "job.eta.minutes", minutes=f"{seconds / 60:.0f}" if seconds >= 600 else f"{seconds / 60:.1f}"
            )
        return self._t("job.with_eta", text=self._text, left=left)

    # -------------------------------------------------------------------------------- cancellation
    def cancel(self) -> None:
        """Ask the running work to stop at its next checkpoint."""
        self._cancel.set()

    def should_stop(self) -> bool:
        """The cancel flag, as the core's ``should_stop`` callbacks poll it."""
        return self._cancel.is_set()

    def rearm(self) -> None:
        """Clear the cancel flag before new work starts."""
        self._cancel.clear()

    # ------------------------------------------------------------------------------------ long jobs
    def set_status(self, name: str, state: str, text: str) -> None:
        self.job_status = {**self.job_status, name: {"state": state, "text": text}}

    def long_job(self, name: str, text: str, body: Callable[[], str], cancelled: str) -> Callable[[], None]:
        """Wrap ``body`` as a job for the worker: progress, cancellation and a status line.

        The status goes ``running``, then ``done`` with the text ``body`` returns, ``cancelled`` with the
        ``cancelled`` text, or ``failed`` with the error's message (the exception is re-raised: the worker
        shows it in the red box too).
        """

        def job() -> None:
            self.rearm()
            self.set_status(name, "running", text)
            self.job = name
            self.begin(text)
            try:
                note = body()
            except CANCELLED:
                self.set_status(name, "cancelled", cancelled)
            except Exception as error:  # said next to the job's button, and in the red box
                self.set_status(name, "failed", self._t("job.failed", message=describe_error(error, self._t)))
                raise
            else:
                self.set_status(name, "done", note)
            finally:
                self.job = ""
                self.end()

        return job


__all__ = ["CANCELLED", "Activity", "JobCancelled", "estimate_left"]
