"""Root channels that cannot be removed apart become one unit.

torch-pruning follows each root channel through the graph and reports, per layer, which of its channels go
with which root channel. Two root channels must be removed together when:

* they reach the same channel of some layer. ``cat([a, dw(a)])`` followed by a squeeze-excitation whose
  expand conv is the root: root channels ``i`` and ``n + i`` both lead back to channel ``i`` of ``a``'s conv
  (torch-pruning 1.6.1 keeps only the first of the two, so the group looked like 2n free channels, and
  export then differed from masking, or emptied a conv);
* they sit at the same position in the groups of a grouped convolution. Removing one channel per group
  keeps ``groups`` and the convolution's structure, and every group shrinks by the same amount, which is the
  only way a grouped conv can lose channels. The other choice, removing whole groups, steps by 50 % on
  RegNet's first stage (two groups) and couples the grouped conv with the conv before it; removing by
  position keeps the two apart and the steps fine (1/16 of the channels on RegNet, 1/4 on ResNeXt-32x4d).

Units are the classes of a union-find over root channels, numbered in the order of their first root
channel; every member then maps its channels to units instead of root channels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class _UnionFind:
    def __init__(self, size: int):
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union_all(self, items: Iterable[int]) -> None:
        items = iter(items)
        first = next(items, None)
        if first is None:
            return
        root = self.find(first)
        for item in items:
            other = self.find(item)
            if other != root:
                self.parent[other] = root


def tie_units(
    channels: int,
    pairs: Mapping[tuple[str, str], set[tuple[int, int]]],
    per_group: Mapping[tuple[str, str], int],
) -> tuple[int, dict[tuple[str, str], list[tuple[int, int]]]]:
    """Merge root channels that must go together into units.

    Args:
        channels: number of root channels.
        pairs: ``(layer, side)`` → every ``(layer channel, root channel)`` pair found.
        per_group: ``(layer, side)`` of grouped convolutions → channels per conv group on that side.

    Returns:
        The number of units, and ``(layer, side)`` → sorted ``(layer channel, unit)`` pairs.
    """
    tied = _UnionFind(channels)
    for key, found in pairs.items():
        by_channel: dict[int, list[int]] = {}
        size = per_group.get(key)
        for idx, root in found:
            by_channel.setdefault(idx if size is None else idx % size, []).append(root)
        for roots in by_channel.values():
            tied.union_all(roots)
    unit_of: dict[int, int] = {}
    for root in range(channels):
        unit_of.setdefault(tied.find(root), len(unit_of))
    units = {
        key: sorted({(idx, unit_of[tied.find(root)]) for idx, root in found}) for key, found in pairs.items()
    }
    return len(unit_of), units
