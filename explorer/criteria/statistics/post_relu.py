"""Per-sample statistics of each channel's activation after the ReLU (what ``apoz`` and ``mean_activation``
score)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from explorer.criteria.statistics.calibration import calibration_batches, calibration_tensors, device_of
from explorer.graph import GroupGraph
from explorer.layers import channel_dim


@dataclass
class ActivationStatistics:
    """What ``collect_post_relu_statistics`` gathered.

    Attributes:
        means: layer name → ``[C_layer]`` float64, the formula's per-sample value averaged over every
            calibration sample.
        direct_successors: layer name → the hooked layers whose input *is* that layer's output tensor (conv →
            its BN); a layer with none is where the channel's mask acts last.
    """

    means: dict[str, torch.Tensor]
    direct_successors: dict[str, set[str]] = field(default_factory=dict)


def _as_channels(t: torch.Tensor, dim: int) -> torch.Tensor:
    """``[B, ..., C (at dim), ...] → [B, C, M]`` with M every other position."""
    if t.dim() == 1:
        return t.reshape(-1, 1, 1)
    moved = t.movedim(dim % t.dim(), 1)
    return moved.reshape(moved.shape[0], moved.shape[1], -1)


@torch.no_grad()
def collect_post_relu_statistics(
    model: nn.Module,
    graph: GroupGraph,
    group_names: Sequence[str],
    calib: Any,
    per_sample: Callable[[torch.Tensor], torch.Tensor],
    batch_size: int = 128,
    should_stop: Callable[[], bool] | None = None,
    *,
    criterion: str = "this criterion",
) -> ActivationStatistics:
    """For every "out" member layer of the groups, mean over calibration samples of ``per_sample(ReLU(out))``.

    The activation is max(0, output) of the layer, computed in the forward hook, before anything downstream
    (an in-place ReLU) can modify it. For the layer where a channel's mask acts last (the BN after a conv),
    this *is* the ReLU output the next layer reads in conv → BN → ReLU networks (``nn.ReLU`` or
    ``F.relu``); with another activation it is the positive part of its input.

    Args:
        model: the network, run in eval mode (its modes are restored on exit); nothing else is touched.
        graph: its groups.
        group_names: the groups whose "out" member layers are hooked.
        calib: calibration split with ``.inputs [N, ...]`` (labels are not used).
        per_sample: ``[B, C, M] → [B, C]``, the criterion's per-sample value of each channel.
        batch_size: samples per forward pass.
        should_stop: polled between batches.
        criterion: the criterion's name, for error messages.
    """
    inputs, labels = calibration_tensors(calib, criterion)
    modules = dict(model.named_modules())
    layers = list(
        dict.fromkeys(m.module for name in group_names for m in graph[name].members if m.side == "out")
    )
    sums: dict[str, torch.Tensor] = {}
    successors: dict[str, set[str]] = {name: set() for name in layers}
    produced: dict[int, tuple[str, torch.Tensor]] = {}

    def forward_hook(name: str, dim: int):
        def hook(_module, _inputs, output):
            if not isinstance(output, torch.Tensor):
                return
            produced[id(output)] = (name, output)
            values = per_sample(_as_channels(output.detach().float().clamp_min(0), dim)).double().sum(0)
            sums[name] = sums.get(name, 0) + values.cpu()

        return hook

    def pre_hook(name: str):
        def hook(_module, args):
            source = produced.get(id(args[0])) if args and isinstance(args[0], torch.Tensor) else None
            if source is not None and source[1] is args[0]:
                successors[source[0]].add(name)

        return hook

    handles = []
    modes = [(m, m.training) for m in model.modules()]
    count = 0
    try:
        for name in layers:
            handles.append(modules[name].register_forward_pre_hook(pre_hook(name)))
            handles.append(
                modules[name].register_forward_hook(forward_hook(name, channel_dim(modules[name])))
            )
        model.eval()
        for x, _ in calibration_batches(inputs, labels, batch_size, device_of(model), should_stop):
            produced.clear()
            model(x)
            count += x.shape[0]
        produced.clear()
    finally:
        for handle in handles:
            handle.remove()
        for m, mode in modes:
            m.training = mode
    means = {name: sums[name] / count for name in layers if name in sums}
    return ActivationStatistics(means, successors)
