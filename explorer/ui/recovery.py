"""``compare_recovery``: one plan under three weights states, for the lesson's comparison (issue #16).

The same plan (the same removed channels, hence the same MACs) can run on

* the **original** weights: pruned only;
* the **reconstructed** weights (He, Zhang & Sun, "Channel Pruning for Accelerating Very Deep Neural
  Networks", ICCV 2017, https://arxiv.org/abs/1707.06168): every layer that reads removed channels refits its
  weights by least squares, W' = argmin_W ‖Y − X_kept W‖² + λ‖W‖², so that from the kept channels it
  reproduces the original layer's output Y; no gradient step;
* the **fine-tuned** weights: N steps of SGD on the training images, every layer at once, under the plan's
  masks.

Nothing is evaluated here: the numbers are the map's points (``state.trajectory``, see
:mod:`explorer.ui.trajectory`), each the exact evaluation of a plan on one weights state, recorded when the
explorer evaluated it, after a fine-tuning or a reconstruction. A state not measured yet on this plan is
``None``: the page says "not yet".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from explorer.ui.trajectory import ORIGINAL, plan_key

#: The rows, in the order the lesson shows them.
ROWS = ("pruned", "reconstructed", "finetuned")


def compare_recovery(points: Sequence[Mapping[str, Any]], pruned: Mapping[str, Sequence[int]]) -> dict:
    """The plan ``pruned``'s points on the original, the reconstructed and the fine-tuned weights.

    Args:
        points: the map's points (``state.trajectory``), oldest first.
        pruned: the plan (group → removed channels), e.g. ``state.pruned``.

    Returns:
        ``{"planned": bool, "complete": bool, "rows": {name: row or None}}`` with a row per name of ``ROWS``:
        ``{"accuracy", "macs", "steps", "from_original"}``. ``planned`` is False when nothing is removed;
        ``complete`` when all three rows are there. The newest reconstruction and fine-tuning of the plan
        count; ``from_original`` says whether that fine-tuning started from the original weights (the
        app's fine-tuning starts from the live weights, its reconstruction always from the original ones).
    """
    key = plan_key(pruned)
    rows: dict[str, dict | None] = dict.fromkeys(ROWS)
    if key == plan_key({}):
        return {"planned": False, "complete": False, "rows": rows}
    suffix = f":{key}"  # a point's key is "<weights label>:<plan key>" (Trajectory.key)
    same = [p for p in points if str(p.get("key", "")).endswith(suffix)]
    found = {
        "pruned": next((p for p in same if p["key"] == f"{ORIGINAL}{suffix}"), None),
        "reconstructed": next((p for p in reversed(same) if p.get("kind") == "reconstructed"), None),
        "finetuned": next((p for p in reversed(same) if p.get("kind") == "finetuned"), None),
    }
    for name, point in found.items():
        if point is not None:
            rows[name] = {
                "accuracy": float(point["accuracy"]),
                "macs": int(point["macs"]),
                "steps": point.get("steps") if name == "finetuned" else 0,
                "from_original": (point.get("start") or ORIGINAL) == ORIGINAL,
            }
    complete = all(row is not None for row in rows.values())
    return {"planned": True, "complete": complete, "rows": rows}


__all__ = ["ROWS", "compare_recovery"]
