"""The guided lesson: six steps, each unlocking a part of the explorer and checking its question live; the
free explorer one click away; both languages."""

from __future__ import annotations

import pytest

from explorer.app import ExplorerApp, build_app
from explorer.session import PruningSession
from explorer.ui.lesson import PARTS, STEPS, Lesson

pytestmark = pytest.mark.filterwarnings("ignore:the embedded weights")


@pytest.fixture(scope="module")
def app():
    built = build_app(session=PruningSession("digits_cnn"), background=False, debounce=0.05)
    assert isinstance(built, ExplorerApp)
    assert built.state.wait_idle(30)
    yield built
    built.state.close()


def _shown(app: ExplorerApp, part: str) -> bool:
    return all(
        widget.layout.display != "none" if hasattr(widget, "layout") else widget.visible
        for widget in app._parts[part]
    )


def test_the_lesson_is_the_landing_page_and_unlocks_step_by_step(app: ExplorerApp) -> None:
    state, lesson, view = app.state, app.lesson, app.views["lesson"]
    session = state.session
    assert lesson.mode == "lesson"
    assert app._body.children[0] is view
    assert "Step 1 of 6" in view.text
    assert "What a filter is" in view.text
    assert "01_what_is_pruning.ipynb" in view.text  # the tutorial that goes further
    assert view.buttons["back"].disabled
    assert _shown(app, "cards")
    assert _shown(app, "gallery")
    assert _shown(app, "filters")
    for part in ("sliders", "criterion", "why", "panels", "latency", "network"):
        assert not _shown(app, part), part

    # step 1: remove one filter by clicking its bar
    assert "Not answered yet" in view.text
    state.toggle_filter(session.groups[0].name, 3)
    assert state.wait_idle(30)
    assert lesson.answer("filter")["removed"] == 1
    assert "✓ You removed 1 filter(s)" in view.text

    # step 2: the sliders unlock; halving the first layer costs too much, the last one does not
    view.buttons["next"].click()
    assert lesson.step == 1
    assert _shown(app, "sliders")
    assert _shown(app, "network")
    assert not _shown(app, "criterion")
    controls = app.views["controls"]
    controls.sliders[session.groups[0].name].value = 0.5
    assert state.wait_idle(30)
    assert state.metrics["delta"] < -0.10
    assert lesson.answer("slider") is None
    state.undo()
    state.undo()
    controls.sliders[session.groups[2].name].value = 0.5
    assert state.wait_idle(30)
    assert state.metrics["delta"] > -0.10
    assert lesson.answer("slider")["group"] == session.groups[2].name
    assert "Conv layer 3 at half or more" in view.text

    # step 3: criteria and the "why" of one filter
    lesson.next()
    assert _shown(app, "criterion")
    assert _shown(app, "why")
    state.selected_filter = 2
    assert state.wait_idle(30)
    assert lesson.answer("criteria") is None  # still ranked by filter size (L1)
    state.criterion = "fpgm"
    assert state.wait_idle(30)
    assert lesson.answer("criteria")["channel"] == 2
    assert "Similarity to others (FPGM): filter 2 ranks" in view.text

    # step 4: the tabs, on "Sensitivity & plans"; the scan and Li et al.'s plan
    lesson.next()
    assert _shown(app, "panels")
    assert app.panels.selected_index == 0
    state.jobs.run_sensitivity(ratios=(0.25, 0.5))
    assert state.wait_idle(60)
    app.views["plans"].inputs["epsilon"].value = 5.0
    app.views["plans"].buttons["li"].click()
    assert state.wait_idle(60)
    assert lesson.answer("sensitivity") is not None
    assert "Li et al.'s plan: accuracy" in view.text

    # step 5: fine-tuning wins accuracy back (on the "Fine-tune & export" tab)
    lesson.next()
    assert app.panels.selected_index == 1
    state.criterion = "l1"
    assert state.wait_idle(30)
    state.reset()
    assert state.wait_idle(30)
    controls.sliders[session.groups[1].name].value = 0.5
    assert state.wait_idle(30)
    state.jobs.run_finetune(40)
    assert state.wait_idle(120)
    answer = lesson.answer("finetune")
    assert answer["after"] > answer["before"]

    # step 6: the real speed-up
    lesson.next()
    assert _shown(app, "latency")
    assert view.buttons["next"].disabled
    state.measure_latency()
    assert state.wait_idle(60)
    assert lesson.answer("export")["speedup"] == pytest.approx(state.latency["speedup"])
    assert "as fast as the original" in view.text
    assert set(lesson.answers) == set(STEPS)
    state.reset()
    assert state.wait_idle(30)


def test_the_free_explorer_is_one_click_away(app: ExplorerApp) -> None:
    lesson, view = app.lesson, app.views["lesson"]
    lesson.go(0)
    app._mode.click()
    assert lesson.mode == "explore"
    assert view.layout.display == "none"
    assert all(_shown(app, part) for part in PARTS)
    assert app._mode.description == "Guided lesson"
    app._mode.click()
    assert lesson.mode == "lesson"
    assert view.layout.display != "none"
    assert app._mode.description == "Free explorer"


def test_the_lesson_in_korean(app: ExplorerApp) -> None:
    state = app.state
    state.lang = "ko"
    try:
        view = app.views["lesson"]
        assert "6단계 중 1단계" in view.text
        assert "필터란 무엇이고" in view.text
        assert app._mode.description == "자유 탐색"
        assert view.buttons["next"].description == "다음"
    finally:
        state.lang = "en"


def test_no_answer_before_its_question() -> None:
    class FakeState:
        def __init__(self) -> None:
            from traitlets import HasTraits

            self.jobs = HasTraits()
            self.jobs.suggestion, self.jobs.finetune = {}, {}
            self.pruned, self.ratios, self.criterion = {"a": [0]}, {"a": 0.6}, "l1"
            self.metrics = {"final": True, "delta": -0.001, "macs_fraction": 0.7, "generation": 1}
            self.selected_filter, self.why, self.latency, self.session = -1, {}, {}, None

        def observe(self, *_args: object, **_kwargs: object) -> None:
            pass

    lesson = Lesson(FakeState())
    lesson._recheck()
    assert set(lesson.answers) == {"filter"}  # step 2's answer is there, but its question is not asked yet
    lesson.next()
    assert set(lesson.answers) == {"filter", "slider"}


def test_explore_from_the_launch_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer.cli import build_parser
    from explorer.launch_options import EXPLORE_ENV, LaunchOptions
    from explorer.serve import voila_environment

    assert build_parser().parse_args(["app", "--explore"]).explore
    assert not build_parser().parse_args(["app"]).explore
    assert voila_environment(LaunchOptions(explore=True))[EXPLORE_ENV] == "1"
    assert EXPLORE_ENV not in LaunchOptions().to_env()
    assert LaunchOptions.from_env({EXPLORE_ENV: "1"}).explore
    session = PruningSession("digits_cnn")
    app = build_app(session=session, background=False, explore=True)
    try:
        assert app.lesson.mode == "explore"
    finally:
        app.state.close()
    monkeypatch.setenv(EXPLORE_ENV, "1")
    app = build_app(session=session, background=False)
    try:
        assert app.lesson.mode == "explore"
    finally:
        app.state.close()
