"""Masked outputs equal exported outputs, and analytic cost equals counted cost, on every zoo model."""

import random

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode
from toy_models import DepthwiseNet, FunctionalNet, GroupedNet, PlainNet, ResidualNet, seeded

from explorer.attention import running_heads
from explorer.cost import CostModel
from explorer.graph import build_groups, export_pruned
from explorer.layers import CHANNEL_LAYERS, channel_dim
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
    """MACs per sample from FlopCounterMode (FLOPs / 2) and the parameter count. An attention layer left
    whole by the plan stays an ``nn.MultiheadAttention``, whose fused CPU kernel hides its matmuls from
    FlopCounterMode: it is run through the same explicit matmuls (``running_heads``) to be counted."""
    with FlopCounterMode(display=False) as counter, torch.no_grad(), running_heads(model):
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


TOYS = [PlainNet, ResidualNet, FunctionalNet, GroupedNet, DepthwiseNet]


@pytest.mark.parametrize("toy", TOYS)
def test_toy_models_random_plans_are_exact(toy):
    model = seeded(toy())
    x = torch.randn(3, 1, 8, 8)
    graph = build_groups(model, x)
    for seed in range(3):
        check_plan(model, x, graph, random_plan(graph, random.Random(seed)))


def layer_outputs(model: torch.nn.Module, x: torch.Tensor, cuts=None) -> dict[str, torch.Tensor]:
    """Every conv / BN / linear output of one forward pass (under the masks of ``cuts`` if given), as the
    layer's consumers see it: recorded after the mask hooks."""
    outputs: dict[str, torch.Tensor] = {}

    def run() -> None:
        handles = [
            module.register_forward_hook(lambda _m, _i, out, name=name: outputs.__setitem__(name, out))
            for name, module in model.named_modules()
            if isinstance(module, CHANNEL_LAYERS)
        ]
        try:
            with torch.no_grad():
                model(x)
        finally:
            for handle in handles:
                handle.remove()

    if cuts is None:
        run()
    else:
        with apply_masks(model, cuts):
            run()
    return outputs


@pytest.mark.parametrize("toy", TOYS)
@pytest.mark.parametrize("seed", [0, 1])
def test_every_masked_layer_output_is_the_exported_one_with_zeros_inserted(toy, seed):
    """Inside the network, not only at the logits: each removed channel of a layer's output is exactly 0
    (so zeroing a BN's *input* instead of its output, which leaves BN's shift in, is caught even where the
    consumer's input mask hides it from the logits), and the kept channels equal the exported layer's."""
    model = seeded(toy(), seed)
    x = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(seed))
    graph = build_groups(model, x)
    plan = random_plan(graph, random.Random(seed), max_ratio=0.7)
    plan = {g: idxs or (0,) for g, idxs in plan.items()}  # every group loses something
    cuts = compute_layer_cuts(graph, plan)
    masked = layer_outputs(model, x, cuts)
    physical = layer_outputs(export_pruned(model, x, plan), x)
    checked = 0
    for name, out in masked.items():
        dim = channel_dim(model.get_submodule(name)) % out.dim()
        removed = sorted(cuts.out.get(name, ()))
        kept = [c for c in range(out.shape[dim]) if c not in set(removed)]
        if removed:
            assert out.index_select(dim, torch.tensor(removed)).abs().max().item() == 0.0, name
            checked += 1
        torch.testing.assert_close(out.index_select(dim, torch.tensor(kept)), physical[name], msg=name)
    assert checked >= len(graph.prunable)


def test_grouped_and_depthwise_macs_follow_the_convolution_formula():
    """MACs = H·W·k²·(C_in / groups)·C_out, by hand, before and after a plan, equal to FlopCounterMode."""
    x = torch.randn(2, 1, 8, 8)
    grouped = seeded(GroupedNet())
    graph = build_groups(grouped, x)
    cost = CostModel(grouped, x[:1])
    hw, k2 = 8 * 8, 9
    full = hw * k2 * (1 * 8 + (8 // 2) * 12 + 12 * 6) + 6 * 5
    assert cost.count(compute_layer_cuts(graph, {})).macs == full
    # a root index is one position in every group of ``grouped``: conv1's (0, 1) are its channels 0, 1, 4, 5
    # (4 of 8 go), and grouped's (0, 1, 2) are its outputs 0-2 and 6-8 (6 of 12 go)
    plan = {"conv1": (0, 1), "grouped": (0, 1, 2)}
    assert compute_layer_cuts(graph, plan).out["grouped"] == {0, 1, 2, 6, 7, 8}
    want = hw * k2 * (1 * 4 + (4 // 2) * 6 + 6 * 6) + 6 * 5
    assert cost.count(compute_layer_cuts(graph, plan)).macs == want
    assert want == counted(export_pruned(grouped, x, plan), x)[0]

    depthwise = seeded(DepthwiseNet())
    graph = build_groups(depthwise, x)
    cost = CostModel(depthwise, x[:1])
    full = hw * (k2 * 1 * 8 + k2 * 1 * 8 + 1 * 8 * 10) + 10 * 5
    assert cost.count(compute_layer_cuts(graph, {})).macs == full
    plan = {"depthwise": (1, 4, 6), "pointwise": (0,)}
    want = hw * (k2 * 1 * 5 + k2 * 1 * 5 + 1 * 5 * 9) + 9 * 5
    assert cost.count(compute_layer_cuts(graph, plan)).macs == want
    assert want == counted(export_pruned(depthwise, x, plan), x)[0]
    params = 9 * 5 + 2 * 5 + 9 * 5 + 2 * 5 + 5 * 9 + 2 * 9 + 9 * 5 + 5
    assert cost.count(compute_layer_cuts(graph, plan)).params == params


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
