"""Physical channel removal: a smaller copy of the model, without the pruned channels."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import torch
import torch_pruning as tp
from torch import nn

from explorer._autograd import autograd_enabled
from explorer.errors import ModelError
from explorer.graph.discovery import _build_dependency_graph
from explorer.graph.groups import GroupGraph
from explorer.layers import BATCH_NORMS, is_depthwise

_LAYER_PRUNERS = {
    ("conv", "out"): tp.prune_conv_out_channels,
    ("conv", "in"): tp.prune_conv_in_channels,
    ("depthwise", "out"): tp.prune_depthwise_conv_out_channels,
    ("bn", "out"): tp.prune_batchnorm_out_channels,
}


def _prune_members(model: nn.Module, graph: GroupGraph, pruned: Mapping[str, Sequence[int]]) -> None:
    modules = dict(model.named_modules())
    for name, idxs in pruned.items():
        for module_name, side, layer_idxs in graph[name].layer_cuts(idxs):
            module = modules[module_name]
            kind = (
                "depthwise" if is_depthwise(module) else "bn" if isinstance(module, BATCH_NORMS) else "conv"
            )
            _LAYER_PRUNERS[(kind, side)](module, list(layer_idxs))


@autograd_enabled()
def export_pruned(
    model: nn.Module,
    example_input: torch.Tensor,
    pruned: Mapping[str, Sequence[int]],
    graph: GroupGraph | None = None,
) -> nn.Module:
    """Return a physically smaller copy of ``model`` with the given root channels removed.

    Args:
        model: the original network (not modified).
        example_input: one batch the model accepts, for tracing.
        pruned: group name → root channel indices to remove.
        graph: the groups; needed only for a model torch-pruning could not trace (layer-by-layer removal).

    Returns:
        A deep copy, in eval mode, whose layers really have fewer channels.
    """
    smaller = copy.deepcopy(model).eval()
    todo = {name: sorted(int(i) for i in idxs) for name, idxs in pruned.items() if len(idxs) > 0}
    if not todo:
        return smaller
    if graph is not None and not graph.traced:
        if not graph.exportable:
            raise ModelError("this model could not be traced, so its pruned version cannot be exported")
        _prune_members(smaller, graph, todo)
        return smaller.eval()
    dg = _build_dependency_graph(smaller, example_input)
    modules = dict(smaller.named_modules())
    for name, idxs in todo.items():
        module = modules[name]
        pruner = dg.get_pruner_of_module(module)
        # Python lists, not tensors: with tensors, torch-pruning changes out_channels but not the weight.
        group = dg.get_pruning_group(module, pruner.prune_out_channels, idxs=list(idxs))
        group.prune()
    return smaller.eval()
