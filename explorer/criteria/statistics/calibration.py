"""What every statistics collector shares: checking calibration data, batching it, and eval mode."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from explorer.criteria._exceptions import ScoringCancelled
from explorer.errors import DataError, ExplorerError

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def calibration_tensors(calib: Any, criterion: str = "this criterion") -> tuple[torch.Tensor, torch.Tensor]:
    """Check a calibration split (any object with ``.inputs`` and ``.labels``) and return its tensors.

    Raises:
        DataError: ``calib`` is missing, empty or malformed.
    """
    if calib is None:
        raise DataError(
            f"{criterion} needs calibration data (calib=..., an object with .inputs [N, C, H, W] and "
            ".labels [N]); none was given"
        )
    inputs, labels = getattr(calib, "inputs", None), getattr(calib, "labels", None)
    if not isinstance(inputs, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise DataError(
            f"{criterion}: calibration data must have tensor attributes .inputs and .labels, "
            f"got {type(calib).__name__}"
        )
    if inputs.dim() < 2 or labels.dim() != 1 or inputs.shape[0] != labels.shape[0]:
        raise DataError(
            f"{criterion}: calibration inputs {tuple(inputs.shape)} and labels {tuple(labels.shape)} do not "
            "match (expected [N, ...] and [N])"
        )
    if inputs.shape[0] == 0:
        raise DataError(f"{criterion}: the calibration set is empty")
    return inputs, labels


@contextmanager
def evaluation_mode(model: nn.Module, params: Sequence[nn.Parameter] = ()) -> Iterator[nn.Module]:
    """Eval mode, with ``params`` differentiable, for the duration of the block; everything restored after.

    Args:
        model: the network.
        params: parameters that must require grad inside the block (frozen ones are unfrozen temporarily).
    """
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in params]
    try:
        model.eval()
        for p, _ in flags:
            p.requires_grad_(True)
        # inference_mode would forbid autograd even under enable_grad
        with torch.inference_mode(False), torch.enable_grad():
            yield model
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
        for m, mode in modes:
            m.training = mode


def device_of(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for a model with neither)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def calibration_batches(
    inputs: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    device: torch.device,
    should_stop: Callable[[], bool] | None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Consecutive float32 ``(inputs, labels)`` batches on ``device``; ``should_stop`` is polled before each.

    Raises:
        ScoringCancelled: ``should_stop()`` returned true.
    """
    for start in range(0, inputs.shape[0], batch_size):
        if should_stop is not None and should_stop():
            raise ScoringCancelled(f"scoring cancelled after {start} of {inputs.shape[0]} samples")
        x = inputs[start : start + batch_size].to(device=device, dtype=torch.float32)
        y = labels[start : start + batch_size].to(device=device)
        yield x, y


def check_finite_loss(loss: torch.Tensor) -> torch.Tensor:
    """``loss`` itself, if every entry is finite.

    Raises:
        ExplorerError: the loss is NaN or infinite (the model's outputs are not finite).
    """
    if not bool(torch.isfinite(loss).all()):
        raise ExplorerError(
            f"the calibration loss is {float(loss.detach().sum())}: the model's outputs are not finite, so "
            "gradient-based scores cannot be computed"
        )
    return loss
