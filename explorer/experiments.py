"""Experiments that compare ways of pruning, run on copies: the session's plan and weights never change.

* ``compare_schedules``: one-shot vs iterative pruning to the same global ratio (Han et al. 2015,
  https://arxiv.org/abs/1506.02626);
* ``compare_unstructured``: removing whole filters vs zeroing single weights at the same parameter count;
* ``compare_training_modes``: plain masked fine-tuning vs Soft Filter Pruning vs group lasso at the same
  steps and channel counts (``explorer.training_modes``).

Both start from the original network's weights and say so in their result under ``"weights"``: masks chosen
on one set of weights are never applied to weights trained under another plan.
"""

from __future__ import annotations

import copy
import threading
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
    stage_steps,
)
from explorer.graph import GroupGraph, PruningGroup, export_pruned
from explorer.history import WeightsState
from explorer.latency import measure_latency
from explorer.masks import LayerCuts
from explorer.plan import choose_global
from explorer.score_book import ScoreBook
from explorer.train import compute_accuracy


class TrainingHost(Protocol):
    """What the experiments need of a session (``PruningSession`` is one)."""

    seed: int
    data: DataBundle
    groups: list[PruningGroup]

    def model_copy(self) -> nn.Module: ...

    def original_model(self) -> nn.Module: ...

    @property
    def weights(self) -> WeightsState: ...

    def scores(
        self, criterion: str | None = None, groups: Sequence[str] | None = None
    ) -> dict[str, torch.Tensor]: ...

    @property
    def pruned(self) -> dict[str, tuple[int, ...]]: ...

    @property
    def example_input(self) -> torch.Tensor: ...

    @property
    def graph(self) -> GroupGraph: ...

    def layer_cuts(self, pruned: Mapping[str, Sequence[int]] | None = None) -> LayerCuts: ...


def original_scores(host: TrainingHost, criterion: str) -> dict[str, torch.Tensor]:
    """``host.scores(criterion)`` as they are on the original weights, whatever weights are live."""
    if host.weights.is_original:
        return host.scores(criterion)
    book = ScoreBook(
        host.original_model(),
        host.graph,
        host.data.calib,
        seed=host.seed,
        cache_budget=0,
        lock=threading.RLock(),
    )
    return {g: s.score for g, s in book.get(criterion, [g.name for g in host.groups]).items()}


def training_split(host: TrainingHost) -> DataSplit:
    """The host's training split, or a clear refusal (fine-tuning never falls back to validation data)."""
    train = host.data.train
    if train is None or train.labels.numel() == 0:
        raise ExplorerError(
            f"the data source {host.data.name!r} has no training split to fine-tune on, and the validation "
            "data is never trained on (its accuracy would no longer mean anything): open the session with "
            "PruningSession(model, data=..., train_data=...), train_data being a Dataset, a DataLoader, an "
            '(inputs, labels) pair or an image folder of training samples, or "held-out" to train on the '
            "source's samples left out of the validation subset (pruning-explorer app --train-data held-out)",
            code="train.no_training_split",
            values={"data": host.data.name},
        )
    return train


def finetune_plan(host: TrainingHost, steps: int, **options) -> FinetuneResult:
    """Fine-tune a copy of the host's live weights under its current plan (``options``: see
    ``finetune_masked``)."""
    train, val = training_split(host), host.data.val
    return finetune_masked(host.model_copy(), host.layer_cuts(), train, val, steps, seed=host.seed, **options)


def compare_schedules(
    host: TrainingHost,
    criterion: str,
    *,
    ratio: float,
    steps: int,
    k: int,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """One-shot vs iterative (``k`` increments) pruning to a global ``ratio``, with the same training budget.

    Han et al. 2015 (https://arxiv.org/abs/1506.02626) prune and retrain iteratively. Here both schedules
    start from the original weights, with channels ranked by ``criterion`` on those weights, and both get
    exactly ``steps`` optimiser steps: one-shot prunes to ``ratio`` and trains ``steps``; iterative removes
    ``i/k`` of each group's final channels at stage ``i`` and trains ``stage_steps(steps, k)[i]`` after each
    removal (``steps // k`` each, the remainder in the last stage; each stage starts a new AdamW with its own
    cosine decay, as a fresh fine-tuning run would).

    Returns:
        ``{"ratio", "weights", "criterion", "before", "one_shot", "iterative", "iterative_steps", "curve",
        "training_steps"}``: ``before`` is the accuracy right after one-shot pruning, before any training;
        ``one_shot`` and ``iterative`` are measured after each schedule's *last* training;
        ``iterative_steps`` the accuracy after each stage's training; ``curve`` every measured point, as
        ``{"schedule": "one_shot" | "iterative", "stage", "phase": "pruned" | "trained", "steps",
        "accuracy"}`` where ``phase`` says whether the point was measured right after a removal or after
        training, and ``steps`` counts the training steps done so far; ``training_steps`` the optimiser
        steps each schedule was given.
    """
    train, val, seed = training_split(host), host.data.val, host.seed
    model, scores = host.original_model(), original_scores(host, criterion)
    final = choose_global({g.name: scores[g.name] for g in host.groups}, ratio)
    one_shot = finetune_masked(
        model, host.layer_cuts(final), train, val, steps, seed=seed, should_stop=should_stop
    )
    curve = [
        _point("one_shot", 1, "pruned", 0, one_shot.accuracy_before),
        _point("one_shot", 1, "trained", len(one_shot.losses), one_shot.accuracy_after),
    ]
    ordered = {g: sorted(idxs, key=lambda i, g=g: (float(scores[g][i]), i)) for g, idxs in final.items()}
    current, done, after_training = model, 0, []
    budgets = stage_steps(steps, k)
    for i, (plan, budget) in enumerate(zip(iterative_schedule(final, ordered, k), budgets, strict=True)):
        stage = finetune_masked(
            current, host.layer_cuts(plan), train, val, budget, seed=seed + i, should_stop=should_stop
        )
        curve.append(_point("iterative", i + 1, "pruned", done, stage.accuracy_before))
        done += len(stage.losses)
        curve.append(_point("iterative", i + 1, "trained", done, stage.accuracy_after))
        current = stage.model
        after_training.append(stage.accuracy_after)
    return {
        "ratio": ratio,
        "weights": "original",
        "before": one_shot.accuracy_before,
        "one_shot": one_shot.accuracy_after,
        "iterative": after_training[-1] if after_training else None,
        "iterative_steps": after_training,
        "curve": curve,
        "training_steps": {"one_shot": len(one_shot.losses), "iterative": done},
        "criterion": criterion,
    }


def _point(schedule: str, stage: int, phase: str, steps: int, accuracy: float) -> dict:
    return {"schedule": schedule, "stage": stage, "phase": phase, "steps": steps, "accuracy": accuracy}


def compare_unstructured(host: TrainingHost, *, repeats: int = 50) -> dict:
    """Filter pruning (the host's plan, exported) vs magnitude pruning of single weights at the same parameter
    count, both from the original weights, with validation accuracy and measured CPU latency of both and of
    the dense original.

    Zeroed weights keep the dense shapes, so the dense kernels do the same work: no speed-up.
    """
    model, val = host.original_model(), host.data.val
    exported = export_pruned(model, host.example_input, host.pruned, host.graph)
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


def compare_training_modes(
    host: TrainingHost,
    model: nn.Module,
    steps: int,
    *,
    lam: float | None = None,
    period: int | None = None,
    lr: float = 3e-3,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """Plain masked fine-tuning vs Soft Filter Pruning vs group lasso (``explorer.training_modes``).

    All three start from ``model`` (the original weights), train ``steps`` with the same optimiser, schedule,
    batches and seed, and end at the same channel count per group as the host's current plan, so at the
    same MACs. Plain masked training keeps the plan's own channels; the other two pick theirs.

    Returns:
        ``{"weights": "original", "steps", "counts": {group: channels cut}, "modes": {mode: {...}}}`` where
        each mode has ``accuracy_before`` (its channels cut, before training), ``accuracy_after`` (after
        training and the hard cut), ``accuracy_soft`` (soft only: filters zeroed, nothing cut),
        ``pruned`` (its channels) and ``overlap_with_plan`` (the fraction of them the plan also cuts).
    """
    from explorer.training_modes import DEFAULT_LAMBDA, MODES, train_mode

    train, val = training_split(host), host.data.val
    pruned = {g: tuple(i) for g, i in host.pruned.items()}
    lam = DEFAULT_LAMBDA if lam is None else lam
    total = sum(len(i) for i in pruned.values())
    modes = {}
    for mode in MODES:
        result = train_mode(
            mode,
            model,
            host.groups,
            pruned,
            host.layer_cuts,
            train,
            val,
            steps,
            lam=lam,
            period=period,
            lr=lr,
            seed=host.seed,
            should_stop=should_stop,
        )
        chosen = getattr(result, "pruned", None) or pruned
        same = sum(len(set(chosen.get(g, ())) & set(i)) for g, i in pruned.items())
        modes[mode] = {
            "accuracy_before": result.accuracy_before,
            "accuracy_after": result.accuracy_after,
            "accuracy_soft": getattr(result, "accuracy_soft", None),
            "pruned": {g: list(i) for g, i in chosen.items()},
            "overlap_with_plan": same / total if total else 1.0,
            "cancelled": result.cancelled,
        }
    return {
        "weights": "original",
        "steps": steps,
        "lambda": lam,
        "period": period,
        "counts": {g: len(i) for g, i in pruned.items()},
        "modes": modes,
    }


__all__ = ["compare_schedules", "compare_training_modes", "compare_unstructured"]
