"""Torchvision architectures: groups, refusals, and exactness of a 30 % plan under every weight criterion.

Each architecture is built once (module-scoped fixture) with untrained weights re-drawn by ``seeded``: with
torchvision's own initialisation, efficientnet_b0 and mobilenet_v3_small return logits of about 1e-14, which
would make the 1e-4 tolerance below meaningless. Inputs are 2x3x64x64 to keep the module fast.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from toy_models import seeded

from explorer import create_model
from explorer.cost import CostModel
from explorer.criteria import compute_group_scores
from explorer.graph import GroupGraph, build_groups, export_pruned
from explorer.masks import apply_masks, compute_layer_cuts
from explorer.plan import count_to_prune, lowest

# constructor kwargs; create_model("torchvision/<name>") takes none, so those with kwargs use torchvision
ARCHS: dict[str, dict] = {
    "densenet121": {},
    "shufflenet_v2_x1_0": {},
    "squeezenet1_0": {},
    "googlenet": {"aux_logits": False, "init_weights": True},
    "efficientnet_b0": {},
    "mobilenet_v3_small": {},
    "regnet_x_400mf": {},
    "convnext_tiny": {},
}
WEIGHT_CRITERIA = ["l1", "l2", "fpgm", "bn_scale", "random"]
RATIO = 0.3
_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread: on these two shared cores, OpenMP's spin-waiting made this module 2-3x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@dataclass
class Arch:
    """One architecture with everything the tests share."""

    name: str
    model: nn.Module
    x: torch.Tensor  # [2, 3, 64, 64]
    graph: GroupGraph
    cost: CostModel
    baseline: torch.Tensor  # unpruned logits on x
    caught: list  # warnings raised by build_groups


def _build(name: str) -> nn.Module:
    kwargs = ARCHS[name]
    model = (
        torchvision.models.get_model(name, weights=None, **kwargs)
        if kwargs
        else create_model(f"torchvision/{name}")
    )
    return seeded(model.eval(), 0)


@pytest.fixture(scope="module", params=list(ARCHS))
def arch(request) -> Arch:
    name = request.param
    model = _build(name)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = build_groups(model, x)
    with torch.no_grad():
        baseline = model(x)
    return Arch(name, model, x, graph, CostModel(model, x[:1]), baseline, list(caught))


def _trace_warnings(arch: Arch) -> list[str]:
    return [
        str(w.message)
        for w in arch.caught
        if issubclass(w.category, UserWarning) and "trace" in str(w.message).lower()
    ]


def test_groups_are_offered_and_every_refusal_is_explained(arch):
    """Some groups are offered; every conv is listed somewhere; every refused group says why."""
    assert arch.graph.prunable, f"{arch.name} offers no group"
    refused = [g for g in arch.graph.groups if not g.prunable]
    assert all(isinstance(g.reason, str) and len(g.reason) > 20 for g in refused)
    # the classifier (squeezenet's is a conv) is never offered: its channels are the model's outputs
    classifier = [n for n, m in arch.model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))][-1]
    assert classifier not in {g.name for g in arch.graph.prunable}
    if arch.graph.traced:
        assert not _trace_warnings(arch)
    else:
        assert arch.graph.warnings
        assert _trace_warnings(arch), "an untraceable model must raise a visible UserWarning"
    convs = {n for n, m in arch.model.named_modules() if isinstance(m, nn.Conv2d)}
    listed = {layer for g in arch.graph.groups for layer in g.layers}
    assert convs <= listed, f"convs in no group: {sorted(convs - listed)[:5]}"


def test_every_group_but_the_classifier_is_offered(arch):
    """Grouped convs, channel LayerNorms, squeeze-excitation and concatenations all prune; only the classifier
    is refused. ShuffleNet's channel shuffle cannot be traced by torch-pruning 1.6.1: the torch.fx fallback
    offers the convs inside its branches (chains into convs) and refuses the rest, with the reason."""
    refused = [g.name for g in arch.graph.groups if not g.prunable]
    if not arch.graph.traced:
        assert arch.name == "shufflenet_v2_x1_0"
        assert len(arch.graph.prunable) >= 17
        return
    classifier = [n for n, m in arch.model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))][-1]
    assert refused == [classifier], {g.name: g.reason for g in arch.graph.groups if not g.prunable}


def _groups_for(arch: Arch, criterion: str) -> list[str]:
    if criterion != "bn_scale":
        return [g.name for g in arch.graph.prunable]
    modules = dict(arch.model.named_modules())
    return [
        g.name
        for g in arch.graph.prunable
        if any(m.side == "out" and isinstance(modules[m.module], _BATCH_NORMS) for m in g.members)
    ]


def _export(arch: Arch, plan: dict) -> nn.Module:
    if arch.graph.traced:
        return export_pruned(arch.model, arch.x, plan)
    assert arch.graph.warnings
    assert _trace_warnings(arch)
    if not getattr(arch.graph, "exportable", False):
        reason = (
            f"{arch.name}: torch-pruning 1.6.1 cannot trace it (build_groups fell back and warned) and the "
            "fallback offers no export, so there is nothing to compare the masks with"
        )
        if os.environ.get("CI", "").strip().lower() == "true":
            # every architecture here exports today (shufflenet through the torch.fx fallback): on CI a skip
            # would turn a grouping or export regression into a pass
            pytest.fail(f"{reason}; CI=true, so this is an error, not a skip")
        pytest.skip(reason)
    return export_pruned(arch.model, arch.x, plan, arch.graph)


@pytest.mark.parametrize("criterion", WEIGHT_CRITERIA)
def test_thirty_percent_plan_is_exact(arch, criterion):
    """Masked == exported outputs, analytic MACs == FlopCounterMode / 2, params == exported params."""
    names = _groups_for(arch, criterion)
    if not names:
        pytest.skip(f"{arch.name} has no BatchNorm after its offered convs, so {criterion} does not apply")
    scores = compute_group_scores(criterion, arch.model, arch.graph, groups=names)
    assert list(scores) == names
    plan = {}
    for name in names:
        group = arch.graph[name]
        score = scores[name].score
        assert score.shape == (group.num_channels,)
        assert bool(torch.isfinite(score).all())
        plan[name] = lowest(score, count_to_prune(group.num_channels, RATIO, name))
    assert any(plan.values())

    exported = _export(arch, plan)
    cuts = compute_layer_cuts(arch.graph, plan)
    with torch.no_grad(), apply_masks(arch.model, cuts):
        masked = arch.model(arch.x)
    with torch.no_grad():
        physical = exported(arch.x)
    scale = max(1.0, physical.abs().max().item())
    assert masked.shape == physical.shape == arch.baseline.shape
    assert (masked - physical).abs().max().item() <= 1e-4 * scale
    # the comparison means something only if pruning changed the outputs
    assert (masked - arch.baseline).abs().max().item() > 1e-3 * scale

    cost = arch.cost.count(cuts)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        exported(arch.x[:1])
    assert cost.macs == counter.get_total_flops() // 2
    assert cost.params == sum(p.numel() for p in exported.parameters())
    assert cost.params < sum(p.numel() for p in arch.model.parameters())
