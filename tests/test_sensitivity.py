"""Sensitivity scans, plan suggestions, fine-tuning, structured vs unstructured, on digits_cnn."""

import copy

import numpy as np
import pytest
import torch

from explorer import experiments
from explorer.cli import main
from explorer.evaluation import EvaluationCancelled
from explorer.export import load_pruned, save_pruned
from explorer.finetune import finetune_masked
from explorer.session import PruningSession


@pytest.fixture(scope="module")
def session():
    return PruningSession("digits_cnn")


@pytest.fixture(scope="module")
def table(session):
    return session.sensitivity(criterion="l1")


def test_table_has_every_group_and_ratio(session, table):
    assert len(table.rows) == len(session.groups) * 9
    assert set(table.rows[0]) >= {"group", "ratio", "accuracy", "loss"}


def test_ratio_zero_equals_the_baseline_exactly(session):
    zero = session.sensitivity(ratios=[0.0], criterion="l1")
    base = session.baseline()
    assert all(r["accuracy"] == base.accuracy and r["loss"] == base.loss for r in zero.rows)


def test_rows_match_pruning_that_group_alone(session, table):
    row = table.curve(session.groups[1].name)[4]
    session.reset()
    session.set_ratio(row["group"], row["ratio"], criterion="l1")
    metrics = session.evaluate()
    session.reset()
    assert (metrics.accuracy, metrics.loss) == (row["accuracy"], row["loss"])


def test_scan_is_cached_per_criterion(session, table):
    assert session.sensitivity(criterion="l1") is table


def test_li_plan_keeps_its_epsilon(session, table):
    epsilon = 0.02
    suggestion = session.suggest_plan("li", table=table, epsilon=epsilon)
    for name, ratio in suggestion["ratios"].items():
        assert session.ratio(name) == ratio
        single = [r for r in table.curve(name) if r["ratio"] == ratio]
        assert not single or table.baseline_accuracy - single[0]["accuracy"] <= epsilon
    session.reset()


def test_target_plan_reaches_the_macs_and_reports_prediction_and_reality(session, table):
    suggestion = session.suggest_plan("target", table=table, reduction=0.3)
    real = session.evaluate()
    assert real.macs <= 0.7 * session.baseline_cost().macs
    assert suggestion["predicted_macs"] == real.macs
    # the prediction adds up the single-group drops of the sensitivity rows at the chosen ratios
    drops = 0.0
    for name, ratio in suggestion["ratios"].items():
        assert session.ratio(name) == ratio
        if ratio > 0:
            (row,) = [r for r in table.curve(name) if r["ratio"] == ratio]
            drops += table.baseline_accuracy - row["accuracy"]
    assert suggestion["predicted_accuracy"] == pytest.approx(table.baseline_accuracy - drops, abs=1e-12)
    assert any(r > 0 for r in suggestion["ratios"].values())
    session.reset()


def test_cancelled_scan_leaves_the_session_usable(session):
    calls = []
    with pytest.raises(EvaluationCancelled):
        session.sensitivity(
            criterion="l2", should_stop=lambda: len(calls) > 0, progress=lambda *a: calls.append(a)
        )
    session.set_ratio(session.groups[0].name, 0.5)
    assert session.evaluate().final
    assert session.sensitivity(criterion="l2", ratios=[0.5]).rows
    session.reset()


def test_finetuning_recovers_at_least_half_of_the_drop(tmp_path):
    s = PruningSession("digits_cnn")
    base = s.baseline().accuracy
    s.set_global_ratio(0.5, criterion="l1")
    pruned = s.evaluate().accuracy
    result = s.finetune(steps=150, eval_every=50)
    after = s.evaluate().accuracy
    assert after == pytest.approx(result.accuracy_after)
    assert after - pruned >= 0.5 * (base - pruned)
    folder = save_pruned(s, tmp_path / "tuned")
    rebuilt = load_pruned(folder)
    x = s.data.val.inputs[:64]
    with torch.no_grad():
        assert torch.allclose(rebuilt(x), s.masked_outputs(x), atol=1e-4)


def test_cancelled_finetune_changes_nothing():
    s = PruningSession("digits_cnn")
    s.set_global_ratio(0.5)
    before = s.evaluate()
    result = s.finetune(steps=100, should_stop=lambda: True)
    assert result.cancelled
    assert s.evaluate() == before


def test_one_shot_vs_iterative_equals_the_schedule_done_by_hand():
    """Redone step by step with the training primitive: the global 50 % L1 plan (the global slider's), then
    one-shot = 60 steps under it; iterative = 3 × 20 steps under nested plans removing the lowest-L1 third,
    two thirds, then all of each group's channels, in that order."""
    s = PruningSession("digits_cnn")
    result = s.compare_schedules(ratio=0.5, steps=60, k=3)
    assert s.pruned == {}
    assert s.unchanged()
    s.set_global_ratio(0.5, criterion="l1")
    final = s.pruned
    s.reset()
    train, val = s.data.train, s.data.val
    one_shot = finetune_masked(s.original_model(), s.layer_cuts(final), train, val, 60, seed=s.seed)
    assert result["before"] == one_shot.accuracy_before
    assert result["one_shot"] == one_shot.accuracy_after
    model, curve = s.original_model(), []
    for step in range(3):
        plan = {}
        for group, removed in final.items():
            weight = s.model.get_submodule(group).weight.detach()
            l1 = weight.abs().sum(dim=tuple(range(1, weight.dim()))).double().numpy()
            order = [i for i in np.argsort(l1, kind="stable") if i in removed]  # least important first
            plan[group] = tuple(sorted(int(i) for i in order[: round(len(removed) * (step + 1) / 3)]))
        done = finetune_masked(model, s.layer_cuts(plan), train, val, 20, seed=s.seed + step)
        model = done.model
        curve.append(done.accuracy_after)
    assert plan == final
    assert result["iterative_steps"] == curve
    assert result["iterative"] == curve[-1]


def test_unstructured_comparison_times_the_three_networks_it_names(monkeypatch):
    """Known values: the exported model's parameters, the accuracies of the exported and of a hand-made
    magnitude-pruned copy; a spy on the timer says which network each latency is of."""
    s = PruningSession("digits_cnn")
    s.set_global_ratio(0.5)
    exported = s.export()
    params = sum(p.numel() for p in exported.parameters())
    timed = []

    def spy(model, example, repeats=20, warmup=3):
        numel = sum(p.numel() for p in model.parameters())
        nonzero = sum(int(torch.count_nonzero(p)) for p in model.parameters())
        timed.append((numel, nonzero, tuple(example.shape), repeats))
        return numel + nonzero / 1e6  # a different "latency" for each network

    monkeypatch.setattr(experiments, "measure_latency", spy)
    result = s.compare_unstructured(repeats=3)
    dense = sum(p.numel() for p in s.model.parameters())
    assert result["params"] == params == s.cost().params
    assert result["unstructured_nonzero_params"] == params
    assert result["dense_latency_ms"] == dense + dense / 1e6
    assert result["filter_latency_ms"] == params + params / 1e6
    assert result["unstructured_latency_ms"] == dense + params / 1e6
    shape = (128, *s.data.val.inputs.shape[1:])
    assert timed[-3:] == [(dense, dense, shape, 3), (params, params, shape, 3), (dense, params, shape, 3)]
    assert len(timed) == 6  # each warmed up once first
    # the accuracies, by hand
    val = s.data.val
    with torch.no_grad():
        right = exported(val.inputs).argmax(1) == val.labels
        assert result["filter_accuracy"] == float(right.double().mean())
        sparse = copy.deepcopy(s.original_model())
        weights = [m.weight for m in sparse.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        flat = torch.cat([w.abs().flatten() for w in weights])
        threshold = flat.sort().values[dense - params - 1]  # the largest |w| that goes
        for w in weights:
            w[w.abs() <= threshold] = 0
        assert sum(int(torch.count_nonzero(p)) for p in sparse.parameters()) == params
        want = float((sparse(val.inputs).argmax(1) == val.labels).double().mean())
    assert result["unstructured_accuracy"] == pytest.approx(want, abs=1e-12)


def test_cli_writes_csv_and_png(tmp_path, capsys):
    assert main(["sensitivity", "--model", "digits_cnn", "--ratios", "0.25,0.5", "--out", str(tmp_path)]) == 0
    csv_text = (tmp_path / "sensitivity.csv").read_text().splitlines()
    assert csv_text[0] == "group,ratio,accuracy,loss,macs,params"
    assert len(csv_text) == 1 + 2 * 3
    assert (tmp_path / "sensitivity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_after_finetuning_the_baseline_is_still_the_original_network(tmp_path):
    s = PruningSession("digits_cnn")
    original = s.baseline()
    s.set_global_ratio(0.5)
    s.finetune(steps=30, eval_every=0)
    assert s.baseline() == original
    summary = (save_pruned(s, tmp_path / "out") / "SUMMARY.md").read_text()
    assert f"| top-1 accuracy | {original.accuracy:.2%} |" in summary
