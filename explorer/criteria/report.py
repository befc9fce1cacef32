"""How well each criterion predicts the oracle: the ``pruning-explorer criteria`` command's table.

The oracle (the true loss increase when one channel alone is masked) is the ground truth that Molchanov et
al. (ICLR 2017, https://arxiv.org/abs/1611.06440, Table 1) rank criteria against; this module does the same
for a session's model, per group.
"""

from __future__ import annotations

import math
from typing import Any

from explorer.criteria._exceptions import CriterionNotApplicable
from explorer.criteria._registry import list_criteria
from explorer.criteria.agreement import overlap, spearman


def oracle_correlations(session: Any, ratio: float = 0.5) -> list[dict[str, Any]]:
    """Spearman ρ and pruned-set overlap of every criterion against the oracle, per offered group.

    Args:
        session: a ``PruningSession`` (anything with ``.groups`` and ``.group_scores(criterion)``).
        ratio: the pruning ratio at which the pruned sets are compared.

    Returns:
        One row per (group, criterion): ``{"group", "criterion", "rho", "overlap", "note"}``; ``rho`` and
        ``overlap`` are NaN, with a ``note``, where the criterion does not apply to the group.
    """
    oracle = session.group_scores("oracle")
    rows = []
    for name in list_criteria():
        if name == "oracle":
            continue
        try:
            scores, reasons = session.group_scores(name), {}
        except CriterionNotApplicable as error:
            scores, reasons = error.partial, error.reasons
        for group in (g.name for g in session.groups):
            if group not in scores:
                rows.append(
                    {
                        "group": group,
                        "criterion": name,
                        "rho": math.nan,
                        "overlap": math.nan,
                        "note": reasons.get(group, "not scored"),
                    }
                )
                continue
            truth, score = oracle[group].score, scores[group].score
            rows.append(
                {
                    "group": group,
                    "criterion": name,
                    "rho": spearman(score, truth),
                    "overlap": overlap(score, truth, ratio),
                    "note": "",
                }
            )
    return rows


def format_oracle_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table: one line per group, one column of ρ per criterion, and the mean ρ last."""
    criteria = list(dict.fromkeys(r["criterion"] for r in rows))
    groups = list(dict.fromkeys(r["group"] for r in rows))
    rho = {(r["group"], r["criterion"]): r["rho"] for r in rows}
    width = max([len("mean ρ"), *(len(g) for g in groups)])
    columns = [max(len(c), 6) for c in criteria]
    lines = ["Spearman ρ against the oracle (1 = ranks channels exactly as their true loss increase)"]
    lines.append("  ".join([" " * width, *(c.rjust(w) for c, w in zip(criteria, columns, strict=True))]))

    def line(label: str, values: list[float]) -> str:
        pairs = zip(values, columns, strict=True)
        cells = [("—" if math.isnan(v) else f"{v:+.2f}").rjust(w) for v, w in pairs]
        return "  ".join([label.ljust(width), *cells])

    for group in groups:
        lines.append(line(group, [rho.get((group, c), math.nan) for c in criteria]))
    means = []
    for c in criteria:
        finite = [rho[(g, c)] for g in groups if (g, c) in rho and not math.isnan(rho[(g, c)])]
        means.append(sum(finite) / len(finite) if finite else math.nan)
    lines.append(line("mean ρ", means))
    return "\n".join(lines)
