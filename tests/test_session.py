"""PruningSession on the embedded digits_cnn: plans, evaluation, cache, progressive estimates, export."""

import hashlib
import json

import numpy as np
import pytest
import scipy.stats
import torch

from explorer.evaluation import ActivationCache
from explorer.export import load_pruned, save_pruned
from explorer.live import LiveEvaluator
from explorer.masks import LayerCuts
from explorer.plan import PlanError
from explorer.session import PruningSession
from explorer.zoo import create_model


def state_hash(model: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode() + tensor.numpy().tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def session():
    return PruningSession("digits_cnn")


@pytest.fixture
def fresh(session):
    session.reset()
    yield session
    session.reset()


def test_groups_have_names_channels_and_layers(session):
    assert len(session.groups) >= 3
    for group in session.groups:
        assert group.num_channels >= 16
        assert group.layers[0] == group.name
    assert all(not g.prunable and g.reason for g in session.all_groups if g not in session.groups)


def test_user_model_is_never_mutated(tmp_path):
    model = create_model("digits_cnn", pretrained=True)
    before = state_hash(model)
    s = PruningSession(model, data="digits")
    for criterion in ("l1", "fpgm", "taylor"):
        s.set_global_ratio(0.4, criterion=criterion)
    s.evaluate()
    s.export()
    save_pruned(s, tmp_path / "out")
    assert state_hash(model) == before
    assert s.unchanged()
    assert not model._forward_hooks
    assert not model._forward_pre_hooks


def test_ratio_zero_equals_baseline_exactly(fresh):
    base = fresh.baseline()
    group = fresh.groups[0].name
    fresh.set_ratio(group, 0.5)
    fresh.evaluate()
    fresh.set_ratio(group, 0.0)
    assert fresh.evaluate() == base
    assert base.accuracy >= 0.97


def test_cached_evaluation_equals_naive(fresh):
    for group, ratio in zip(fresh.groups, (0.3, 0.6, 0.5), strict=False):
        fresh.set_ratio(group.name, ratio)
        cached = fresh.evaluate()
        naive = fresh.evaluate(use_cache=False)
        assert cached == naive
    assert fresh.evaluator.cache.hits > 0


def test_progressive_estimates_converge_to_the_exact_value(fresh):
    fresh.set_ratio(fresh.groups[-1].name, 0.7)
    estimates = list(fresh.iter_evaluate())
    assert len(estimates) == len(fresh.evaluator.batches) > 1
    assert estimates[0].seen < estimates[-1].seen == estimates[-1].total
    assert estimates[-1].accuracy_ci == 0.0
    assert estimates[0].accuracy_ci > 0.0
    assert estimates[-1] == fresh.evaluate()


def test_a_newer_plan_cancels_the_running_evaluation(fresh):
    iterator = fresh.iter_evaluate()
    first = next(iterator)
    assert not first.final
    fresh.set_ratio(fresh.groups[0].name, 0.5)
    assert list(iterator) == []


def test_live_evaluator_finishes_only_the_last_of_a_storm(fresh):
    finals = []
    errors = []
    live = LiveEvaluator(fresh, lambda m, gen: finals.append(gen) if m.final else None, errors.append)
    try:
        group = fresh.groups[1].name
        for ratio in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
            fresh.set_ratio(group, ratio)
            live.request()
        assert live.wait(timeout=30)
    finally:
        live.close()
    assert not errors
    assert finals[-1] == fresh.generation
    assert len(finals) < 6


def test_plan_round_trips_through_json(fresh, tmp_path):
    fresh.set_ratio(fresh.groups[0].name, 0.25, criterion="l2")
    fresh.set_pruned(fresh.groups[1].name, [0, 3, 5])
    text = json.dumps(fresh.plan)
    expected = fresh.pruned
    fresh.reset()
    fresh.apply_plan(text)
    assert fresh.pruned == expected
    fresh.save_plan(tmp_path / "plan.json")
    fresh.reset()
    fresh.load_plan(tmp_path / "plan.json")
    assert fresh.pruned == expected


def test_undo_and_reset(fresh):
    g = fresh.groups[0].name
    fresh.set_ratio(g, 0.5)
    first = fresh.pruned
    fresh.set_ratio(g, 0.75)
    assert fresh.undo()
    assert fresh.pruned == first
    fresh.reset()
    assert fresh.pruned == {}
    assert fresh.undo()
    assert fresh.pruned == first


def test_every_step_is_a_new_generation_undo_and_redo_included(fresh):
    """Work started for an older step (a running evaluation) notices it is stale by the generation."""
    g = fresh.groups[0].name
    seen = [fresh.generation]
    for change in (
        lambda: fresh.set_ratio(g, 0.5),
        lambda: fresh.set_ratio(g, 0.25),
        fresh.undo,
        fresh.redo,
        fresh.undo,
        fresh.reset,
        fresh.undo,
    ):
        change()
        seen.append(fresh.generation)
    assert seen == sorted(set(seen)), seen  # strictly increasing
    assert fresh.pruned == {g: tuple(sorted(lowest_l1(fresh, g, 0.5)))}


def lowest_l1(session, group: str, ratio: float) -> list[int]:
    """The channels of ``group`` with the smallest ℓ1 norms, by a stable argsort (ties: lower index)."""
    weight = session.model.get_submodule(group).weight.detach()
    l1 = weight.abs().sum(dim=tuple(range(1, weight.dim()))).double().numpy()
    return np.argsort(l1, kind="stable")[: round(ratio * len(l1))].tolist()


@pytest.mark.parametrize("ratio", [0.25, 0.5, 0.75])
def test_a_ratio_removes_the_lowest_l1_filters(fresh, ratio):
    for group in fresh.groups:
        fresh.set_ratio(group.name, ratio, criterion="l1")
        assert fresh.pruned[group.name] == tuple(sorted(lowest_l1(fresh, group.name, ratio)))


def test_toggle_channel(fresh):
    g = fresh.groups[0].name
    fresh.toggle_channel(g, 3)
    assert fresh.pruned[g] == (3,)
    fresh.toggle_channel(g, 3)
    assert g not in fresh.pruned


@pytest.mark.parametrize("ratio", [1.0, 1.5, -0.1, float("nan")])
def test_a_ratio_that_would_remove_everything_is_refused(fresh, ratio):
    before = fresh.pruned
    with pytest.raises(PlanError, match="at least one channel"):
        fresh.set_ratio(fresh.groups[0].name, ratio)
    assert fresh.pruned == before


def test_high_ratios_keep_at_least_one_channel(fresh):
    for group in fresh.groups:
        fresh.set_ratio(group.name, 0.99)
        assert len(fresh.pruned[group.name]) == group.num_channels - 1


def test_global_ratio_respects_the_cap_and_the_total(fresh):
    fresh.set_global_ratio(0.5, max_pruning_ratio=0.6)
    total = sum(g.num_channels for g in fresh.groups)
    removed = sum(len(v) for v in fresh.pruned.values())
    assert removed == round(0.5 * total)
    for group in fresh.groups:
        assert len(fresh.pruned.get(group.name, ())) <= int(0.6 * group.num_channels)


def test_plan_errors_keep_the_current_plan(fresh):
    fresh.set_ratio(fresh.groups[0].name, 0.5)
    before = fresh.pruned
    with pytest.raises(PlanError):
        fresh.apply_plan({"groups": {"nope": {"pruned": [0]}}})
    with pytest.raises(PlanError):
        fresh.set_pruned(fresh.groups[0].name, list(range(fresh.groups[0].num_channels)))
    assert fresh.pruned == before


def test_cost_and_metrics_agree_with_export(fresh):
    fresh.set_global_ratio(0.5)
    metrics = fresh.evaluate()
    exported = fresh.export()
    assert metrics.params == sum(p.numel() for p in exported.parameters())
    assert fresh.verify_export(exported) <= 1e-4
    assert metrics.macs < fresh.baseline_cost().macs


def test_save_and_load_pruned_round_trip(fresh, tmp_path):
    fresh.set_global_ratio(0.4)
    folder = save_pruned(fresh, tmp_path / "pruned")
    assert sorted(p.name for p in folder.iterdir()) == ["SUMMARY.md", "plan.json", "pruned_state_dict.pt"]
    assert "| top-1 accuracy |" in (folder / "SUMMARY.md").read_text()
    rebuilt = load_pruned(folder)
    x = fresh.data.val.inputs[:50]
    with torch.no_grad():
        assert torch.allclose(rebuilt(x), fresh.masked_outputs(x), atol=1e-4)


def test_cache_respects_a_tiny_budget():
    s = PruningSession("digits_cnn", cache_budget=200_000)
    for ratio in (0.2, 0.4, 0.6):
        s.set_ratio(s.groups[1].name, ratio)
        s.evaluate()
        assert s.evaluator.cache.used <= 200_000
    cache = ActivationCache(100)
    cache.put(("a",), torch.zeros(10))
    cache.put(("b",), torch.zeros(20))
    assert cache.get(("a",)) is None
    assert cache.used == 80


def test_empty_cuts_evaluate_baseline(fresh):
    assert fresh.evaluator.evaluate(LayerCuts()).accuracy == fresh.baseline().accuracy


def test_agreement_reports_rho_and_overlap_per_group_and_pair(session):
    rows = session.agreement(("l1", "l2", "random"), ratio=0.5)
    assert len(rows) == 3 * len(session.groups)
    l1_l2 = [r for r in rows if (r["criterion_a"], r["criterion_b"]) == ("l1", "l2")]
    assert all(r["rho"] > 0.5 for r in l1_l2)  # both are weight norms
    # every row against scipy's Spearman and the overlap of two explicit stable argsorts
    scores = {c: session.scores(c) for c in ("l1", "l2", "random")}
    pairs = [("l1", "l2"), ("l1", "random"), ("l2", "random")]
    assert [(r["group"], r["criterion_a"], r["criterion_b"]) for r in rows] == [
        (g.name, a, b) for g in session.groups for a, b in pairs
    ]
    for row in rows:
        a = scores[row["criterion_a"]][row["group"]].double().numpy()
        b = scores[row["criterion_b"]][row["group"]].double().numpy()
        assert row["rho"] == pytest.approx(scipy.stats.spearmanr(a, b).statistic, abs=1e-12)
        count = int(0.5 * len(a))
        first = set(np.argsort(a, kind="stable")[:count].tolist())
        second = set(np.argsort(b, kind="stable")[:count].tolist())
        assert row["overlap"] == len(first & second) / count
        assert row["jaccard"] == len(first & second) / len(first | second)


def test_pretrained_resnet20_on_real_cifar_images(shared_data, tmp_path, monkeypatch):
    """The real checkpoint on the 100 real CIFAR-10 images: ≥ 90 %, option-A streams offered, export exact."""
    from explorer.zoo.pretrained import install_weights

    monkeypatch.setenv("PRUNING_EXPLORER_CACHE", str(tmp_path))
    install_weights("resnet20_cifar", shared_data / "pretrained" / "resnet20-12fca82f.th")
    csv = shared_data / "cifar10-first100" / "cifar10_test.csv"
    s = PruningSession("resnet20_cifar", data=f"cifar10_csv:{csv}")
    assert s.trained
    assert s.baseline().accuracy >= 0.90
    blocks = [f"layer{i}.{j}.conv1" for i in (1, 2, 3) for j in range(3)]
    streams = ["conv1", "layer2.0.conv2", "layer3.0.conv2"]  # joined by the zero-padding shortcuts
    assert sorted(g.name for g in s.groups) == sorted(blocks + streams)
    assert [g.name for g in s.all_groups if not g.prunable] == ["linear"]
    s.set_global_ratio(0.5, criterion="l1")
    pruned = s.evaluate()
    assert pruned.macs < s.baseline_cost().macs
    assert s.verify_export() <= 1e-4
