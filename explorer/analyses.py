"""Analyses of the current plan beyond accuracy: who pays for it, recovery without training, training for
prunability, dynamic against static pruning, and the provenance log of the plans tried.

Each function takes the session it analyses (``PruningSession`` methods of the same names delegate here)
and hands the real work to its own module: ``who_pays`` (Hooker et al. 2019), ``reconstruction`` (He, Zhang
& Sun 2017), ``training_modes`` (Soft Filter Pruning, He et al. 2018; group lasso), ``dynamic`` (a
training-free stand-in for Gao et al. 2019's FBS), ``token_pruning`` (for ViTs, a training-free stand-in
for Rao et al. 2021's DynamicViT) and ``provenance``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from explorer import dynamic as _dynamic
from explorer import experiments as _experiments
from explorer import provenance, who_pays
from explorer import token_pruning as _tokens
from explorer.metrics import Metrics
from explorer.plan import Plan, PlanError, count_to_prune, lowest
from explorer.reconstruction import reconstruct_plan
from explorer.training_modes import KINDS, train_mode


def per_class(session: Any) -> list[dict]:
    """Per class ``{class, name, original_accuracy, pruned_accuracy, change (points), count, weights}``:
    "original" is the original network (original weights, nothing pruned), "pruned" the current plan on the
    live weights (which each row names under ``"weights"``)."""
    original, pruned = who_pays.compare_predictions(session)
    return who_pays.per_class_table(original, pruned, session.data.classes, session.weights.label)


def flipped(session: Any) -> dict:
    """``{"lost": [...], "gained": [...], "weights": label}``: lost = right in the original network and
    wrong under the current plan on the live weights; gained = the reverse (``who_pays.flipped_images``)."""
    original, pruned = who_pays.compare_predictions(session)
    return who_pays.flipped_images(original, pruned, session.data.classes, session.weights.label)


def reconstruct(
    session: Any,
    *,
    adopt: bool,
    batch_size: int,
    ridge: float,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """Refit, by least squares on the calibration split, the layers that consume pruned channels, from the
    original weights. With ``adopt`` the result becomes the live weights, "reconstructed under plan #N" (one
    undo step). Returns accuracy before / after on the validation split (fp32), each layer's fit, and
    ``"weights"``. ``progress(done, total)`` follows the layers; when ``should_stop()`` turns true the result
    is ``{"cancelled": True}`` and nothing changes."""
    number = session.plan_number
    steer = {"progress": progress, "should_stop": should_stop}
    done, summary = reconstruct_plan(session, batch_size=batch_size, ridge=ridge, **steer)
    if done is None:
        return {"cancelled": True, "plan_number": number}
    if adopt:
        session.adopt_weights(done.model, kind="reconstructed", steps=0)
    return summary | {"weights": session.weights.label if adopt else "original", "plan_number": number}


def train_for_prunability(session: Any, mode: str, steps: int, *, adopt: bool, **options: Any):
    """Soft Filter Pruning (``"soft"``) or group lasso (``"group_lasso"``) from the live weights, then the
    hard cut at the current plan's channel count per group (``options``: ``lr``, ``lam``, ``period``,
    ``progress``, ``should_stop``; see ``explorer.training_modes``).

    With ``adopt`` (and not cancelled): the plan becomes the channels the mode cut (criterion "manual", one
    undo step), then the trained weights go live, e.g. "soft-pruned under plan #N (200 steps)" (a second)."""
    if mode not in ("soft", "group_lasso"):
        raise PlanError(f"training mode {mode!r}: choose 'soft' or 'group_lasso' (finetune() trains masked)")
    train = _experiments.training_split(session)
    result = train_mode(
        mode,
        session.model_copy(),
        session.groups,
        session.pruned,
        session.layer_cuts,
        train,
        session.data.val,
        steps,
        seed=session.seed,
        **options,
    )
    if adopt and not result.cancelled:
        groups = {
            g: {"pruned": list(i), "ratio": session.ratio(g), "criterion": "manual"}
            for g, i in result.pruned.items()
        }
        session.apply_plan({"groups": groups, "model": session.model_name})
        previous = 0 if session.weights.is_original else session.weights.steps
        session.adopt_weights(result.model, kind=KINDS[mode], steps=previous + len(result.losses))
    return result


def compare_training_modes(session: Any, steps: int, **options: Any) -> dict:
    """Plain masked fine-tuning vs Soft Filter Pruning vs group lasso, ``steps`` each, all from the original
    weights and all ending at the current plan's channel count per group (the same MACs); accuracy after the
    hard cut. Runs on copies: the session is not changed."""
    result = _experiments.compare_training_modes(session, session.original_model(), steps, **options)
    return result | {"macs": session.cost().macs, "baseline_macs": session.baseline_cost().macs}


def dynamic(session: Any, ratio: float, *, static_criterion: str) -> dict:
    """Dynamic vs static pruning at ``ratio`` of every offered group, on the original weights.

    Dynamic: each image keeps the top-k channels of each group by its *own* activation magnitude, an upper
    bound and not a speed-up (the result says so under ``"method"`` and ``"note"``). Static: the same k per
    group for every image, ranked by ``static_criterion``, hence the same average MACs."""
    original = session.original_model()
    scores = _experiments.original_scores(session, static_criterion)
    static = {
        g.name: lowest(scores[g.name], count_to_prune(g.num_channels, ratio, g.name)) for g in session.groups
    }
    val, cuts_of, count_macs = session.data.val, session.layer_cuts, session.count_macs
    return _dynamic.compare_dynamic_static(
        original, session.groups, ratio, val, static, cuts_of, count_macs, static_criterion
    )


def dynamic_channels(session: Any, indices: Sequence[int], ratio: float) -> list[dict]:
    """For a few validation images, ``{index, label, prediction, confidence, channels: {group: [kept]}}``
    under ``dynamic(ratio)`` (original weights)."""
    return _dynamic.channels_used(session.original_model(), session.groups, ratio, session.data.val, indices)


def tokens(session: Any, keep_ratio: float, *, stages: Sequence[int] | None) -> dict:
    """ViT token pruning on the original weights: each image keeps, after each stage block, the patch
    tokens its class token attends to most (a training-free stand-in for DynamicViT, as the result says
    under ``"method"`` and ``"note"``), against static and random tokens on the same schedule and MACs."""
    return _tokens.compare_token_pruning(
        session.original_model(), session.data.val, session.data.calib.inputs, keep_ratio, stages=stages
    )


def tokens_kept(
    session: Any, indices: Sequence[int], keep_ratio: float, stages: Sequence[int] | None
) -> list:
    """For a few validation images, the patch positions each keeps after each stage under ``tokens``."""
    return _tokens.tokens_kept(session.original_model(), session.data.val, indices, keep_ratio, stages)


def record_plan(session: Any, plan: Plan, source: str, metrics: Metrics | Mapping | None) -> dict:
    """Add ``plan`` (the current one) to ``session.provenance``: criteria, ``source`` (``"slider"``,
    ``"suggestion"``, ``"file"``...), weights label, accuracy, MACs, params; returns the record. ``metrics``:
    the plan's exact metrics if already evaluated (a ``Metrics``, or a mapping with ``accuracy``, ``macs``
    and ``params``, as the app publishes them), else evaluated now."""
    m = metrics if metrics is not None else session.evaluate()
    numbers = m if isinstance(m, Mapping) else {k: getattr(m, k) for k in ("accuracy", "macs", "params")}
    record = provenance.make_record(
        plan,
        session.plan_number,
        source=source,
        weights=session.weights.label,
        accuracy=numbers["accuracy"],
        macs=numbers["macs"],
        params=numbers["params"],
        base_macs=session.baseline_cost().macs,
    )
    session.provenance.add(record)
    return record


__all__ = [
    "compare_training_modes",
    "dynamic",
    "dynamic_channels",
    "flipped",
    "per_class",
    "reconstruct",
    "record_plan",
    "tokens",
    "tokens_kept",
    "train_for_prunability",
]
