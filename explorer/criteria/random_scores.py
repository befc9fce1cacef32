"""The random baseline.

Liu, Sun, Zhou, Huang & Darrell, "Rethinking the Value of Network Pruning", ICLR 2019,
https://arxiv.org/abs/1810.05270: after fine-tuning, pruned architectures often do as well as carefully
chosen ones, so every criterion should be compared against removing channels at random.
"""

from __future__ import annotations

import torch

from explorer.criteria._registry import register_criterion
from explorer.criteria.generic import score_seeded


@register_criterion(
    "random",
    needs="none",
    title="Liu et al., Rethinking the Value of Network Pruning (ICLR 2019)",
    url="https://arxiv.org/abs/1810.05270",
    formula="s_c ~ U(0, 1), seeded",
    description="Channels are ranked at random: the baseline every other criterion has to beat.",
    score=score_seeded,
)
def random_scores(num_channels: int, seed: int) -> torch.Tensor:
    """Seeded uniform scores, s_c ~ U(0, 1); the same seed always gives the same scores.

    The baseline of Liu et al., "Rethinking the Value of Network Pruning", ICLR 2019,
    https://arxiv.org/abs/1810.05270.

    Args:
        num_channels: C.
        seed: the generator's seed.

    Returns:
        ``[C]`` float32 scores in [0, 1).
    """
    # A private generator: the global RNG is neither read nor advanced.
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    return torch.rand(int(num_channels), generator=generator, dtype=torch.float32)
