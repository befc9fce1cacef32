"""Which channels go, checked against independent computations (explicit argsorts, hand-computed intervals),
and that a plan change (undo and reset included) stops the evaluation of the plan it replaced."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from explorer.plan import choose_global, lowest
from explorer.session import PruningSession


@pytest.fixture(scope="module")
def session():
    return PruningSession("digits_cnn", verify=False)


@pytest.mark.parametrize("seed", range(5))
def test_lowest_is_a_stable_argsort(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, size=40).astype(float)  # many ties: ties go to the lower index
    for count in (0, 1, 7, 39):
        want = tuple(sorted(np.argsort(scores, kind="stable")[:count].tolist()))
        assert lowest(torch.tensor(scores), count) == want


@pytest.mark.parametrize("seed", range(5))
def test_global_choice_removes_the_lowest_normalised_scores(seed):
    rng = np.random.default_rng(seed)
    scores = {f"g{i}": torch.tensor(rng.gamma(2.0, 10.0**i, size=8 + 4 * i)) for i in range(4)}
    ratio, cap = 0.4, 0.9
    chosen = choose_global(scores, ratio, cap)
    total = sum(s.numel() for s in scores.values())
    assert sum(map(len, chosen.values())) == round(ratio * total)
    normalised = {g: (s / np.linalg.norm(s.numpy())).numpy() for g, s in scores.items()}
    for g, s in scores.items():
        assert len(chosen[g]) <= min(math.floor(cap * s.numel()), s.numel() - 1)
    # every removed channel scores no higher than every kept channel of a group that was free to lose more
    removed = [normalised[g][i] for g, idxs in chosen.items() for i in idxs]
    kept = [
        normalised[g][i]
        for g, s in scores.items()
        if len(chosen[g]) < min(math.floor(cap * s.numel()), s.numel() - 1)
        for i in range(s.numel())
        if i not in chosen[g]
    ]
    assert max(removed) <= min(kept)


def test_the_global_slider_removes_the_least_important_filters(session):
    session.reset()
    session.set_global_ratio(0.3, criterion="l1")
    for group in session.groups:
        weight = session.model.get_submodule(group.name).weight.detach()
        l1 = weight.abs().sum(dim=tuple(range(1, weight.dim()))).double().numpy()
        removed = set(session.pruned.get(group.name, ()))
        if removed and len(removed) < group.num_channels - 1:
            kept = [l1[i] for i in range(group.num_channels) if i not in removed]
            assert max(l1[i] for i in removed) <= min(kept), group.name
    session.reset()


def test_the_running_interval_uses_the_finite_population_correction(session):
    session.reset()
    estimates = list(session.evaluator.iter_estimates(session.layer_cuts()))
    middle = estimates[len(estimates) // 2]
    n, total, p = middle.seen, middle.total, middle.accuracy
    assert 0 < n < total
    want = 1.96 * math.sqrt(p * (1 - p) / n * (total - n) / (total - 1))
    assert middle.accuracy_ci == pytest.approx(want, rel=1e-12)
    assert estimates[-1].accuracy_ci == 0.0


@pytest.mark.parametrize("change", ["set_ratio", "undo", "reset"])
def test_a_plan_change_stops_the_evaluation_of_the_old_plan(session, change):
    session.reset()
    session.set_ratio(session.groups[0].name, 0.5, criterion="l1")
    running = session.iter_evaluate()
    first = next(running)
    assert not first.final
    if change == "set_ratio":
        session.set_ratio(session.groups[1].name, 0.5, criterion="l1")
    else:
        getattr(session, change)()
    assert list(running) == []  # the old plan's evaluation stopped at the next batch
    session.reset()
