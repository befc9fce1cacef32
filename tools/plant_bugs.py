# ruff: noqa: E501  (the planted lines and test ids are kept verbatim, one per line)
"""Plant each of the issue's seven one-line bugs, one at a time, in a scratch copy of the repository (never in
the work tree), run the tests written for its module against it, and print which fail.

    python tools/plant_bugs.py            # all seven, one after the other
    python tools/plant_bugs.py "BN"       # only those whose name contains "BN"

Results also go to /tmp/plant_bugs*.json. Each bug must fail at least two of its tests.
"""

import json
import pathlib
import re
import shutil
import subprocess
import sys

SRC = pathlib.Path(__file__).resolve().parents[1]
BUGS = [
    (
        "choose_global sorted the wrong way",
        "explorer/plan.py",
        "    pool.sort()\n",
        "    pool.sort(reverse=True)\n",
        [
            "tests/test_plan_choices.py::test_global_choice_removes_the_lowest_normalised_scores",
            "tests/test_plan_choices.py::test_the_global_slider_removes_the_least_important_filters",
            "tests/test_core_units.py::test_choose_global_by_hand",
            "tests/test_session.py::test_global_ratio_respects_the_cap_and_the_total",
        ],
    ),
    (
        "undo() without its generation bump",
        "explorer/history.py",
        "        self._current = self._undo.pop()\n        self.generation += 1\n",
        "        self._current = self._undo.pop()\n",
        [
            "tests/test_plan_choices.py::test_a_plan_change_stops_the_evaluation_of_the_old_plan",
            "tests/test_session.py::test_every_step_is_a_new_generation_undo_and_redo_included",
            "tests/test_session.py::test_undo_and_reset",
        ],
    ),
    (
        "adopt_weights keeps stale scores",
        "explorer/exploration.py",
        "        self.evaluator.cache.clear()\n        self._score_book.clear()\n",
        "        self.evaluator.cache.clear()\n",
        [
            "tests/test_weights_states.py::test_scores_ranks_and_the_why_panel_follow_adopted_weights",
            "tests/test_weights_states.py::test_scores_follow_the_live_weights",
            "tests/test_memory_bounds.py::test_scores_are_kept_for_the_live_weights_only",
        ],
    ),
    (
        "finite-population correction squared",
        "explorer/evaluation.py",
        "    fpc = (total - seen) / (total - 1) if total > 1 else 0.0\n",
        "    fpc = ((total - seen) / (total - 1)) ** 2 if total > 1 else 0.0\n",
        [
            "tests/test_core_units.py::test_estimate_by_hand",
            "tests/test_core_units.py::test_evaluator_equals_a_plain_loop_under_the_masks",
            "tests/test_plan_choices.py::test_the_running_interval_uses_the_finite_population_correction",
            "tests/test_session.py::test_progressive_estimates_converge_to_the_exact_value",
        ],
    ),
    (
        "plan.lowest reversed",
        "explorer/plan.py",
        "    order = sorted(range(scores.numel()), key=lambda i: (float(scores[i]), i))\n",
        "    order = sorted(range(scores.numel()), key=lambda i: (float(scores[i]), i), reverse=True)\n",
        [
            "tests/test_plan_choices.py::test_lowest_is_a_stable_argsort",
            "tests/test_core_units.py::test_lowest_by_hand",
            "tests/test_session.py::test_a_ratio_removes_the_lowest_l1_filters",
            "tests/test_ui_state.py::test_criterion_switch_reranks_and_rescores",
        ],
    ),
    (
        "MACs without // groups",
        "explorer/cost.py",
        "    return rec.spatial * c_out * (c_in_total // rec.groups)\n",
        "    return rec.spatial * c_out * c_in_total\n",
        [
            "tests/test_exactness.py::test_toy_models_random_plans_are_exact",
            "tests/test_exactness.py::test_grouped_and_depthwise_macs_follow_the_convolution_formula",
            "tests/test_exactness.py::test_li_et_al_table_1_vgg16_figures",
            "tests/test_core_units.py::test_cost_of_grouped_and_depthwise_convs_by_hand",
            "tests/test_core_units.py::test_cost_of_plain_convs_and_linears_by_hand",
        ],
    ),
    (
        "BN channel zeroed before the BN",
        "explorer/masks.py",
        "            else:\n                hook = _output_hook(removed, channel_dim(module))\n            handles.append(module.register_forward_hook(hook))\n",
        "            elif isinstance(module, nn.modules.batchnorm._BatchNorm):\n                handles.append(module.register_forward_pre_hook(_input_hook(removed, channel_dim(module))))\n                continue\n            else:\n                hook = _output_hook(removed, channel_dim(module))\n            handles.append(module.register_forward_hook(hook))\n",
        [
            "tests/test_exactness.py::test_every_masked_layer_output_is_the_exported_one_with_zeros_inserted",
            "tests/test_exactness.py::test_toy_models_random_plans_are_exact",
            "tests/test_core_units.py::test_masks_zero_exactly_the_removed_channels_and_leave_no_hook",
            "tests/test_robustness.py::test_without_any_tracer_an_offered_mask_still_means_removal",
        ],
    ),
]
only = sys.argv[1:]
results = {}
for name, path, old, new, tests in BUGS:
    if only and not any(o in name for o in only):
        continue
    DST = pathlib.Path("/tmp/plant-bugs-copy" + ("-" + only[0].split()[0] if only else ""))
    if DST.exists():
        shutil.rmtree(DST)
    shutil.copytree(
        SRC,
        DST,
        ignore=shutil.ignore_patterns(".git", "mutants", "__pycache__", ".hypothesis", "test-artifacts"),
    )
    text = (DST / path).read_text()
    assert text.count(old) == 1, (name, path)
    (DST / path).write_text(text.replace(old, new))
    run = subprocess.run(
        [
            "nice",
            "-n",
            "10",
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rf",
            "-m",
            "not browser and not slow",
            "-k",
            "not torchvision_models and not zoo_model_random",
            *tests,
        ],
        cwd=DST,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "HOME": str(pathlib.Path.home())},
    )
    failed = sorted(set(re.findall(r"^FAILED (\S+)", run.stdout, re.M)))
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-500:]
    results[name] = {"failed": failed, "summary": summary}
    print(name, "->", summary, flush=True)
    for f in failed:
        print("   ", f, flush=True)
out = pathlib.Path("/tmp/plant_bugs.json" if not only else f"/tmp/plant_bugs_{only[0][:10]}.json")
out.write_text(json.dumps(results, indent=1))
