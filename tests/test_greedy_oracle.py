"""The greedy oracle (Molchanov et al. 2017): checked against a brute-force greedy loop written here, on a
synthetic loss with a redundant pair, and on the trained digits network against random pruning."""

from __future__ import annotations

import copy
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from toy_models import PlainNet, seeded

from explorer import PruningSession
from explorer.criteria import ScoringCancelled, compute_group_scores, explain, get_criterion, random_scores
from explorer.criteria.greedy_oracle import greedy_evaluations, greedy_oracle_scores, greedy_steps
from explorer.graph import build_groups
from explorer.masks import apply_masks, compute_layer_cuts
from explorer.plan import lowest

EXAMPLE = torch.randn(1, 1, 8, 8)


def _calib(n: int = 40, seed: int = 1) -> SimpleNamespace:
    gen = torch.Generator().manual_seed(seed)
    return SimpleNamespace(
        inputs=torch.randn(n, 1, 8, 8, generator=gen), labels=torch.randint(0, 5, (n,), generator=gen)
    )


@pytest.fixture
def plain():
    model = seeded(PlainNet(channels=(4, 6, 8)), seed=2).eval()
    return model, build_groups(model, EXAMPLE)


def _engine_loss(model, graph, calib):
    """What the session provides: the calibration loss with some channels of one group masked."""
    frozen = copy.deepcopy(model).eval()

    def masked_loss(group: str, idxs: list[int]) -> float:
        with torch.no_grad(), apply_masks(frozen, compute_layer_cuts(graph, {group: idxs})):
            return F.cross_entropy(frozen(calib.inputs), calib.labels).item()

    return masked_loss


def _brute_force_greedy(model, bn_index: int, calib) -> list[int]:
    """Independently: zero the removed channels' BN γ and β in a copy (their outputs are then 0, and stay 0
    through the ReLU), try every remaining channel, keep the one with the lowest loss, repeat."""
    channels = model.features[bn_index].num_features
    removed: list[int] = []
    for _ in range(channels - 1):
        losses = {}
        for c in range(channels):
            if c in removed:
                continue
            trial = copy.deepcopy(model)
            bn = trial.features[bn_index]
            with torch.no_grad():
                for i in [*removed, c]:
                    bn.weight[i] = 0
                    bn.bias[i] = 0
                losses[c] = F.cross_entropy(trial(calib.inputs), calib.labels).item()
        removed.append(min(losses, key=lambda c: (losses[c], c)))
    return removed


def test_greedy_order_matches_a_brute_force_greedy_loop(plain):
    model, graph = plain
    calib = _calib()
    got = compute_group_scores(
        "greedy_oracle", model, graph, calib=calib, masked_loss=_engine_loss(model, graph, calib)
    )
    for group, bn_index in (("features.0", 1), ("features.3", 4), ("features.7", 8)):
        score = got[group].score
        expected = _brute_force_greedy(model, bn_index, calib)
        order = sorted(range(score.numel()), key=lambda c: (float(score[c]), c))
        assert order[: len(expected)] == expected
        # the explorer's "lowest first" removes exactly the greedy sets, at every count
        for n in range(1, len(expected) + 1):
            assert lowest(score, n) == tuple(sorted(expected[:n]))
        # the explanation's "alone" numbers are the single-channel oracle's scores
        single = compute_group_scores(
            "oracle", model, graph, groups=[group], calib=calib, masked_loss=_engine_loss(model, graph, calib)
        )[group].score
        assert torch.allclose(got[group].details["alone"], single, atol=1e-6)


def test_a_redundant_pair_fools_the_single_oracle_but_not_the_greedy_one():
    # Channels 0 and 1 carry the same feature: either alone costs nothing, both together cost 5.
    # Channels 2 and 3 cost 1 and 2 each, additively.
    def loss(removed) -> float:
        s = set(removed)
        return 5.0 * ({0, 1} <= s) + 1.0 * (2 in s) + 2.0 * (3 in s)

    single = torch.tensor([loss([c]) for c in range(4)])
    assert lowest(single, 2) == (0, 1)  # the single-channel oracle removes the pair: loss 5
    greedy = greedy_oracle_scores(loss, 4, 0.0)
    assert lowest(greedy, 2) == (0, 2)  # the greedy one removes one twin, then channel 2: loss 1
    assert lowest(greedy, 3) == (0, 2, 3)
    assert greedy.tolist()[:1] == [0.0]  # removing channel 0 first raised the loss by 0
    assert all(a < b for a, b in zip(sorted(greedy.tolist()), sorted(greedy.tolist())[1:], strict=False))


def test_the_search_stops_at_the_max_ratio_and_orders_the_rest_by_the_last_losses():
    calls = []

    def loss(removed) -> float:
        calls.append(list(removed))
        return float(sum((c * 7) % 10 for c in removed))  # additive: the greedy order is by (c·7) mod 10

    scores = greedy_oracle_scores(loss, 10, 0.0, max_ratio=0.5)
    assert greedy_steps(10, 0.5) == 5
    assert len(calls) == greedy_evaluations(10, 0.5) == 10 + 9 + 8 + 7 + 6 + 5
    order = sorted(range(10), key=lambda c: float(scores[c]))
    assert order == sorted(range(10), key=lambda c: (c * 7) % 10)
    assert greedy_evaluations(10) == sum(range(2, 11))  # 90 %: the full order, the last channel is kept


def test_progress_counts_every_loss_evaluation(plain):
    model, graph = plain
    calib = _calib(16)
    seen = []
    compute_group_scores(
        "greedy_oracle",
        model,
        graph,
        calib=calib,
        masked_loss=_engine_loss(model, graph, calib),
        progress=lambda d, t: seen.append((d, t)),
    )
    total = sum(greedy_evaluations(c) for c in (4, 6, 8))
    assert seen == [(i, total) for i in range(1, total + 1)]


def test_greedy_oracle_can_be_cancelled(plain):
    model, graph = plain
    calls = []

    def masked_loss(group, idxs):
        calls.append((group, idxs))
        return 1.0

    polls = iter(range(1000))
    with pytest.raises(ScoringCancelled, match="greedy oracle cancelled"):
        compute_group_scores(
            "greedy_oracle",
            model,
            graph,
            calib=_calib(8),
            masked_loss=masked_loss,
            base_loss=1.0,
            should_stop=lambda: next(polls) >= 3,
        )
    assert len(calls) == 3


def test_explanation_gives_the_loss_alone_and_at_removal(plain):
    model, graph = plain
    calib = _calib(16)
    scores = compute_group_scores(
        "greedy_oracle", model, graph, calib=calib, masked_loss=_engine_loss(model, graph, calib)
    )["features.3"]
    first = int(scores.score.argmin())
    why = explain("greedy_oracle", model, graph["features.3"], scores, first)
    alone, at_removal, step, searched = why["terms"]
    assert why["kind"] == "greedy"
    assert step == 1
    assert searched == greedy_steps(6)
    assert alone == pytest.approx(at_removal)  # nothing removed before the first one
    assert get_criterion("greedy_oracle").needs == "loss_oracle"


@pytest.mark.slow
def test_digits_greedy_oracle_keeps_at_least_random_accuracy_at_half_of_features_7():
    """The issue's Done-when: at 50 % of ``features.7`` (64 filters) on the trained digits network, the greedy
    oracle keeps at least the mean validation accuracy of random pruning over 5 seeds (0-4)."""
    s = PruningSession("digits_cnn", precision="fp32")
    s.group_scores("greedy_oracle", groups=["features.7"])
    s.set_ratio("features.7", 0.5, criterion="greedy_oracle")
    greedy = s.evaluate().accuracy
    randoms = []
    for seed in range(5):
        s.set_pruned("features.7", lowest(random_scores(64, seed), 32))
        randoms.append(s.evaluate().accuracy)
    assert greedy >= sum(randoms) / len(randoms)
    assert not math.isnan(greedy)


@pytest.mark.slow
def test_resnet20_greedy_oracle_reports_progress_and_stops(shared_data, tmp_path, monkeypatch):
    from explorer.zoo.pretrained import install_weights

    monkeypatch.setenv("PRUNING_EXPLORER_CACHE", str(tmp_path))
    install_weights("resnet20_cifar", shared_data / "pretrained" / "resnet20-12fca82f.th")
    csv = shared_data / "cifar10-first100" / "cifar10_test.csv"
    s = PruningSession("resnet20_cifar", data=f"cifar10_csv:{csv}", num_samples=50, calib_samples=50)
    seen = []
    with pytest.raises(ScoringCancelled):
        s.group_scores(
            "greedy_oracle", progress=lambda d, t: seen.append((d, t)), should_stop=lambda: len(seen) >= 5
        )
    total = sum(greedy_evaluations(g.num_channels) for g in s.groups)
    assert seen == [(i, total) for i in range(1, 6)]
