"""What the explorer shows about a session, computed in the core: the plan's snapshot (ratios, MACs and
params, per layer too), a channel ranking, the "why" of one filter's score, feature maps and the gallery's
tiles, and the latency of the pruned network against the original.

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

import numpy as np
import torch
from torch import nn

from explorer import criteria as _criteria
from explorer.cost import Cost, CostModel
from explorer.errors import ExplorerError
from explorer.evaluation import Estimate, EvaluationCancelled, Evaluator
from explorer.graph import GroupGraph, PruningGroup
from explorer.masks import LayerCuts, compute_layer_cuts
from explorer.plan import count_to_prune, lowest

#: ``[C, H, W]`` float32 outputs of one layer for one image (``None`` when the layer's output is not a map).
FeatureMaps = np.ndarray
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


_CACHE_ATTRIBUTE = "_explorer_view_cache"
_CREATE = threading.Lock()


def cache_of(owner: object) -> ViewCache:
    """The view cache of ``owner`` (a session): made on first use and stored on it, so it goes with it."""
    cache = vars(owner).get(_CACHE_ATTRIBUTE)
    if cache is None:
        with _CREATE:
            cache = vars(owner).setdefault(_CACHE_ATTRIBUTE, ViewCache())
    return cache


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
    terms = _explain_terms(name, model, group, scores, channel)
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


def _explain_terms(
    name: str, model: nn.Module, group: PruningGroup, scores: _criteria.GroupScores, channel: int
) -> dict[str, Any]:
    # TEMPORARY: the criteria's own explanation (explorer.criteria.explain) replaces this
    if not 0 <= channel < group.num_channels:
        raise ExplorerError(f"{group.name} has {group.num_channels} channels; there is no channel {channel}")
    weight = getattr(model.get_submodule(group.name), "weight", None)
    kind, terms, n_terms, layer_value = "value", [], 0, math.nan
    with torch.no_grad():
        if name in ("l1", "l2", "fpgm") and isinstance(weight, torch.Tensor):
            row = weight.detach()[channel].reshape(-1).double()
            if name == "l1":
                kind, values = "sum_abs", row.abs()
                layer_value = float(_criteria.l1_scores(weight)[channel])
            elif name == "l2":
                kind, values = "sqrt_sum_sq", row.square()
                layer_value = float(_criteria.l2_scores(weight)[channel])
            else:
                flat = weight.detach().reshape(weight.shape[0], -1).double()
                values = (flat - flat[channel]).norm(dim=1)
                values = torch.cat([values[:channel], values[channel + 1 :]])
                kind = "sum_dist"
                layer_value = float(_criteria.fpgm_scores(weight)[channel])
            terms, n_terms = [float(v) for v in values[:6]], int(values.numel())
        elif name == "bn_scale":
            bn = next((m for m in scores.members if m != group.name), None)
            if bn is not None:
                gamma = model.get_submodule(bn).weight.detach()[channel]
                kind, terms, n_terms = "abs", [float(gamma)], 1
                layer_value = float(_criteria.bn_scale_scores(gamma.reshape(1))[0])
    return {"kind": kind, "terms": terms, "n_terms": n_terms, "layer_value": layer_value}


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
    """
    captured: list[torch.Tensor] = []
    handle = model.get_submodule(layer).register_forward_hook(
        lambda _m, _i, out: captured.append(out.detach())
    )
    try:
        with torch.no_grad():
            model(image)
    finally:
        handle.remove()
    out = captured[0][0] if captured else None
    return out.float().numpy() if out is not None and out.dim() == 3 else None


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


# ---------------------------------------------------------------------------------------------- gallery
@dataclass(eq=False)
class Gallery:
    """Tiled images of one group's filters and feature maps, ready for bokeh's ``image_rgba``.

    Attributes:
        group: the group (its root layer's name).
        weights: ``[H, W]`` uint32 RGBA, one tile per filter, rows bottom-up as bokeh draws them
            (``None`` when the root is not a convolution).
        maps: ``[H, W]`` uint32 RGBA, one tile per channel of the root's output for one validation image.
        tiles_x, tiles_y: centre of each filter's tile, in pixels of the tiled image.
        map_tiles_x, map_tiles_y: the same for the feature maps.
        channel: the channel index of each tile.
        pruned: whether each channel is pruned in the current plan (its tiles are darkened).
        weight_tile, map_tile: the side of one tile in pixels.
        image_label: the class of the validation image whose feature maps are shown.
        rgb: whether the filters are drawn in colour (a first layer with 3 input channels).
    """

    group: str
    weights: np.ndarray | None
    maps: np.ndarray | None
    tiles_x: list[float] = field(default_factory=list)
    tiles_y: list[float] = field(default_factory=list)
    map_tiles_x: list[float] = field(default_factory=list)
    map_tiles_y: list[float] = field(default_factory=list)
    channel: list[int] = field(default_factory=list)
    pruned: list[bool] = field(default_factory=list)
    weight_tile: int = 0
    map_tile: int = 0
    image_label: str = ""
    rgb: bool = False


def class_name(classes: Sequence[str], label: int | torch.Tensor) -> str:
    """The name of class ``label`` (its number when ``classes`` does not name it)."""
    index = int(label)
    return classes[index] if len(classes) > index else str(index)


def build_gallery(
    group: str,
    num_channels: int,
    root: nn.Module,
    maps: FeatureMaps | None,
    pruned: Sequence[int],
    image_label: str,
) -> Gallery:
    """One group as tiles: the filters of its ``root`` layer (``[C, C_in, h, w]``) and its feature maps.

    Filters with 3 input channels are drawn in colour, the others as their mean over the inputs (red > 0 >
    blue); the channels in ``pruned`` are darkened and framed in red. A root that is not a convolution has
    no filter images.
    """
    removed = set(pruned)
    dark = [i in removed for i in range(num_channels)]
    weight = getattr(root, "weight", None)
    weights_rgb, rgb = None, False
    if isinstance(weight, torch.Tensor) and weight.dim() == 4:
        w = weight.detach().float().numpy()
        if w.shape[1] == 3:
            rgb = True
            lo = w.min(axis=(1, 2, 3), keepdims=True)
            hi = w.max(axis=(1, 2, 3), keepdims=True)
            weights_rgb = ((w - lo) / np.maximum(hi - lo, 1e-12)).transpose(0, 2, 3, 1)
        else:
            weights_rgb = diverging(w.mean(axis=1))
    gallery = Gallery(
        group, None, None, channel=list(range(num_channels)), pruned=dark, image_label=image_label, rgb=rgb
    )
    if weights_rgb is not None:
        gallery.weights, gallery.tiles_x, gallery.tiles_y, gallery.weight_tile = tile_images(
            weights_rgb, dark
        )
    if maps is not None:
        tiled = tile_images(sequential(maps), dark)
        gallery.maps, gallery.map_tiles_x, gallery.map_tiles_y, gallery.map_tile = tiled
    return gallery


def diverging(values: np.ndarray) -> np.ndarray:
    """``[C, h, w]`` signed values → ``[C, h, w, 3]`` in [0, 1]: blue < 0 < red, white at 0 (per tile)."""
    scale = np.abs(values).max(axis=(1, 2), keepdims=True)
    v = values / np.maximum(scale, 1e-12)
    pos, neg = np.clip(v, 0, 1), np.clip(-v, 0, 1)
    return np.stack([1 - neg, 1 - pos - neg, 1 - pos], axis=-1).clip(0, 1)


def sequential(values: np.ndarray) -> np.ndarray:
    """``[C, h, w]`` activations → ``[C, h, w, 3]``: dark blue (low) to yellow (high), per tile."""
    lo = values.min(axis=(1, 2), keepdims=True)
    hi = values.max(axis=(1, 2), keepdims=True)
    t = (values - lo) / np.maximum(hi - lo, 1e-12)
    return np.stack([t, 0.2 + 0.7 * t, 0.5 * (1 - t) + 0.1], axis=-1).clip(0, 1)


def tile_images(images: np.ndarray, dark: Sequence[bool]) -> tuple[np.ndarray, list[float], list[float], int]:
    """``[C, h, w, 3]`` in [0, 1] → one RGBA uint32 image (bottom-up rows), tile centres and tile size.

    Tiles fill a near-square grid row by row; the darkened tiles are framed in red, the others in light grey.
    """
    count, h, w = images.shape[:3]
    cols = max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / cols)
    side = max(h, w) + 2
    canvas = np.full((rows * side, cols * side, 4), 255, dtype=np.uint8)
    xs, ys = [], []
    for c in range(count):
        r, k = divmod(c, cols)
        top, left = r * side, k * side
        frame = (200, 40, 40) if dark[c] else (220, 220, 220)
        canvas[top : top + side, left : left + side, :3] = frame
        tile = images[c] * (0.2 if dark[c] else 1.0)
        canvas[top + 1 : top + 1 + h, left + 1 : left + 1 + w, :3] = (tile * 255).astype(np.uint8)
        xs.append(left + side / 2)
        ys.append(rows * side - (top + side / 2))
    flipped = np.ascontiguousarray(canvas[::-1])
    return flipped.view(dtype=np.uint32).reshape(flipped.shape[:2]), xs, ys, side


__all__ = [
    "FeatureMaps",
    "Gallery",
    "PlanCosts",
    "PlanSnapshot",
    "ViewCache",
    "build_gallery",
    "cache_of",
    "capture_feature_maps",
    "class_name",
    "describe_model",
    "diverging",
    "explain_filter",
    "feature_maps",
    "iter_plan_metrics",
    "measure_speedup",
    "plan_costs",
    "rank_channels",
    "sequential",
    "tile_images",
]
