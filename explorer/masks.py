"""Channel masks: a pruning plan applied through forward hooks, never by writing to the weights.

A removed channel is emulated by zeroing it twice: at the output of every layer whose output channels the
group removes (conv, BN, depthwise conv...) and at the input of every layer whose input channels it removes
(the consumers). Zeroing a consumer's input channel is exactly what removing that input channel does to the
consumer's result, whatever happens between producer and consumer (a bias, a sigmoid gate), so the masked
model computes what the exported model computes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn

from explorer.graph import GroupGraph


@dataclass
class LayerCuts:
    """Per layer, the output and input channel indices that a plan removes."""

    out: dict[str, set[int]] = field(default_factory=dict)
    inp: dict[str, set[int]] = field(default_factory=dict)

    def add(self, module: str, side: str, idxs: Sequence[int]) -> None:
        if not idxs:
            return
        target = self.out if side == "out" else self.inp
        target.setdefault(module, set()).update(idxs)

    def modules(self) -> set[str]:
        return set(self.out) | set(self.inp)


def compute_layer_cuts(graph: GroupGraph, pruned: Mapping[str, Sequence[int]]) -> LayerCuts:
    """Translate ``group name → removed root channels`` into removed channels per layer."""
    cuts = LayerCuts()
    for name, idxs in pruned.items():
        if len(idxs) == 0:
            continue
        for module, side, layer_idxs in graph[name].layer_cuts(idxs):
            cuts.add(module, side, layer_idxs)
    return cuts


def _channel_dim(module: nn.Module) -> int:
    # Linear and LayerNorm act on the last dimension; convs and norms on dimension 1.
    return -1 if isinstance(module, (nn.Linear, nn.LayerNorm)) else 1


def _keep_vector(size: int, removed: set[int], like: torch.Tensor, dim: int, ndim: int) -> torch.Tensor:
    keep = torch.ones(size, dtype=like.dtype, device=like.device)
    keep[sorted(removed)] = 0
    shape = [1] * ndim
    shape[dim] = size
    return keep.view(shape)


def _output_hook(removed: set[int], dim: int):
    cache: dict[tuple, torch.Tensor] = {}

    def hook(_module, _inputs, output):
        if not isinstance(output, torch.Tensor):
            return output
        key = (output.shape[dim], output.dim(), output.dtype, output.device)
        if key not in cache:
            cache[key] = _keep_vector(output.shape[dim], removed, output, dim % output.dim(), output.dim())
        return output * cache[key]

    return hook


def _input_hook(removed: set[int], dim: int):
    cache: dict[tuple, torch.Tensor] = {}

    def hook(_module, inputs):
        if not inputs or not isinstance(inputs[0], torch.Tensor):
            return None
        x = inputs[0]
        key = (x.shape[dim], x.dim(), x.dtype, x.device)
        if key not in cache:
            cache[key] = _keep_vector(x.shape[dim], removed, x, dim % x.dim(), x.dim())
        return (x * cache[key], *inputs[1:])

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
            handles.append(module.register_forward_hook(_output_hook(removed, _channel_dim(module))))
        for name, removed in cuts.inp.items():
            module = modules[name]
            handles.append(module.register_forward_pre_hook(_input_hook(removed, _channel_dim(module))))
        yield model
    finally:
        for handle in handles:
            handle.remove()
