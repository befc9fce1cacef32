"""``ExplorationSession``: the live half of ``PruningSession``: plans, weights, scores, metrics, export.

It is a thin front over focused parts: ``PlanHistory`` and ``PlanEditor`` (plans, weights states,
undo/redo/reset), ``LiveWeights``, ``ScoreBook`` (criterion scores), ``CostModel`` and ``Evaluator``
(metrics), ``verification`` (masked = exported) and ``SessionViews`` (what the app shows). The user's model is
never mutated: the session works on a private copy and only ever installs temporary forward hooks on it.
``explorer.session.PruningSession`` adds the longer workflows on top.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import torch
from torch import nn

from explorer import criteria as _criteria
from explorer._autograd import autograd_enabled
from explorer.cost import Cost, CostModel
from explorer.device import resolve_device
from explorer.evaluation import EvaluationCancelled, Evaluator, first_batch_size, plan_batches
from explorer.graph import GroupGraph, PruningGroup, build_groups, export_pruned
from explorer.guard import CHECK_SECONDS, WorkBudget
from explorer.history import PlanHistory, WeightsState
from explorer.latency import measure_latency
from explorer.masks import LayerCuts, apply_masks, compute_layer_cuts
from explorer.memory import MemoryBudget
from explorer.memory import memory_limit as memory_limit_of
from explorer.metrics import Metrics
from explorer.opening import check_model_accepts, open_data, open_model
from explorer.plan import DEFAULT_MAX_PRUNING_RATIO, Plan, PlanError
from explorer.plan_editor import PlanEditor
from explorer.precision import resolve_precision
from explorer.provenance import ProvenanceLog
from explorer.score_book import ScoreBook
from explorer.sensitivity import ScanCache
from explorer.session_views import SessionViews
from explorer.verification import EXPORT_TOLERANCE, check_offered_groups, max_export_error
from explorer.weights import LiveWeights


class ExplorationSession:
    """The live exploration of one model on one validation subset: plans, scores, metrics, export.

    Args:
        model: a zoo name (see ``explorer.list_models()``) or any ``nn.Module`` (it is copied, never changed).
        data: any source ``explorer.load_data`` accepts, or a ready ``DataBundle``; defaults to the zoo
            model's own dataset.
        train_data: a source of training data (a ``Dataset``, ``DataLoader``, ``(inputs, labels)`` pair,
            image folder or dataset name) for fine-tuning and the calibration subset, or ``"held-out"``: the
            samples of ``data`` not in the validation subset. Without it, a source that has no train split
            cannot be fine-tuned on (validation data is never trained on).
        num_samples: size of the validation subset (``None``: the whole split, at most 1000 samples).
        checkpoint: optional state_dict file, loaded with ``weights_only=True``.
        pretrained: load the zoo model's trained weights (embedded for ``digits_cnn``; cached otherwise).
        criterion: default criterion used to rank channels.
        seed: seeds the subsets, the batch order and the ``random`` criterion.
        batch_size: evaluation batch size (100-250 is fastest on CPU).
        cache_budget: bytes of activations the cache may hold (default: from the memory limit, see
            ``explorer.memory``; at most 1 GiB).
        memory_limit: the process's memory limit (``"2G"``, bytes); default: the container's cgroup limit,
            ``PRUNING_EXPLORER_MEMORY_LIMIT``, or physical memory. Grouping, the masked = exported check and
            scoring run under budgets derived from it (``explorer.guard``); over budget, grouping falls back
            to torch.fx and ``warnings`` says so.
        precision: ``"auto"`` (bf16 where the device computes it natively), ``"bf16"`` or ``"fp32"``: the
            precision of the live metrics. Export checks and the oracle criteria always run in fp32.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``None`` (the best present; ``explorer.device``).
        verify: check, when the session starts, that masking each offered group equals removing it.
    """

    @autograd_enabled()
    def __init__(
        self,
        model: str | nn.Module = "digits_cnn",
        data=None,
        num_samples: int | None = None,
        *,
        train_data=None,
        checkpoint=None,
        pretrained: bool = True,
        criterion: str = "l1",
        seed: int = 0,
        batch_size: int = 200,
        first_batch: int | None = None,
        cache_budget: int | None = None,
        memory_limit: str | int | None = None,
        precision: str = "auto",
        device: str | torch.device | None = None,
        calib_samples: int = 256,
        verify: bool = True,
        root=None,
    ):
        self.seed = seed
        self.device = resolve_device(device)  # before any work: an absent device fails fast, in words
        self._model, self.model_name, self.spec = open_model(model, checkpoint, pretrained, self.device)
        self.trained = bool(getattr(self._model, "explorer_trained", True))
        options = {"seed": seed, "root": root, "calib_samples": calib_samples, "train_data": train_data}
        self.data = open_data(data, self.spec, num_samples, device=self.device, **options)
        val = self.data.val
        self.num_classes = check_model_accepts(self._model, val)
        self.criterion = criterion
        self.example_input = val.inputs[:2].clone()
        # the private model copy is shared by the evaluation thread, scoring and export: masks are
        # installed on it, and weights loaded into it, only while this lock is held
        self._lock = threading.RLock()
        self.budget = MemoryBudget.from_limit(memory_limit_of(memory_limit), device=str(self.device))
        # grouping, the masked = exported check and scoring run under budgets from the same limit
        work = WorkBudget.from_limit(self.budget.limit)
        self.graph: GroupGraph = build_groups(self._model, self.example_input, work)
        self.warnings: list[str] = list(self.graph.warnings)
        self._cost_model = CostModel(self._model, val.inputs[:1])
        cache_budget = self.budget.cache if cache_budget is None else cache_budget
        self.precision = resolve_precision(precision, self.device)
        first_batch = first_batch or first_batch_size(self.baseline_cost().macs)  # fewer for big models
        batches = plan_batches(int(val.labels.shape[0]), batch_size, first_batch)
        self.evaluator = Evaluator.shuffled(
            self._model, val, seed, batches, cache_budget, self._lock, self.precision
        )
        calib_budget = cache_budget // 4
        self._score_book = ScoreBook(
            self._model,
            self.graph,
            self.data.calib,
            seed=seed,
            cache_budget=calib_budget,
            lock=self._lock,
            chunk_budget=self.budget.scoring_chunk,
            memory_limit=self.budget.limit,
        )
        self._history = PlanHistory(self.model_name)
        self._editor = PlanEditor(self._history, self.group, lambda: self.groups, self.scores)
        self._weights = LiveWeights(self._model, self._lock, self._forget_weights)
        self._baseline: Metrics | None = None
        self.views = SessionViews(self, self._cost_model, self._weights, self._lock)  # what the app shows
        self._scans = ScanCache()
        self.provenance = ProvenanceLog(self.model_name)  # the plans tried, with their numbers (record_plan)
        check = work.with_seconds(CHECK_SECONDS)
        self.warnings += check_offered_groups(
            self._model, self.graph, self.example_input, self._lock, check, verify=verify
        )

    # ----------------------------------------------------------------------------------------- model
    @property
    def model(self) -> nn.Module:
        """The session's private copy of the model, holding the live weights (masks are applied only while
        evaluating)."""
        return self._model

    @property
    def groups(self) -> list[PruningGroup]:
        """The groups offered for pruning (see ``all_groups`` for the refused ones and why)."""
        return self.graph.prunable

    @property
    def all_groups(self) -> list[PruningGroup]:
        return self.graph.groups

    def group(self, name: str) -> PruningGroup:
        try:
            group = self.graph[name]
        except KeyError:
            raise PlanError(f"unknown group {name!r}; groups: {[g.name for g in self.groups]}") from None
        if not group.prunable:
            raise PlanError(f"{name} cannot be pruned: {group.reason}")
        return group

    # --------------------------------------------------------------------------------------- weights
    @property
    def weights(self) -> WeightsState:
        """The live weights: ``weights.label`` is ``"original"`` or e.g. ``"fine-tuned under plan #7 (200
        steps)"``; ``weights.fits(session.pruned)`` says whether the plan still removes every channel they
        were trained without."""
        return self._history.weights

    def _load_weights(self) -> None:
        self._weights.load(self._history.weights)

    def _forget_weights(self) -> None:
        self.evaluator.cache.clear()
        self._score_book.clear()

    # ------------------------------------------------------------------------------------------ plan
    @property
    def plan(self) -> dict:
        """The current plan as a JSON-able dict (see ``explorer.plan.Plan``)."""
        return self._history.plan.to_dict()

    @property
    def plan_number(self) -> int:
        """The current plan's number, ``#N`` in the page (every change makes a new one)."""
        return self._history.number

    @property
    def pruned(self) -> dict[str, tuple[int, ...]]:
        """Group name → removed root channel indices."""
        return self._history.plan.pruned()

    @property
    def generation(self) -> int:
        """Increases with every plan or weights change; running evaluations of older ones stop early."""
        return self._history.generation

    def ratio(self, group: str) -> float:
        """The ratio the plan asked of ``group`` (0 when untouched)."""
        return self._editor.ratio(group)

    def set_ratio(self, group: str, ratio: float, criterion: str | None = None) -> None:
        """Remove the ``ratio`` lowest-scoring channels of ``group`` (at least one channel is kept)."""
        self._editor.set_ratios({group: ratio}, criterion or self.criterion)

    def set_ratios(self, ratios: Mapping[str, float], criterion: str | None = None) -> None:
        """Several groups at once (one undo step)."""
        self._editor.set_ratios(ratios, criterion or self.criterion)

    def set_global_ratio(
        self, ratio: float, criterion: str | None = None, max_pruning_ratio: float = DEFAULT_MAX_PRUNING_RATIO
    ) -> None:
        """One ratio over every offered group, with per-group ℓ2-normalised scores, removing at most
        ``max_pruning_ratio`` of any one group's channels (see ``explorer.plan.choose_global``)."""
        self._editor.set_global_ratio(ratio, criterion or self.criterion, max_pruning_ratio)

    def set_pruned(self, group: str, pruned: Sequence[int]) -> None:
        """Remove exactly these root channels of ``group`` (hand-picked)."""
        self._editor.set_pruned(group, pruned)

    def toggle_channel(self, group: str, channel: int) -> None:
        """Prune ``channel`` of ``group`` if it is kept, restore it if it is pruned."""
        self.set_pruned(group, sorted(set(self.pruned.get(group, ())) ^ {int(channel)}))

    def reset(self) -> None:
        """Back to the original network: original weights, nothing pruned (undoable)."""
        self._history.reset()
        self._load_weights()

    def undo(self) -> bool:
        """Go back one step (a plan change or a fine-tuning). Returns False when there is nothing to undo."""
        done = self._history.undo()
        self._load_weights()
        return done

    def redo(self) -> bool:
        """Go forward again after ``undo``. Returns False when there is nothing to redo."""
        done = self._history.redo()
        self._load_weights()
        return done

    def apply_plan(self, plan: Plan | Mapping | str) -> None:
        """Apply a plan (a ``Plan``, its dict, or its JSON). Checks every group and index first."""
        self._editor.apply(plan)

    def layer_cuts(self, pruned: Mapping[str, Sequence[int]] | None = None) -> LayerCuts:
        return compute_layer_cuts(self.graph, self.pruned if pruned is None else pruned)

    def save_plan(self, path: str | Path) -> None:
        self._editor.save(path)

    def load_plan(self, path: str | Path) -> None:
        """Apply a plan saved by ``save_plan``; the current plan is kept when anything is wrong."""
        self._editor.load(path)

    # ---------------------------------------------------------------------------------------- scores
    def scores(
        self, criterion: str | None = None, groups: Sequence[str] | None = None
    ) -> dict[str, torch.Tensor]:
        """``{group: Tensor[num_channels]}``: the criterion's score of every channel; low = pruned first."""
        return {name: gs.score for name, gs in self.group_scores(criterion, groups).items()}

    def group_scores(
        self,
        criterion: str | None = None,
        groups: Sequence[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> dict[str, _criteria.GroupScores]:
        """Scores with each member layer's own score; computed once per criterion and weights state."""
        wanted = list(groups) if groups is not None else [g.name for g in self.groups]
        return self._score_book.get(criterion or self.criterion, wanted, progress, should_stop)

    def agreement(self, criteria: Sequence[str] = ("l1", "fpgm", "taylor"), ratio: float = 0.5) -> list[dict]:
        """Per group and pair of criteria: Spearman ρ of their scores, and the overlap of the channels each
        would prune at ``ratio`` (see ``explorer.criteria.agreement_table``)."""
        return _criteria.agreement_table({c: self.group_scores(c) for c in criteria}, ratio)

    # ------------------------------------------------------------------------------------ evaluation
    def cost(self, pruned: Mapping[str, Sequence[int]] | None = None) -> Cost:
        """Analytic MACs and params of the pruned network (exactly what the exported model has)."""
        return self._cost_model.count(self.layer_cuts(pruned))

    def baseline_cost(self) -> Cost:
        return self._cost_model.count(LayerCuts())

    def count_macs(self, cuts: LayerCuts) -> int:
        """MACs per sample of the network under any layer cuts (analytic, as the exported model counts)."""
        return self._cost_model.count_macs(cuts)

    def layer_macs(self, pruned: Mapping[str, Sequence[int]] | None = None) -> dict[str | None, int]:
        """MACs per sample of each conv / linear layer under the plan (``None``: ops owned by no module)."""
        return self._cost_model.count_macs_per_layer(self.layer_cuts(pruned))

    def iter_evaluate(self, *, use_cache: bool = True, cancel_on_change: bool = True) -> Iterator[Metrics]:
        """Yield running metrics after each batch; the last one is exact.

        With ``cancel_on_change`` the iteration simply stops early as soon as the plan changes, so a storm
        of slider moves only ever finishes the last one.
        """
        generation = self.generation
        cuts = self.layer_cuts()
        cost = self._cost_model.count(cuts)
        stop = (lambda: self.generation != generation) if cancel_on_change else None
        try:
            for estimate in self.evaluator.iter_estimates(cuts, use_cache=use_cache, should_stop=stop):
                yield Metrics.of(estimate, cost, str(self.device))
        except EvaluationCancelled:
            return

    def evaluate(self, *, use_cache: bool = True) -> Metrics:
        """Exact metrics of the current plan, on the live weights, on the validation subset."""
        cuts = self.layer_cuts()
        return Metrics.of(self.evaluator.evaluate(cuts, use_cache=use_cache), self.cost(), str(self.device))

    def baseline(self) -> Metrics:
        """Metrics of the original network: original weights, nothing pruned (computed once)."""
        if self._baseline is None:
            # on the original weights, put back for the moment (without the cache when others are live)
            with self._weights.original_in_place():
                estimate = self.evaluator.evaluate(LayerCuts(), use_cache=self._weights.loaded.is_original)
            self._baseline = Metrics.of(estimate, self.baseline_cost(), str(self.device))
        return self._baseline

    def set_precision(self, precision: str) -> None:
        """Switch the live metrics between ``"bf16"`` and ``"fp32"`` (``"auto"`` picks); the baseline is
        measured again in the new precision, so that the two always compare like with like."""
        resolved = resolve_precision(precision, self.device)
        if resolved != self.precision:
            self.precision = self.evaluator.precision = resolved
            self.evaluator.cache.clear()
            self._baseline = None
            self._history.touch()

    # ---------------------------------------------------------------------------------------- export
    def export(self) -> nn.Module:
        """A physically smaller copy of the model (live weights) with the plan's channels removed."""
        with self._lock:
            return export_pruned(self._model, self.example_input, self.pruned, self.graph)

    def masked_outputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """Outputs of the masked (not exported) model under the current plan, on the session's device."""
        with self._lock, torch.no_grad(), apply_masks(self._model, self.layer_cuts()):
            return self._model(inputs.to(self.device))

    def verify_export(self, exported: nn.Module | None = None) -> float:
        """Max |masked − exported| over the validation subset."""
        exported = exported if exported is not None else self.export()
        return max_export_error(self.masked_outputs, exported, self.data.val.inputs)

    def unchanged(self) -> bool:
        """True when the session's model copy holds exactly the live weights (nothing wrote to them)."""
        return self._weights.unchanged()


__all__ = ["EXPORT_TOLERANCE", "ExplorationSession", "Metrics", "measure_latency"]
