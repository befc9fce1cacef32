"""The command line: bench JSON, criteria table, train (smoke-level but real runs)."""

import json

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


def test_errors_are_messages_not_tracebacks(capsys):
    assert main(["sensitivity", "--model", "no_such_model", "--out", "x"]) == 2
    assert "error:" in capsys.readouterr().err
