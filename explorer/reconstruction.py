"""Recovery without training: refit the layers that consume pruned channels by least squares.

He, Zhang & Sun, "Channel Pruning for Accelerating Very Deep Neural Networks", ICCV 2017,
https://arxiv.org/abs/1707.06168 (the reconstruction step, their Eq. 1 with β fixed by the plan).

When channels of a group are removed, every layer that reads them (a *consumer*: the next conv, or the
classifier) loses part of its input. Its remaining weights can be refitted so that it reproduces, as well as
a linear map can, what the *original* layer produced from the *original* input:

    W' = argmin_W ‖Y − X_kept · W‖²_F + λ‖W‖²_F,     W' = (X_keptᵀ X_kept + λI)⁻¹ X_keptᵀ Y

* Y ``[rows, C_out]``: the original network's consumer output on calibration images (its bias included);
* X_kept ``[rows, K]``: the consumer's input in the *pruned* network, already carrying the error of the
  layers reconstructed before it (as in the paper, which reconstructs layer by layer from the pruned
  network's own inputs), restricted to the kept input channels. For a conv, each row is one output position
  of one image and the columns are the im2col patch of the kept channels (``F.unfold``), so the conv is a
  linear map of its patches; a linear layer's rows are samples (every leading dimension flattened);
* an intercept column of ones is added when the consumer has a bias (refitted), or when a BatchNorm with
  running statistics reads its output directly: BN(x + c) with mean μ equals BN(x) with mean μ − c, so the
  intercept is folded into that BN's ``running_mean``. Otherwise there is no intercept;
* λ = ``ridge`` · mean(diag(X_keptᵀ X_kept)), a small ridge for the ill-conditioned cases.

The normal equations are accumulated batch by batch in float64. Consumers are refitted in the order the
network calls them. Only the kept input columns (and the bias or the BN's running mean) change: masked and
exported networks still compute the same thing.

Works on conv2d (``groups = 1``, any padding mode) and linear consumers; any other consumer is left as is
and listed under ``skipped``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from explorer.finetune import masked_accuracy
from explorer.layers import BATCH_NORMS
from explorer.masks import LayerCuts, apply_masks


class _Stop(Exception):
    """Ends a forward pass once the wanted tensor is captured."""


@dataclass
class LayerFit:
    """How one consumer was refitted.

    Attributes:
        layer: its module name.
        kept_inputs, inputs: input channels (features for a linear layer) kept, and in all.
        rows: calibration rows of the least-squares problem (images × output positions).
        error_before, error_after: ‖Y − ŷ‖² / ‖Y‖² on the calibration rows, with the original weights
            restricted to the kept inputs, and with the refitted ones.
        intercept: ``"bias"``, ``"bn running mean of <name>"`` or ``None``.
    """

    layer: str
    kept_inputs: int
    inputs: int
    rows: int
    error_before: float
    error_after: float
    intercept: str | None


@dataclass
class Reconstruction:
    """The reconstructed copy and what was done to it."""

    model: nn.Module
    layers: list[LayerFit] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    calibration_samples: int = 0

    def describe(self) -> list[dict[str, Any]]:
        """Plain data, one dict per refitted layer."""
        return [vars(fit).copy() for fit in self.layers]


def _refusal(module: nn.Module) -> str | None:
    if isinstance(module, nn.Linear):
        return None
    if isinstance(module, nn.Conv2d):
        return "grouped convolution" if module.groups != 1 else None
    return f"{type(module).__name__} consumers are not refitted (conv2d and linear only)"


def _call_order(model: nn.Module, names: list[str], x: torch.Tensor) -> tuple[list[str], dict[str, str]]:
    """The consumers in the order ``model`` calls them, and for each the BatchNorm that reads its output
    tensor directly (if any)."""
    modules = dict(model.named_modules())
    order: list[str] = []
    outputs: dict[int, tuple[str, torch.Tensor]] = {}
    follower: dict[str, str] = {}
    handles = []

    def after(name: str):
        def hook(_m, _i, out):
            if name not in order:
                order.append(name)
            outputs[id(out)] = (name, out)

        return hook

    def before_bn(bn_name: str):
        def hook(_m, args):
            source = outputs.get(id(args[0])) if args else None
            if source is not None and source[1] is args[0]:
                follower.setdefault(source[0], bn_name)

        return hook

    try:
        for name in names:
            handles.append(modules[name].register_forward_hook(after(name)))
        for name, m in modules.items():
            if isinstance(m, BATCH_NORMS) and m.running_mean is not None:
                handles.append(m.register_forward_pre_hook(before_bn(name)))
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return order + [n for n in names if n not in order], follower


@contextmanager
def _capture(module: nn.Module, where: str, store: dict) -> Iterator[None]:
    """Store ``module``'s input (``where="input"``) or output, then stop the forward pass."""

    def pre(_m, args):
        store["x"] = args[0]
        raise _Stop

    def post(_m, _i, out):
        store["x"] = out
        raise _Stop

    handle = module.register_forward_pre_hook(pre) if where == "input" else module.register_forward_hook(post)
    try:
        yield
    finally:
        handle.remove()


def _run_to(model: nn.Module, module: nn.Module, where: str, x: torch.Tensor) -> torch.Tensor:
    store: dict = {}
    with _capture(module, where, store), torch.no_grad(), suppress(_Stop):
        model(x)
    return store["x"]


def _design(module: nn.Module, x: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """``[rows, K]``: the kept input columns the consumer multiplies by its weights."""
    if isinstance(module, nn.Linear):
        return x.reshape(-1, x.shape[-1])[:, kept]
    x = x[:, kept]
    mode = "constant" if module.padding_mode == "zeros" else module.padding_mode
    x = F.pad(x, module._reversed_padding_repeated_twice, mode=mode)
    cols = F.unfold(x, module.kernel_size, dilation=module.dilation, stride=module.stride)
    return cols.transpose(1, 2).reshape(-1, cols.shape[1])  # [B·L, kept·kh·kw]


def _target(module: nn.Module, y: torch.Tensor) -> torch.Tensor:
    """``[rows, C_out]`` in the same row order as ``_design``."""
    if isinstance(module, nn.Linear):
        return y.reshape(-1, y.shape[-1])
    return y.flatten(2).transpose(1, 2).reshape(-1, y.shape[1])


def _kept_weight_columns(module: nn.Module, kept: torch.Tensor) -> torch.Tensor:
    """The consumer's weight on the kept inputs, ``[C_out, K]``, columns in ``_design``'s order."""
    return module.weight.detach()[:, kept].reshape(module.weight.shape[0], -1)


@torch.no_grad()
def reconstruct_consumers(
    original: nn.Module,
    cuts: LayerCuts,
    calib_inputs: torch.Tensor,
    *,
    batch_size: int = 64,
    ridge: float = 1e-4,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Reconstruction | None:
    """Refit every consumer of removed channels so that it reproduces the original layer's output.

    Args:
        original: the original network (not changed); the refitted copy starts from its weights.
        cuts: the plan's removed channels per layer (``session.layer_cuts()``).
        calib_inputs: ``[N, ...]`` calibration images (not the validation ones).
        batch_size: images per pass.
        ridge: λ relative to the mean diagonal of XᵀX.
        progress: called with ``(consumers done, consumers)`` after each refit.
        should_stop: polled before each consumer; when it turns true, ``None`` is returned.

    Returns:
        The refitted copy (eval mode) with one ``LayerFit`` per consumer; ``None`` when stopped.
    """
    teacher = copy.deepcopy(original).eval()
    student = copy.deepcopy(original).eval()
    modules = dict(student.named_modules())
    teacher_modules = dict(teacher.named_modules())
    result = Reconstruction(student, calibration_samples=int(calib_inputs.shape[0]))
    wanted = []
    for name in cuts.inp:
        reason = _refusal(modules[name])
        if reason is None:
            wanted.append(name)
        else:
            result.skipped[name] = reason
    if not wanted or calib_inputs.shape[0] == 0:
        return result
    order, follower = _call_order(teacher, wanted, calib_inputs[:2])
    for done, name in enumerate(order):
        if should_stop is not None and should_stop():
            return None
        if progress is not None:
            progress(done, len(order))
        module = modules[name]
        removed = cuts.inp[name]
        width = module.weight.shape[1]
        kept = torch.tensor([i for i in range(width) if i not in removed], device=module.weight.device)
        bn_name = follower.get(name) if module.bias is None else None
        intercept = (
            "bias" if module.bias is not None else (f"bn running mean of {bn_name}" if bn_name else None)
        )
        gram = xty = None
        yy = torch.zeros((), dtype=torch.float64, device=calib_inputs.device)
        rows = 0
        for start in range(0, int(calib_inputs.shape[0]), batch_size):
            x = calib_inputs[start : start + batch_size]
            with apply_masks(student, cuts):
                a = _design(module, _run_to(student, module, "input", x), kept).double()
            y = _target(module, _run_to(teacher, teacher_modules[name], "output", x)).double()
            if intercept:
                a = torch.cat([a, torch.ones(a.shape[0], 1, dtype=a.dtype, device=a.device)], dim=1)
            gram = a.T @ a if gram is None else gram + a.T @ a
            xty = a.T @ y if xty is None else xty + a.T @ y
            yy += y.square().sum()
            rows += a.shape[0]
        old = _kept_weight_columns(module, kept).double().T  # [K, C_out]
        if intercept == "bias":
            old = torch.cat([old, module.bias.detach().double().unsqueeze(0)])
        elif intercept:
            old = torch.cat([old, torch.zeros(1, old.shape[1], dtype=old.dtype, device=old.device)])
        lam = ridge * float(gram.diagonal().mean())
        eye = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
        new = torch.linalg.solve(gram + lam * eye, xty)

        def error(w: torch.Tensor, g=gram, h=xty, total=yy) -> float:
            residual = total - 2 * (w * h).sum() + (w * (g @ w)).sum()
            return float(residual / total) if total > 0 else 0.0

        result.layers.append(LayerFit(name, len(kept), width, rows, error(old), error(new), intercept))
        weights = new[: new.shape[0] - (1 if intercept else 0)].T.to(module.weight.dtype)
        module.weight[:, kept] = weights.reshape(module.weight[:, kept].shape)
        if intercept == "bias":
            module.bias.copy_(new[-1].to(module.bias.dtype))
        elif intercept:
            bn = modules[bn_name]
            bn.running_mean.sub_(new[-1].to(bn.running_mean.dtype))
    return result


def reconstruct_plan(
    host: Any, *, batch_size: int = 64, ridge: float = 1e-4, **steer: Any
) -> tuple[Reconstruction | None, dict]:
    """Reconstruct a session's current plan from its original weights, on its calibration split.

    Returns:
        The reconstruction and plain data: accuracy (fp32, validation split) with the plan on the original
        weights before and on the refitted ones after, and each layer's fit; ``(None, {})`` when
        ``steer["should_stop"]`` stopped it (``steer``: ``progress`` and ``should_stop`` of
        ``reconstruct_consumers``).
    """
    original = host.original_model()
    cuts = host.layer_cuts()
    calib, val = host.data.calib, host.data.val
    done = reconstruct_consumers(original, cuts, calib.inputs, batch_size=batch_size, ridge=ridge, **steer)
    if done is None:
        return None, {}
    summary = {
        "method": "least-squares reconstruction of the consumers (He, Zhang & Sun, ICCV 2017)",
        "started_from": "original",
        "calibration_samples": done.calibration_samples,
        "accuracy_before": masked_accuracy(original, cuts, val),
        "accuracy_after": masked_accuracy(done.model, cuts, val),
        "layers": done.describe(),
        "skipped": dict(done.skipped),
    }
    return done, summary


__all__ = ["LayerFit", "Reconstruction", "reconstruct_consumers", "reconstruct_plan"]
