"""Prunable channel groups and physical channel removal.

This is the only package that imports torch-pruning (pinned to 1.6.1). It is used for two things only:

* finding which channels are coupled (a conv's outputs, its BatchNorm, the next layers' inputs, residual
  partners, depthwise convs, concatenations), through torch-pruning's dependency graph (``discovery``;
  ``fallback`` finds simpler groups with torch.fx when torch-pruning cannot trace a model);
* physically removing channels when a plan is exported (``removal``).

``groups`` holds the data types every other module reads: ``Member``, ``PruningGroup`` and ``GroupGraph``.

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

from explorer.graph.discovery import build_groups
from explorer.graph.groups import GroupGraph, Member, PruningGroup
from explorer.graph.removal import export_pruned
from explorer.layers import CHANNEL_LAYERS

__all__ = ["CHANNEL_LAYERS", "GroupGraph", "Member", "PruningGroup", "build_groups", "export_pruned"]
