"""The oracle: the true loss change when one channel alone is removed.

Every criterion is a cheap estimate of this quantity, which Molchanov et al. (ICLR 2017,
https://arxiv.org/abs/1611.06440, §3.2 and Table 1) use as the ground truth to rank criteria against.
It costs one evaluation of the calibration loss per channel.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from explorer.criteria._exceptions import ScoringCancelled
from explorer.criteria._registry import register_criterion
from explorer.criteria.generic import score_by_masking


@register_criterion(
    "oracle",
    needs="loss_oracle",
    title="The oracle: Molchanov et al., Pruning Convolutional Neural Networks for Resource Efficient "
    "Inference (ICLR 2017), §3.2",
    url="https://arxiv.org/abs/1611.06440",
    formula="s_c = L(channel c masked) − L(base)",
    description="Actually removes each channel in turn and measures how much the loss rises: exact but slow.",
    score=score_by_masking,
)
def oracle_scores(
    loss_without: Callable[[int], float],
    num_channels: int,
    base_loss: float,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_channel: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """s_c = L(with channel c masked) − L(base), one channel at a time.

    The ground truth of Molchanov et al., "Pruning Convolutional Neural Networks for Resource Efficient
    Inference", ICLR 2017, https://arxiv.org/abs/1611.06440 (§3.2).

    Args:
        loss_without: c ↦ the calibration loss with root channel c alone masked.
        num_channels: C.
        base_loss: the calibration loss with nothing masked.
        should_stop: polled before every channel; when it returns true, scoring stops.
        on_channel: called with c after channel c is done (for progress reports).

    Returns:
        ``[C]`` float32 loss increases (negative when removing the channel helps).

    Raises:
        ScoringCancelled: ``should_stop()`` returned true.
    """
    scores = torch.empty(int(num_channels), dtype=torch.float64)
    for c in range(int(num_channels)):
        if should_stop is not None and should_stop():
            raise ScoringCancelled(f"oracle scoring cancelled after {c} of {num_channels} channels")
        scores[c] = float(loss_without(c)) - float(base_loss)
        if on_channel is not None:
            on_channel(c)
    return scores.float()
