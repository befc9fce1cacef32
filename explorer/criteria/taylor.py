"""First-order Taylor criteria: how much the loss would change, to first order, if a channel were removed.

Two papers by Molchanov et al., with different expansions:

* ``taylor`` — "Pruning Convolutional Neural Networks for Resource Efficient Inference", ICLR 2017,
  https://arxiv.org/abs/1611.06440. Removing feature map h_c sets it to zero, so to first order
  ΔL ≈ −Σ_positions h·∂L/∂h. The criterion (their Eq. 7-8) is, per sample n,
  Θ_n,c = |(1/M) Σ_m h_n,c,m · ∂L/∂h_n,c,m| over the M spatial positions, averaged over the samples and then
  ℓ2-normalised within the layer (their Eq. 9), Θ_c ← Θ_c / ‖Θ‖₂, so layers of different depth compare.
* ``taylor_weight`` — "Importance Estimation for Neural Network Pruning", CVPR 2019,
  https://arxiv.org/abs/1906.10771. The expansion is in the parameters instead: for the set S of all weights
  that disappear with channel c, I_c = (Σ_{s∈S} g_s·w_s)² (their Eq. 4 with the group contribution of
  Eq. 7, including the BatchNorm γ and β that their "Taylor FO on BN" variant uses).

  What is computed here, precisely: S is every parameter entry indexed by the channel in every member of
  the group: the filter W[c] and bias b[c] of each "out" conv or linear layer, γ[c] and β[c] of each "out"
  BatchNorm (and a per-channel PReLU slope), and the input slice W[:, c] of each consumer (all of its
  columns for a linear layer reading a flattened map). g = ∂L̄/∂w is the gradient of the *mean* loss over
  the whole calibration set, accumulated over batches, in eval mode. The paper instead averages I over the
  minibatches it sees during training; squaring one full-set gradient rather than averaging squares of
  minibatch gradients leaves out the minibatch noise (E[x]² instead of E[x²]) and makes the score independent
  of the batch size.

How the statistics are gathered (``explorer.criteria.statistics``) is documented there.

Which layers are scored: for ``taylor``, the "out" members where the mask acts last, i.e. whose output is
not fed straight into another out member (the BN after a conv, both BNs of a residual add), ℓ2-normalised
per layer and combined by ``reduction``. "Fed straight into" means that the member's output tensor object is
the other member's input, as for conv → BN, or BN → in-place activation → depthwise conv (an in-place op
returns the same tensor). With a *non*-in-place activation between a BN and a depthwise conv of the same
group, both BNs are scored: zeroing either removes the channel, and the mean of their (normalised) scores is
used. For ``taylor_weight``, every member, "out" and "in": (Σ_{w in its slice} g·w)² per member, and
(Σ_members Σ g·w)² for the group (``reduction`` does not apply; it is reported as ``"square_of_sum"``).
"""

from __future__ import annotations

import torch

from explorer.criteria._registry import register_criterion
from explorer.criteria.base import (
    ScoringRequest,
    channel_param_names,
    member_channel_sums,
    per_layer_channel,
    reduce_members,
    to_root,
)
from explorer.criteria.group_scores import GroupScores
from explorer.criteria.statistics import (
    collect_activation_gradients,
    collect_head_gradients,
)


def score_activation_gradients(request: ScoringRequest) -> tuple[dict[str, GroupScores], dict[str, str]]:
    """``fn(products [N, C])`` on the "out" members where a channel's mask acts last, reduced over them;
    for a group of attention heads, ``fn(products [N, H])`` on the heads' outputs."""
    channel_groups = [g.name for g in request.groups if g.unit != "head"]
    head_layers = [g.name for g in request.groups if g.unit == "head"]
    stats = collect_activation_gradients(
        request.model,
        request.graph,
        channel_groups,
        request.calib,
        request.loss_fn,
        request.batch_size,
        request.should_stop,
        criterion=request.criterion,
    )
    heads = (
        collect_head_gradients(
            request.model,
            head_layers,
            request.calib,
            request.loss_fn,
            request.batch_size,
            request.should_stop,
            criterion=request.criterion,
        )
        if head_layers
        else {}
    )
    out: dict[str, GroupScores] = {}
    for done, group in enumerate(request.groups):
        if group.unit == "head":
            out[group.name] = reduce_members(group, {group.name: request.fn(heads[group.name])}, "mean")
            request.report(done + 1, len(request.groups))
            continue
        outs = [m for m in group.members if m.side == "out"]
        out_names = {m.module for m in outs}
        # Zeroing a conv's output that goes straight into a BN does not remove the channel (BN adds β back);
        # the mask that removes it acts on the last out member of each chain.
        last = [m for m in outs if not (stats.direct_successors.get(m.module, set()) & out_names)] or outs
        members = {
            m.module: to_root(request.fn(stats.products[m.module]), m, group.num_channels) for m in last
        }
        out[group.name] = reduce_members(group, members, request.reduction)
        request.report(done + 1, len(request.groups))
    return out, {}


def score_group_weight_gradients(request: ScoringRequest) -> tuple[dict[str, GroupScores], dict[str, str]]:
    """``fn(signed sums [M, C])`` of g·w over every member's channel slices, for the group and per member."""
    names = channel_param_names(request, request.groups)
    grads = request.weight_gradients(names)
    weights = {n: p.detach().double().cpu() for n, p in request.model.named_parameters() if n in grads}
    out: dict[str, GroupScores] = {}
    for done, group in enumerate(request.groups):
        signed = member_channel_sums(
            request,
            group,
            lambda name, dim: per_layer_channel(grads[name] * weights[name], dim),
            lambda rows: rows.sum(dim=1),
        )
        stacked = torch.stack(list(signed.values()))
        members = {layer: request.fn(row.unsqueeze(0)) for layer, row in signed.items()}
        out[group.name] = GroupScores(group.name, request.fn(stacked), members, "square_of_sum")
        request.report(done + 1, len(request.groups))
    return out, {}


@register_criterion(
    "taylor",
    needs="gradients",
    title="Molchanov et al., Pruning Convolutional Neural Networks for Resource Efficient Inference "
    "(ICLR 2017)",
    url="https://arxiv.org/abs/1611.06440",
    formula="Θ_c = mean_n |mean_positions(a_n,c · ∂L/∂a_n,c)|,  then Θ ← Θ / ‖Θ‖₂ per layer",
    description="Estimates, from activations and their gradients, how much the loss would rise if the "
    "channel's output were set to zero.",
    score=score_activation_gradients,
)
def taylor_scores(activation_grad_products: torch.Tensor) -> torch.Tensor:
    """Molchanov et al. 2017: Θ_c = mean_n |p_n,c|, ℓ2-normalised over the layer's channels.

    "Pruning Convolutional Neural Networks for Resource Efficient Inference", ICLR 2017,
    https://arxiv.org/abs/1611.06440 (Eq. 7-9).

    Args:
        activation_grad_products: ``[N, C]``, for sample n and channel c the signed spatial mean
            p_n,c = mean_m a_n,c,m · ∂ℓ_n/∂a_n,c,m of the channel's activation times its gradient.

    Returns:
        ``[C]`` float32 scores with unit ℓ2 norm (all zeros if every product is zero).
    """
    theta = activation_grad_products.detach().double().abs().mean(dim=0)
    norm = theta.norm()
    # A layer whose products all vanish (dead ReLUs everywhere) has no ranking to normalise.
    return (theta / norm if norm > 0 else theta).float()


@register_criterion(
    "taylor_weight",
    needs="gradients",
    title="Molchanov et al., Importance Estimation for Neural Network Pruning (CVPR 2019)",
    url="https://arxiv.org/abs/1906.10771",
    formula="I_c = (Σ_{w ∈ channel c} w · ∂L/∂w)²  over the filter, its BN γ and β, and the consumers' "
    "input slices",
    description="Estimates the loss change from every weight that disappears with the channel, in the "
    "filter, its BatchNorm and the next layer.",
    score=score_group_weight_gradients,
)
def taylor_weight_scores(weight_grad_products: torch.Tensor) -> torch.Tensor:
    """Molchanov et al. 2019: I_c = (Σ_{s∈S_c} g_s·w_s)².

    "Importance Estimation for Neural Network Pruning", CVPR 2019, https://arxiv.org/abs/1906.10771
    (Eq. 4 and 7).

    Args:
        weight_grad_products: ``[M, C]``: row m holds, for each channel c, the signed sum of g·w over the
            weights of member layer m that are removed with c. Rows are summed before squaring, because the
            paper's group contribution is the square of the whole sum, not a sum of squares.

    Returns:
        ``[C]`` float32 scores.
    """
    return weight_grad_products.detach().double().sum(dim=0).square().float()
