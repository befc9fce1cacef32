"""The command line: bench JSON, criteria table, train (smoke-level but real runs)."""

import json

import pytest

from explorer.cli import main

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


def test_bench_prints_one_json_object_with_every_key(capsys):
    assert main(["bench", "--json", "--models", "digits_cnn", "--moves", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"machine", "models"}
    row = result["models"]["digits_cnn"]
    assert set(row) >= BENCH_KEYS
    assert row["samples"] == 359
    assert row["first_p50_ms"] <= row["final_p50_ms"]
    assert row["export_speedup"] > 0
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
