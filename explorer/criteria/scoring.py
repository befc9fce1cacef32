"""The scoring entry point: gather what a criterion needs, call its pure function, map layers to groups.

A group's channels live in several layers (its ``Member``s): the root conv, the BatchNorm after it, residual
partners whose outputs are added to it, and the consumers that read it. Each member lists its own channel
indices and, in parallel, the root channel each one belongs to; scores computed on a layer's own channels are
carried to root channel order through that map. How each criterion turns layers into one group score:

========================  ============================================================  ==================
criterion                 member layers scored (``GroupScores.members``)                group score
========================  ============================================================  ==================
l1, l2, fpgm              every "out" member conv or linear, on its own weight rows      ``reduction``
                          (consumers' input slices are *not* scored: the papers rank      over the members
                          a layer's filters, not the next layer's columns)
bn_scale                  every "out" member BatchNorm (|γ|); a group with none is       ``reduction``
                          reported by ``CriterionNotApplicable``
taylor                    the "out" members where the mask acts last, i.e. whose output  ``reduction``
                          is not fed straight into another out member (the BN after a
                          conv, both BNs of a residual add); ℓ2-normalised per layer
taylor_weight             every member, "out" and "in": (Σ_{w in its slice} g·w)²         (Σ_members Σ g·w)²
hessian                   every member, "out" and "in": ½ Σ_{w in its slice} F·w²        sum (OBD is additive)
random, oracle            the group as a whole, under the root's name                    the scores
========================  ============================================================  ==================

"Fed straight into" means that the member's output tensor object is the other member's input, as for
conv → BN, or BN → in-place activation → depthwise conv (an in-place op returns the same tensor). With a
*non*-in-place activation between a BN and a depthwise conv of the same group, both BNs are scored: zeroing
either removes the channel, and the mean of their (normalised) scores is used.

``reduction`` is ``"mean"`` by default (also ``"sum"``, ``"max"``, ``"min"``); a residual group's l1 score is
thus the mean of its convs' own l1 norms, and for l1, l2 and fpgm the root conv's own score is always in
``members[group]``. For
taylor_weight and hessian the papers define how a channel's weights combine, so ``reduction`` does not apply
and ``GroupScores.reduction`` names what was done instead.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from explorer.criteria._exceptions import CriterionNotApplicable, ScoringCancelled
from explorer.criteria._registry import CriterionInfo, get_criterion
from explorer.criteria.statistics import (
    LossFn,
    collect_activation_gradients,
    collect_fisher_diagonal,
    collect_weight_gradients,
)
from explorer.errors import ExplorerError, ModelError
from explorer.graph import CHANNEL_LAYERS, GroupGraph, Member, PruningGroup

_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass
class GroupScores:
    """One group's channel scores under one criterion; higher = more important, the lowest are pruned.

    Attributes:
        group: the group's name (its root layer).
        score: ``[num_channels]`` float32, the group score of each root channel.
        members: layer name → ``[num_channels]`` float32, that layer's own score in root channel order (see
            the module docstring for which layers each criterion scores).
        reduction: how ``members`` became ``score``: ``"mean"``, ``"sum"``, ``"max"``, ``"min"``,
            ``"square_of_sum"`` (taylor_weight) or ``"none"`` (scored as a whole).
    """

    group: str
    score: torch.Tensor
    members: dict[str, torch.Tensor]
    reduction: str


_REDUCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    # Stacked member scores are [M, C]; NaN marks a root channel a member does not carry.
    "mean": lambda s: torch.nanmean(s, dim=0),
    "sum": lambda s: torch.nansum(s, dim=0),
    "max": lambda s: s.nan_to_num(nan=float("-inf")).amax(dim=0),
    "min": lambda s: s.nan_to_num(nan=float("inf")).amin(dim=0),
}


@dataclass
class _Request:
    info: CriterionInfo
    model: nn.Module
    modules: dict[str, nn.Module]
    graph: GroupGraph
    groups: list[PruningGroup]
    calib: Any
    seed: int
    masked_loss: Callable[[str, list[int]], float] | None
    base_loss: float | None
    progress: Callable[[int, int], None] | None
    should_stop: Callable[[], bool] | None
    reduction: str
    loss_fn: LossFn
    batch_size: int

    def check_stop(self, what: str) -> None:
        if self.should_stop is not None and self.should_stop():
            raise ScoringCancelled(f"{self.info.name} scoring cancelled {what}")

    def report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)


# A strategy scores the requested groups and says why it could not score others.
_Strategy = Callable[[_Request], tuple[dict[str, GroupScores], dict[str, str]]]
_BY_NAME: dict[str, _Strategy] = {}
_BY_NEEDS: dict[str, _Strategy] = {}


def _strategy(*, names: Sequence[str] = (), needs: Sequence[str] = ()) -> Callable[[_Strategy], _Strategy]:
    # Criteria registered later by users fall back on the strategy of what they need.
    def decorator(fn: _Strategy) -> _Strategy:
        for name in names:
            _BY_NAME[name] = fn
        for need in needs:
            _BY_NEEDS[need] = fn
        return fn

    return decorator


def compute_group_scores(
    criterion: str,
    model: nn.Module,
    graph: GroupGraph,
    *,
    groups: Sequence[str] | None = None,
    calib: Any = None,
    seed: int = 0,
    masked_loss: Callable[[str, list[int]], float] | None = None,
    base_loss: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    reduction: str = "mean",
    loss_fn: LossFn | None = None,
    batch_size: int = 128,
) -> dict[str, GroupScores]:
    """Score every channel of the requested groups with ``criterion``.

    The model is left exactly as it was: same weights, same ``requires_grad`` flags, same train/eval mode,
    no hooks, no ``.grad`` written.

    Args:
        criterion: a registered name (see ``list_criteria()``).
        model: the network (the engine's private copy).
        graph: its groups, from ``build_groups``.
        groups: names of the groups to score; default, every prunable group.
        calib: calibration split with ``.inputs [N, C, H, W]`` and ``.labels [N]``, for taylor,
            taylor_weight and hessian.
        seed: seeds ``random`` (each group gets its own stream, derived from the seed and its name).
        masked_loss: for ``oracle``: ``(group, pruned_root_idxs) → calibration loss`` with those channels
            masked.
        base_loss: for ``oracle``: the loss with nothing masked; default ``masked_loss(first group, [])``.
        progress: called as ``progress(done, total)``: per channel for ``oracle``, per group otherwise.
        should_stop: polled between channels, batches and groups.
        reduction: how per-layer scores combine into the group score, for the criteria where that is a
            choice (see the module docstring).
        loss_fn: ``(logits, labels) → mean loss``; default cross-entropy.
        batch_size: calibration samples per pass for the gradient criteria.

    Returns:
        group name → its scores, in the order of ``groups``.

    Raises:
        ExplorerError: unknown criterion, group or reduction; ``masked_loss`` missing for ``oracle``.
        DataError: ``calib`` missing or malformed for a criterion that needs data.
        ModelError: NaN or Inf in the weights or buffers used (the message names them).
        ScoringCancelled: ``should_stop()`` returned true.
        CriterionNotApplicable: the criterion means nothing for some groups (``bn_scale`` without a
            BatchNorm); ``error.partial`` holds the other groups' scores, ``error.reasons`` says why.
    """
    info = get_criterion(criterion)
    if reduction not in _REDUCTIONS:
        raise ExplorerError(f"unknown reduction {reduction!r}; choose one of {', '.join(_REDUCTIONS)}")
    names = [g.name for g in graph.prunable] if groups is None else list(groups)
    chosen = []
    for name in names:
        try:
            chosen.append(graph[name])
        except KeyError:
            raise ExplorerError(
                f"no group named {name!r}; known groups: {', '.join(g.name for g in graph.groups)}"
            ) from None
    strategy = _BY_NAME.get(info.name) or _BY_NEEDS.get(info.needs)
    if strategy is None:
        raise ExplorerError(f"criterion {info.name!r} needs {info.needs!r}, which no scoring strategy serves")
    if not chosen:
        return {}
    modules = dict(model.named_modules())
    used = list(modules) if info.needs_data else sorted({m.module for g in chosen for m in g.members})
    _check_finite(modules, used)
    request = _Request(
        info,
        model,
        modules,
        graph,
        chosen,
        calib,
        int(seed),
        masked_loss,
        base_loss,
        progress,
        should_stop,
        reduction,
        loss_fn or F.cross_entropy,
        int(batch_size),
    )
    scores, reasons = strategy(request)
    if reasons:
        raise CriterionNotApplicable(info.name, reasons, scores)
    return scores


# ------------------------------------------------------------------------------------------------- helpers
def _check_finite(modules: Mapping[str, nn.Module], names: Sequence[str]) -> None:
    bad = []
    for name in names:
        module = modules[name]
        for attr, tensor in (*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)):
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                bad.append(f"{name}.{attr}" if name else attr)
    if bad:
        raise ModelError(
            f"non-finite weights (NaN or Inf) in {', '.join(bad)}: the model is broken (a diverged training "
            "run or a bad checkpoint?), so its channels cannot be scored"
        )


def _to_root(values: torch.Tensor, member: Member, num_channels: int, combine: str = "mean") -> torch.Tensor:
    """``[C_layer] → [num_channels]``: a layer's per-channel values in root order.

    Several layer channels can belong to one root channel (a linear layer reading a flattened conv output
    has H·W inputs per channel): ``combine`` is ``"sum"`` for additive quantities, ``"mean"`` for per-filter
    ones. Root channels the member does not carry are NaN.
    """
    values = values.detach().double().cpu()
    idxs = torch.tensor(member.idxs, dtype=torch.long)
    roots = torch.tensor(member.root_idxs, dtype=torch.long)
    total = torch.zeros(num_channels, dtype=torch.float64).index_add_(0, roots, values[idxs])
    count = torch.zeros(num_channels, dtype=torch.float64).index_add_(
        0, roots, torch.ones(len(idxs), dtype=torch.float64)
    )
    if combine == "mean":
        total = total / count.clamp_min(1)
    return torch.where(count > 0, total, torch.full_like(total, float("nan"))).float()


def _reduced(group: PruningGroup, members: dict[str, torch.Tensor], reduction: str) -> GroupScores:
    stacked = torch.stack(list(members.values())).double()
    score = _REDUCTIONS[reduction](stacked).float()
    return GroupScores(group.name, score, members, reduction)


def _weight_layers(request: _Request, group: PruningGroup) -> list[Member]:
    modules = request.modules
    return [m for m in group.members if m.side == "out" and isinstance(modules[m.module], CHANNEL_LAYERS)]


def _channel_params(module: nn.Module, side: str) -> list[tuple[str, int]]:
    """``(attribute, dimension)`` of every parameter of ``module`` indexed by the member's channel indices."""
    if side == "out":
        if isinstance(module, (*CHANNEL_LAYERS, *_BATCH_NORMS)):
            return [(a, 0) for a in ("weight", "bias") if getattr(module, a, None) is not None]
        if isinstance(module, nn.PReLU) and module.num_parameters > 1:
            return [("weight", 0)]
        return []
    if isinstance(module, nn.Linear) or (isinstance(module, _CONVS) and module.groups == 1):
        return [("weight", 1)]
    # A depthwise conv is listed as an "out" member, where its filters are already counted.
    return []


def _per_layer_channel(t: torch.Tensor, dim: int) -> torch.Tensor:
    """``[..., C_layer (at dim), ...] → [C_layer, K]``: one row per layer channel."""
    moved = t.movedim(dim, 0)
    return moved.reshape(moved.shape[0], -1)


def _param_names(request: _Request, groups: Sequence[PruningGroup]) -> list[str]:
    names = []
    for group in groups:
        for member in group.members:
            for attr, _ in _channel_params(request.modules[member.module], member.side):
                names.append(f"{member.module}.{attr}")
    return list(dict.fromkeys(names))


# ---------------------------------------------------------------------------------------------- strategies
@_strategy(needs=("weights",))
def _score_weights(request: _Request) -> tuple[dict[str, GroupScores], dict[str, str]]:
    out: dict[str, GroupScores] = {}
    for done, group in enumerate(request.groups):
        request.check_stop(f"before group {group.name}")
        members = {
            m.module: _to_root(request.info.fn(request.modules[m.module].weight), m, group.num_channels)
            for m in _weight_layers(request, group)
        }
        out[group.name] = _reduced(group, members, request.reduction)
        request.report(done + 1, len(request.groups))
    return out, {}


@_strategy(needs=("bn",))
def _score_bn(request: _Request) -> tuple[dict[str, GroupScores], dict[str, str]]:
    out: dict[str, GroupScores] = {}
    reasons: dict[str, str] = {}
    for done, group in enumerate(request.groups):
        request.check_stop(f"before group {group.name}")
        members = {}
        for m in group.members:
            module = request.modules[m.module]
            if m.side == "out" and isinstance(module, _BATCH_NORMS) and module.weight is not None:
                members[m.module] = _to_root(request.info.fn(module.weight), m, group.num_channels)
        if members:
            out[group.name] = _reduced(group, members, request.reduction)
        else:
            reasons[group.name] = f"{request.info.name}: no BatchNorm follows {group.name}"
        request.report(done + 1, len(request.groups))
    return out, reasons


@_strategy(names=("taylor",))
def _score_taylor(request: _Request) -> tuple[dict[str, GroupScores], dict[str, str]]:
    stats = collect_activation_gradients(
        request.model,
        request.graph,
        [g.name for g in request.groups],
        request.calib,
        request.loss_fn,
        request.batch_size,
        request.should_stop,
    )
    out: dict[str, GroupScores] = {}
    for done, group in enumerate(request.groups):
        outs = [m for m in group.members if m.side == "out"]
        out_names = {m.module for m in outs}
        # Zeroing a conv's output that goes straight into a BN does not remove the channel (BN adds β back);
        # the mask that removes it acts on the last out member of each chain.
        last = [m for m in outs if not (stats.direct_successors.get(m.module, set()) & out_names)] or outs
        members = {
            m.module: _to_root(request.info.fn(stats.products[m.module]), m, group.num_channels) for m in last
        }
        out[group.name] = _reduced(group, members, request.reduction)
        request.report(done + 1, len(request.groups))
    return out, {}


def _member_channel_sums(
    request: _Request, group: PruningGroup, per_param: Callable[[str, int], torch.Tensor], combine_fn
) -> dict[str, torch.Tensor]:
    """member layer → ``[num_channels]`` of ``combine_fn`` over the rows of each of its channel parameters."""
    sums: dict[str, torch.Tensor] = {}
    for member in group.members:
        module = request.modules[member.module]
        params = _channel_params(module, member.side)
        if not params:
            continue
        per_channel = sum(combine_fn(per_param(f"{member.module}.{attr}", dim)) for attr, dim in params)
        in_root = _to_root(per_channel, member, group.num_channels, combine="sum").double()
        sums[member.module] = sums.get(member.module, 0) + in_root
    return sums


@_strategy(names=("taylor_weight",))
def _score_taylor_weight(request: _Request) -> tuple[dict[str, GroupScores], dict[str, str]]:
    names = _param_names(request, request.groups)
    grads = collect_weight_gradients(
        request.model, names, request.calib, request.loss_fn, request.batch_size, request.should_stop
    )
    weights = {n: p.detach().double().cpu() for n, p in request.model.named_parameters() if n in grads}
    out: dict[str, GroupScores] = {}
    for done, group in enumerate(request.groups):
        signed = _member_channel_sums(
            request,
            group,
            lambda name, dim: _per_layer_channel(grads[name] * weights[name], dim),
            lambda rows: rows.sum(dim=1),
        )
        stacked = torch.stack(list(signed.values()))
        members = {layer: request.info.fn(row.unsqueeze(0)) for layer, row in signed.items()}
        out[group.name] = GroupScores(group.name, request.info.fn(stacked), members, "square_of_sum")
        request.report(done + 1, len(request.groups))
    return out, {}


@_strategy(needs=("per_sample_gradients",))
def _score_hessian(request: _Request) -> tuple[dict[str, GroupScores], dict[str, str]]:
    names = _param_names(request, request.groups)
    fisher = collect_fisher_diagonal(
        request.model, names, request.calib, request.loss_fn, request.should_stop
    )
    weights = {n: p.detach().double().cpu() for n, p in request.model.named_parameters() if n in fisher}
    out: dict[str, GroupScores] = {}
    for done, group in enumerate(request.groups):
        members = {
            layer: s.float()
            for layer, s in _member_channel_sums(
                request,
                group,
                lambda name, dim: (
                    _per_layer_channel(fisher[name], dim),
                    _per_layer_channel(weights[name], dim),
                ),
                lambda pair: request.info.fn(*pair).double(),
            ).items()
        }
        # OBD saliencies of the weights removed together add up (diagonal Hessian): the group score is a sum.
        out[group.name] = _reduced(group, members, "sum")
        request.report(done + 1, len(request.groups))
    return out, {}


def group_seed(seed: int, group: str) -> int:
    """A per-group seed that is stable across runs and machines (Python's ``hash`` of a str is not)."""
    return zlib.crc32(f"{int(seed)}:{group}".encode())


@_strategy(needs=("none",))
def _score_random(request: _Request) -> tuple[dict[str, GroupScores], dict[str, str]]:
    out: dict[str, GroupScores] = {}
    for done, group in enumerate(request.groups):
        score = request.info.fn(group.num_channels, group_seed(request.seed, group.name))
        out[group.name] = GroupScores(group.name, score, {group.name: score}, "none")
        request.report(done + 1, len(request.groups))
    return out, {}


@_strategy(needs=("loss_oracle",))
def _score_oracle(request: _Request) -> tuple[dict[str, GroupScores], dict[str, str]]:
    masked_loss = request.masked_loss
    if masked_loss is None:
        raise ExplorerError(
            f"{request.info.name} needs masked_loss(group, pruned_root_idxs) -> loss, which the session "
            "provides; none was given"
        )
    if not request.groups:
        return {}, {}
    base = request.base_loss
    if base is None:
        base = float(masked_loss(request.groups[0].name, []))
    total = sum(g.num_channels for g in request.groups)
    done = 0
    out: dict[str, GroupScores] = {}

    def tick(_channel: int) -> None:
        nonlocal done
        done += 1
        request.report(done, total)

    for group in request.groups:
        score = request.info.fn(
            lambda c, name=group.name: masked_loss(name, [c]),
            group.num_channels,
            base,
            should_stop=request.should_stop,
            on_channel=tick,
        )
        out[group.name] = GroupScores(group.name, score, {group.name: score}, "none")
    return out, {}
