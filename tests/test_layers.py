"""The layer-type sets and ``channel_dim``: one answer everywhere (masks, scoring, grouping, export)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from toy_models import seeded

import explorer.graph.discovery
import explorer.masks
from explorer.criteria.statistics import collect_activation_gradients
from explorer.errors import ExplorerError
from explorer.graph import GroupGraph, Member, PruningGroup, build_groups, export_pruned
from explorer.layers import (
    BATCH_NORMS,
    CHANNEL_LAYERS,
    CROSS_CHANNEL_NORMS,
    PER_CHANNEL_LAYERS,
    channel_dim,
    is_depthwise,
    out_channels,
)
from explorer.masks import LayerCuts, _output_hook, apply_masks, compute_layer_cuts


def test_channel_dim_is_last_for_linear_and_layernorm_and_one_otherwise():
    assert channel_dim(nn.Linear(3, 4)) == -1
    assert channel_dim(nn.LayerNorm(4)) == -1
    for module in (
        nn.Conv1d(2, 3, 1),
        nn.Conv2d(2, 3, 1),
        nn.Conv3d(2, 3, 1),
        nn.BatchNorm1d(3),
        nn.BatchNorm3d(3),
        nn.GroupNorm(1, 3),
        nn.PReLU(3),
    ):
        assert channel_dim(module) == 1


def test_layer_sets_and_channel_counts():
    assert set(BATCH_NORMS) == {nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d}
    assert set(BATCH_NORMS) < set(PER_CHANNEL_LAYERS)
    assert nn.LayerNorm in CROSS_CHANNEL_NORMS
    assert nn.Linear in CHANNEL_LAYERS
    assert is_depthwise(nn.Conv2d(4, 4, 3, groups=4))
    assert not is_depthwise(nn.Conv2d(4, 8, 3, groups=4))
    assert not is_depthwise(nn.Conv1d(1, 1, 3))
    counts = [
        out_channels(m)
        for m in (
            nn.Conv3d(2, 5, 1),
            nn.Linear(3, 6),
            nn.BatchNorm1d(7),
            nn.PReLU(8),
            nn.LayerNorm(9),
            nn.GroupNorm(2, 10),
        )
    ]
    assert counts == [5, 6, 7, 8, 9, 10]
    with pytest.raises(ExplorerError, match="ReLU"):
        out_channels(nn.ReLU())


class TokenNet(nn.Module):
    """Tokens ``[N, L, D]`` → linear → LayerNorm over the features → mean over tokens → linear."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(3, 6)
        self.norm = nn.LayerNorm(6)
        self.head = nn.Linear(6, 4)

    def forward(self, x):
        return self.head(F.relu(self.norm(self.embed(x))).mean(dim=1))


def test_layernorm_channels_are_the_last_dimension_for_masks_and_for_scoring():
    model = seeded(TokenNet(), 2)
    x = torch.randn(5, 7, 3, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, 3, 0])
    # Masking LayerNorm feature 2 zeroes the last dimension, not the token dimension.
    cuts = LayerCuts()
    cuts.add("norm", "out", [2])
    with torch.no_grad(), apply_masks(model, cuts):
        masked = model.head.weight.new_zeros(0)
        seen = []
        handle = model.norm.register_forward_hook(lambda _m, _i, out: seen.append(out.clone()))
        masked = model(x)
        handle.remove()
    assert masked.shape == (5, 4)
    assert bool((seen[0][..., 2] == 0).all())
    assert bool((seen[0][..., [0, 1, 3, 4, 5]] != 0).all())
    # Scoring reads the LayerNorm's features in the same dimension: [N, C] with C = 6 features.
    group = PruningGroup("norm", 6, [Member("norm", "out", tuple(range(6)), tuple(range(6)))])
    stats = collect_activation_gradients(
        model, GroupGraph([group], traced=True), ["norm"], SimpleNamespace(inputs=x, labels=labels)
    )
    twin = seeded(TokenNet(), 2)
    out = twin.norm(twin.embed(x))
    out.retain_grad()
    (F.cross_entropy(twin.head(F.relu(out).mean(dim=1)), labels) * len(labels)).backward()
    expected = (out * out.grad).mean(dim=1).double()  # mean over the tokens, per sample and feature
    assert stats.products["norm"].shape == (5, 6)
    assert torch.allclose(stats.products["norm"], expected.detach(), rtol=1e-5, atol=1e-10)


def _net(dims: int) -> nn.Module:
    conv, bn = {1: (nn.Conv1d, nn.BatchNorm1d), 3: (nn.Conv3d, nn.BatchNorm3d)}[dims]
    return nn.Sequential(
        conv(2, 4, 3, padding=1),
        bn(4),
        nn.ReLU(),
        conv(4, 6, 3, padding=1),
        bn(6),
        nn.ReLU(),
        conv(6, 5, 1),
        nn.Flatten(),
        nn.LazyLinear(3),
    )


@pytest.mark.parametrize("dims", [1, 3])
@pytest.mark.parametrize("fallback", [False, True])
def test_export_removes_batchnorm1d_and_3d_channels_exactly(monkeypatch, dims, fallback):
    x = torch.randn(2, 2, *([4] * dims), generator=torch.Generator().manual_seed(1))
    model = _net(dims)
    model(x)  # materialise the lazy linear
    model = seeded(model, 3)
    if fallback:

        def refuse(*_args, **_kwargs):
            raise RuntimeError("cannot trace")

        monkeypatch.setattr(explorer.graph.discovery, "_build_dependency_graph", refuse)
        with pytest.warns(UserWarning, match="could not trace"):
            graph = build_groups(model, x)
        assert not graph.traced
        assert graph.exportable
    else:
        graph = build_groups(model, x)
    assert graph["0"].prunable
    assert graph["3"].prunable
    assert ("1", "out") in {(m.module, m.side) for m in graph["0"].members}
    plan = {"0": [1, 3], "3": [0, 2, 5]}
    exported = export_pruned(model, x, plan, graph)
    with torch.no_grad(), apply_masks(model, compute_layer_cuts(graph, plan)):
        masked = model(x)
    assert exported[1].num_features == 2
    assert exported[1].running_mean.shape == (2,)
    assert exported[4].weight.shape == (3,)
    assert torch.allclose(masked, exported(x), atol=1e-5)


class ChannelNormNet(nn.Module):
    """A ConvNeXt stream in miniature: conv → LayerNorm2d (over channels) → depthwise conv, and a residual
    branch with a channels-last LayerNorm between two linears, scaled by a bare ``layer_scale`` parameter."""

    def __init__(self, width: int = 6):
        super().__init__()
        from torchvision.models.convnext import LayerNorm2d

        self.stem = nn.Conv2d(1, width, 3, padding=1)
        self.stem_norm = LayerNorm2d(width)
        self.dw = nn.Conv2d(width, width, 3, padding=1, groups=width)
        self.norm = nn.LayerNorm(width)
        self.up = nn.Linear(width, 2 * width)
        self.down = nn.Linear(2 * width, width)
        self.layer_scale = nn.Parameter(torch.ones(width, 1, 1))
        self.head = nn.Linear(width, 3)

    def forward(self, x):
        x = self.stem_norm(self.stem(x))
        y = self.norm(self.dw(x).permute(0, 2, 3, 1))
        y = self.down(F.gelu(self.up(y))).permute(0, 3, 1, 2)
        x = x + self.layer_scale * y
        return self.head(x.mean((2, 3)))


def test_channel_dim_of_convnext_layernorm2d_is_one():
    from torchvision.models.convnext import LayerNorm2d

    assert channel_dim(LayerNorm2d(4)) == 1


def test_masking_a_layernorm_normalises_over_the_kept_channels_as_removal_does(monkeypatch):
    model = seeded(ChannelNormNet(), 1)
    x = torch.randn(3, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    graph = build_groups(model, x)
    stream = graph["down"]  # the stream group is named after the layer torch-pruning reached first
    assert stream.prunable, stream.reason
    assert {"stem_norm", "dw", "norm", "down"} <= {m.module for m in stream.members if m.side == "out"}
    assert [(p.module, p.dim) for p in stream.params] == [("layer_scale", 0)]
    plan = {"down": [1, 4]}
    exported = export_pruned(model, x, plan, graph)
    assert exported.stem_norm.normalized_shape == (4,)
    assert exported.layer_scale.shape == (4, 1, 1)
    cuts = compute_layer_cuts(graph, plan)
    with torch.no_grad():
        with apply_masks(model, cuts):
            masked = model(x)
        physical = exported(x)
    assert torch.allclose(masked, physical, atol=1e-5)
    # zeroing the removed channels alone still counts them in the mean and variance: not what removal does
    monkeypatch.setattr(explorer.masks, "_layer_norm_hook", lambda _m, cut, dim: _output_hook(cut, dim))
    with torch.no_grad(), apply_masks(model, cuts):
        zeroed = model(x)
    assert not torch.allclose(zeroed, physical, atol=1e-3)
