"""The exceptions the explorer raises on purpose.

Every error carries a clear, user-facing message: the UI shows ``str(error)`` as it is, so a message names
what was expected, what was given and, when there is one, the fix.
"""

from __future__ import annotations

__all__ = ["CheckpointError", "DataError", "ExplorerError", "ModelError", "WeightsUnavailableError"]


class ExplorerError(Exception):
    """Base: a clear, user-facing message; the UI shows ``str(e)``."""


class ModelError(ExplorerError):
    """A model the explorer cannot work with (unknown name, no conv layers, untraceable...)."""


class DataError(ExplorerError):
    """Data the explorer cannot use (wrong shape, empty dataset, bad labels, not ``(input, label)`` pairs)."""


class CheckpointError(ExplorerError):
    """A checkpoint that cannot be loaded (corrupt, a pickled module, keys that do not match...)."""


class WeightsUnavailableError(ExplorerError):
    """Pretrained weights that are not cached and cannot be downloaded or verified."""
