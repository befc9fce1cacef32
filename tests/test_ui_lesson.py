"""The guided lesson: six steps, each unlocking a part of the explorer and checking its question live; the
free explorer one click away; both languages."""

from __future__ import annotations

import html
import re

import pytest

from explorer.app import ExplorerApp, build_app
from explorer.session import PruningSession
from explorer.ui.format import format_percent
from explorer.ui.lesson import PARTS, STEPS, Lesson

pytestmark = pytest.mark.filterwarnings("ignore:the embedded weights")
#: Step 5's fine-tuning: a few steps (the comparison, not the recovery, is under test).
FINETUNE_STEPS = 8


@pytest.fixture(scope="module")
def app():
    built = build_app(session=PruningSession("digits_cnn"), background=False, debounce=0.05)
    assert isinstance(built, ExplorerApp)
    assert built.state.wait_idle(30)
    yield built
    built.state.close()


def _row(view: object, name: str) -> list[str]:
    """One row of step 5's comparison table, as its cells' texts."""
    row = re.search(f"<tr class='pe-recovery-row pe-recovery-{name}'>(.*?)</tr>", view.text)
    assert row is not None, name
    return [html.unescape(re.sub("<[^>]+>", "", c)) for c in re.findall("<td[^>]*>(.*?)</td>", row.group(1))]


def _recovery(view: object) -> dict[str, str]:
    return {name: _row(view, name)[1] for name in ("pruned", "reconstructed", "finetuned")}


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

    # step 5: prune, fine-tune, reconstruct; the table compares the three (on the "Fine-tune & export" tab)
    lesson.next()
    assert app.panels.selected_index == 1
    state.criterion = "l1"
    assert state.wait_idle(30)
    state.reset()
    assert state.wait_idle(30)
    assert "Nothing is pruned yet" in view.text
    controls.sliders[session.groups[1].name].value = 0.5
    assert state.wait_idle(30)
    assert _recovery(view) == {
        "pruned": _row(view, "pruned")[1],
        "reconstructed": "not yet",
        "finetuned": "not yet",
    }
    assert _row(view, "pruned")[1] != "not yet"
    state.jobs.run_finetune(FINETUNE_STEPS)
    assert state.wait_idle(120)
    assert _row(view, "reconstructed")[1] == "not yet"
    assert lesson.answer("finetune") is None  # not reconstructed yet
    assert "Fine-tuned (8 steps)" in view.text
    state.analyses.run_reconstruct()
    assert state.wait_idle(60)
    answer = lesson.answer("finetune")
    assert answer is not None
    assert answer["finetuned"] > answer["pruned"]
    assert "✓ The same plan:" in view.text

    # the three figures are three independent session calls on the same plan: the original weights, then
    # finetune() as the app ran it (seeded; the same steps, rate and chunks between its evaluation points, so
    # a repeat trains the same weights), then reconstruct() (from the original weights whatever is live, as
    # in the app); each is the session's exact evaluate(), the one the app shows (not the jobs' own fp32
    # measures, which may differ by an image under bf16)
    alone = PruningSession("digits_cnn")
    alone.set_ratio(session.groups[1].name, 0.5, criterion="l1")
    expected = {"pruned": alone.evaluate()}
    tuned = state.jobs.finetune  # the app's run: its steps, rate and the evaluation points between chunks
    alone.finetune(tuned["steps"], lr=tuned["lr"], eval_every=tuned["curve"][1][0])
    expected["finetuned"] = alone.evaluate()
    alone.reconstruct()
    expected["reconstructed"] = alone.evaluate()
    assert answer == {name: pytest.approx(m.accuracy, abs=1e-9) for name, m in expected.items()}
    macs = {m.macs for m in expected.values()} | {alone.cost().macs}
    assert len(macs) == 1  # one plan: the same MACs for all three
    share = format_percent(macs.pop() / state.baseline["macs"])
    for name, m in expected.items():
        label, accuracy, _change, shown = _row(view, name)
        assert accuracy == format_percent(m.accuracy), label
        assert shown == share, label

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
        app.lesson.go(4)  # step 5's comparison, in Korean too
        assert "아직 프루닝한 것이 없습니다" in view.text
        app.lesson.go(0)
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
            self.trajectory: list = []

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


def test_the_comparison_reads_the_plans_points_on_each_weights() -> None:
    """compare_recovery keeps to the current plan, and says when a fine-tuning started from changed weights
    (the app reconstructs from the original weights, but fine-tunes from the live ones)."""
    from explorer.ui.recovery import compare_recovery
    from explorer.ui.trajectory import ORIGINAL, Trajectory

    published: list = []
    live = [ORIGINAL]
    trajectory = Trajectory(
        lambda points: published.__setitem__(slice(None), points), weights=lambda: live[0]
    )
    plan, other = {"a": [0, 1]}, {"a": [0]}
    cost = {"macs": 50, "params": 5}
    assert not compare_recovery(published, {})["planned"]
    trajectory.add({**cost, "accuracy": 0.4}, plan)
    trajectory.add({"macs": 70, "params": 7, "accuracy": 0.8}, other)
    table = compare_recovery(published, plan)
    assert table["planned"]
    assert not table["complete"]
    assert table["rows"]["pruned"]["accuracy"] == 0.4
    assert table["rows"]["reconstructed"] is None
    assert table["rows"]["finetuned"] is None
    live[0] = "reconstructed under plan #2"
    trajectory.add_finetuned(cost, plan, 0.4, 0.7, 0, ORIGINAL, kind="reconstructed")
    live[0] = "fine-tuned under plan #3 (5 steps)"
    trajectory.add_finetuned(cost, plan, 0.7, 0.9, 5, "reconstructed under plan #2")
    rows = compare_recovery(published, plan)["rows"]
    assert [rows[n]["accuracy"] for n in ("pruned", "reconstructed", "finetuned")] == [0.4, 0.7, 0.9]
    assert rows["finetuned"]["steps"] == 5
    assert not rows["finetuned"]["from_original"]  # shown as "starting from weights already changed"
    assert compare_recovery(published, other)["rows"]["reconstructed"] is None
