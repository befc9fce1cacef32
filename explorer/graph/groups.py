"""The groups of coupled channels a model is pruned by: their members, and the whole model's set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from torch import nn


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


def lone_group(name: str, module: nn.Module, reason: str | None = None) -> PruningGroup:
    """A conv on its own: its output channels only (refused when ``reason`` is given)."""
    identity = tuple(range(module.out_channels))
    return PruningGroup(
        name, len(identity), [Member(name, "out", identity, identity)], reason is None, reason
    )
