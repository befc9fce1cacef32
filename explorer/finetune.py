"""Fine-tuning after pruning, one-shot or iterative (Han et al. 2015, Learning both Weights and Connections
for Efficient Neural Networks, https://arxiv.org/abs/1506.02626).

Pruning removes filters; retraining lets the remaining ones take over their work. Training runs on a copy of
the model *with the masks installed*: a masked channel receives zero gradient through its output and never
reaches its consumers, so this is the same as training the exported, physically smaller network, and the
session can adopt the new weights without rebuilding anything.

* one-shot: prune to the target ratio, then train for ``steps``;
* iterative: reach the target in ``k`` equal increments, training after each (``stage_steps``: the same
  ``steps`` in total, ``steps // k`` per stage and the remainder in the last), the channels pruned so far
  staying pruned (Han et al.'s prune → retrain loop).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from explorer.data import DataSplit
from explorer.layers import CHANNEL_LAYERS
from explorer.masks import LayerCuts, apply_masks
from explorer.train import compute_accuracy, fit


@dataclass
class FinetuneResult:
    """What one fine-tuning run did.

    Attributes:
        model: the trained copy (masks not installed).
        losses: training loss of every step.
        curve: ``(step, validation accuracy)`` points measured during training.
        accuracy_before, accuracy_after: masked validation accuracy before and after.
        cancelled: True when ``should_stop`` ended the run early.
    """

    model: nn.Module
    losses: list[float]
    curve: list[tuple[int, float]] = field(default_factory=list)
    accuracy_before: float = 0.0
    accuracy_after: float = 0.0
    cancelled: bool = False


def masked_accuracy(model: nn.Module, cuts: LayerCuts, split: DataSplit) -> float:
    """Top-1 accuracy of ``model`` with ``cuts`` masked."""
    with apply_masks(model, cuts):
        return compute_accuracy(model, split)


def finetune_masked(
    model: nn.Module,
    cuts: LayerCuts,
    train: DataSplit,
    val: DataSplit,
    steps: int,
    *,
    lr: float = 3e-3,
    batch_size: int = 64,
    seed: int = 0,
    eval_every: int = 0,
    progress: Callable[[int, int, float], None] | None = None,
    on_point: Callable[[int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FinetuneResult:
    """Train a copy of ``model`` under the masks ``cuts``; ``model`` itself is not touched.

    Args:
        eval_every: measure validation accuracy every this many steps (0: only before and after).
        on_point: called with each ``(step, accuracy)`` point of the live curve.
    """
    trained = copy.deepcopy(model)
    for param in trained.parameters():
        param.requires_grad_(True)
    before = masked_accuracy(trained, cuts, val)
    curve = [(0, before)]
    if on_point is not None:
        on_point(0, before)
    losses: list[float] = []
    chunk = eval_every if eval_every > 0 else steps
    done = 0
    cancelled = False
    while done < steps:
        todo = min(chunk, steps - done)

        def report(step: int, _total: int, loss: float, offset: int = done) -> None:
            if progress is not None:
                progress(offset + step, steps, loss)

        with apply_masks(trained, cuts):
            part = fit(
                trained,
                train,
                todo,
                lr,
                batch_size=batch_size,
                seed=seed + done,
                progress=report,
                should_stop=should_stop,
            )
        losses.extend(part)
        done += len(part)
        if len(part) < todo:
            cancelled = True
            break
        point = (done, masked_accuracy(trained, cuts, val))
        curve.append(point)
        if on_point is not None:
            on_point(*point)
    for param in trained.parameters():
        param.requires_grad_(False)
    after = curve[-1][1] if not cancelled else masked_accuracy(trained, cuts, val)
    return FinetuneResult(trained, losses, curve, before, after, cancelled)


def stage_steps(steps: int, k: int) -> list[int]:
    """The training steps of each of the ``k`` stages of an iterative schedule: ``steps // k`` each, the
    remainder ``steps mod k`` added to the last stage, so that the total is exactly ``steps``, the budget of
    the one-shot schedule it is compared with (a fair comparison trains both for as many optimiser steps).

    Example: ``stage_steps(10, 3) == [3, 3, 4]``.
    """
    steps, k = int(steps), int(k)
    if k < 1 or steps < 0:
        raise ValueError(f"an iterative schedule needs k >= 1 and steps >= 0 (got k={k}, steps={steps})")
    return [steps // k] * (k - 1) + [steps // k + steps % k]


def iterative_schedule(
    final: Mapping[str, Sequence[int]], scores_in_order: Mapping[str, Sequence[int]], k: int
) -> list[dict[str, tuple[int, ...]]]:
    """The ``k`` nested plans of an iterative schedule: step ``i`` removes ``i/k`` of each group's channels.

    Args:
        final: group → channels removed at the end.
        scores_in_order: group → the same channels, least important first (the order they go in).
    """
    plans = []
    for i in range(1, k + 1):
        plans.append({g: tuple(sorted(scores_in_order[g][: round(len(final[g]) * i / k)])) for g in final})
    return plans


def count_nonzero_params(model: nn.Module) -> int:
    return sum(int(torch.count_nonzero(p)) for p in model.parameters())


def magnitude_prune(model: nn.Module, keep_params: int) -> nn.Module:
    """Unstructured pruning (Han et al. 2015): zero the smallest-|w| conv and linear weights of a copy of
    ``model``, globally, until ``keep_params`` non-zero parameters remain. Shapes do not change."""
    pruned = copy.deepcopy(model)
    weights = [m.weight for m in pruned.modules() if isinstance(m, CHANNEL_LAYERS)]
    to_zero = max(count_nonzero_params(pruned) - keep_params, 0)
    if to_zero == 0:
        return pruned
    magnitudes = torch.cat([w.detach().abs().flatten() for w in weights])
    threshold = torch.kthvalue(magnitudes, min(to_zero, magnitudes.numel())).values
    with torch.no_grad():
        zeroed = 0
        for w in weights:
            below = w.abs() < threshold
            w[below] = 0
            zeroed += int(below.sum())
        for w in weights:  # ties at the threshold, until the count is exact
            if zeroed >= to_zero:
                break
            at = (w.abs() == threshold).nonzero()
            take = at[: to_zero - zeroed]
            w[tuple(take.T)] = 0
            zeroed += len(take)
    return pruned
