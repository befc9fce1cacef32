"""The accuracy card settles once: of a plan's running estimates the first is published (with its 95 %
interval), then the exact figure; a slow evaluation refreshes its estimate every ``REFRESH_INTERVAL`` s."""

from __future__ import annotations

import pytest

from explorer.session import PruningSession
from explorer.ui import live_metrics
from explorer.ui.live_metrics import REFRESH_INTERVAL, LiveMetrics

pytestmark = pytest.mark.filterwarnings("ignore:the embedded weights")


@pytest.fixture(scope="module")
def session() -> PruningSession:
    # small batches: many running estimates per evaluation, as a large model's slow batches give
    return PruningSession("digits_cnn", batch_size=32, first_batch=32)


def _replay(session: PruningSession, seconds_per_batch: float, monkeypatch: pytest.MonkeyPatch) -> list:
    """Feed one real progressive evaluation to ``LiveMetrics``, each batch ``seconds_per_batch`` apart."""
    clock = [1000.0]
    monkeypatch.setattr(live_metrics.time, "monotonic", lambda: clock[0])
    estimates = list(session.views.iter_evaluate())
    published: list = []
    live = LiveMetrics(session, lambda m, _g: published.append(m), lambda e: pytest.fail(str(e)))
    try:
        for metrics in estimates:
            clock[0] += seconds_per_batch
            live._on_metrics(metrics, session.generation)
    finally:
        live.close()
    return estimates, published


def test_a_move_shows_one_estimate_then_the_exact_figure(
    session: PruningSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.set_ratio(session.groups[1].name, 0.5)
    estimates, published = _replay(session, 0.1, monkeypatch)  # 1.2 s in all
    assert len(estimates) >= 8  # 359 images in batches of 32
    assert estimates[0].accuracy_ci > 0
    assert published == [estimates[0], estimates[-1]]
    assert published[-1].seen == published[-1].total
    assert published[-1].accuracy == pytest.approx(session.evaluate().accuracy)


def test_a_slow_evaluation_refreshes_its_estimate(
    session: PruningSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.set_ratio(session.groups[0].name, 0.25)
    estimates, published = _replay(session, 1.0, monkeypatch)
    every = round(REFRESH_INTERVAL)  # one estimate per REFRESH_INTERVAL s, at one batch a second
    want = [m for i, m in enumerate(estimates[:-1]) if i % every == 0] + [estimates[-1]]
    assert published == want
