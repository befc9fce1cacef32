"""Filter-importance criteria: one pure function per criterion, registered by name.

Higher score = more important; pruning removes the lowest. Every function's docstring gives its paper, URL
and formula, and ``get_criterion(name)`` carries the same for the UI. Gathering statistics
(``statistics``) is kept apart from scoring (the pure functions); ``compute_group_scores`` ties the two
together for the groups of a ``GroupGraph``, and ``agreement`` compares criteria.
"""

from __future__ import annotations

from explorer.criteria._exceptions import CriterionNotApplicable, ScoringCancelled
from explorer.criteria._registry import CriterionInfo, get_criterion, list_criteria, register_criterion
from explorer.criteria.agreement import agreement_table, jaccard, overlap, prune_set, rank_average, spearman
from explorer.criteria.bn_scale import bn_scale_scores
from explorer.criteria.fpgm import fpgm_scores, geometric_median, geometric_median_distance
from explorer.criteria.hessian import hessian_scores
from explorer.criteria.norms import l1_scores, l2_scores
from explorer.criteria.oracle import oracle_scores
from explorer.criteria.random_scores import random_scores
from explorer.criteria.scoring import GroupScores, compute_group_scores
from explorer.criteria.taylor import taylor_scores, taylor_weight_scores

__all__ = [
    "CriterionInfo",
    "CriterionNotApplicable",
    "GroupScores",
    "ScoringCancelled",
    "agreement_table",
    "bn_scale_scores",
    "compute_group_scores",
    "fpgm_scores",
    "geometric_median",
    "geometric_median_distance",
    "get_criterion",
    "hessian_scores",
    "jaccard",
    "l1_scores",
    "l2_scores",
    "list_criteria",
    "oracle_scores",
    "overlap",
    "prune_set",
    "random_scores",
    "rank_average",
    "register_criterion",
    "spearman",
    "taylor_scores",
    "taylor_weight_scores",
]
