"""Why a group is not offered: each rule that refuses a group, with the reason the user is shown.

``discovery`` builds the groups; these rules decide which of them the engine can mask, count and cut exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from explorer.errors import CoreText
from explorer.graph.groups import PruningGroup
from explorer.layers import (
    CHANNEL_LAYERS,
    CHANNEL_MAPS,
    CROSS_CHANNEL_NORMS,
    PER_CHANNEL_LAYERS,
    is_channels_first_layer_norm,
    is_depthwise,
    out_channels,
)


def uncalled_layers(model: nn.Module, example_input: torch.Tensor) -> list[str]:
    """Convs and linear layers the forward never calls as modules (outside nn.MultiheadAttention, whose
    projections torch-pruning handles): their weights are unused, or used by the model's own code, e.g.
    torchvision Swin's attention, ``F.linear(x, self.qkv.weight)``, which masks on the module cannot reach."""
    modules = dict(model.named_modules())
    inside_attention = {
        f"{name}.{child}"
        for name, m in modules.items()
        if isinstance(m, nn.MultiheadAttention)
        for child, _ in m.named_modules()
        if child
    }
    called: set[str] = set()
    handles = [
        m.register_forward_pre_hook(lambda _m, _i, name=name: called.add(name))
        for name, m in modules.items()
        if isinstance(m, CHANNEL_LAYERS) and name not in inside_attention
    ]
    try:
        with torch.no_grad():
            model(example_input)
    finally:
        for handle in handles:
            handle.remove()
    return [
        n
        for n, m in modules.items()
        if isinstance(m, CHANNEL_LAYERS) and n not in called and n not in inside_attention
    ]


def refusal_reason(
    group: PruningGroup, modules: Mapping[str, nn.Module], partial_grouped: list[str]
) -> str | None:
    if not any(m.side == "in" for m in group.members):
        return CoreText(
            "refusal.output",
            "no layer consumes its channels: they are the model's outputs (the classifier), or they reach "
            "the output through ops that cannot be followed, so they are never pruned",
        )
    if partial_grouped:
        return CoreText(
            "refusal.grouped_conv",
            f"its channels feed only part of the grouped convolution {partial_grouped[0]}, whose groups "
            "must all lose the same number of channels",
            layer=partial_grouped[0],
        )
    for member in group.members:
        module = modules[member.module]
        if member.side == "out" and isinstance(module, CHANNEL_LAYERS):
            # a concatenation legitimately maps a group onto a slice of a later BatchNorm, but a conv or
            # linear whose outputs join the group must contribute all of its channels
            channels = out_channels(module)
            if channels != len(set(member.idxs)):
                return CoreText(
                    "refusal.coupled",
                    f"channels are coupled through a non channel-preserving op into {member.module} "
                    f"({channels} channels vs {len(set(member.idxs))}), e.g. a zero-padding 'option A' "
                    "shortcut written inline with F.pad (written as a module, it can be pruned)",
                    layer=member.module,
                    channels=channels,
                    reached=len(set(member.idxs)),
                )
        if isinstance(module, nn.LayerNorm):
            reason = _layer_norm_reason(member.module, module)
            if reason:
                return reason
        elif isinstance(module, CROSS_CHANNEL_NORMS):
            return CoreText(
                "refusal.cross_norm",
                f"{member.module} ({type(module).__name__}) normalises across channels, so masking a channel "
                "is not the same as removing it",
                layer=member.module,
                kind=type(module).__name__,
            )
        if not isinstance(module, (*CHANNEL_LAYERS, *PER_CHANNEL_LAYERS, *CHANNEL_MAPS, nn.LayerNorm)):
            return CoreText(
                "refusal.layer_type",
                f"{member.module} ({type(module).__name__}) is a layer type the engine cannot account for",
                layer=member.module,
                kind=type(module).__name__,
            )
    return _emptying_reason(group, modules)


def functional_reason(group: PruningGroup, uncalled: Sequence[str]) -> str | None:
    """A group whose channels reach the weight of a layer the model never calls (it uses the weight in its
    own code) cannot be masked there, so it is refused with the layer named."""
    for param in group.params:
        layer = param.module.rpartition(".")[0]
        if layer in uncalled:
            return CoreText(
                "refusal.functional",
                f"its channels reach {param.module}, which the model uses in its own code rather than by "
                f"calling {layer} (e.g. F.linear(x, {layer}.weight)), where a mask cannot act",
                param=param.module,
                layer=layer,
            )
    return None


def _layer_norm_reason(name: str, module: nn.LayerNorm) -> str | None:
    """Masking normalises a LayerNorm over its kept channels (``explorer.masks``), as removal does, when it
    normalises one dimension that is known: the last one, or the channels of ConvNeXt's ``LayerNorm2d``."""
    if len(module.normalized_shape) != 1:
        return CoreText(
            "refusal.layer_norm_dims",
            f"{name} (LayerNorm over {tuple(module.normalized_shape)}) normalises several dimensions at "
            "once, so its channels cannot be removed one by one",
            layer=name,
            shape=tuple(module.normalized_shape),
        )
    if type(module).forward is not nn.LayerNorm.forward and not is_channels_first_layer_norm(module):
        return CoreText(
            "refusal.layer_norm_forward",
            f"{name} ({type(module).__name__}) is a LayerNorm with its own forward: the engine cannot tell "
            "which dimension it normalises",
            layer=name,
            kind=type(module).__name__,
        )
    return None


def _emptying_reason(group: PruningGroup, modules: Mapping[str, nn.Module]) -> str | None:
    """A member holding only this group's channels must hold every unit, or one kept unit could empty it."""
    for member in group.members:
        module = modules[member.module]
        if member.side == "out" and isinstance(module, CHANNEL_MAPS):
            total = module.out_channels
        elif member.side == "in" and isinstance(module, CHANNEL_MAPS):
            total = module.in_channels
        elif member.side == "out" or is_depthwise(module):
            total = out_channels(module)
        else:
            total = getattr(module, "in_channels", getattr(module, "in_features", None))
        if total is None or len(set(member.idxs)) < total:
            continue
        if len(set(member.root_idxs)) < group.num_channels:
            return CoreText(
                "refusal.emptying",
                f"{member.module} holds channels of only some of the group's units, so keeping one unit "
                "could remove all of its channels",
                layer=member.module,
            )
    return None
