"""Reference plans for the map of plans: what simple recipes reach at each size, to judge a plan against.

Every point the user tries lands on a map of accuracy against MACs; these references are drawn with it:

* **uniform**: the same ratio r of every group, the channels with the lowest scores of the criterion;
* **global threshold**: one ratio r over every channel of the network, on scores ℓ2-normalised per group
  (Molchanov et al., ICLR 2017; ``explorer.plan.choose_global``, at most 90 % of a group);
* **random**: uniform ratios with random scores (``random`` criterion, seeded): any criterion must beat it;
* **Li et al.**: when a sensitivity scan exists, Li, Kadav, Durdanovic, Samet & Graf, "Pruning Filters for
  Efficient ConvNets" (ICLR 2017, https://arxiv.org/abs/1608.08710): per group, the largest scanned ratio
  whose accuracy drop alone is ≤ ε, for a few ε.

Plans are plain data (group → removed channels), evaluated one at a time on the session's live weights
without changing its plan, and without the activation cache (the live plan's activations stay in it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from explorer.plan import choose_global, count_to_prune, lowest

#: The ratios of the uniform, global and random references.
REFERENCE_RATIOS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
#: The accuracy drops allowed per group (fractions) of Li et al.'s references.
LI_EPSILONS = (0.005, 0.01, 0.02, 0.05)
#: The kinds of reference, in the order they are drawn.
REFERENCE_KINDS = ("uniform", "global", "random", "li")


def _uniform(session: Any, scores: Mapping[str, Any], ratios: Mapping[str, float]) -> dict[str, list[int]]:
    pruned = {}
    for g in session.groups:
        count = count_to_prune(g.num_channels, float(ratios.get(g.name, 0.0)), g.name)
        if count:
            pruned[g.name] = list(lowest(scores[g.name], count))
    return pruned


def li_ratios(scan: Mapping[str, Any], epsilon: float) -> dict[str, float]:
    """Li et al.'s ratios from a scan as plain data (``rows`` of ``{group, ratio, accuracy}`` and
    ``baseline_accuracy``, as ``explorer.ui.tables.sensitivity_dict`` gives it): per group, the largest
    scanned ratio whose accuracy drop is ≤ ``epsilon`` (``explorer.sensitivity.suggest_li`` on the table)."""
    base, ratios = float(scan["baseline_accuracy"]), {}
    for row in scan["rows"]:
        best = ratios.setdefault(row["group"], 0.0)
        if base - float(row["accuracy"]) <= epsilon:
            ratios[row["group"]] = max(best, float(row["ratio"]))
    return ratios


def reference_plans(
    session: Any,
    criterion: str,
    scan: Mapping[str, Any] | None = None,
    ratios: Sequence[float] = REFERENCE_RATIOS,
    epsilons: Sequence[float] = LI_EPSILONS,
) -> list[dict[str, Any]]:
    """The reference plans, not evaluated: ``[{kind, criterion, setting, pruned}]``.

    Args:
        session: a ``PruningSession`` (its scores of the live weights).
        criterion: ranks the channels of the uniform and global references.
        scan: a sensitivity scan as plain data (``rows``, ``baseline_accuracy``, ``criterion``; see
            :func:`li_ratios`); Li et al.'s references rank with its criterion.
        ratios: the uniform, global and random ratios.
        epsilons: Li et al.'s allowed drops.

    Returns:
        One dict per plan; ``setting`` is the ratio (or ε for ``li``); ``pruned`` maps group → removed
        channels (plain lists).
    """
    scores = session.scores(criterion)
    noise = session.scores("random")
    plans = []
    for r in ratios:
        every = {g.name: r for g in session.groups}
        chosen = choose_global({g.name: scores[g.name] for g in session.groups}, r, 0.9)
        plans += [
            {
                "kind": "uniform",
                "criterion": criterion,
                "setting": r,
                "pruned": _uniform(session, scores, every),
            },
            {
                "kind": "global",
                "criterion": criterion,
                "setting": r,
                "pruned": {g: list(i) for g, i in chosen.items() if i},
            },
            {
                "kind": "random",
                "criterion": "random",
                "setting": r,
                "pruned": _uniform(session, noise, every),
            },
        ]
    if scan:
        ranked = session.scores(scan["criterion"])
        for eps in epsilons:
            pruned = _uniform(session, ranked, li_ratios(scan, eps))
            plans.append({"kind": "li", "criterion": scan["criterion"], "setting": eps, "pruned": pruned})
    return plans


def evaluate_reference(session: Any, pruned: Mapping[str, Sequence[int]]) -> dict[str, Any]:
    """``{accuracy, macs, params}`` of ``pruned`` on the live weights (exact; the session's plan is kept)."""
    plan = {g: tuple(int(i) for i in idxs) for g, idxs in pruned.items()}
    cuts = session.layer_cuts(plan)
    estimate = session.evaluator.evaluate(cuts, use_cache=False)
    cost = session.cost(plan)
    return {"accuracy": float(estimate.accuracy), "macs": int(cost.macs), "params": int(cost.params)}


__all__ = [
    "LI_EPSILONS",
    "REFERENCE_KINDS",
    "REFERENCE_RATIOS",
    "evaluate_reference",
    "li_ratios",
    "reference_plans",
]
