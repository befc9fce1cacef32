"""Spearman ρ, pruned sets and overlaps, checked against hand-worked values (and scipy when present)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from explorer.criteria import (
    GroupScores,
    agreement_table,
    jaccard,
    overlap,
    prune_set,
    rank_average,
    spearman,
)
from explorer.errors import ExplorerError


def test_rank_average_shares_tied_ranks():
    # Sorted: 10 (rank 1), 20 20 (ranks 2, 3 → 2.5), 30 (4), 40 40 40 (5, 6, 7 → 6).
    assert rank_average([40, 20, 10, 40, 30, 20, 40]).tolist() == [6.0, 2.5, 1.0, 6.0, 4.0, 2.5, 6.0]


def test_spearman_without_ties_matches_the_textbook_formula():
    a = [3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0]
    b = [2.0, 7.0, 1.0, 8.0, 2.8, 1.8, 0.5]
    # ρ = 1 − 6 Σd² / (n(n² − 1)), valid when there are no ties.
    ra = [4, 1, 5, 2, 6, 7, 3]
    rb = [4, 6, 2, 7, 5, 3, 1]
    d2 = sum((x - y) ** 2 for x, y in zip(ra, rb, strict=True))
    assert spearman(a, b) == pytest.approx(1 - 6 * d2 / (7 * 48))


def test_spearman_with_ties_by_hand():
    # Ranks of b are [1, 2, 3.5, 5, 3.5]; centred: a → [−2, −1, 0, 1, 2], b → [−2, −1, 0.5, 2, 0.5].
    # Σ ab = 4 + 1 + 0 + 2 + 1 = 8, Σ a² = 10, Σ b² = 9.5, so ρ = 8 / √95.
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(8 / math.sqrt(95))


def test_spearman_extremes_and_constant_input():
    x = torch.tensor([0.3, -1.0, 2.0, 0.1])
    assert spearman(x, 2 * x + 1) == pytest.approx(1.0)
    assert spearman(x, -(x**3)) == pytest.approx(-1.0)
    assert math.isnan(spearman(x, torch.ones(4)))


def test_spearman_rejects_mismatched_input():
    with pytest.raises(ExplorerError, match="equal length"):
        spearman([1, 2, 3], [1, 2])
    with pytest.raises(ExplorerError, match="NaN"):
        spearman([1, float("nan")], [1, 2])


def test_spearman_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(0, 5, size=12).astype(float)  # many ties
        b = rng.normal(size=12)
        assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)


def test_prune_set_takes_the_floor_of_the_lowest():
    scores = [0.5, 0.1, 0.9, 0.3, 0.7]
    assert prune_set(scores, 0.0) == set()
    assert prune_set(scores, 0.2) == {1}
    assert prune_set(scores, 0.5) == {1, 3}  # ⌊2.5⌋ = 2
    assert prune_set(scores, 0.59) == {1, 3}
    assert prune_set(torch.arange(100.0), 0.29) == set(range(29))  # 0.29·100 is 28.999… in floating point


def test_prune_set_always_keeps_a_channel():
    assert prune_set([0.5, 0.1, 0.9], 1.0) == {0, 1}
    assert prune_set([4.0], 1.0) == set()


def test_prune_set_breaks_ties_by_index():
    assert prune_set([1.0, 0.0, 1.0, 1.0, 0.0, 1.0], 0.5) == {1, 4, 0}


def test_prune_set_rejects_bad_ratios():
    with pytest.raises(ExplorerError, match=r"\[0, 1\]"):
        prune_set([1.0, 2.0], 1.5)


def test_overlap_and_jaccard():
    a = [0.1, 0.2, 0.3, 0.9, 0.8, 0.7]  # ratio 0.5 prunes {0, 1, 2}
    b = [0.1, 0.9, 0.3, 0.2, 0.8, 0.7]  # prunes {0, 2, 3}
    assert overlap(a, b, 0.5) == pytest.approx(2 / 3)
    assert jaccard(a, b, 0.5) == pytest.approx(2 / 4)
    assert overlap(a, a, 0.5) == 1.0
    assert overlap(a, b, 0.0) == 1.0  # nothing pruned: nothing to disagree about


def _scores(group: str, values: list[float]) -> GroupScores:
    score = torch.tensor(values)
    return GroupScores(group, score, {group: score}, "mean")


def test_agreement_table_rows():
    table = agreement_table(
        {
            "l1": {"conv1": _scores("conv1", [1, 2, 3, 4]), "conv2": _scores("conv2", [1, 2])},
            "fpgm": {"conv1": _scores("conv1", [4, 3, 2, 1])},
            "random": {"conv1": _scores("conv1", [1, 2, 4, 3]), "conv2": _scores("conv2", [2, 1])},
        },
        ratio=0.5,
    )
    pairs = [(r["group"], r["criterion_a"], r["criterion_b"]) for r in table]
    assert pairs == [
        ("conv1", "l1", "fpgm"),
        ("conv1", "l1", "random"),
        ("conv1", "fpgm", "random"),
        ("conv2", "l1", "random"),
    ]
    first = table[0]
    assert first["rho"] == pytest.approx(-1.0)
    assert first["overlap"] == 0.0  # l1 prunes {0, 1}, fpgm {2, 3}
    assert table[1]["rho"] == pytest.approx(0.8)  # d = (0, 0, 1, 1): 1 − 6·2/60
    assert table[1]["overlap"] == 1.0
    assert table[3]["rho"] == pytest.approx(-1.0)
    assert table[3]["overlap"] == 0.0  # one of two channels pruned: l1 drops 0, random drops 1
