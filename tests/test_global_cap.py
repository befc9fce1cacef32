"""The global slider's per-layer cap (``max_pruning_ratio``): checked against an independent argsort, in the
session, and through the page's control."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from explorer.plan import PlanError, choose_global, count_to_prune
from explorer.session import PruningSession


def _independent_choice(scores: dict[str, np.ndarray], ratio: float, cap: float) -> dict[str, set[int]]:
    """Normalise each layer by its ℓ2 norm, one stable argsort over every channel (ties: layer name, then
    index), take from the bottom, skipping layers that reached min(floor(cap·C), C − 1)."""
    names = sorted(scores)
    values = np.concatenate([scores[n] / np.linalg.norm(scores[n]) for n in names])
    owner = np.concatenate([[k] * len(scores[n]) for k, n in enumerate(names)])
    index = np.concatenate([np.arange(len(scores[n])) for n in names])
    order = np.lexsort((index, owner, values))  # last key first: value, then layer, then index
    total = sum(len(s) for s in scores.values())
    target = min(round(ratio * total), total - 1)
    limit = {n: min(math.floor(cap * len(scores[n])), len(scores[n]) - 1) for n in names}
    chosen: dict[str, set[int]] = {n: set() for n in names}
    for position in order:
        if sum(len(c) for c in chosen.values()) >= target:
            break
        name = names[owner[position]]
        if len(chosen[name]) < limit[name]:
            chosen[name].add(int(index[position]))
    return chosen


@pytest.mark.parametrize(("ratio", "cap"), [(0.3, 0.5), (0.3, 0.25), (0.5, 0.6), (0.2, 1.0)])
def test_the_cap_is_respected_and_the_choice_is_exactly_the_capped_argsort(ratio, cap):
    rng = np.random.default_rng(0)
    # One layer with a few strong filters and many weak ones: uncapped, it would lose most of its filters.
    scores = {
        "a_spiky": np.concatenate([rng.uniform(5, 6, 4), rng.uniform(0.0, 0.05, 28)]),
        "b_even": rng.uniform(0.9, 1.1, 16),
        "c_wide": rng.uniform(0.1, 3.0, 24),
        "d_tiny": rng.uniform(0.5, 1.0, 3),
    }
    got = choose_global({n: torch.tensor(s, dtype=torch.float32) for n, s in scores.items()}, ratio, cap)
    as_float32 = {n: s.astype(np.float32).astype(np.float64) for n, s in scores.items()}
    expected = _independent_choice(as_float32, ratio, cap)
    assert {n: set(v) for n, v in got.items()} == expected
    for name, idxs in got.items():
        assert len(idxs) <= cap * len(scores[name])
        assert len(idxs) < len(scores[name])
    uncapped = choose_global({n: torch.tensor(s) for n, s in scores.items()}, ratio, 1.0)
    if cap < 0.8:  # the cap really changed the choice (the test could fail)
        assert len(uncapped["a_spiky"]) / 32 > cap
        assert len(got["a_spiky"]) == math.floor(cap * 32)


def test_a_cap_outside_zero_one_is_refused():
    with pytest.raises(PlanError, match="max_pruning_ratio"):
        choose_global({"a": torch.ones(4)}, 0.5, 0.0)


@pytest.fixture(scope="module")
def digits() -> PruningSession:
    return PruningSession("digits_cnn")


def test_session_global_ratio_takes_the_cap(digits):
    s = digits
    s.set_global_ratio(0.5, criterion="l1", max_pruning_ratio=0.55)
    for group in s.groups:
        assert len(s.pruned.get(group.name, ())) <= math.floor(0.55 * group.num_channels)
    removed = sum(len(v) for v in s.pruned.values())
    assert removed <= count_to_prune(sum(g.num_channels for g in s.groups), 0.5)
    s.reset()


def test_the_page_control_chooses_the_global_plan_again_under_the_cap(digits):
    from explorer.ui.state import ExplorerState
    from explorer.ui.views.controls import ControlsView

    digits.reset()
    state = ExplorerState(digits, debounce=0.05)
    try:
        assert state.wait_idle(30)
        view = ControlsView(state)
        state.apply_global(0.6)
        assert state.wait_idle(30)
        assert any(len(v) / digits.group(g).num_channels > 0.65 for g, v in digits.pruned.items())
        view._cap.value = 0.65
        assert state.wait_idle(30)
        assert state.inputs.max_pruning_ratio == pytest.approx(0.65)
        for group in digits.groups:
            assert len(digits.pruned.get(group.name, ())) <= math.floor(0.65 * group.num_channels)
        assert digits.pruned  # still a global plan
    finally:
        state.close()
        digits.reset()
