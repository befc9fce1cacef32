"""What the explorer shows about a session, computed in the core: the plan's snapshot (ratios, MACs and
params, per layer too), a channel ranking, the "why" of one filter's score, feature maps and the gallery's
tiles (drawn by :mod:`explorer.gallery`), and the latency of the pruned network against the original.

Pure torch and numpy, no widgets. ``PruningSession``'s view methods (``snapshot``, ``rank``, ``explain``,
``feature_maps``, ``gallery``, ``latency``, ``describe``) delegate to the functions here and hand them the
pieces they need. A :class:`ViewCache`, stored on its session and so freed with it, keeps what is worth
keeping between calls: one plan snapshot per plan generation (the layer cuts and the cost are computed once
per plan change), and, per state of the weights, a private unpruned copy of the model ("the probe", which
carries the feature-map hooks so that none ever lands on the session's model), its feature maps and its
latency.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from explorer import criteria as _criteria
from explorer.cost import Cost, CostModel
from explorer.evaluation import Estimate, EvaluationCancelled, Evaluator
from explorer.gallery import FeatureMaps, Gallery, build_gallery, class_name
from explorer.graph import GroupGraph, PruningGroup
from explorer.masks import LayerCuts, compute_layer_cuts
from explorer.plan import count_to_prune, lowest

#: Layers whose count the header shows.
_COUNTED_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


# -------------------------------------------------------------------------------------------- the cache
@dataclass(frozen=True)
class PlanSnapshot:
    """Everything that follows from one plan alone, as plain data (computed once per plan generation).

    Attributes:
        generation: the session's plan generation this is a snapshot of.
        pruned: group → removed root channels, sorted (only the groups that lose channels).
        ratios: every offered group → its ratio (0.0 when intact).
        macs, params: of the pruned network, per sample.
        base_macs, base_params: of the original network.
        layer_macs: MACs per sample of each conv / linear layer under the plan (``None``: ops of no module).
        base_layer_macs: the same for the original network.
    """

    generation: int
    pruned: dict[str, tuple[int, ...]]
    ratios: dict[str, float]
    macs: int
    params: int
    base_macs: int
    base_params: int
    layer_macs: dict[str | None, int] = field(repr=False)
    base_layer_macs: dict[str | None, int] = field(repr=False)

    @property
    def macs_fraction(self) -> float:
        return self.macs / self.base_macs if self.base_macs else 1.0

    @property
    def params_fraction(self) -> float:
        return self.params / self.base_params if self.base_params else 1.0


@dataclass(frozen=True)
class PlanCosts:
    """A snapshot with the layer cuts and cost it was computed from (what the evaluation reuses)."""

    snapshot: PlanSnapshot
    cuts: LayerCuts
    cost: Cost


class ViewCache:
    """What the view functions keep between calls for one session (see the module docstring)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.plan: PlanCosts | None = None
        self.base: tuple[Cost, dict[str | None, int]] | None = None
        self.weights: str | None = None  # the fingerprint of the weights the fields below belong to
        self.probe: nn.Module | None = None
        self.maps: dict[str, FeatureMaps | None] = {}
        self.baseline_ms: float | None = None

    def for_weights(self, fingerprint: str) -> ViewCache:
        """Drop the probe, its maps and its latency if the weights changed since they were made."""
        with self.lock:
            if fingerprint != self.weights:
                self.weights, self.probe, self.maps, self.baseline_ms = fingerprint, None, {}, None
        return self


# ------------------------------------------------------------------------------------------------- plan
def plan_costs(
    cache: ViewCache,
    generation: int,
    pruned: Mapping[str, Sequence[int]],
    ratios: Mapping[str, float],
    graph: GroupGraph,
    cost_model: CostModel,
) -> PlanCosts:
    """The snapshot of plan ``generation`` (computed on the first call for that generation, then kept).

    The layer cuts are computed once, and the MACs come from the per-layer count (their sum is the total), so
    one plan change costs one cut computation and one pass over the recorded ops.
    """
    with cache.lock:
        if cache.plan is not None and cache.plan.snapshot.generation == generation:
            return cache.plan
        if cache.base is None:
            empty = LayerCuts()
            cache.base = (cost_model.count(empty), cost_model.count_macs_per_layer(empty))
        base, base_layers = cache.base
        cuts = compute_layer_cuts(graph, pruned)
        layers = cost_model.count_macs_per_layer(cuts)
        cost = Cost(sum(layers.values()), cost_model.count_params(cuts))
        snapshot = PlanSnapshot(
            generation=generation,
            pruned={g: tuple(sorted(int(i) for i in idxs)) for g, idxs in pruned.items() if len(idxs)},
            ratios={g: float(r) for g, r in ratios.items()},
            macs=cost.macs,
            params=cost.params,
            base_macs=base.macs,
            base_params=base.params,
            layer_macs=dict(layers),
            base_layer_macs=dict(base_layers),
        )
        cache.plan = PlanCosts(snapshot, cuts, cost)
        return cache.plan


def iter_plan_metrics(
    evaluator: Evaluator,
    plan: PlanCosts,
    generation: Callable[[], int],
    to_metrics: Callable[[Estimate, Cost], Any],
) -> Iterator[Any]:
    """Running metrics of ``plan`` after each batch (the last exact), on its own cuts and cost.

    Stops early, without raising, as soon as ``generation()`` moves past the plan's generation.
    """
    wanted = plan.snapshot.generation

    def changed() -> bool:
        return generation() != wanted

    try:
        for estimate in evaluator.iter_estimates(plan.cuts, should_stop=changed):
            yield to_metrics(estimate, plan.cost)
    except EvaluationCancelled:
        return


# ---------------------------------------------------------------------------------------------- ranking
def rank_channels(scores: torch.Tensor, ratio: float, group: str) -> dict[str, Any]:
    """The order in which a ratio removes a group's channels.

    Args:
        scores: ``[C]`` the group's scores under one criterion (low = removed first).
        ratio: the group's ratio in the plan.
        group: the group's name (for the error message of a bad ratio).

    Returns:
        ``{"order", "rank", "scores", "ratio", "by_ratio"}``: the channels from first to last removed (lowest
        score first, ties by index, non-finite scores first), each channel's 1-based position in that order,
        the scores as floats, the ratio, and the channels the ratio removes, chosen exactly as
        ``PruningSession.set_ratio`` chooses them (``count_to_prune`` then ``lowest``).
    """
    values = [float(v) for v in scores.detach().reshape(-1).tolist()]
    order = sorted(
        range(len(values)), key=lambda i: (values[i] if math.isfinite(values[i]) else -math.inf, i)
    )
    rank = [0] * len(values)
    for position, channel in enumerate(order):
        rank[channel] = position + 1
    by_ratio = lowest(scores, count_to_prune(len(values), ratio, group)) if ratio > 0 else ()
    return {"order": order, "rank": rank, "scores": values, "ratio": float(ratio), "by_ratio": list(by_ratio)}


# -------------------------------------------------------------------------------------------------- why
def explain_filter(
    name: str,
    model: nn.Module,
    group: PruningGroup,
    scores: _criteria.GroupScores,
    channel: int | None,
    ratio: float,
    pruned: Sequence[int],
) -> dict[str, Any]:
    """Criterion ``name``'s formula filled in with one channel's own numbers, for the "why" panel.

    Args:
        name: the criterion.
        model: the network the scores were computed on.
        group: the channel's group.
        scores: the group's ``GroupScores`` under ``name``.
        channel: the root channel; ``None`` for the first one the criterion removes.
        ratio: the group's ratio in the plan.
        pruned: the group's channels the plan removes.

    Returns:
        The criterion's description (``title``, ``url``, ``formula``, ``description``), its terms for the
        channel (``kind``, ``terms``, ``n_terms``, ``layer_value``), each member layer's score, the group
        score, its ``rank`` (1 = removed first) among ``count`` channels, and whether the ratio removes the
        channel (``pruned_by_ratio``) and whether the plan does (``pruned``).
    """
    info = _criteria.get_criterion(name)
    ranking = rank_channels(scores.score, ratio, group.name)
    channel = ranking["order"][0] if channel is None else int(channel)
    terms = _criteria.explain(name, model, group, scores, channel)
    return {
        "group": group.name,
        "channel": channel,
        "criterion": name,
        "title": info.title,
        "url": info.url,
        "formula": info.formula,
        "description": info.description,
        "kind": terms["kind"],
        "terms": terms["terms"],
        "n_terms": terms["n_terms"],
        "layer_value": terms["layer_value"],
        "members": {m: float(v[channel]) for m, v in scores.members.items()},
        "reduction": scores.reduction,
        "score": float(scores.score[channel]),
        "rank": ranking["rank"][channel],
        "count": group.num_channels,
        "ratio": float(ratio),
        "pruned_by_ratio": channel in ranking["by_ratio"],
        "pruned": channel in set(pruned),
    }


# ------------------------------------------------------------------------------------------------ model
def describe_model(summary: Mapping[str, Any], warnings: Sequence[str], model: nn.Module) -> dict[str, Any]:
    """``summary`` with the warnings, the model's class name and how many conv / linear layers it has."""
    return {
        **summary,
        "warnings": list(warnings),
        "architecture": type(model).__name__,
        "layers": sum(isinstance(m, _COUNTED_LAYERS) for m in model.modules()),
    }


def _probe(cache: ViewCache, model: nn.Module, lock: AbstractContextManager) -> nn.Module:
    """The cache's private, unpruned copy of ``model`` (copied under ``lock``: no mask hook is on it then)."""
    with cache.lock:
        if cache.probe is None:
            with lock:
                cache.probe = copy.deepcopy(model).eval()
        return cache.probe


def capture_feature_maps(model: nn.Module, layer: str, image: torch.Tensor) -> FeatureMaps | None:
    """``[C, H, W]`` outputs of ``layer`` for ``image`` (``[1, ...]``), or ``None`` if they are not maps.

    The hook goes on ``model`` for one forward pass: pass a private copy, never a model another thread uses.
    A layer that returns a tuple (an attention layer: output and weights) is read by its first element.
    """
    captured: list[torch.Tensor] = []

    def keep(_module: nn.Module, _inputs: Any, out: Any) -> None:
        tensor = out[0] if isinstance(out, (tuple, list)) and out else out
        if isinstance(tensor, torch.Tensor):
            captured.append(tensor.detach())

    handle = model.get_submodule(layer).register_forward_hook(keep)
    try:
        with torch.no_grad():
            model(image)
    finally:
        handle.remove()
    out = captured[0][0] if captured else None
    return out.float().cpu().numpy() if out is not None and out.dim() == 3 else None


def feature_maps(
    cache: ViewCache, model: nn.Module, lock: AbstractContextManager, layer: str, image: torch.Tensor
) -> FeatureMaps | None:
    """``[C, H, W]`` outputs of ``layer`` of the unpruned ``model`` for ``image``, kept in ``cache``.

    Args:
        cache: the session's cache, checked against the current weights (``ViewCache.for_weights``).
        model: the session's model; the hook goes on the cache's private copy of it, made under ``lock``.
    """
    with cache.lock:
        if layer not in cache.maps:
            cache.maps[layer] = capture_feature_maps(_probe(cache, model, lock), layer, image)
        return cache.maps[layer]


# ---------------------------------------------------------------------------------------------- latency
def measure_speedup(
    cache: ViewCache,
    model: nn.Module,
    lock: AbstractContextManager,
    exported: nn.Module,
    example: torch.Tensor,
    measure: Callable[[nn.Module, torch.Tensor], float],
) -> dict[str, float]:
    """``{pruned_ms, baseline_ms, speedup}``: ``measure`` (milliseconds) of ``exported`` and of the original.

    The original is timed once per weights (``cache`` is checked against them), on the cache's unpruned copy
    of ``model``.
    """
    pruned_ms = measure(exported, example)
    with cache.lock:
        if cache.baseline_ms is None:
            cache.baseline_ms = measure(_probe(cache, model, lock), example)
        base = cache.baseline_ms
    return {
        "pruned_ms": pruned_ms,
        "baseline_ms": base,
        "speedup": base / pruned_ms if pruned_ms > 0 else math.nan,
    }


__all__ = [
    "FeatureMaps",
    "Gallery",
    "PlanCosts",
    "PlanSnapshot",
    "ViewCache",
    "build_gallery",
    "capture_feature_maps",
    "class_name",
    "describe_model",
    "explain_filter",
    "feature_maps",
    "iter_plan_metrics",
    "measure_speedup",
    "plan_costs",
    "rank_channels",
]
