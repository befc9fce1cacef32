"""A model's preflight report: what the explorer found, what it refuses and why, and what could go wrong.

A practitioner pointing the explorer at their own model wants to know, before spending time on it, how much
of it can be pruned and where the engine is on thin ice. ``build_preflight`` answers in plain data (dicts,
lists, strings and numbers, ready for JSON) from the groups already found and one extra forward pass:

* groups found and offered, per unit (channels, heads);
* for each offered group, the layers coupled to it, and for each refused one, the reason;
* risks: custom autograd Functions (their channel behaviour is assumed, not known), in-place updates of a
  coupled layer's output, convs with a single channel (nothing to prune, or a bottleneck that pruning
  upstream cannot reach), and data-dependent control flow (the example input saw one branch only).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import fx, nn
from torch.utils._python_dispatch import TorchDispatchMode

from explorer._autograd import autograd_enabled
from explorer.graph import GroupGraph
from explorer.layers import CONVS

# in-place activations act on each value alone: they cannot mix channels, so they are not reported
_HARMLESS_INPLACE = {
    "relu_",
    "hardtanh_",
    "silu_",
    "hardswish_",
    "hardsigmoid_",
    "leaky_relu_",
    "gelu_",
    "sigmoid_",
    "clamp_",
    "clamp_min_",
    "elu_",
    "threshold_",
}


class _InplaceRecorder(TorchDispatchMode):
    """Records in-place aten ops whose target is the output of one of the watched layers."""

    def __init__(self, produced: dict[int, str]):
        super().__init__()
        self.produced = produced
        self.found: list[tuple[str, str]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        inplace = name.endswith("_") and name not in _HARMLESS_INPLACE
        if inplace and args and isinstance(args[0], torch.Tensor):
            layer = self.produced.get(args[0].data_ptr())
            if layer is not None:
                self.found.append((name, layer))
        return func(*args, **(kwargs or {}))


def _inplace_on_coupled(model: nn.Module, graph: GroupGraph, x: torch.Tensor) -> list[dict[str, str]]:
    coupled = {m.module for g in graph.prunable for m in g.members if m.side == "out"}
    modules = dict(model.named_modules())
    produced: dict[int, str] = {}
    handles = [
        modules[name].register_forward_hook(
            lambda _m, _i, out, name=name: (
                produced.__setitem__(out.data_ptr(), name) if isinstance(out, torch.Tensor) else None
            )
        )
        for name in coupled
        if name in modules
    ]
    recorder = _InplaceRecorder(produced)
    try:
        with torch.no_grad(), recorder:
            model(x)
    except Exception:
        return []
    finally:
        for handle in handles:
            handle.remove()
    seen = dict.fromkeys(recorder.found)
    return [
        {
            "kind": "in-place op on a coupled tensor",
            "where": layer,
            "detail": f"aten.{op} updates the output of {layer} in place; masks replace that output by a new "
            "tensor first, and the start-up check compared masked with exported outputs on this model",
        }
        for op, layer in seen
    ]


@autograd_enabled()
def _custom_functions(model: nn.Module, x: torch.Tensor) -> list[dict[str, str]]:
    try:
        out = model(x.clone().requires_grad_(x.is_floating_point()))
    except Exception:
        return []
    if not isinstance(out, torch.Tensor) or out.grad_fn is None:
        return []
    names, stack, seen = [], [out.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        if isinstance(fn, torch.autograd.function.BackwardCFunction):
            names.append(type(fn).__name__.removesuffix("Backward"))
        stack.extend(next_fn for next_fn, _ in fn.next_functions)
    return [
        {
            "kind": "custom autograd Function",
            "where": name,
            "detail": "torch-pruning cannot see inside it and treats it as channel-preserving; the groups "
            "through it rest on that assumption (checked on the example input only)",
        }
        for name in sorted(set(names))
    ]


def _single_channel_convs(model: nn.Module, graph: GroupGraph) -> list[dict[str, str]]:
    risks = []
    for name, module in model.named_modules():
        if isinstance(module, CONVS) and module.out_channels == 1:
            risks.append(
                {
                    "kind": "1-channel conv",
                    "where": name,
                    "detail": "a single output channel: it is always kept, so its group cannot shrink",
                }
            )
    for group in graph.prunable:
        if group.num_channels == 1:
            risks.append(
                {
                    "kind": "1-channel conv",
                    "where": group.name,
                    "detail": f"the group has a single {group.unit}: nothing can be removed from it",
                }
            )
    return risks


def _control_flow(model: nn.Module, graph: GroupGraph) -> list[dict[str, str]]:
    try:
        fx.symbolic_trace(model)
    except Exception as error:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        if "control flow" in text or "symbolically traced variables" in text:
            return [
                {
                    "kind": "data-dependent control flow",
                    "where": type(model).__name__,
                    "detail": "the forward branches on tensor values; the groups were found on the branch "
                    f"the example input took ({text})",
                }
            ]
    return [
        {"kind": "data-dependent control flow", "where": type(model).__name__, "detail": warning}
        for warning in graph.warnings
        if "control flow" in warning
    ]


def build_preflight(
    model: nn.Module, graph: GroupGraph, example_input: torch.Tensor, warnings: list[str]
) -> dict[str, Any]:
    """The preflight report of ``model`` (see the module docstring), as plain data.

    Args:
        model: the network (not modified; hooks are installed only for one forward pass).
        graph: its groups, as the session found and checked them.
        example_input: a batch the model accepts.
        warnings: what the session already warned about.
    """
    by_unit: dict[str, dict[str, int]] = {}
    for group in graph.groups:
        counts = by_unit.setdefault(group.unit, {"found": 0, "offered": 0, "units_offered": 0})
        counts["found"] += 1
        if group.prunable:
            counts["offered"] += 1
            counts["units_offered"] += group.num_channels
    risks = (
        _custom_functions(model, example_input)
        + _inplace_on_coupled(model, graph, example_input)
        + _single_channel_convs(model, graph)
        + _control_flow(model, graph)
    )
    return {
        "traced": graph.traced,
        "exportable": graph.exportable,
        "groups": {
            "found": len(graph.groups),
            "offered": len(graph.prunable),
            "by_unit": by_unit,
        },
        "offered": [
            {
                "name": g.name,
                "unit": g.unit,
                "units": g.num_channels,
                "coupled_layers": list(dict.fromkeys(g.coupled_layers)),
                "layers": g.layers,
            }
            for g in graph.prunable
        ],
        "refused": [{"name": g.name, "reason": g.reason} for g in graph.groups if not g.prunable],
        "replaced_in_export": sorted(graph.replacements),
        "risks": risks,
        "warnings": list(warnings),
    }


__all__ = ["build_preflight"]
