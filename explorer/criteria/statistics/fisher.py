"""The empirical Fisher diagonal from exact per-sample gradients (what ``hessian`` scores)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from explorer.criteria.statistics.calibration import (
    LossFn,
    calibration_batches,
    calibration_tensors,
    check_finite_loss,
    device_of,
    evaluation_mode,
)
from explorer.criteria.statistics.per_sample import hooked_per_sample_squares, layer_formulas_apply
from explorer.errors import ExplorerError

#: Per-sample gradients of a chunk are held at once; cap their size (in numbers) to bound memory.
_PER_SAMPLE_BUDGET = 1 << 25


def collect_fisher_diagonal(
    model: nn.Module,
    param_names: Sequence[str],
    calib: Any,
    loss_fn: LossFn = F.cross_entropy,
    should_stop: Callable[[], bool] | None = None,
    *,
    criterion: str = "hessian",
) -> dict[str, torch.Tensor]:
    """The empirical Fisher diagonal F_ii = (1/N) Σ_n (∂ℓ_n/∂w_i)² from exact per-sample gradients.

    The per-sample gradients are exact whichever way they are obtained; the first that applies is used:

    1. *layer formulas* (the fast path): one ordinary backward pass per chunk of samples, with hooks that
       rebuild each sample's gradient from the layer's input and output gradient (for a convolution, a
       convolution-weight gradient with the samples as groups; for a linear layer, an outer product; for an
       eval-mode BatchNorm, Σ g·x̂ and Σ g; for PReLU, Σ g·min(x, 0)). Used when every wanted parameter
       belongs to such a layer and is used by no other module;
    2. ``torch.func.vmap(torch.func.grad(...))``, each sample run as a batch of one (its first use in a
       process imports ``torch._dynamo``, about 1.5 s);
    3. a loop of one backward pass per sample, for models ``vmap`` cannot batch.

    Args:
        model: the network.
        param_names: dotted names of the parameters whose diagonal is wanted.
        calib: calibration split with ``.inputs`` and ``.labels``.
        loss_fn: ``(logits, labels) → mean loss`` (on a batch of one, the sample's loss).
        should_stop: polled between chunks.
        criterion: the criterion's name, for error messages.

    Returns:
        name → F diagonal, float64, shaped like the parameter.
    """
    inputs, labels = calibration_tensors(calib, criterion)
    named = dict(model.named_parameters())
    wanted = {n: named[n] for n in param_names}
    numel = max(1, sum(p.numel() for p in wanted.values()))
    chunk = max(1, min(64, _PER_SAMPLE_BUDGET // numel))
    total = inputs.shape[0]

    def zeros() -> dict[str, torch.Tensor]:
        return {n: torch.zeros_like(p, dtype=torch.float64) for n, p in wanted.items()}

    sums = zeros()
    with evaluation_mode(model):
        if layer_formulas_apply(model, wanted):
            hooked_per_sample_squares(model, wanted, loss_fn, inputs, labels, chunk, sums, should_stop)
        else:
            try:
                per_sample = _vmap_per_sample_grads(model, wanted, loss_fn)
                for x, y in calibration_batches(inputs, labels, chunk, device_of(model), should_stop):
                    for n, g in per_sample(x, y).items():
                        sums[n] += g.double().square().sum(dim=0)
            except ExplorerError:  # cancelled, or a non-finite loss: the loop would fail the same way
                raise
            except Exception:  # vmap cannot batch some models (data-dependent control flow, .item()...)
                sums = zeros()
                _loop_per_sample_squares(model, wanted, loss_fn, inputs, labels, sums, should_stop)
    return {n: (s / total).cpu() for n, s in sums.items()}


# ------------------------------------------------------------------------- per-sample gradients, generic
def _vmap_per_sample_grads(model: nn.Module, wanted: dict[str, nn.Parameter], loss_fn: LossFn):
    from torch.func import functional_call, grad, vmap

    fixed = {n: p.detach() for n, p in model.named_parameters() if n not in wanted}
    fixed.update({n: b.detach() for n, b in model.named_buffers()})
    live = {n: p.detach() for n, p in wanted.items()}

    def sample_loss(params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, {**fixed, **params}, (x.unsqueeze(0),))
        return loss_fn(out, y.unsqueeze(0))

    batched = vmap(grad(sample_loss), in_dims=(None, 0, 0))

    def run(x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        grads = batched(live, x, y)
        for g in grads.values():
            if not bool(torch.isfinite(g).all()):
                check_finite_loss(torch.tensor(float("nan")))
        return grads

    return run


def _loop_per_sample_squares(model, wanted, loss_fn, inputs, labels, sums, should_stop) -> None:
    names = list(wanted)
    params = [wanted[n] for n in names]
    with evaluation_mode(model, params):
        for x, y in calibration_batches(inputs, labels, 1, device_of(model), should_stop):
            loss = check_finite_loss(loss_fn(model(x), y))
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            for n, g in zip(names, grads, strict=True):
                if g is not None:
                    sums[n] += g.double().square()
