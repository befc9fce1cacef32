"""Masked equals exported: tied concatenated channels, the start-up probes, and layers never emptied."""

from __future__ import annotations

import threading

import pytest
import torch
from test_exactness import counted
from torch import nn
from torch.utils.data import TensorDataset
from toy_models import GhostSENet, seeded

from explorer import PruningSession
from explorer.errors import ModelError
from explorer.graph import GroupGraph, Member, PruningGroup, build_groups, export_pruned
from explorer.plan import count_to_prune
from explorer.verification import (
    MISMATCH_REASON,
    masked_equals_exported,
    probe_plan,
    probe_plans,
    refuse_mismatching_groups,
)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread: on these two shared cores, OpenMP's spin-waiting made such tests 2-3x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _data(n: int = 60) -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(n, 3, 8, 8, generator=generator), torch.arange(n) % 5)


def test_a_channel_and_its_depthwise_copy_concatenated_beside_it_are_one_unit():
    graph = build_groups(seeded(GhostSENet()), torch.randn(2, 3, 8, 8))
    expand = graph["expand"]
    assert expand.prunable
    assert expand.num_channels == 12  # not 24 free channels: i and 12 + i come from primary's channel i
    cuts = {(module, side): idxs for module, side, idxs in expand.layer_cuts([3])}
    assert cuts[("expand", "out")] == [3, 15]
    assert cuts[("mix", "in")] == [3, 15]
    assert cuts[("primary.0", "out")] == cuts[("cheap.0", "out")] == [3]


@pytest.mark.parametrize("ratio", [0.3, 0.5])
@pytest.mark.parametrize("how", ["every group", "global"])
def test_ghost_block_is_exact_at_30_and_50_percent_and_no_layer_is_emptied(ratio, how):
    s = PruningSession(seeded(GhostSENet()), data=_data())
    assert [g.name for g in s.all_groups if not g.prunable] == ["head"]
    if how == "global":
        s.set_global_ratio(ratio, criterion="l1")
    else:
        s.set_ratios({g.name: ratio for g in s.groups}, criterion="l1")
        assert len(s.pruned["expand"]) == count_to_prune(12, ratio)
    exported = s.export()
    assert s.verify_export(exported) <= 1e-4
    for name, module in exported.named_modules():
        for attr in ("in_channels", "out_channels", "in_features", "out_features", "num_features"):
            assert getattr(module, attr, 1) >= 1, f"{name}.{attr} is empty"
    cost = s.cost()
    assert (cost.macs, cost.params) == counted(exported, s.data.val.inputs)


def _untied(graph: GroupGraph) -> PruningGroup:
    """The expand group as torch-pruning 1.6.1 reported it: 24 free channels, primary's tied to 12..23."""
    members = []
    for m in graph["expand"].members:
        if m.module in ("expand", "mix", "reduce"):
            members.append(Member(m.module, m.side, m.idxs, m.idxs))
        else:
            members.append(Member(m.module, m.side, m.idxs, tuple(12 + i for i in m.idxs)))
    return PruningGroup("expand", 24, members)


def test_the_start_up_check_refuses_a_tie_it_does_not_model():
    model = seeded(GhostSENet())
    x = torch.randn(2, 3, 8, 8)
    graph = build_groups(model, x)
    untied = _untied(graph)
    graph.groups = [g if g.name != "expand" else untied for g in graph.groups]
    lock = threading.RLock()
    # every third unit prunes i and 12 + i together (3 divides 12): that probe alone cannot see the tie
    assert len(probe_plans([untied])) > 1
    single = probe_plans([untied])[0]
    assert single == probe_plan([untied])
    assert not masked_equals_exported(model, graph, x, [untied], lock)
    bad = refuse_mismatching_groups(model, graph, x, lock)
    assert [g.name for g in bad] == ["expand"]
    assert graph["expand"].reason == MISMATCH_REASON
    assert graph["mix"].prunable
    assert graph["stem.0"].prunable


def test_export_refuses_a_plan_that_would_empty_a_layer():
    model = seeded(GhostSENet())
    x = torch.randn(2, 3, 8, 8)
    graph = build_groups(model, x)
    untied = _untied(graph)
    with pytest.raises(ModelError, match=r"every channel of (primary|cheap)\.0"):
        export_pruned(model, x, {"expand": tuple(range(12, 24))}, GroupGraph([untied], traced=True))


def test_a_group_that_one_kept_unit_could_empty_is_refused_when_found():
    """A member holding only this group's channels must hold every unit (else removal could empty it)."""
    model = seeded(GhostSENet())
    graph = build_groups(model, torch.randn(2, 3, 8, 8))
    for group in graph.prunable:
        modules = dict(model.named_modules())
        for member in group.members:
            module = modules[member.module]
            if member.side == "out" and isinstance(module, nn.Conv2d):
                assert set(member.root_idxs) == set(range(group.num_channels))
