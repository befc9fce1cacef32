"""Channel masks: a pruning plan applied through forward hooks, never by writing to the weights.

A removed channel is emulated by zeroing it twice: at the output of every layer whose output channels the
group removes (conv, BN, depthwise conv...) and at the input of every layer whose input channels it removes
(the consumers). Zeroing a consumer's input channel is exactly what removing that input channel does to the
consumer's result, whatever happens between producer and consumer (a bias, a sigmoid gate), so the masked
model computes what the exported model computes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from explorer.graph.groups import LayerCuts, compute_layer_cuts
from explorer.layers import channel_dim

__all__ = ["LayerCuts", "apply_masks", "compute_layer_cuts"]


class _ChannelZeroer:
    """Multiplies a tensor by a 0/1 vector along ``dim``, built once per shape, dtype and device."""

    def __init__(self, removed: set[int], dim: int):
        self.removed = sorted(removed)
        self.dim = dim
        self._keep: dict[tuple, torch.Tensor] = {}

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        dim = self.dim % x.dim()
        key = (x.shape[dim], x.dim(), x.dtype, x.device)
        keep = self._keep.get(key)
        if keep is None:
            keep = torch.ones(x.shape[dim], dtype=x.dtype, device=x.device)
            keep[self.removed] = 0
            shape = [1] * x.dim()
            shape[dim] = x.shape[dim]
            keep = self._keep[key] = keep.view(shape)
        return x * keep


def _output_hook(removed: set[int], dim: int):
    zero = _ChannelZeroer(removed, dim)

    def hook(_module, _inputs, output):
        return zero(output) if isinstance(output, torch.Tensor) else output

    return hook


def _input_hook(removed: set[int], dim: int):
    zero = _ChannelZeroer(removed, dim)

    def hook(_module, inputs):
        if not inputs or not isinstance(inputs[0], torch.Tensor):
            return None
        return (zero(inputs[0]), *inputs[1:])

    return hook


@contextmanager
def apply_masks(model: nn.Module, cuts: LayerCuts) -> Iterator[nn.Module]:
    """Install the masks of ``cuts`` on ``model`` for the duration of the ``with`` block.

    The hooks are removed on exit, even after an error; the weights are never touched.
    """
    modules = dict(model.named_modules())
    handles = []
    try:
        for name, removed in cuts.out.items():
            module = modules[name]
            handles.append(module.register_forward_hook(_output_hook(removed, channel_dim(module))))
        for name, removed in cuts.inp.items():
            module = modules[name]
            handles.append(module.register_forward_pre_hook(_input_hook(removed, channel_dim(module))))
        yield model
    finally:
        for handle in handles:
            handle.remove()
