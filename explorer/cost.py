"""Analytic MACs and parameter counts of a network under a pruning plan.

Convention (Li et al. 2017, "Pruning Filters for Efficient ConvNets", https://arxiv.org/abs/1608.08710):
MACs are the multiply-accumulates of convolution and matrix-multiply ops for ONE input sample,

    conv:   MACs = H_out · W_out · k_h · k_w · (C_in / groups) · C_out
    linear: MACs = rows · C_in · C_out            (rows = 1 for a [N, C] input)

FLOPs, where shown, are 2 × MACs. The op shapes are recorded once, at the aten level, so functional convs
and linears count as well as modules; pruning changes only channel counts, never spatial sizes, so the
count for any plan follows exactly from the recorded shapes. ``torch.utils.flop_counter.FlopCounterMode``
run on the exported model gives the same figure (its FLOPs / 2); the tests check that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from explorer.attention import running_heads
from explorer.layers import CONVS, is_depthwise
from explorer.masks import LayerCuts
from explorer.window_attention import is_window_attention

_aten = torch.ops.aten
_CONV_OPS = {_aten.convolution, _aten._convolution}
_MM_OPS = {_aten.mm, _aten.addmm}


@dataclass(frozen=True)
class Cost:
    """MACs and parameters of one network (per input sample)."""

    macs: int
    params: int

    @property
    def flops(self) -> int:
        return 2 * self.macs


@dataclass(frozen=True)
class _OpRecord:
    module: str | None  # owner of the weight, None for weights that belong to no module
    kind: str  # "conv", "mm", "fixed", or "heads" (an attention matmul, one block per head)
    c_out: int
    c_in: int  # per group for convs
    groups: int
    spatial: int  # H_out·W_out·k_h·k_w for convs, rows per sample for matmuls
    fixed_macs: int = 0  # for ops whose cost pruning cannot change (attention...)


class _OpRecorder(TorchDispatchMode):
    def __init__(self, weight_owner: Mapping[int, str], batch: int):
        super().__init__()
        self.weight_owner = weight_owner
        self.batch = batch
        self.records: list[_OpRecord] = []
        # (attention layer, heads, projection rows per head) while one runs: its matmuls scale with heads
        self.attention: tuple[str, int, int] | None = None

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func.overloadpacket
        if packet in _CONV_OPS:
            x, w = args[0], args[1]
            groups = args[8] if len(args) > 8 else kwargs.get("groups", 1)
            transposed = args[6] if len(args) > 6 else False
            if transposed:
                c_out, c_in = w.shape[1] * groups, w.shape[0] // groups
            else:
                c_out, c_in = w.shape[0], w.shape[1]
            spatial = int(out[0, 0].numel() * w[0, 0].numel()) if out.dim() > 2 else int(w[0, 0].numel())
            if transposed:
                spatial = int(x[0, 0].numel() * w[0, 0].numel())
            self.records.append(
                _OpRecord(self.weight_owner.get(w.data_ptr()), "conv", c_out, c_in, groups, spatial)
            )
        elif packet in _MM_OPS:
            a, b = (args[1], args[2]) if packet is _aten.addmm else (args[0], args[1])
            owner = self.weight_owner.get(b.data_ptr()) or self.weight_owner.get(a.data_ptr())
            rows = a.shape[0] // self.batch if a.shape[0] % self.batch == 0 else a.shape[0]
            self.records.append(_OpRecord(owner, "mm", b.shape[1], a.shape[1], 1, rows))
        elif packet in flop_registry:
            flops = flop_registry[packet](*args, **kwargs, out_val=out)
            macs = int(flops) // 2 // self.batch
            if self.attention is not None:
                layer, heads, rows = self.attention
                self.records.append(_OpRecord(layer, "heads", heads, rows, 1, 0, fixed_macs=macs))
            else:
                self.records.append(_OpRecord(None, "fixed", 0, 0, 1, 0, fixed_macs=macs))
        return out


class CostModel:
    """Records a model's compute once, then counts MACs and params for any set of layer cuts.

    Args:
        model: the network (not modified).
        example_input: a batch the model accepts; its batch size is divided out.
    """

    def __init__(self, model: nn.Module, example_input: torch.Tensor):
        self.modules = dict(model.named_modules())
        owner: dict[int, str] = {}
        for name, module in self.modules.items():
            for param in module.parameters(recurse=False):
                owner.setdefault(param.data_ptr(), name)
        recorder = _OpRecorder(owner, batch=example_input.shape[0])
        handles = []
        for name, module in self.modules.items():
            if isinstance(module, nn.MultiheadAttention) or is_window_attention(module):
                # the key its head cuts are listed under, its heads, and its projection rows per head
                if isinstance(module, nn.MultiheadAttention):
                    shape = (name, module.num_heads, 3 * module.head_dim)
                else:
                    heads = module.relative_position_bias_table.shape[1]
                    shape = (f"{name}.qkv", heads, module.qkv.out_features // heads)
                handles.append(module.register_forward_pre_hook(partial(_enter, recorder, shape)))
                handles.append(module.register_forward_hook(partial(_leave, recorder)))
        try:
            # attention runs as an exported HeadAttention does, so that its matmuls are seen and counted
            with torch.no_grad(), running_heads(model), recorder:
                model(example_input)
        finally:
            for handle in handles:
                handle.remove()
        self.records = recorder.records
        self._param_sizes = {
            name: [(attr, p.shape, p.numel()) for attr, p in module.named_parameters(recurse=False)]
            for name, module in self.modules.items()
        }

    def count_macs(self, cuts: LayerCuts) -> int:
        """MACs per sample when the channels in ``cuts`` are removed."""
        return sum(_op_macs(rec, cuts) for rec in self.records)

    def count_macs_per_layer(self, cuts: LayerCuts) -> dict[str | None, int]:
        """Like ``count_macs``, split by the layer owning each op's weight (``None``: no module)."""
        per_layer: dict[str | None, int] = {}
        for rec in self.records:
            per_layer[rec.module] = per_layer.get(rec.module, 0) + _op_macs(rec, cuts)
        return per_layer

    def count_params(self, cuts: LayerCuts) -> int:
        """Parameters (weights and biases, not buffers) when the channels in ``cuts`` are removed."""
        total = 0
        for name, sizes in self._param_sizes.items():
            module = self.modules[name]
            removed_out = len(cuts.out.get(name, ()))
            removed_in = len(cuts.inp.get(name, ()))
            for attr, shape, numel in sizes:
                full = f"{name}.{attr}" if name else attr
                if full in cuts.params:
                    # a bare parameter (layer scale, class token...): cut along its channel dimension only
                    dim = cuts.param_dims[full]
                    total += numel // shape[dim] * (shape[dim] - len(cuts.params[full]))
                elif removed_out or removed_in:
                    total += _pruned_numel(module, shape, numel, removed_out, removed_in, cuts, name)
                else:
                    total += numel
        return total

    def count(self, cuts: LayerCuts) -> Cost:
        return Cost(self.count_macs(cuts), self.count_params(cuts))


def _enter(recorder: _OpRecorder, layer: tuple[str, int, int], *_args) -> None:
    recorder.attention = layer


def _leave(recorder: _OpRecorder, *_args) -> None:
    recorder.attention = None


def _op_macs(rec: _OpRecord, cuts: LayerCuts) -> int:
    if rec.kind == "fixed":
        return rec.fixed_macs
    if rec.kind == "heads":
        # an attention matmul: one block per head (c_out heads, c_in projection rows per head)
        kept = rec.c_out - len(cuts.out.get(rec.module, ())) // rec.c_in
        return rec.fixed_macs // rec.c_out * kept
    if rec.kind == "conv" and rec.groups > 1 and rec.c_in == 1 and rec.groups == rec.c_out:
        # depthwise: one input channel per output channel, so both sides shrink together
        kept = rec.c_out - len(cuts.out.get(rec.module, set()) | cuts.inp.get(rec.module, set()))
        return rec.spatial * kept
    c_out = rec.c_out
    c_in_total = rec.c_in * rec.groups
    if rec.module is not None:
        c_out -= len(cuts.out.get(rec.module, ()))
        c_in_total -= len(cuts.inp.get(rec.module, ()))
    return rec.spatial * c_out * (c_in_total // rec.groups)


def _pruned_numel(module, shape, numel, removed_out, removed_in, cuts, name) -> int:
    if isinstance(module, CONVS):
        groups = module.groups
        if is_depthwise(module):
            kept = module.out_channels - len(cuts.out.get(name, set()) | cuts.inp.get(name, set()))
            return numel // module.out_channels * kept
        c_out = module.out_channels - removed_out
        c_in = module.in_channels - removed_in
        if len(shape) == 1:
            return c_out
        return c_out * (c_in // groups) * (numel // (shape[0] * shape[1]))
    if isinstance(module, nn.Linear):
        c_out = module.out_features - removed_out
        c_in = module.in_features - removed_in
        return c_out * c_in if len(shape) == 2 else c_out
    # per-channel layers (BatchNorm, PReLU): one value per channel along dim 0
    return numel // shape[0] * (shape[0] - removed_out) if shape else numel
