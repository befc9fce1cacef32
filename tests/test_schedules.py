"""One-shot vs iterative pruning get the same training budget, counted on the optimiser itself, and every
point of their curves says whether it was measured after a removal or after training."""

from __future__ import annotations

import pytest
import torch

from explorer import PruningSession
from explorer import experiments as experiments_module
from explorer.finetune import stage_steps


def test_stage_steps_spread_the_budget_with_the_remainder_last():
    assert stage_steps(10, 3) == [3, 3, 4]
    assert stage_steps(12, 4) == [3, 3, 3, 3]
    assert stage_steps(2, 3) == [0, 0, 2]
    for steps in range(0, 30):
        for k in range(1, 7):
            assert sum(stage_steps(steps, k)) == steps
    with pytest.raises(ValueError, match="k >= 1"):
        stage_steps(10, 0)


@pytest.mark.parametrize(("steps", "k"), [(10, 3), (9, 4)])
def test_both_schedules_take_the_same_number_of_optimiser_steps(monkeypatch, steps, k):
    counted = {"steps": 0}
    real_step = torch.optim.AdamW.step

    def counting_step(self, *args, **kwargs):
        counted["steps"] += 1
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", counting_step)
    per_run: list[int] = []
    real_finetune = experiments_module.finetune_masked

    def spy(*args, **kwargs):
        before = counted["steps"]
        result = real_finetune(*args, **kwargs)
        per_run.append(counted["steps"] - before)
        return result

    monkeypatch.setattr(experiments_module, "finetune_masked", spy)
    s = PruningSession("digits_cnn", num_samples=64)
    result = s.compare_schedules(ratio=0.5, steps=steps, k=k, criterion="l1")
    one_shot, *stages = per_run
    assert one_shot == steps
    assert len(stages) == k
    assert sum(stages) == steps
    assert stages[-1] == steps // k + steps % k  # the remainder goes to the last stage
    assert result["training_steps"] == {"one_shot": steps, "iterative": steps}

    curve = result["curve"]
    first_two = [(p["schedule"], p["phase"]) for p in curve[:2]]
    assert first_two == [("one_shot", "pruned"), ("one_shot", "trained")]
    iterative = [p for p in curve if p["schedule"] == "iterative"]
    assert [p["phase"] for p in iterative] == ["pruned", "trained"] * k
    assert [p["stage"] for p in iterative] == [i for i in range(1, k + 1) for _ in range(2)]
    assert [p["steps"] for p in iterative if p["phase"] == "trained"] == [
        sum(stages[: i + 1]) for i in range(k)
    ]
    # the final numbers are the ones measured after each schedule's last training
    assert result["one_shot"] == curve[1]["accuracy"]
    assert result["iterative"] == iterative[-1]["accuracy"]
    assert result["before"] == curve[0]["accuracy"]
    assert result["iterative_steps"] == [p["accuracy"] for p in iterative if p["phase"] == "trained"]
    assert s.pruned == {}


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_schedule_plot_marks_each_phase_with_its_own_legend_entry(lang):
    from types import SimpleNamespace

    from traitlets import Dict, HasTraits

    from explorer.ui.i18n import Translator
    from explorer.ui.views.schedules import LEGEND_KEYS, PHASE_MARKERS, SchedulePlot

    class Jobs(HasTraits):
        schedules = Dict()

    t = Translator(lang)
    state = SimpleNamespace(t=t, jobs=Jobs())
    plot = SchedulePlot(state)
    assert plot.layout.display == "none"  # nothing to draw yet
    curve = [
        {"schedule": "one_shot", "stage": 1, "phase": "pruned", "steps": 0, "accuracy": 0.5},
        {"schedule": "one_shot", "stage": 1, "phase": "trained", "steps": 10, "accuracy": 0.9},
        {"schedule": "iterative", "stage": 1, "phase": "pruned", "steps": 0, "accuracy": 0.8},
        {"schedule": "iterative", "stage": 1, "phase": "trained", "steps": 5, "accuracy": 0.95},
        {"schedule": "iterative", "stage": 2, "phase": "pruned", "steps": 5, "accuracy": 0.6},
        {"schedule": "iterative", "stage": 2, "phase": "trained", "steps": 10, "accuracy": 0.92},
    ]
    state.jobs.schedules = {"curve": curve}
    sources = plot.sources
    assert sources["mark.pruned"].data["steps"] == [0, 0, 5]
    assert sources["mark.trained"].data["accuracy"] == [90.0, 95.0, 92.0]
    assert sources["line.iterative"].data["steps"] == [0, 5, 5, 10]
    legend = plot._fig.right[0]
    labels = [item.label["value"] for item in legend.items]
    expected = ["one_shot", "iterative", *PHASE_MARKERS]
    assert labels == [t(LEGEND_KEYS[key]) for key in expected]
    markers = [item.renderers[0].glyph.marker for item in legend.items[2:]]
    assert markers == list(PHASE_MARKERS.values())
    assert len(set(markers)) == 2
