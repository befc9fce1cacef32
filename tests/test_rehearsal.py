"""The class demo, rehearsed: the whole flow under a 2 GB limit, in a fresh process, memory measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from explorer.rehearsal import format_rehearsal, rehearse
from explorer.session import PruningSession

RSS_BOUND_MB = 1500  # the kernel's share on a 2 GB pod


def test_rehearsal_runs_every_step_and_reset_gives_the_original_network():
    result = rehearse(PruningSession("digits_cnn", memory_limit="2G"), moves=4, finetune_steps=5)
    names = [s["step"] for s in result["steps"]]
    assert names[0] == "load and baseline"
    assert {"criterion taylor", "criterion hessian", "sensitivity scan", "reset and undo"} <= set(names)
    assert any(n.startswith("fine-tune") for n in names)
    assert result["reset_is_original"]
    assert result["reset_accuracy"] == result["original_accuracy"]
    assert result["export_max_error"] <= 1e-4
    assert "Reset gives the original network: True" in format_rehearsal(result)


@pytest.mark.slow
def test_the_resnet20_class_flow_fits_a_2_gb_pod(shared_data, tmp_path):
    """Pretrained ResNet-20 on the real CIFAR images (50 to validate, the other 50 to fine-tune on), in a
    fresh process, as a Voilà kernel would be."""
    env = dict(os.environ, PRUNING_EXPLORER_CACHE=str(tmp_path))
    install = (
        "import sys; from explorer.zoo.pretrained import install_weights; "
        "install_weights('resnet20_cifar', sys.argv[1])"
    )
    subprocess.run(
        [sys.executable, "-c", install, str(shared_data / "pretrained" / "resnet20-12fca82f.th")],
        env=env,
        check=True,
    )
    csv = shared_data / "cifar10-first100" / "cifar10_test.csv"
    command = [
        sys.executable,
        "-m",
        "explorer.cli",
        "rehearse",
        "--model",
        "resnet20_cifar",
        "--data",
        f"cifar10_csv:{csv}",
        "--samples",
        "50",
        "--train-data",
        "held-out",  # fine-tune on the 50 images left out of validation
        "--memory-limit",
        "2G",
        "--json",
        "--moves",
        "8",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["original_accuracy"] >= 0.9
    assert result["reset_is_original"]
    assert result["undo_accuracy"] == result["finetuned_accuracy"]  # Undo walks back through the fine-tuning
    assert any(step["step"].startswith("fine-tune") for step in result["steps"])
    # the peak is the process's own (VmHWM): ru_maxrss would report this large test process's size, which
    # Linux carries into the child across exec (that once read as a 2.47 GB "peak")
    assert result["peak_rss_mb"] <= RSS_BOUND_MB, format_rehearsal(result)
