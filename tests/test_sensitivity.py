"""Sensitivity scans, plan suggestions, fine-tuning, structured vs unstructured, on digits_cnn."""

import pytest
import torch

from explorer.cli import main
from explorer.evaluation import EvaluationCancelled
from explorer.export import load_pruned, save_pruned
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
    assert 0.0 <= suggestion["predicted_accuracy"] <= 1.0
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


def test_one_shot_vs_iterative_runs_on_copies():
    s = PruningSession("digits_cnn")
    result = s.compare_schedules(ratio=0.5, steps=60, k=3)
    assert len(result["iterative_steps"]) == 3
    assert 0 <= result["one_shot"] <= 1
    assert 0 <= result["iterative"] <= 1
    assert s.pruned == {}
    assert s.unchanged()


def test_unstructured_comparison_matches_parameter_counts():
    s = PruningSession("digits_cnn")
    s.set_global_ratio(0.5)
    result = s.compare_unstructured(repeats=3)
    assert result["unstructured_nonzero_params"] == result["params"]
    assert result["filter_latency_ms"] > 0
    assert result["unstructured_latency_ms"] > 0


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
