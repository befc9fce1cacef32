"""Groups for a model torch-pruning cannot trace: per-conv chains found with torch.fx, or lone convs."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import fx, nn

from explorer.graph.groups import GroupGraph, Member, PruningGroup, lone_group
from explorer.layers import BATCH_NORMS, CONVS, is_depthwise

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
    """Follow ``node``'s channels through channel-wise ops to the layers that consume them: convs after a
    conv, linear layers after a linear layer (a transformer's MLP: linear → GELU → dropout → linear).

    Returns ``None`` when they reach anything else (an add, a concatenation, a reshape...).
    """
    linear = isinstance(modules[root], nn.Linear)
    channels = modules[root].out_features if linear else modules[root].out_channels
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
        if linear and isinstance(target, nn.Linear) and target.in_features == channels:
            members.append(Member(str(user.target), "in", identity, identity))
        elif linear and isinstance(target, (*BATCH_NORMS, *CONVS)):
            return None  # a linear's features are the last dimension, a conv's or BN's the second
        elif target is not None and is_depthwise(target) and target.in_channels == channels:
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


def fallback_groups(model: nn.Module, example_input: torch.Tensor, convs: list[str], why: str) -> GroupGraph:
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
        warnings.warn(message, stacklevel=4)
        followers = _direct_norm_followers(model, example_input)
        groups = []
        for name in convs:
            group = lone_group(name, modules[name])
            identity = group.members[0].idxs
            group.members += [Member(bn, "out", identity, identity) for bn in followers.get(name, [])]
            groups.append(group)
        return GroupGraph(groups, traced=False, warnings=[message], exportable=False)
    message = (
        f"torch-pruning could not trace the model ({why}). Falling back to independent per-conv groups: "
        "only convs whose channels flow through BN, activations or depthwise convs into convs, and linear "
        "layers whose features flow through activations into linear layers, are offered."
    )
    warnings.warn(message, stacklevel=4)
    groups = []
    for node in graph.nodes:
        name = str(node.target)
        if node.op != "call_module":
            continue
        if isinstance(modules.get(name), nn.Linear):
            # a linear layer is offered when its features reach linear layers only; otherwise it is not
            # listed (a classifier, or features that go on into what the fallback cannot follow)
            members = _chain_members(name, node, modules)
            if members is not None:
                groups.append(PruningGroup(name, modules[name].out_features, members))
            continue
        if name not in convs or is_depthwise(modules[name]):
            continue
        members = _chain_members(name, node, modules)
        if members is None:
            groups.append(
                lone_group(
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
                lone_group(
                    name,
                    modules[name],
                    "a depthwise conv is pruned together with the conv that feeds it, and that "
                    "conv is not offered here",
                )
            )
    order = {name: i for i, name in enumerate(modules)}
    groups.sort(key=lambda g: order[g.name])
    return GroupGraph(groups, traced=False, warnings=[message], exportable=True)
