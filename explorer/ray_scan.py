"""Sensitivity scans sharded over Ray (https://docs.ray.io): the same per-cell evaluation, on many processes.

The model and the validation batches go into Ray's object store once. Each task evaluates a block of cells
(all the ratios of one group, which share everything upstream of that group) with an ``Evaluator`` and an
activation cache of its own, so a block costs what the same cells cost in-process. Rows stream back as
blocks finish, and a cancelled scan cancels the tasks still queued or running.

Everything goes into the object store on the CPU, so that any worker can read it; a task moves it to its
own GPU when Ray gave it one (tasks ask for a GPU each when the cluster has GPUs), else computes on its CPU.

Ray is optional: ``pip install 'pruning-explorer[ray]'``. ``address=None`` starts a local Ray (or joins the
one this process already runs); an address joins an existing cluster.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from itertools import groupby

import torch
from torch import nn

from explorer.cost import Cost
from explorer.errors import ExplorerError
from explorer.evaluation import Estimate, EvaluationCancelled, Evaluator
from explorer.masks import LayerCuts
from explorer.scan_cells import Cell, evaluate_cell, row_of

POLL_SECONDS = 0.2
TASK_CACHE_BUDGET = 256 << 20  # activations one task keeps for its block


def _ray():
    try:
        import ray
    except ImportError:
        raise ExplorerError(
            "executor='ray' needs Ray, which is not installed: pip install 'pruning-explorer[ray]' "
            "(the default executor='local' needs nothing more)"
        ) from None
    return ray


def _evaluate_block(
    model: nn.Module,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    batch_sizes: list[int],
    precision: str,
    block: list[tuple[int, LayerCuts]],
    tolerance: float | None,
) -> list[tuple[int, Estimate]]:
    """One task: a fresh evaluator over the shared batches, then each cell of the block in turn (on this
    worker's GPU when it has one)."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, inputs, labels = model.to(device), inputs.to(device), labels.to(device)
    evaluator = Evaluator(model, inputs, labels, batch_sizes, TASK_CACHE_BUDGET, None, precision)
    return [(index, evaluate_cell(evaluator, cuts, tolerance=tolerance)) for index, cuts in block]


def run_cells_on_ray(
    evaluator: Evaluator,
    cells: Sequence[Cell],
    cuts: Sequence[LayerCuts],
    costs: Sequence[Cost],
    deliver: Callable[[dict], None],
    tolerance: float | None = None,
    address: str | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Evaluate ``cells`` (with their ``cuts`` and ``costs``) on Ray; ``deliver`` gets each row.

    Raises:
        EvaluationCancelled: ``should_stop()`` turned true; the remaining tasks were cancelled.
    """
    ray = _ray()
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    with evaluator.lock:
        model = copy.deepcopy(evaluator.model).cpu()  # no evaluation's masks on it
    inputs = torch.cat([x for x, _ in evaluator.batches]).cpu()
    labels = torch.cat([y for _, y in evaluator.batches]).cpu()
    sizes = [int(y.shape[0]) for _, y in evaluator.batches]
    shared = [ray.put(v) for v in (model, inputs, labels)]
    gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
    task = ray.remote(num_gpus=gpus)(_evaluate_block)
    pending = []
    for _, members in groupby(range(len(cells)), key=lambda i: cells[i].group):
        block = [(i, cuts[i]) for i in members]
        pending.append(task.remote(*shared, sizes, evaluator.precision, block, tolerance))
    try:
        while pending:
            if should_stop is not None and should_stop():
                raise EvaluationCancelled
            ready, pending = ray.wait(pending, num_returns=1, timeout=POLL_SECONDS)
            for ref in ready:
                for index, estimate in ray.get(ref):
                    deliver(row_of(cells[index], estimate, costs[index]))
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)


__all__ = ["run_cells_on_ray"]
