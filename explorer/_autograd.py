"""Autograd on, whatever the caller says.

Users wrap inference code in ``torch.no_grad()`` or ``torch.inference_mode()``. Tracing with torch-pruning,
gradient-based criteria and fine-tuning need autograd, and tensors the session keeps must not be inference
tensors, so those entry points run under :func:`autograd_enabled` (usable as a decorator too).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def autograd_enabled() -> Iterator[None]:
    with torch.inference_mode(False), torch.enable_grad():
        yield
