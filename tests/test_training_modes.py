"""Training for prunability: Soft Filter Pruning re-selects, the group lasso shrinks channel norms, and the
three modes really differ when compared at the same steps and channel counts."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import explorer.training_modes as modes
from explorer.data import DataSplit
from explorer.graph import build_groups
from explorer.masks import compute_layer_cuts
from explorer.session import PruningSession


class NoNormNet(nn.Module):
    """conv → ReLU → conv → ReLU → mean → linear, no BatchNorm: a zeroed filter still outputs its bias."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


def _split(n: int, seed: int) -> DataSplit:
    gen = torch.Generator().manual_seed(seed)
    return DataSplit(torch.randn(n, 1, 6, 6, generator=gen), torch.randint(0, 3, (n,), generator=gen))


def test_soft_filter_pruning_re_selects_by_the_current_filter_norms(monkeypatch):
    torch.manual_seed(0)
    model = NoNormNet().eval()
    with torch.no_grad():
        # filters 0-2: the smallest, so zeroed first, but alive (a zeroed one outputs its bias 0.5 > 0, so
        # its gradient flows and it grows back); filters 3-5: a little larger but dead (bias -5): never move
        model.conv1.weight[:3] *= 0.01 / model.conv1.weight[:3].norm()
        model.conv1.weight[3:] *= 0.1 / model.conv1.weight[3:].flatten(1).norm(dim=1).view(-1, 1, 1, 1)
        model.conv1.bias[:3] = 0.5
        model.conv1.bias[3:] = -5.0
    graph = build_groups(model, torch.zeros(2, 1, 6, 6))
    seen = []
    real = modes.filter_norms

    def spy(net, groups):
        norms = real(net, groups)
        seen.append({g: n.detach().clone() for g, n in norms.items()})
        return norms

    monkeypatch.setattr(modes, "filter_norms", spy)
    result = modes.train_mode(
        "soft",
        model,
        graph.prunable,
        {"conv1": (3, 4, 5)},  # the count is what matters: 3 channels
        lambda pruned: compute_layer_cuts(graph, pruned),
        _split(64, 1),
        _split(32, 2),
        steps=12,
        period=2,
        lr=0.05,
        batch_size=16,
    )
    # one selection at the start, one every period, one for the hard cut; each the 3 lowest norms of its time
    assert len(result.selections) == 1 + 5 + 1
    for norms, chosen in zip(seen, result.selections, strict=False):
        assert chosen["conv1"] == tuple(sorted(torch.argsort(norms["conv1"])[:3].tolist()))
    assert result.selections[0]["conv1"] == (0, 1, 2)
    assert result.pruned["conv1"] == (3, 4, 5)  # the zeroed filters grew back past the dead ones
    assert result.pruned == result.selections[-1]
    assert model.conv1.bias[0] == 0.5  # the model given is not trained in place


@pytest.fixture(scope="module")
def digits() -> PruningSession:
    s = PruningSession("digits_cnn", precision="fp32")
    s.set_ratios({g.name: 0.5 for g in s.groups}, criterion="l1")
    return s


def _gate_total(result) -> float:
    return sum(float(n.sum()) for n in result.norms_after.values())


@pytest.mark.slow
def test_the_group_lasso_shrinks_the_channel_norms(digits):
    s = digits
    args = (s.original_model(), s.groups, s.pruned, s.layer_cuts, s.data.train, s.data.val, 40)
    plain = modes.train_mode("group_lasso", *args, lam=0.0)
    lasso = modes.train_mode("group_lasso", *args, lam=0.05)
    assert _gate_total(lasso) < 0.97 * _gate_total(plain)
    # every group's norms shrink, not only on average
    for group, norms in lasso.norms_after.items():
        assert float(norms.sum()) < float(plain.norms_after[group].sum())
    # the penalty is λ·Σ‖W_g,c‖₂ over every out layer's channel slices, as written
    model = s.original_model().requires_grad_(False)
    want = sum(
        float(
            torch.linalg.vector_norm(
                torch.cat([p[c].reshape(-1) for p in (m.weight, m.bias) if p is not None])
            )
        )
        for m in (model.features[0], model.features[1], model.features[3], model.features[4])
        for c in range(m.weight.shape[0])
    )
    got = sum(float(n.sum()) for layers in modes.lasso_norms(model, s.groups[:2]).values() for n in layers)
    assert got == pytest.approx(want, rel=1e-5)


@pytest.mark.slow
def test_the_three_modes_differ_at_the_same_channel_counts(digits):
    s = digits
    plan, number = s.pruned, s.plan_number
    report = s.compare_training_modes(steps=40)
    assert report["weights"] == "original"
    assert report["counts"] == {g: len(i) for g, i in plan.items()}
    rows = report["modes"]
    assert set(rows) == {"masked", "soft", "group_lasso"}
    for row in rows.values():
        assert {g: len(i) for g, i in row["pruned"].items()} == report["counts"]  # same MACs for all
    assert rows["masked"]["overlap_with_plan"] == 1.0
    assert rows["group_lasso"]["overlap_with_plan"] < 1.0  # it picks its own channels
    accuracies = {m: r["accuracy_after"] for m, r in rows.items()}
    assert len(set(accuracies.values())) == 3, accuracies
    assert rows["soft"]["accuracy_soft"] is not None
    assert s.pruned == plan
    assert s.plan_number == number
    assert s.weights.is_original


def test_finetune_soft_adopts_its_own_cut_and_names_the_weights(digits):
    s = digits
    counts = {g: len(i) for g, i in s.pruned.items()}
    result = s.finetune(steps=20, mode="soft", period=5)
    assert s.pruned == result.pruned
    assert {g: len(i) for g, i in s.pruned.items()} == counts
    assert s.weights.label == f"soft-pruned under plan #{s.plan_number - 1} (20 steps)"
    assert s.weights.fits(s.pruned)
    assert s.evaluate().accuracy == pytest.approx(result.accuracy_after)
    assert s.verify_export() <= 1e-4
    s.undo()
    s.undo()
    assert s.weights.is_original
