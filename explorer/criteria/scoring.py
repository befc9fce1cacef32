"""The scoring entry point: check the request, then let the criterion's own strategy score the groups.

A group's channels live in several layers (its ``Member``s): the root conv, the BatchNorm after it, residual
partners whose outputs are added to it, and the consumers that read it. Each criterion's strategy decides
which of them it scores (``GroupScores.members``) and how their scores become the group score:

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
your own criterion        what ``explorer.criteria.generic`` documents for its ``needs``
========================  ============================================================  ==================

``reduction`` is ``"mean"`` by default (also ``"sum"``, ``"max"``, ``"min"``); a residual group's l1 score is
thus the mean of its convs' own l1 norms, and for l1, l2 and fpgm the root conv's own score is always in
``members[group]``. For taylor_weight and hessian the papers define how a channel's weights combine, so
``reduction`` does not apply and ``GroupScores.reduction`` names what was done instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from explorer.criteria._exceptions import CriterionNotApplicable
from explorer.criteria._registry import get_criterion
from explorer.criteria.base import REDUCTIONS, LossFn, ScoringRequest
from explorer.criteria.generic import group_seed
from explorer.criteria.group_scores import GroupScores
from explorer.errors import ExplorerError, ModelError
from explorer.graph import GroupGraph

__all__ = ["GroupScores", "compute_group_scores", "group_seed"]


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
    if reduction not in REDUCTIONS:
        raise ExplorerError(f"unknown reduction {reduction!r}; choose one of {', '.join(REDUCTIONS)}")
    names = [g.name for g in graph.prunable] if groups is None else list(groups)
    chosen = []
    for name in names:
        try:
            chosen.append(graph[name])
        except KeyError:
            raise ExplorerError(
                f"no group named {name!r}; known groups: {', '.join(g.name for g in graph.groups)}"
            ) from None
    if not chosen:
        return {}
    modules = dict(model.named_modules())
    used = list(modules) if info.needs_data else sorted({m.module for g in chosen for m in g.members})
    _check_finite(modules, used)
    request = ScoringRequest(
        info.name,
        info.fn,
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
    scores, reasons = info.score(request)
    if reasons:
        raise CriterionNotApplicable(info.name, reasons, scores)
    return scores


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
            "run or a bad checkpoint?), so its channels cannot be scored",
            code="model.non_finite_weights",
            values={"layers": ", ".join(bad)},
        )
