"""Finding the groups with torch-pruning's dependency graph (the only place, with ``removal``, that uses it).

torch-pruning 1.6.1 is used for grouping only: which channels are coupled (a conv's outputs, its BatchNorm,
the next layers' inputs, residual partners, depthwise convs, concatenations). When it cannot trace a model,
``build_groups`` falls back on ``explorer.graph.fallback``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import torch
import torch_pruning as tp
from torch import fx, nn

from explorer._autograd import autograd_enabled
from explorer.errors import ModelError
from explorer.graph.fallback import fallback_groups
from explorer.graph.groups import GroupGraph, Member, PruningGroup, lone_group
from explorer.layers import CHANNEL_LAYERS, CONVS, CROSS_CHANNEL_NORMS, PER_CHANNEL_LAYERS, out_channels


def _build_dependency_graph(model: nn.Module, example_input: torch.Tensor) -> tp.DependencyGraph:
    # torch-pruning traces through autograd, so it needs gradients even when the caller disabled them
    with warnings.catch_warnings(), autograd_enabled():
        warnings.simplefilter("ignore")
        # an input that requires grad makes autograd record every conv, even when all weights are frozen
        example = example_input.clone().requires_grad_(example_input.is_floating_point())
        return tp.DependencyGraph().build_dependency(model, example_inputs=example, verbose=False)


def _refusal_reason(group: PruningGroup, modules: Mapping[str, nn.Module]) -> str | None:
    if not any(m.side == "in" for m in group.members):
        return (
            "no layer consumes its channels: they are the model's outputs (the classifier), or they reach "
            "the output through ops that cannot be followed, so they are never pruned"
        )
    for member in group.members:
        module = modules[member.module]
        if member.side == "out" and isinstance(module, CHANNEL_LAYERS):
            # a concatenation legitimately maps a group onto a slice of a later BatchNorm, but a conv or
            # linear whose outputs join the group must contribute all of its channels
            channels = out_channels(module)
            if channels != len(member.idxs):
                return (
                    f"channels are coupled through a non channel-preserving op into {member.module} "
                    f"({channels} channels vs {len(member.idxs)}), e.g. a zero-padding 'option A' shortcut, "
                    "which torch-pruning 1.6.1 groups incorrectly"
                )
        if (
            isinstance(module, CONVS)
            and module.groups > 1
            and not (module.groups == module.in_channels == module.out_channels)
        ):
            return (
                f"{member.module} is a grouped convolution (groups={module.groups}), which is not supported"
            )
        if isinstance(module, CROSS_CHANNEL_NORMS):
            return (
                f"{member.module} ({type(module).__name__}) normalises across channels, so masking a channel "
                "is not the same as removing it"
            )
        if not isinstance(module, (*CHANNEL_LAYERS, *PER_CHANNEL_LAYERS)):
            return f"{member.module} ({type(module).__name__}) is a layer type the engine cannot account for"
    return None


def _members_of(tp_group, module_names: Mapping[nn.Module, str], dg: tp.DependencyGraph) -> list[Member]:
    merged: dict[tuple[str, str], tuple[list[int], list[int]]] = {}
    for item in tp_group:
        dep, idxs = item
        module = dep.target.module
        if not isinstance(module, nn.Module) or module not in module_names:
            continue  # torch-pruning's placeholder ops (add, cat, reshape...) carry no weights
        side = "out" if dg.is_out_channel_pruning_fn(dep.handler) else "in"
        key = (module_names[module], side)
        got_idxs, got_roots = merged.setdefault(key, ([], []))
        for i, r in zip(idxs, item.root_idxs, strict=True):
            got_idxs.append(int(i))
            got_roots.append(int(r))
    return [Member(name, side, tuple(i), tuple(r)) for (name, side), (i, r) in merged.items()]


def build_groups(model: nn.Module, example_input: torch.Tensor) -> GroupGraph:
    """Find the prunable channel groups of ``model``.

    Args:
        model: the network; it is not modified.
        example_input: one batch ``[N, C, H, W]`` the model accepts.

    Returns:
        The groups, root first in module order. When torch-pruning cannot trace the model, every conv
        becomes an independent group (``traced=False``, see ``explorer.graph.fallback``) and a warning says
        so.

    Raises:
        ModelError: the model has no conv layer.
    """
    modules = dict(model.named_modules())
    convs = [name for name, m in modules.items() if isinstance(m, CONVS)]
    if not convs:
        raise ModelError(
            f"{type(model).__name__} has no convolution layer: the explorer prunes conv filters, "
            "so there is nothing to prune."
        )
    module_names = {m: n for n, m in modules.items()}
    try:
        dg = _build_dependency_graph(model, example_input)
        tp_groups = list(dg.get_all_groups(root_module_types=CHANNEL_LAYERS))
    except Exception as error:  # torch-pruning raises many kinds of errors on odd graphs
        return fallback_groups(model, example_input, convs, f"{type(error).__name__}: {error}")
    unreached = [name for name in convs if modules[name] not in dg.module2node]
    if unreached and not _statically_unused(model, unreached):
        # torch-pruning records only the ops the example input went through: a conv it never saw sits on a
        # branch of data-dependent control flow, and what its channels are coupled to is unknown
        return fallback_groups(
            model,
            example_input,
            convs,
            f"the traced forward never reached {', '.join(unreached)} (data-dependent control flow)",
        )

    groups = []
    for tp_group in tp_groups:
        root = tp_group[0].dep.target.module
        members = _members_of(tp_group, module_names, dg)
        root_name = module_names[root]
        members.sort(key=lambda m: (m.module != root_name, m.side != "out"))
        group = PruningGroup(root_name, len(tp_group[0].idxs), members)
        group.reason = _refusal_reason(group, modules)
        group.prunable = group.reason is None
        groups.append(group)
    for name in unreached:
        groups.append(
            lone_group(
                name, modules[name], "the forward pass never uses it (e.g. an auxiliary head in eval mode)"
            )
        )
    order = {name: i for i, name in enumerate(modules)}
    groups.sort(key=lambda g: order[g.name])
    return GroupGraph(groups, traced=True)


def _statically_unused(model: nn.Module, names: list[str]) -> bool:
    """True when torch.fx can trace ``model`` and its graph never calls any of ``names``: the layers are
    unused in this mode (an auxiliary head in eval mode), not hidden behind data-dependent control flow."""
    try:
        called = {str(n.target) for n in fx.symbolic_trace(model).graph.nodes if n.op == "call_module"}
    except Exception:
        return False
    return not called.intersection(names)
