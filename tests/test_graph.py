"""Groups from the dependency graph: coupling, names, refusals, fallbacks."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from toy_models import NoConvNet, PlainNet, ResidualNet, seeded

from explorer.errors import ModelError
from explorer.graph import GroupGraph, Member, PruningGroup, build_groups, export_pruned
from explorer.masks import apply_masks, compute_layer_cuts


def test_plain_net_has_one_group_per_conv_and_refuses_the_classifier():
    graph = build_groups(seeded(PlainNet()), torch.randn(2, 1, 8, 8))
    assert [g.name for g in graph.prunable] == ["features.0", "features.3", "features.7"]
    first = graph["features.0"]
    assert first.num_channels == 4
    assert first.layers == ["features.0", "features.1", "features.3"]
    assert first.coupled_layers == ["features.1"]
    classifier = graph["classifier"]
    assert not classifier.prunable
    assert "classifier" in classifier.reason


def test_residual_partners_share_a_group():
    graph = build_groups(seeded(ResidualNet()), torch.randn(2, 1, 8, 8))
    stem = graph["stem"]
    outs = {m.module for m in stem.members if m.side == "out"}
    ins = {m.module for m in stem.members if m.side == "in"}
    assert outs == {"stem", "stem_bn", "conv2", "bn2"}
    assert ins == {"conv1", "head"}
    assert "conv2" not in [g.name for g in graph.groups]  # conv2 is a member, not a group of its own


class _PadShortcutNet(nn.Module):
    """A parameter-free 'option A' shortcut: subsample and zero-pad the new channels."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.conv3 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(x)))
        y = self.bn3(self.conv3(y)) + F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 2, 2))
        return self.fc(F.relu(y).mean((2, 3)))


def test_zero_padding_shortcut_stream_is_refused_with_its_reason():
    graph = build_groups(seeded(_PadShortcutNet()), torch.randn(2, 3, 8, 8))
    stream = graph["conv1"]
    assert not stream.prunable
    assert "option A" in stream.reason
    assert graph["conv2"].prunable


def test_model_without_conv_layers_gets_a_clear_message():
    with pytest.raises(ModelError, match="no convolution layer"):
        build_groups(NoConvNet(), torch.randn(2, 1, 8, 8))


def test_group_names_are_stable_across_builds():
    model = seeded(ResidualNet())
    names = [g.name for g in build_groups(model, torch.randn(2, 1, 8, 8)).groups]
    again = [g.name for g in build_groups(model, torch.randn(3, 1, 8, 8)).groups]
    assert names == again


def test_untraceable_model_falls_back_to_independent_groups(monkeypatch):
    import explorer.graph.discovery as graph_module

    def refuse(*_args, **_kwargs):
        raise RuntimeError("cannot trace")

    monkeypatch.setattr(graph_module, "_build_dependency_graph", refuse)
    model = seeded(PlainNet())
    x = torch.randn(2, 1, 8, 8)
    with pytest.warns(UserWarning, match="could not trace"):
        graph = build_groups(model, x)
    assert not graph.traced
    assert graph.warnings
    assert [g.name for g in graph.groups] == ["features.0", "features.3", "features.7"]
    # conv → BN → ReLU (→ max-pool) → conv chains are offered, with their coupled layers
    assert graph["features.0"].layers == ["features.0", "features.1", "features.3"]
    assert graph["features.3"].prunable
    # the last conv feeds a flatten + linear, which the fallback cannot follow
    assert not graph["features.7"].prunable
    assert "could not be traced" in graph["features.7"].reason
    plan = {"features.0": (1, 2), "features.3": (0, 4, 5)}
    exported = export_pruned(model, x, plan, graph)
    with torch.no_grad(), apply_masks(model, compute_layer_cuts(graph, plan)):
        masked = model(x)
    assert torch.allclose(masked, exported(x), atol=1e-5)
    assert exported.features[3].weight.shape == (3, 2, 3, 3)


def test_untraceable_even_by_fx_gives_mask_only_groups(monkeypatch):
    import explorer.graph.discovery as graph_module

    def refuse(*_args, **_kwargs):
        raise RuntimeError("cannot trace")

    class Branchy(PlainNet):
        def forward(self, x):
            if x.mean() > 100:  # data-dependent control flow: torch.fx cannot trace it
                x = x * 2
            return super().forward(x)

    monkeypatch.setattr(graph_module, "_build_dependency_graph", refuse)
    with pytest.warns(UserWarning, match="not even by torch.fx"):
        graph = build_groups(seeded(Branchy()), torch.randn(2, 1, 8, 8))
    assert not graph.exportable
    # the conv and the BatchNorm right after it: the mask must act after the BN's shift, as removal would
    assert [(m.module, m.side) for m in graph["features.3"].members] == [
        ("features.3", "out"),
        ("features.4", "out"),
    ]
    with pytest.raises(ModelError, match="cannot be exported"):
        export_pruned(Branchy(), torch.randn(2, 1, 8, 8), {"features.3": (0,)}, graph)


class _GroupedNet(nn.Module):
    """conv → BN → grouped conv (3 groups) → BN → conv: ResNeXt's bottleneck in miniature."""

    def __init__(self):
        super().__init__()
        self.conv_a = nn.Conv2d(3, 12, 1)
        self.bn_a = nn.BatchNorm2d(12)
        self.conv_b = nn.Conv2d(12, 6, 3, padding=1, groups=3)  # 4 inputs, 2 outputs per group
        self.bn_b = nn.BatchNorm2d(6)
        self.conv_c = nn.Conv2d(6, 5, 1)
        self.fc = nn.Linear(5, 2)

    def forward(self, x):
        x = F.relu(self.bn_a(self.conv_a(x)))
        x = F.relu(self.bn_b(self.conv_b(x)))
        return self.fc(self.conv_c(x).mean((2, 3)))


def test_a_grouped_conv_is_pruned_by_position_in_every_group():
    model = seeded(_GroupedNet())
    x = torch.randn(3, 3, 6, 6)
    graph = build_groups(model, x)
    assert [g.name for g in graph.prunable] == ["conv_a", "conv_b", "conv_c"]
    inputs, outputs = graph["conv_a"], graph["conv_b"]
    assert (inputs.num_channels, outputs.num_channels) == (4, 2)  # positions within a conv group
    # unit 1 of conv_a is input channel 1 of each of the three groups
    assert graph["conv_a"].layer_cuts([1])[0] == ("conv_a", "out", [1, 5, 9])
    plan = {"conv_a": (1, 2), "conv_b": (0,)}
    exported = export_pruned(model, x, plan, graph)
    assert exported.conv_b.groups == 3
    assert exported.conv_b.weight.shape == (3, 2, 3, 3)
    with torch.no_grad(), apply_masks(model, compute_layer_cuts(graph, plan)):
        masked = model(x)
    assert torch.allclose(masked, exported(x), atol=1e-5)


def test_removal_refuses_uneven_cuts_of_a_grouped_conv():
    model = seeded(_GroupedNet())
    x = torch.randn(2, 3, 6, 6)
    uneven = PruningGroup("conv_a", 12, [Member("conv_b", "in", (0,), (0,))])
    with pytest.raises(ModelError, match="same number"):
        export_pruned(model, x, {"conv_a": (0,)}, GroupGraph([uneven], traced=True))
