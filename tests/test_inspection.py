"""The session's views for the UI (``explorer.inspection``), each against an independent computation."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer import inspection, session_views
from explorer.errors import ExplorerError
from explorer.gallery import tile_images
from explorer.plan import count_to_prune
from explorer.session import PruningSession

pytestmark = pytest.mark.filterwarnings("ignore:the embedded weights")


@pytest.fixture(scope="module")
def session() -> PruningSession:
    return PruningSession("digits_cnn")


@pytest.fixture
def fresh(session: PruningSession):
    session.reset()
    yield session
    session.reset()


def test_snapshot_equals_the_session_cost_and_is_computed_once_per_plan(
    fresh: PruningSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = fresh.groups[1].name
    fresh.set_ratio(group, 0.5, criterion="l1")
    calls = []
    real = inspection.compute_layer_cuts
    monkeypatch.setattr(inspection, "compute_layer_cuts", lambda *a: calls.append(a) or real(*a))
    snap = fresh.views.snapshot()
    cost, base = fresh.cost(), fresh.baseline_cost()
    assert snap.generation == fresh.generation
    assert snap.pruned == fresh.pruned
    assert snap.ratios == {g.name: fresh.ratio(g.name) for g in fresh.groups}
    assert snap.ratios[group] == 0.5
    assert (snap.macs, snap.params) == (cost.macs, cost.params)
    assert (snap.base_macs, snap.base_params) == (base.macs, base.params)
    assert snap.layer_macs == fresh.layer_macs()
    assert snap.base_layer_macs == fresh.layer_macs({})
    assert snap.macs_fraction == cost.macs / base.macs
    assert snap.params_fraction == cost.params / base.params
    # one slider move: the UI reads the snapshot, the evaluation reuses its cuts and cost
    assert fresh.views.snapshot() is snap
    *_, last = fresh.views.iter_evaluate()
    assert len(calls) == 1
    want = fresh.evaluate()
    assert last == want
    fresh.undo()
    again = fresh.views.snapshot()
    assert again is not snap
    assert again.generation == fresh.generation
    assert again.pruned == {}
    assert (again.macs, again.params) == (base.macs, base.params)
    assert len(calls) == 2


def test_snapshot_evaluation_stops_when_the_plan_changes(fresh: PruningSession) -> None:
    iterator = fresh.views.iter_evaluate()
    first = next(iterator)
    assert not first.final
    fresh.set_ratio(fresh.groups[0].name, 0.25)
    assert list(iterator) == []  # stopped early, no exception


@pytest.mark.parametrize("criterion", ["l1", "fpgm", "random"])
def test_rank_is_an_argsort_and_the_ratio_prunes_its_head(fresh: PruningSession, criterion: str) -> None:
    group = fresh.groups[1].name
    fresh.set_ratio(group, 0.25, criterion=criterion)
    scores = fresh.scores(criterion, groups=[group])[group]
    ranking = fresh.views.rank(criterion, group)
    # ties broken by index: a stable argsort
    order = torch.argsort(scores, stable=True).tolist()
    assert ranking["order"] == order
    assert [ranking["rank"][c] for c in order] == list(range(1, scores.numel() + 1))
    assert ranking["scores"] == pytest.approx(scores.tolist())
    assert ranking["ratio"] == 0.25
    count = count_to_prune(scores.numel(), 0.25)
    assert ranking["by_ratio"] == sorted(order[:count])
    assert tuple(ranking["by_ratio"]) == fresh.pruned[group]
    assert fresh.views.rank(criterion, fresh.groups[0].name)["by_ratio"] == []  # an intact group


def test_explain_l1_takes_the_filter_apart(fresh: PruningSession) -> None:
    group = fresh.groups[1].name
    fresh.set_ratio(group, 0.25, criterion="l1")
    weight = fresh.model.get_submodule(group).weight.detach()
    l1 = weight.abs().sum(dim=(1, 2, 3))
    first = int(torch.argsort(l1, stable=True)[0])
    why = fresh.views.explain(group, None, "l1")  # by default: the first filter the criterion removes
    assert why["channel"] == first
    assert (why["group"], why["criterion"], why["kind"]) == (group, "l1", "sum_abs")
    assert why["terms"] == pytest.approx(weight[first].reshape(-1).abs()[:6].tolist())
    assert why["n_terms"] == weight[first].numel()
    assert why["layer_value"] == pytest.approx(float(l1[first]), rel=1e-5)
    assert why["score"] == pytest.approx(float(fresh.scores("l1", groups=[group])[group][first]))
    assert (why["rank"], why["count"], why["ratio"]) == (1, l1.numel(), 0.25)
    assert why["pruned_by_ratio"]
    assert why["pruned"]
    assert why["formula"] == "s_c = Σ_i |W_c,i|"
    last = int(torch.argmax(l1))
    why = fresh.views.explain(group, last, "l1")
    assert (why["channel"], why["rank"]) == (last, l1.numel())
    assert not why["pruned_by_ratio"]
    assert not why["pruned"]
    with pytest.raises(ExplorerError, match="no channel"):
        fresh.views.explain(group, l1.numel(), "l1")


def test_explain_fpgm_bn_scale_and_a_data_criterion(fresh: PruningSession) -> None:
    group = fresh.groups[0].name
    weight = fresh.model.get_submodule(group).weight.detach()
    flat = weight.reshape(weight.shape[0], -1).double()
    distances = torch.cdist(flat, flat)[3]
    why = fresh.views.explain(group, 3, "fpgm")
    assert why["kind"] == "sum_dist"
    assert why["terms"] == pytest.approx(torch.cat([distances[:3], distances[4:]])[:6].tolist())
    assert why["n_terms"] == weight.shape[0] - 1
    assert why["layer_value"] == pytest.approx(float(distances.sum()), rel=1e-5)
    bn = next(m for m in fresh.group_scores("bn_scale", groups=[group])[group].members if m != group)
    gamma = float(fresh.model.get_submodule(bn).weight.detach()[3])
    why = fresh.views.explain(group, 3, "bn_scale")
    assert (why["kind"], why["terms"], why["n_terms"]) == ("abs", [pytest.approx(gamma)], 1)
    assert why["layer_value"] == pytest.approx(abs(gamma))
    why = fresh.views.explain(group, 3, "random")
    assert (why["kind"], why["terms"], why["n_terms"]) == ("value", [], 0)
    assert why["score"] == pytest.approx(float(fresh.scores("random", groups=[group])[group][3]))


def test_feature_maps_are_the_root_layer_outputs_unpruned(fresh: PruningSession) -> None:
    group = fresh.groups[0].name  # features.0: the first convolution, its output is computable directly
    fresh.set_ratio(group, 0.5)
    conv = fresh.model.get_submodule(group)
    image = fresh.data.val.inputs[:1]
    want = F.conv2d(image, conv.weight, conv.bias, conv.stride, conv.padding)[0]
    maps = fresh.views.feature_maps(group)
    assert maps.shape == tuple(want.shape)
    np.testing.assert_allclose(maps, want.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert fresh.views.feature_maps(group) is maps  # kept
    assert not conv._forward_hooks  # the hook went on the private copy
    # the cache follows the weights: new weights, new maps
    original = {k: v.clone() for k, v in fresh.model.state_dict().items()}
    model = copy.deepcopy(fresh.model)
    with torch.no_grad():
        model.get_submodule(group).weight.mul_(-1)
    fresh.adopt_weights(model)
    try:
        np.testing.assert_allclose(fresh.views.feature_maps(group), -maps, rtol=1e-5, atol=1e-6)
    finally:
        with torch.no_grad():
            model.get_submodule(group).weight.mul_(-1)
        fresh.adopt_weights(model)
    assert all(torch.equal(v, original[k]) for k, v in fresh.model.state_dict().items())
    np.testing.assert_allclose(fresh.views.feature_maps(group), maps, rtol=1e-5, atol=1e-6)


def test_feature_maps_of_layers_that_return_tuples_or_tokens() -> None:
    """An attention layer returns (output, weights), and a ViT's tokens are not maps: no crash, no maps; a
    ViT's 3 × 3 stem still gives its maps (the app's gallery asks for every group's root layer)."""
    from explorer.zoo import create_model

    model = create_model("digits_vit").eval()
    image = torch.randn(1, 1, 8, 8)
    block = "encoder.layers.encoder_layer_0"
    assert inspection.capture_feature_maps(model, f"{block}.self_attention", image) is None
    assert inspection.capture_feature_maps(model, f"{block}.mlp.0", image) is None
    with torch.no_grad():
        stem = model.conv_proj(image)[0].numpy()
    np.testing.assert_array_equal(inspection.capture_feature_maps(model, "conv_proj", image), stem)


def test_tiles_are_framed_darkened_and_laid_out_row_by_row() -> None:
    images = np.stack([np.full((2, 3, 3), v) for v in (0.0, 0.5, 1.0)])  # three 2×3 tiles
    image, xs, ys, side = tile_images(images, [False, True, False])
    assert side == 5  # the longer side plus a one-pixel frame on each side
    rgba = image.view(np.uint8).reshape(*image.shape, 4)[::-1]  # top row first
    assert rgba.shape == (2 * side, 2 * side, 4)  # 3 tiles: a 2×2 grid
    assert tuple(rgba[0, 0, :3]) == (220, 220, 220)  # kept: grey frame
    assert tuple(rgba[0, side, :3]) == (200, 40, 40)  # pruned: red frame
    assert tuple(rgba[1, side + 1, :3]) == (int(0.5 * 0.2 * 255),) * 3  # darkened to a fifth
    assert tuple(rgba[side + 1, 1, :3]) == (255, 255, 255)  # the third tile starts the second row
    assert xs == [2.5, 7.5, 2.5]
    assert ys == [7.5, 7.5, 2.5]  # bottom-up, as bokeh draws


def test_gallery_of_a_conv_and_of_a_linear_layer() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 3, padding=1),
        torch.nn.BatchNorm2d(6),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(6 * 8 * 8, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 4),
    ).eval()
    inputs, labels = torch.randn(40, 3, 8, 8), torch.arange(40) % 4
    s = PruningSession(model, data=(inputs, labels))
    s.set_pruned("0", [1, 4])
    g = s.views.gallery("0")
    assert g.rgb  # 3 input channels: drawn in colour
    assert g.channel == list(range(6))
    assert g.pruned == [i in (1, 4) for i in range(6)]
    assert g.maps.shape == (2 * 10, 3 * 10)  # six framed 8×8 maps: 2 rows of 3
    assert g.weight_tile == 5  # 3×3 filters, framed
    assert g.image_label == str(int(s.data.val.labels[0]))  # no class names: the label's number
    lin = s.views.gallery("4")
    assert lin.weights is None  # not a convolution: no filter images
    assert lin.maps is None
    assert lin.channel == list(range(8))


def test_latency_and_speedup(fresh: PruningSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """A spy on the timer: the exported network (the plan's parameter count) and the original one (all of
    them) are what is timed, on one validation image; the original only once per weights."""
    timed = []

    def spy(model: torch.nn.Module, example: torch.Tensor) -> float:
        params = sum(p.numel() for p in model.parameters())
        timed.append((params, tuple(example.shape)))
        return params / 1000  # "milliseconds" that say which network was timed

    monkeypatch.setattr(session_views, "measure_latency", spy)
    fresh.set_ratio(fresh.groups[2].name, 0.5)
    lat = fresh.views.latency()
    pruned, full = fresh.cost().params, fresh.baseline_cost().params
    image = (1, *fresh.data.val.inputs.shape[1:])
    assert pruned < full
    assert lat == {
        "pruned_ms": pruned / 1000,
        "baseline_ms": full / 1000,
        "speedup": (full / 1000) / (pruned / 1000),
        "generation": fresh.generation,
    }
    assert sorted(timed) == sorted([(pruned, image), (full, image)])
    assert fresh.views.latency()["baseline_ms"] == full / 1000
    assert timed[2:] == [(pruned, image)]  # the original is timed once per weights


def test_describe_counts_conv_and_linear_layers(session: PruningSession) -> None:
    info = session.views.describe()
    assert {k: info[k] for k in session.summary()} == session.summary()
    assert info["architecture"] == "DigitsCNN"
    assert info["layers"] == 4  # three convolutions and the classifier
    assert info["warnings"] == session.warnings
