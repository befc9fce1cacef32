"""``session.preflight()``: groups per unit, couplings, refusals and risks, as plain data."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from toy_models import seeded

from explorer import PruningSession


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread: on these two shared cores, OpenMP's spin-waiting made such tests 2-3x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _data(n: int = 30):
    generator = torch.Generator().manual_seed(0)
    return torch.randn(n, 1, 8, 8, generator=generator) + 0.5, torch.arange(n) % 4


class _Round(torch.autograd.Function):
    """Rounding with a straight-through gradient (quantisation-aware training writes such Functions)."""

    @staticmethod
    def forward(ctx, x):
        return x.round()

    @staticmethod
    def backward(ctx, grad):
        return grad


class RiskyNet(nn.Module):
    """A custom autograd Function, an in-place residual add, a 1-channel conv and a branch on the data."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 6, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(6)
        self.squeeze = nn.Conv2d(6, 1, 1)
        self.expand = nn.Conv2d(1, 6, 1)
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        if x.mean() > 0:  # data-dependent control flow
            x = x * 2
        x = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(_Round.apply(x)))
        y += x  # in-place update of a coupled layer's output
        y = self.expand(torch.sigmoid(self.squeeze(F.relu(y))))
        return self.fc(y.mean((2, 3)))


def test_preflight_reports_groups_couplings_and_refusals_of_resnet20():
    x, y = torch.randn(20, 3, 32, 32), torch.arange(20) % 10
    s = PruningSession("resnet20_cifar", data=(x, y), pretrained=False)
    report = s.preflight()
    json.dumps(report)  # plain data
    assert report["model"] == "resnet20_cifar"
    assert report["groups"]["by_unit"] == {"channel": {"found": 13, "offered": 12, "units_offered": 448}}
    assert [r["name"] for r in report["refused"]] == ["linear"]
    stream = next(g for g in report["offered"] if g["name"] == "conv1")
    assert {"bn1", "layer1.0.conv2", "layer1.0.bn2"} <= set(stream["coupled_layers"])
    assert "layer2.0.shortcut" in stream["layers"]
    assert report["risks"] == []


def test_preflight_names_each_kind_of_risk():
    s = PruningSession(seeded(RiskyNet()), data=_data())
    report = s.preflight()
    json.dumps(report)
    kinds = {(r["kind"], r["where"]) for r in report["risks"]}
    assert ("custom autograd Function", "_Round") in kinds
    assert ("in-place op on a coupled tensor", "bn2") in kinds
    assert ("1-channel conv", "squeeze") in kinds
    assert ("data-dependent control flow", "RiskyNet") in kinds
    assert all(len(r["detail"]) > 20 for r in report["risks"])
