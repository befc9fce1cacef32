"""Experiments that compare ways of pruning, run on copies: the session's plan and weights never change.

* ``compare_schedules``: one-shot vs iterative pruning to the same global ratio (Han et al. 2015,
  https://arxiv.org/abs/1506.02626);
* ``compare_unstructured``: removing whole filters vs zeroing single weights at the same parameter count.

Both start from the original network's weights and say so in their result under ``"weights"``: masks chosen
on one set of weights are never applied to weights trained under another plan.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import torch
from torch import nn

from explorer.data import DataBundle, DataSplit
from explorer.errors import ExplorerError
from explorer.finetune import (
    FinetuneResult,
    count_nonzero_params,
    finetune_masked,
    iterative_schedule,
    magnitude_prune,
)
from explorer.graph import PruningGroup
from explorer.latency import measure_latency
from explorer.masks import LayerCuts
from explorer.plan import choose_global
from explorer.train import compute_accuracy


class TrainingHost(Protocol):
    """What the experiments need of a session (``PruningSession`` is one)."""

    seed: int
    data: DataBundle
    groups: list[PruningGroup]

    def model_copy(self) -> nn.Module: ...

    def layer_cuts(self, pruned: Mapping[str, Sequence[int]] | None = None) -> LayerCuts: ...


def training_split(host: TrainingHost) -> DataSplit:
    """The host's training split, or a clear refusal (fine-tuning never falls back to validation data)."""
    train = host.data.train
    if train is None or train.labels.numel() == 0:
        raise ExplorerError(
            f"the data source {host.data.name!r} has no training split to fine-tune on, and the validation "
            "data is never trained on (its accuracy would no longer mean anything): open the session with "
            "PruningSession(model, data=..., train_data=...), train_data being a Dataset, a DataLoader, an "
            "(inputs, labels) pair or an image folder of training samples"
        )
    return train


def finetune_plan(host: TrainingHost, steps: int, **options) -> FinetuneResult:
    """Fine-tune a copy of the host's live weights under its current plan (``options``: see
    ``finetune_masked``)."""
    train, val = training_split(host), host.data.val
    return finetune_masked(host.model_copy(), host.layer_cuts(), train, val, steps, seed=host.seed, **options)


def compare_schedules(
    host: TrainingHost,
    model: nn.Module,
    scores: Mapping[str, torch.Tensor],
    *,
    ratio: float,
    steps: int,
    k: int,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """One-shot vs iterative (``k`` increments) pruning to a global ``ratio``, ``steps`` of training each.

    Args:
        model: the original weights both schedules start from (not changed).
        scores: group → per-channel scores of the criterion used on ``model`` (low = removed first).
    """
    train, val, seed = training_split(host), host.data.val, host.seed
    final = choose_global({g.name: scores[g.name] for g in host.groups}, ratio)
    one_shot = finetune_masked(
        model, host.layer_cuts(final), train, val, steps, seed=seed, should_stop=should_stop
    )
    ordered = {g: sorted(idxs, key=lambda i, g=g: (float(scores[g][i]), i)) for g, idxs in final.items()}
    current = model
    curve = []
    for i, plan in enumerate(iterative_schedule(final, ordered, k)):
        step = finetune_masked(
            current, host.layer_cuts(plan), train, val, steps // k, seed=seed + i, should_stop=should_stop
        )
        current = step.model
        curve.append(step.accuracy_after)
    return {
        "ratio": ratio,
        "weights": "original",
        "before": one_shot.accuracy_before,
        "one_shot": one_shot.accuracy_after,
        "iterative": curve[-1] if curve else None,
        "iterative_steps": curve,
    }


def compare_unstructured(model: nn.Module, exported: nn.Module, val: DataSplit, *, repeats: int = 50) -> dict:
    """Filter pruning (``exported``) vs magnitude pruning of single weights of ``model`` at the same
    parameter count, with accuracy on ``val`` and measured CPU latency of both and of the dense ``model``.

    Zeroed weights keep the dense shapes, so the dense kernels do the same work: no speed-up.
    """
    params = sum(p.numel() for p in exported.parameters())
    dense = copy.deepcopy(model)
    sparse = magnitude_prune(dense, params)
    x = val.inputs[:128]
    for net in (dense, exported, sparse):  # warm all three first: the first one timed is penalised
        measure_latency(net, x, repeats=3)
    return {
        "weights": "original",
        "params": params,
        "unstructured_nonzero_params": count_nonzero_params(sparse),
        "filter_accuracy": compute_accuracy(exported, val),
        "unstructured_accuracy": compute_accuracy(sparse, val),
        "dense_latency_ms": measure_latency(dense, x, repeats),
        "filter_latency_ms": measure_latency(exported, x, repeats),
        "unstructured_latency_ms": measure_latency(sparse, x, repeats),
    }


__all__ = ["compare_schedules", "compare_unstructured"]
