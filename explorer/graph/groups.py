"""The groups of coupled channels a model is pruned by: their members, the whole model's set, and the
channels a plan removes from each layer (``LayerCuts``), which masking, cost counting and removal all read."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from torch import nn


@dataclass(frozen=True)
class Member:
    """One layer touched when a group's channels are removed.

    Attributes:
        module: dotted module name inside the model.
        side: ``"out"`` if the layer's output channels are removed, ``"in"`` if its input channels are.
        idxs: channel indices in that layer, parallel to ``root_idxs``.
        root_idxs: for each entry of ``idxs``, the unit (root channel) it belongs to.
        dim: for a bare parameter (``PruningGroup.params``), the dimension its channels are on.
    """

    module: str
    side: str
    idxs: tuple[int, ...]
    root_idxs: tuple[int, ...]
    dim: int | None = None

    def indices_for(self, pruned_roots: set[int]) -> list[int]:
        """The indices of this layer that disappear when the root channels ``pruned_roots`` do."""
        return sorted({i for i, r in zip(self.idxs, self.root_idxs, strict=True) if r in pruned_roots})


@dataclass
class PruningGroup:
    """The output channels of one conv (or hidden linear), with everything coupled to them.

    A group is pruned by *units*: usually one unit is one output channel of the root layer. Channels that
    cannot be removed apart are one unit: a channel and its copy through a depthwise conv concatenated beside
    it, or the channels at the same position in every group of a grouped convolution.

    Attributes:
        name: the root module's dotted name; stable across sessions.
        num_channels: number of units (for most groups, the root layer's output channels).
        members: every layer touched, root first.
        prunable: whether the explorer offers the group.
        reason: why the group is not offered (``None`` when it is).
        unit: what one unit is: ``"channel"``, or ``"head"`` for an attention layer's heads.
        params: bare parameters (owned by no conv, linear or norm, e.g. ConvNeXt's layer scale) indexed by
            the group's channels; ``Member.module`` is the parameter's dotted name, ``Member.dim`` its
            channel dimension. Masking ignores them; cost counting and removal do not.
    """

    name: str
    num_channels: int
    members: list[Member]
    prunable: bool = True
    reason: str | None = None
    unit: str = "channel"
    params: list[Member] = field(default_factory=list)

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
    """All groups of a model, plus what the tracing said.

    Attributes:
        groups: every group found, offered or not.
        traced: whether torch-pruning traced the model (``False``: a fallback found the groups).
        warnings: what the user should know about how the groups were found.
        exportable: whether the pruned model can be exported.
        replacements: module name → a factory of the module that replaces it in an exported copy (a
            user's zero-padding shortcut written as a lambda becomes a ``ChannelPad``, which can be cut).
    """

    groups: list[PruningGroup]
    traced: bool
    warnings: list[str] = field(default_factory=list)
    exportable: bool = True
    replacements: dict[str, Callable[[], nn.Module]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> PruningGroup:
        for group in self.groups:
            if group.name == name:
                return group
        raise KeyError(f"no group named {name!r}; known groups: {[g.name for g in self.groups]}")

    @property
    def prunable(self) -> list[PruningGroup]:
        return [g for g in self.groups if g.prunable]


@dataclass
class LayerCuts:
    """Per layer, the output and input channel indices that a plan removes, and per bare parameter the
    indices removed along its channel dimension."""

    out: dict[str, set[int]] = field(default_factory=dict)
    inp: dict[str, set[int]] = field(default_factory=dict)
    params: dict[str, set[int]] = field(default_factory=dict)
    param_dims: dict[str, int] = field(default_factory=dict)

    def add(self, module: str, side: str, idxs: Sequence[int]) -> None:
        if not idxs:
            return
        target = self.out if side == "out" else self.inp
        target.setdefault(module, set()).update(idxs)

    def add_param(self, name: str, dim: int, idxs: Sequence[int]) -> None:
        if not idxs:
            return
        self.params.setdefault(name, set()).update(idxs)
        self.param_dims[name] = dim

    def modules(self) -> set[str]:
        return set(self.out) | set(self.inp)


def compute_layer_cuts(graph: GroupGraph, pruned: Mapping[str, Sequence[int]]) -> LayerCuts:
    """Translate ``group name → removed units`` into removed channels per layer and per bare parameter."""
    cuts = LayerCuts()
    for name, idxs in pruned.items():
        if len(idxs) == 0:
            continue
        group = graph[name]
        for module, side, layer_idxs in group.layer_cuts(idxs):
            cuts.add(module, side, layer_idxs)
        units = set(idxs)
        for param in group.params:
            cuts.add_param(param.module, int(param.dim or 0), param.indices_for(units))
    return cuts


def lone_group(name: str, module: nn.Module, reason: str | None = None) -> PruningGroup:
    """A conv on its own: its output channels only (refused when ``reason`` is given)."""
    identity = tuple(range(module.out_channels))
    return PruningGroup(
        name, len(identity), [Member(name, "out", identity, identity)], reason is None, reason
    )
