"""Budgets: a runaway step is stopped with a message (time, resident memory, or one huge allocation), the
grouping falls back to torch.fx when torch-pruning runs away, and the session says so."""

from __future__ import annotations

import sys
import time

import pytest
import torch
from torch.utils.data import TensorDataset
from toy_models import ResidualNet, seeded

import explorer.graph.discovery
from explorer import PruningSession
from explorer.errors import ModelError
from explorer.graph import build_groups
from explorer.guard import BudgetExceeded, WorkBudget, guarded
from explorer.memory import current_rss, physical_memory

MB = 1 << 20


def _tick() -> int:
    return 1


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        _tick()


def _grow(chunks: list, total: int) -> None:
    """Allocate ``total`` bytes in 1 MB pieces, one Python call per piece (as torch-pruning's lists grow)."""

    def one() -> None:
        chunks.append(bytearray(MB))

    for _ in range(total // MB):
        for _ in range(50):
            _tick()
        one()


def test_a_step_over_its_time_budget_is_stopped_and_tracing_is_restored():
    before = sys.gettrace()
    start = time.monotonic()
    with (
        pytest.raises(BudgetExceeded, match=r"spinning took longer than its 0 s budget"),
        guarded("spinning", WorkBudget(None, 0.2)),
    ):
        _spin(10)
    assert time.monotonic() - start < 5
    assert sys.gettrace() is before


def test_a_step_over_its_memory_budget_is_stopped_before_it_grows_much_further():
    chunks: list = []
    ceiling = current_rss() + 150 * MB
    with pytest.raises(BudgetExceeded, match="memory budget"), guarded("growing", WorkBudget(ceiling, None)):
        _grow(chunks, 2000 * MB)
    assert len(chunks) * MB < 400 * MB  # stopped near the ceiling, not after the 2 GB it asked for
    chunks.clear()


def test_one_allocation_beyond_the_memory_limit_fails_with_a_message_instead_of_a_kill():
    limit = current_rss() + 300 * MB
    with (
        pytest.raises(BudgetExceeded, match="ran out of memory"),
        guarded("allocating", WorkBudget(None, None, limit)),
    ):
        torch.empty(1 << 30, dtype=torch.uint8).fill_(1)  # 1 GiB in one C call
    torch.empty(1 << 30, dtype=torch.uint8)  # the backstop is lifted afterwards


def test_runaway_grouping_falls_back_to_torch_fx_with_the_reason(monkeypatch):
    def runaway(*_args, **_kwargs):
        _spin(60)

    monkeypatch.setattr(explorer.graph.discovery, "_build_dependency_graph", runaway)
    with pytest.warns(UserWarning, match="longer than its 1 s budget"):
        graph = build_groups(seeded(ResidualNet()), torch.randn(2, 1, 8, 8), WorkBudget(None, 1.0))
    assert not graph.traced
    assert graph.prunable  # the plain conv1 → bn1 → conv2 chain


def test_a_session_reports_a_grouping_stopped_over_its_memory_budget(monkeypatch):
    def runaway(*_args, **_kwargs):
        _grow([], physical_memory())  # freed when the step is stopped, as torch-pruning's graph is

    monkeypatch.setattr(explorer.graph.discovery, "_build_dependency_graph", runaway)
    data = TensorDataset(torch.randn(40, 1, 8, 8), torch.arange(40) % 5)
    with pytest.warns(UserWarning, match="memory budget"):
        s = PruningSession(seeded(ResidualNet()), data=data, memory_limit=current_rss() + 600 * MB)
    assert any("memory budget" in w for w in s.warnings)
    assert not s.graph.traced
    assert s.groups


def test_when_even_the_fallback_runs_away_the_error_is_clear(monkeypatch):
    def runaway(*_args, **_kwargs):
        _spin(60)

    monkeypatch.setattr(explorer.graph.discovery, "_build_dependency_graph", runaway)
    monkeypatch.setattr(explorer.graph.discovery, "fallback_groups", runaway)
    with pytest.raises(ModelError, match="cannot find this model's groups within"):
        build_groups(seeded(ResidualNet()), torch.randn(2, 1, 8, 8), WorkBudget(None, 0.5))
