"""Activation-based criteria: how often, and how strongly, a channel fires after its ReLU.

* ``apoz`` — Hu, Peng, Tai & Tang, "Network Trimming: A Data-Driven Neuron Pruning Approach towards
  Efficient Deep Architectures" (2016), https://arxiv.org/abs/1607.03250. The Average Percentage of Zeros
  of channel c over N samples and the M positions of its output map (their Eq. 1):
  APoZ_c = Σ_n Σ_m [a_n,c,m = 0] / (N·M). A channel that is zero almost everywhere passes little on; the
  paper prunes the highest APoZ. Here higher means more important, so the score is 1 − APoZ_c.
* ``mean_activation`` — the mean post-ReLU activation of the channel, s_c = Σ_n Σ_m a_n,c,m / (N·M), an
  activation criterion Polyak & Wolf use to prune channels ("Channel-level acceleration of deep face
  representations", IEEE Access 2015, https://doi.org/10.1109/ACCESS.2015.2494536) and that Molchanov et
  al. 2017 (https://arxiv.org/abs/1611.06440, Sec. 2.2, Θ_MA) compare against the oracle. A channel whose
  output is small on average contributes little to the next layer.

a_n,c,m is max(0, ·) of the output of the layer where the channel's mask acts last (the BatchNorm after a
conv), i.e. the ReLU's output in conv → BN → ReLU networks (see ``explorer.criteria.statistics.post_relu``),
on the calibration samples. In a residual stream the network's ReLU follows the addition instead, and each
BN's own positive part is scored (the group score is the mean over its BNs). Both scores are means over
samples of a per-sample value, which is the ``"activations"`` contract of ``explorer.criteria.generic``.
"""

from __future__ import annotations

import torch

from explorer.criteria._registry import register_criterion


@register_criterion(
    "apoz",
    needs="activations",
    title="Hu et al., Network Trimming: A Data-Driven Neuron Pruning Approach towards Efficient Deep "
    "Architectures (2016)",
    url="https://arxiv.org/abs/1607.03250",
    formula="s_c = 1 − APoZ_c,  APoZ_c = Σ_n Σ_m [ReLU(a)_n,c,m = 0] / (N·M)",
    description="A channel that is zero after its ReLU on most images and positions passes little on.",
)
def apoz_scores(activation: torch.Tensor) -> torch.Tensor:
    """Hu et al. 2016: per sample, 1 − the fraction of the channel's positions that are zero.

    "Network Trimming: A Data-Driven Neuron Pruning Approach towards Efficient Deep Architectures",
    https://arxiv.org/abs/1607.03250 (Eq. 1). Averaged over the N samples this is 1 − APoZ_c, since every
    sample has the same M positions.

    Args:
        activation: ``[B, C, M]`` post-ReLU values (≥ 0) of B samples at M positions.

    Returns:
        ``[B, C]``: 1 − (1/M) Σ_m [a_b,c,m = 0].
    """
    return 1.0 - (activation == 0).float().mean(dim=2)


@register_criterion(
    "mean_activation",
    needs="activations",
    title="Polyak & Wolf, Channel-level acceleration of deep face representations (IEEE Access 2015)",
    url="https://doi.org/10.1109/ACCESS.2015.2494536",
    formula="s_c = Σ_n Σ_m ReLU(a)_n,c,m / (N·M)",
    description="A channel whose output after the ReLU is small on average contributes little to the next "
    "layer.",
)
def mean_activation_scores(activation: torch.Tensor) -> torch.Tensor:
    """Mean post-ReLU activation (Polyak & Wolf 2015; Θ_MA of Molchanov et al. 2017, Sec. 2.2), per sample.

    "Channel-level acceleration of deep face representations", IEEE Access 2015,
    https://doi.org/10.1109/ACCESS.2015.2494536. Averaged over the N samples: s_c = Σ_n Σ_m a_n,c,m / (N·M).

    Args:
        activation: ``[B, C, M]`` post-ReLU values of B samples at M positions.

    Returns:
        ``[B, C]``: (1/M) Σ_m a_b,c,m.
    """
    return activation.float().mean(dim=2)
