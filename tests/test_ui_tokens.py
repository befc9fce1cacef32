"""Token pruning in the app, without a browser, on a real digits_vit session: the view appears for a ViT
only, and what it shows equals independent calls of the session's API."""

from __future__ import annotations

import pytest

from explorer.app import ExplorerApp, build_app
from explorer.session import PruningSession
from explorer.ui.format import format_percent
from explorer.ui.views.plots import KEPT

pytestmark = pytest.mark.filterwarnings("ignore:the embedded weights")


@pytest.fixture(scope="module")
def app():
    built = build_app(session=PruningSession("digits_vit"), background=False, debounce=0.05)
    assert isinstance(built, ExplorerApp)
    assert built.state.wait_idle(120)
    yield built
    built.state.close()


def test_the_tokens_view_shows_the_sessions_tokens(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    view = app.views["analyses"].tokens
    assert view is not None
    assert [value for _label, value in view.block.options] == [0, 1, 2]  # after blocks 1-3 of 4
    view.ratio.value, view.block.value = 0.3, 1
    view.run_button.click()
    assert state.wait_idle(120)
    assert state.activity.job_status["tokens"]["state"] == "done", state.error
    got = state.analyses.tokens
    want = session.tokens_kept([0, 1, 2, 3], 0.3, stages=[1])  # independent calls
    assert [{k: v for k, v in row.items() if k != "image"} for row in got["images"]] == want
    summary = session.tokens(0.3, stages=[1])
    for key in ("dynamic_accuracy", "static_accuracy", "random_accuracy", "baseline_accuracy", "macs"):
        assert got["summary"][key] == summary[key]
    assert format_percent(summary["dynamic_accuracy"]) in view.text
    assert format_percent(summary["random_accuracy"]) in view.text
    kept = round(64 * 0.3)
    assert all(len(row["stages"][-1]) == kept for row in want)
    assert view.text.count(f"background:{KEPT}") == 4 * kept


def test_a_cnn_has_no_tokens_view() -> None:
    built = build_app(session=PruningSession("digits_cnn"), background=False, debounce=0.05)
    try:
        assert built.views["analyses"].tokens is None
    finally:
        built.state.close()
