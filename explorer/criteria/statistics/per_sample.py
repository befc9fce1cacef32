"""Exact per-sample gradients from layer formulas: one backward pass, with hooks that rebuild every
sample's gradient of a conv, linear, eval-mode BatchNorm or PReLU from the layer's input and output gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from explorer.criteria.statistics.calibration import LossFn, calibration_batches, check_finite_loss, device_of
from explorer.layers import BATCH_NORMS

_CONV_WEIGHT_GRAD = {
    nn.Conv1d: torch.nn.grad.conv1d_weight,
    nn.Conv2d: torch.nn.grad.conv2d_weight,
    nn.Conv3d: torch.nn.grad.conv3d_weight,
}


def _formula_supports(module: nn.Module) -> bool:
    if type(module) in _CONV_WEIGHT_GRAD:
        # String paddings ("same") and non-zero padding modes pad differently from conv*_weight.
        return module.padding_mode == "zeros" and not isinstance(module.padding, str)
    if type(module) is nn.Linear or type(module) is nn.PReLU:
        return True
    # In eval mode a BatchNorm with running statistics treats every sample on its own.
    return type(module) in BATCH_NORMS and module.running_mean is not None and module.running_var is not None


def layer_formulas_apply(model: nn.Module, wanted: dict[str, nn.Parameter]) -> bool:
    """Whether every wanted parameter belongs to a layer with a per-sample formula and to no other module."""
    owners: dict[int, int] = {}
    for module in model.modules():
        for p in module.parameters(recurse=False):
            owners[id(p)] = owners.get(id(p), 0) + 1
    modules = dict(model.named_modules())
    for name, p in wanted.items():
        owner = modules[name.rpartition(".")[0]]
        # A tied weight gets gradient through another module, which the hooks on its owner would miss.
        if owners.get(id(p), 0) != 1 or not _formula_supports(owner):
            return False
    return True


def _sum_except(t: torch.Tensor, keep: tuple[int, ...]) -> torch.Tensor:
    dims = [d for d in range(t.dim()) if d not in keep]
    return t.sum(dim=dims) if dims else t


def _per_sample_grads(module: nn.Module, x: torch.Tensor, g: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each sample's gradient of every parameter of ``module``, ``[N, *param.shape]``.

    Args:
        module: a layer ``_formula_supports``.
        x: ``[N, ...]`` its input.
        g: ``[N, ...]`` the gradient of Σ_n ℓ_n with respect to its output, so that row n is ∂ℓ_n/∂output_n.
    """
    n = x.shape[0]
    out: dict[str, torch.Tensor] = {}
    if type(module) in _CONV_WEIGHT_GRAD:
        # The samples become groups of one big convolution, so one call yields every sample's weight gradient.
        weight = module.weight
        size = (n * weight.shape[0], *weight.shape[1:])
        grad_w = _CONV_WEIGHT_GRAD[type(module)](
            x.reshape(1, n * x.shape[1], *x.shape[2:]),
            size,
            g.reshape(1, n * g.shape[1], *g.shape[2:]),
            module.stride,
            module.padding,
            module.dilation,
            n * module.groups,
        )
        out["weight"] = grad_w.reshape(n, *weight.shape)
        if module.bias is not None:
            out["bias"] = _sum_except(g, (0, 1))
    elif isinstance(module, nn.Linear):
        a = x.reshape(n, -1, x.shape[-1])
        b = g.reshape(n, -1, g.shape[-1])
        out["weight"] = torch.einsum("nlo,nli->noi", b, a)
        if module.bias is not None:
            out["bias"] = b.sum(dim=1)
    elif isinstance(module, nn.PReLU):
        contribution = g * x.clamp(max=0)
        if module.weight.numel() == 1:
            out["weight"] = contribution.reshape(n, -1).sum(dim=1, keepdim=True)
        else:
            out["weight"] = _sum_except(contribution, (0, 1))
    else:  # eval-mode BatchNorm: y = γ·x̂ + β with x̂ from the running statistics
        shape = [1, -1] + [1] * (x.dim() - 2)
        std = torch.sqrt(module.running_var.view(shape) + module.eps)
        x_hat = (x - module.running_mean.view(shape)) / std
        if module.weight is not None:
            out["weight"] = _sum_except(g * x_hat, (0, 1))
        if module.bias is not None:
            out["bias"] = _sum_except(g, (0, 1))
    return out


def hooked_per_sample_squares(
    model: nn.Module,
    wanted: dict[str, nn.Parameter],
    loss_fn: LossFn,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    chunk: int,
    sums: dict[str, torch.Tensor],
    should_stop: Callable[[], bool] | None,
) -> None:
    """Add Σ_n (∂ℓ_n/∂w)² of every wanted parameter to ``sums``, from the layer formulas, ``chunk`` samples
    per backward pass (the caller checked ``layer_formulas_apply`` and set eval mode)."""
    modules = dict(model.named_modules())
    attrs: dict[str, list[str]] = {}
    for name in wanted:
        owner, _, attr = name.rpartition(".")
        attrs.setdefault(owner, []).append(attr)
    per_batch: dict[str, torch.Tensor] = {}  # param name → this chunk's [N, *shape], summed over calls

    def forward_hook(owner: str):
        def hook(module, args, output):
            if not args or not isinstance(output, torch.Tensor) or not output.requires_grad:
                return
            # Copied now, before any later in-place op on the input can change it.
            x = args[0].detach().clone()

            def grad_hook(grad: torch.Tensor) -> None:
                grads = _per_sample_grads(module, x, grad.detach())
                for attr in attrs[owner]:
                    key = f"{owner}.{attr}"
                    per_batch[key] = per_batch[key] + grads[attr] if key in per_batch else grads[attr]

            output.register_hook(grad_hook)

        return hook

    handles = [modules[owner].register_forward_hook(forward_hook(owner)) for owner in attrs]
    try:
        for x, y in calibration_batches(inputs, labels, chunk, device_of(model), should_stop):
            per_batch.clear()
            x = x.detach().requires_grad_(True)  # makes every output differentiable, frozen weights or not
            # Σ_n ℓ_n: samples do not interact in eval mode, so row n of each output gradient is ∂ℓ_n/∂out_n.
            loss = check_finite_loss(loss_fn(model(x), y)) * x.shape[0]
            torch.autograd.grad(loss, x)
            for name, g in per_batch.items():
                if not bool(torch.isfinite(g).all()):
                    check_finite_loss(torch.tensor(float("nan")))
                sums[name] += g.double().square().sum(dim=0)
            per_batch.clear()
    finally:
        for handle in handles:
            handle.remove()
