"""Attention heads as prunable units: one group per self-attention layer, whose unit is the head.

Head ``h`` of an ``nn.MultiheadAttention`` with ``H`` heads of ``d`` dimensions owns rows ``h·d … h·d + d``
of each of the query, key and value blocks of ``in_proj_weight`` (and ``in_proj_bias``), and the same columns
of ``out_proj.weight``. Removing it removes those rows and columns; the model's width (``embed_dim``, the
input and output size) does not change, only the inner size ``H·d`` does, which ``nn.MultiheadAttention``
cannot express. So:

* the masked model computes the attention itself with a gate of 0 on the removed heads (``head_attention``),
  which is what removing them computes: each head's output only reaches ``out_proj`` through its columns;
* the exported model replaces the layer by ``HeadAttention``, the same computation with fewer heads and the
  same parameter names, so a saved pruned state dict loads into it;
* cost counting runs the layer through ``head_attention`` too, so that the attention matmuls (which
  PyTorch's fused CPU kernels hide from ``FlopCounterMode``) are counted, per head, both ways.

Only self-attention (query, key and value the same tensor) with packed projections and without
``bias_k``/``bias_v``/``add_zero_attn`` is offered; other uses are left to the channel groups.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from explorer.window_attention import is_window_attention, window_attention

__all__ = [
    "HeadAttention",
    "attention_layers",
    "head_attention",
    "head_filters",
    "is_attention",
    "masked_heads_hook",
    "running_heads",
]


def head_attention(
    x: torch.Tensor,
    in_proj_weight: torch.Tensor,
    in_proj_bias: torch.Tensor | None,
    out_proj: nn.Linear,
    num_heads: int,
    *,
    batch_first: bool,
    attn_mask: torch.Tensor | None = None,
    key_padding_mask: torch.Tensor | None = None,
    dropout: float = 0.0,
    training: bool = False,
    need_weights: bool = False,
    average_attn_weights: bool = True,
    head_gate: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Multi-head self-attention of ``x`` with explicit matmuls, and an optional gate per head.

    Args:
        x: ``[N, L, E]`` (``batch_first``) or ``[L, N, E]``.
        in_proj_weight: ``[3·H·d, E]``, the query, key and value projections stacked.
        in_proj_bias: ``[3·H·d]`` or ``None``.
        out_proj: ``Linear(H·d, E)``.
        num_heads: ``H``.
        head_gate: ``[H]`` or ``[N, H]`` multiplying each head's output (0 removes a head).

    Returns:
        ``(output like x, attention weights [N, L, L] averaged over heads, or [N, H, L, L], or None)``.
    """
    if not batch_first:
        x = x.transpose(0, 1)
    n, length, _ = x.shape
    inner = in_proj_weight.shape[0] // 3
    head_dim = inner // num_heads
    q, k, v = F.linear(x, in_proj_weight, in_proj_bias).split(inner, dim=-1)
    q, k, v = (t.reshape(n, length, num_heads, head_dim).transpose(1, 2) for t in (q, k, v))
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(head_dim)
    if attn_mask is not None:
        mask = attn_mask if attn_mask.dim() == 2 else attn_mask.view(n, num_heads, length, length)
        scores = scores.masked_fill(mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    if key_padding_mask is not None:
        pad = key_padding_mask.view(n, 1, 1, length)
        scores = scores.masked_fill(pad, float("-inf")) if pad.dtype == torch.bool else scores + pad
    weights = torch.softmax(scores, dim=-1)
    probs = F.dropout(weights, p=dropout, training=training) if dropout > 0 else weights
    heads = torch.matmul(probs, v)  # [N, H, L, d]
    if head_gate is not None:
        heads = heads * head_gate.reshape(-1, num_heads, 1, 1).to(heads.dtype)
    out = out_proj(heads.transpose(1, 2).reshape(n, length, inner))
    if not batch_first:
        out = out.transpose(0, 1)
    if not need_weights:
        return out, None
    return out, weights.mean(dim=1) if average_attn_weights else weights


def _call_arguments(args: tuple, kwargs: dict) -> tuple[torch.Tensor, dict]:
    """The query and the options of an ``nn.MultiheadAttention`` call, whatever way they were passed."""
    names = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask", "average_attn_weights")
    bound = dict(zip(names, args, strict=False)) | kwargs
    options = {
        "key_padding_mask": bound.get("key_padding_mask"),
        "need_weights": bound.get("need_weights", True),
        "attn_mask": bound.get("attn_mask"),
        "average_attn_weights": bound.get("average_attn_weights", True),
    }
    return bound["query"], options


def masked_heads_hook(removed: Sequence[int]):
    """A forward hook (``with_kwargs=True``) that recomputes an ``nn.MultiheadAttention`` without the
    ``removed`` heads; the layer's weights are read, never written."""
    removed = sorted(removed)

    def hook(module: nn.MultiheadAttention, args, kwargs, _output):
        x, options = _call_arguments(args, kwargs)
        gate = torch.ones(module.num_heads, dtype=x.dtype, device=x.device)
        gate[removed] = 0
        return head_attention(
            x,
            module.in_proj_weight,
            module.in_proj_bias,
            module.out_proj,
            module.num_heads,
            batch_first=module.batch_first,
            dropout=module.dropout,
            training=module.training,
            head_gate=gate,
            **options,
        )

    return hook


class HeadAttention(nn.Module):
    """Self-attention with ``num_heads`` heads of ``head_dim`` dimensions between ``embed_dim``-wide inputs
    and outputs: an ``nn.MultiheadAttention`` after some of its heads were removed.

    It is called like ``nn.MultiheadAttention`` (for self-attention) and keeps its parameter names
    (``in_proj_weight``, ``in_proj_bias``, ``out_proj``).
    """

    def __init__(
        self, embed_dim: int, num_heads: int, head_dim: int, *, bias: bool = True, batch_first=False
    ):
        super().__init__()
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.batch_first = batch_first
        self.dropout = 0.0
        inner = num_heads * head_dim
        self.in_proj_weight = nn.Parameter(torch.empty(3 * inner, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * inner)) if bias else None
        self.out_proj = nn.Linear(inner, embed_dim, bias=bias)

    @classmethod
    def from_attention(cls, mha: nn.MultiheadAttention) -> HeadAttention:
        """The same layer, with the same parameters (shared, not copied)."""
        layer = cls(
            mha.embed_dim,
            mha.num_heads,
            mha.head_dim,
            bias=mha.in_proj_bias is not None,
            batch_first=mha.batch_first,
        )
        layer.in_proj_weight = mha.in_proj_weight
        layer.in_proj_bias = mha.in_proj_bias
        layer.out_proj = mha.out_proj
        layer.dropout = mha.dropout
        layer.train(mha.training)
        return layer

    def remove_rows(self, rows: Sequence[int]) -> None:
        """Remove projection rows (``3·head_dim`` per removed head, as the group lists them)."""
        inner = self.num_heads * self.head_dim
        heads = sorted({(r % inner) // self.head_dim for r in rows})
        keep_heads = [h for h in range(self.num_heads) if h not in heads]
        keep = [
            block * inner + h * self.head_dim + i
            for block in range(3)
            for h in keep_heads
            for i in range(self.head_dim)
        ]
        index = torch.tensor(keep, dtype=torch.long, device=self.in_proj_weight.device)
        grad = self.in_proj_weight.requires_grad
        self.in_proj_weight = nn.Parameter(self.in_proj_weight.detach().index_select(0, index).clone(), grad)
        if self.in_proj_bias is not None:
            bias = self.in_proj_bias.detach().index_select(0, index).clone()
            self.in_proj_bias = nn.Parameter(bias, self.in_proj_bias.requires_grad)
        self.num_heads = len(keep_heads)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        key_padding_mask: torch.Tensor | None = None,
        need_weights: bool = True,
        attn_mask: torch.Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        return head_attention(
            query,
            self.in_proj_weight,
            self.in_proj_bias,
            self.out_proj,
            self.num_heads,
            batch_first=self.batch_first,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            dropout=self.dropout,
            training=self.training,
            need_weights=need_weights,
            average_attn_weights=average_attn_weights,
        )

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, head_dim={self.head_dim}"


def head_filters(layer: nn.Module) -> torch.Tensor:
    """``[H, 4·d·E]``: each head's query, key and value rows and its output-projection columns, flattened.

    What the weight criteria rank a head by (its ℓ1 norm is the sum of |w| over every weight it owns). For
    an ``nn.MultiheadAttention`` and for Swin's window attention (``qkv`` and ``proj``).
    """
    if is_window_attention(layer):
        weight, out_weight = layer.qkv.weight.detach(), layer.proj.weight.detach()
        heads = layer.relative_position_bias_table.shape[1]
    else:
        weight, out_weight = layer.in_proj_weight.detach(), layer.out_proj.weight.detach()
        heads = layer.num_heads
    head_dim = weight.shape[0] // 3 // heads
    rows = weight.view(3, heads, head_dim, -1).permute(1, 0, 2, 3).reshape(heads, -1)
    cols = out_weight.reshape(out_weight.shape[0], heads, head_dim).permute(1, 2, 0)
    return torch.cat([rows, cols.reshape(heads, -1)], dim=1)


def is_attention(module: nn.Module) -> bool:
    """Whether the explorer can prune ``module``'s heads (an ``nn.MultiheadAttention`` or Swin V1's)."""
    return isinstance(module, nn.MultiheadAttention) or is_window_attention(module)


def attention_layers(model: nn.Module, example_input: torch.Tensor) -> dict[str, str | None]:
    """Every ``nn.MultiheadAttention`` and Swin window attention of ``model`` → ``None`` if its heads can
    be pruned, else why not."""
    layers = {n: m for n, m in model.named_modules() if is_attention(m)}
    if not layers:
        return {}
    calls: dict[str, bool] = {}

    def record(name):
        def hook(_module, args, kwargs):
            if is_window_attention(_module):  # always self-attention within each window
                calls[name] = True
                return
            names = ("query", "key", "value")
            bound = dict(zip(names, args, strict=False)) | {k: v for k, v in kwargs.items() if k in names}
            calls[name] = calls.get(name, True) and bound.get("key") is bound["query"] is bound.get("value")

        return hook

    handles = [m.register_forward_pre_hook(record(n), with_kwargs=True) for n, m in layers.items()]
    try:
        with torch.no_grad():
            model(example_input)
    finally:
        for handle in handles:
            handle.remove()
    verdicts: dict[str, str | None] = {}
    for name, layer in layers.items():
        if name not in calls:
            verdicts[name] = "the forward pass never calls it"
        elif not calls[name]:
            verdicts[name] = "it is not self-attention (its query, key and value differ)"
        elif is_window_attention(layer):
            verdicts[name] = None
        elif not layer._qkv_same_embed_dim or layer.bias_k is not None or layer.add_zero_attn:
            verdicts[name] = "separate key/value sizes, bias_k/bias_v or add_zero_attn are not supported"
        else:
            verdicts[name] = None
    return verdicts


@contextmanager
def running_heads(model: nn.Module) -> Iterator[list[str]]:
    """Run every ``nn.MultiheadAttention`` of ``model`` through ``head_attention`` (all heads) instead of
    its own forward for the ``with`` block, so that cost counting sees the same matmuls as in an exported
    ``HeadAttention``; yields their names. The layers are left as they were afterwards."""
    swapped = []
    for name, module in model.named_modules():
        if isinstance(module, nn.MultiheadAttention):
            compute = masked_heads_hook(())
            module.forward = lambda *args, _m=module, _c=compute, **kwargs: _c(_m, args, kwargs, None)
            swapped.append((name, module))
        elif is_window_attention(module):
            module.forward = lambda x, _m=module: window_attention(_m, x)
            swapped.append((name, module))
    try:
        yield [name for name, _ in swapped]
    finally:
        for _, module in swapped:
            del module.forward
