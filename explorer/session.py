"""``PruningSession``: the public, UI-free API. Anything the app can do, a script can do through it.

    >>> from explorer import PruningSession
    >>> s = PruningSession("digits_cnn")
    >>> s.set_ratio("features.3", 0.5, criterion="l1")
    >>> s.evaluate().accuracy, s.cost().macs

The session is a thin front over focused parts: ``PlanHistory`` (plans, weights states, undo/redo/reset),
``ScoreBook`` (criterion scores), ``CostModel`` and ``Evaluator`` (metrics), ``verification`` (masked =
exported), ``sensitivity``, ``finetune`` and ``experiments``. The user's model is never mutated: the session
works on a private copy and only ever installs temporary forward hooks on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import torch
from torch import nn

from explorer import analyses as _analyses
from explorer import criteria as _criteria
from explorer import experiments as _experiments
from explorer._autograd import autograd_enabled
from explorer.cost import Cost, CostModel
from explorer.evaluation import EvaluationCancelled, Evaluator, plan_batches
from explorer.graph import GroupGraph, PruningGroup, build_groups, export_pruned
from explorer.guard import CHECK_SECONDS, WorkBudget
from explorer.history import PlanHistory, WeightsState
from explorer.latency import measure_latency
from explorer.masks import LayerCuts, apply_masks, compute_layer_cuts
from explorer.memory import MemoryBudget
from explorer.memory import memory_limit as memory_limit_of
from explorer.metrics import Metrics
from explorer.opening import check_model_accepts, open_data, open_model
from explorer.plan import Plan, PlanError
from explorer.plan_editor import PlanEditor
from explorer.precision import resolve_precision
from explorer.provenance import ProvenanceLog
from explorer.score_book import ScoreBook
from explorer.sensitivity import ScanCache, run_sensitivity, suggest_ratios
from explorer.session_views import SessionViews
from explorer.verification import EXPORT_TOLERANCE, check_offered_groups, max_export_error
from explorer.weights import LiveWeights


class PruningSession:
    """Explore filter pruning of one model on one validation subset.

    Args:
        model: a zoo name (see ``explorer.list_models()``) or any ``nn.Module`` (it is copied, never changed).
        data: any source ``explorer.load_data`` accepts, or a ready ``DataBundle``; defaults to the zoo
            model's own dataset.
        train_data: a source of training data (a ``Dataset``, ``DataLoader``, ``(inputs, labels)`` pair,
            image folder or dataset name) for fine-tuning and the calibration subset; without it, a source
            that has no train split cannot be fine-tuned on (validation data is never trained on).
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
        precision: ``"auto"`` (bf16 where the CPU computes it natively), ``"bf16"`` or ``"fp32"``: the
            precision of the live metrics. Export checks and the oracle criteria always run in fp32.
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
        first_batch: int = 64,
        cache_budget: int | None = None,
        memory_limit: str | int | None = None,
        precision: str = "auto",
        calib_samples: int = 256,
        verify: bool = True,
        root=None,
    ):
        self.seed = seed
        self._model, self.model_name, self.spec = open_model(model, checkpoint, pretrained=pretrained)
        self.trained = bool(getattr(self._model, "explorer_trained", True))
        self.data = open_data(
            data,
            self.spec,
            num_samples,
            seed=seed,
            root=root,
            calib_samples=calib_samples,
            train_data=train_data,
        )
        val = self.data.val
        self.num_classes = check_model_accepts(self._model, val)
        self.criterion = criterion
        self.example_input = val.inputs[:2].clone()
        # the private model copy is shared by the evaluation thread, scoring and export: masks are
        # installed on it, and weights loaded into it, only while this lock is held
        self._lock = threading.RLock()
        self.budget = MemoryBudget.from_limit(memory_limit_of(memory_limit))
        # grouping, the masked = exported check and scoring run under budgets from the same limit
        work = WorkBudget.from_limit(self.budget.limit)
        self.graph: GroupGraph = build_groups(self._model, self.example_input, work)
        self.warnings: list[str] = list(self.graph.warnings)
        self._cost_model = CostModel(self._model, val.inputs[:1])
        cache_budget = self.budget.cache if cache_budget is None else cache_budget
        self.precision = resolve_precision(precision)
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

    # ---- models: preflight
    def preflight(self) -> dict:
        """What the explorer found in this model, as plain data (see ``explorer.preflight``): groups found
        and offered per unit, the layers coupled to each, what is refused and why, and the risks (custom
        autograd Functions, in-place ops on coupled tensors, 1-channel convs, data-dependent control flow)."""
        from explorer.preflight import build_preflight

        with self._lock:
            report = build_preflight(self._model, self.graph, self.example_input, self.warnings)
        return {"model": self.model_name, **report}

    # ---- end models

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

    def model_copy(self) -> nn.Module:
        """A copy of the network with the live weights."""
        return self._weights.live_copy()

    def original_model(self) -> nn.Module:
        """A copy of the network with its original weights (whatever weights are live)."""
        return self._weights.original_copy()

    def adopt_weights(self, model: nn.Module, *, kind: str = "fine-tuned", steps: int = 0) -> None:
        """Make ``model``'s weights (same architecture, trained under the current plan) the live weights.

        They become a named state tied to the current plan (one undo step); the original network stays the
        fixed reference that ``reset()`` returns to and that ``baseline()`` measures.
        """
        plan = self._history.plan
        weights = self._weights.capture(
            model, kind=kind, plan_number=self._history.number, trained_under=plan.pruned(), steps=steps
        )
        self._history.commit(plan, weights)
        self._load_weights()

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

    def set_global_ratio(self, ratio: float, criterion: str | None = None, cap: float = 0.9) -> None:
        """One ratio over every offered group, with per-group normalised scores (see ``choose_global``)."""
        self._editor.set_global_ratio(ratio, criterion or self.criterion, cap)

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

    # ---- analyses of the current plan (explorer/analyses.py)
    def per_class(self) -> list[dict]:
        """Per class, the original network's accuracy and the pruned one's (Hooker et al. 2019)."""
        return _analyses.per_class(self)

    def flipped(self) -> dict:
        """Validation images whose prediction flips: ``{"lost": [...], "gained": [...], "weights": ...}``."""
        return _analyses.flipped(self)

    def reconstruct(self, *, adopt: bool = True, batch_size: int = 64, ridge: float = 1e-4) -> dict:
        """Win accuracy back without training: least-squares refit of the layers that consume pruned
        channels (He, Zhang & Sun, ICCV 2017); with ``adopt``, "reconstructed under plan #N" goes live."""
        return _analyses.reconstruct(self, adopt=adopt, batch_size=batch_size, ridge=ridge)

    @autograd_enabled()
    def compare_training_modes(self, steps: int = 200, *, should_stop=None, **options) -> dict:
        """Plain masked fine-tuning vs Soft Filter Pruning vs group lasso, from the original weights."""
        return _analyses.compare_training_modes(self, steps, should_stop=should_stop, **options)

    def dynamic(self, ratio: float = 0.5, *, static_criterion: str = "mean_activation") -> dict:
        """Dynamic (per-image top-k, a training-free stand-in for FBS) vs static pruning at the same MACs."""
        return _analyses.dynamic(self, ratio, static_criterion=static_criterion)

    def dynamic_channels(self, indices: Sequence[int] = (0, 1, 2, 3), ratio: float = 0.5) -> list[dict]:
        """For a few validation images, which channels each keeps under ``dynamic(ratio)``."""
        return _analyses.dynamic_channels(self, indices, ratio)

    def record_plan(self, source: str = "slider", metrics: Metrics | None = None) -> dict:
        """Add the current plan, with its metrics, source and weights, to ``self.provenance`` (the log)."""
        return _analyses.record_plan(self, self._history.plan, source, metrics)

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
                yield Metrics.of(estimate, cost)
        except EvaluationCancelled:
            return

    def evaluate(self, *, use_cache: bool = True) -> Metrics:
        """Exact metrics of the current plan, on the live weights, on the validation subset."""
        cuts = self.layer_cuts()
        return Metrics.of(self.evaluator.evaluate(cuts, use_cache=use_cache), self._cost_model.count(cuts))

    def baseline(self) -> Metrics:
        """Metrics of the original network: original weights, nothing pruned (computed once)."""
        if self._baseline is None:
            # on the original weights, put back for the moment (without the cache when others are live)
            with self._weights.original_in_place():
                estimate = self.evaluator.evaluate(LayerCuts(), use_cache=self._weights.loaded.is_original)
            self._baseline = Metrics.of(estimate, self.baseline_cost())
        return self._baseline

    def set_precision(self, precision: str) -> None:
        """Switch the live metrics between ``"bf16"`` and ``"fp32"`` (``"auto"`` picks); the baseline is
        measured again in the new precision, so that the two always compare like with like."""
        resolved = resolve_precision(precision)
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
        """Outputs of the masked (not exported) model under the current plan."""
        with self._lock, torch.no_grad(), apply_masks(self._model, self.layer_cuts()):
            return self._model(inputs)

    def verify_export(self, exported: nn.Module | None = None) -> float:
        """Max |masked − exported| over the validation subset."""
        exported = exported if exported is not None else self.export()
        return max_export_error(self.masked_outputs, exported, self.data.val.inputs)

    def unchanged(self) -> bool:
        """True when the session's model copy holds exactly the live weights (nothing wrote to them)."""
        return self._weights.unchanged()

    # ---------------------------------------------------------------- sensitivity, suggestions, retraining
    def sensitivity(
        self,
        ratios: Sequence[float] | None = None,
        criterion: str = "l1",
        groups: Sequence[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        *,
        tolerance: float | None = None,
        executor: str = "local",
        address: str | None = None,
        on_row: Callable[[dict], None] | None = None,
    ):
        """Accuracy and loss with only one group pruned, for every group and ratio (Li et al. 2017 Fig. 2);
        ``tolerance``, ``executor`` ("local" or "ray"), ``address`` and ``on_row``: see ``run_sensitivity``.

        Cached per (weights, precision, criterion, ratios, groups, tolerance). Raises ``EvaluationCancelled``
        when ``should_stop()`` turns true; the session is then exactly as before.
        """
        key = (self._weights.fingerprint, self.precision, criterion, tuple(ratios or ()), tuple(groups or ()))
        options = {"tolerance": tolerance, "executor": executor, "address": address, "on_row": on_row}
        scan = lambda: run_sensitivity(self, ratios, criterion, groups, progress, should_stop, **options)  # noqa: E731
        return self._scans.get((*key, tolerance), scan)

    def suggest_plan(
        self,
        kind: str,
        *,
        table=None,
        epsilon: float = 0.01,
        reduction: float = 0.3,
        ratio: float = 0.5,
        criterion: str | None = None,
        apply: bool = True,
    ) -> dict:
        """Suggest (and by default apply) a plan.

        Args:
            kind: ``"li"`` (largest ratio per group whose accuracy drop ≤ ``epsilon``), ``"target"`` (reach
                ``reduction`` fewer MACs at the least predicted accuracy loss) or ``"global"`` (one ratio).
            table: a sensitivity table (computed with ``criterion`` when omitted).

        Returns:
            ``{"ratios": {...}, "predicted_accuracy": float | None, "predicted_macs": int | None}``.
        """
        crit = criterion or self.criterion
        if kind == "global":
            if apply:
                self.set_global_ratio(ratio, crit)
            return {
                "ratios": {g.name: self.ratio(g.name) for g in self.groups},
                "predicted_accuracy": None,
                "predicted_macs": None,
            }
        table = table if table is not None else self.sensitivity(criterion=crit)
        suggestion = suggest_ratios(self, kind, table, epsilon=epsilon, reduction=reduction)
        if apply:
            self._editor.set_ratios(suggestion["ratios"], table.criterion, replace=True)
        return suggestion

    @autograd_enabled()
    def finetune(
        self,
        steps: int = 200,
        *,
        lr: float = 3e-3,
        eval_every: int = 25,
        adopt: bool = True,
        progress=None,
        on_point=None,
        should_stop=None,
        mode: str = "masked",
        **mode_options,
    ):
        """Retrain the pruned network (masked) on the training subset, from the live weights; see
        ``explorer.finetune``. A cancelled run changes nothing. Otherwise, with ``adopt``, the new weights
        become the live weights, "fine-tuned under plan #N" (one undo step).

        ``mode="soft"`` (Soft Filter Pruning) or ``"group_lasso"`` train *before* a hard cut that keeps each
        group's channel count but picks the channels itself (``mode_options``: ``period``, ``lam``); see
        ``explorer.training_modes``."""
        if mode != "masked":
            options = {"lr": lr, "progress": progress, "should_stop": should_stop, **mode_options}
            return _analyses.train_for_prunability(self, mode, steps, adopt=adopt, **options)
        options = {"progress": progress, "on_point": on_point, "should_stop": should_stop}
        result = _experiments.finetune_plan(self, steps, lr=lr, eval_every=eval_every, **options)
        if adopt and not result.cancelled:
            previous = 0 if self.weights.is_original else self.weights.steps
            self.adopt_weights(result.model, steps=previous + len(result.losses))
        return result

    @autograd_enabled()
    def compare_schedules(
        self, ratio: float = 0.5, steps: int = 200, k: int = 4, criterion: str | None = None, should_stop=None
    ) -> dict:
        """One-shot vs iterative (k steps) pruning to a global ``ratio``, each with ``steps`` of training,
        both from the original weights. Runs on copies: the session's plan and weights are not changed."""
        crit = criterion or self.criterion
        return _experiments.compare_schedules(
            self, crit, ratio=ratio, steps=steps, k=k, should_stop=should_stop
        )

    @autograd_enabled()
    def compare_unstructured(self, repeats: int = 50) -> dict:
        """Filter pruning (exported) vs magnitude pruning of single weights at the same parameter count,
        both on the original weights: accuracy on the validation subset and measured CPU latency of both,
        plus the dense original. Zeroed weights keep the dense shapes: no speed-up."""
        return _experiments.compare_unstructured(self, repeats=repeats)

    def summary(self) -> dict:
        """A JSON-able description of the model, data and baseline for display."""
        base = self.baseline_cost()
        return {
            "model": self.model_name,
            "trained": self.trained,
            "dataset": self.data.name,
            "classes": len(self.data.classes),
            "val_samples": int(self.data.val.labels.shape[0]),
            "groups": len(self.groups),
            "refused_groups": {g.name: g.reason for g in self.all_groups if not g.prunable},
            "macs": base.macs,
            "params": base.params,
            "weights": self.weights.describe(),
        }


__all__ = ["EXPORT_TOLERANCE", "Metrics", "PruningSession", "measure_latency"]
