"""Models practitioners bring: every group offered, and a 30 % plan exact on each (slow: one test per model).

Each test builds the model untrained and re-draws every weight and norm statistic (``seeded``), so that
zero-initialised heads and fresh norms cannot hide a mismatch behind constant logits. It then checks, at a
30 % L1 plan over every offered group, that the masked logits equal the exported ones and that the analytic
MACs and params equal ``FlopCounterMode``'s count (FLOPs / 2) and the exported parameter count. Convnets run
at 64 px; ViT and Swin need their native 224 px.
"""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from toy_models import seeded

from explorer import PruningSession
from explorer.cost import CostModel
from explorer.criteria import compute_group_scores
from explorer.graph import GroupGraph, build_groups, export_pruned
from explorer.masks import apply_masks, compute_layer_cuts
from explorer.plan import count_to_prune, lowest
from explorer.zoo import create_model

RATIO = 0.3
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread: on these two shared cores, OpenMP's spin-waiting made such tests 2-3x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _classifier(model: nn.Module) -> str:
    return [n for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))][-1]


def check_thirty_percent_plan(model: nn.Module, x: torch.Tensor, graph: GroupGraph) -> dict:
    """Masked == exported logits, analytic cost == counted cost, at a 30 % L1 plan on every offered group."""
    scores = compute_group_scores("l1", model, graph)
    plan = {
        g.name: lowest(scores[g.name].score, count_to_prune(g.num_channels, RATIO, g.name))
        for g in graph.prunable
    }
    cuts = compute_layer_cuts(graph, plan)
    exported = export_pruned(model, x, plan, graph)
    with torch.no_grad():
        baseline = model(x)
        with apply_masks(model, cuts):
            masked = model(x)
        physical = exported(x)
    scale = max(1.0, physical.abs().max().item())
    assert masked.shape == physical.shape == baseline.shape
    assert (masked - physical).abs().max().item() <= 1e-4 * scale
    assert (masked - baseline).abs().max().item() > 1e-3 * scale  # the plan changed the logits
    cost = CostModel(model, x[:1]).count(cuts)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        exported(x[:1])
    assert cost.macs == counter.get_total_flops() // 2
    assert cost.params == sum(p.numel() for p in exported.parameters())
    return plan


def _offered_all_but_classifier(model: nn.Module, graph: GroupGraph) -> None:
    refused = {g.name: g.reason for g in graph.groups if not g.prunable}
    assert list(refused) == [_classifier(model)], refused


@pytest.mark.parametrize("name", ["regnet_x_400mf", "resnext50_32x4d"])
def test_grouped_convolution_models_offer_every_group(name):
    model = seeded(torchvision.models.get_model(name, weights=None).eval())
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    graph = build_groups(model, x)
    _offered_all_but_classifier(model, graph)
    grouped = [
        n for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and 1 < m.groups < m.out_channels
    ]
    assert grouped
    check_thirty_percent_plan(model, x, graph)


@pytest.mark.parametrize("name", ["resnet20_cifar", "resnet56_cifar", "resnet110_cifar"])
def test_cifar_resnets_offer_their_residual_streams(name):
    model = seeded(create_model(name))
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    graph = build_groups(model, x)
    _offered_all_but_classifier(model, graph)
    streams = [g for g in graph.prunable if any(m.module.endswith("shortcut") for m in g.members)]
    assert len(streams) == 3
    plan = check_thirty_percent_plan(model, x, graph)
    assert all(plan[g.name] for g in streams)


def test_swin_t_opens_within_its_budget_with_its_mlp_and_head_groups():
    """Swin-T at 224 px: torch-pruning cannot follow its attention (functional weights, window reshapes), so
    the session falls back to torch.fx under its budget and offers the 12 MLP hidden groups, plus one group
    of heads per window attention layer; a 30 % plan over all of them is exact."""
    model = seeded(torchvision.models.get_model("swin_t", weights=None).eval())
    generator = torch.Generator().manual_seed(0)
    data = (torch.randn(8, 3, 224, 224, generator=generator), torch.arange(8))
    with pytest.warns(UserWarning, match="in its own code"):
        s = PruningSession(model, data=data, memory_limit="6G")
    assert any("torch-pruning could not trace" in w for w in s.warnings)
    blocks = [f"features.{i}.{j}" for i, n in ((1, 2), (3, 2), (5, 6), (7, 2)) for j in range(n)]
    assert [g.name for g in s.groups if g.unit == "channel"] == [f"{b}.mlp.0" for b in blocks]
    assert [g.name for g in s.groups if g.unit == "head"] == [f"{b}.attn" for b in blocks]
    assert [s.group(f"{b}.attn").num_channels for b in blocks] == [3] * 2 + [6] * 2 + [12] * 6 + [24] * 2
    check_thirty_percent_plan(s.model, s.data.val.inputs[:2], s.graph)


def test_vit_b_16_offers_its_attention_heads_and_mlp_groups():
    """ViT-B/16 at 224 px: 12 head groups (unit "head") and 12 MLP groups; its residual stream (which its
    attention layers read as a whole) and the classifier are refused."""
    model = seeded(torchvision.models.get_model("vit_b_16", weights=None).eval())
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    graph = build_groups(model, x)
    layers = [f"encoder.layers.encoder_layer_{i}" for i in range(12)]
    heads = [g for g in graph.prunable if g.unit == "head"]
    assert [g.name for g in heads] == [f"{layer}.self_attention" for layer in layers]
    assert all(g.num_channels == 12 for g in heads)
    assert [g.name for g in graph.prunable if g.unit == "channel"] == [f"{layer}.mlp.0" for layer in layers]
    refused = [g for g in graph.groups if not g.prunable]
    assert len(refused) == 2
    assert "classifier" in graph["heads.head"].reason
    stream = next(g for g in refused if g.name != "heads.head")
    assert "conv_proj" in stream.layers  # the residual stream: patches, every block's output projections
    plan = check_thirty_percent_plan(model, x, graph)
    assert all(len(plan[g.name]) == 4 for g in heads)
