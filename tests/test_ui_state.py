"""ExplorerState without any widget: debounced ratios, live metrics, scores, toggles, undo, errors, jobs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from explorer import criteria
from explorer.plan import count_to_prune
from explorer.session import PruningSession
from explorer.ui.format import format_accuracy, format_count, format_points
from explorer.ui.state import ExplorerState, Gallery

pytestmark = pytest.mark.filterwarnings("ignore:the embedded weights")


@pytest.fixture(scope="module")
def session() -> PruningSession:
    return PruningSession("digits_cnn")


@pytest.fixture
def state(session: PruningSession):
    session.reset()
    st = ExplorerState(session, debounce=0.05)
    assert st.wait_idle(30)
    yield st
    st.close()


def assert_metrics_exact(st: ExplorerState, session: PruningSession) -> None:
    want = session.evaluate()
    got = st.metrics
    assert got["final"]
    assert got["generation"] == session.generation
    assert got["accuracy"] == pytest.approx(want.accuracy)
    assert got["loss"] == pytest.approx(want.loss)
    assert (got["macs"], got["params"]) == (want.macs, want.params)
    assert (st.cost["macs"], st.cost["params"]) == (want.macs, want.params)


def test_attach_publishes_baseline(state: ExplorerState, session: PruningSession) -> None:
    assert state.status == "ready"
    assert [g["name"] for g in state.groups] == [g.name for g in session.groups]
    assert state.baseline["accuracy"] == pytest.approx(session.baseline().accuracy)
    assert state.metrics["delta"] == 0.0
    assert state.summary["refused_groups"]  # the classifier is refused, with a reason
    assert len(state.trajectory) == 1
    assert state.trajectory[0]["current"]
    assert state.selected_group == session.groups[0].name
    assert {c["name"] for c in state.criteria} == set(criteria.list_criteria())


def test_slider_storm_applies_only_the_newest_value(state: ExplorerState, session: PruningSession) -> None:
    group = session.groups[1].name
    start = session.generation
    for ratio in (0.05, 0.1, 0.3, 0.25, 0.5):  # merged events: only the current value matters
        state.set_ratio(group, ratio)
    assert state.wait_idle(30)
    assert session.ratio(group) == 0.5
    assert session.generation == start + 1  # one plan change, not five
    assert len(session.pruned[group]) == count_to_prune(session.groups[1].num_channels, 0.5)
    assert_metrics_exact(state, session)
    assert state.metrics["delta"] == pytest.approx(state.metrics["accuracy"] - state.baseline["accuracy"])
    assert state.ratios[group] == 0.5


def test_a_slider_move_computes_the_layer_cuts_once(
    state: ExplorerState, session: PruningSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    from explorer import exploration as session_module  # where the session computes layer cuts
    from explorer import inspection

    calls = []
    for module in (inspection, session_module):  # the snapshot's, and session.cost()'s, layer_macs()'s...
        real = module.compute_layer_cuts
        monkeypatch.setattr(module, "compute_layer_cuts", lambda *a, real=real: calls.append(a) or real(*a))
    state.set_ratio(session.groups[1].name, 0.5)
    assert state.wait_idle(30)
    assert len(calls) == 1  # for the published cost and layers and for the evaluation alike
    assert_metrics_exact(state, session)


def test_trajectory_grows_and_undo_highlights_the_old_point(
    state: ExplorerState, session: PruningSession
) -> None:
    group = session.groups[0].name
    state.set_ratio(group, 0.25)
    assert state.wait_idle(30)
    state.set_ratio(group, 0.5)
    assert state.wait_idle(30)
    assert len(state.trajectory) == 3
    current = [p for p in state.trajectory if p["current"]]
    assert len(current) == 1
    assert current[0]["macs"] == session.cost().macs
    state.undo()
    assert state.wait_idle(30)
    assert session.ratio(group) == 0.25
    assert len(state.trajectory) == 3  # a visited plan is not added twice
    assert next(p for p in state.trajectory if p["current"])["macs"] == session.cost().macs
    assert_metrics_exact(state, session)


def test_criterion_switch_reranks_and_rescores(state: ExplorerState, session: PruningSession) -> None:
    group = session.groups[0].name
    state.set_ratio(group, 0.5)
    assert state.wait_idle(30)
    state.criterion = "fpgm"
    assert state.wait_idle(30)
    fpgm = session.scores("fpgm", groups=[group])[group]
    assert state.scores["criterion"] == "fpgm"
    assert state.scores["values"]["fpgm"] == pytest.approx(fpgm.tolist())
    assert [float(fpgm[i]) for i in state.scores["order"]] == sorted(fpgm.tolist())
    half = count_to_prune(fpgm.numel(), 0.5)
    assert session.pruned[group] == tuple(sorted(np.argsort(fpgm.numpy(), kind="stable")[:half].tolist()))
    assert state.scores["pruned"] == [i in session.pruned[group] for i in range(fpgm.numel())]
    assert_metrics_exact(state, session)
    x, y = state.compare
    assert state.scores["rho"] == pytest.approx(
        criteria.spearman(state.scores["values"][x], state.scores["values"][y]), nan_ok=True
    )


def test_toggle_filter_and_undo(state: ExplorerState, session: PruningSession) -> None:
    group = session.groups[1].name
    state.toggle_filter(group, 3)
    assert state.wait_idle(30)
    assert session.pruned[group] == (3,)
    assert state.pruned[group] == [3]
    assert state.layers["kept"][1] == session.groups[1].num_channels - 1
    assert_metrics_exact(state, session)
    state.toggle_filter(group, 3)
    state.toggle_filter(group, 5)
    assert state.wait_idle(30)
    assert session.pruned[group] == (5,)
    state.undo()
    assert state.wait_idle(30)
    assert session.pruned.get(group, ()) == ()
    state.reset()
    assert state.wait_idle(30)
    assert session.pruned == {}


def test_global_ratio(state: ExplorerState, session: PruningSession) -> None:
    state.apply_global(0.3)
    assert state.wait_idle(30)
    removed = sum(len(v) for v in session.pruned.values())
    assert removed == count_to_prune(sum(g.num_channels for g in session.groups), 0.3)
    assert state.ratios == {g.name: session.ratio(g.name) for g in session.groups}
    assert_metrics_exact(state, session)
    state.reset()
    assert state.wait_idle(30)
    assert state.global_ratio == 0.0
    assert session.pruned == {}


def test_bad_ratio_is_reported_not_raised(state: ExplorerState, session: PruningSession) -> None:
    group = session.groups[0].name
    state.set_ratio(group, 1.5)
    assert state.wait_idle(30)
    assert "outside [0, 1)" in state.error
    assert state.ratios[group] == session.ratio(group) == 0.0  # the slider goes back
    state.set_ratio(group, 0.25)  # the next good change clears the error
    assert state.wait_idle(30)
    assert state.error == ""


def test_why_panel_fills_in_the_l1_formula(state: ExplorerState, session: PruningSession) -> None:
    group = session.groups[1].name
    state.selected_group = group
    state.set_ratio(group, 0.25)
    assert state.wait_idle(30)
    weight = session.model.get_submodule(group).weight
    l1 = criteria.l1_scores(weight)
    why = state.why
    channel = why["channel"]
    assert channel == state.scores["order"][0]  # by default: the first filter to be removed
    assert why["kind"] == "sum_abs"
    assert why["n_terms"] == weight[0].numel()
    assert why["terms"] == pytest.approx(weight[channel].reshape(-1).abs()[:6].tolist())
    assert why["layer_value"] == pytest.approx(float(l1[channel]))
    assert why["rank"] == 1
    assert why["pruned_by_ratio"]
    assert why["pruned"]
    state.selected_filter = int(torch.argmax(l1))
    assert state.wait_idle(30)
    assert state.why["rank"] == l1.numel()
    assert not state.why["pruned_by_ratio"]


def test_gallery_tiles_and_darkens_pruned_channels(state: ExplorerState, session: PruningSession) -> None:
    group = session.groups[0].name
    state.toggle_filter(group, 0)
    assert state.wait_idle(30)
    g = state.gallery
    assert isinstance(g, Gallery)
    assert g.group == group
    assert g.weights is not None
    assert g.weights.ndim == 2
    assert g.maps is not None
    assert g.pruned[0]
    assert not any(g.pruned[1:])
    assert len(g.tiles_x) == len(g.channel) == session.groups[0].num_channels
    rgba = g.weights.view("uint8").reshape(*g.weights.shape, 4)
    flipped = rgba[::-1]  # bokeh rows are bottom-up: tile 0 is top-left
    side = g.weight_tile
    assert tuple(flipped[0, 0, :3]) == (200, 40, 40)  # the red frame of a pruned filter
    assert tuple(flipped[0, side, :3]) == (220, 220, 220)


def test_data_criterion_runs_as_a_cancellable_job(state: ExplorerState, session: PruningSession) -> None:
    seen = []
    state.activity.observe(lambda c: seen.append(c["new"]), names="busy")
    original = state.activity.advance

    def cancel_on_first_progress(done: int, total: int) -> None:
        original(done, total)
        state.cancel()

    state.activity.advance = cancel_on_first_progress
    state.criterion = "oracle"
    assert state.wait_idle(60)
    assert seen[:2] == [True, False]
    assert state.criterion == "l1"  # back to the previous criterion
    assert "cancelled" in state.error


def test_latency_measured_on_the_exported_model(state: ExplorerState, session: PruningSession) -> None:
    state.set_ratio(session.groups[2].name, 0.5)
    assert state.wait_idle(30)
    state.measure_latency()
    assert state.wait_idle(60)
    lat = state.latency
    assert lat["generation"] == session.generation
    assert lat["pruned_ms"] > 0
    assert lat["baseline_ms"] > 0
    assert lat["speedup"] == pytest.approx(lat["baseline_ms"] / lat["pruned_ms"])


def test_formatting() -> None:
    assert format_count(1_234_567) == "1.23 M"
    assert format_count(950) == "950"
    assert format_points(-0.024) == "−2.4 pts"
    assert format_points(0.0) == "±0.0 pts"
    assert format_accuracy(0.9712, 0.02, final=False) == "97.1 ± 2.0 %"
    assert format_accuracy(0.9712, 0.0, final=True) == "97.1 %"
    assert format_count(math.nan) == "—"


class _RGBNet(torch.nn.Module):
    """A 3-channel first conv and a hidden linear layer: the gallery's colour and no-image paths."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 6, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(6)
        self.hidden = torch.nn.Linear(6, 8)
        self.out = torch.nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.conv(x))).mean(dim=(2, 3))
        return self.out(torch.relu(self.hidden(x)))


def test_gallery_colour_filters_and_linear_layers() -> None:
    torch.manual_seed(0)
    inputs, labels = torch.randn(40, 3, 8, 8), torch.arange(40) % 4
    session = PruningSession(_RGBNet().eval(), data=(inputs, labels))
    st = ExplorerState(session, debounce=0.05)
    try:
        assert st.wait_idle(30)
        assert st.gallery.rgb
        assert st.gallery.weights is not None
        assert st.gallery.maps.shape == (2 * (8 + 2), 3 * (8 + 2))  # 6 framed 8×8 maps: 2 rows of 3
        assert [g["name"] for g in st.groups] == ["conv", "hidden"]
        st.selected_group = "hidden"
        assert st.wait_idle(30)
        assert st.gallery.group == "hidden"
        assert st.gallery.weights is None
        assert st.scores["group"] == "hidden"
    finally:
        st.close()


def test_session_with_a_plan_is_evaluated_on_attach(session: PruningSession) -> None:
    session.reset()
    group = session.groups[2].name
    session.set_ratio(group, 0.5)
    st = ExplorerState(session, debounce=0.05)
    try:
        assert st.wait_idle(30)
        assert st.ratios[group] == 0.5
        assert_metrics_exact(st, session)
        assert [p["label"] for p in st.trajectory] == ["original", "32 channel(s) pruned"]
    finally:
        st.close()
        session.reset()


def test_weights_label_undo_redo_and_reset_across_fine_tuning(
    state: ExplorerState, session: PruningSession
) -> None:
    group = session.groups[2].name
    state.set_ratio(group, 0.5)
    assert state.wait_idle(30)
    assert state.network.weights["label"] == "original"
    assert state.network.weights["is_original"]
    pruned_accuracy = state.metrics["accuracy"]
    state.jobs.run_finetune(30)
    assert state.wait_idle(120)
    assert state.activity.job_status["finetune"]["state"] == "done", state.error
    label = state.network.weights["label"]
    assert label == session.weights.label
    assert label.startswith("fine-tuned under plan #")
    assert label.endswith("(30 steps)")
    assert state.network.weights["fits"]
    assert_metrics_exact(state, session)
    # a plan that puts back channels the fine-tuned weights were trained without: flagged
    state.set_ratio(group, 0.25)
    assert state.wait_idle(30)
    assert not state.network.weights["fits"]
    assert session.weights.label == label
    state.undo()
    assert state.wait_idle(30)
    assert state.network.weights["fits"]
    state.undo()  # undoes the fine-tuning: the original weights, the plan before it
    assert state.wait_idle(30)
    assert state.network.weights["label"] == "original"
    assert session.weights.is_original
    assert state.metrics["accuracy"] == pytest.approx(pruned_accuracy)
    assert_metrics_exact(state, session)
    state.redo()
    assert state.wait_idle(30)
    assert state.network.weights["label"] == label
    assert_metrics_exact(state, session)
    state.reset()  # back to the original network: original weights, nothing pruned
    assert state.wait_idle(30)
    assert state.network.weights["label"] == "original"
    assert session.pruned == {}
    assert state.metrics["accuracy"] == pytest.approx(session.baseline().accuracy)
    assert state.metrics["accuracy"] == pytest.approx(state.baseline["accuracy"])
    assert state.metrics["delta"] == pytest.approx(0.0)
    assert_metrics_exact(state, session)
    # the trajectory keys points by weights too: the original network's point is current again, not a new one
    current = [p for p in state.trajectory if p["current"]]
    assert [p["label"] for p in current] == ["original"]
    assert [p["key"] for p in state.trajectory].count(current[0]["key"]) == 1
    # the original, the pruned plan, its star after fine-tuning, the 25 % plan on the fine-tuned weights
    assert len(state.trajectory) == 4


def test_precision_switch_measures_the_baseline_again(state: ExplorerState, session: PruningSession) -> None:
    start = session.precision
    state.set_precision("fp32")
    try:
        assert state.wait_idle(60)
        assert state.network.precision == session.precision == "fp32"
        base = session.baseline()
        assert state.baseline["accuracy"] == pytest.approx(base.accuracy)
        assert state.baseline["loss"] == pytest.approx(base.loss)
        assert state.summary["baseline_accuracy"] == pytest.approx(base.accuracy)
        assert_metrics_exact(state, session)
        state.set_precision("bf16")
        assert state.wait_idle(60)
        assert state.network.precision == "bf16"
        assert state.baseline["loss"] == pytest.approx(session.baseline().loss)
        assert_metrics_exact(state, session)
    finally:
        state.set_precision(start)
        assert state.wait_idle(60)
