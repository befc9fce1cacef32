"""``PruningSession``: the public, UI-free API. Anything the app can do, a script can do through it.

    >>> from explorer import PruningSession
    >>> s = PruningSession("digits_cnn")
    >>> s.set_ratio("features.3", 0.5, criterion="l1")
    >>> s.evaluate().accuracy, s.cost().macs

The user's model is never mutated: the session works on a private copy and only ever installs temporary
forward hooks on that copy.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from explorer import criteria as _criteria
from explorer import inspection
from explorer._autograd import autograd_enabled
from explorer.cost import Cost, CostModel
from explorer.data import DataBundle, DataSplit, load_data
from explorer.errors import DataError, ExplorerError, ModelError
from explorer.evaluation import DEFAULT_CACHE_BUDGET, Estimate, EvaluationCancelled, Evaluator, plan_batches
from explorer.graph import GroupGraph, PruningGroup, build_groups, export_pruned
from explorer.masks import LayerCuts, apply_masks, compute_layer_cuts
from explorer.models import load_model
from explorer.plan import (
    GroupChoice,
    Plan,
    PlanError,
    choose_global,
    count_to_prune,
    lowest,
    validate_indices,
)
from explorer.zoo import get_model_spec

EXPORT_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Metrics:
    """Metrics of the pruned network on the validation subset.

    Attributes:
        accuracy, top5: fractions in [0, 1] (``top5`` is ``None`` with fewer than 5 classes).
        loss: mean cross-entropy.
        accuracy_ci: half-width of the 95 % interval (0 once every sample is evaluated).
        macs, params: of the pruned network, per sample.
        seen, total: samples evaluated so far, and in the subset.
    """

    accuracy: float
    top5: float | None
    loss: float
    accuracy_ci: float
    macs: int
    params: int
    seen: int
    total: int

    @property
    def final(self) -> bool:
        return self.seen == self.total


def _model_fingerprint(model: nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class PruningSession:
    """Explore filter pruning of one model on one validation subset.

    Args:
        model: a zoo name (see ``explorer.list_models()``) or any ``nn.Module`` (it is copied, never changed).
        data: any source ``explorer.load_data`` accepts, or a ready ``DataBundle``; defaults to the zoo
            model's own dataset.
        num_samples: size of the validation subset (``None``: the whole split, at most 1000 samples).
        checkpoint: optional state_dict file, loaded with ``weights_only=True``.
        pretrained: load the zoo model's trained weights (embedded for ``digits_cnn``; cached otherwise).
        criterion: default criterion used to rank channels.
        seed: seeds the subsets, the batch order and the ``random`` criterion.
        batch_size: evaluation batch size (100-250 is fastest on CPU).
        cache_budget: bytes of activations the cache may hold (1 GiB by default).
        verify: check, when the session starts, that masking each offered group equals removing it.
    """

    @autograd_enabled()
    def __init__(
        self,
        model: str | nn.Module = "digits_cnn",
        data=None,
        num_samples: int | None = None,
        *,
        checkpoint=None,
        pretrained: bool = True,
        criterion: str = "l1",
        seed: int = 0,
        batch_size: int = 200,
        first_batch: int = 64,
        cache_budget: int = DEFAULT_CACHE_BUDGET,
        calib_samples: int = 256,
        verify: bool = True,
        root=None,
    ):
        self.seed = seed
        self.model_name = (
            model if isinstance(model, str) else getattr(model, "explorer_name", type(model).__name__)
        )
        self._model = load_model(model, checkpoint, pretrained=pretrained).eval()
        self.trained = bool(getattr(self._model, "explorer_trained", True))
        spec = get_model_spec(model) if isinstance(model, str) else None
        self.spec = spec
        if isinstance(data, DataBundle):
            self.data = data
        else:
            source = data if data is not None else (spec.dataset if spec is not None else None)
            if source is None:
                raise ExplorerError("a custom model needs data: pass data=... (a dataset, loader or name)")
            self.data = load_data(
                source,
                num_samples,
                seed=seed,
                root=root,
                calib_samples=calib_samples,
                input_shape=spec.input_shape if spec is not None else None,
                num_classes=spec.num_classes if spec is not None else None,
            )
        val = self.data.val
        self._check_model_accepts(val)
        self.criterion = criterion
        self.example_input = val.inputs[:2].clone()
        # the private model copy is shared by the evaluation thread, scoring and export: masks are
        # installed on it only while this lock is held
        self._lock = threading.RLock()
        self.graph: GroupGraph = build_groups(self._model, self.example_input)
        self.warnings: list[str] = list(self.graph.warnings)
        self._cost_model = CostModel(self._model, val.inputs[:1])
        order = torch.randperm(val.labels.shape[0], generator=torch.Generator().manual_seed(seed))
        self.evaluator = Evaluator(
            self._model,
            val.inputs[order],
            val.labels[order],
            plan_batches(int(val.labels.shape[0]), batch_size, first_batch),
            cache_budget,
            self._lock,
        )
        self._calib_evaluator: Evaluator | None = None
        self._plan = Plan(model=self.model_name)
        self._history: list[Plan] = []
        self._generation = 0
        self._scores: dict[str, dict[str, _criteria.GroupScores]] = {}
        self._baseline: Metrics | None = None
        self._sensitivity: dict = {}
        self._fingerprint = _model_fingerprint(self._model)
        broken = [
            n for n, t in self._model.state_dict().items() if t.is_floating_point() and not t.isfinite().all()
        ]
        if broken:
            # 0 · NaN is NaN: masking can never match removal here, so the check would refuse every group
            # for a misleading reason; the criteria refuse such weights with the layers named instead
            self.warnings.append(f"non-finite weights (NaN or Inf) in {', '.join(broken)}")
        elif verify and self.graph.exportable:
            self._verify_groups()

    # ----------------------------------------------------------------------------------------- model
    def _check_model_accepts(self, split: DataSplit) -> None:
        if split.labels.numel() == 0:
            raise DataError("the validation subset is empty")
        try:
            with torch.no_grad():
                out = self._model(split.inputs[:2])
        except Exception as error:
            raise ModelError(
                f"the model failed on inputs of shape {tuple(split.inputs.shape[1:])} "
                f"({type(error).__name__}: {error})"
            ) from error
        if not isinstance(out, torch.Tensor) or out.dim() != 2:
            raise ModelError("the model must return class logits of shape [N, num_classes]")
        top = int(split.labels.max())
        if top >= out.shape[1]:
            raise DataError(f"labels go up to {top} but the model has only {out.shape[1]} outputs")
        self.num_classes = int(out.shape[1])

    @property
    def model(self) -> nn.Module:
        """The session's private copy of the model (unpruned; masks are applied only while evaluating)."""
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

    def _verify_groups(self) -> None:
        """Refuse, with a reason, every group whose masked outputs differ from its exported outputs."""
        bad = self._find_mismatching(list(self.groups))
        for group in bad:
            group.prunable = False
            group.reason = (
                "masking it does not reproduce removing it (checked on this model), so it is not offered"
            )
        if bad:
            self.warnings.append(f"{len(bad)} group(s) left out after the masked = exported check")

    def _probe_plan(self, groups: Sequence[PruningGroup]) -> dict[str, tuple[int, ...]]:
        return {g.name: tuple(range(0, g.num_channels - 1, 3)) for g in groups if g.num_channels > 1}

    def _masked_equals_export(self, groups: Sequence[PruningGroup]) -> bool:
        pruned = self._probe_plan(groups)
        x = self.example_input
        try:
            with self._lock:
                exported = export_pruned(self._model, x, pruned, self.graph)
            with torch.no_grad(), self._lock:
                want = exported(x)
                with apply_masks(self._model, compute_layer_cuts(self.graph, pruned)):
                    got = self._model(x)
        except Exception:
            return False
        # equal_nan: a model with NaN weights is refused later, by the criteria, with the layers named
        return got.shape == want.shape and bool(
            torch.allclose(got, want, atol=EXPORT_TOLERANCE, rtol=1e-4, equal_nan=True)
        )

    def _find_mismatching(self, groups: list[PruningGroup]) -> list[PruningGroup]:
        if not groups or self._masked_equals_export(groups):
            return []
        if len(groups) == 1:
            return groups
        half = len(groups) // 2
        return self._find_mismatching(groups[:half]) + self._find_mismatching(groups[half:])

    # ------------------------------------------------------------------------------------------ plan
    @property
    def plan(self) -> dict:
        """The current plan as a JSON-able dict (see ``explorer.plan.Plan``)."""
        return self._plan.to_dict()

    @property
    def pruned(self) -> dict[str, tuple[int, ...]]:
        """Group name → removed root channel indices."""
        return self._plan.pruned()

    @property
    def generation(self) -> int:
        """Increases with every plan change; running evaluations of older plans stop early."""
        return self._generation

    def _commit(self, choices: Mapping[str, GroupChoice], *, replace: bool = False) -> None:
        self._history.append(copy.deepcopy(self._plan))
        new = {} if replace else dict(self._plan.choices)
        new.update(choices)
        self._plan = Plan({k: v for k, v in new.items() if v.pruned or v.ratio}, self.model_name)
        self._generation += 1

    def ratio(self, group: str) -> float:
        choice = self._plan.choices.get(group)
        return choice.ratio if choice else 0.0

    def _choose(self, group: PruningGroup, ratio: float, criterion: str) -> GroupChoice:
        count = count_to_prune(group.num_channels, ratio, group.name)
        if count == 0:
            return GroupChoice((), float(ratio), criterion)
        scores = self.scores(criterion, groups=[group.name])[group.name]
        return GroupChoice(lowest(scores, count), float(ratio), criterion)

    def set_ratio(self, group: str, ratio: float, criterion: str | None = None) -> None:
        """Remove the ``ratio`` lowest-scoring channels of ``group`` (at least one channel is kept)."""
        g = self.group(group)
        self._commit({group: self._choose(g, ratio, criterion or self.criterion)})

    def set_ratios(self, ratios: Mapping[str, float], criterion: str | None = None) -> None:
        """Several groups at once (one undo step)."""
        crit = criterion or self.criterion
        choices = {name: self._choose(self.group(name), r, crit) for name, r in ratios.items()}
        self._commit(choices)

    def set_global_ratio(self, ratio: float, criterion: str | None = None, cap: float = 0.9) -> None:
        """One ratio over every offered group, with per-group normalised scores (see ``choose_global``)."""
        crit = criterion or self.criterion
        count_to_prune(sum(g.num_channels for g in self.groups), ratio)  # validates the ratio
        scores = self.scores(crit)
        chosen = choose_global({g.name: scores[g.name] for g in self.groups}, ratio, cap)
        choices = {
            g.name: GroupChoice(chosen[g.name], len(chosen[g.name]) / g.num_channels, crit)
            for g in self.groups
        }
        self._commit(choices, replace=True)

    def set_pruned(self, group: str, pruned: Sequence[int]) -> None:
        """Remove exactly these root channels of ``group`` (hand-picked)."""
        g = self.group(group)
        idxs = validate_indices(group, g.num_channels, pruned)
        self._commit({group: GroupChoice(idxs, len(idxs) / g.num_channels, "manual")})

    def toggle_channel(self, group: str, channel: int) -> None:
        """Prune ``channel`` of ``group`` if it is kept, restore it if it is pruned."""
        current = set(self.pruned.get(group, ()))
        current ^= {int(channel)}
        self.set_pruned(group, sorted(current))

    def reset(self) -> None:
        """Back to the unpruned network (undoable)."""
        self._commit({}, replace=True)

    def undo(self) -> bool:
        """Go back one plan change. Returns False when there is nothing to undo."""
        if not self._history:
            return False
        self._plan = self._history.pop()
        self._generation += 1
        return True

    def apply_plan(self, plan: Plan | Mapping | str) -> None:
        """Apply a plan (a ``Plan``, its dict, or its JSON). Checks every group and index first."""
        if isinstance(plan, str):
            plan = Plan.from_json(plan)
        elif not isinstance(plan, Plan):
            plan = Plan.from_dict(plan)
        choices = {}
        for name, choice in plan.choices.items():
            group = self.group(name)
            choices[name] = GroupChoice(
                validate_indices(name, group.num_channels, choice.pruned), choice.ratio, choice.criterion
            )
        self._commit(choices, replace=True)

    def layer_cuts(self, pruned: Mapping[str, Sequence[int]] | None = None) -> LayerCuts:
        return compute_layer_cuts(self.graph, self.pruned if pruned is None else pruned)

    # ---------------------------------------------------------------------------------------- scores
    def scores(
        self, criterion: str | None = None, groups: Sequence[str] | None = None
    ) -> dict[str, torch.Tensor]:
        """``{group: Tensor[num_channels]}``: the criterion's score of every channel; low = pruned first."""
        return {name: gs.score for name, gs in self.group_scores(criterion, groups).items()}

    @autograd_enabled()
    def group_scores(
        self,
        criterion: str | None = None,
        groups: Sequence[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> dict[str, _criteria.GroupScores]:
        """Scores with each member layer's own score; computed once per criterion and model state."""
        name = criterion or self.criterion
        wanted = list(groups) if groups is not None else [g.name for g in self.groups]
        cached = self._scores.setdefault(name, {})
        missing = [g for g in wanted if g not in cached]
        if missing:
            info = _criteria.get_criterion(name)
            kwargs = {}
            if info.needs == "loss_oracle":
                evaluator = self._calibration_evaluator()
                kwargs["base_loss"] = evaluator.evaluate(LayerCuts()).loss
                kwargs["masked_loss"] = lambda g, idxs: evaluator.evaluate(self.layer_cuts({g: idxs})).loss
            with self._lock:
                cached.update(
                    _criteria.compute_group_scores(
                        name,
                        self._model,
                        self.graph,
                        groups=missing,
                        calib=self.data.calib,
                        seed=self.seed,
                        progress=progress,
                        should_stop=should_stop,
                        **kwargs,
                    )
                )
        return {g: cached[g] for g in wanted}

    def agreement(self, criteria: Sequence[str] = ("l1", "fpgm", "taylor"), ratio: float = 0.5) -> list[dict]:
        """Per group and pair of criteria: Spearman ρ of their scores, and the overlap of the channels each
        would prune at ``ratio`` (see ``explorer.criteria.agreement_table``)."""
        return _criteria.agreement_table({c: self.group_scores(c) for c in criteria}, ratio)

    def _calibration_evaluator(self) -> Evaluator:
        if self._calib_evaluator is None:
            calib = self.data.calib
            self._calib_evaluator = Evaluator(
                self._model,
                calib.inputs,
                calib.labels,
                plan_batches(int(calib.labels.shape[0]), 256, 256),
                self.evaluator.cache.budget // 4,
                self._lock,
            )
        return self._calib_evaluator

    # ------------------------------------------------------------------------------------ evaluation
    def cost(self, pruned: Mapping[str, Sequence[int]] | None = None) -> Cost:
        """Analytic MACs and params of the pruned network (exactly what the exported model has)."""
        return self._cost_model.count(self.layer_cuts(pruned))

    def baseline_cost(self) -> Cost:
        return self._cost_model.count(LayerCuts())

    def layer_macs(self, pruned: Mapping[str, Sequence[int]] | None = None) -> dict[str | None, int]:
        """MACs per sample of each conv / linear layer under the plan (``None``: ops owned by no module)."""
        return self._cost_model.count_macs_per_layer(self.layer_cuts(pruned))

    def _metrics(self, estimate: Estimate, cost: Cost) -> Metrics:
        return Metrics(
            accuracy=estimate.accuracy,
            top5=estimate.top5,
            loss=estimate.loss,
            accuracy_ci=estimate.accuracy_ci,
            macs=cost.macs,
            params=cost.params,
            seen=estimate.seen,
            total=estimate.total,
        )

    def iter_evaluate(self, *, use_cache: bool = True, cancel_on_change: bool = True) -> Iterator[Metrics]:
        """Yield running metrics after each batch; the last one is exact.

        With ``cancel_on_change`` the iteration simply stops early as soon as the plan changes, so a storm
        of slider moves only ever finishes the last one.
        """
        generation = self._generation
        cuts = self.layer_cuts()
        cost = self._cost_model.count(cuts)
        stop = (lambda: self._generation != generation) if cancel_on_change else None
        iterator = self.evaluator.iter_estimates(cuts, use_cache=use_cache, should_stop=stop)
        try:
            for estimate in iterator:
                yield self._metrics(estimate, cost)
        except EvaluationCancelled:
            return

    def evaluate(self, *, use_cache: bool = True) -> Metrics:
        """Exact metrics of the current plan on the validation subset."""
        cuts = self.layer_cuts()
        estimate = self.evaluator.evaluate(cuts, use_cache=use_cache)
        return self._metrics(estimate, self._cost_model.count(cuts))

    def baseline(self) -> Metrics:
        """Metrics of the unpruned model (computed once)."""
        if self._baseline is None:
            self._baseline = self._metrics(self.evaluator.evaluate(LayerCuts()), self.baseline_cost())
        return self._baseline

    # ---------------------------------------------------------------------------------------- export
    def export(self) -> nn.Module:
        """A physically smaller copy of the model with the plan's channels removed."""
        with self._lock:
            return export_pruned(self._model, self.example_input, self.pruned, self.graph)

    def masked_outputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """Outputs of the masked (not exported) model under the current plan."""
        with self._lock, torch.no_grad(), apply_masks(self._model, self.layer_cuts()):
            return self._model(inputs)

    def verify_export(self, exported: nn.Module | None = None) -> float:
        """Max |masked − exported| over the validation subset."""
        exported = exported if exported is not None else self.export()
        worst = 0.0
        inputs = self.data.val.inputs
        for start in range(0, inputs.shape[0], 250):
            x = inputs[start : start + 250]
            with torch.no_grad():
                worst = max(worst, float((self.masked_outputs(x) - exported(x)).abs().max()))
        return worst

    def unchanged(self) -> bool:
        """True when the session's copy of the model still has its original weights."""
        return _model_fingerprint(self._model) == self._fingerprint

    # ---------------------------------------------------------------- sensitivity, suggestions, retraining
    def sensitivity(
        self,
        ratios: Sequence[float] | None = None,
        criterion: str = "l1",
        groups: Sequence[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ):
        """Accuracy and loss with only one group pruned, for every group and ratio (Li et al. 2017 Fig. 2).

        Cached per (model state, criterion, subset, ratios, groups). Raises ``EvaluationCancelled`` when
        ``should_stop()`` turns true; the session is then exactly as before.
        """
        from explorer.sensitivity import run_sensitivity

        key = (self._fingerprint, criterion, tuple(ratios or ()), tuple(groups or ()))
        if key not in self._sensitivity:
            self._sensitivity[key] = run_sensitivity(self, ratios, criterion, groups, progress, should_stop)
        return self._sensitivity[key]

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
        from explorer.sensitivity import suggest_for_macs, suggest_li

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
        if kind == "li":
            ratios, predicted, macs = suggest_li(table, epsilon), None, None
        elif kind == "target":
            suggestion = suggest_for_macs(self, table, reduction)
            ratios, predicted, macs = (
                suggestion.ratios,
                suggestion.predicted_accuracy,
                suggestion.predicted_macs,
            )
        else:
            raise PlanError(f"unknown suggestion {kind!r}: use 'li', 'target' or 'global'")
        if apply:
            self._commit(
                {n: self._choose(self.group(n), r, table.criterion) for n, r in ratios.items()}, replace=True
            )
        return {"ratios": ratios, "predicted_accuracy": predicted, "predicted_macs": macs}

    @autograd_enabled()
    def adopt_weights(self, model: nn.Module) -> None:
        """Make ``model`` (same architecture, e.g. fine-tuned) the session's model state; caches are reset."""
        with self._lock:
            self._model.load_state_dict(model.state_dict())
            self._fingerprint = _model_fingerprint(self._model)
            self.evaluator.cache.clear()
            if self._calib_evaluator is not None:
                self._calib_evaluator.cache.clear()
            self._scores.clear()
            # the baseline stays the original network's: weights fine-tuned under masks are only meaningful
            # with those masks, so "unpruned" metrics of the new state would compare against nonsense
            self._generation += 1

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
    ):
        """Retrain the pruned network (masked) on the training subset; see ``explorer.finetune``.

        A cancelled run changes nothing. Otherwise, with ``adopt``, the session goes on from the new weights.
        """
        from explorer.finetune import finetune_masked

        train = self._train_split()
        with self._lock:
            base = copy.deepcopy(self._model)
        result = finetune_masked(
            base,
            self.layer_cuts(),
            train,
            self.data.val,
            steps,
            lr=lr,
            seed=self.seed,
            eval_every=eval_every,
            progress=progress,
            on_point=on_point,
            should_stop=should_stop,
        )
        if adopt and not result.cancelled:
            self.adopt_weights(result.model)
        return result

    def _train_split(self) -> DataSplit:
        if self.data.train is None or self.data.train.labels.numel() == 0:
            raise ExplorerError(f"the data source {self.data.name!r} has no training split to fine-tune on")
        return self.data.train

    @autograd_enabled()
    def compare_schedules(
        self, ratio: float = 0.5, steps: int = 200, k: int = 4, criterion: str | None = None, should_stop=None
    ) -> dict:
        """One-shot vs iterative (k steps) pruning to a global ``ratio``, each with ``steps`` of training.

        Runs on copies: the session's plan and weights are not changed.
        """
        from explorer.finetune import finetune_masked, iterative_schedule

        crit = criterion or self.criterion
        train = self._train_split()
        scores = self.scores(crit)
        final = choose_global({g.name: scores[g.name] for g in self.groups}, ratio)
        one_shot = finetune_masked(
            self._model,
            self.layer_cuts(final),
            train,
            self.data.val,
            steps,
            seed=self.seed,
            should_stop=should_stop,
        )
        ordered = {g: sorted(idxs, key=lambda i, g=g: (float(scores[g][i]), i)) for g, idxs in final.items()}
        model = self._model
        curve = []
        for i, plan in enumerate(iterative_schedule(final, ordered, k)):
            step = finetune_masked(
                model,
                self.layer_cuts(plan),
                train,
                self.data.val,
                steps // k,
                seed=self.seed + i,
                should_stop=should_stop,
            )
            model = step.model
            curve.append(step.accuracy_after)
        return {
            "ratio": ratio,
            "criterion": crit,
            "before": one_shot.accuracy_before,
            "one_shot": one_shot.accuracy_after,
            "iterative": curve[-1] if curve else None,
            "iterative_steps": curve,
        }

    @autograd_enabled()
    def compare_unstructured(self, repeats: int = 50) -> dict:
        """Filter pruning (exported) vs magnitude pruning of single weights at the same parameter count.

        Returns accuracy on the validation subset and measured CPU latency of both, plus the dense original.
        Zeroed weights keep the dense shapes, so the dense kernels do the same work: no speed-up.
        """
        from explorer.finetune import count_nonzero_params, magnitude_prune
        from explorer.train import compute_accuracy

        exported = self.export()
        params = sum(p.numel() for p in exported.parameters())
        with self._lock:
            dense = copy.deepcopy(self._model)
        sparse = magnitude_prune(dense, params)
        x = self.data.val.inputs[:128]
        for model in (dense, exported, sparse):  # warm all three first: the first one timed is penalised
            measure_latency(model, x, repeats=3)
        return {
            "params": params,
            "unstructured_nonzero_params": count_nonzero_params(sparse),
            "filter_accuracy": compute_accuracy(exported, self.data.val),
            "unstructured_accuracy": compute_accuracy(sparse, self.data.val),
            "dense_latency_ms": measure_latency(dense, x, repeats),
            "filter_latency_ms": measure_latency(exported, x, repeats),
            "unstructured_latency_ms": measure_latency(sparse, x, repeats),
        }

    def save_plan(self, path: str | Path) -> None:
        from explorer.export import write_atomically

        write_atomically(Path(path), self._plan.to_json().encode())

    def load_plan(self, path: str | Path) -> None:
        """Apply a plan saved by ``save_plan``; the current plan is kept when anything is wrong."""
        try:
            text = Path(path).read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise PlanError(f"cannot read the plan file {path}: {error}") from error
        self.apply_plan(text)

    # ---- views for the UI (explorer/inspection.py)
    def snapshot(self) -> inspection.PlanSnapshot:
        """The current plan's ratios, MACs and params (per layer too) as plain data, once per generation."""
        return self._plan_costs().snapshot

    def _plan_costs(self) -> inspection.PlanCosts:
        ratios = {g.name: self.ratio(g.name) for g in self.groups}
        cache = inspection.cache_of(self)
        return inspection.plan_costs(
            cache, self.generation, self.pruned, ratios, self.graph, self._cost_model
        )

    def iter_evaluate_snapshot(self) -> Iterator[Metrics]:
        """``iter_evaluate`` on the layer cuts and cost of ``snapshot()`` (computed once per plan change)."""
        plan = self._plan_costs()
        return inspection.iter_plan_metrics(self.evaluator, plan, lambda: self.generation, self._metrics)

    def rank(self, criterion: str | None, group: str) -> dict:
        """The order in which ``criterion`` removes ``group``'s channels, and those its ratio removes now."""
        return inspection.rank_channels(
            self.scores(criterion, groups=[group])[group], self.ratio(group), group
        )

    def explain(self, group: str, channel: int | None = None, criterion: str | None = None) -> dict:
        """The criterion's formula filled in with one channel's numbers (default: the first it removes)."""
        name, g = criterion or self.criterion, self.group(group)
        scores, pruned = self.group_scores(name, groups=[group])[group], self.pruned.get(group, ())
        return inspection.explain_filter(name, self._model, g, scores, channel, self.ratio(group), pruned)

    def feature_maps(self, group: str) -> inspection.FeatureMaps | None:
        """``[C, H, W]`` outputs of the group's root layer for the first validation image, unpruned."""
        cache = inspection.cache_of(self).for_weights(self._fingerprint)
        return inspection.feature_maps(cache, self._model, self._lock, group, self.data.val.inputs[:1])

    def gallery(self, group: str) -> inspection.Gallery:
        """The group's filters and feature maps as image tiles, the channels the plan prunes darkened."""
        label = inspection.class_name(self.data.classes, self.data.val.labels[0])
        root, size, pruned = self._model.get_submodule(group), self.group(group).num_channels, self.pruned
        return inspection.build_gallery(
            group, size, root, self.feature_maps(group), pruned.get(group, ()), label
        )

    def latency(self) -> dict:
        """``{pruned_ms, baseline_ms, speedup, generation}``: the exported model against the original."""
        cache, generation = inspection.cache_of(self).for_weights(self._fingerprint), self.generation
        timing = inspection.measure_speedup(
            cache, self._model, self._lock, self.export(), self.data.val.inputs[:1], measure_latency
        )
        return {**timing, "generation": generation}

    def describe(self) -> dict:
        """``summary()`` with the warnings, the architecture and the number of conv / linear layers."""
        return inspection.describe_model(self.summary(), self.warnings, self._model)

    # ---- end views for the UI

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
        }


def measure_latency(model: nn.Module, example: torch.Tensor, repeats: int = 20, warmup: int = 3) -> float:
    """Median CPU latency in milliseconds of ``model(example)``."""
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeats):
            start = time.perf_counter()
            model(example)
            if i >= warmup:
                times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2]


__all__ = ["Metrics", "PruningSession", "measure_latency"]
