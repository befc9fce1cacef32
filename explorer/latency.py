"""Wall-clock latency of a model on this machine: the honest check that an exported network got faster."""

from __future__ import annotations

import time

import torch
from torch import nn


def measure_latency(model: nn.Module, example: torch.Tensor, repeats: int = 20, warmup: int = 3) -> float:
    """Median latency in milliseconds of ``model(example)`` (after ``warmup`` untimed runs)."""
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeats):
            start = time.perf_counter()
            model(example)
            if example.is_cuda:  # kernels run asynchronously: wait for them before reading the clock
                torch.cuda.synchronize(example.device)
            if i >= warmup:
                times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2]


__all__ = ["measure_latency"]
