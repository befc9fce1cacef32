"""The criterion contract: one registry, a criterion of one's own served by its ``needs``, and ``explain``."""

from __future__ import annotations

import copy
import math
import re
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from conftest import REPO_ROOT
from torch import nn
from toy_models import PlainNet, ResidualNet, seeded

from explorer.criteria import (
    compute_group_scores,
    explain,
    get_criterion,
    list_criteria,
    register_criterion,
    unregister_criterion,
)
from explorer.errors import DataError, ExplorerError
from explorer.graph import build_groups

EXAMPLE = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def _calib(n: int, num_classes: int = 5, seed: int = 3) -> SimpleNamespace:
    gen = torch.Generator().manual_seed(seed)
    return SimpleNamespace(
        inputs=torch.randn(n, 1, 8, 8, generator=gen),
        labels=torch.randint(0, num_classes, (n,), generator=gen),
    )


def _readme_example() -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Add your own criterion", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def grad_l1():
    """The README's own criterion, registered for one test and removed afterwards."""
    namespace: dict = {}
    exec(compile(_readme_example(), "README.md", "exec"), namespace)
    yield namespace["grad_l1_scores"]
    unregister_criterion("grad_l1")


def _mean_loss_gradients(model: nn.Module, calib: SimpleNamespace) -> dict[str, torch.Tensor]:
    """∂(mean loss over every calibration sample)/∂parameter by one plain backward pass on a copy."""
    twin = copy.deepcopy(model).eval()
    F.cross_entropy(twin(calib.inputs), calib.labels).backward()
    return {n: p.grad.detach().double() for n, p in twin.named_parameters()}


def _loop_abs_w_times_g(w: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    return torch.tensor(
        [
            sum(abs(a * b) for a, b in zip(w[c].flatten().tolist(), g[c].flatten().tolist(), strict=True))
            for c in range(w.shape[0])
        ],
        dtype=torch.float32,
    )


# ---------------------------------------------------------------------------------- a criterion of one's own
def test_readme_gradient_criterion_is_served_and_matches_plain_autograd(grad_l1):
    assert "grad_l1" in list_criteria()
    assert get_criterion("grad_l1").fn is grad_l1
    model = seeded(ResidualNet(), 1)
    graph = build_groups(model, EXAMPLE)
    calib = _calib(24)
    grads = _mean_loss_gradients(model, calib)
    modules = dict(model.named_modules())
    # Batches of 5 do not divide 24: the gradient must still be the whole set's.
    scores = compute_group_scores("grad_l1", model, graph, calib=calib, batch_size=5)
    assert list(scores) == [g.name for g in graph.prunable]
    for group in graph.prunable:
        convs = [
            m.module for m in group.members if m.side == "out" and isinstance(modules[m.module], nn.Conv2d)
        ]
        assert set(scores[group.name].members) == set(convs)
        own = {
            c: _loop_abs_w_times_g(modules[c].weight.detach().double(), grads[f"{c}.weight"]) for c in convs
        }
        for conv in convs:
            assert torch.allclose(scores[group.name].members[conv], own[conv], rtol=1e-5, atol=1e-9)
        expected = torch.stack(list(own.values())).mean(dim=0)
        assert torch.allclose(scores[group.name].score, expected, rtol=1e-5, atol=1e-9)
    assert all(p.grad is None for p in model.parameters())


def test_readme_gradient_criterion_scores_a_session(grad_l1):
    from explorer.session import PruningSession

    session = PruningSession("digits_cnn")
    calib = session.data.calib
    grads = _mean_loss_gradients(
        session.model, SimpleNamespace(inputs=calib.inputs.float(), labels=calib.labels)
    )
    got = session.scores("grad_l1")
    for group in session.groups:
        weight = session.model.get_submodule(group.name).weight.detach().double()
        expected = _loop_abs_w_times_g(weight, grads[f"{group.name}.weight"])
        assert torch.allclose(got[group.name], expected, rtol=1e-4, atol=1e-9)
    group = session.groups[1].name
    session.set_ratio(group, 0.5, criterion="grad_l1")
    lowest = sorted(range(len(got[group])), key=lambda c: (float(got[group][c]), c))
    assert sorted(session.pruned[group]) == sorted(lowest[: len(lowest) // 2])


def test_a_gradient_criterion_without_data_says_which_criterion(grad_l1):
    model = seeded(PlainNet(), 0)
    with pytest.raises(DataError, match="grad_l1 needs calibration data"):
        compute_group_scores("grad_l1", model, build_groups(model, EXAMPLE))


def test_registering_a_taken_name_fails_and_unregistering_frees_it():
    def mine(weight: torch.Tensor) -> torch.Tensor:
        return weight.reshape(weight.shape[0], -1).amax(dim=1)

    with pytest.raises(ExplorerError, match="already registered"):
        register_criterion("l1", needs="weights", title="t", url="http://x", formula="f", description="d.")(
            mine
        )
    register_criterion(
        "max_weight", needs="weights", title="t", url="http://x", formula="f", description="d."
    )(mine)
    try:
        assert list_criteria()[-1] == "max_weight"
        model = seeded(PlainNet(), 0)
        scores = compute_group_scores("max_weight", model, build_groups(model, EXAMPLE))
        first = model.features[0].weight.detach()
        assert torch.allclose(scores["features.0"].score, first.reshape(first.shape[0], -1).amax(dim=1))
        assert (
            explain("max_weight", model, build_groups(model, EXAMPLE)["features.0"], scores["features.0"], 0)[
                "kind"
            ]
            == "value"
        )
    finally:
        unregister_criterion("max_weight")
    assert "max_weight" not in list_criteria()
    with pytest.raises(ExplorerError, match="unknown criterion"):
        unregister_criterion("max_weight")


def test_a_custom_strategy_and_explanation_are_used():
    def scorer(request):
        from explorer.criteria import GroupScores

        out = {}
        for g in request.groups:
            s = request.fn(g.num_channels)
            out[g.name] = GroupScores(g.name, s, {g.name: s}, "none")
        return out, {}

    def why(model, group, scores, channel):
        return {"kind": "value", "terms": [float(channel)], "n_terms": 1, "layer_value": 7.0}

    @register_criterion(
        "index",
        needs="none",
        title="t",
        url="http://x",
        formula="s_c = c",
        description="d.",
        score=scorer,
        explain=why,
    )
    def index_scores(num_channels: int) -> torch.Tensor:
        return torch.arange(num_channels, dtype=torch.float32)

    try:
        model = seeded(PlainNet(), 0)
        graph = build_groups(model, EXAMPLE)
        scores = compute_group_scores("index", model, graph)
        assert torch.equal(scores["features.3"].score, torch.arange(6, dtype=torch.float32))
        got = explain("index", model, graph["features.3"], scores["features.3"], 2)
        assert got == {"kind": "value", "terms": [2.0], "n_terms": 1, "layer_value": 7.0}
    finally:
        unregister_criterion("index")


# ------------------------------------------------------------------------------------------------- explain
@pytest.fixture(scope="module")
def plain():
    model = seeded(PlainNet(), 4)
    return model, build_groups(model, EXAMPLE)


def _scores(name, model, graph, group):
    return compute_group_scores(name, model, graph, groups=[group], calib=_calib(8))[group]


@pytest.mark.parametrize("channel", [0, 3, 5])
def test_explain_l1_and_l2_list_the_filter_weights(plain, channel):
    model, graph = plain
    group = graph["features.3"]
    row = model.features[3].weight.detach()[channel].flatten().tolist()
    l1 = explain("l1", model, group, _scores("l1", model, graph, group.name), channel)
    assert l1["kind"] == "sum_abs"
    assert l1["terms"] == pytest.approx([abs(v) for v in row[:6]])
    assert l1["n_terms"] == len(row) == 4 * 9
    assert l1["layer_value"] == pytest.approx(sum(abs(v) for v in row), rel=1e-6)
    l2 = explain("l2", model, group, _scores("l2", model, graph, group.name), channel)
    assert l2["kind"] == "sqrt_sum_sq"
    assert l2["terms"] == pytest.approx([v * v for v in row[:6]])
    assert l2["n_terms"] == len(row)
    assert l2["layer_value"] == pytest.approx(math.sqrt(sum(v * v for v in row)), rel=1e-6)


@pytest.mark.parametrize("channel", [0, 2, 5])
def test_explain_fpgm_lists_distances_to_the_other_filters(plain, channel):
    model, graph = plain
    group = graph["features.3"]
    rows = [r.flatten().tolist() for r in model.features[3].weight.detach()]
    distances = [math.dist(rows[channel], rows[j]) for j in range(len(rows)) if j != channel]
    got = explain("fpgm", model, group, _scores("fpgm", model, graph, group.name), channel)
    assert got["kind"] == "sum_dist"
    assert got["terms"] == pytest.approx(distances[:6], rel=1e-6)
    assert got["n_terms"] == len(rows) - 1
    assert got["layer_value"] == pytest.approx(sum(distances), rel=1e-6)


def test_explain_bn_scale_gives_the_batchnorm_scale(plain):
    model, graph = plain
    group = graph["features.3"]
    gamma = model.features[4].weight.detach()
    with torch.no_grad():
        gamma[1] = -0.25  # a negative scale: the term is γ itself, the score |γ|
    try:
        got = explain("bn_scale", model, group, _scores("bn_scale", model, graph, group.name), 1)
    finally:
        with torch.no_grad():
            gamma[1] = 0.75
    assert got == {"kind": "abs", "terms": [-0.25], "n_terms": 1, "layer_value": 0.25}


@pytest.mark.parametrize("name", ["taylor", "taylor_weight", "hessian", "random"])
def test_explain_of_data_criteria_has_no_terms(plain, name):
    model, graph = plain
    group = graph["features.0"]
    got = explain(name, model, group, _scores(name, model, graph, group.name), 1)
    assert got["kind"] == "value"
    assert got["terms"] == []
    assert got["n_terms"] == 0
    assert math.isnan(got["layer_value"])


def test_explain_refuses_a_channel_out_of_range(plain):
    model, graph = plain
    group = graph["features.0"]
    with pytest.raises(ExplorerError, match="no channel 4"):
        explain("l1", model, group, _scores("l1", model, graph, group.name), 4)
