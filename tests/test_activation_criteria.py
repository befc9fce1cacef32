"""``apoz`` (Hu et al. 2016) and ``mean_activation`` (Polyak & Wolf 2015) against explicit loops over the
ReLU outputs (``tests/test_cli.py`` checks they are in the criteria-vs-oracle report)."""

from __future__ import annotations

from types import SimpleNamespace

import torch
from toy_models import PlainNet, ResidualNet, seeded

from explorer.criteria import compute_group_scores, get_criterion
from explorer.graph import build_groups

EXAMPLE = torch.zeros(2, 1, 8, 8)


def _calib(n: int = 20) -> SimpleNamespace:
    gen = torch.Generator().manual_seed(5)
    return SimpleNamespace(
        inputs=torch.randn(n, 1, 8, 8, generator=gen), labels=torch.zeros(n, dtype=torch.long)
    )


def _loop_scores(relu_out: torch.Tensor) -> tuple[list[float], list[float]]:
    """(1 − APoZ, mean) per channel, counting position by position."""
    n, c, h, w = relu_out.shape
    apoz, mean = [], []
    for ch in range(c):
        zeros = total = 0
        for i in range(n):
            for y in range(h):
                for x in range(w):
                    value = float(relu_out[i, ch, y, x])
                    zeros += value == 0.0
                    total += value
        apoz.append(1 - zeros / (n * h * w))
        mean.append(total / (n * h * w))
    return apoz, mean


def test_plain_net_scores_equal_explicit_counts():
    model = seeded(PlainNet(), 2)
    graph = build_groups(model, EXAMPLE)
    calib = _calib()
    with torch.no_grad():
        first = torch.relu(model.features[1](model.features[0](calib.inputs)))
        second = torch.relu(model.features[4](model.features[3](first)))
    apoz = compute_group_scores("apoz", model, graph, calib=calib, batch_size=7)
    mean = compute_group_scores("mean_activation", model, graph, calib=calib, batch_size=7)
    for group, relu_out in (("features.0", first), ("features.3", second)):
        want_apoz, want_mean = _loop_scores(relu_out)
        assert torch.allclose(
            apoz[group].score.double(), torch.tensor(want_apoz, dtype=torch.float64), atol=1e-6
        )
        assert torch.allclose(
            mean[group].score.double(), torch.tensor(want_mean, dtype=torch.float64), atol=1e-5
        )
        assert list(apoz[group].members) == [f"features.{int(group[-1]) + 1}"]  # the BN, not the conv
    assert float(apoz["features.0"].score.min()) > 0.0
    assert float(apoz["features.0"].score.max()) <= 1.0


def test_residual_group_averages_its_bns():
    model = seeded(ResidualNet(), 1)
    graph = build_groups(model, EXAMPLE)
    calib = _calib(12)
    scores = compute_group_scores("mean_activation", model, graph, calib=calib)
    for gs in scores.values():
        assert len(gs.members) >= 1
        stacked = torch.stack(list(gs.members.values())).double()
        assert torch.allclose(gs.score.double(), torch.nanmean(stacked, dim=0), atol=1e-6)


def test_registered_with_their_papers():
    assert get_criterion("apoz").url == "https://arxiv.org/abs/1607.03250"
    assert get_criterion("apoz").needs == "activations"
    assert get_criterion("mean_activation").needs_data
