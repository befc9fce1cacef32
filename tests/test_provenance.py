"""Plan provenance: evaluated plans recorded with their numbers and source, saved, loaded and replayed."""

from __future__ import annotations

import json

import pytest

from explorer.plan import PlanError
from explorer.session import PruningSession


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    s = PruningSession("digits_cnn")
    s.set_ratio("features.3", 0.5, criterion="l1")
    first = s.record_plan("slider")
    s.suggest_plan("global", ratio=0.3, criterion="fpgm")
    second = s.record_plan("suggestion")
    path = tmp_path_factory.mktemp("prov") / "provenance.json"
    s.provenance.save(path)
    return s, first, second, path


def test_records_hold_the_plan_its_numbers_and_its_source(recorded):
    s, first, second, _ = recorded
    assert [r["source"] for r in s.provenance.records()] == ["slider", "suggestion"]
    assert first["criteria"] == ["l1"]
    assert second["criteria"] == ["fpgm"]
    assert second["plan_number"] == s.plan_number
    assert second["weights"] == "original"
    metrics = s.evaluate()
    assert second["accuracy"] == metrics.accuracy
    assert second["macs"] == metrics.macs
    assert second["params"] == metrics.params
    assert second["macs_fraction"] == pytest.approx(metrics.macs / s.baseline_cost().macs)
    assert second["removed"] == sum(len(i) for i in s.pruned.values())
    json.dumps(s.provenance.records())  # plain data


def test_re_recording_replaces_and_given_metrics_are_used(recorded):
    s, _, _, _ = recorded
    m = s.evaluate()
    again = s.record_plan("suggestion", metrics=m)
    assert [r["source"] for r in s.provenance.records()] == ["slider", "suggestion"]
    assert again["accuracy"] == m.accuracy


def test_a_saved_log_loads_into_a_fresh_session_and_replays(recorded):
    s, first, second, path = recorded
    fresh = PruningSession("digits_cnn")
    loaded = fresh.provenance.load(path)
    assert [r["plan_number"] for r in loaded] == [first["plan_number"], second["plan_number"]]
    assert fresh.provenance.records() == loaded
    fresh.apply_plan(loaded[1]["plan"])
    assert fresh.pruned == s.pruned
    assert fresh.evaluate().accuracy == second["accuracy"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ('{"format": "pruning-explorer-plan"}', "not a plan provenance file"),
        ('{"format": "pruning-explorer-provenance", "model": "resnet20_cifar", "records": []}', "is for"),
        (
            '{"format": "pruning-explorer-provenance", "records": [{"accuracy": "high", "macs": 1, '
            '"params": 1, "macs_fraction": 1, "source": "x", "weights": "original", "plan_number": 1}]}',
            "'accuracy' must be a finite number",
        ),
    ],
)
def test_bad_files_are_refused_and_add_nothing(tmp_path, text, message):
    s = PruningSession("digits_cnn")
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(PlanError, match=message):
        s.provenance.load(path)
    assert s.provenance.records() == []
