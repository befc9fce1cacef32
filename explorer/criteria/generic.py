"""The default strategy for each value of ``needs``: what a criterion's formula receives, and on which layers.

A criterion registered without its own ``score=`` strategy is served by the one for what it needs, so a
user's formula only has to follow the signature below:

=========================  ==================================================  ==============================
needs                      formula signature                                   layers scored → group score
=========================  ==================================================  ==============================
``"none"``                 ``fn(num_channels, seed) → [C]``                     the group as a whole
``"weights"``              ``fn(weight [C_out, ...]) → [C_out]``               every "out" conv or linear;
                                                                               ``reduction`` over them
``"bn"``                   ``fn(gamma [C]) → [C]``                             every "out" BatchNorm;
                                                                               ``reduction`` over them
``"activations"``          ``fn(activation [B, C, M]) → [B, C]`` per sample,   the "out" members where the
                           a = max(0, layer output) at its M positions; the    mask acts last (the BN after
                           score is its mean over the calibration samples      a conv); ``reduction``
``"gradients"``            ``fn(weight [C_out, ...], grad [C_out, ...])        every "out" conv or linear;
                           → [C_out]``, grad = ∂L̄/∂weight of the mean          ``reduction`` over them
                           calibration loss
``"per_sample_gradients"`` ``fn(fisher [C, K], weight [C, K]) → [C]``, the      every member, "out" and "in";
                           empirical Fisher diagonal of the K weights          summed per member and over
                           removed with each channel                           members
``"loss_oracle"``          ``fn(loss_without, num_channels, base_loss, *,       the group as a whole
                           should_stop, on_channel) → [C]``
=========================  ==================================================  ==============================

Built-in criteria with a different contract (``taylor`` reads activations × gradients, ``taylor_weight``
squares a sum over the whole group) bring their own strategy in their module.
"""

from __future__ import annotations

import zlib

from explorer.attention import head_filters
from explorer.criteria.base import (
    Scorer,
    ScoringRequest,
    channel_param_names,
    member_channel_sums,
    per_layer_channel,
    reduce_members,
    to_root,
    weight_layers,
)
from explorer.criteria.group_scores import GroupScores
from explorer.criteria.statistics import (
    collect_fisher_diagonal,
    collect_post_relu_statistics,
)
from explorer.errors import CoreText
from explorer.layers import BATCH_NORMS

Scored = tuple[dict[str, GroupScores], dict[str, str]]


def score_weights(request: ScoringRequest) -> Scored:
    """``fn(weight)`` on each "out" conv or linear member, reduced over the members."""
    out: dict[str, GroupScores] = {}
    for done, group in enumerate(request.groups):
        request.check_stop(f"before group {group.name}")
        if group.unit == "head":  # a head's "filter": its query, key, value rows and output columns
            filters = head_filters(request.modules[group.name])
            out[group.name] = reduce_members(group, {group.name: request.fn(filters)}, request.reduction)
            request.report(done + 1, len(request.groups))
            continue
        members = {
            m.module: to_root(request.fn(request.modules[m.module].weight), m, group.num_channels)
            for m in weight_layers(request, group)
        }
        out[group.name] = reduce_members(group, members, request.reduction)
        request.report(done + 1, len(request.groups))
    return out, {}


def score_batchnorm_scales(request: ScoringRequest) -> Scored:
    """``fn(gamma)`` on each "out" BatchNorm member; a group without one is reported, not scored."""
    out: dict[str, GroupScores] = {}
    reasons: dict[str, str] = {}
    for done, group in enumerate(request.groups):
        request.check_stop(f"before group {group.name}")
        members = {}
        for m in group.members:
            module = request.modules[m.module]
            if m.side == "out" and isinstance(module, BATCH_NORMS) and module.weight is not None:
                members[m.module] = to_root(request.fn(module.weight), m, group.num_channels)
        if members:
            out[group.name] = reduce_members(group, members, request.reduction)
        else:
            reasons[group.name] = CoreText(
                "criterion.no_batch_norm",
                f"{request.criterion}: no BatchNorm follows {group.name}",
                criterion=request.criterion,
                layer=group.name,
            )
        request.report(done + 1, len(request.groups))
    return out, reasons


def score_post_relu_activations(request: ScoringRequest) -> Scored:
    """``fn(activation)`` per sample at the "out" members where a channel's mask acts last, averaged over the
    calibration samples, reduced over those members.

    Zeroing a conv's output that goes straight into a BN does not remove the channel (BN adds β back), so,
    as for ``taylor``, the conv is left out when its own BN follows it.
    """
    stats = collect_post_relu_statistics(
        request.model,
        request.graph,
        [g.name for g in request.groups],
        request.calib,
        request.fn,
        request.batch_size,
        request.should_stop,
        criterion=request.criterion,
    )
    out: dict[str, GroupScores] = {}
    for done, group in enumerate(request.groups):
        outs = [m for m in group.members if m.side == "out" and m.module in stats.means]
        names = {m.module for m in outs}
        last = [m for m in outs if not (stats.direct_successors.get(m.module, set()) & names)] or outs
        members = {m.module: to_root(stats.means[m.module], m, group.num_channels) for m in last}
        out[group.name] = reduce_members(group, members, request.reduction)
        request.report(done + 1, len(request.groups))
    return out, {}


def score_weight_gradients(request: ScoringRequest) -> Scored:
    """``fn(weight, grad)`` on each "out" conv or linear member, with grad = ∂(mean calibration loss)/∂weight.

    The gradient is that of the whole calibration set's mean loss, accumulated over batches in eval mode
    (``collect_weight_gradients``), so it does not depend on ``batch_size``.
    """
    layers = {g.name: weight_layers(request, g) for g in request.groups}
    names = list(dict.fromkeys(f"{m.module}.weight" for members in layers.values() for m in members))
    grads = request.weight_gradients(names)
    out: dict[str, GroupScores] = {}
    for done, group in enumerate(request.groups):
        request.check_stop(f"before group {group.name}")
        members = {}
        for m in layers[group.name]:
            weight = request.modules[m.module].weight.detach().double().cpu()
            members[m.module] = to_root(
                request.fn(weight, grads[f"{m.module}.weight"]), m, group.num_channels
            )
        out[group.name] = reduce_members(group, members, request.reduction)
        request.report(done + 1, len(request.groups))
    return out, {}


def score_per_sample_gradients(request: ScoringRequest) -> Scored:
    """``fn(fisher, weight)`` on the channel rows of every member's parameters, summed (OBD is additive)."""
    names = channel_param_names(request, request.groups)
    fisher = collect_fisher_diagonal(
        request.model,
        names,
        request.calib,
        request.loss_fn,
        request.should_stop,
        criterion=request.criterion,
        batch_size=request.batch_size,
    )
    weights = {n: p.detach().double().cpu() for n, p in request.model.named_parameters() if n in fisher}
    out: dict[str, GroupScores] = {}
    for done, group in enumerate(request.groups):
        members = {
            layer: s.float()
            for layer, s in member_channel_sums(
                request,
                group,
                lambda name, dim: (
                    per_layer_channel(fisher[name], dim),
                    per_layer_channel(weights[name], dim),
                ),
                lambda pair: request.fn(*pair).double(),
            ).items()
        }
        # OBD saliencies of the weights removed together add up (diagonal Hessian): the group score is a sum.
        out[group.name] = reduce_members(group, members, "sum")
        request.report(done + 1, len(request.groups))
    return out, {}


def group_seed(seed: int, group: str) -> int:
    """A per-group seed that is stable across runs and machines (Python's ``hash`` of a str is not)."""
    return zlib.crc32(f"{int(seed)}:{group}".encode())


def score_seeded(request: ScoringRequest) -> Scored:
    """``fn(num_channels, seed)`` per group, each with its own seed derived from ``request.seed``."""
    out: dict[str, GroupScores] = {}
    for done, group in enumerate(request.groups):
        score = request.fn(group.num_channels, group_seed(request.seed, group.name))
        out[group.name] = GroupScores(group.name, score, {group.name: score}, "none")
        request.report(done + 1, len(request.groups))
    return out, {}


def score_by_masking(request: ScoringRequest) -> Scored:
    """``fn(loss_without, num_channels, base_loss)`` per group, with the session's masked calibration loss."""
    if not request.groups:
        return {}, {}
    masked_loss, base = request.masked_loss_and_base()
    total = sum(g.num_channels for g in request.groups)
    done = 0
    out: dict[str, GroupScores] = {}

    def tick(_channel: int) -> None:
        nonlocal done
        done += 1
        request.report(done, total)

    for group in request.groups:
        score = request.fn(
            lambda c, name=group.name: masked_loss(name, [c]),
            group.num_channels,
            base,
            should_stop=request.should_stop,
            on_channel=tick,
        )
        out[group.name] = GroupScores(group.name, score, {group.name: score}, "none")
    return out, {}


#: The strategy that serves a criterion registered without its own, by what it needs.
DEFAULT_SCORERS: dict[str, Scorer] = {
    "none": score_seeded,
    "weights": score_weights,
    "bn": score_batchnorm_scales,
    "activations": score_post_relu_activations,
    "gradients": score_weight_gradients,
    "per_sample_gradients": score_per_sample_gradients,
    "loss_oracle": score_by_masking,
}
