"""Stratified, seeded sub-sampling: every class keeps its share, and the same seed picks the same samples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def stratified_indices(
    labels: np.ndarray | torch.Tensor | Sequence[int], n: int, seed: int, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Pick ``n`` positions so that every class keeps its share of ``labels``, reproducibly.

    Each class gets ``n * count / total`` samples, rounded by largest remainder (so the subset's class counts
    are within one of the exact proportion). Which samples, and their order, come from ``seed``.

    Args:
        labels: ``[N]`` class labels.
        n: subset size; at most the number of candidates.
        seed: random seed.
        exclude: positions that may not be picked.

    Returns:
        ``[n]`` int64 positions, in a seeded shuffled order (classes interleave).
    """
    labels = np.asarray(labels).reshape(-1)
    candidates = np.arange(labels.shape[0])
    if exclude is not None and len(exclude):
        candidates = np.setdiff1d(candidates, np.asarray(exclude), assume_unique=False)
    n = int(min(n, candidates.shape[0]))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels[candidates], return_counts=True)
    exact = n * counts / counts.sum()
    take = np.floor(exact).astype(np.int64)
    # largest remainder; ties go to the bigger class, then the smaller label (stable sort)
    order = np.lexsort((-counts, -(exact - take)))
    for i in order[: n - int(take.sum())]:
        take[i] += 1
    chosen = []
    for cls, k in zip(classes, take, strict=True):
        members = candidates[labels[candidates] == cls]
        chosen.append(rng.permutation(members)[:k])
    picked = np.concatenate(chosen)
    return rng.permutation(picked).astype(np.int64)
