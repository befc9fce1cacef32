"""One memory limit sizes every cache; bf16 live metrics stay close to fp32; the app's launch options."""

from __future__ import annotations

import pytest
import torch

from explorer import memory
from explorer.errors import ExplorerError
from explorer.launch_options import LaunchOptions
from explorer.memory import MemoryBudget, cgroup_limit, memory_limit, parse_size
from explorer.precision import cpu_supports_bf16, resolve_precision
from explorer.session import PruningSession


@pytest.mark.parametrize(
    ("text", "want"),
    [("2G", 2 << 30), ("1500M", 1500 << 20), ("2GiB", 2 << 30), ("512k", 512 << 10), ("2e9", 2_000_000_000)],
)
def test_memory_sizes_are_read_like_people_write_them(text, want):
    assert parse_size(text) == want


@pytest.mark.parametrize("text", ["two gigs", "-1G", "0", "2X"])
def test_bad_memory_sizes_say_how_to_write_them(text):
    with pytest.raises(ExplorerError, match=r"memory"):
        parse_size(text)


def test_cgroup_limit_reads_v2_and_v1_files_and_ignores_max(tmp_path):
    v2, v1 = tmp_path / "memory.max", tmp_path / "memory.limit_in_bytes"
    v2.write_text("max\n")
    v1.write_text("9223372036854771712\n")  # cgroup v1's "unlimited"
    assert cgroup_limit((str(v2), str(v1))) is None
    v1.write_text("2147483648\n")
    assert cgroup_limit((str(v2), str(v1))) == 2 << 30
    assert cgroup_limit((str(tmp_path / "missing"),)) is None


def test_the_lowest_known_limit_wins(monkeypatch):
    monkeypatch.setattr(memory, "cgroup_limit", lambda: 2 << 30)
    monkeypatch.delenv("PRUNING_EXPLORER_MEMORY_LIMIT", raising=False)
    assert memory_limit() == 2 << 30
    assert memory_limit("1G") == 1 << 30
    assert memory_limit("8G") == 2 << 30  # an explicit limit cannot raise the container's
    monkeypatch.setenv("PRUNING_EXPLORER_MEMORY_LIMIT", "1500M")
    assert memory_limit() == 1500 << 20
    monkeypatch.setattr(memory, "cgroup_limit", lambda: None)
    monkeypatch.delenv("PRUNING_EXPLORER_MEMORY_LIMIT")
    assert memory_limit() == memory.physical_memory()


def test_budgets_follow_the_limit():
    small = MemoryBudget.from_limit(2 << 30, in_use=1 << 30)
    assert small.cache == int(memory.CACHE_SHARE * (1 << 30))
    assert small.calibration_cache == small.cache // 4
    assert MemoryBudget.from_limit(64 << 30, in_use=1 << 30).cache == memory.MAX_CACHE
    assert MemoryBudget.from_limit(1 << 30, in_use=2 << 30).cache == memory.MIN_CACHE  # over: the floor


def test_the_session_sizes_its_cache_from_its_memory_limit():
    s = PruningSession("digits_cnn", memory_limit="1G", verify=False)
    assert s.budget.limit == min(1 << 30, memory.memory_limit())
    assert s.evaluator.cache.budget == s.budget.cache <= memory.MAX_CACHE
    s.set_global_ratio(0.3)
    s.evaluate()
    assert s.evaluator.cache.used <= s.evaluator.cache.budget


def test_cpu_flags_decide_auto_precision(tmp_path, monkeypatch):
    info = tmp_path / "cpuinfo"
    info.write_text("processor : 0\nflags : fpu sse avx512f amx_bf16\n")
    assert cpu_supports_bf16(str(info))
    info.write_text("processor : 0\nflags : fpu sse avx2\n")
    assert not cpu_supports_bf16(str(info))
    assert resolve_precision("auto") == ("bf16" if cpu_supports_bf16() else "fp32")
    with pytest.raises(ExplorerError, match="unknown precision"):
        resolve_precision("fp8")


def _agreement(session: PruningSession) -> float:
    """Share of validation samples where bf16 autocast and fp32 give the same class (an independent pass)."""
    x = session.data.val.inputs
    with torch.inference_mode():
        want = session.model(x).argmax(1)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = session.model(x.contiguous(memory_format=torch.channels_last)).float().argmax(1)
    return float((want == got).double().mean())


def test_bf16_metrics_stay_close_to_fp32_on_digits():
    s = PruningSession("digits_cnn", precision="fp32")
    fp32 = s.evaluate()
    s.set_precision("bf16")
    assert s.precision == "bf16"
    assert s.baseline().accuracy == s.evaluate().accuracy  # the baseline was measured again, in bf16
    bf16 = s.evaluate()
    assert abs(bf16.accuracy - fp32.accuracy) <= 0.01
    assert abs(bf16.loss - fp32.loss) <= 0.02
    assert _agreement(s) >= 0.99
    s.set_precision("fp32")
    assert s.evaluate() == fp32


def test_bf16_metrics_stay_close_to_fp32_on_the_pretrained_resnet20(shared_data, tmp_path, monkeypatch):
    from explorer.zoo.pretrained import install_weights

    monkeypatch.setenv("PRUNING_EXPLORER_CACHE", str(tmp_path))
    install_weights("resnet20_cifar", shared_data / "pretrained" / "resnet20-12fca82f.th")
    csv = shared_data / "cifar10-first100" / "cifar10_test.csv"
    s = PruningSession("resnet20_cifar", data=f"cifar10_csv:{csv}", precision="fp32", verify=False)
    fp32 = s.evaluate()
    s.set_precision("bf16")
    bf16 = s.evaluate()
    assert abs(bf16.accuracy - fp32.accuracy) <= 0.02
    assert abs(bf16.loss - fp32.loss) <= 0.05
    assert _agreement(s) >= 0.98


def test_launch_options_travel_through_the_environment():
    options = LaunchOptions(
        "resnet20_cifar", "cifar10_csv:/data/c.csv", 100, "fp32", "2G", train_data="held-out"
    )
    assert LaunchOptions.from_env(options.to_env()) == options
    assert LaunchOptions.from_env({}) == LaunchOptions()
    assert options.session_options() == {
        "data": "cifar10_csv:/data/c.csv",
        "train_data": "held-out",
        "num_samples": 100,
        "precision": "fp32",
        "memory_limit": "2G",
        "device": None,
    }


def test_the_peak_is_the_process_own_not_its_parent(tmp_path):
    import subprocess
    import sys

    # a parent grows to 3 GB, then starts a child (about 0.9 GB with torch): its peak is its own
    code = (
        "import subprocess, sys; big = bytearray(3 * 2**30); big[::4096] = b'x' * len(big[::4096]); "
        "print(subprocess.run([sys.executable, '-c', 'from explorer.memory import peak_rss; "
        "print(peak_rss())'], capture_output=True, text=True).stdout)"
    )
    child_peak = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
    assert 0 < child_peak < 2 * 2**30
