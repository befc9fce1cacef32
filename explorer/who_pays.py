"""Who pays for pruning: per-class accuracy and the images whose prediction flips.

Hooker, Courville, Clark, Dauphin & Frome, "What Do Compressed Deep Neural Networks Forget?" (2019),
https://arxiv.org/abs/1911.05248: a pruned network can keep its top-1 accuracy within a point while some
classes, and some images ("pruning identified exemplars"), lose far more. The overall number hides who pays.

Two comparisons of the original network with the pruned one, on the same validation images:

* per class c: acc_c = |{i : y_i = c, ŷ_i = c}| / |{i : y_i = c}| for both networks, and the change
  (pruned − original) in percentage points;
* flipped images: *lost* = {i : ŷ_orig,i = y_i ≠ ŷ_pruned,i}, *gained* = {i : ŷ_orig,i ≠ y_i = ŷ_pruned,i},
  each with both predictions and both confidences (softmax probability of the predicted class).

"Original" is the network as loaded (original weights, nothing pruned). "Pruned" is the current plan applied
to the live weights, which may be fine-tuned or reconstructed; every result names those weights.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

PREDICTION_BATCH = 200


@dataclass(frozen=True)
class Predictions:
    """One network's predictions on a validation split.

    Attributes:
        labels: ``[N]`` true labels.
        predicted: ``[N]`` arg-max classes.
        confidence: ``[N]`` softmax probability of the predicted class.
    """

    labels: torch.Tensor
    predicted: torch.Tensor
    confidence: torch.Tensor

    @property
    def correct(self) -> torch.Tensor:
        """``[N]`` bool: prediction equals label."""
        return self.predicted == self.labels


@torch.no_grad()
def compute_predictions(
    forward: Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int = PREDICTION_BATCH,
) -> Predictions:
    """Arg-max class and its softmax probability for every input, in fp32, batch by batch.

    Args:
        forward: ``inputs [B, ...] → logits [B, K]`` (a model in eval mode, or a masked forward).
        inputs: ``[N, ...]``.
        labels: ``[N]``.
    """
    predicted, confidence = [], []
    for start in range(0, int(labels.shape[0]), batch_size):
        probs = torch.softmax(forward(inputs[start : start + batch_size]).float(), dim=1)
        conf, pred = probs.max(dim=1)
        predicted.append(pred)
        confidence.append(conf)
    if not predicted:
        empty = torch.zeros(0)
        return Predictions(labels, empty.long(), empty)
    return Predictions(labels, torch.cat(predicted), torch.cat(confidence))


def per_class_table(
    original: Predictions, pruned: Predictions, classes: Sequence[str], weights: str
) -> list[dict[str, Any]]:
    """One row per class: ``{class, name, original_accuracy, pruned_accuracy, change, count, weights}``.

    Accuracies are in [0, 1] (``None`` for a class with no validation image); ``change`` is
    (pruned − original) in percentage points; ``weights`` names the live weights the pruned network ran on.
    """
    rows = []
    for c, name in enumerate(classes):
        here = original.labels == c
        count = int(here.sum())
        orig = float(original.correct[here].float().mean()) if count else None
        new = float(pruned.correct[here].float().mean()) if count else None
        rows.append(
            {
                "class": c,
                "name": name,
                "original_accuracy": orig,
                "pruned_accuracy": new,
                "change": (new - orig) * 100 if count else None,
                "count": count,
                "weights": weights,
            }
        )
    return rows


def _image_row(i: int, original: Predictions, pruned: Predictions, classes: Sequence[str]) -> dict[str, Any]:
    label, orig, new = int(original.labels[i]), int(original.predicted[i]), int(pruned.predicted[i])

    def name(c: int) -> str:
        return classes[c] if 0 <= c < len(classes) else str(c)

    return {
        "index": i,
        "label": label,
        "label_name": name(label),
        "original_prediction": orig,
        "original_name": name(orig),
        "original_confidence": float(original.confidence[i]),
        "pruned_prediction": new,
        "pruned_name": name(new),
        "pruned_confidence": float(pruned.confidence[i]),
    }


def flipped_images(
    original: Predictions, pruned: Predictions, classes: Sequence[str], weights: str
) -> dict[str, Any]:
    """``{"lost": [...], "gained": [...], "weights": ...}``.

    *lost*: images the original classified right and the pruned network gets wrong, the most confident wrong
    answers first; *gained*: the reverse, the most confident right answers first. Each entry holds the
    image's ``index`` in the validation split, its ``label``, both predictions and both confidences (and
    the class names).
    """
    right, now_right = original.correct, pruned.correct

    def rows(mask: torch.Tensor) -> list[dict[str, Any]]:
        idxs = sorted(mask.nonzero().flatten().tolist(), key=lambda i: (-float(pruned.confidence[i]), i))
        return [_image_row(i, original, pruned, classes) for i in idxs]

    return {"lost": rows(right & ~now_right), "gained": rows(~right & now_right), "weights": weights}


# The original network's predictions never change during a session: computed once per session.
_ORIGINAL: weakref.WeakKeyDictionary[Any, Predictions] = weakref.WeakKeyDictionary()


def compare_predictions(session: Any) -> tuple[Predictions, Predictions]:
    """``(original, pruned)`` predictions of a ``PruningSession`` on its validation split, in fp32.

    Original: ``session.original_model()`` (original weights, nothing pruned), cached per session.
    Pruned: the session's current plan (masks) on its live weights (``session.masked_outputs``).
    """
    val = session.data.val
    original = _ORIGINAL.get(session)
    if original is None:
        model: nn.Module = session.original_model().eval()
        original = _ORIGINAL[session] = compute_predictions(model, val.inputs, val.labels)
    pruned = compute_predictions(session.masked_outputs, val.inputs, val.labels)
    return original, pruned


__all__ = ["Predictions", "compare_predictions", "compute_predictions", "flipped_images", "per_class_table"]
