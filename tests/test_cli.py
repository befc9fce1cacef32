"""The command line: bench JSON, criteria table, train (smoke-level but real runs)."""

import json
import os
import subprocess
import sys

import pytest

from explorer import bench
from explorer.cli import main
from explorer.session import PruningSession

BENCH_KEYS = {
    "first_p50_ms",
    "first_p95_ms",
    "final_p50_ms",
    "final_p95_ms",
    "naive_p50_ms",
    "final_over_naive",
    "peak_rss_mb",
    "export_speedup",
    "sensitivity_s",
    "sensitivity_naive_s",
}


def test_bench_prints_one_json_object_with_every_key(capsys, monkeypatch):
    timed = []

    def spy(model, example, repeats=20, warmup=3):
        """Which network is timed, on what: its "latency" is its parameter count in thousands."""
        params = sum(p.numel() for p in model.parameters())
        timed.append((params, tuple(example.shape)))
        return params / 1000

    monkeypatch.setattr(bench, "measure_latency", spy)
    assert main(["bench", "--json", "--models", "digits_cnn", "--moves", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"machine", "models"}
    row = result["models"]["digits_cnn"]
    assert set(row) >= BENCH_KEYS
    assert row["samples"] == 359
    assert row["first_p50_ms"] <= row["final_p50_ms"]
    # the original network and the export of a 50 % global L1 plan, each timed on 64 validation images
    plan = PruningSession("digits_cnn")
    full = plan.baseline_cost().params
    plan.set_global_ratio(0.5, criterion="l1")
    pruned = plan.cost().params
    assert timed == [(full, (64, 1, 8, 8)), (pruned, (64, 1, 8, 8))]
    assert row["latency_original_ms"] == round(full / 1000, 2)
    assert row["latency_exported_ms"] == round(pruned / 1000, 2)
    assert row["export_speedup"] == round(full / pruned, 2)
    kinds = {(r["precision"], r["kind"]) for r in row["moves_by_kind"]}
    precisions = ("fp32", "bf16") if row["precision"] == "bf16" else ("fp32",)
    assert kinds == {(p, k) for p in precisions for k in ("random", "first layer")}
    naive = {r["kind"]: r["naive_p50_ms"] for r in row["moves_by_kind"] if r["precision"] == "fp32"}
    for sub in row["moves_by_kind"]:  # every row is compared with the fp32 naive way of the same run
        assert sub["naive_p50_ms"] == naive[sub["kind"]]
        # the ratio (3 decimals) is of the unrounded medians; the medians are printed to 0.01 ms
        assert sub["final_over_naive"] == pytest.approx(
            sub["final_p50_ms"] / sub["naive_p50_ms"], rel=0.02, abs=1e-3
        )


# digits_cnn's bench process: torch itself is about 350 MB; the model, 359 images and the cache are small
BENCH_RSS_BOUND_MB = 1024


def test_bench_peak_memory_is_reported_and_bounded():
    """Run alone, so that the peak is the bench's own (in this test process it is the whole suite's)."""
    run = subprocess.run(
        [sys.executable, "-m", "explorer.cli", "bench", "--json", "--models", "digits_cnn", "--moves", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    row = json.loads(run.stdout)["models"]["digits_cnn"]
    assert 100 < row["peak_rss_mb"] <= BENCH_RSS_BOUND_MB


def test_bench_table_is_markdown(capsys):
    assert main(["bench", "--models", "digits_cnn", "--moves", "2", "--no-sensitivity"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| model |")
    assert "| digits_cnn |" in out


def test_criteria_prints_rho_against_oracle_per_layer(capsys):
    assert main(["criteria", "--model", "digits_cnn"]) == 0
    out = capsys.readouterr().out
    assert "Spearman" in out
    for layer in ("features.0", "features.3", "features.7"):
        assert layer in out
    assert "apoz" in out
    assert "mean_activation" in out


def test_errors_are_messages_not_tracebacks(capsys):
    assert main(["sensitivity", "--model", "no_such_model", "--out", "x"]) == 2
    assert "error:" in capsys.readouterr().err
