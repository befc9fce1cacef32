"""The session's score cache: each criterion's group scores, computed once per weights state.

Data-driven criteria run on the calibration subset, never on the validation subset the metrics are measured
on. The oracle criteria measure real loss changes; they use an ``Evaluator`` over the calibration subset, so
their many masked evaluations reuse its activation cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import torch
from torch import nn

from explorer import criteria as _criteria
from explorer._autograd import autograd_enabled
from explorer.data import DataSplit
from explorer.evaluation import Evaluator, plan_batches
from explorer.graph import GroupGraph
from explorer.guard import WorkBudget, guarded
from explorer.masks import LayerCuts, compute_layer_cuts
from explorer.memory import release_freed_memory

MAX_SCORING_BATCH = 128


def activation_bytes(model: nn.Module, x: torch.Tensor, lock: threading.RLock) -> int:
    """Bytes of every leaf module's output tensors in one forward pass of ``model`` on ``x``."""
    total = 0

    def count(_module: nn.Module, _inputs: object, out: object) -> None:
        nonlocal total
        if isinstance(out, torch.Tensor):
            total += out.numel() * out.element_size()

    leaves = [m for m in model.modules() if not any(True for _ in m.children())]
    with lock:
        handles = [m.register_forward_hook(count) for m in leaves]
        try:
            with torch.no_grad():
                model(x)
        finally:
            for handle in handles:
                handle.remove()
    return total


class ScoreBook:
    """``criterion → group → GroupScores`` for one model, computed on demand and cached until ``clear()``.

    Args:
        model: the session's private model copy (its weights may change; call ``clear()`` when they do).
        graph: its groups.
        calib: the calibration subset.
        seed: seeds the ``random`` criterion.
        cache_budget: bytes of activations the calibration evaluator may hold.
        chunk_budget: bytes of activations one forward/backward pass of the gradient criteria may hold: the
            calibration data goes through in chunks of as many samples as fit (at most 128).
        lock: held while the model is used (it is shared with the evaluation thread).
        memory_limit: the process's memory limit: statistics are gathered under a memory budget from it
            (``explorer.guard``), so that a criterion too big for the machine fails with a message.
    """

    def __init__(
        self,
        model: nn.Module,
        graph: GroupGraph,
        calib: DataSplit,
        *,
        seed: int,
        cache_budget: int,
        lock: threading.RLock,
        chunk_budget: int = 1 << 30,
        memory_limit: int | None = None,
    ):
        self._memory_limit = memory_limit
        self._model = model
        self._graph = graph
        self._calib = calib
        self._seed = seed
        self._budget = cache_budget
        self._lock = lock
        self._chunk_budget = chunk_budget
        self._batch_size: int | None = None
        self._scores: dict[str, dict[str, _criteria.GroupScores]] = {}
        self._calib_evaluator: Evaluator | None = None

    def clear(self) -> None:
        """Forget every score and cached activation (the weights changed)."""
        self._scores.clear()
        if self._calib_evaluator is not None:
            self._calib_evaluator.cache.clear()

    def known(self, criterion: str) -> dict[str, _criteria.GroupScores]:
        """The scores of ``criterion`` computed so far (no computation)."""
        return dict(self._scores.get(criterion, {}))

    @autograd_enabled()
    def get(
        self,
        criterion: str,
        groups: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> dict[str, _criteria.GroupScores]:
        """Scores of ``groups`` under ``criterion``, computing the missing ones."""
        cached = self._scores.setdefault(criterion, {})
        missing = [g for g in groups if g not in cached]
        if missing:
            kwargs = {}
            if _criteria.get_criterion(criterion).needs == "loss_oracle":
                evaluator = self.calibration_evaluator()
                kwargs["base_loss"] = evaluator.evaluate(LayerCuts()).loss
                kwargs["masked_loss"] = lambda g, idxs: (
                    evaluator.evaluate(compute_layer_cuts(self._graph, {g: idxs})).loss
                )
            budget = None if self._memory_limit is None else WorkBudget.from_limit(self._memory_limit, None)
            with self._lock, guarded(f"computing the {criterion} scores", budget):
                cached.update(
                    _criteria.compute_group_scores(
                        criterion,
                        self._model,
                        self._graph,
                        groups=missing,
                        calib=self._calib,
                        seed=self._seed,
                        batch_size=self.batch_size(),
                        progress=progress,
                        should_stop=should_stop,
                        **kwargs,
                    )
                )
            release_freed_memory()  # gradients and activations of the statistics pass
        return {g: cached[g] for g in groups}

    def batch_size(self) -> int:
        """Calibration samples per forward/backward pass, so that a pass stays within the chunk budget.

        A backward pass keeps every activation of the forward pass and adds their gradients: about three
        times the activations of one forward pass per sample, measured once on one sample.
        """
        if self._batch_size is None:
            per_sample = 3 * activation_bytes(self._model, self._calib.inputs[:1], self._lock)
            self._batch_size = int(max(1, min(MAX_SCORING_BATCH, self._chunk_budget // max(per_sample, 1))))
        return self._batch_size

    def calibration_evaluator(self) -> Evaluator:
        """An evaluator over the calibration subset (made on first use)."""
        if self._calib_evaluator is None:
            calib = self._calib
            self._calib_evaluator = Evaluator(
                self._model,
                calib.inputs,
                calib.labels,
                plan_batches(int(calib.labels.shape[0]), 256, 256),
                self._budget,
                self._lock,
            )
        return self._calib_evaluator


__all__ = ["ScoreBook"]
