"""Which layer types the engine knows, and where their channels are: the one place that says so.

Every module that asks "is this a conv?", "does this norm act per channel?" or "which dimension holds the
channels?" asks here, so the answers cannot drift apart (masking, cost counting, grouping, scoring and export
must agree on every layer).
"""

from __future__ import annotations

from torch import nn

from explorer.channel_pad import ChannelPad
from explorer.errors import ExplorerError

#: Convolutions of every dimensionality: weight ``[C_out, C_in / groups, *kernel]``.
CONVS: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Conv2d, nn.Conv3d)

#: Layers with filters whose output channels can be removed: convs and linear layers.
CHANNEL_LAYERS: tuple[type[nn.Module], ...] = (*CONVS, nn.Linear)

#: BatchNorms of every dimensionality: one γ, β and running statistic per channel.
BATCH_NORMS: tuple[type[nn.Module], ...] = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)

#: Layers with one value per channel that treat every channel on its own; removing a channel removes its
#: entry, and masking it is the same as removing it.
PER_CHANNEL_LAYERS: tuple[type[nn.Module], ...] = (*BATCH_NORMS, nn.PReLU)

#: Norms whose output for one channel depends on the others; masking a channel is not removing it.
CROSS_CHANNEL_NORMS: tuple[type[nn.Module], ...] = (nn.LayerNorm, nn.GroupNorm)

#: Layers that hold their channels (features) in the *last* dimension of their input and output.
CHANNELS_LAST_LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, nn.LayerNorm)

#: Parameter-free layers whose input and output channels belong to different groups, each side cut apart.
CHANNEL_MAPS: tuple[type[nn.Module], ...] = (ChannelPad,)

# LayerNorm subclasses that normalise ``[N, C, H, W]`` over dimension 1 (they permute to channels-last and
# back): torchvision's and timm's ConvNeXt ``LayerNorm2d``.
_CHANNELS_FIRST_LAYER_NORMS = ("LayerNorm2d",)


def is_channels_first_layer_norm(module: nn.Module) -> bool:
    """Whether ``module`` is a LayerNorm applied to ``[N, C, H, W]`` over the channels (ConvNeXt's)."""
    return isinstance(module, nn.LayerNorm) and type(module).__name__ in _CHANNELS_FIRST_LAYER_NORMS


def channel_dim(module: nn.Module) -> int:
    """The dimension of ``module``'s input and output tensors that holds its channels.

    Linear layers and LayerNorm act on the last dimension (``[..., C]``); convs, BatchNorm, GroupNorm, PReLU,
    channel pads and ConvNeXt's ``LayerNorm2d`` on dimension 1 (``[N, C, ...]``).
    """
    if is_channels_first_layer_norm(module):
        return 1
    return -1 if isinstance(module, CHANNELS_LAST_LAYERS) else 1


def layer_norm_channels(module: nn.LayerNorm) -> int:
    """How many channels a LayerNorm normalises over; only a norm over one dimension can lose channels.

    Raises:
        ExplorerError: it normalises over several dimensions (``normalized_shape`` of length > 1).
    """
    if len(module.normalized_shape) != 1:
        raise ExplorerError(
            f"a LayerNorm over {tuple(module.normalized_shape)} normalises several dimensions at once: "
            "its channels cannot be removed one by one"
        )
    return int(module.normalized_shape[0])


def is_depthwise(module: nn.Module) -> bool:
    """Whether ``module`` is a depthwise conv: one filter per input channel, ``groups = C_in = C_out > 1``."""
    return isinstance(module, CONVS) and 1 < module.groups == module.in_channels == module.out_channels


def out_channels(module: nn.Module) -> int:
    """How many output channels ``module`` has (convs, linear layers, norms and per-channel PReLU).

    Raises:
        ExplorerError: the layer type has no channel count the engine knows.
    """
    for attr in ("out_channels", "out_features", "num_features", "num_parameters"):
        if hasattr(module, attr):
            return int(getattr(module, attr))
    if isinstance(module, nn.LayerNorm):
        return int(module.normalized_shape[-1])
    if isinstance(module, nn.GroupNorm):
        return int(module.num_channels)
    raise ExplorerError(f"cannot tell how many output channels {type(module).__name__} has")
