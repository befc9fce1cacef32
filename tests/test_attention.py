"""Attention heads: one group per self-attention layer, pruned by head, masked equal to exported."""

from __future__ import annotations

import math
import random

import pytest
import torch
from test_exactness import check_plan
from torch import nn
from toy_models import TinyViT, seeded

from explorer import PruningSession, load_pruned, save_pruned
from explorer.attention import HeadAttention
from explorer.cost import CostModel
from explorer.criteria import ScoringCancelled, compute_group_scores, explain
from explorer.errors import ModelError
from explorer.graph import build_groups, export_pruned
from explorer.masks import LayerCuts


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread: on these two shared cores, OpenMP's spin-waiting made such tests 2-3x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


X = torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def _tiny() -> nn.Module:
    return seeded(TinyViT(), 1)


def test_each_self_attention_layer_is_a_group_of_heads():
    graph = build_groups(_tiny(), X)
    group = graph["attention"]
    assert group.prunable, group.reason
    assert (group.unit, group.num_channels) == ("head", 4)
    cuts = {(m, s): idxs for m, s, idxs in group.layer_cuts([1])}
    # head 1 owns rows 4..7 of the query, key and value blocks, and columns 4..7 of the output projection
    assert cuts[("attention", "out")] == [4, 5, 6, 7, 20, 21, 22, 23, 36, 37, 38, 39]
    assert cuts[("attention.out_proj", "in")] == [4, 5, 6, 7]
    assert {g.unit for g in graph.prunable} == {"head", "channel"}


@pytest.mark.parametrize("seed", range(3))
def test_random_head_plans_are_exact_in_outputs_macs_and_params(seed):
    model = _tiny()
    graph = build_groups(model, X)
    rng = random.Random(seed)
    plan = {"attention": tuple(sorted(rng.sample(range(4), rng.randint(1, 3))))}
    check_plan(model, X, graph, plan)  # masked == exported, analytic MACs/params == counted


def test_export_keeps_the_width_and_drops_heads():
    model = _tiny()
    exported = export_pruned(model, X, {"attention": (0, 2)})
    layer = exported.attention
    assert isinstance(layer, HeadAttention)
    assert (layer.embed_dim, layer.num_heads, layer.head_dim) == (16, 2, 4)
    assert layer.in_proj_weight.shape == (24, 16)
    assert layer.out_proj.weight.shape == (16, 8)
    with pytest.raises(ModelError, match="every head"):
        export_pruned(model, X, {"attention": (0, 1, 2, 3)})


def test_head_scores_follow_their_definitions():
    model = _tiny()
    graph = build_groups(model, X)
    layer = model.attention
    rows = layer.in_proj_weight.detach().view(3, 4, 4, 16)
    cols = layer.out_proj.weight.detach().view(16, 4, 4)
    l1 = torch.stack([rows[:, h].abs().sum() + cols[:, h].abs().sum() for h in range(4)])
    got = compute_group_scores("l1", model, graph, groups=["attention"])["attention"].score
    assert torch.allclose(got.double(), l1.double(), rtol=1e-5)
    # taylor: |mean over the head's output of a·∂ℓ/∂a|, read here at the input of the exported projection
    calib = type("Split", (), {"inputs": X, "labels": torch.arange(6) % 5})()
    progress: list[tuple[int, int]] = []
    taylor = compute_group_scores(
        "taylor", model, graph, groups=["attention"], calib=calib, progress=lambda *a: progress.append(a)
    )["attention"]
    assert progress == [(1, 1)]
    twin = export_pruned(model, X, {})
    twin.attention = HeadAttention.from_attention(twin.attention)
    seen = {}
    twin.attention.out_proj.register_forward_hook(lambda _m, i, _o: seen.update(a=i[0]) or i[0].retain_grad())
    loss = torch.nn.functional.cross_entropy(twin(X), calib.labels, reduction="sum")
    loss.backward()
    a = seen["a"]
    per_sample = (a * a.grad).view(6, a.shape[1], 4, 4).mean(dim=(1, 3)).abs().mean(0).double()
    expected = per_sample / per_sample.norm()
    assert torch.allclose(taylor.score.double(), expected, rtol=1e-4, atol=1e-8)


def test_taylor_scores_heads_and_channels_together_and_can_be_cancelled():
    model = _tiny()
    graph = build_groups(model, X)
    calib = type("Split", (), {"inputs": X, "labels": torch.arange(6) % 5})()
    names = [g.name for g in graph.prunable]
    assert names.index("attention") < len(names) - 1  # a channel group comes after the heads
    scores = compute_group_scores("taylor", model, graph, calib=calib)
    assert list(scores) == names
    polls: list[int] = []

    def stop() -> bool:
        polls.append(1)
        return len(polls) > 1  # one batch per pass: the channel groups' pass runs, the heads' pass stops

    with pytest.raises(ScoringCancelled):
        compute_group_scores("taylor", model, graph, groups=["attention"], calib=calib, should_stop=stop)


def test_the_weight_explanations_of_a_head_group_have_no_terms():
    """A group of heads has no root filter to list (its root has no ``.weight``): the explanation is the
    criterion's value alone."""
    model = _tiny()
    graph = build_groups(model, X)
    group = graph["attention"]
    scores = compute_group_scores("l1", model, graph, groups=["attention"])["attention"]
    for name in ("l1", "l2", "fpgm", "bn_scale"):
        got = explain(name, model, group, scores, 2)
        assert (got["kind"], got["terms"], got["n_terms"]) == ("value", [], 0), name
        assert math.isnan(got["layer_value"]), name


def test_a_session_prunes_heads_and_saves_and_loads_them(tmp_path):
    s = PruningSession(_tiny(), data=(X.repeat(4, 1, 1, 1), torch.arange(24) % 5))
    assert "attention" in {g.name for g in s.groups}
    s.set_ratio("attention", 0.5, criterion="taylor")
    assert len(s.pruned["attention"]) == 2
    assert s.verify_export() <= 1e-5
    rebuilt = load_pruned(save_pruned(s, tmp_path / "saved"), model=TinyViT())
    assert torch.allclose(rebuilt(X), s.masked_outputs(X), atol=1e-5)
    assert s.preflight()["groups"]["by_unit"]["head"] == {"found": 1, "offered": 1, "units_offered": 4}


class CrossAttention(TinyViT):
    def forward(self, x):
        tokens = self.patch(x).flatten(2).transpose(1, 2)
        tokens = tokens + self.attention(tokens, self.norm1(tokens), self.norm1(tokens))[0]
        return self.head(tokens.mean(1))


def test_attention_that_is_not_self_attention_is_refused_with_the_reason():
    graph = build_groups(seeded(CrossAttention()), X)
    assert not graph["attention"].prunable
    assert "not self-attention" in graph["attention"].reason


def _tiny_swin() -> nn.Module:
    from torchvision.models.swin_transformer import SwinTransformer

    model = SwinTransformer([2, 2], 16, [2], [2], [4, 4], num_classes=5)  # one stage: plain, then shifted
    return seeded(model, 2)


def test_swin_window_attention_heads_are_groups_and_exact():
    from explorer.window_attention import window_attention

    model = _tiny_swin()
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    layer = model.features[1][1].attn  # the shifted one
    tokens = torch.randn(2, 8, 8, 16)
    with torch.no_grad():
        assert torch.equal(window_attention(layer, tokens), layer(tokens))  # the same computation
    graph = build_groups(model, x)
    # the residual stream runs through the window partitions, which the dependency graph cannot follow
    assert not graph["features.0.0"].prunable
    heads = [g for g in graph.prunable if g.unit == "head"]
    assert [(g.name, g.num_channels) for g in heads] == [("features.1.0.attn", 2), ("features.1.1.attn", 2)]
    table = "features.1.1.attn.relative_position_bias_table"
    assert [(p.module, p.dim) for p in heads[1].params] == [(table, 1)]
    check_plan(model, x, graph, {"features.1.0.attn": (0,), "features.1.1.attn": (1,)}, graph_for_export=True)
    assert type(CostModel(model, x).count(LayerCuts()).macs) is int  # heads × rows per head, in ints
    scores = compute_group_scores("taylor", model, graph, groups=[g.name for g in heads], calib=_split(x))
    assert all(s.score.shape == (2,) and bool(s.score.isfinite().all()) for s in scores.values())


def _split(x: torch.Tensor):
    return type("Split", (), {"inputs": x, "labels": torch.arange(x.shape[0]) % 5})()
