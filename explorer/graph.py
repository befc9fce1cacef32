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
import torch_pruning as tp
from torch import nn

from explorer.errors import ModelError

CHANNEL_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_PER_CHANNEL_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.PReLU)
_CROSS_CHANNEL_NORMS = (nn.LayerNorm, nn.GroupNorm)


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

    def __getitem__(self, name: str) -> PruningGroup:
        for group in self.groups:
            if group.name == name:
                return group
        raise KeyError(f"no group named {name!r}; known groups: {[g.name for g in self.groups]}")

    @property
    def prunable(self) -> list[PruningGroup]:
        return [g for g in self.groups if g.prunable]


def _build_dependency_graph(model: nn.Module, example_input: torch.Tensor) -> tp.DependencyGraph:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tp.DependencyGraph().build_dependency(model, example_inputs=example_input, verbose=False)


def _out_channels(module: nn.Module) -> int | None:
    if isinstance(module, _CONV):
        return module.out_channels
    if isinstance(module, nn.Linear):
        return module.out_features
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
        return module.num_features
    return None


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
            channels = _out_channels(module)
            if channels is not None and channels != len(member.idxs):
                return (
                    f"channels are coupled through a non channel-preserving op into {member.module} "
                    f"({channels} channels vs {len(member.idxs)}), e.g. a zero-padding 'option A' shortcut, "
                    "which torch-pruning 1.6.1 groups incorrectly"
                )
        if (
            isinstance(module, _CONV)
            and module.groups > 1
            and not (module.groups == module.in_channels == module.out_channels)
        ):
            return (
                f"{member.module} is a grouped convolution (groups={module.groups}), which is not supported"
            )
        if isinstance(module, _CROSS_CHANNEL_NORMS):
            return (
                f"{member.module} ({type(module).__name__}) normalises across channels, so masking a channel "
                "is not the same as removing it"
            )
        if not isinstance(module, (*CHANNEL_LAYERS, *_PER_CHANNEL_NORMS)):
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
        becomes an independent group (``traced=False``) and a warning says so.

    Raises:
        ModelError: the model has no conv layer.
    """
    modules = dict(model.named_modules())
    convs = [name for name, m in modules.items() if isinstance(m, _CONV)]
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
        message = (
            f"The model could not be traced ({type(error).__name__}: {error}). Every conv is treated as an "
            "independent group: coupled layers are not pruned with it and export is unavailable."
        )
        warnings.warn(message, stacklevel=2)
        groups = [
            PruningGroup(
                name,
                modules[name].out_channels,
                [
                    Member(
                        name,
                        "out",
                        tuple(range(modules[name].out_channels)),
                        tuple(range(modules[name].out_channels)),
                    )
                ],
            )
            for name in convs
        ]
        return GroupGraph(groups, traced=False, warnings=[message])

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
    order = {name: i for i, name in enumerate(modules)}
    groups.sort(key=lambda g: order[g.name])
    return GroupGraph(groups, traced=True)


def export_pruned(
    model: nn.Module, example_input: torch.Tensor, pruned: Mapping[str, Sequence[int]]
) -> nn.Module:
    """Return a physically smaller copy of ``model`` with the given root channels removed.

    Args:
        model: the original network (not modified).
        example_input: one batch the model accepts, for tracing.
        pruned: group name → root channel indices to remove.

    Returns:
        A deep copy, in eval mode, whose layers really have fewer channels.
    """
    smaller = copy.deepcopy(model).eval()
    todo = {name: sorted(int(i) for i in idxs) for name, idxs in pruned.items() if len(idxs) > 0}
    if not todo:
        return smaller
    dg = _build_dependency_graph(smaller, example_input)
    modules = dict(smaller.named_modules())
    for name, idxs in todo.items():
        module = modules[name]
        pruner = dg.get_pruner_of_module(module)
        # Python lists, not tensors: with tensors, torch-pruning changes out_channels but not the weight.
        group = dg.get_pruning_group(module, pruner.prune_out_channels, idxs=list(idxs))
        group.prune()
    return smaller.eval()
