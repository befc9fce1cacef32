"""The gradient of the mean calibration loss with respect to chosen parameters (``taylor_weight``, and
criteria of one's own with ``needs="gradients"``)."""

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


def collect_weight_gradients(
    model: nn.Module,
    param_names: Sequence[str],
    calib: Any,
    loss_fn: LossFn = F.cross_entropy,
    batch_size: int = 128,
    should_stop: Callable[[], bool] | None = None,
    *,
    criterion: str = "taylor_weight",
) -> dict[str, torch.Tensor]:
    """The gradient of the mean calibration loss, (1/N) Σ_n ∂ℓ_n/∂w, for the named parameters.

    It is accumulated over batches (each batch's mean loss weighted by its share of the samples), so it is the
    full-calibration-set gradient whatever ``batch_size`` is. The parameters' ``.grad`` are not touched.

    Args:
        model: the network.
        param_names: dotted parameter names (``"conv1.weight"``...).
        calib: calibration split with ``.inputs`` and ``.labels``.
        loss_fn: ``(logits, labels) → mean loss``.
        batch_size: samples per pass.
        should_stop: polled between batches.
        criterion: the criterion's name, for error messages.

    Returns:
        name → gradient, float64, shaped like the parameter.
    """
    inputs, labels = calibration_tensors(calib, criterion)
    named = dict(model.named_parameters())
    params = [named[n] for n in param_names]
    total = inputs.shape[0]
    sums = [torch.zeros_like(p, dtype=torch.float64) for p in params]
    with evaluation_mode(model, params):
        for x, y in calibration_batches(inputs, labels, batch_size, device_of(model), should_stop):
            loss = check_finite_loss(loss_fn(model(x), y)) * (x.shape[0] / total)
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            for acc, g in zip(sums, grads, strict=True):
                if g is not None:
                    acc += g.double()
    return {n: s.cpu() for n, s in zip(param_names, sums, strict=True)}
