"""Prunable channel groups and physical channel removal.

This is the only module that imports torch-pruning (pinned to 1.6.1). It is used for two things only:

* finding which channels are coupled (a conv's outputs, its BatchNorm, the next layers' inputs, residual
  partners, depthwise convs, concatenations), through torch-pruning's dependency graph;
* physically removing channels when a plan is exported.

Importance scores are computed elsewhere (``explorer.criteria``), because torch-pruning's importance
classes depart from the papers (see ``../shared/DESIGN.md``).

Every group is named after its leading ("root") module. A group is *prunable by default* when all of these
hold:

* its channels reach at least one consumer layer (so the classifier output, whose channels are the model's
  outputs, never is);
* every layer whose output channels it removes has exactly the group's channel count (torch-pruning 1.6.1
  merges the residual streams of a parameter-free "option A" ResNet shortcut, which zero-pads channels, into
  one invalid group; such groups are refused with that reason);
* it contains no grouped convolution other than depthwise ones and no layer that normalises *across*
  channels (LayerNorm over the channel dimension, GroupNorm), since masking a channel there is not the same
  as removing it;
* masking it gives the same outputs as exporting it (checked when the session is built).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
import torch_pruning as tp
from torch import fx, nn

from explorer._autograd import autograd_enabled
from explorer.errors import ModelError
from explorer.layers import (
    BATCH_NORMS,
    CHANNEL_LAYERS,
    CONVS,
    CROSS_CHANNEL_NORMS,
    PER_CHANNEL_LAYERS,
    is_depthwise,
    out_channels,
)


@dataclass(frozen=True)
class Member:
    """One layer touched when a group's channels are removed.

    Attributes:
        module: dotted module name inside the model.
        side: ``"out"`` if the layer's output channels are removed, ``"in"`` if its input channels are.
        idxs: channel indices in that layer, parallel to ``root_idxs``.
        root_idxs: for each entry of ``idxs``, the root channel it belongs to.
    """

    module: str
    side: str
    idxs: tuple[int, ...]
    root_idxs: tuple[int, ...]

    def indices_for(self, pruned_roots: set[int]) -> list[int]:
        """The indices of this layer that disappear when the root channels ``pruned_roots`` do."""
        return sorted({i for i, r in zip(self.idxs, self.root_idxs, strict=True) if r in pruned_roots})


@dataclass
class PruningGroup:
    """The output channels of one conv (or hidden linear), with everything coupled to them.

    Attributes:
        name: the root module's dotted name; stable across sessions.
        num_channels: number of root output channels.
        members: every layer touched, root first.
        prunable: whether the explorer offers the group.
        reason: why the group is not offered (``None`` when it is).
    """

    name: str
    num_channels: int
    members: list[Member]
    prunable: bool = True
    reason: str | None = None

    @property
    def layers(self) -> list[str]:
        """Names of the member layers, root first, without repeats."""
        return list(dict.fromkeys(m.module for m in self.members))

    @property
    def coupled_layers(self) -> list[str]:
        """Other layers whose *output* channels go with the root's (BN, residual partners...)."""
        return [m.module for m in self.members if m.side == "out" and m.module != self.name]

    def layer_cuts(self, pruned: Sequence[int]) -> list[tuple[str, str, list[int]]]:
        """``(module, side, indices)`` for every member, when the root channels ``pruned`` are removed."""
        roots = set(pruned)
        return [(m.module, m.side, m.indices_for(roots)) for m in self.members]


@dataclass
class GroupGraph:
    """All groups of a model, plus what the tracing said."""

    groups: list[PruningGroup]
    traced: bool
    warnings: list[str] = field(default_factory=list)
    exportable: bool = True

    def __getitem__(self, name: str) -> PruningGroup:
        for group in self.groups:
            if group.name == name:
                return group
        raise KeyError(f"no group named {name!r}; known groups: {[g.name for g in self.groups]}")

    @property
    def prunable(self) -> list[PruningGroup]:
        return [g for g in self.groups if g.prunable]


def _build_dependency_graph(model: nn.Module, example_input: torch.Tensor) -> tp.DependencyGraph:
    # torch-pruning traces through autograd, so it needs gradients even when the caller disabled them
    with warnings.catch_warnings(), autograd_enabled():
        warnings.simplefilter("ignore")
        # an input that requires grad makes autograd record every conv, even when all weights are frozen
        example = example_input.clone().requires_grad_(example_input.is_floating_point())
        return tp.DependencyGraph().build_dependency(model, example_inputs=example, verbose=False)


def _lone_group(name: str, module: nn.Module, reason: str | None = None) -> PruningGroup:
    """A conv on its own: its output channels only (refused when ``reason`` is given)."""
    identity = tuple(range(module.out_channels))
    return PruningGroup(
        name, len(identity), [Member(name, "out", identity, identity)], reason is None, reason
    )


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
        becomes an independent group (``traced=False``, see ``_fallback_groups``) and a warning says so.

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
        return _fallback_groups(model, example_input, convs, f"{type(error).__name__}: {error}")
    unreached = [name for name in convs if modules[name] not in dg.module2node]
    if unreached and not _statically_unused(model, unreached):
        # torch-pruning records only the ops the example input went through: a conv it never saw sits on a
        # branch of data-dependent control flow, and what its channels are coupled to is unknown
        return _fallback_groups(
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
            _lone_group(
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


# Ops that act on each channel separately: a removed channel stays removed through them.
_CHANNELWISE_MODULES = (
    *BATCH_NORMS,
    nn.ReLU,
    nn.ReLU6,
    nn.SiLU,
    nn.GELU,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Sigmoid,
    nn.LeakyReLU,
    nn.Dropout,
    nn.Identity,
    nn.MaxPool2d,
    nn.AvgPool2d,
)
_CHANNELWISE_FUNCTIONS = {
    F.relu,
    F.relu6,
    F.silu,
    F.gelu,
    F.hardswish,
    F.leaky_relu,
    torch.relu,
    torch.sigmoid,
}
_CHANNELWISE_METHODS = {"relu", "sigmoid", "contiguous"}


def _chain_members(root: str, node: fx.Node, modules: Mapping[str, nn.Module]) -> list[Member] | None:
    """Follow ``node``'s channels through channel-wise ops to the convs that consume them.

    Returns ``None`` when they reach anything else (an add, a concatenation, a reshape...).
    """
    channels = modules[root].out_channels
    identity = tuple(range(channels))
    members = [Member(root, "out", identity, identity)]
    frontier = list(node.users)
    seen: set[fx.Node] = set()
    while frontier:
        user = frontier.pop()
        if user in seen:
            continue
        seen.add(user)
        target = modules.get(str(user.target)) if user.op == "call_module" else None
        if target is not None and is_depthwise(target) and target.in_channels == channels:
            members.append(Member(str(user.target), "out", identity, identity))
            frontier.extend(user.users)
        elif target is not None and isinstance(target, CONVS) and target.groups == 1:
            members.append(Member(str(user.target), "in", identity, identity))
        elif (
            (target is not None and isinstance(target, _CHANNELWISE_MODULES))
            or (user.op == "call_function" and user.target in _CHANNELWISE_FUNCTIONS)
            or (user.op == "call_method" and user.target in _CHANNELWISE_METHODS)
        ):
            if isinstance(target, BATCH_NORMS):
                members.append(Member(str(user.target), "out", identity, identity))
            frontier.extend(user.users)
        else:
            return None
    return members if any(m.side == "in" for m in members) else None


def _direct_norm_followers(model: nn.Module, example_input: torch.Tensor) -> dict[str, list[str]]:
    """conv name → the per-channel norms that take its output tensor as their input, seen in one forward."""
    modules = dict(model.named_modules())
    producer: dict[int, str] = {}
    followers: dict[str, list[str]] = {}
    handles = []

    def record_output(name):
        def hook(_module, _inputs, output):
            producer[id(output)] = name

        return hook

    def record_input(name):
        def hook(_module, inputs):
            source = producer.get(id(inputs[0])) if inputs else None
            if source is not None and modules[name].num_features == modules[source].out_channels:
                followers.setdefault(source, []).append(name)

        return hook

    try:
        for name, module in modules.items():
            if isinstance(module, CONVS):
                handles.append(module.register_forward_hook(record_output(name)))
            elif isinstance(module, BATCH_NORMS):
                handles.append(module.register_forward_pre_hook(record_input(name)))
        with torch.no_grad():
            model(example_input)
    except Exception:
        return {}
    finally:
        for handle in handles:
            handle.remove()
    return followers


def _fallback_groups(model: nn.Module, example_input: torch.Tensor, convs: list[str], why: str) -> GroupGraph:
    """Independent per-conv groups when torch-pruning cannot trace the model.

    With ``torch.fx``, a conv whose outputs reach only other convs through channel-wise ops (BN, activations,
    depthwise convs) is offered with those layers; any other conv is listed but refused. Without fx, every
    conv is a group of its own, with the BatchNorm that directly follows it (so that its mask acts after the
    BN's shift, as removal would); such groups can be masked but not exported.
    """
    modules = dict(model.named_modules())
    try:
        graph = fx.symbolic_trace(model).graph
    except Exception:
        message = (
            f"The model could not be traced ({why}), not even by torch.fx. Every conv is treated as an "
            "independent group: coupled layers are not pruned with it and export is unavailable."
        )
        warnings.warn(message, stacklevel=3)
        followers = _direct_norm_followers(model, example_input)
        groups = []
        for name in convs:
            group = _lone_group(name, modules[name])
            identity = group.members[0].idxs
            group.members += [Member(bn, "out", identity, identity) for bn in followers.get(name, [])]
            groups.append(group)
        return GroupGraph(groups, traced=False, warnings=[message], exportable=False)
    message = (
        f"torch-pruning could not trace the model ({why}). Falling back to independent per-conv groups: "
        "only convs whose channels flow through BN, activations or depthwise convs into convs are offered."
    )
    warnings.warn(message, stacklevel=3)
    groups = []
    for node in graph.nodes:
        name = str(node.target)
        if node.op != "call_module" or name not in convs or is_depthwise(modules[name]):
            continue
        members = _chain_members(name, node, modules)
        if members is None:
            groups.append(
                _lone_group(
                    name,
                    modules[name],
                    "the model could not be traced by torch-pruning, and this conv's channels "
                    "reach more than a plain chain of layers (an add, a concatenation, a "
                    "reshape...), so the explorer cannot tell what else they are tied to",
                )
            )
        else:
            groups.append(PruningGroup(name, modules[name].out_channels, members))
    covered = {m.module for g in groups if g.prunable for m in g.members}
    for name in convs:
        if is_depthwise(modules[name]) and name not in covered:
            groups.append(
                _lone_group(
                    name,
                    modules[name],
                    "a depthwise conv is pruned together with the conv that feeds it, and that "
                    "conv is not offered here",
                )
            )
    order = {name: i for i, name in enumerate(modules)}
    groups.sort(key=lambda g: order[g.name])
    return GroupGraph(groups, traced=False, warnings=[message], exportable=True)


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
