"""Zero-padding "option A" shortcuts: the streams they join are pruned apart, and masked equals exported."""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F
from test_exactness import check_plan, random_plan
from toy_models import LambdaPadResNet, seeded

from explorer.channel_pad import ChannelPad
from explorer.graph import build_groups, export_pruned
from explorer.zoo import create_model


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread: on these two shared cores, OpenMP's spin-waiting made such tests 2-3x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


STREAMS = {"conv1", "layer2.0.conv2", "layer3.0.conv2"}


def test_a_fresh_channel_pad_is_f_pad():
    x = torch.randn(2, 4, 7, 7)
    pad = ChannelPad(4, 10, stride=2)
    assert torch.equal(pad(x), F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 3, 3)))


def test_removing_inputs_leaves_zeros_and_removing_outputs_drops_positions():
    x = torch.randn(2, 4, 6, 6)
    pad = ChannelPad(4, 8, stride=2)  # positions 2..5 copy inputs 0..3
    reference = pad(x)
    pad.remove_inputs([1])  # position 3 now holds a zero
    pad.remove_outputs([0, 5])  # a zero position and the copy of input 3
    got = pad(x[:, [0, 2, 3]])
    expected = reference.clone()
    expected[:, 3] = 0
    assert torch.equal(got, expected[:, [1, 2, 3, 4, 6, 7]])
    assert (pad.in_channels, pad.out_channels) == (3, 6)


def test_resnet20_offers_its_three_residual_streams():
    model = seeded(create_model("resnet20_cifar"))
    graph = build_groups(model, torch.randn(2, 3, 32, 32))
    offered = {g.name for g in graph.prunable}
    assert offered >= STREAMS
    assert len(offered) == 12  # 9 first convs of the blocks + 3 streams; only the classifier is refused
    # each shortcut is read by the narrow stream and written by the wide one
    assert ("layer2.0.shortcut", "in") in {(m.module, m.side) for m in graph["conv1"].members}
    wide = {(m.module, m.side) for m in graph["layer2.0.conv2"].members}
    assert {("layer2.0.shortcut", "out"), ("layer3.0.shortcut", "in")} <= wide


@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_each_stream_alone_is_exact(stream):
    model = seeded(create_model("resnet20_cifar"), 2)
    x = torch.randn(3, 3, 32, 32)
    graph = build_groups(model, x)
    channels = graph[stream].num_channels
    check_plan(model, x, graph, {stream: tuple(range(1, channels, 2))})


def test_a_lambda_padding_shortcut_is_recognised_and_exported_as_a_channel_pad():
    model = seeded(LambdaPadResNet())
    x = torch.randn(3, 1, 8, 8)
    graph = build_groups(model, x)
    assert {g.name for g in graph.prunable} == {"stem", "conv1", "conv2"}
    assert set(graph.replacements) == {"shortcut"}
    assert not isinstance(model.shortcut, ChannelPad)  # the user's model is left as it was
    for seed in range(3):
        check_plan(model, x, graph, random_plan(graph, random.Random(seed)))
    exported = export_pruned(model, x, {"stem": (0, 3), "conv2": (1, 2, 6)}, graph)
    assert isinstance(exported.shortcut, ChannelPad)
    assert (exported.shortcut.in_channels, exported.shortcut.out_channels) == (2, 5)
