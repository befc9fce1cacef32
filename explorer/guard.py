"""Expensive steps under a time and memory budget: refused with a message, never killed by the kernel.

torch-pruning's grouping of torchvision's Swin-T grew past 24 GB until the OOM killer ended the process.
A step that may grow without bound (grouping, the masked = exported check, criteria statistics) therefore
runs inside ``guarded``, which stops it with ``BudgetExceeded`` in two ways:

* a trace function (``sys.settrace``, this thread only) counts Python calls and, every ``CHECK_EVERY`` of
  them, compares the process's RSS and the elapsed time with the budget, raising inside the step as soon as
  either is over. Such growth happens in Python loops (index lists, graph nodes), which make calls all the
  time. Their cost was below the noise of this shared 2-core machine (Swin-T's grouping: 4.7-7.6 s
  unguarded, 5.7-6.9 s guarded; DenseNet-121 at 64 px: 1.9-2.3 s and 1.2-1.7 s);
* a hard backstop for what no Python call interrupts (one huge tensor): the data segment limit
  (``RLIMIT_DATA``, which covers malloc and anonymous mmaps on Linux) is lowered to what the memory limit
  leaves, so that an allocation beyond it fails with an error instead of a kill.

The budget is derived from the session's memory limit (``explorer.memory``).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from explorer.errors import ExplorerError
from explorer.memory import cgroup_limit, current_rss, memory_limit, physical_memory, release_freed_memory

try:
    import resource
except ImportError:  # not POSIX: no hard backstop
    resource = None

#: Python calls between two checks of the RSS and the clock.
CHECK_EVERY = 2000
#: Share of the memory left over (limit − RSS when the step starts) that a guarded step may take.
WORK_SHARE = 0.75
#: Bytes a guarded step may always take, however little the limit leaves.
MIN_WORK = 512 << 20
#: Default time budgets in seconds.
GROUPING_SECONDS = 180.0
CHECK_SECONDS = 180.0


class BudgetExceeded(ExplorerError):
    """A guarded step went over its time or memory budget and was stopped."""


@dataclass(frozen=True)
class WorkBudget:
    """What a guarded step may use.

    Attributes:
        max_rss: resident bytes the process may reach while the step runs (``None``: no memory check).
        seconds: wall-clock seconds the step may take (``None``: no time check).
        limit: the memory limit the kernel enforces; the hard backstop keeps allocations under it.
    """

    max_rss: int | None
    seconds: float | None
    limit: int | None = None

    @classmethod
    def from_limit(cls, limit: int | None = None, seconds: float | None = GROUPING_SECONDS) -> WorkBudget:
        """``WORK_SHARE`` of the memory the process has left under ``limit`` (default: ``memory_limit()``),
        and at least ``MIN_WORK``; the hard backstop is the limit the kernel enforces (the container's, or
        the machine's memory), since an explicit ``limit`` below the process's footprint is a wish, not a
        wall."""
        limit = memory_limit() if limit is None else limit
        in_use = current_rss()
        work = max(MIN_WORK, int(WORK_SHARE * max(limit - in_use, 0)))
        return cls(in_use + work, seconds, cgroup_limit() or physical_memory())

    def with_seconds(self, seconds: float | None) -> WorkBudget:
        return WorkBudget(self.max_rss, seconds, self.limit)


def _data_segment() -> int | None:
    try:
        match = re.search(r"VmData:\s+(\d+) kB", Path("/proc/self/status").read_text())
    except OSError:
        return None
    return int(match.group(1)) * 1024 if match else None


@contextmanager
def _data_limit(limit: int | None) -> Iterator[None]:
    """Lower RLIMIT_DATA so that the data segment can grow by at most what ``limit`` leaves of memory."""
    data = _data_segment()
    if resource is None or limit is None or data is None:
        yield
        return
    previous = resource.getrlimit(resource.RLIMIT_DATA)
    soft = data + max(limit - current_rss(), 0)
    if previous[0] != resource.RLIM_INFINITY and previous[0] <= soft:
        yield
        return
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, previous[1]))
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, previous)


def out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is an allocation failure (Python's, or torch's CPU allocator's)."""
    return isinstance(error, MemoryError) or (
        isinstance(error, RuntimeError) and "can't allocate memory" in str(error)
    )


@contextmanager
def guarded(what: str, budget: WorkBudget | None) -> Iterator[None]:
    """Run the ``with`` block under ``budget``; over it, the block is stopped with ``BudgetExceeded``.

    Args:
        what: the step, for the message ("finding the groups").
        budget: the limits; ``None`` runs the block unguarded.

    Raises:
        BudgetExceeded: the block went over its time or memory budget, or an allocation failed under the
            hard backstop. The message names the step and the limit reached.
    """
    if budget is None:
        yield
        return
    start = time.monotonic()
    previous = sys.gettrace()
    calls = 0

    def check() -> None:
        elapsed = time.monotonic() - start
        if budget.seconds is not None and elapsed > budget.seconds:
            raise BudgetExceeded(f"{what} took longer than its {budget.seconds:.0f} s budget and was stopped")
        if budget.max_rss is not None and current_rss() > budget.max_rss:
            raise BudgetExceeded(
                f"{what} needed more than its memory budget ({budget.max_rss / 2**30:.1f} GB resident) after "
                f"{elapsed:.0f} s, so it was stopped"
            )

    def tracer(frame, event, arg):
        nonlocal calls
        calls += 1
        if calls % CHECK_EVERY == 0:
            check()
        return previous(frame, event, arg) if previous is not None else None

    try:
        with _data_limit(budget.limit):
            sys.settrace(tracer)
            try:
                yield
            finally:
                sys.settrace(previous)
    except BudgetExceeded:
        raise
    except Exception as error:
        if not out_of_memory(error):
            raise
        raise BudgetExceeded(
            f"{what} ran out of memory ({budget.limit / 2**30 if budget.limit else 0:.1f} GB limit) after "
            f"{time.monotonic() - start:.0f} s, so it was stopped"
        ) from error
    finally:
        release_freed_memory()


__all__ = ["BudgetExceeded", "WorkBudget", "guarded", "out_of_memory"]
