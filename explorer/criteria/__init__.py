"""Filter-importance criteria: one module per criterion, registered by name behind one contract.

Higher score = more important; pruning removes the lowest. Each criterion's module holds its pure formula
(whose docstring gives its paper, URL and formula), the strategy that gathers its statistics and scores
groups with it, and the explanation of one channel's score; ``get_criterion(name)`` carries the same for the
UI. ``compute_group_scores`` scores the groups of a ``GroupGraph``, ``explain`` takes one channel's score
apart, and ``agreement`` compares criteria. Register a criterion of your own with ``register_criterion``:
``explorer.criteria.generic`` documents the formula signature for each value of ``needs``.
"""

from __future__ import annotations

from explorer.criteria import statistics
from explorer.criteria._exceptions import CriterionNotApplicable, ScoringCancelled
from explorer.criteria._registry import (
    NEEDS,
    CriterionInfo,
    get_criterion,
    list_criteria,
    register_criterion,
    unregister_criterion,
)
from explorer.criteria.activation_based import apoz_scores, mean_activation_scores
from explorer.criteria.agreement import agreement_table, jaccard, overlap, prune_set, rank_average, spearman
from explorer.criteria.base import ScoringRequest
from explorer.criteria.bn_scale import bn_scale_scores
from explorer.criteria.explanation import explain
from explorer.criteria.fpgm import fpgm_scores, geometric_median, geometric_median_distance
from explorer.criteria.greedy_oracle import greedy_oracle_scores
from explorer.criteria.group_scores import GroupScores
from explorer.criteria.hessian import hessian_scores
from explorer.criteria.norms import l1_scores, l2_scores
from explorer.criteria.oracle import oracle_scores
from explorer.criteria.random_scores import random_scores
from explorer.criteria.scoring import compute_group_scores
from explorer.criteria.taylor import taylor_scores, taylor_weight_scores

__all__ = [
    "NEEDS",
    "CriterionInfo",
    "CriterionNotApplicable",
    "GroupScores",
    "ScoringCancelled",
    "ScoringRequest",
    "agreement_table",
    "apoz_scores",
    "bn_scale_scores",
    "compute_group_scores",
    "explain",
    "fpgm_scores",
    "geometric_median",
    "geometric_median_distance",
    "get_criterion",
    "greedy_oracle_scores",
    "hessian_scores",
    "jaccard",
    "l1_scores",
    "l2_scores",
    "list_criteria",
    "mean_activation_scores",
    "oracle_scores",
    "overlap",
    "prune_set",
    "random_scores",
    "rank_average",
    "register_criterion",
    "spearman",
    "statistics",
    "taylor_scores",
    "taylor_weight_scores",
    "unregister_criterion",
]
