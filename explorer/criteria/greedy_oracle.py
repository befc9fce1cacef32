"""The greedy oracle: remove, one at a time, the channel whose removal raises the loss least given the ones
already removed.

The single-channel ``oracle`` masks each channel *alone*, so two near-duplicate filters each look harmless
(the other one still carries the feature) and both are removed first, at a high cost. Molchanov et al. (ICLR
2017, https://arxiv.org/abs/1611.06440, §3.2 and §4) rank their criteria against the oracle and prune
*iteratively*: after each removal the remaining channels are judged again. The greedy oracle does exactly that
with the true calibration loss, within one group: with S_0 = ∅,

    c_k = argmin_{c ∉ S_{k−1}} L(S_{k−1} ∪ {c}),     S_k = S_{k−1} ∪ {c_k}.

It costs Σ_{k<K} (C − k) loss evaluations per group (about C²/2; ``greedy_evaluations``), each from the
group's layer on thanks to the session's activation cache.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from explorer.criteria._exceptions import ScoringCancelled
from explorer.criteria._registry import register_criterion
from explorer.criteria.base import ScoringRequest, explain_value
from explorer.criteria.group_scores import GroupScores
from explorer.graph import PruningGroup

#: The greedy order is computed up to this fraction of a group's channels (the explorer removes at most 90 %
#: of a group by default); the rest keep the order of their loss at the last greedy step.
MAX_GREEDY_RATIO = 0.9


def greedy_steps(num_channels: int, max_ratio: float = MAX_GREEDY_RATIO) -> int:
    """How many greedy removals are searched in a group of C channels: ``min(C − 1, ceil(max_ratio · C))``."""
    return max(0, min(int(num_channels) - 1, math.ceil(float(max_ratio) * int(num_channels))))


def _strictly_above(value: float, previous: float) -> float:
    """``value``, or the next float32 above ``previous`` if it is not larger (keeps the order strict)."""
    floor = torch.nextafter(torch.tensor(previous, dtype=torch.float32), torch.tensor(math.inf)).item()
    return max(float(value), floor) if math.isfinite(previous) else float(value)


def greedy_oracle_scores(
    loss_with_removed: Callable[[Sequence[int]], float],
    num_channels: int,
    base_loss: float,
    *,
    max_ratio: float = MAX_GREEDY_RATIO,
    should_stop: Callable[[], bool] | None = None,
    on_evaluation: Callable[[], None] | None = None,
) -> torch.Tensor:
    """Scores whose ascending order is the greedy oracle's removal order.

    Molchanov et al., "Pruning Convolutional Neural Networks for Resource Efficient Inference", ICLR 2017,
    https://arxiv.org/abs/1611.06440 (§3.2, the oracle, pruned iteratively). With S_0 = ∅ and for
    k = 1 … K, K = ``greedy_steps(C, max_ratio)``:

        c_k = argmin_{c ∉ S_{k−1}} L(S_{k−1} ∪ {c}) (ties: lowest index),   S_k = S_{k−1} ∪ {c_k},
        s_{c_k} = L(S_k) − L(base), raised to the next float32 above s_{c_{k−1}} where it is not larger.

    So s is the calibration loss increase at the moment the channel is removed, made strictly increasing
    along the removal order (the loss of a set can fall when a channel is added; the order is what counts).
    When K < C − 1, the C − K channels left after step K are ordered by L(S_K ∪ {c}) (one more round of
    evaluations) and scored the same way after s_{c_K}; when K = C − 1, the one channel left (never removed,
    at least one is kept) is scored just above s_{c_K}. Removing the n lowest scores removes S_n, n ≤ K.

    Args:
        loss_with_removed: a set of root channels ↦ the calibration loss with exactly those masked.
        num_channels: C.
        base_loss: the calibration loss with nothing masked.
        max_ratio: the greedy search stops after ``greedy_steps(C, max_ratio)`` removals.
        should_stop: polled before every loss evaluation; when it returns true, scoring stops.
        on_evaluation: called after every loss evaluation (for progress reports).

    Returns:
        ``[C]`` float32 scores; lower = removed earlier.

    Raises:
        ScoringCancelled: ``should_stop()`` returned true.
    """
    num_channels = int(num_channels)
    steps = greedy_steps(num_channels, max_ratio)
    removed: list[int] = []
    scores = torch.empty(num_channels, dtype=torch.float32)
    previous = -math.inf
    candidates: dict[int, float] = {}

    def measure(remaining: list[int]) -> dict[int, float]:
        losses = {}
        for c in remaining:
            if should_stop is not None and should_stop():
                raise ScoringCancelled(
                    f"greedy oracle cancelled after {len(removed)} of {steps} removals of {num_channels}"
                )
            losses[c] = float(loss_with_removed([*removed, c])) - float(base_loss)
            if on_evaluation is not None:
                on_evaluation()
        return losses

    for _ in range(steps):
        remaining = [c for c in range(num_channels) if c not in removed]
        candidates = measure(remaining)
        chosen = min(remaining, key=lambda c: (candidates[c], c))
        removed.append(chosen)
        previous = scores[chosen] = _strictly_above(candidates[chosen], previous)
    rest = [c for c in range(num_channels) if c not in removed]
    if len(rest) == 1:  # the full order: the channel left is never removed
        scores[rest[0]] = _strictly_above(previous, previous) if removed else 0.0
    elif rest:
        last = measure(rest)
        for c in sorted(rest, key=lambda c: (last[c], c)):
            previous = scores[c] = _strictly_above(last[c], previous)
    return scores


def greedy_evaluations(num_channels: int, max_ratio: float = MAX_GREEDY_RATIO) -> int:
    """The number of loss evaluations ``greedy_oracle_scores`` makes for C channels (for progress totals)."""
    c, k = int(num_channels), greedy_steps(num_channels, max_ratio)
    searched = sum(c - i for i in range(k))
    return searched + (c - k if c - k > 1 else 0)


def score_greedily(request: ScoringRequest) -> tuple[dict[str, GroupScores], dict[str, str]]:
    """``fn(loss_with_removed, num_channels, base_loss)`` per group, with the session's masked calibration
    loss (the same cached evaluator as ``oracle``); progress counts loss evaluations over all groups."""
    if not request.groups:
        return {}, {}
    masked_loss, base = request.masked_loss_and_base()
    total = sum(greedy_evaluations(g.num_channels) for g in request.groups)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        request.report(done, total)

    out: dict[str, GroupScores] = {}
    for group in request.groups:
        seen: dict[frozenset[int], float] = {}

        def loss(idxs: Sequence[int], name: str = group.name, seen: dict = seen) -> float:
            seen[frozenset(idxs)] = value = float(masked_loss(name, list(idxs)))
            return value

        stop = request.should_stop
        score = request.fn(loss, group.num_channels, base, should_stop=stop, on_evaluation=tick)
        details = _details(score, seen, base)
        out[group.name] = GroupScores(group.name, score, {group.name: score}, "none", details)
    return out, {}


def _details(score: torch.Tensor, seen: dict[frozenset[int], float], base: float) -> dict[str, torch.Tensor]:
    """Per channel: its loss increase alone (the single-channel oracle, the greedy search's first round), at
    its removal in the greedy order (NaN past the searched steps), and its step in that order (1 = first)."""
    num_channels = score.numel()
    nan = torch.full((num_channels,), math.nan, dtype=torch.float32)
    alone, at_removal, step = nan.clone(), nan.clone(), torch.zeros(num_channels, dtype=torch.float32)
    order = sorted(range(num_channels), key=lambda c: (float(score[c]), c))
    for k, c in enumerate(order):
        step[c] = k + 1
        alone[c] = seen.get(frozenset([c]), math.nan) - base
        at_removal[c] = seen.get(frozenset(order[: k + 1]), math.nan) - base
    return {"alone": alone, "at_removal": at_removal, "step": step}


def explain_greedy(
    model: nn.Module, group: PruningGroup, scores: GroupScores, channel: int
) -> dict[str, Any]:
    """``kind "greedy"``: terms [loss increase alone, loss increase at its removal, its step, the steps
    searched]; the gap between the first two is what the channels removed before it were carrying."""
    d = scores.details
    if not d:
        return explain_value(model, group, scores, channel)
    searched = float(greedy_steps(group.num_channels))
    terms = [float(d["alone"][channel]), float(d["at_removal"][channel]), float(d["step"][channel]), searched]
    return {"kind": "greedy", "terms": terms, "n_terms": len(terms), "layer_value": terms[1]}


register_criterion(
    "greedy_oracle",
    needs="loss_oracle",
    title="The greedy oracle: Molchanov et al., Pruning Convolutional Neural Networks for Resource Efficient "
    "Inference (ICLR 2017), §3.2",
    url="https://arxiv.org/abs/1611.06440",
    formula="c_k = argmin_c L(S_{k−1} ∪ {c}); s_{c_k} = L(S_k) − L(base), increasing along k",
    description="Removes the filter that hurts the loss least, then judges the rest again given that "
    "removal, and so on: it sees redundant pairs that the single-filter oracle misses.",
    score=score_greedily,
    explain=explain_greedy,
)(greedy_oracle_scores)
