"""Swin's shifted-window attention with prunable heads (torchvision ``ShiftedWindowAttention``, Swin V1).

torchvision computes it with a function that takes the weights as arguments and derives the head size
from the input width (``C // num_heads``), so it can neither be masked from outside nor run with fewer
heads than the width implies. ``window_attention`` is the same computation (padding, cyclic shift, window
partition, relative position bias, shifted-window mask) with an explicit head size and an optional gate per
head. Head ``h`` owns rows ``h·d … h·d + d`` of each of the query, key and value blocks of ``qkv``, the same
columns of ``proj`` and column ``h`` of ``relative_position_bias_table``; the group lists them all, and:

* masking recomputes the layer with a gate of 0 on the removed heads;
* export turns the layer into ``HeadWindowAttention`` (same attributes and parameter names), whose forward
  reads the number of heads from its bias table, after the rows, columns and table columns are cut;
* cost counting runs it through ``window_attention``, so its matmuls are counted per head.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.swin_transformer import ShiftedWindowAttention

__all__ = ["HeadWindowAttention", "is_window_attention", "masked_window_heads_hook", "window_attention"]


def is_window_attention(module: nn.Module) -> bool:
    """Whether ``module`` is torchvision's Swin V1 window attention (V2's cosine attention is not handled)."""
    return type(module) in (ShiftedWindowAttention, HeadWindowAttention)


def _shift_mask(pad_h: int, pad_w: int, window: Sequence[int], shift: Sequence[int], like: torch.Tensor):
    mask = like.new_zeros((pad_h, pad_w))
    h_slices = ((0, -window[0]), (-window[0], -shift[0]), (-shift[0], None))
    w_slices = ((0, -window[1]), (-window[1], -shift[1]), (-shift[1], None))
    count = 0
    for h in h_slices:
        for w in w_slices:
            mask[h[0] : h[1], w[0] : w[1]] = count
            count += 1
    windows = (pad_h // window[0]) * (pad_w // window[1])
    mask = mask.view(pad_h // window[0], window[0], pad_w // window[1], window[1])
    mask = mask.permute(0, 2, 1, 3).reshape(windows, window[0] * window[1])
    mask = mask.unsqueeze(1) - mask.unsqueeze(2)
    return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


def window_attention(
    layer: nn.Module, x: torch.Tensor, head_gate: torch.Tensor | None = None
) -> torch.Tensor:
    """``layer``'s shifted-window attention of ``x`` (``[B, H, W, C]``), optionally gating each head.

    Args:
        layer: a ``ShiftedWindowAttention`` (all its heads) or a ``HeadWindowAttention``.
        x: the input, channels last.
        head_gate: ``[heads]`` or ``[B, heads]``, multiplying each head's output (0 removes a head).
    """
    window, shift = list(layer.window_size), list(layer.shift_size)
    heads = layer.relative_position_bias_table.shape[1]
    inner = layer.qkv.out_features // 3
    head_dim = inner // heads
    batch, height, width, channels = x.shape
    pad_r = (window[1] - width % window[1]) % window[1]
    pad_b = (window[0] - height % window[0]) % window[0]
    x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
    _, pad_h, pad_w, _ = x.shape
    if window[0] >= pad_h:
        shift[0] = 0
    if window[1] >= pad_w:
        shift[1] = 0
    if sum(shift) > 0:
        x = torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
    windows = (pad_h // window[0]) * (pad_w // window[1])
    x = x.view(batch, pad_h // window[0], window[0], pad_w // window[1], window[1], channels)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(batch * windows, window[0] * window[1], channels)
    tokens = x.size(1)
    qkv = layer.qkv(x).reshape(x.size(0), tokens, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0] * head_dim**-0.5, qkv[1], qkv[2]
    attn = q.matmul(k.transpose(-2, -1))
    table = layer.relative_position_bias_table[layer.relative_position_index]
    attn = attn + table.view(tokens, tokens, heads).permute(2, 0, 1).unsqueeze(0)
    if sum(shift) > 0:
        mask = _shift_mask(pad_h, pad_w, window, shift, x)
        attn = attn.view(batch, windows, heads, tokens, tokens) + mask.unsqueeze(1).unsqueeze(0)
        attn = attn.view(-1, heads, tokens, tokens)
    attn = F.dropout(F.softmax(attn, dim=-1), p=layer.attention_dropout, training=layer.training)
    out = attn.matmul(v)  # [B·windows, heads, tokens, head_dim]
    if head_gate is not None:
        gate = head_gate.reshape(-1, heads).to(out.dtype)
        gate = gate.repeat_interleave(windows, dim=0) if gate.shape[0] == batch and windows > 1 else gate
        out = out * gate.view(-1, heads, 1, 1)
    out = layer.proj(out.transpose(1, 2).reshape(x.size(0), tokens, inner))
    out = F.dropout(out, p=layer.dropout, training=layer.training)
    out = out.view(batch, pad_h // window[0], pad_w // window[1], window[0], window[1], -1)
    out = out.permute(0, 1, 3, 2, 4, 5).reshape(batch, pad_h, pad_w, -1)
    if sum(shift) > 0:
        out = torch.roll(out, shifts=(shift[0], shift[1]), dims=(1, 2))
    return out[:, :height, :width, :].contiguous()


def masked_window_heads_hook(removed: Sequence[int]):
    """A forward hook recomputing a window attention layer without the ``removed`` heads."""
    removed = sorted(removed)

    def hook(module: nn.Module, inputs, _output):
        x = inputs[0]
        gate = torch.ones(module.relative_position_bias_table.shape[1], dtype=x.dtype, device=x.device)
        gate[removed] = 0
        return window_attention(module, x, gate)

    return hook


class HeadWindowAttention(ShiftedWindowAttention):
    """A ``ShiftedWindowAttention`` that may hold fewer heads than its width: the exported form of a layer
    whose heads were pruned. Its heads are the columns of its relative position bias table."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return window_attention(self, x)

    def extra_repr(self) -> str:
        heads = self.relative_position_bias_table.shape[1]
        return f"heads={heads}, head_dim={self.qkv.out_features // 3 // heads}, window={self.window_size}"
