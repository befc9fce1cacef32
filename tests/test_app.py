"""The app without a browser: set widget values in Python, then check state, labels and plot sources agree."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import ipywidgets as w
import pytest
from jupyter_bokeh import BokehModel

from explorer.app import MODEL_ENV, ExplorerApp, _parse_explore, build_app
from explorer.session import PruningSession
from explorer.ui.format import format_accuracy, format_count, format_percent, format_points
from explorer.ui.views.plots import CURRENT, KEPT, PRUNED

pytestmark = pytest.mark.filterwarnings("ignore:the embedded weights")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def session() -> PruningSession:
    return PruningSession("digits_cnn")


@pytest.fixture
def app(session: PruningSession):
    session.reset()
    built = build_app(session=session, background=False, debounce=0.05)
    assert isinstance(built, ExplorerApp)
    assert built.state.wait_idle(30)
    yield built
    built.state.close()


def test_build_app_shows_loading_then_fills_in() -> None:
    start = time.perf_counter()
    app = build_app()  # digits_cnn, built in a thread
    returned = time.perf_counter() - start
    assert isinstance(app, ExplorerApp)
    assert app.children
    assert app.wait_ready(120)
    total = time.perf_counter() - start
    print(f"\nbuild_app(): returned in {returned:.3f} s, ready after {total:.2f} s")
    assert app.state.status == "ready", app.state.error
    assert set(app.views) >= {
        "summary",
        "metrics",
        "controls",
        "filters",
        "overview",
        "trajectory",
        "gallery",
    }
    assert "digits_cnn" in app.views["summary"].text
    app.state.close()


def test_a_script_that_builds_the_app_and_exits_exits_cleanly() -> None:
    # the session is still being built, inside torch, when the interpreter exits: that thread (and the
    # state's) must be stopped first, or the process aborts ("terminate called without an active exception")
    env = {k: v for k, v in os.environ.items() if k != MODEL_ENV}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, "-c", "import explorer; explorer.build_app()"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "terminate called" not in result.stderr
    assert result.returncode == 0, result.stderr[-2000:]


def test_slider_updates_state_labels_and_plots(app: ExplorerApp, session: PruningSession) -> None:
    state = app.state
    group = session.groups[1].name
    state.selected_group = group
    assert state.wait_idle(30)
    points_before = len(app.views["trajectory"].source.data["macs"])
    app.views["controls"].sliders[group].value = 0.5
    assert state.wait_idle(30)

    # 1. the state's metrics are the session's exact metrics for that plan
    want = session.evaluate()
    assert session.ratio(group) == 0.5
    assert state.metrics["final"]
    assert state.metrics["accuracy"] == pytest.approx(want.accuracy)
    assert state.metrics["macs"] == want.macs

    # 2. the cards show those values
    base = session.baseline()
    texts = app.views["metrics"].texts
    assert texts["accuracy"] == format_accuracy(want.accuracy)
    assert texts["change"] == format_points(want.accuracy - base.accuracy)
    assert texts["macs"] == format_count(want.macs)
    assert texts["params"] == format_count(want.params)
    assert format_percent(want.macs / base.macs) in app.views["metrics"].children[0].children[2].value

    # 3. the plots changed: pruned bars greyed in (a), a new highlighted point in (d), kept channels in (c)
    data = app.views["filters"].source.data
    pruned = set(session.pruned[group])
    assert len(pruned) == 16
    assert [c for c, col in zip(data["channel"], data["color"], strict=True) if col == PRUNED] == sorted(
        pruned, key=data["channel"].index
    )
    assert data["color"][:16] == [PRUNED] * 16
    assert data["color"][16:] == [KEPT] * 16
    trajectory = app.views["trajectory"].source.data
    assert len(trajectory["macs"]) == points_before + 1
    assert trajectory["color"][-1] == CURRENT
    assert trajectory["macs"][-1] == pytest.approx(want.macs / 1e6)
    overview = app.views["overview"].source.data
    assert overview["kept"][1] == 16
    per_layer = session.layer_macs()
    assert overview["macs"] == [per_layer[g.name] for g in session.groups]
    assert overview["share"] == pytest.approx([100 * per_layer[g.name] / want.macs for g in session.groups])


def test_criterion_dropdown_updates_plot_a(app: ExplorerApp, session: PruningSession) -> None:
    state = app.state
    app.views["controls"].criterion_dropdown.value = "fpgm"
    assert state.wait_idle(30)
    group = state.selected_group
    fpgm = session.scores("fpgm", groups=[group])[group]
    data = app.views["filters"].source.data
    assert data["score"] == pytest.approx(sorted(fpgm.tolist()))
    bars, _scatter = app.views["filters"].figures
    assert "Similarity to others (FPGM)" in bars.title.text  # plain words, not the code name
    assert "Similarity to others (FPGM)" in bars.yaxis.axis_label
    assert "fpgm" not in bars.title.text
    assert "Spearman ρ" in _scatter.title.text


def _browser_selects(view: w.Widget, source: Any, rows: list[int]) -> None:
    """Deliver a tap the way the browser does: a jsevent message to the view's BokehModel."""
    (model,) = [c for c in view.children if isinstance(c, BokehModel)]
    content = {"event": "jsevent", "kind": "ModelChanged", "model": {"id": source.selected.id}}
    model._sync_model(model, {**content, "attr": "indices", "new": rows}, [])


def test_clicking_a_bar_toggles_that_filter(app: ExplorerApp, session: PruningSession) -> None:
    state = app.state
    source = app.views["filters"].source
    channel = source.data["channel"][2]
    # jupyter_bokeh runs the python callback twice for one browser change: the filter must toggle once
    _browser_selects(app.views["filters"], source, [2])
    assert state.wait_idle(30)
    assert session.pruned[state.selected_group] == (channel,)
    assert source.data["color"][2] == PRUNED
    assert source.selected.indices == []  # ready for the next click on the same bar
    assert f"filter {channel} " in app.views["why"].text
    source.selected.indices = [3]  # a selection made from python works too
    assert state.wait_idle(30)
    assert len(session.pruned[state.selected_group]) == 2
    state.undo()
    state.undo()
    assert state.wait_idle(30)
    assert session.pruned == {}
    assert PRUNED not in app.views["filters"].source.data["color"]


def test_clicking_a_layer_in_the_overview_selects_it(app: ExplorerApp, session: PruningSession) -> None:
    overview = app.views["overview"]
    _browser_selects(overview, overview.source, [2])
    assert app.state.wait_idle(30)
    assert app.state.selected_group == session.groups[2].name
    assert app.views["filters"].source.data["channel"] == app.state.scores["order"]
    assert len(app.views["filters"].source.data["channel"]) == session.groups[2].num_channels


def test_global_slider_moves_layer_sliders(app: ExplorerApp, session: PruningSession) -> None:
    app.views["controls"].global_slider.value = 0.4
    assert app.state.wait_idle(30)
    for name, slider in app.views["controls"].sliders.items():
        # sliders move in steps of 0.05: they show the nearest step to the global plan's exact ratio
        assert abs(slider.value - session.ratio(name)) <= 0.025 + 1e-9
    assert any(session.pruned.values())


def test_snapped_slider_echo_keeps_hand_picked_filters(app: ExplorerApp, session: PruningSession) -> None:
    state = app.state
    group = session.groups[0].name
    state.toggle_filter(group, 7)
    assert state.wait_idle(30)
    slider = app.views["controls"].sliders[group]
    assert slider.value == pytest.approx(0.05)  # 1/16 = 0.0625, shown on the grid
    slider.value = 0.05 + 1e-9  # the browser sends back its snapped position
    assert state.wait_idle(30)
    assert session.pruned == {group: (7,)}
    slider.value = 0.25  # a real move
    assert state.wait_idle(30)
    assert len(session.pruned[group]) == 4


def test_a_late_snapped_echo_of_an_older_plan_is_not_a_move(
    app: ExplorerApp, session: PruningSession
) -> None:
    """A busy page sends back its snap of an off-grid ratio after newer ratios were published (seen in
    Chromium on ResNet-20: the global slider's plan lost a layer to the echo of the previous global plan)."""
    state = app.state
    group = session.groups[0].name
    state.toggle_filter(group, 7)  # 1/16 = 0.0625: off the slider's grid (snapped to 0.05)
    assert state.wait_idle(30)
    state.toggle_filter(group, 3)  # 2/16 = 0.125: off-grid too, published after the first
    assert state.wait_idle(30)
    slider = app.views["controls"].sliders[group]
    slider.value = 0.05 + 1e-9  # the late snap of the first ratio
    assert state.wait_idle(30)
    assert sorted(session.pruned[group]) == [3, 7]
    slider.value = 0.25  # a real move is still one
    assert state.wait_idle(30)
    assert len(session.pruned[group]) == 4


def test_errors_show_in_the_red_box(app: ExplorerApp, session: PruningSession) -> None:
    state = app.state
    state.toggle_filter(state.selected_group, 999)
    assert state.wait_idle(30)
    assert state.error
    assert "999" in state.error
    assert state.error in app.error_view.html.replace("&#x27;", "'")
    assert app.error_view.layout.display != "none"
    state.clear_error()
    assert app.error_view.layout.display == "none"


def test_a_preheated_voila_kernel_builds_the_whole_app_before_the_cell_ends(monkeypatch) -> None:
    """Voilà renders a preheated kernel's page ahead of the visit; widgets still being created when the
    visitor's page fetches them went missing ("widget model not found" in Chromium, a blank app)."""
    created = []
    monkeypatch.setattr(ExplorerApp, "start", lambda self, builder, background: created.append(background))
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    build_app()
    monkeypatch.setenv("VOILA_PREHEAT", "False")  # what Voilà sets in a kernel started for one visit
    build_app()
    monkeypatch.delenv("VOILA_PREHEAT")
    build_app()
    build_app(background=False)
    assert created == [False, True, True, False]


def test_failing_session_builder_shows_the_error() -> None:
    app = build_app("no_such_model", background=False)
    assert isinstance(app, ExplorerApp)
    assert app.wait_ready(5)
    assert app.state.status == "failed"
    assert "no_such_model" in app.error_view.html
    assert app.error_view.layout.display != "none"

    def broken() -> None:
        raise RuntimeError("the disk is on fire")

    app = ExplorerApp(app.state.__class__())
    app.start(broken, background=False)
    assert "RuntimeError: the disk is on fire" in app.error_view.html


def test_summary_shows_the_untrained_badge() -> None:
    from explorer.ui.state import ExplorerState
    from explorer.ui.views import SummaryView

    state = ExplorerState()
    view = SummaryView(state)
    summary = {"model": "m", "dataset": "d", "classes": 3, "val_samples": 9, "macs": 1e6, "params": 2e3}
    state.baseline = {"accuracy": 0.5}
    state.summary = {
        **summary,
        "groups": 1,
        "trained": False,
        "refused_groups": {"fc": "it is the classifier"},
    }
    assert "untrained" in view.text
    assert "1.00 M" in view.text
    state.summary = {**summary, "groups": 1, "trained": True, "refused_groups": {}}
    assert "untrained" not in view.text
    state.close()


def test_model_name_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer.app import MODEL_ENV

    monkeypatch.setenv(MODEL_ENV, "model_from_env")
    app = build_app(background=False)
    assert "model_from_env" in app.error_view.html
    app.state.close()


def test_voila_command_and_notebook(tmp_path: Path) -> None:
    import nbformat

    from explorer.launch_options import LaunchOptions
    from explorer.serve import notebook_path, voila_command, voila_environment, write_notebook

    command = voila_command("nb.ipynb", port=9999, open_browser=False)
    assert command[1:4] == ["-m", "voila", "nb.ipynb"]
    assert "--no-browser" in command
    assert "--port=9999" in command
    assert "--MappingKernelManager.cull_idle_timeout=600" in command
    assert "--no-browser" not in voila_command("nb.ipynb")
    env = voila_environment(LaunchOptions("resnet20_cifar10", data="cifar10_csv:c.csv", samples=100))
    assert env["PRUNING_EXPLORER_MODEL"] == "resnet20_cifar10"
    assert env["PRUNING_EXPLORER_DATA"] == "cifar10_csv:c.csv"
    assert env["PRUNING_EXPLORER_SAMPLES"] == "100"
    assert "--preheat_kernel=True" in command
    assert "disable_check_xsrf" in " ".join(command)
    assert env["BOKEH_RESOURCES"] == "inline"
    assert notebook_path() == REPO / "notebooks" / "explorer.ipynb"
    # the committed notebook is exactly what serve.py writes when the repository is not there
    fresh = write_notebook(tmp_path / "explorer.ipynb")
    assert nbformat.read(fresh, as_version=4) == nbformat.read(notebook_path(), as_version=4)


def test_magic_arguments() -> None:
    assert _parse_explore("") == {"model": None, "data": None}
    assert _parse_explore("resnet20_cifar10 --data cifar10 --samples 200") == {
        "model": "resnet20_cifar10",
        "data": "cifar10",
        "num_samples": 200,
    }


def test_magic_registers() -> None:
    from explorer.app import register_magic

    class FakeShell:
        def register_magic_function(self, func, magic_kind: str, magic_name: str) -> None:
            self.registered = (func, magic_kind, magic_name)

    shell = FakeShell()
    register_magic(shell)
    assert shell.registered[1:] == ("line", "explore")


def test_weights_bar_names_the_live_weights_and_goes_back(app: ExplorerApp, session: PruningSession) -> None:
    state, bar = app.state, app.views["weights"]
    assert "<b>original</b>" in bar.text
    assert bar.warning == ""
    group = session.groups[2].name
    app.views["controls"].sliders[group].value = 0.5
    assert state.wait_idle(30)
    state.jobs.run_finetune(20)
    assert state.wait_idle(120)
    label = session.weights.label
    assert label.startswith("fine-tuned under plan #")
    assert f"<b>{label}</b>" in bar.text
    app.views["controls"].sliders[group].value = 0.25  # puts back filters the weights were trained without
    assert state.wait_idle(30)
    assert "trained without" in bar.warning
    bar.buttons["undo"].click()
    assert state.wait_idle(30)
    assert bar.warning == ""
    bar.buttons["undo"].click()  # the fine-tuning itself
    assert state.wait_idle(30)
    assert "<b>original</b>" in bar.text
    bar.buttons["redo"].click()
    assert state.wait_idle(30)
    assert f"<b>{label}</b>" in bar.text
    bar.buttons["reset"].click()  # back to the original network
    assert state.wait_idle(30)
    assert "<b>original</b>" in bar.text
    assert session.pruned == {}
    base = session.baseline()
    assert app.views["metrics"].texts["accuracy"] == format_accuracy(base.accuracy)
    assert app.views["metrics"].texts["change"] == format_points(0.0)


def test_precision_is_shown_and_fp32_is_one_click_away(app: ExplorerApp, session: PruningSession) -> None:
    state, bar = app.state, app.views["weights"]
    start = session.precision
    assert bar.precision.value == start
    try:
        bar.precision.value = "fp32"
        assert state.wait_idle(60)
        assert session.precision == "fp32"
        base = session.baseline()  # measured again in fp32: the card shows that one
        change_card = app.views["metrics"].children[0].children[1].value
        assert f"original: {format_percent(base.accuracy)}" in change_card
        assert app.views["metrics"].texts["accuracy"] == format_accuracy(session.evaluate().accuracy)
    finally:
        bar.precision.value = start
        assert state.wait_idle(60)
    assert session.precision == start


def test_the_app_in_korean_and_the_language_switch(session: PruningSession) -> None:
    from explorer.app import _observers

    session.reset()
    app = build_app(session=session, background=False, debounce=0.05, lang="ko")
    assert isinstance(app, ExplorerApp)
    try:
        state = app.state
        assert state.wait_idle(30)
        assert "프루닝 탐색기" in app.header.children[0].value
        assert app.panels.titles == ("민감도 분석과 계획", "미세 조정과 내보내기", "모델과 가중치")
        assert "Top-1 정확도" in app.views["metrics"].children[0].children[0].value
        assert "원래 가중치" in app.views["weights"].text
        assert app.views["weights"].buttons["reset"].description == "원래 네트워크로 돌아가기"
        state.jobs.run_sensitivity(ratios=(0.5,))
        assert state.wait_idle(60)
        assert "기준 평가" in state.activity.job_status["sensitivity"]["text"]
        observers = len(_observers(state))
        controls = app.views["controls"]
        app.header.language.value = "en"  # the switch in the page
        assert state.lang == "en"
        assert app.views["controls"] is not controls  # the views are built again, in English
        assert len(_observers(state)) == observers  # and the Korean ones no longer listen
        assert app.panels.titles == ("Sensitivity & plans", "Fine-tune & export", "Models & weights")
        assert "Live weights: <b>original</b>" in app.views["weights"].text
        assert "프루닝 탐색기" not in app.header.children[0].value
        state.jobs.run_sensitivity(ratios=(0.5, 0.7))
        assert state.wait_idle(60)
        assert "evaluations with" in state.activity.job_status["sensitivity"]["text"]
    finally:
        app.state.close()


def test_language_from_the_launch_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer.cli import build_parser
    from explorer.launch_options import LANG_ENV, LaunchOptions
    from explorer.serve import voila_environment

    assert build_parser().parse_args(["app", "--lang", "ko"]).lang == "ko"
    assert build_parser().parse_args(["app"]).lang is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["app", "--lang", "fr"])
    assert voila_environment(LaunchOptions(lang="ko"))[LANG_ENV] == "ko"
    assert LaunchOptions.from_env({LANG_ENV: "ko"}).lang == "ko"
    assert LaunchOptions.from_env({}).lang == "en"
    monkeypatch.setenv(LANG_ENV, "ko")
    monkeypatch.setenv(MODEL_ENV, "no_such_model")  # fails at once: only the language matters here
    app = build_app(background=False)
    assert app.state.lang == "ko"
    assert "오류:" in app.error_view.html
    app.state.close()
    assert isinstance(build_app(lang="fr"), w.VBox)  # an unknown language: a message, not a crash


def _page_texts(app: ExplorerApp) -> list[str]:
    """Every text the page shows or shows on hover: widget values, descriptions, tooltips, options, and the
    plots' titles, axis labels and hover data."""
    from bokeh.models import Axis, ColumnDataSource, HoverTool, Title

    texts, todo = [], [app]
    while todo:
        widget = todo.pop()
        todo.extend(getattr(widget, "children", ()))
        for name in ("value", "description", "tooltip", "placeholder"):
            value = getattr(widget, name, None)
            if isinstance(value, str):
                texts.append(value)
        texts += [str(o[0] if isinstance(o, tuple) else o) for o in getattr(widget, "options", ())]
        if isinstance(widget, BokehModel):
            for model in widget._model.references():
                if isinstance(model, Title | Axis):
                    texts.append(str(model.text if isinstance(model, Title) else model.axis_label))
                if isinstance(model, HoverTool):
                    texts += [f"{a} {b}" for a, b in model.tooltips]
                if isinstance(model, ColumnDataSource):
                    texts += [str(v) for k, col in model.data.items() if k.startswith("f_") for v in col]
    return texts


def test_plain_words_no_nan_no_server_flags(app: ExplorerApp, session: PruningSession) -> None:
    state = app.state
    controls = app.views["controls"]
    assert ("Similarity to others (FPGM)", "fpgm") in controls.criterion_dropdown.options
    assert f"in the code: {state.criterion}" in controls.criterion_dropdown.tooltip  # the code name, on hover
    assert controls.labels[session.groups[0].name] == "Conv layer 1 (16 filters)"
    row = next(c for c in controls.children if "pe-layer-list" in c._dom_classes).children[0]
    assert f"title='in the code: {session.groups[0].name}" in row.children[0].value
    for card, hint in (("accuracy", "validation images"), ("macs", "Multiply-accumulate")):
        value = app.views["metrics"]._cards[card].value
        assert "title='" in value
        assert hint in value  # explained on hover
    state.criterion = "taylor"  # a criterion scored on data: the others stay "not computed" meanwhile
    assert state.wait_idle(60)
    app.views["filters"]._x.value = "oracle"  # not computed on this layer yet...
    assert state.wait_idle(120)
    texts = " ".join(_page_texts(app))
    for word in ("NaN", "nan ", "unitless", "n/a", "tornado", "--Voila", "root=", "download=True"):
        assert word not in texts, word
    assert "Filter size (L1)" in texts  # criteria and layers by their plain names
    state.criterion = "l1"
    assert state.wait_idle(30)


def test_every_plot_hides_its_toolbar_until_hover(app: ExplorerApp) -> None:
    from bokeh.models import Toolbar

    toolbars = [
        model
        for view in app.views.values()
        for widget in view.children
        if isinstance(widget, BokehModel)
        for model in widget._model.references()
        if isinstance(model, Toolbar)
    ]
    assert len(toolbars) >= 8
    assert all(toolbar.autohide for toolbar in toolbars)


def test_glossary_drawer(app: ExplorerApp) -> None:
    glossary = app.glossary
    assert not glossary.is_open
    assert glossary.button in app.header.children[1].children
    glossary.button.value = True
    assert glossary.is_open
    for term in ("MACs", "Parameters", "95 % interval", "Sensitivity", "Coupled layers"):
        assert f"<b>{term}</b>" in glossary.text
    app.state.lang = "ko"
    assert "<b>연산량(MACs)</b>" in glossary.text
    app.state.lang = "en"
    glossary.button.value = False
    assert not glossary.is_open


def test_views_are_widgets(app: ExplorerApp) -> None:
    for view in app.views.values():
        assert isinstance(view, (w.VBox, w.HBox))


@pytest.mark.slow
def test_notebook_runs_headless() -> None:
    import nbclient
    import nbformat

    nb = nbformat.read(REPO / "notebooks" / "explorer.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    # then check, in the same kernel, that the app shown by the notebook really loads
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "from explorer.app import current_app\n"
            "app = current_app()\n"
            "assert app.wait_ready(100)\n"
            "assert app.state.status == 'ready', app.state.error\n"
            "assert app.state.wait_idle(30)"
        )
    )
    env_before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env_before) if p)
    try:
        client = nbclient.NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
        )
        client.execute()
    finally:
        if env_before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = env_before
    outputs = [o for c in code for o in c.outputs]
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
