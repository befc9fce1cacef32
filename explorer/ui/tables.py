"""Table builders: the session's results, read once, turned into the plain dicts the state publishes.

No computation happens here beyond picking and arranging numbers: the costs come from the plan's snapshot
(``session.views.snapshot()``), the channel order from ``session.views.rank`` and the scores from
``session.scores``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from explorer import criteria as _criteria
from explorer.errors import ExplorerError
from explorer.inspection import PlanSnapshot
from explorer.ui.scoring import is_cheap


def metrics_dict(metrics: Any, baseline: Mapping[str, Any] | None, generation: int) -> dict[str, Any]:
    """A session ``Metrics`` as the views show it, with the change from ``baseline`` when given."""
    out = {
        "accuracy": float(metrics.accuracy),
        "accuracy_ci": float(metrics.accuracy_ci),
        "top5": None if metrics.top5 is None else float(metrics.top5),
        "loss": float(metrics.loss),
        "macs": int(metrics.macs),
        "params": int(metrics.params),
        "seen": int(metrics.seen),
        "total": int(metrics.total),
        "final": bool(metrics.seen == metrics.total),
        "generation": int(generation),
    }
    if baseline:
        out["delta"] = out["accuracy"] - baseline["accuracy"]
        out["macs_fraction"] = out["macs"] / baseline["macs"] if baseline["macs"] else 1.0
        out["params_fraction"] = out["params"] / baseline["params"] if baseline["params"] else 1.0
    return out


def criterion_rows(names: Iterable[str]) -> list[dict[str, Any]]:
    """``[{name, title, url, formula, description, needs_data}]`` of the criteria ``names``."""
    rows = []
    for name in names:
        info = _criteria.get_criterion(name)
        rows.append(
            {
                "name": info.name,
                "title": info.title,
                "url": info.url,
                "formula": info.formula,
                "description": info.description,
                "needs_data": info.needs_data,
            }
        )
    return rows


def choose_criteria(names: Sequence[str], preferred: Sequence[str]) -> tuple[str, str]:
    """The active criterion, the first of ``preferred`` that exists (else the first of ``names``), and the
    one compared with it at first: the first other criterion that needs no data."""
    criterion = next((n for n in preferred if n in names), names[0])
    return criterion, next((n for n in names if n != criterion and is_cheap(n)), criterion)


def group_rows(groups: Iterable[Any]) -> list[dict[str, Any]]:
    """``[{name, num_channels, layers, coupled}]`` of the session's prunable groups."""
    return [
        {
            "name": g.name,
            "num_channels": g.num_channels,
            "layers": list(g.layers),
            "coupled": g.coupled_layers,
        }
        for g in groups
    ]


def cost_dict(snapshot: PlanSnapshot) -> dict[str, Any]:
    """MACs and params of the plan and of the original network."""
    return {
        "macs": snapshot.macs,
        "params": snapshot.params,
        "base_macs": snapshot.base_macs,
        "base_params": snapshot.base_params,
        "macs_fraction": snapshot.macs_fraction,
        "params_fraction": snapshot.params_fraction,
    }


def layers_table(snapshot: PlanSnapshot, groups: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Plot (c): channels kept per group and each root layer's share of the current MACs.

    Args:
        snapshot: the plan's snapshot.
        groups: the state's ``groups`` rows (name and number of channels).
    """
    names = [g["name"] for g in groups]
    total = [g["num_channels"] for g in groups]
    kept = [g["num_channels"] - len(snapshot.pruned.get(g["name"], ())) for g in groups]
    macs = [int(snapshot.layer_macs.get(n, 0)) for n in names]
    base_macs = [int(snapshot.base_layer_macs.get(n, 0)) for n in names]
    all_macs, all_base = snapshot.macs or 1, snapshot.base_macs or 1
    return {
        "group": names,
        "kept": kept,
        "total": total,
        "kept_fraction": [k / t for k, t in zip(kept, total, strict=True)],
        "macs": macs,
        "macs_share": [m / all_macs for m in macs],
        "base_macs_share": [m / all_base for m in base_macs],
    }


def scores_table(
    session: Any,
    snapshot: PlanSnapshot,
    group: str,
    criterion: str,
    compare: tuple[str, str],
    known: Callable[[str], bool],
) -> dict[str, Any]:
    """Plots (a) and (b): every criterion's score of each channel of ``group``, and their order.

    Args:
        session: the session (its scores and ranking are read, never computed here).
        snapshot: the plan's snapshot (which channels are pruned, the group's ratio).
        group: the selected group.
        criterion: the active criterion: it orders the channels.
        compare: the two criteria of the scatter plot (their scores are read in any case).
        known: whether a criterion's scores may be read now (cheap, or already computed); the others show
            NaN with a note, rather than starting a slow computation.
    """
    size = session.group(group).num_channels
    values, notes = {}, {}
    for name in _criteria.list_criteria():
        values[name], notes[name] = [math.nan] * size, "not-computed"  # a slow criterion nobody chose yet
        if known(name) or name in compare:
            try:
                values[name], notes[name] = session.views.rank(name, group)["scores"], ""
            except _criteria.CriterionNotApplicable as error:
                notes[name] = error.reasons.get(group, str(error))
    try:
        ranking = session.views.rank(criterion, group)
        order, rank = ranking["order"], ranking["rank"]
    except _criteria.CriterionNotApplicable:  # no score to order by: the channels in their own order
        order, rank = list(range(size)), list(range(1, size + 1))
    pruned = set(snapshot.pruned.get(group, ()))
    x, y = compare
    try:
        rho = _criteria.spearman(values[x], values[y])
    except ExplorerError:
        rho = math.nan
    return {
        "group": group,
        "criterion": criterion,
        "channel": list(range(size)),
        "order": order,
        "rank": rank,
        "values": values,
        "notes": notes,
        "pruned": [i in pruned for i in range(size)],
        "compare": [x, y],
        "rho": rho,
        "ratio": snapshot.ratios.get(group, 0.0),
    }


def sensitivity_dict(table: Any, seconds: float) -> dict[str, Any]:
    """A ``SensitivityTable`` as the views draw it: its rows, and one curve per group starting at 0 %."""
    baseline = (table.baseline_accuracy, table.baseline_loss, table.baseline_macs)
    return partial_sensitivity_dict(table.criterion, table.rows, baseline, table.groups, seconds)


def partial_sensitivity_dict(
    criterion: str,
    rows: Sequence[Mapping[str, Any]],
    baseline: tuple[float, float, int],
    groups: Sequence[str],
    seconds: float,
    *,
    running: bool = False,
) -> dict[str, Any]:
    """The rows measured so far as the views draw them (a scan that is running, or was cancelled, has
    curves for the groups reached only, the last one short).

    Args:
        criterion: the scan's criterion.
        rows: ``{group, ratio, accuracy, loss, macs, params}`` rows, in any order.
        baseline: the unpruned network's accuracy, loss and MACs.
        groups: every group of the scan, in order (the colours stay put as curves arrive).
        seconds: time since the scan started.
        running: the scan goes on (``layer`` of ``layers`` tells how far it is).
    """
    accuracy, loss, macs = baseline
    seen = {r["group"] for r in rows}
    reached = [g for g in groups if g in seen]
    curves = {}
    for name in reached:
        mine = sorted((r for r in rows if r["group"] == name), key=lambda r: r["ratio"])
        curves[name] = {
            "ratio": [0.0] + [float(r["ratio"]) for r in mine],
            "accuracy": [float(accuracy)] + [float(r["accuracy"]) for r in mine],
            "loss": [float(loss)] + [float(r["loss"]) for r in mine],
        }
    order = {g: i for i, g in enumerate(groups)}
    return {
        "criterion": criterion,
        "baseline_accuracy": float(accuracy),
        "baseline_loss": float(loss),
        "baseline_macs": int(macs),
        "groups": reached,
        "all_groups": list(groups),
        "rows": sorted((dict(r) for r in rows), key=lambda r: (order.get(r["group"], 0), r["ratio"])),
        "curves": curves,
        "seconds": seconds,
        "stale": False,
        "running": running,
        "layer": max((order[g] + 1 for g in reached), default=0),
        "layers": len(groups),
    }


__all__ = [
    "choose_criteria",
    "cost_dict",
    "criterion_rows",
    "group_rows",
    "layers_table",
    "metrics_dict",
    "partial_sensitivity_dict",
    "scores_table",
    "sensitivity_dict",
]
