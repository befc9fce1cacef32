"""Activation × gradient of each attention head's output, per sample (what ``taylor`` scores for heads).

A head's output ``a_h`` (``[L, d]`` per sample, before the output projection) is multiplied by a gate
``g_h = 1`` (``explorer.attention.head_attention``), so ``∂ℓ/∂g_h = Σ a_h·∂ℓ/∂a_h`` over its ``L·d``
entries. Dividing by ``L·d`` gives Molchanov et al.'s per-sample mean of activation × gradient over the
head's output, the quantity their criterion takes for a feature map (``explorer.criteria.taylor``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from explorer.attention import head_attention, head_filters
from explorer.criteria.statistics.calibration import (
    LossFn,
    calibration_batches,
    calibration_tensors,
    check_finite_loss,
    device_of,
    evaluation_mode,
)
from explorer.window_attention import is_window_attention, window_attention


def collect_head_gradients(
    model: nn.Module,
    layers: Sequence[str],
    calib: Any,
    loss_fn: LossFn = F.cross_entropy,
    batch_size: int = 128,
    should_stop: Callable[[], bool] | None = None,
    *,
    criterion: str = "taylor",
) -> dict[str, torch.Tensor]:
    """Layer name → ``[N, H]`` float64: per calibration sample and head, the signed mean of a·∂ℓ_n/∂a over
    the head's output. The layers (``nn.MultiheadAttention``) run through ``head_attention`` meanwhile."""
    inputs, labels = calibration_tensors(calib, criterion)
    modules = dict(model.named_modules())
    device = device_of(model)
    chunks: dict[str, list[torch.Tensor]] = {name: [] for name in layers}
    gates: dict[str, tuple[torch.Tensor, int]] = {}

    def gated(name: str, module: nn.MultiheadAttention):
        def forward(query, *_args, key_padding_mask=None, need_weights=True, attn_mask=None, **_kwargs):
            n = query.shape[0] if module.batch_first else query.shape[1]
            length = query.shape[1] if module.batch_first else query.shape[0]
            gate = torch.ones(n, module.num_heads, dtype=query.dtype, device=query.device, requires_grad=True)
            gates[name] = (gate, length * module.head_dim)
            return head_attention(
                query,
                module.in_proj_weight,
                module.in_proj_bias,
                module.out_proj,
                module.num_heads,
                batch_first=module.batch_first,
                attn_mask=attn_mask,
                key_padding_mask=key_padding_mask,
                need_weights=need_weights,
                head_gate=gate,
            )

        return forward

    def window_gated(name: str, module: nn.Module):
        def forward(x):
            heads = module.relative_position_bias_table.shape[1]
            gate = torch.ones(x.shape[0], heads, dtype=x.dtype, device=x.device, requires_grad=True)
            size = x.shape[1] * x.shape[2] * module.qkv.out_features // 3 // heads  # tokens × head size
            gates[name] = (gate, size)
            return window_attention(module, x, gate)

        return forward

    try:
        for name in layers:
            module = modules[name]
            module.forward = (window_gated if is_window_attention(module) else gated)(name, module)
        with evaluation_mode(model):
            for x, y in calibration_batches(inputs, labels, batch_size, device, should_stop):
                gates.clear()
                loss = check_finite_loss(loss_fn(model(x), y)) * x.shape[0]
                called = [name for name in layers if name in gates]
                grads = torch.autograd.grad(loss, [gates[name][0] for name in called], allow_unused=True)
                for name, grad in zip(called, grads, strict=True):
                    size = gates[name][1]
                    value = torch.zeros_like(gates[name][0]) if grad is None else grad
                    chunks[name].append((value.double() / size).detach().cpu())
                for name in layers:
                    if name not in gates:  # not called on this input: it cannot change the loss
                        heads = head_filters(modules[name]).shape[0]
                        chunks[name].append(torch.zeros(x.shape[0], heads, dtype=torch.float64))
    finally:
        for name in layers:
            modules[name].__dict__.pop("forward", None)
    return {name: torch.cat(c) for name, c in chunks.items()}


__all__ = ["collect_head_gradients"]
