"""``PruningSession``: the public, UI-free API. Anything the app can do, a script can do through it.

    >>> from explorer import PruningSession
    >>> s = PruningSession("digits_cnn")
    >>> s.set_ratio("features.3", 0.5, criterion="l1")
    >>> s.evaluate().accuracy, s.cost().macs

The live part (plans, weights states, scores, metrics, export) is ``explorer.exploration.ExplorationSession``;
``PruningSession`` adds the longer workflows, each a short delegation to its module: ``sensitivity``,
``experiments``, ``analyses`` and ``preflight``. The user's model is never mutated: the session works on a
private copy and only ever installs temporary forward hooks on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from explorer import analyses as _analyses
from explorer import experiments as _experiments
from explorer._autograd import autograd_enabled
from explorer.device import device_label
from explorer.exploration import ExplorationSession
from explorer.latency import measure_latency
from explorer.metrics import Metrics
from explorer.sensitivity import run_sensitivity, suggest_ratios
from explorer.token_pruning import token_blocks
from explorer.verification import EXPORT_TOLERANCE


class PruningSession(ExplorationSession):
    """Explore filter pruning of one model on one validation subset (arguments: ``ExplorationSession``).

    ``ExplorationSession`` holds the live part (plans, weights states, scores, metrics, export, the views the
    app shows); this adds the longer workflows built on it: the architecture preflight, sensitivity scans
    and plan suggestions, fine-tuning and the experiments, and the analyses of a plan (who pays,
    reconstruction, dynamic pruning, provenance).
    """

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

    def restore(self, number: int) -> bool:
        """Go back to plan ``#number`` with the weights it ran on (one undo step); False when the history no
        longer holds it (it keeps 200 steps, and a change after an undo drops the steps undone)."""
        done = self._history.restore(int(number))
        if done:
            self._load_weights()
        return done

    # ---- analyses of the current plan (explorer/analyses.py)
    def per_class(self) -> list[dict]:
        """Per class, the original network's accuracy and the pruned one's (Hooker et al. 2019)."""
        return _analyses.per_class(self)

    def flipped(self) -> dict:
        """Validation images whose prediction flips: ``{"lost": [...], "gained": [...], "weights": ...}``."""
        return _analyses.flipped(self)

    def reconstruct(self, *, adopt: bool = True, batch_size: int = 64, ridge: float = 1e-4, **steer) -> dict:
        """Win accuracy back without training: least-squares refit of the layers that consume pruned
        channels (He, Zhang & Sun, ICCV 2017); with ``adopt``, "reconstructed under plan #N" goes live.
        ``steer``: ``progress(done, total)`` and ``should_stop()`` (then ``{"cancelled": True}``)."""
        return _analyses.reconstruct(self, adopt=adopt, batch_size=batch_size, ridge=ridge, **steer)

    @autograd_enabled()
    def compare_training_modes(self, steps: int = 200, *, should_stop=None, **options) -> dict:
        """Plain masked fine-tuning vs Soft Filter Pruning vs group lasso, from the original weights."""
        self.evaluator.release_cache()  # room for training (see finetune)
        return _analyses.compare_training_modes(self, steps, should_stop=should_stop, **options)

    def dynamic(self, ratio: float = 0.5, *, static_criterion: str = "mean_activation") -> dict:
        """Dynamic (per-image top-k, a training-free stand-in for FBS) vs static pruning at the same MACs."""
        return _analyses.dynamic(self, ratio, static_criterion=static_criterion)

    def dynamic_channels(self, indices: Sequence[int] = (0, 1, 2, 3), ratio: float = 0.5) -> list[dict]:
        """For a few validation images, which channels each keeps under ``dynamic(ratio)``."""
        return _analyses.dynamic_channels(self, indices, ratio)

    def tokens(self, keep_ratio: float = 0.7, *, stages: Sequence[int] | None = None) -> dict:
        """ViT only: token pruning by the class token's attention (a training-free stand-in for DynamicViT)
        vs static and random tokens at the same MACs; ``stages``: blocks after which tokens are dropped."""
        return _analyses.tokens(self, keep_ratio, stages=stages)

    def tokens_kept(
        self,
        indices: Sequence[int] = (0, 1, 2, 3),
        keep_ratio: float = 0.7,
        *,
        stages: Sequence[int] | None = None,
    ) -> list[dict]:
        """ViT only: for a few validation images, the patch positions each keeps after each stage."""
        return _analyses.tokens_kept(self, indices, keep_ratio, stages)

    def record_plan(self, source: str = "slider", metrics: Metrics | None = None) -> dict:
        """Add the current plan, with its metrics, source and weights, to ``self.provenance`` (the log)."""
        return _analyses.record_plan(self, self._history.plan, source, metrics)

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
        # training's working set needs the room: on ResNet-20 under a 2 GB limit, a fine-tune after a scan
        # peaked at 1.47 GB with the scan's activations still cached
        self.evaluator.release_cache()
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
        self.evaluator.release_cache()  # room for training (see finetune)
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
            "device": str(self.device),
            "device_name": device_label(self.device),
            "token_blocks": token_blocks(self.model),
        }


__all__ = ["EXPORT_TOLERANCE", "Metrics", "PruningSession", "measure_latency"]
