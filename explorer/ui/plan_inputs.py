"""``PlanInputs``: the controls' requests to change the plan, turned into session calls on the worker.

Sliders send merged events, so moves are never counted: each move records the newest value of its group
and restarts the debounce; when the sliders have been quiet, the worker applies the *current* values in one
plan change. A move of the global slider replaces the per-group ones. Toggles, undo and reset first apply
(or drop) the moves still waiting, then run in order with everything else.

Echoes are filtered here, and only here: when the state publishes the session's ratios the sliders move,
and the browser may snap an off-grid ratio (hand-picked filters, the global plan) to the slider's step and
send it back; neither is the user's move. A snapped echo can arrive late, after newer ratios were published
(a busy kernel, a slow page): it is recognised against every off-grid ratio published in the last
``ECHO_WINDOW`` seconds, not only the latest, or it would overwrite the newer plan.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from explorer.ui.worker import Worker

#: The slider range and step of every ratio.
RATIO_MIN, RATIO_MAX, RATIO_STEP = 0.0, 0.9, 0.05
#: The global choice's per-layer cap at start (``explorer.plan.DEFAULT_MAX_PRUNING_RATIO``, the choice as it
#: was before the cap could be changed) and the range of its control.
MAX_PRUNING_RATIO, CAP_MIN, CAP_MAX = 0.9, 0.1, 1.0
_TOLERANCE = 1e-9
_SNAP_TOLERANCE = 1e-6
#: Seconds during which a snapped echo of a published off-grid ratio is still recognised as one.
ECHO_WINDOW = 10.0


def on_grid(ratio: float) -> float:
    """The slider position that shows ``ratio`` (sliders move in steps; a hand-picked ratio may not)."""
    steps = round((min(max(ratio, RATIO_MIN), RATIO_MAX) - RATIO_MIN) / RATIO_STEP)
    return RATIO_MIN + steps * RATIO_STEP


class PlanInputs:
    """The ratios the sliders show, the moves waiting for their debounce, and the plan-changing actions.

    Args:
        worker: runs the session calls, and debounces the slider moves in front of them.
        session: the session explored now.
        criterion: the active criterion (it chooses the channels a ratio removes).
        global_ratio: the global slider's value (the state's ``global_ratio``).
        publish_ratios: sets the state's ``ratios`` (group → ratio the sliders show).
        publish_global: sets the state's ``global_ratio``.
        changed: after a plan change (publishes it and evaluates it).
        unchanged: when nothing changed, or a change failed (publishes the session's plan again).
    """

    def __init__(
        self,
        worker: Worker,
        *,
        session: Callable[[], Any],
        criterion: Callable[[], str],
        global_ratio: Callable[[], float],
        publish_ratios: Callable[[dict[str, float]], None],
        publish_global: Callable[[float], None],
        changed: Callable[[], None],
        unchanged: Callable[[], None],
    ):
        self._worker = worker
        self._session, self._criterion, self._global_ratio = session, criterion, global_ratio
        self._publish_ratios, self._publish_global = publish_ratios, publish_global
        self._changed, self._unchanged = changed, unchanged
        # guards the shown ratios and the waiting moves together: sliders write them on the kernel's thread,
        # the worker reads them; they are published under it, so publications keep their order
        self._lock = threading.RLock()
        self._shown: dict[str, float] = {}
        self._dirty: set[str] = set()  # groups whose slider moved since the last apply
        self._off_grid: dict[str, list[tuple[float, float]]] = {}  # group → (time, ratio) published off-grid
        self._global = False  # the global slider moved since the last apply
        self._showing_global = False  # the state itself sets global_ratio: not a user's move
        self.max_pruning_ratio = MAX_PRUNING_RATIO  # the global slider's per-layer cap

    # ------------------------------------------------------------------------------------- sliders
    def move(self, group: str, ratio: float) -> bool:
        """A slider of ``group`` shows ``ratio``. Returns False (and does nothing) for an echo."""
        with self._lock:
            shown = self._shown.get(group, 0.0)
            if self._is_snapped_echo(group, ratio) or (
                abs(ratio - shown) < _TOLERANCE and group not in self._dirty
            ):
                return False
            self._dirty.add(group)
            self._shown = {**self._shown, group: ratio}
            self._publish_ratios(self._shown)
        self._worker.debounce(self._apply)
        return True

    def move_global(self, restart: bool = False) -> bool:
        """The global slider moved (its value is the state's ``global_ratio``); its plan replaces the
        per-group moves. Returns False for an echo, or when a global move is already waiting (its debounce
        is then restarted only with ``restart``)."""
        with self._lock:
            if self._showing_global or (self._global and not restart):
                return False
            self._global = True
            self._dirty.clear()
        self._worker.debounce(self._apply)
        return True

    def set_max_pruning_ratio(self, cap: float) -> bool:
        """The global choice's per-layer cap (torch-pruning's ``max_pruning_ratio``): no layer loses more than
        this share of its filters to the global slider. A global plan in place is chosen again with it.
        Returns whether that re-choice was requested."""
        with self._lock:
            self.max_pruning_ratio = min(max(float(cap), CAP_MIN), CAP_MAX)
        if float(self._global_ratio()) > 0:
            return self.move_global(restart=True)
        return False

    def show(self, ratios: Mapping[str, float]) -> None:
        """Show the session's ``ratios``; a group whose move is still waiting keeps its slider's value."""
        with self._lock:
            self._shown = {
                g: self._shown[g] if g in self._dirty and g in self._shown else r for g, r in ratios.items()
            }
            now = time.monotonic()
            for group, ratio in self._shown.items():
                if abs(ratio - on_grid(ratio)) > _TOLERANCE:
                    recent = [(t, r) for t, r in self._off_grid.get(group, []) if now - t < ECHO_WINDOW]
                    self._off_grid[group] = [*recent, (now, ratio)]
            self._publish_ratios(self._shown)

    def _is_snapped_echo(self, group: str, ratio: float) -> bool:
        """Whether ``ratio`` is the browser's snap of an off-grid ratio published for ``group`` lately."""
        now = time.monotonic()
        published = [r for t, r in self._off_grid.get(group, []) if now - t < ECHO_WINDOW]
        published.append(self._shown.get(group, 0.0))
        return any(
            abs(ratio - on_grid(r)) < _SNAP_TOLERANCE and abs(ratio - r) > _TOLERANCE for r in published
        )

    def show_global(self, ratio: float) -> None:
        """Show ``ratio`` on the global slider, as the state's value rather than a user's move."""
        with self._lock:
            self._showing_global = True
            try:
                self._publish_global(ratio)
            finally:
                self._showing_global = False

    def flush(self, drop: bool = False) -> None:
        """Apply now (or, with ``drop``, forget) the moves still waiting for their debounce."""
        if not self._worker.cancel_debounce():
            return
        if drop:
            with self._lock:
                self._dirty.clear()
                self._global = False
        else:
            self._worker.submit("apply", self._apply)

    def clear(self) -> None:
        """Forget every move and shown ratio (the session is being replaced)."""
        self._worker.cancel_debounce()
        with self._lock:
            self._dirty.clear()
            self._global = False
            self._shown, self._off_grid = {}, {}
            self._publish_ratios({})
        self.show_global(0.0)

    # ------------------------------------------------------------------------------------- actions
    def change(self, name: str, change: Callable[[Any], bool | None], drop: bool = False) -> None:
        """Run ``change(session)`` on the worker, after the waiting moves (dropped with ``drop``); the plan
        is published again unless ``change`` returns False."""

        def job() -> None:
            if change(self._session()) is not False:
                self._changed()

        self.flush(drop=drop)
        self._worker.submit(name, job)

    def undo(self) -> None:
        """Go back one plan change (the moves still waiting are dropped)."""
        self.change("undo", lambda session: session.undo(), drop=True)

    def redo(self) -> None:
        """Go forward again after an undo (the moves still waiting are dropped)."""
        self.change("redo", lambda session: session.redo(), drop=True)

    def reset(self) -> None:
        """Back to the unpruned network, undoably (the moves still waiting are dropped)."""

        def reset(session: Any) -> None:
            session.reset()
            self.show_global(0.0)

        self.change("reset", reset, drop=True)

    def rerank(self, criterion: str) -> bool:
        """Choose again, with ``criterion``, the channels of every ratio another criterion chose (hand-picked
        channels stay); on the worker. Returns whether the plan changed."""
        session = self._session()
        groups = session.plan.get("groups", {})
        redo = {
            g: c["ratio"]
            for g, c in groups.items()
            if c["ratio"] > 0 and c["criterion"] not in ("manual", criterion)
        }
        if redo:
            session.set_ratios(redo, criterion=criterion)
        return bool(redo)

    def _apply(self) -> None:
        """Apply the *current* global ratio and slider values (whatever number of events led to them)."""
        session, changed = self._session(), False
        try:
            with self._lock:
                moved_global, self._global = self._global, False
            if moved_global:
                session.set_global_ratio(
                    float(self._global_ratio()),
                    criterion=self._criterion(),
                    max_pruning_ratio=self.max_pruning_ratio,
                )
                changed = True
            with self._lock:
                dirty, self._dirty = self._dirty, set()
                shown = dict(self._shown)
            moves = {
                g: float(shown[g])
                for g in sorted(dirty)
                if g in shown and abs(float(shown[g]) - session.ratio(g)) > _TOLERANCE
            }
            if moves:
                session.set_ratios(moves, criterion=self._criterion())
                changed = True
        finally:
            (self._changed if changed else self._unchanged)()


__all__ = ["ECHO_WINDOW", "RATIO_MAX", "RATIO_MIN", "RATIO_STEP", "PlanInputs", "on_grid"]
