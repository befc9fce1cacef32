"""Which layer types the engine knows, and where their channels are: the one place that says so.

Every module that asks "is this a conv?", "does this norm act per channel?" or "which dimension holds the
channels?" asks here, so the answers cannot drift apart (masking, cost counting, grouping, scoring and export
must agree on every layer).
"""

from __future__ import annotations

from torch import nn

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


def channel_dim(module: nn.Module) -> int:
    """The dimension of ``module``'s input and output tensors that holds its channels.

    Linear layers and LayerNorm act on the last dimension (``[..., C]``); convs, BatchNorm, GroupNorm and
    PReLU on dimension 1 (``[N, C, ...]``).
    """
    return -1 if isinstance(module, CHANNELS_LAST_LAYERS) else 1


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
