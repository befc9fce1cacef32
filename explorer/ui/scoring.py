"""``Scorer``: asks the session for a criterion's scores, at once or as a cancellable job with progress.

Cheap criteria (weights or BatchNorm only) are scored on demand, even on hover; the ones that need a pass
over data show progress, with the time left once it means something (``Activity.advance`` estimates it from
the progress rate measured so far), and can be cancelled. The scorer remembers which criteria have been
scored on every group, so the tables show the others as "not computed yet" instead of starting a slow
computation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from explorer import criteria as _criteria
from explorer.ui.activity import Activity
from explorer.ui.naming import criterion_label

#: Criteria cheap enough to compute for every hover (no data needed).
CHEAP_NEEDS = ("none", "weights", "bn")


def is_cheap(name: str) -> bool:
    """Whether criterion ``name`` needs no data (its scores come at once)."""
    return _criteria.get_criterion(name).needs in CHEAP_NEEDS


class Scorer:
    """Scores criteria through the session and remembers those scored on every group.

    Args:
        activity: shows the progress of slow criteria and carries the cancel flag.
        text: ``t(key, **values)``, the app's words (the progress text).
    """

    def __init__(self, activity: Activity, text: Callable[..., str]):
        self._activity = activity
        self._t = text
        self._complete: set[str] = set()  # criteria scored on every group (of the current weights)

    def score(self, session: Any, criterion: str, groups: Sequence[str] | None = None) -> None:
        """Score ``criterion`` on ``groups`` (all by default); the session caches the scores.

        Raises:
            ScoringCancelled: the user cancelled a slow criterion (nothing is remembered).
        """
        if groups is None and criterion in self._complete:
            return
        if is_cheap(criterion):
            with contextlib.suppress(_criteria.CriterionNotApplicable):
                session.group_scores(criterion, groups)
        else:
            activity = self._activity
            activity.rearm()
            activity.busy_while(
                self._t("jobs.scoring", criterion=criterion_label(criterion, self._t)),
                lambda: session.group_scores(
                    criterion, groups, progress=activity.advance, should_stop=activity.should_stop
                ),
            )
        if groups is None:
            self._complete.add(criterion)

    def cancelled_text(self, new: str, old: str) -> str:
        """What the page says when scoring ``new`` was cancelled and ``old`` still ranks."""
        return self._t(
            "state.scoring_cancelled", new=criterion_label(new, self._t), old=criterion_label(old, self._t)
        )

    def scored(self, criterion: str) -> None:
        """Record that ``criterion`` was scored on every group (by the caller, through the session)."""
        self._complete.add(criterion)

    def known(self, criterion: str) -> bool:
        """Whether the scores of ``criterion`` may be read without a slow computation."""
        return is_cheap(criterion) or criterion in self._complete

    def forget(self) -> None:
        """The weights (or the session) changed: every criterion must be scored again."""
        self._complete.clear()


__all__ = ["CHEAP_NEEDS", "Scorer", "is_cheap"]
