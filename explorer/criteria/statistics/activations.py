"""Activations × gradients at the output of the hooked layers, per sample (what ``taylor`` scores)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
from explorer.graph import GroupGraph
from explorer.layers import channel_dim, out_channels


@dataclass
class ActivationGradients:
    """What ``collect_activation_gradients`` gathered.

    Attributes:
        products: layer name → ``[N, C_layer]`` float64, for every calibration sample n and output channel c
            the signed spatial mean of a·∂ℓ_n/∂a at that layer's output (for a linear layer, the mean over
            every dimension other than the batch and the features).
        direct_successors: layer name → the hooked layers whose input *is* that layer's output tensor (for
            example ``conv1 → {bn1}``); a layer with none is a point where a channel mask acts last.
    """

    products: dict[str, torch.Tensor]
    direct_successors: dict[str, set[str]] = field(default_factory=dict)


def _per_channel_mean(t: torch.Tensor, dim: int) -> torch.Tensor:
    """``[B, ..., C, ...] → [B, C]``: the mean over every dimension except the batch and the channel."""
    if t.dim() == 1:
        return t.unsqueeze(1)
    moved = t.movedim(dim % t.dim(), 1)
    return moved.reshape(moved.shape[0], moved.shape[1], -1).mean(dim=2)


def _out_layers(graph: GroupGraph, group_names: Sequence[str]) -> list[str]:
    layers: list[str] = []
    for name in group_names:
        layers.extend(m.module for m in graph[name].members if m.side == "out")
    return list(dict.fromkeys(layers))


def collect_activation_gradients(
    model: nn.Module,
    graph: GroupGraph,
    group_names: Sequence[str],
    calib: Any,
    loss_fn: LossFn = F.cross_entropy,
    batch_size: int = 128,
    should_stop: Callable[[], bool] | None = None,
    *,
    criterion: str = "taylor",
) -> ActivationGradients:
    """Per sample, the spatial mean of activation × gradient at the output of every "out" member layer.

    The loss differentiated for a batch is Σ_n ℓ_n (the mean times the batch size): in eval mode samples do
    not interact, so ∂(Σ_n ℓ_n)/∂a_n = ∂ℓ_n/∂a_n is exactly sample n's own gradient, and the result does not
    depend on ``batch_size``.

    The activation is taken as the layer's output *before* anything downstream can modify it in place
    (a ``ReLU(inplace=True)`` after a BatchNorm, say): the value is copied in the forward hook and the
    gradient is read by a tensor hook registered at the same moment, which PyTorch defines as the gradient
    with respect to that pre-modification value.

    Args:
        model: the network (restored on exit).
        graph: its groups.
        group_names: the groups whose "out" member layers are hooked.
        calib: calibration split with ``.inputs [N, ...]`` and ``.labels [N]``.
        loss_fn: ``(logits, labels) → mean loss``.
        batch_size: samples per forward/backward pass.
        should_stop: polled between batches.
        criterion: the criterion's name, for error messages.

    Returns:
        The products per layer and which hooked layers feed which directly.
    """
    inputs, labels = calibration_tensors(calib, criterion)
    modules = dict(model.named_modules())
    layers = _out_layers(graph, group_names)
    device = device_of(model)
    chunks: dict[str, list[torch.Tensor]] = {name: [] for name in layers}
    successors: dict[str, set[str]] = {name: set() for name in layers}
    current: dict[str, torch.Tensor] = {}  # layer → this batch's [B, C] sum over calls of the products
    produced: dict[int, tuple[str, torch.Tensor]] = {}  # id(output) → (layer, output), kept alive per batch

    def forward_hook(name: str, dim: int):
        def hook(_module, _inputs, output):
            if not isinstance(output, torch.Tensor) or not output.requires_grad:
                return
            produced[id(output)] = (name, output)
            value = output.detach().clone()
            current.setdefault(
                name, torch.zeros(value.shape[0], value.shape[dim], dtype=torch.float64, device=value.device)
            )

            def grad_hook(grad: torch.Tensor) -> None:
                current[name] += _per_channel_mean((value * grad).double(), dim)

            output.register_hook(grad_hook)

        return hook

    def pre_hook(name: str):
        def hook(_module, args):
            if args and isinstance(args[0], torch.Tensor):
                source = produced.get(id(args[0]))
                if source is not None and source[1] is args[0]:
                    successors[source[0]].add(name)

        return hook

    handles = []
    try:
        for name in layers:
            module = modules[name]
            handles.append(module.register_forward_pre_hook(pre_hook(name)))
            handles.append(module.register_forward_hook(forward_hook(name, channel_dim(module))))
        with evaluation_mode(model):
            for x, y in calibration_batches(inputs, labels, batch_size, device, should_stop):
                current.clear()
                produced.clear()
                # A differentiable input makes every activation part of the graph, even if all the
                # parameters are frozen; the gradient with respect to it is simply discarded.
                x = x.detach().requires_grad_(True)
                loss = check_finite_loss(loss_fn(model(x), y)) * x.shape[0]
                torch.autograd.grad(loss, x)
                for name in layers:
                    got = current.get(name)
                    if got is None:  # the layer was not called on this input
                        channels = out_channels(modules[name])
                        got = torch.zeros(x.shape[0], channels, dtype=torch.float64, device=x.device)
                    chunks[name].append(got.cpu())
                produced.clear()
    finally:
        for handle in handles:
            handle.remove()
    return ActivationGradients({n: torch.cat(c) for n, c in chunks.items()}, successors)
