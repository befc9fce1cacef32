"""The views nobody sees at first (the tabs below the explorer, the closed Analyses area) are built when first
opened: fewer widget models for the browser to create at start, the same views once opened."""

from __future__ import annotations

import warnings

import ipywidgets as w
import pytest

from explorer.app import ExplorerApp, _observers, build_app
from explorer.session import PruningSession
from explorer.ui.views.layout import PANELS

pytestmark = pytest.mark.filterwarnings("ignore:the embedded weights")

TABBED = {name for _key, names in PANELS for name in names}


def _models() -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Widget.widgets: the only registry there is
        return len(w.Widget.widgets)


@pytest.fixture(scope="module")
def session() -> PruningSession:
    return PruningSession("digits_cnn")


def _build(session: PruningSession, explore: bool) -> tuple[ExplorerApp, int]:
    before = _models()
    app = build_app(session=session, background=False, debounce=0.05, explore=explore)
    assert isinstance(app, ExplorerApp)
    assert app.state.wait_idle(30)
    return app, _models() - before


def _open_everything(app: ExplorerApp) -> None:
    for index in range(len(PANELS)):
        app.panels.selected_index = index
    app.views["analyses"].accordion.selected_index = 0


def test_closed_tabs_are_built_when_opened_and_show_the_current_state(session: PruningSession) -> None:
    app, at_start = _build(session, explore=False)  # the lesson: the tabs are hidden until step 4
    state = app.state
    try:
        assert app.views.built.isdisjoint(TABBED)
        assert not app.views["analyses"].built
        assert all(page.children == () for page in app.panels.children)
        assert set(app.views) >= TABBED  # every view is listed, built or not
        # a scan done before the tab is ever opened
        state.jobs.run_sensitivity(ratios=(0.25, 0.5))
        assert state.wait_idle(60)
        groups = [g.name for g in session.groups]
        before = _models()
        app.lesson.explore()  # shows the tabs: the selected one is filled
        assert app.views.built >= {"sensitivity", "plans"}
        assert app.views.built.isdisjoint({"finetune", "compare", "modes", "export", "model", "upload"})
        page = app.panels.children[0]
        assert page.children == (app.views["sensitivity"], app.views["plans"])
        assert app.views["sensitivity"].sources["lines"].data["group"] == groups  # the scan, drawn
        opened = _models() - before
        assert opened > 0
        _open_everything(app)
        for page, (_key, names) in zip(app.panels.children, PANELS, strict=True):
            assert page.children == tuple(app.views[name] for name in names)
        assert app.views.built >= TABBED
        analyses = app.views["analyses"]
        assert analyses.built
        assert analyses.accordion.children[0].children == (analyses.who_pays, analyses.dynamic)
        assert state.wait_idle(60)
        total = _models() - before + at_start
        assert at_start < total / 2  # more than half of the widget models are not created at start
    finally:
        state.close()


def test_a_script_builds_a_closed_view_on_access_and_rebuilds_release_its_observers(
    session: PruningSession,
) -> None:
    app, _ = _build(session, explore=True)  # the free explorer: the tabs show, the first one filled
    state = app.state
    try:
        assert app.views.built >= {"sensitivity", "plans"}
        assert "upload" not in app.views.built
        upload = app.views["upload"]  # a script asks for it: built, and put on its page
        assert app.panels.children[2].children == (upload,)
        app.panels.selected_index = 2  # the page gets the rest, in order
        assert app.panels.children[2].children == (app.views["model"], upload)
        _open_everything(app)
        observed = len(_observers(state, app.lesson))
        state.lang = "ko"  # the views are built again; the old ones, built early or late, stop observing
        state.lang = "en"
        assert app.views["upload"] is not upload
        _open_everything(app)
        assert len(_observers(state, app.lesson)) == observed
    finally:
        state.close()
