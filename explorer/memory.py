"""One memory limit for the whole process, and the budgets derived from it.

A Binder pod has about 2 GB; a class on a lab machine shares it with everyone else. Every cache and buffer
the explorer keeps is sized from one limit, found in this order:

1. the container's cgroup limit (``/sys/fs/cgroup/memory.max``, or cgroup v1's ``memory.limit_in_bytes``),
   which is what the kernel's OOM killer enforces;
2. an explicit limit (``--memory-limit``, ``PRUNING_EXPLORER_MEMORY_LIMIT``, or ``memory_limit=``), which can
   only lower the cgroup's;
3. the machine's physical memory.

On a CUDA device the activation caches and scoring chunks live in device memory, so they are sized from the
device's free memory (``torch.cuda.mem_get_info``) instead, while the limit above still governs the host
(grouping, copies, the data as read). On the CPU both are one pool.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from explorer.errors import ExplorerError
from explorer.launch_options import MEMORY_ENV

_CGROUP_FILES = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
# share of what is left after the process's own footprint that the validation activation cache may take;
# the calibration cache gets a quarter of that, and the rest covers copies, gradients and the allocator
CACHE_SHARE = 0.35
MIN_CACHE = 32 << 20
MAX_CACHE = 1 << 30
MAX_DEVICE_CACHE = 16 << 30  # a GPU's activations: ResNet-50 at 224 px holds ~1.6 GB per boundary per 1000


def parse_size(text: str | int) -> int:
    """``"2G"``, ``"1500M"``, ``"2GiB"``, ``"2e9"`` or a number of bytes → bytes."""
    if isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([kKmMgGtT]?)(i?[bB])?\s*", str(text))
    if not match:
        raise ExplorerError(f"cannot read the memory size {text!r}: write it like 2G, 1500M or 2000000000")
    value = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if value <= 0:
        raise ExplorerError(f"a memory limit must be positive, not {text!r}")
    return int(value)


def cgroup_limit(files: tuple[str, ...] = _CGROUP_FILES) -> int | None:
    """The container's memory limit in bytes, or ``None`` when there is none."""
    for name in files:
        try:
            text = Path(name).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < (1 << 60):  # "max", or cgroup v1's "unlimited" page-rounded 2^63
            return int(text)
    return None


def physical_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_limit(explicit: str | int | None = None) -> int:
    """The process's memory limit in bytes (see the module docstring for the order)."""
    explicit = explicit if explicit is not None else os.environ.get(MEMORY_ENV) or None
    limits = [v for v in (cgroup_limit(), parse_size(explicit) if explicit is not None else None) if v]
    return min(limits) if limits else physical_memory()


def current_rss() -> int:
    """This process's resident memory in bytes (0 where /proc is missing)."""
    try:
        fields = Path("/proc/self/statm").read_text().split()
    except OSError:
        return 0
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """This process's peak resident memory in bytes since it started its program (``VmHWM``).

    Not ``getrusage().ru_maxrss``: Linux carries that across ``execve``, so a process started by a large
    parent (a test runner, a notebook server) reports the parent's size as its own peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def release_freed_memory() -> None:
    """Hand memory that was freed back to the operating system (glibc keeps it otherwise).

    After an evaluation, the activations it freed stay in glibc's heap and count as resident: measured on
    ResNet-20 with 1,000 samples, 18 slider moves left the kernel at 1.59 GB, 1.38 GB with this called after
    each. It costs well under a millisecond.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@dataclass(frozen=True)
class MemoryBudget:
    """Byte budgets derived from one limit.

    Attributes:
        limit: the process's (host) memory limit.
        cache: the validation activation cache, on the session's device.
        calibration_cache: the calibration activation cache (oracle criteria), on the device.
        scoring_chunk: most bytes of activations one chunk of gradient-based scoring may hold, on the device.
        device: where the three above live (``"cpu"``, ``"cuda:0"``...).
        device_free: the device's free memory when the budget was made, for a GPU; ``None`` on the CPU,
            whose pool is the host's (``limit``).
    """

    limit: int
    cache: int
    calibration_cache: int
    scoring_chunk: int
    device: str = "cpu"
    device_free: int | None = None

    @classmethod
    def from_limit(
        cls, limit: int, in_use: int | None = None, device: str = "cpu", device_free: int | None = None
    ) -> MemoryBudget:
        """Budgets for a process that already uses ``in_use`` bytes of host memory (its RSS by default).

        On a CUDA ``device`` the caches come from its free memory (``device_free``, by default read with
        ``torch.cuda.mem_get_info``), with the same share, up to ``MAX_DEVICE_CACHE``.
        """
        if device.startswith("cuda"):
            if device_free is None:
                import torch

                device_free = int(torch.cuda.mem_get_info(device)[0])
            cache = int(min(MAX_DEVICE_CACHE, max(MIN_CACHE, CACHE_SHARE * device_free)))
            return cls(limit, cache, cache // 4, max(MIN_CACHE, cache // 2), device, device_free)
        in_use = current_rss() if in_use is None else in_use
        spare = max(limit - in_use, 0)
        cache = int(min(MAX_CACHE, max(MIN_CACHE, CACHE_SHARE * spare)))
        return cls(limit, cache, cache // 4, max(MIN_CACHE, cache // 2))


__all__ = [
    "MemoryBudget",
    "cgroup_limit",
    "current_rss",
    "memory_limit",
    "parse_size",
    "peak_rss",
    "release_freed_memory",
]
