"""``ChannelPad``: a parameter-free shortcut that subsamples and places its channels among zero channels.

He et al.'s "option A" ResNet shortcut (CIFAR ResNets, CVPR 2016) joins a narrow residual stream to a wider
one by subsampling the input and zero-padding the new channels. Its input and output channels belong to two
*different* streams: output channel ``pad_front + j`` is a copy of input channel ``j`` and the padded output
channels are zeros. Pruning therefore treats the two sides separately, as a conv's input and output are:

* removing input channel ``j`` (the narrow stream loses it) leaves a zero in its output position, which is
  what the masked model computes, since the narrow stream's channel ``j`` is zero there;
* removing output position ``o`` (the wide stream loses it) drops that position, whatever it held.

After pruning, the layout is no longer "a block of copies between two blocks of zeros", so the module keeps
its layout explicitly (``sources``) and falls back from ``F.pad`` to a scatter only when it has to.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ChannelPad"]


class ChannelPad(nn.Module):
    """``out[:, o] = x[:, sources[o], ::stride, ::stride]``, or zeros where ``sources[o]`` is ``-1``.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output; at least ``in_channels``.
        stride: spatial subsampling step.
        pad_front: zero channels before the copied ones (default: half of the new channels, rounded down,
            as in the public CIFAR ResNet checkpoints).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 2, pad_front: int | None = None):
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f"{type(self).__name__} cannot shrink {in_channels} channels to {out_channels}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        self.pad_front = (out_channels - in_channels) // 2 if pad_front is None else pad_front
        self.pad_back = out_channels - in_channels - self.pad_front
        if self.pad_back < 0 or self.pad_front < 0:
            raise ValueError(f"pad_front={pad_front} does not fit {in_channels} → {out_channels} channels")
        #: for each output position, the input channel it copies, or -1 for a zero channel
        self.sources: tuple[int, ...] = (
            (-1,) * self.pad_front + tuple(range(in_channels)) + (-1,) * self.pad_back
        )

    def _padded_block(self) -> tuple[int, int] | None:
        """``(front, back)`` when the layout is zeros, all inputs in order, zeros (plain ``F.pad``)."""
        copies = [o for o, s in enumerate(self.sources) if s >= 0]
        if [self.sources[o] for o in copies] != list(range(self.in_channels)):
            return None
        front = copies[0] if copies else self.out_channels
        if copies != list(range(front, front + self.in_channels)):
            return None
        return front, self.out_channels - front - self.in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, in, H, W]`` → ``[N, out, ceil(H/stride), ceil(W/stride)]``."""
        sub = x[:, :, :: self.stride, :: self.stride]
        block = self._padded_block()
        if block is not None:
            return F.pad(sub, (0, 0, 0, 0, *block))
        positions = [o for o, s in enumerate(self.sources) if s >= 0]
        src = torch.tensor([self.sources[o] for o in positions], dtype=torch.long, device=x.device)
        dst = torch.tensor(positions, dtype=torch.long, device=x.device)
        out = sub.new_zeros(sub.shape[0], self.out_channels, *sub.shape[2:])
        return out.index_copy(1, dst, sub.index_select(1, src))

    def remove_inputs(self, idxs: Sequence[int]) -> None:
        """Remove input channels; the output positions that copied them become zero channels."""
        removed = set(idxs)
        renumber = {}
        for j in range(self.in_channels):
            if j not in removed:
                renumber[j] = len(renumber)
        self.sources = tuple(renumber.get(s, -1) if s >= 0 else -1 for s in self.sources)
        self.in_channels = len(renumber)

    def remove_outputs(self, idxs: Sequence[int]) -> None:
        """Remove output positions, whatever they held (a copy or a zero channel)."""
        removed = set(idxs)
        self.sources = tuple(s for o, s in enumerate(self.sources) if o not in removed)
        self.out_channels = len(self.sources)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"
