"""The analyses in the app, without a browser, on a real digits_cnn session: who pays, the map of plans
(provenance, Pareto front, reference plans, click to restore, history to JSON and back), reconstruction,
the training-modes comparison and the dynamic channels. Each view's data is checked against an independent
call of the session's API for the same plan.

One app is shared by the module; each test starts from the unpruned plan on the original weights.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from explorer.app import ExplorerApp, build_app
from explorer.plan_references import li_ratios
from explorer.sensitivity import suggest_li
from explorer.session import PruningSession
from explorer.ui.format import format_percent
from explorer.ui.state import ExplorerState
from explorer.ui.trajectory import MAX_POINTS, Trajectory, mark_pareto

pytestmark = pytest.mark.filterwarnings("ignore:the embedded weights")


@pytest.fixture(scope="module")
def app():
    built = build_app(session=PruningSession("digits_cnn"), background=False, debounce=0.05)
    assert isinstance(built, ExplorerApp)
    assert built.state.wait_idle(120)
    yield built
    built.state.close()


@pytest.fixture(autouse=True)
def original(app: ExplorerApp):
    state = app.state
    state.reset()
    assert state.wait_idle(60)
    state.clear_error()
    yield
    app.views["analyses"].accordion.selected_index = None
    assert state.wait_idle(120)
    assert not state.activity.busy


def _without_images(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "image"} for row in rows]


def _move(app: ExplorerApp, group: str, ratio: float) -> None:
    app.views["controls"].sliders[group].value = ratio
    assert app.state.wait_idle(60)


# ================================================================================================ who pays
def test_who_pays_follows_the_sliders_while_the_area_is_open(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    group = session.groups[1].name
    _move(app, group, 0.5)
    assert state.analyses.who_pays == {}  # closed: nothing computed
    app.views["analyses"].accordion.selected_index = 0  # open the Analyses area
    assert state.wait_idle(60)
    seconds = []
    for ratio in (0.5, 0.75):
        if ratio != 0.5:
            _move(app, group, ratio)
        got = state.analyses.who_pays
        assert got["generation"] == session.generation
        want_rows, flips = session.per_class(), session.flipped()  # independent calls, same plan
        assert got["per_class"] == want_rows
        for side in ("lost", "gained"):
            assert _without_images(got[side]) == flips[side][: len(got[side])]
            assert len(got[side]) == min(6, len(flips[side]))
            assert got[f"{side}_count"] == len(flips[side])
            assert all(row["image"].startswith("data:image/png;base64,") for row in got[side])
        seconds.append(got["seconds"])
        # the bar chart: one bar per class with images, the change in points
        data = app.views["analyses"].who_pays.source.data
        shown = [r for r in want_rows if r["count"]]
        assert data["change"] == [r["change"] for r in shown]
        assert data["pruned"] == [100 * r["pruned_accuracy"] for r in shown]
        gallery = app.views["analyses"].who_pays.gallery
        for row in got["lost"]:
            assert format_percent(row["pruned_confidence"]) in gallery
    assert got["lost_count"] > 0  # 75 % of a layer costs something
    print(f"who pays: {1000 * sum(seconds) / len(seconds):.0f} ms per exact evaluation on digits_cnn")
    app.views["analyses"].accordion.selected_index = None  # closed again: it stops following
    assert state.wait_idle(30)
    generation = state.analyses.who_pays["generation"]
    _move(app, group, 0.25)
    assert state.analyses.who_pays["generation"] == generation


# ============================================================================================= the map
def test_each_point_knows_where_it_came_from(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    group = session.groups[2].name
    _move(app, group, 0.5)
    current = next(p for p in state.trajectory if p["current"])
    assert current["source"] == "slider"
    assert current["detail"] == group
    assert current["plan_number"] == session.plan_number
    assert current["criteria"] == [state.criterion]
    assert current["weights"] == "original"
    assert current["plan"] == session.plan
    record = session.provenance.records()[-1]
    want = session.evaluate()
    assert (record["accuracy"], record["macs"], record["params"]) == (want.accuracy, want.macs, want.params)
    assert record["source"] == f"slider:{group}"
    state.apply_global(0.3)
    assert state.wait_idle(60)
    assert next(p for p in state.trajectory if p["current"])["source"] == "global"
    state.toggle_filter(group, 0)
    assert state.wait_idle(60)
    current = next(p for p in state.trajectory if p["current"])
    assert (current["source"], current["detail"]) == ("filter", group)
    view = app.views["trajectory"]
    assert "the slider of" in " ".join(view.source.data["source"])
    assert "a filter clicked in" in view.panel


def test_the_pareto_front_is_the_undominated_points(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    for i, ratio in enumerate((0.25, 0.5, 0.75)):
        _move(app, session.groups[i % len(session.groups)].name, ratio)
    points = state.trajectory
    assert len(points) >= 4

    def dominated(p: dict[str, Any]) -> bool:
        return any(
            (q["macs"] <= p["macs"] and q["accuracy"] > p["accuracy"])
            or (q["macs"] < p["macs"] and q["accuracy"] >= p["accuracy"])
            for q in points
        )

    assert [p["pareto"] for p in points] == [not dominated(p) for p in points]
    front = app.views["trajectory"].front.data
    on_front = sorted((p for p in points if p["pareto"]), key=lambda p: p["macs"])
    assert front["macs"] == [p["macs"] / 1e6 for p in on_front]


def test_clicking_a_point_restores_exactly_that_plan(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    _move(app, session.groups[1].name, 0.5)
    wanted, number, plan = dict(session.pruned), session.plan_number, session.plan
    _move(app, session.groups[0].name, 0.75)
    assert session.pruned != wanted
    view = app.views["trajectory"]
    index = next(i for i, p in enumerate(state.trajectory) if p.get("plan_number") == number)
    view.source.selected.indices = [index]  # what a click in the browser sends
    assert state.wait_idle(60)
    assert session.pruned == wanted
    assert session.plan["groups"] == plan["groups"]
    assert session.weights.label == "original"
    assert state.analyses.plans.selected["through_history"]
    assert state.metrics["accuracy"] == pytest.approx(session.evaluate().accuracy)
    current = next(p for p in state.trajectory if p["current"])
    assert current["plan"]["groups"] == plan["groups"]
    assert current["source"] == "slider"  # a point keeps where it first came from
    assert view.source.selected.indices == []


def test_reference_plans_equal_the_same_plans_made_independently(app: ExplorerApp) -> None:
    state, criterion = app.state, app.state.criterion
    refs = state.analyses.plans.references
    kinds = {r["kind"] for r in refs}
    assert {"uniform", "global", "random"} <= kinds
    other = PruningSession("digits_cnn")  # an independent session: the same plans made its own way
    for ref in [r for r in refs if r["setting"] in (0.2, 0.6)]:
        if ref["kind"] == "global":
            other.set_global_ratio(ref["setting"], criterion)
        else:
            ratios = {g.name: ref["setting"] for g in other.groups}
            other.set_ratios(ratios, "random" if ref["kind"] == "random" else criterion)
        want = other.evaluate(use_cache=False)
        assert (ref["macs"], ref["params"]) == (want.macs, want.params), ref
        assert ref["accuracy"] == pytest.approx(want.accuracy, abs=1e-9), ref
        other.reset()
    data = app.views["trajectory"].references["uniform"].data
    assert len(data["macs"]) == len([r for r in refs if r["kind"] == "uniform"])


def test_li_references_follow_a_scan(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    state.jobs.run_sensitivity(ratios=(0.25, 0.5, 0.75))
    assert state.wait_idle(300)
    li = [r for r in state.analyses.plans.references if r["kind"] == "li"]
    assert len(li) == 4
    table = session.sensitivity((0.25, 0.5, 0.75), state.jobs.scan_criterion)  # the scan, from the cache
    for ref in li:
        assert li_ratios(state.jobs.sensitivity, ref["setting"]) == suggest_li(table, ref["setting"])
        session.suggest_plan("li", table=table, epsilon=ref["setting"])
        want = session.evaluate(use_cache=False)
        assert (ref["macs"], ref["accuracy"]) == (want.macs, pytest.approx(want.accuracy, abs=1e-9))
    state.reset()


def test_the_history_saves_to_json_and_reloads_into_a_fresh_session(app: ExplorerApp, tmp_path) -> None:
    state, session = app.state, app.state.session
    _move(app, session.groups[1].name, 0.5)
    _move(app, session.groups[2].name, 0.25)
    path = tmp_path / "history.json"
    view = app.views["trajectory"]
    view.path.value = str(path)
    view.buttons["save"].click()
    assert state.wait_idle(30)
    saved = json.loads(path.read_text())
    assert saved["records"] == session.provenance.records()
    assert state.analyses.plans.file == {"action": "saved", "path": str(path), "count": len(saved["records"])}

    fresh = ExplorerState(PruningSession("digits_cnn"), debounce=0.05)
    try:
        assert fresh.wait_idle(60)
        fresh.analyses.plans.load(path)
        assert fresh.wait_idle(60)
        assert fresh.session.provenance.records()[-len(saved["records"]) :] == saved["records"]
        loaded = [p for p in fresh.trajectory if p.get("loaded")]
        assert loaded  # the original network's plan was there already
        record = next(r for r in saved["records"] if r["source"] == f"slider:{session.groups[2].name}")
        index = next(i for i, p in enumerate(fresh.trajectory) if p.get("plan") == record["plan"])
        fresh.analyses.plans.restore(index)  # a plan of another session: applied again
        assert fresh.wait_idle(60)
        assert fresh.session.plan["groups"] == record["plan"]["groups"]
        assert fresh.metrics["accuracy"] == pytest.approx(record["accuracy"])
        assert fresh.metrics["macs"] == record["macs"]
        assert not fresh.analyses.plans.selected["through_history"]
    finally:
        fresh.close()


def test_the_map_keeps_at_most_max_points() -> None:
    published: list[list[dict[str, Any]]] = []
    trajectory = Trajectory(published.append)
    for i in range(MAX_POINTS + 25):
        trajectory.add({"macs": 1000 - i, "params": 1, "accuracy": (i % 7) / 7}, {"g": [i]})
    points = published[-1]
    assert len(points) == MAX_POINTS
    assert points[-1]["current"]
    assert points[0]["key"] == trajectory.key({"g": [25]})  # the oldest went first
    copy = [dict(p) for p in points]
    mark_pareto(copy)
    assert [p["pareto"] for p in copy] == [p["pareto"] for p in points]


# ====================================================================================== reconstruction
def test_reconstruct_runs_as_a_job_and_its_weights_go_live(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    state.apply_global(0.5)
    assert state.wait_idle(60)
    number = session.plan_number
    want = session.reconstruct(adopt=False)  # independent: the same refit, not adopted
    finetune = app.views["finetune"]
    finetune.reconstruct_button.click()
    assert state.wait_idle(120)
    assert state.activity.job_status["reconstruct"]["state"] == "done", state.error
    result = state.analyses.reconstruction
    assert result["accuracy_before"] == pytest.approx(want["accuracy_before"])
    assert result["accuracy_after"] == pytest.approx(want["accuracy_after"])
    assert result["accuracy_after"] > result["accuracy_before"]
    assert session.weights.label == f"reconstructed under plan #{number}"
    assert f"reconstructed under plan #{number}" in app.views["weights"].text
    assert format_percent(result["accuracy_after"]) in finetune.reconstruction_text
    assert state.metrics["accuracy"] == pytest.approx(session.evaluate().accuracy)
    diamonds = [p for p in state.trajectory if p["kind"] == "reconstructed"]
    assert len(diamonds) == 1
    assert diamonds[0]["before"] == pytest.approx(want["accuracy_before"])
    # clicking the plan's point on the original weights goes back to them, through the history
    index = next(
        i
        for i, p in enumerate(state.trajectory)
        if p.get("weights") == "original" and p.get("plan_number") == number
    )
    app.views["trajectory"].source.selected.indices = [index]
    assert state.wait_idle(60)
    assert session.weights.is_original
    assert session.plan_number > number


def test_reconstruct_cancels_and_changes_nothing(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    state.apply_global(0.5)
    assert state.wait_idle(60)
    generation, weights = session.generation, session.weights.label
    original = state.activity.advance

    def cancel_on_first_progress(done: int, total: int) -> None:
        original(done, total)
        state.cancel()

    state.activity.advance = cancel_on_first_progress
    try:
        state.analyses.run_reconstruct()
        assert state.wait_idle(60)
    finally:
        del state.activity.advance
    assert state.activity.job_status["reconstruct"]["state"] == "cancelled"
    assert (session.generation, session.weights.label) == (generation, weights)
    assert state.error == ""


# ===================================================================================== training modes
def test_training_modes_comparison_runs_and_cancels(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    state.apply_global(0.5)
    assert state.wait_idle(60)
    generation = session.generation
    view = app.views["modes"]
    view.inputs["steps"].value = 6
    view.run_button.click()
    assert state.wait_idle(300)
    assert state.activity.job_status["modes"]["state"] == "done", state.error
    got = state.analyses.training_modes
    want = session.compare_training_modes(6)  # independent call, same plan and seed
    assert set(got["modes"]) == {"masked", "soft", "group_lasso"}
    for mode, m in want["modes"].items():
        assert got["modes"][mode]["accuracy_after"] == pytest.approx(m["accuracy_after"])
        assert got["modes"][mode]["pruned"] == m["pruned"]
        assert format_percent(m["accuracy_after"]) in view.text
    assert session.generation == generation  # copies: the plan and weights stay

    def cancel(change: dict) -> None:
        if change["new"] > 0:
            state.cancel()

    state.activity.observe(cancel, names="progress")
    try:
        state.analyses.compare_training_modes(50)
        assert state.wait_idle(120)
    finally:
        state.activity.unobserve(cancel, names="progress")
    assert state.activity.job_status["modes"]["state"] == "cancelled"
    assert state.analyses.training_modes == got  # the last finished comparison stays
    assert session.generation == generation


# ==================================================================================== dynamic channels
def test_dynamic_channels_view_shows_the_sessions_channels(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    view = app.views["analyses"].dynamic
    view.run_button.click()
    assert state.wait_idle(120)
    assert state.activity.job_status["dynamic"]["state"] == "done", state.error
    got = state.analyses.dynamic
    want = session.dynamic_channels([0, 1, 2, 3], 0.5)  # independent call
    assert _without_images(got["images"]) == want
    summary = session.dynamic(0.5)
    assert got["summary"]["dynamic_accuracy"] == summary["dynamic_accuracy"]
    assert got["summary"]["static_accuracy"] == summary["static_accuracy"]
    assert format_percent(summary["dynamic_accuracy"]) in view.text
    used = sum(len(c) for c in want[0]["channels"].values())
    assert view.text.count("background:#1a73e8") >= used
