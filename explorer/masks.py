"""Channel masks: a pruning plan applied through forward hooks, never by writing to the weights.

A removed channel is emulated by zeroing it twice: at the output of every layer whose output channels the
group removes (conv, BN, depthwise conv...) and at the input of every layer whose input channels it removes
(the consumers). Zeroing a consumer's input channel is exactly what removing that input channel does to the
consumer's result, whatever happens between producer and consumer (a bias, a sigmoid gate), so the masked
model computes what the exported model computes. Two layers need more than zeros: a LayerNorm is recomputed
over its kept channels, and an attention layer with removed heads is recomputed with a gate of 0 on them
(``explorer.attention``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from explorer.attention import masked_heads_hook
from explorer.graph.groups import LayerCuts, compute_layer_cuts
from explorer.layers import channel_dim
from explorer.window_attention import is_window_attention, masked_window_heads_hook

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


def _layer_norm_hook(module: nn.LayerNorm, removed: set[int], dim: int):
    """Replace a LayerNorm's output by the norm over its kept channels only, zero on the removed ones.

    Removing channels from a LayerNorm changes the mean and variance it normalises by; zeroing them does not
    (the zeros still count), so masking alone would not compute what the exported model computes. Computed in
    float32, as autocast runs LayerNorm.
    """
    removed_idxs = sorted(removed)

    def hook(_module, inputs, output):
        if not inputs or not isinstance(inputs[0], torch.Tensor) or not isinstance(output, torch.Tensor):
            return output
        x = inputs[0].float()
        axis = dim % x.dim()
        shape = [1] * x.dim()
        shape[axis] = x.shape[axis]
        keep = torch.ones(x.shape[axis], dtype=x.dtype, device=x.device)
        keep[removed_idxs] = 0
        keep = keep.view(shape)
        kept = x.shape[axis] - len(removed_idxs)
        mean = (x * keep).sum(axis, keepdim=True) / kept
        centred = (x - mean) * keep
        var = (centred * centred).sum(axis, keepdim=True) / kept
        y = centred * torch.rsqrt(var + module.eps)
        if module.weight is not None:
            y = y * module.weight.float().view(shape)
        if module.bias is not None:
            y = y + module.bias.float().view(shape)
        return (y * keep).to(output.dtype)

    return hook


@contextmanager
def apply_masks(model: nn.Module, cuts: LayerCuts) -> Iterator[nn.Module]:
    """Install the masks of ``cuts`` on ``model`` for the duration of the ``with`` block.

    The hooks are removed on exit, even after an error; the weights are never touched.
    """
    modules = dict(model.named_modules())
    # attention layers use their projections functionally: a head hook on the layer itself masks them all
    inside_attention = {f"{n}.out_proj" for n, m in modules.items() if isinstance(m, nn.MultiheadAttention)}
    windows = {f"{n}.qkv": n for n, m in modules.items() if is_window_attention(m)}
    inside_attention |= set(windows) | {f"{n}.proj" for n in windows.values()}
    handles = []
    try:
        for name, removed in cuts.out.items():
            module = modules[name]
            if isinstance(module, nn.MultiheadAttention):
                heads = {(r % module.embed_dim) // module.head_dim for r in removed}
                handles.append(module.register_forward_hook(masked_heads_hook(heads), with_kwargs=True))
                continue
            if name in windows:
                layer = modules[windows[name]]
                head_dim = layer.qkv.out_features // 3 // layer.relative_position_bias_table.shape[1]
                heads = {(r % (layer.qkv.out_features // 3)) // head_dim for r in removed}
                handles.append(layer.register_forward_hook(masked_window_heads_hook(heads)))
                continue
            if isinstance(module, nn.LayerNorm):
                hook = _layer_norm_hook(module, removed | cuts.inp.get(name, set()), channel_dim(module))
            else:
                hook = _output_hook(removed, channel_dim(module))
            handles.append(module.register_forward_hook(hook))
        for name, removed in cuts.inp.items():
            if name in inside_attention:
                continue
            module = modules[name]
            handles.append(module.register_forward_pre_hook(_input_hook(removed, channel_dim(module))))
        yield model
    finally:
        for handle in handles:
            handle.remove()
