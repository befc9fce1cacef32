"""The app's long jobs without a browser: sensitivity scan, suggested plans, fine-tuning, comparisons, export
and checkpoint upload, driven through the widgets and checked against the session.

One app is shared by the module (building it takes a second); each test starts from the unpruned plan. The
fine-tuning test changes the session's weights and the upload test replaces the session: both come late.
"""

from __future__ import annotations

import base64
import gc
import io
import os
import re
import weakref
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch

from explorer.app import ExplorerApp, _observers, build_app
from explorer.session import PruningSession
from explorer.ui import download
from explorer.ui.format import format_count, format_percent
from explorer.ui.plan_inputs import on_grid

pytestmark = pytest.mark.filterwarnings("ignore:the embedded weights")

RATIOS = (0.25, 0.5, 0.75)


@pytest.fixture(scope="module")
def app():
    built = build_app(session=PruningSession("digits_cnn"), background=False, debounce=0.05)
    assert isinstance(built, ExplorerApp)
    assert built.state.wait_idle(30)
    yield built
    built.state.close()


@pytest.fixture(autouse=True)
def unpruned(app: ExplorerApp):
    state = app.state
    state.reset()
    assert state.wait_idle(30)
    state.clear_error()
    yield
    assert state.wait_idle(60)
    assert not state.activity.busy
    assert state.activity.job == ""


def assert_freed(gone: weakref.ref) -> None:
    """Nothing (state, views, worker threads, observers) holds the replaced session any more: it is
    garbage-collected, with its model copies and caches, not merely left unobserved."""
    gc.collect()
    held = gone()
    assert held is None, sorted({type(r).__name__ for r in gc.get_referrers(held)})


def _upload(app: ExplorerApp, name: str, content: bytes, size: int | None = None) -> None:
    """Deliver a file the way the browser does: a state message setting the FileUpload's value."""
    item = {
        "name": name,
        "type": "application/octet-stream",
        "size": len(content) if size is None else size,
        "content": memoryview(content),
        "last_modified": 0,
    }
    upload = app.views["upload"].upload
    upload.set_state({"value": [item]})
    assert upload.value == ()  # cleared, so that the same file can be chosen again
    assert app.state.wait_idle(60)


def test_panels_below_the_explorer(app: ExplorerApp) -> None:
    assert app.panels is not None
    assert app.panels.titles == ("Sensitivity & plans", "Fine-tune & export", "Models & weights")
    assert app._body.children[-1].children[-1] is app.panels  # last: the first screen is unchanged
    assert app.state.jobs.scan_criterion == app.state.criterion


def test_sensitivity_scan_draws_one_line_per_group(app: ExplorerApp) -> None:
    from explorer.sensitivity import run_sensitivity

    state, session = app.state, app.state.session
    view = app.views["sensitivity"]
    state.jobs.run_sensitivity(ratios=RATIOS)
    assert state.wait_idle(60)
    assert state.activity.job_status["sensitivity"]["state"] == "done"
    want = run_sensitivity(session, RATIOS, "l1")  # measured again, independently of the session's cache
    rows = state.jobs.sensitivity["rows"]
    assert len(rows) == len(want.rows)
    for got, expected in zip(rows, want.rows, strict=True):  # pytest.approx takes no nested data
        assert got == pytest.approx(expected)
    lines, points = view.sources["lines"].data, view.sources["points"].data
    groups = [g.name for g in session.groups]
    assert lines["group"] == groups  # one line per group, in the legend
    for g, xs, ys in zip(lines["group"], lines["xs"], lines["ys"], strict=True):
        curve = want.curve(g)
        assert xs == pytest.approx([0.0] + [100 * r["ratio"] for r in curve])
        assert ys == pytest.approx([100 * want.baseline_accuracy] + [100 * r["accuracy"] for r in curve])
    assert points["group"] == [r["group"] for r in want.rows]
    assert points["accuracy"] == pytest.approx([100 * r["accuracy"] for r in want.rows])
    assert points["loss"] == pytest.approx([r["loss"] for r in want.rows])
    fig = view.figure
    assert fig.xaxis.axis_label == "filters pruned away (%)"
    assert fig.yaxis.axis_label == "validation accuracy (%)"
    (hover,) = [t for t in fig.tools if type(t).__name__ == "HoverTool"]
    assert [name for name, _ in hover.tooltips] == ["layer", "pruned", "accuracy", "loss"]
    assert session.pruned == {}  # the scan does not change the plan


def test_cancelling_a_scan_leaves_the_app_usable(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    generation = session.generation
    original = state.activity.advance

    def cancel_on_first_progress(done: int, total: int) -> None:
        original(done, total)
        state.cancel()

    state.activity.advance = cancel_on_first_progress
    try:
        state.jobs.run_sensitivity(ratios=(0.1, 0.3, 0.6))  # not scanned before: really runs
        assert state.wait_idle(60)
    finally:
        del state.activity.advance
    assert state.activity.job_status["sensitivity"]["state"] == "cancelled"
    assert "plan is unchanged" in app.views["sensitivity"]._status.value
    assert state.error == ""
    assert session.generation == generation
    assert session.pruned == {}
    group = session.groups[1].name
    app.views["controls"].sliders[group].value = 0.5  # still usable
    assert state.wait_idle(30)
    assert session.ratio(group) == 0.5
    assert state.metrics["accuracy"] == pytest.approx(session.evaluate().accuracy)


def test_scan_draws_its_curves_while_it_runs(app: ExplorerApp) -> None:
    """Each published partial scan holds rows the finished scan has too, layer by layer, and the progress
    says which layer of how many."""
    state, session = app.state, app.state.session
    view = app.views["sensitivity"]
    ratios = (0.15, 0.35, 0.55)  # not scanned before: really runs
    seen: list[dict] = []
    texts: list[str] = []
    lines: list[list[str]] = []

    def scan(change: dict) -> None:  # called after the view's observer: its plot is drawn
        seen.append(change["new"])
        lines.append(list(view.sources["lines"].data["group"]))

    def text(change: dict) -> None:
        texts.append(change["new"])

    state.jobs.observe(scan, names="sensitivity")
    state.activity.observe(text, names="progress_text")
    try:
        state.jobs.run_sensitivity(ratios=ratios)
        assert state.wait_idle(60)
    finally:
        state.jobs.unobserve(scan, names="sensitivity")
        state.activity.unobserve(text, names="progress_text")
    final = state.jobs.sensitivity
    assert final["running"] is False
    groups = [g.name for g in session.groups]
    partial = [s for s in seen if s.get("running")]
    assert len(partial) >= len(groups)  # at least one drawing per layer reached
    for s in partial:
        assert s["rows"] == final["rows"][: len(s["rows"])]  # a prefix of the finished scan's rows
        assert s["groups"] == groups[: s["layer"]]
        assert s["layers"] == len(groups)
    assert [s["layer"] for s in partial if s["rows"]][-1] == len(groups)
    assert any(len(g) == 1 for g in lines)  # the plot grew a line at a time
    assert lines[-1] == groups
    for layer in range(1, len(groups) + 1):
        assert any(f"layer {layer} of {len(groups)}" in text for text in texts), texts


def test_a_cancelled_scan_keeps_its_partial_curves(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    view = app.views["sensitivity"]
    original = state.activity.advance
    ratios = (0.2, 0.4)  # not scanned before

    def cancel_in_layer_two(done: int, total: int) -> None:
        original(done, total)
        if done == len(ratios) + 1:  # the first cell of the second layer
            state.cancel()

    state.activity.advance = cancel_in_layer_two
    try:
        state.jobs.run_sensitivity(ratios=ratios)
        assert state.wait_idle(60)
    finally:
        del state.activity.advance
    s = state.jobs.sensitivity
    assert state.activity.job_status["sensitivity"]["state"] == "cancelled"
    assert s["cancelled"] is True
    assert s["running"] is False
    want = session.sensitivity(ratios, "l1")  # the whole scan, measured now
    assert len(s["rows"]) == len(ratios) + 1
    assert s["rows"] == want.rows[: len(s["rows"])]
    assert view.sources["lines"].data["group"] == [g.name for g in session.groups[:2]]
    assert "Cancelled after layer 2 of 3" in view._note.value
    assert session.pruned == {}


def test_the_time_left_comes_from_the_measured_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer.ui import activity as module
    from explorer.ui.activity import ETA_AFTER_SECONDS, Activity, estimate_left

    clock = [100.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    activity = Activity()
    activity.begin("Scoring channels…")
    clock[0] += 1.0
    activity.advance(1, 10)
    assert activity.eta == -1.0  # too early: start-up cost, not a rate
    assert activity.progress_text == "Scoring channels…"
    clock[0] += 3.0
    activity.advance(2, 10)  # 2 of 10 in 4 s: 0.5 per s, 8 left → 16 s
    assert activity.eta == pytest.approx(4.0 / 2 * (10 - 2))
    assert activity.progress_text == "Scoring channels… (about 16 s left)"
    clock[0] += 60.0
    activity.advance(4, 10)  # 4 in 64 s → 96 s left
    assert activity.progress_text == "Scoring channels… (about 1.6 min left)"
    activity.retext("Scoring channels: layer 2…")
    assert activity.progress_text == "Scoring channels: layer 2… (about 1.6 min left)"
    clock[0] += 300.0
    activity.advance(999, 1000)  # 364 s for 99.9 %: 0.4 s left, under a second: hidden
    assert activity.eta == -1.0
    activity.end()
    assert activity.progress_text == ""
    assert estimate_left(ETA_AFTER_SECONDS / 2, 0.5) is None
    assert estimate_left(10.0, 0.25) == pytest.approx(30.0)


def test_li_plan_moves_the_sliders(app: ExplorerApp) -> None:
    from explorer.sensitivity import suggest_li

    state, session = app.state, app.state.session
    state.jobs.run_sensitivity(ratios=RATIOS)
    assert state.wait_idle(60)
    plans = app.views["plans"]
    plans.inputs["epsilon"].value = 5.0  # points
    plans.buttons["li"].click()
    assert state.wait_idle(60)
    want = suggest_li(session.sensitivity(RATIOS, "l1"), 0.05)
    assert any(r > 0 for r in want.values())
    sliders = app.views["controls"].sliders
    for group in sliders:
        assert session.ratio(group) == want[group]
        assert state.ratios[group] == session.ratio(group)
        assert sliders[group].value == pytest.approx(on_grid(session.ratio(group)))
    assert state.jobs.suggestion["ratios"] == want
    assert state.jobs.suggestion["real_accuracy"] == pytest.approx(session.evaluate().accuracy)
    assert "Sliders moved to" in plans.text
    state.undo()  # one undo step back to the unpruned plan
    assert state.wait_idle(30)
    assert session.pruned == {}


def test_target_plan_shows_predicted_and_real(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    state.jobs.run_sensitivity(ratios=RATIOS)
    assert state.wait_idle(60)
    plans = app.views["plans"]
    plans.inputs["reduction"].value = 40
    plans.buttons["target"].click()
    assert state.wait_idle(60)
    s = state.jobs.suggestion
    real = session.evaluate()
    assert s["kind"] == "target"
    assert s["predicted_accuracy"] is not None
    assert s["predicted_macs"] <= 0.6 * session.baseline_cost().macs
    assert s["real_accuracy"] == pytest.approx(real.accuracy)
    assert s["real_macs"] == real.macs == session.cost().macs
    text = plans.text
    assert "predicted (from the scan)" in text
    assert "real (evaluated)" in text
    assert format_percent(s["predicted_accuracy"]) in text
    assert format_percent(real.accuracy) in text
    assert format_count(real.macs) in text
    for group, slider in app.views["controls"].sliders.items():
        assert slider.value == pytest.approx(on_grid(session.ratio(group)))


def test_plan_ranks_by_the_scan_criterion(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    state.jobs.run_sensitivity(ratios=RATIOS)  # an l1 scan exists...
    assert state.wait_idle(60)
    app.views["sensitivity"].criterion_dropdown.value = "fpgm"  # ...but the user wants fpgm
    app.views["plans"].buttons["target"].click()
    assert state.wait_idle(60)
    assert state.jobs.sensitivity["criterion"] == "fpgm"  # scanned again, with fpgm
    assert state.jobs.suggestion["criterion"] == "fpgm"
    assert state.criterion == "fpgm"  # the sliders now rank by the plan's criterion
    assert app.views["controls"].criterion_dropdown.value == "fpgm"
    assert {c["criterion"] for c in session.plan["groups"].values()} == {"fpgm"}
    assert state.jobs.suggestion["real_accuracy"] == pytest.approx(session.evaluate().accuracy)
    state.criterion = "l1"
    assert state.wait_idle(30)
    assert state.jobs.scan_criterion == "l1"  # follows the active criterion again


def test_global_plan_moves_every_slider(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    plans = app.views["plans"]
    plans.inputs["ratio"].value = 0.3
    plans.buttons["global"].click()
    assert state.wait_idle(60)
    assert state.global_ratio == pytest.approx(0.3)
    assert app.views["controls"].global_slider.value == pytest.approx(0.3)
    for group, slider in app.views["controls"].sliders.items():
        assert abs(slider.value - session.ratio(group)) <= 0.025 + 1e-9
    assert sum(len(v) for v in session.pruned.values()) > 0


def test_export_writes_the_three_files(
    app: ExplorerApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, session = app.state, app.state.session
    state.set_ratio(session.groups[2].name, 0.5)
    assert state.wait_idle(30)
    export = app.views["export"]
    export.folder.value = str(tmp_path / "pruned")
    export.save_button.click()
    assert state.wait_idle(60)
    assert state.error == ""
    names = sorted(p.name for p in (tmp_path / "pruned").iterdir())
    assert names == ["SUMMARY.md", "plan.json", "pruned_state_dict.pt"]
    for name in names:
        assert str(tmp_path / "pruned" / name) in export.text
    summary = (tmp_path / "pruned" / "SUMMARY.md").read_text()
    assert state.jobs.export["summary"] == summary
    assert "<h1>Pruned digits_cnn</h1>" in export.text  # SUMMARY.md rendered
    assert "<td>features.7</td>" in export.text
    assert f"Weights exported: {session.weights.label}." in summary
    assert "Weights exported: <b>original</b>." in export.text  # in the page's words
    state.lang = "ko"
    try:
        assert "내보낸 가중치: <b>원래 가중치</b>." in app.views["export"].text
    finally:
        state.lang = "en"
    export = app.views["export"]
    # the download link: the same three files, zipped into a data: URI
    link = re.search(r"download='([^']+)' href='data:application/zip;base64,([^']+)'", export.download)
    assert link is not None
    assert link[1] == "pruned.zip"
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(link[2]))) as archive:
        assert sorted(archive.namelist()) == [f"pruned/{n}" for n in names]
        for name in names:
            assert archive.read(f"pruned/{name}") == (tmp_path / "pruned" / name).read_bytes()
    monkeypatch.setattr(download, "DOWNLOAD_LIMIT", 1000)  # a zip over the limit: no link, a sentence
    export.save_button.click()
    assert state.wait_idle(60)
    assert "href" not in export.download
    assert "too big to download from the page" in export.download
    # a folder holding other files is refused: the message goes to the red box
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    export.folder.value = str(tmp_path / "mine")
    export.save_button.click()
    assert state.wait_idle(60)
    assert "holds other files" in app.error_view.html
    assert state.activity.job_status["export"]["state"] == "failed"
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_compare_schedules_and_unstructured(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    group = session.groups[2].name
    state.set_ratio(group, 0.5)
    assert state.wait_idle(30)
    compare = app.views["compare"]
    compare.inputs["steps"].value = 8
    compare.inputs["k"].value = 2
    compare.buttons["schedules"].click()
    compare.buttons["unstructured"].click()
    assert state.wait_idle(120)
    assert state.error == ""
    s, u = state.jobs.schedules, state.jobs.unstructured
    assert len(s["iterative_steps"]) == 2
    assert format_percent(s["one_shot"]) in compare.texts["schedules"]
    assert format_percent(s["iterative"]) in compare.texts["schedules"]
    assert session.pruned[group]  # on copies: the plan stays
    assert u["params"] == u["unstructured_nonzero_params"]
    assert u["filter_speedup"] == pytest.approx(u["dense_latency_ms"] / u["filter_latency_ms"])
    assert format_percent(u["unstructured_accuracy"]) in compare.texts["unstructured"]


def test_finetune_cancel_then_run(app: ExplorerApp) -> None:
    state, session = app.state, app.state.session
    group = session.groups[2].name
    app.views["controls"].sliders[group].value = 0.5
    assert state.wait_idle(30)
    before = state.metrics["accuracy"]
    generation = session.generation
    weights = {k: v.clone() for k, v in session.model.state_dict().items()}
    finetune = app.views["finetune"]

    def cancel_after_three_steps(change: dict[str, Any]) -> None:
        if len(change["new"].get("loss_step", [])) >= 3:
            state.cancel()

    state.jobs.observe(cancel_after_three_steps, names="finetune_curve")
    try:
        state.jobs.run_finetune(200, eval_every=50)
        assert state.wait_idle(60)
    finally:
        state.jobs.unobserve(cancel_after_three_steps, names="finetune_curve")
    assert state.activity.job_status["finetune"]["state"] == "cancelled"
    assert session.generation == generation  # nothing adopted
    assert all(torch.equal(v, weights[k]) for k, v in session.model.state_dict().items())
    assert not state.jobs.finetune

    finetune.inputs["steps"].value = 30
    finetune.run_button.click()
    assert state.wait_idle(60)
    assert state.activity.job_status["finetune"]["state"] == "done", state.error
    result = state.jobs.finetune
    # the live curve: every training step, and the validation points
    loss = finetune.sources["loss"].data
    assert loss["step"] == list(range(1, 31))
    assert all(v > 0 for v in loss["loss"])
    acc = finetune.sources["accuracy"].data
    assert acc["step"] == [s for s, _ in result["curve"]]
    assert acc["accuracy"][0] == pytest.approx(100 * before)
    assert acc["accuracy"][-1] == pytest.approx(100 * result["accuracy_after"])
    # the session goes on with the new weights, and evaluates its plan with them
    assert not all(torch.equal(v, weights[k]) for k, v in session.model.state_dict().items())
    assert session.generation > generation
    assert state.metrics["accuracy"] == pytest.approx(session.evaluate().accuracy)
    assert state.metrics["accuracy"] == pytest.approx(result["accuracy_after"])
    # the trajectory: a star after fine-tuning, joined to the same plan before it
    trajectory = app.views["trajectory"]
    data = trajectory.source.data
    stars = [i for i, m in enumerate(data["marker"]) if m == "star"]
    assert len(stars) == 1
    assert data["status"][stars[0]] == "after fine-tuning"
    assert data["accuracy"][stars[0]] == pytest.approx(100 * result["accuracy_after"])
    assert "after fine-tuning (30 steps)" in data["label"][stars[0]]
    links = trajectory.links.data
    assert links["before"] == pytest.approx([100 * before])
    assert links["after"] == pytest.approx([100 * result["accuracy_after"]])
    assert format_percent(result["accuracy_after"]) in finetune.text


class _Evil:
    """Unpickling this runs a shell command: what a malicious checkpoint does."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_oversized_or_malicious_uploads_change_nothing(app: ExplorerApp, tmp_path: Path) -> None:
    state = app.state
    session, views = state.session, dict(app.views)
    generation = session.generation
    # announced bigger than the limit: refused before anything is written or read
    _upload(app, "huge.pt", b"\0" * 64, size=250 * 2**20)
    assert "huge.pt is 250.0 MB, more than the upload limit of 200 MB" in state.error
    assert app.error_view.layout.display != "none"
    state.clear_error()
    state.loader.max_upload_bytes = 1000
    try:
        _upload(app, "big.pth", b"\0" * 2000)
        assert "more than the upload limit" in state.error
    finally:
        state.loader.max_upload_bytes = 200 * 2**20
    state.clear_error()
    _upload(app, "notes.txt", b"hello")
    assert "not a PyTorch checkpoint" in state.error
    # a pickle that runs code when loaded unsafely
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"state_dict": _Evil(marker)}, evil)
    _upload(app, "evil.pt", evil.read_bytes())
    assert "refused" in state.error
    assert "evil.pt" in app.error_view.html
    assert "pruning-explorer-upload" not in state.error  # the user's file is named, not the temporary copy
    assert not marker.exists()
    assert state.activity.job_status["upload"]["state"] == "failed"
    # tensors for another architecture
    wrong = tmp_path / "wrong.pt"
    torch.save({"conv.weight": torch.zeros(3, 3)}, wrong)
    _upload(app, "wrong.pt", wrong.read_bytes())
    assert "does not match" in state.error
    assert "wrong.pt" in state.error
    # weights that load but cannot be explored: the current session is attached again
    broken = {k: v.clone() for k, v in session.model.state_dict().items()}
    broken["features.3.weight"][0, 0, 0, 0] = float("nan")
    torch.save(broken, tmp_path / "nan.pt")
    _upload(app, "nan.pt", (tmp_path / "nan.pt").read_bytes())
    assert "non-finite weights" in state.error
    assert state.status == "ready"
    # nothing changed, and the app still works
    assert state.session is session
    assert session.generation == generation
    assert session.unchanged()
    assert app.views == views
    assert state.session_version == 0
    group = session.groups[0].name
    app.views["controls"].sliders[group].value = 0.25
    assert state.wait_idle(30)
    assert session.ratio(group) == 0.25


def test_uploaded_checkpoint_replaces_the_session(app: ExplorerApp, tmp_path: Path) -> None:
    state = app.state
    old = state.session
    weights = {k: v.clone() for k, v in old.model.state_dict().items()}
    weights["features.0.weight"] *= -1  # other weights: another accuracy
    path = tmp_path / "mine.pth"
    torch.save({"model_state_dict": weights}, path)
    app.panels.selected_index = 2  # the upload's tab
    built = app.views.built  # the views in the tabs are built when first opened (or asked for)
    observers = len(_observers(state))
    controls = app.views["controls"]
    _upload(app, "mine.pth", path.read_bytes())
    assert state.error == ""
    assert state.activity.job_status["upload"]["state"] == "done"
    new = state.session
    assert new is not old
    assert torch.equal(new.model.get_submodule("features.0").weight, weights["features.0.weight"])
    assert state.session_version == 1
    assert state.baseline["accuracy"] == pytest.approx(new.baseline().accuracy)
    assert state.baseline["accuracy"] != pytest.approx(old.baseline().accuracy)
    assert [p["label"] for p in state.trajectory] == ["original"]
    assert app.views["controls"] is not controls  # views built again for the new session
    for name in built:  # the same ones as before
        app.views[name]
    assert len(_observers(state)) == observers  # and the old ones no longer listen
    assert "mine.pth" in app.views["upload"].text
    assert app.panels.selected_index == 2  # still on the upload's tab
    group = new.groups[1].name
    app.views["controls"].sliders[group].value = 0.5
    assert state.wait_idle(30)
    assert new.ratio(group) == 0.5
    assert old.pruned == {}
    assert state.metrics["accuracy"] == pytest.approx(new.evaluate().accuracy)
    gone = weakref.ref(old)
    del old
    assert_freed(gone)


def test_switching_to_a_model_whose_data_is_missing_keeps_the_current_one(app: ExplorerApp) -> None:
    state = app.state
    old, version = state.session, state.session_version
    view = app.views["model"]
    view.choice.value = "vgg16_bn_cifar"  # offline: no CIFAR-10 test set on this machine
    view.load_button.click()
    assert state.wait_idle(120)
    assert state.activity.job_status["model"]["state"] == "failed"
    assert state.error
    assert app.error_view.layout.display != "none"
    assert state.session is old
    assert state.session_version == version
    state.clear_error()


def test_switching_model_builds_a_new_session(app: ExplorerApp) -> None:
    state = app.state
    old, version = state.session, state.session_version
    view = app.views["model"]
    view.choice.value = "digits_cnn"
    view.load_button.click()
    assert state.wait_idle(120)
    assert state.activity.job_status["model"]["state"] == "done"
    assert state.session is not old
    assert state.session.model_name == "digits_cnn"
    assert state.session_version == version + 1
    assert state.baseline["accuracy"] == pytest.approx(state.session.baseline().accuracy)
    gone = weakref.ref(old)
    del old
    assert_freed(gone)


def test_tile_grids_have_no_pixel_axes_and_say_what_the_tiles_are(app: ExplorerApp) -> None:
    from bokeh.models import Legend, Title

    state, session = app.state, app.state.session
    group = session.groups[0].name
    state.toggle_filter(group, 3)
    assert state.wait_idle(30)
    view, g = app.views["gallery"], state.gallery
    tiles = view._weights_tiles.data
    assert tiles["number"] == [str(c) for c in g.channel]  # each tile carries its channel number
    side = g.weight_tile
    for x, y, lx, ly in zip(tiles["x"], tiles["y"], tiles["lx"], tiles["ly"], strict=True):
        assert x - side / 2 < lx < x  # the number sits in its own tile's top-left corner
        assert y < ly < y + side / 2
    for fig in (view._weights_fig, view._maps_fig):
        assert all(not axis.visible for axis in fig.axis)
        assert all(not axis.axis_label for axis in fig.axis)
        (legend,) = [m for m in fig.below if isinstance(m, Legend)]  # outside the tiles
        assert not [m for m in fig.center if isinstance(m, Legend)]
        assert [item.label.value for item in legend.items] == [
            "kept (grey frame)",
            "pruned (dark, red frame)",
        ]
        assert next(m.text for m in fig.below if isinstance(m, Title)).startswith("One tile per")
    assert view._weights_tiles.data["status"][3] == "pruned"
    sensitivity = app.views["sensitivity"].figure
    assert not [m for m in sensitivity.center if isinstance(m, Legend)]  # the layer legend sits beside it
    assert [m for m in sensitivity.right if isinstance(m, Legend)]
