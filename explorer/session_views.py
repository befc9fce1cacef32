"""``session.views``: what the app displays, computed by the core and read as plain data.

The UI does no math and imports no torch. Each view here is one call: the plan's costs once per plan
generation (``snapshot``), the channel ranking, a filter's "why" numbers, feature maps and filter tiles,
measured latency, and a description of the model. The work itself is in ``explorer.inspection``; this
object holds the per-session cache and hands each function the pieces it needs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import torch
from torch import nn

from explorer import criteria as _criteria
from explorer import inspection, plan_references, thumbnails, who_pays
from explorer.cost import CostModel
from explorer.data import DataBundle
from explorer.evaluation import Evaluator
from explorer.graph import GroupGraph, PruningGroup
from explorer.latency import measure_latency
from explorer.metrics import Metrics
from explorer.weights import LiveWeights


class ViewHost(Protocol):
    """What the views read of a session (``PruningSession`` is one)."""

    criterion: str
    data: DataBundle
    evaluator: Evaluator
    graph: GroupGraph
    warnings: list[str]

    @property
    def model(self) -> nn.Module: ...

    @property
    def groups(self) -> list[PruningGroup]: ...

    @property
    def generation(self) -> int: ...

    @property
    def pruned(self) -> dict[str, tuple[int, ...]]: ...

    def group(self, name: str) -> PruningGroup: ...

    def ratio(self, group: str) -> float: ...

    def scores(
        self, criterion: str | None = None, groups: Sequence[str] | None = None
    ) -> dict[str, torch.Tensor]: ...

    def group_scores(
        self, criterion: str | None = None, groups: Sequence[str] | None = None
    ) -> dict[str, _criteria.GroupScores]: ...

    def export(self) -> nn.Module: ...

    def summary(self) -> dict[str, Any]: ...


class SessionViews:
    """The display views of one session.

    Args:
        session: the session shown (read through its public API).
        cost_model: its analytic cost model (the snapshot's cuts and cost are computed once per plan).
        weights: its live weights (views of the weights are dropped when they change).
        lock: the session's model lock.
    """

    def __init__(self, session: ViewHost, cost_model: CostModel, weights: LiveWeights, lock: threading.RLock):
        self._session = session
        self._cost_model = cost_model
        self._weights = weights
        self._lock = lock
        self._cache = inspection.ViewCache()

    def snapshot(self) -> inspection.PlanSnapshot:
        """The current plan's ratios, MACs and params (per layer too) as plain data, once per generation."""
        return self._plan_costs().snapshot

    def _plan_costs(self) -> inspection.PlanCosts:
        s = self._session
        ratios = {g.name: s.ratio(g.name) for g in s.groups}
        return inspection.plan_costs(self._cache, s.generation, s.pruned, ratios, s.graph, self._cost_model)

    def iter_evaluate(self) -> Iterator[Metrics]:
        """``session.iter_evaluate`` on the layer cuts and cost of ``snapshot()`` (computed once per plan)."""
        s = self._session
        return inspection.iter_plan_metrics(s.evaluator, self._plan_costs(), lambda: s.generation, Metrics.of)

    def rank(self, criterion: str | None, group: str) -> dict:
        """The order in which ``criterion`` removes ``group``'s channels, and those its ratio removes now."""
        s = self._session
        return inspection.rank_channels(s.scores(criterion, groups=[group])[group], s.ratio(group), group)

    def explain(self, group: str, channel: int | None = None, criterion: str | None = None) -> dict:
        """The criterion's formula filled in with one channel's numbers (default: the first it removes)."""
        s = self._session
        name, g = criterion or s.criterion, s.group(group)
        scores, pruned = s.group_scores(name, groups=[group])[group], s.pruned.get(group, ())
        return inspection.explain_filter(name, s.model, g, scores, channel, s.ratio(group), pruned)

    def feature_maps(self, group: str) -> inspection.FeatureMaps | None:
        """``[C, H, W]`` outputs of the group's root layer for the first validation image, unpruned."""
        cache = self._cache.for_weights(self._weights.fingerprint)
        s = self._session
        return inspection.feature_maps(cache, s.model, self._lock, group, s.data.val.inputs[:1])

    def gallery(self, group: str) -> inspection.Gallery:
        """The group's filters and feature maps as image tiles, the channels the plan prunes darkened."""
        s = self._session
        label = inspection.class_name(s.data.classes, s.data.val.labels[0])
        root, size, pruned = s.model.get_submodule(group), s.group(group).num_channels, s.pruned
        return inspection.build_gallery(
            group, size, root, self.feature_maps(group), pruned.get(group, ()), label
        )

    def latency(self) -> dict:
        """``{pruned_ms, baseline_ms, speedup, generation}``: the exported model against the original."""
        s = self._session
        cache, generation = self._cache.for_weights(self._weights.fingerprint), s.generation
        example = s.data.val.inputs[:1]
        timing = inspection.measure_speedup(cache, s.model, self._lock, s.export(), example, measure_latency)
        return {**timing, "generation": generation}

    def who_pays(self, examples: int = 6) -> dict:
        """Who pays for the current plan, from one prediction pass (Hooker et al. 2019, ``who_pays``).

        Returns:
            ``{"per_class": session.per_class(), "lost", "gained": the first ``examples`` rows of
            session.flipped()'s, each with its ``image`` (a PNG data URI), "lost_count", "gained_count",
            "weights", "generation"}``.
        """
        s = self._session
        generation, label = s.generation, s.weights.label
        original, pruned = who_pays.compare_predictions(s)
        flips = who_pays.flipped_images(original, pruned, s.data.classes, label)
        result: dict[str, Any] = {
            "per_class": who_pays.per_class_table(original, pruned, s.data.classes, label),
            "weights": label,
            "generation": generation,
        }
        for side in ("lost", "gained"):
            shown = flips[side][:examples]
            uris = self.images([row["index"] for row in shown])
            result[side] = [{**row, "image": uri} for row, uri in zip(shown, uris, strict=True)]
            result[f"{side}_count"] = len(flips[side])
        return result

    def images(self, indices: Sequence[int]) -> list[str]:
        """Validation images ``indices`` as PNG data URIs (``explorer.thumbnails``), for the galleries."""
        return thumbnails.image_uris(self._session.data.val.inputs, [int(i) for i in indices])

    def reference_plans(self, criterion: str, scan: dict | None = None) -> list[dict]:
        """The map's reference plans, not evaluated (``explorer.plan_references.reference_plans``; ``scan``:
        a sensitivity scan as plain data, for Li et al.'s)."""
        return plan_references.reference_plans(self._session, criterion, scan)

    def evaluate_reference(self, pruned: dict) -> dict:
        """``{accuracy, macs, params}`` of a reference plan on the live weights; the plan stays as it is."""
        return plan_references.evaluate_reference(self._session, pruned)

    def describe(self) -> dict:
        """``summary()`` with the warnings, the architecture and the number of conv / linear layers."""
        s = self._session
        return inspection.describe_model(s.summary(), s.warnings, s.model)


__all__ = ["SessionViews", "ViewHost"]
