"""Masked outputs equal exported outputs, and analytic cost equals counted cost, on every zoo model."""

import random

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode
from toy_models import FunctionalNet, PlainNet, ResidualNet, seeded

from explorer.cost import CostModel
from explorer.graph import build_groups, export_pruned
from explorer.masks import apply_masks, compute_layer_cuts
from explorer.zoo import create_model, get_model_spec, list_models


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread: on these two shared cores, OpenMP's spin-waiting made such tests 2-3x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def counted(model: torch.nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """MACs per sample from FlopCounterMode (FLOPs / 2) and the parameter count."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x[:1])
    return counter.get_total_flops() // 2, sum(p.numel() for p in model.parameters())


def random_plan(graph, rng: random.Random, max_ratio: float = 0.9) -> dict[str, tuple[int, ...]]:
    plan = {}
    for group in graph.prunable:
        count = min(int(rng.uniform(0, max_ratio) * group.num_channels), group.num_channels - 1)
        plan[group.name] = tuple(sorted(rng.sample(range(group.num_channels), count)))
    return plan


def check_plan(model, x, graph, plan, *, graph_for_export: bool = False) -> None:
    """Masked == exported outputs and analytic == counted cost; the export finds the groups again itself
    unless ``graph_for_export`` (for models whose grouping warns, e.g. falls back)."""
    exported = export_pruned(model, x, plan, graph if graph_for_export else None)
    cuts = compute_layer_cuts(graph, plan)
    with torch.no_grad(), apply_masks(model, cuts):
        masked = model(x)
    with torch.no_grad():
        physical = exported(x)
    # 1e-4 absolute on logits of unit scale; relative for random deep nets whose logits reach hundreds
    scale = max(1.0, physical.abs().max().item())
    assert (masked - physical).abs().max().item() <= 1e-4 * scale
    cost = CostModel(model, x[:1]).count(cuts)
    assert (cost.macs, cost.params) == counted(exported, x)


def _zoo_input(name: str, batch: int = 4) -> torch.Tensor:
    return torch.randn(batch, *get_model_spec(name).input_shape, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("seed", [0, 1])
def test_zoo_model_random_plan_is_exact(name, seed):
    model = seeded(create_model(name), seed)
    x = _zoo_input(name)
    graph = build_groups(model, x)
    assert graph.prunable, f"{name} offers no group"
    check_plan(model, x, graph, random_plan(graph, random.Random(seed)))


@pytest.mark.parametrize("toy", [PlainNet, ResidualNet, FunctionalNet])
def test_toy_models_random_plans_are_exact(toy):
    model = seeded(toy())
    x = torch.randn(3, 1, 8, 8)
    graph = build_groups(model, x)
    for seed in range(3):
        check_plan(model, x, graph, random_plan(graph, random.Random(seed)))


def test_functional_conv_and_linear_are_counted():
    model = seeded(FunctionalNet())
    x = torch.randn(1, 1, 8, 8)
    baseline = CostModel(model, x).count(compute_layer_cuts(build_groups(model, x), {}))
    # F.conv2d: 8·8·3·3·1·4, conv: 8·8·3·3·4·6, F.linear: 6·3
    assert baseline.macs == 8 * 8 * 9 * 4 + 8 * 8 * 9 * 4 * 6 + 6 * 3
    assert baseline.macs == counted(model, x)[0]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), name=st.sampled_from(["digits_cnn", "resnet20_cifar"]))
def test_random_plans_property(seed, name):
    model = _cached_model(name)
    x = _zoo_input(name, batch=2)
    graph = _cached_graph(name)
    plan = random_plan(graph, random.Random(seed), max_ratio=0.99)
    for group in graph.prunable:
        assert len(plan[group.name]) < group.num_channels  # at least one channel is always kept
    check_plan(model, x, graph, plan)


_MODELS: dict = {}


def _cached_model(name):
    if name not in _MODELS:
        _MODELS[name] = seeded(create_model(name), 3)
    return _MODELS[name]


def _cached_graph(name):
    key = ("graph", name)
    if key not in _MODELS:
        _MODELS[key] = build_groups(_cached_model(name), _zoo_input(name, batch=2))
    return _MODELS[key]


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_torchvision_models_are_exact(name):
    model = seeded(create_model(f"torchvision/{name}"), 0)
    x = torch.randn(2, 3, 64, 64)
    graph = build_groups(model, x)
    check_plan(model, x, graph, random_plan(graph, random.Random(0), max_ratio=0.5))


def test_li_et_al_table_1_vgg16_figures():
    """Li et al. 2017 Table 1: VGG-16 on CIFAR-10: 3.13e8 MACs, 1.5e7 params; pruned-A 2.06e8 / 5.4e6."""
    model = create_model("vgg16_bn_cifar")
    x = torch.zeros(1, 3, 32, 32)
    graph = build_groups(model, x)
    cost = CostModel(model, x)
    base = cost.count(compute_layer_cuts(graph, {}))
    assert base.macs == pytest.approx(3.13e8, rel=0.01)
    assert base.params == pytest.approx(1.5e7, rel=0.01)
    modules = dict(model.named_modules())
    convs = [g for g in graph.groups if isinstance(modules[g.name], torch.nn.Conv2d)]
    assert len(convs) == 13
    # pruned-A: half the filters of conv_1 and of conv_8 ... conv_13
    chosen = [convs[0], *convs[7:]]
    plan = {g.name: tuple(range(g.num_channels // 2)) for g in chosen}
    pruned = cost.count(compute_layer_cuts(graph, plan))
    assert pruned.macs == pytest.approx(2.06e8, rel=0.01)
    assert pruned.params == pytest.approx(5.4e6, rel=0.01)
    assert (pruned.macs, pruned.params) == counted(export_pruned(model, x, plan), x)
