"""Weights and plans are never confused: the original network is a fixed reference, fine-tuned weights are a
named state tied to the plan they were trained under, and reset / undo / redo walk through both."""

import pytest
import torch

from explorer.errors import ExplorerError
from explorer.session import PruningSession


@pytest.fixture(scope="module")
def tuned():
    """digits_cnn at a 50 % global L1 plan, fine-tuned for 60 steps (one shared run: training is slow)."""
    s = PruningSession("digits_cnn")
    s.set_global_ratio(0.5, criterion="l1")
    pruned_before = s.evaluate().accuracy
    plan_number = s.plan_number
    s.finetune(steps=60, eval_every=0)
    return s, pruned_before, plan_number


@pytest.fixture
def session(tuned):
    s, _, _ = tuned
    while s.redo():  # back to the fine-tuned step, whatever a test did (reset, undo) before
        pass
    while s.weights.kind != "fine-tuned" and s.undo():
        pass
    assert s.weights.kind == "fine-tuned"
    return s


def test_finetuned_weights_are_named_after_their_plan(session, tuned):
    _, pruned_before, plan_number = tuned
    assert session.weights.label == f"fine-tuned under plan #{plan_number} (60 steps)"
    assert session.weights.fits(session.pruned)
    assert session.summary()["weights"]["label"] == session.weights.label
    assert session.evaluate().accuracy > pruned_before + 0.05  # training won accuracy back


def test_reset_after_finetuning_returns_the_original_network(session):
    original = session.baseline()
    session.reset()
    assert session.weights.is_original
    assert session.pruned == {}
    now = session.evaluate()
    assert now.accuracy == original.accuracy
    assert now.loss == pytest.approx(original.loss, abs=1e-9)
    assert session.unchanged()


def test_undo_and_redo_walk_through_finetuning(session):
    tuned_plan, tuned_accuracy = session.pruned, session.evaluate().accuracy
    assert session.undo()  # undo the fine-tuning: same plan, original weights
    assert session.weights.is_original
    assert session.pruned == tuned_plan
    untuned = session.evaluate().accuracy
    assert untuned < tuned_accuracy
    assert session.redo()
    assert session.weights.kind == "fine-tuned"
    assert session.evaluate().accuracy == tuned_accuracy


def test_scores_follow_the_live_weights(session):
    group = session.groups[0].name
    tuned = session.scores("l1", groups=[group])[group].clone()
    want = session.model.get_submodule(group).weight.detach().abs().sum(dim=(1, 2, 3))
    assert torch.allclose(tuned, want.to(tuned.dtype))
    session.reset()
    original = session.scores("l1", groups=[group])[group]
    assert not torch.equal(original, tuned)
    want = session.model.get_submodule(group).weight.detach().abs().sum(dim=(1, 2, 3))
    assert torch.allclose(original, want.to(original.dtype))


def test_comparisons_use_the_original_weights(session):
    after = session.compare_unstructured(repeats=1)
    assert after["weights"] == "original"
    fresh = PruningSession("digits_cnn")
    fresh.apply_plan(session.plan)
    before = fresh.compare_unstructured(repeats=1)
    assert after["unstructured_accuracy"] == before["unstructured_accuracy"]
    assert after["filter_accuracy"] == before["filter_accuracy"]
    assert after["unstructured_accuracy"] > 0.5  # not the chance level of masks applied to tuned weights


def test_baseline_is_the_original_network_even_when_first_asked_after_finetuning():
    s = PruningSession("digits_cnn")
    s.set_global_ratio(0.5, criterion="l1")
    s.finetune(steps=5, eval_every=0)
    late = s.baseline()
    assert s.weights.kind == "fine-tuned"
    assert late.accuracy == PruningSession("digits_cnn").baseline().accuracy
    assert s.unchanged()  # the live weights were put back


def test_a_plan_that_restores_trained_away_channels_is_flagged(session):
    group = next(iter(session.weights.trained_under))
    restored = {**session.pruned, group: session.pruned[group][1:]}
    assert not session.weights.fits(restored)
    assert session.weights.fits({**session.pruned, "extra": (0,)})


def test_weights_of_another_network_are_refused(session):
    with pytest.raises(ExplorerError, match="do not belong"):
        session.adopt_weights(torch.nn.Linear(2, 2))


def test_the_export_summary_names_the_weights_it_exported(session, tmp_path):
    from explorer.export import save_pruned

    summary = (save_pruned(session, tmp_path / "tuned") / "SUMMARY.md").read_text()
    assert f"Weights exported: {session.weights.label}." in summary
    session.reset()
    summary = (save_pruned(session, tmp_path / "original") / "SUMMARY.md").read_text()
    assert "Weights exported: original." in summary


def test_scores_ranks_and_the_why_panel_follow_adopted_weights():
    """Adopting new weights (a fine-tuning's) replaces every cached score: the ℓ1 and FPGM scores, the ranks
    and the "why" terms are those of the new weights, computed here from them directly."""
    s = PruningSession("digits_cnn", verify=False)
    group = s.groups[0].name
    old_scores = s.scores("l1", groups=[group])[group].clone()
    old_rank = s.views.rank("l1", group)
    s.scores("fpgm", groups=[group])
    model = s.model_copy()
    weight = model.get_submodule(group).weight
    with torch.no_grad():  # channel c scaled by c + 1: a new ranking
        weight.mul_(torch.arange(1, weight.shape[0] + 1, dtype=weight.dtype).view(-1, 1, 1, 1))
    s.adopt_weights(model)
    new = weight.detach().double()
    want = new.abs().sum(dim=(1, 2, 3))
    got = s.scores("l1", groups=[group])[group]
    assert torch.allclose(got.double(), want, rtol=1e-6)
    assert not torch.allclose(got.double(), old_scores.double())
    flat = new.flatten(1)
    fpgm = torch.cdist(flat, flat).sum(1)  # FPGM: summed distance to the other filters
    assert torch.allclose(s.scores("fpgm", groups=[group])[group].double(), fpgm, rtol=1e-5)
    rank = s.views.rank("l1", group)
    assert rank["order"] == sorted(range(len(want)), key=lambda c: (float(want[c]), c))
    assert rank["order"] != old_rank["order"]
    why = s.views.explain(group, 2, "l1")
    assert why["score"] == pytest.approx(float(want[2]), rel=1e-6)
    assert why["terms"] == pytest.approx(new[2].abs().flatten()[:6].tolist(), rel=1e-6)
