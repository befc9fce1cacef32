"""Prunable channel groups and physical channel removal.

This is the only package that imports torch-pruning (pinned to 1.6.1), and only for its dependency graph:
which channels are coupled (a conv's outputs, its BatchNorm, the next layers' inputs, residual partners,
depthwise convs, concatenations). ``discovery`` reads the groups from that graph (``fallback`` finds simpler
groups with torch.fx when torch-pruning cannot trace a model); ``removal`` cuts the layers itself, from the
same ``LayerCuts`` that masking and cost counting read.

``groups`` holds the data types every other module reads: ``Member``, ``PruningGroup``, ``GroupGraph`` and
``LayerCuts``.

Importance scores are computed elsewhere (``explorer.criteria``), because torch-pruning's importance
classes depart from the papers (see ``../shared/DESIGN.md``).

Every group is named after its leading ("root") module and is pruned by units (``explorer.graph.units``):
channels, or, for the one group of each self-attention layer (``explorer.attention``), heads.
A group is *prunable by default* when all of these hold:

* its channels reach at least one consumer layer (so the classifier output, whose channels are the model's
  outputs, never is);
* every conv or linear whose output channels it removes contributes all of them (a zero-padding shortcut
  written inline with ``F.pad`` breaks this; as a module, ``ChannelPad`` or a lambda wrapper, it is
  recognised and its two sides join two separate groups);
* every member layer is of a type the engine can mask, count and cut: not a GroupNorm (it normalises
  across channels); a LayerNorm over one known dimension is masked by normalising over the kept channels
  only (``explorer.masks``), as removal computes; a grouped convolution is cut by position in its groups,
  so a group feeding one must hold all of its channels;
* no member holding only this group's channels can be emptied by keeping a single unit;
* masking it gives the same outputs as exporting it (checked when the session is built).
"""

from __future__ import annotations

from explorer.graph.discovery import build_groups
from explorer.graph.groups import GroupGraph, LayerCuts, Member, PruningGroup, compute_layer_cuts
from explorer.graph.removal import apply_cuts, export_pruned
from explorer.layers import CHANNEL_LAYERS

__all__ = [
    "CHANNEL_LAYERS",
    "GroupGraph",
    "LayerCuts",
    "Member",
    "PruningGroup",
    "apply_cuts",
    "build_groups",
    "compute_layer_cuts",
    "export_pruned",
]
