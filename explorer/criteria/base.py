"""The contract between the scoring entry point and a criterion, and the helpers every strategy shares.

A criterion is three things, registered together (``register_criterion``):

* its *formula*, a pure function on tensors (``CriterionInfo.fn``), whose signature is fixed by what the
  criterion ``needs`` (see ``explorer.criteria.generic``);
* its *strategy* (``Scorer``): given a ``ScoringRequest``, it gathers the statistics the formula needs,
  calls ``request.fn`` on them layer by layer, and maps the layers' scores to their groups;
* its *explanation* (``Explainer``): one channel's per-term numbers, for the "why" panel.

A group's channels live in several layers (its ``Member``s): each member lists its own channel indices and,
in parallel, the root channel each one belongs to; ``to_root`` carries a layer's scores to root order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from explorer.criteria._exceptions import ScoringCancelled
from explorer.criteria.group_scores import GroupScores
from explorer.criteria.statistics import LossFn, collect_weight_gradients
from explorer.errors import ExplorerError
from explorer.graph import GroupGraph, Member, PruningGroup
from explorer.layers import BATCH_NORMS, CHANNEL_LAYERS, CONVS

#: How stacked member scores ``[M, C]`` become the group score; NaN marks a root channel a member lacks.
REDUCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "mean": lambda s: torch.nanmean(s, dim=0),
    "sum": lambda s: torch.nansum(s, dim=0),
    "max": lambda s: s.nan_to_num(nan=float("-inf")).amax(dim=0),
    "min": lambda s: s.nan_to_num(nan=float("inf")).amin(dim=0),
}


@dataclass
class ScoringRequest:
    """Everything a criterion's strategy may use to score a set of groups.

    Attributes:
        criterion: the criterion's registered name (for messages).
        fn: its pure formula.
        model: the network; a strategy must leave it exactly as it found it.
        modules: ``dict(model.named_modules())``.
        graph: the model's groups.
        groups: the groups to score, in the order of the result.
        calib: calibration split with ``.inputs [N, ...]`` and ``.labels [N]`` (or ``None``).
        seed: seed for random criteria.
        masked_loss: ``(group, pruned_root_idxs) → calibration loss``, for the oracle.
        base_loss: the loss with nothing masked, for the oracle (``None``: measure it).
        progress: ``progress(done, total)`` callback, or ``None``.
        should_stop: polled between groups, batches and channels, or ``None``.
        reduction: a key of ``REDUCTIONS``, for the criteria where combining member layers is a choice.
        loss_fn: ``(logits, labels) → mean loss``.
        batch_size: calibration samples per pass.
    """

    criterion: str
    fn: Callable[..., Any]
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

    def masked_loss_and_base(self) -> tuple[Callable[[str, Sequence[int]], float], float]:
        """The session's masked calibration loss ``masked_loss(group, pruned_root_idxs)`` and the unpruned
        loss; a clear error when the caller gave no masked loss (the oracles need one)."""
        if self.masked_loss is None:
            raise ExplorerError(
                f"{self.criterion} needs masked_loss(group, pruned_root_idxs) -> loss, which the session "
                "provides; none was given"
            )
        base = self.base_loss
        if base is None:
            base = float(self.masked_loss(self.groups[0].name, []))
        return self.masked_loss, base

    def weight_gradients(self, names: Sequence[str]) -> dict[str, torch.Tensor]:
        """∂(mean calibration loss)/∂ each named parameter, over the whole calibration split (see
        ``collect_weight_gradients``)."""
        return collect_weight_gradients(
            self.model,
            list(names),
            self.calib,
            self.loss_fn,
            self.batch_size,
            self.should_stop,
            criterion=self.criterion,
        )

    def check_stop(self, what: str) -> None:
        """Raise ``ScoringCancelled`` if ``should_stop()`` turned true."""
        if self.should_stop is not None and self.should_stop():
            raise ScoringCancelled(f"{self.criterion} scoring cancelled {what}")

    def report(self, done: int, total: int) -> None:
        """Pass progress on to the caller's callback, if any."""
        if self.progress is not None:
            self.progress(done, total)


#: A strategy scores the requested groups: ``request → (group → scores, group → why it was not scored)``.
Scorer = Callable[[ScoringRequest], tuple[dict[str, GroupScores], dict[str, str]]]

#: An explanation: ``(model, group, scores, channel) → {"kind", "terms", "n_terms", "layer_value"}``.
Explainer = Callable[[nn.Module, PruningGroup, GroupScores, int], dict[str, Any]]

#: At most this many terms of a sum are listed in an explanation.
MAX_TERMS = 6


def explain_value(model: nn.Module, group: PruningGroup, scores: GroupScores, channel: int) -> dict[str, Any]:
    """The explanation of a criterion with no per-weight terms to show (data-driven or random)."""
    return {"kind": "value", "terms": [], "n_terms": 0, "layer_value": math.nan}


def explanation(kind: str, terms: torch.Tensor, layer_value: float) -> dict[str, Any]:
    """An explanation dict listing the first ``MAX_TERMS`` of ``terms`` (a 1-D tensor) and their count."""
    flat = terms.reshape(-1)
    return {
        "kind": kind,
        "terms": [float(v) for v in flat[:MAX_TERMS]],
        "n_terms": int(flat.numel()),
        "layer_value": float(layer_value),
    }


def root_weight(model: nn.Module, group: PruningGroup) -> torch.Tensor | None:
    """The weight of the group's root layer (``[C_out, ...]``), or ``None`` if it has none."""
    weight = getattr(model.get_submodule(group.name), "weight", None)
    return weight.detach() if isinstance(weight, torch.Tensor) else None


def to_root(values: torch.Tensor, member: Member, num_channels: int, combine: str = "mean") -> torch.Tensor:
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


def reduce_members(group: PruningGroup, members: dict[str, torch.Tensor], reduction: str) -> GroupScores:
    """Combine the member layers' scores (each ``[num_channels]``) into the group score by ``reduction``."""
    stacked = torch.stack(list(members.values())).double()
    score = REDUCTIONS[reduction](stacked).float()
    return GroupScores(group.name, score, members, reduction)


def weight_layers(request: ScoringRequest, group: PruningGroup) -> list[Member]:
    """The group's "out" members that are convs or linear layers (whose filters the weight criteria rank)."""
    modules = request.modules
    return [m for m in group.members if m.side == "out" and isinstance(modules[m.module], CHANNEL_LAYERS)]


def channel_params(module: nn.Module, side: str) -> list[tuple[str, int]]:
    """``(attribute, dimension)`` of every parameter of ``module`` indexed by the member's channel indices."""
    if side == "out":
        if isinstance(module, nn.MultiheadAttention):  # a head's query, key and value rows
            names = ("in_proj_weight", "in_proj_bias")
            return [(a, 0) for a in names if getattr(module, a, None) is not None]
        if isinstance(module, (*CHANNEL_LAYERS, *BATCH_NORMS)):
            return [(a, 0) for a in ("weight", "bias") if getattr(module, a, None) is not None]
        if isinstance(module, nn.PReLU) and module.num_parameters > 1:
            return [("weight", 0)]
        return []
    if isinstance(module, nn.Linear) or (isinstance(module, CONVS) and module.groups == 1):
        return [("weight", 1)]
    # A depthwise conv is listed as an "out" member, where its filters are already counted.
    return []


def per_layer_channel(t: torch.Tensor, dim: int) -> torch.Tensor:
    """``[..., C_layer (at dim), ...] → [C_layer, K]``: one row per layer channel."""
    moved = t.movedim(dim, 0)
    return moved.reshape(moved.shape[0], -1)


def channel_param_names(request: ScoringRequest, groups: Sequence[PruningGroup]) -> list[str]:
    """Dotted names of every parameter that some member of ``groups`` indexes by channel, without repeats."""
    names = []
    for group in groups:
        for member in group.members:
            for attr, _ in channel_params(request.modules[member.module], member.side):
                names.append(f"{member.module}.{attr}")
    return list(dict.fromkeys(names))


def member_channel_sums(
    request: ScoringRequest,
    group: PruningGroup,
    per_param: Callable[[str, int], Any],
    combine_fn: Callable[[Any], torch.Tensor],
) -> dict[str, torch.Tensor]:
    """member layer → ``[num_channels]`` of ``combine_fn`` over the rows of each of its channel parameters.

    Args:
        request: the scoring request.
        group: the group.
        per_param: ``(parameter name, channel dimension) → rows``, what ``combine_fn`` reads.
        combine_fn: rows → ``[C_layer]``, one number per layer channel.
    """
    sums: dict[str, torch.Tensor] = {}
    for member in group.members:
        module = request.modules[member.module]
        params = channel_params(module, member.side)
        if not params:
            continue
        per_channel = sum(combine_fn(per_param(f"{member.module}.{attr}", dim)) for attr, dim in params)
        in_root = to_root(per_channel, member, group.num_channels, combine="sum").double()
        sums[member.module] = sums.get(member.module, 0) + in_root
    return sums
