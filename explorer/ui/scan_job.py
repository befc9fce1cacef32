"""The sensitivity scan as a long job that draws its curves while it runs (issue 13: long jobs show partial
results).

``PruningSession.sensitivity`` hands over each measured row (``on_row``); here the rows measured so far are
published as a partial result (``partial_sensitivity_dict``) at most every ``CURVE_INTERVAL`` s and at each
new layer, and the progress text says "layer k of n". A cancelled scan leaves the curves measured so far on
show, marked ``cancelled``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from explorer.ui.activity import CANCELLED, Activity
from explorer.ui.naming import criterion_label
from explorer.ui.scoring import is_cheap
from explorer.ui.tables import partial_sensitivity_dict, sensitivity_dict

#: Minimum seconds between two drawings of a running scan (a new layer is always drawn).
CURVE_INTERVAL = 0.1


def run_scan(
    session: Any,
    criterion: str,
    ratios: Sequence[float] | None,
    activity: Activity,
    t: Callable[..., str],
    publish: Callable[[dict[str, Any]], None],
) -> Any:
    """Score ``criterion`` if it needs data (cancellable, with progress), then scan every group.

    Args:
        session: the session scanned.
        criterion: ranks the channels.
        ratios: the grid (``None``: the session's default).
        activity: progress, text and the cancel flag.
        t: the app's words.
        publish: receives each partial result (``running``), then the finished one; ``{}`` on failure.

    Returns:
        The ``SensitivityTable``.

    Raises:
        the cancellation (after publishing the partial curves) or the failure of the scan.
    """
    start = time.perf_counter()
    label = criterion_label(criterion, t)
    if not is_cheap(criterion):
        activity.begin(t("jobs.scoring", criterion=label))
        session.group_scores(criterion, progress=activity.advance, should_stop=activity.should_stop)
    activity.begin(t("jobs.scan.scanning", criterion=label))
    base = session.baseline()
    baseline = (base.accuracy, base.loss, base.macs)
    groups = [g.name for g in session.groups]
    rows: list[dict] = []
    shown = {"layer": 0, "at": 0.0}

    def draw(running: bool, **extra: Any) -> None:
        seconds = time.perf_counter() - start
        publish(
            {**partial_sensitivity_dict(criterion, rows, baseline, groups, seconds, running=running), **extra}
        )

    def on_row(row: dict) -> None:
        rows.append(dict(row))
        layer = groups.index(row["group"]) + 1 if row["group"] in groups else len(groups)
        now = time.monotonic()
        if layer != shown["layer"]:
            activity.retext(t("jobs.scan.layer", criterion=label, layer=layer, layers=len(groups)))
        elif now - shown["at"] < CURVE_INTERVAL:
            return
        shown.update(layer=layer, at=now)
        draw(True)

    draw(True)
    try:
        table = session.sensitivity(
            ratios, criterion, progress=activity.advance, should_stop=activity.should_stop, on_row=on_row
        )
    except CANCELLED:
        draw(False, cancelled=True)
        raise
    except Exception:
        publish({})
        raise
    publish(sensitivity_dict(table, time.perf_counter() - start))
    return table


__all__ = ["CURVE_INTERVAL", "run_scan"]
