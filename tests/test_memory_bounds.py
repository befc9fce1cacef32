"""What a long session keeps stays bounded: the caches hold their budgets, and every list that grows with the
session's history (undo steps, trajectory points, sensitivity tables per weights) has a cap.

The caps asserted here: ``PlanHistory(max_steps=200)`` undo steps (each may hold a fine-tuned weights copy),
``ScanCache(keep=8)`` sensitivity tables (one per weights, criterion and ratios), ``trajectory.MAX_POINTS``
plotted plans, and the calibration evaluator's cache within a quarter of the session's cache budget. The
old session after a model switch or an upload is checked in ``test_ui_jobs.py`` (garbage-collected).
"""

from __future__ import annotations

import threading

import pytest
import torch
from torch.utils.data import TensorDataset
from toy_models import PlainNet, seeded

from explorer.history import PlanHistory
from explorer.plan import GroupChoice, Plan
from explorer.score_book import ScoreBook
from explorer.sensitivity import ScanCache
from explorer.session import PruningSession
from explorer.ui.trajectory import MAX_POINTS, Trajectory


def _toy_session(**kwargs) -> PruningSession:
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(60, 1, 8, 8, generator=generator), torch.arange(60) % 5)
    return PruningSession(seeded(PlainNet()), data=data, verify=False, **kwargs)


@pytest.mark.parametrize("budget", [3_000, 40_000])
def test_the_calibration_evaluator_cache_stays_within_its_budget(budget):
    """The oracle criterion evaluates one masked plan per channel on the calibration subset, through the
    score book's own evaluator: its cache holds the budget it was given; the scores do not depend on it."""
    s = _toy_session()
    groups = [g.name for g in s.groups]

    def book(cache_budget: int) -> ScoreBook:
        return ScoreBook(
            s.model, s.graph, s.data.calib, seed=0, cache_budget=cache_budget, lock=threading.RLock()
        )

    small, large = book(budget), book(1 << 30)
    got = small.get("oracle", groups)
    cache = small.calibration_evaluator().cache
    assert cache.budget == budget
    assert 0 < cache.used <= budget
    assert cache.misses > 0
    want = large.get("oracle", groups)
    for g in groups:
        assert torch.allclose(got[g].score, want[g].score, atol=1e-6)
    # the session gives its score book a quarter of its own budget
    session = _toy_session(cache_budget=4 * budget)
    session.scores("oracle")
    calib = session._score_book.calibration_evaluator().cache
    assert calib.budget == budget
    assert 0 < calib.used <= budget


def test_undo_history_keeps_the_newest_200_steps():
    history = PlanHistory("m")
    for n in range(250):
        history.commit(Plan({"g": GroupChoice((n % 7,), 0.1, "l1")}, model="m"))
    assert len(history) == 200
    assert history.number == 250
    while history.undo():
        pass
    assert history.number == 50  # steps 0-49 were dropped, oldest first
    for _ in range(10):  # a new step after undoing drops the redo stack
        history.redo()
    history.commit(Plan(model="m"))
    assert not history.redo()
    assert len(history) == 11  # the ten redone steps and the one before the new step


def test_a_long_session_keeps_at_most_200_undo_steps():
    s = PruningSession("digits_cnn", verify=False)
    group = s.groups[0].name
    for n in range(230):
        s.set_ratio(group, (n % 9) / 10)
    undone = 0
    while s.undo():
        undone += 1
    assert undone == 200


def test_sensitivity_tables_are_kept_for_the_last_8_weights_at_most():
    """One scan per fine-tuned weights: the ninth evicts the oldest, and a kept one is not recomputed."""
    s = PruningSession("digits_cnn", verify=False)
    group = s.groups[0].name
    tables = []
    for n in range(10):
        model = s.model_copy()
        with torch.no_grad():
            model.get_submodule(group).weight.mul_(1 + n / 100)
        s.adopt_weights(model, steps=n)
        tables.append(s.sensitivity(criterion="l1", ratios=[0.5], groups=[group]))
        assert len(s._scans) == min(n + 1, 8)
    assert s.sensitivity(criterion="l1", ratios=[0.5], groups=[group]) is tables[-1]
    cache = ScanCache(keep=8)
    for key in range(12):
        cache.get(key, lambda key=key: key)
    assert len(cache) == 8
    assert cache.get(11, lambda: "recomputed") == 11
    assert cache.get(0, lambda: "recomputed") == "recomputed"  # evicted


def test_scores_are_kept_for_the_live_weights_only():
    s = PruningSession("digits_cnn", verify=False)
    s.scores("l1")
    s.scores("fpgm")
    assert set(s._score_book.known("l1")) == {g.name for g in s.groups}
    s.adopt_weights(s.model_copy(), steps=1)
    assert s._score_book.known("l1") == {}
    assert s._score_book.known("fpgm") == {}


def test_the_trajectory_keeps_the_newest_points():
    published = []
    trajectory = Trajectory(published.append)
    for n in range(MAX_POINTS + 150):
        trajectory.add({"macs": 1000 - n, "params": 10, "accuracy": 0.5}, {"g": (n,)})
    points = published[-1]
    assert len(points) == MAX_POINTS
    assert points[-1]["current"]
    assert points[-1]["macs"] == 1000 - (MAX_POINTS + 149)
    assert points[0]["macs"] == 1000 - 150  # the oldest 150 went
    assert sum(p["current"] for p in points) == 1
    # revisiting a kept plan moves it to the end, it is not added twice
    trajectory.add({"macs": 1000 - 200, "params": 10, "accuracy": 0.5}, {"g": (200,)})
    assert len(published[-1]) == MAX_POINTS
    assert [p["macs"] for p in published[-1]].count(800) == 1


def test_training_starts_with_the_activation_cache_emptied(monkeypatch):
    """Training's working set and the cache share one memory limit: a fine-tune after a scan (cache full)
    peaked at 1.47 GB on ResNet-20 under 2 GB in the browser, 26 MB under the kernel's bound."""
    import explorer.experiments

    s = PruningSession("digits_cnn", verify=False)
    s.set_global_ratio(0.3)
    s.evaluate()
    assert s.evaluator.cache.used > 0
    seen = []
    real = explorer.experiments.finetune_masked
    monkeypatch.setattr(
        explorer.experiments,
        "finetune_masked",
        lambda *a, **k: seen.append(s.evaluator.cache.used) or real(*a, **k),
    )
    s.finetune(steps=2, eval_every=0, adopt=False)
    assert seen == [0]
