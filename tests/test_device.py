"""``device=``: the session computes on one device, the user's model never moves, an absent device is refused
in words; on this CPU-only machine the CUDA side is checked by ``tests/test_device_gpu.py`` (skipped here)."""

from __future__ import annotations

import copy

import pytest
import torch

from explorer.cli import main
from explorer.device import DeviceError, available_devices, move_bundle, resolve_device
from explorer.evaluation import ActivationCache
from explorer.launch_options import DEVICE_ENV, LaunchOptions
from explorer.memory import CACHE_SHARE, MAX_DEVICE_CACHE, MemoryBudget
from explorer.precision import cpu_supports_bf16, resolve_precision
from explorer.session import PruningSession
from tests.toy_models import ResidualNet, seeded

pytestmark = pytest.mark.filterwarnings("ignore:the embedded weights", "ignore:pretrained weights")

NO_GPU = not torch.cuda.is_available()


def toy_data(n: int, seed: int = 0) -> torch.utils.data.TensorDataset:
    generator = torch.Generator().manual_seed(seed)
    return torch.utils.data.TensorDataset(torch.randn(n, 1, 8, 8, generator=generator), torch.arange(n) % 5)


# ------------------------------------------------------------------------------------------ resolving
def test_none_is_the_best_device_present_and_cpu_is_always_there():
    assert available_devices()[0] == "cpu"
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None) == torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


@pytest.mark.skipif(not NO_GPU, reason="checks the refusal of an absent GPU")
@pytest.mark.parametrize("name", ["cuda", "cuda:1"])
def test_an_absent_gpu_is_refused_in_words_a_student_can_act_on(name):
    with pytest.raises(DeviceError) as caught:
        resolve_device(name)
    message = str(caught.value)
    assert name in message
    assert "choose cpu" in message  # what to do instead


def test_an_unknown_device_name_says_how_to_write_one():
    with pytest.raises(DeviceError, match="not a device name: write cpu, cuda or cuda:1"):
        resolve_device("gpu0")
    with pytest.raises(DeviceError, match="runs on cpu or cuda"):
        resolve_device("meta")


@pytest.mark.skipif(not NO_GPU, reason="checks the refusal of an absent GPU")
def test_a_session_on_an_absent_device_fails_before_any_work():
    with pytest.raises(DeviceError, match="choose cpu"):
        PruningSession("digits_cnn", device="cuda")


# ------------------------------------------------------------------------------------ per device
def test_auto_precision_is_chosen_per_device():
    assert resolve_precision("auto", "cpu") == ("bf16" if cpu_supports_bf16() else "fp32")
    assert resolve_precision("fp32", "cpu") == "fp32"


def test_the_cache_budget_counts_device_memory_apart_from_host_memory():
    host = MemoryBudget.from_limit(8 << 30, in_use=1 << 30)
    assert host.device == "cpu"
    assert host.device_free is None
    # on a GPU the caches come from its free memory, whatever the host has left
    gpu = MemoryBudget.from_limit(2 << 30, in_use=2 << 30, device="cuda:0", device_free=10 << 30)
    assert gpu.limit == 2 << 30
    assert gpu.cache == int(CACHE_SHARE * (10 << 30)) > host.cache
    assert gpu.calibration_cache == gpu.cache // 4
    huge = MemoryBudget.from_limit(2 << 30, in_use=0, device="cuda:0", device_free=200 << 30)
    assert huge.cache == MAX_DEVICE_CACHE


def test_moving_a_bundle_moves_every_split_and_keeps_the_values():
    s = PruningSession("digits_cnn", device="cpu", verify=False)
    moved = move_bundle(s.data, torch.device("cpu"))
    assert moved.val is s.data.val  # already there: not copied
    assert moved.train is s.data.train
    assert moved.calib is s.data.calib


# ------------------------------------------------------------------------------------ invariants
@pytest.fixture(scope="module")
def sessions():
    """The same session with device="cpu" and with device=None (the best present: the CPU here)."""
    return PruningSession("digits_cnn", device="cpu"), PruningSession("digits_cnn", device=None)


@pytest.mark.skipif(not NO_GPU, reason="None means a GPU on this machine")
def test_device_cpu_and_none_give_the_same_results_here(sessions):
    cpu, best = sessions
    assert cpu.device == best.device == torch.device("cpu")
    for s in (cpu, best):
        s.reset()
        s.set_ratios({"features.0": 0.5, "features.3": 0.25}, criterion="l1")
    assert cpu.evaluate() == best.evaluate()
    assert cpu.evaluate().device == "cpu"
    for a, b in zip(cpu.scores("taylor").values(), best.scores("taylor").values(), strict=True):
        assert torch.equal(a, b)
    one = cpu.sensitivity(ratios=[0.5], groups=["features.3"]).rows
    two = best.sensitivity(ratios=[0.5], groups=["features.3"]).rows
    assert one == two


def test_masked_equals_exported_on_the_sessions_device(sessions):
    s = sessions[0]
    s.reset()
    s.set_global_ratio(0.5, criterion="l1")
    exported = s.export()
    assert next(exported.parameters()).device == s.device
    assert s.verify_export(exported) <= 1e-4


def test_metrics_and_the_summary_say_which_device_was_used(sessions):
    s = sessions[0]
    assert s.baseline().device == "cpu"
    assert all(m.device == "cpu" for m in s.iter_evaluate())
    assert s.summary()["device"] == "cpu"
    assert s.summary()["device_name"] == "CPU"


def test_the_users_model_is_never_moved_or_changed():
    user = seeded(ResidualNet()).eval()
    before = copy.deepcopy(user.state_dict())
    s = PruningSession(user, data=toy_data(60), train_data=toy_data(80, seed=1), device="cpu")
    assert s.model is not user
    s.set_global_ratio(0.5, criterion="taylor")
    s.evaluate()
    s.finetune(steps=3, eval_every=0)
    s.reconstruct()
    s.verify_export()
    assert all(p.device == torch.device("cpu") for p in user.parameters())
    after = user.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


# ------------------------------------------------------------------------------ the cache, per pass
def test_a_pass_larger_than_the_cache_keeps_its_own_entries_for_the_next_pass():
    """LRU alone evicts a pass's first batches before the next pass reads them (every move recomputes
    from the input); within a pass the newcomer is dropped instead, so the next pass finds the first ones."""
    cache = ActivationCache(budget_bytes=4 * 400)
    entry = torch.zeros(100)  # 400 bytes: 4 fit
    with cache.evaluation_pass():
        for batch in range(10):
            assert cache.get(("x", batch)) is None
            cache.put(("x", batch), entry)
    with cache.evaluation_pass():
        hits = [cache.get(("x", batch)) is not None for batch in range(10)]
    assert hits == [True] * 4 + [False] * 6
    # outside a pass: plain LRU (the oldest goes)
    cache.put(("y",), entry)
    assert cache.get(("x", 0)) is None
    assert cache.used <= cache.budget


def test_a_cache_smaller_than_a_pass_still_gives_the_uncached_results_and_hits():
    s = PruningSession(
        "digits_cnn", device="cpu", batch_size=40, first_batch=40, cache_budget=200 << 10, verify=False
    )
    s.baseline()
    s.set_ratio("features.7", 0.5, criterion="l1")
    hits = s.evaluator.cache.hits
    assert s.evaluate() == s.evaluate(use_cache=False)
    assert s.evaluator.cache.hits > hits  # the prefix before features.7 was read back, not recomputed


# ----------------------------------------------------------------------------------- CLI and launch
def test_launch_options_carry_the_device():
    options = LaunchOptions(device="cuda:1")
    assert options.to_env()[DEVICE_ENV] == "cuda:1"
    assert LaunchOptions.from_env(options.to_env()).session_options()["device"] == "cuda:1"
    assert LaunchOptions.from_env({}).session_options()["device"] is None


@pytest.mark.skipif(not NO_GPU, reason="checks the refusal of an absent GPU")
@pytest.mark.parametrize("command", [["app", "--no-browser"], ["sensitivity"], ["bench", "--no-sensitivity"]])
def test_the_cli_refuses_an_absent_device_with_a_message(command, capsys):
    assert main([*command, "--device", "cuda"]) == 2
    assert "choose cpu" in capsys.readouterr().err


def test_the_magic_takes_a_device():
    from explorer.app import _parse_explore

    assert _parse_explore("digits_cnn --device cpu")["device"] == "cpu"


def test_every_bench_row_carries_baseline_macs_and_device(capsys):
    import json

    assert main(["bench", "--json", "--models", "digits_cnn", "--moves", "2", "--no-sensitivity"]) == 0
    row = json.loads(capsys.readouterr().out)["models"]["digits_cnn"]
    assert row["device"] == str(resolve_device(None))
    assert row["baseline_macs"] == PruningSession("digits_cnn", verify=False).baseline_cost().macs


@pytest.mark.slow
def test_the_imagenet_row_reports_what_the_issue_asks():
    from explorer.bench import bench_imagenet_model

    row = bench_imagenet_model("torchvision/resnet18", num_samples=16, moves=2)
    for key in ("first_p50_ms", "first_p95_ms", "final_p50_ms", "final_p95_ms", "naive_p50_ms"):
        assert row[key] > 0
    assert row["first_p50_ms"] <= row["final_p50_ms"]
    assert row["final_over_naive"] == pytest.approx(row["final_p50_ms"] / row["naive_p50_ms"], rel=0.02)
    assert row["baseline_macs"] == pytest.approx(1.81e9, rel=0.01)  # ResNet-18 at 224 px
    assert row["device"] == str(resolve_device(None))


@pytest.mark.skipif(not NO_GPU, reason="checks the refusal of an absent GPU")
def test_the_models_tab_lists_present_devices_and_refuses_an_absent_one_beside_its_button():
    from explorer.app import ExplorerApp, build_app

    app = build_app(session=PruningSession("digits_cnn", device="cpu"), background=False, debounce=0.05)
    assert isinstance(app, ExplorerApp)
    try:
        state, view = app.state, app.views["model"]
        assert state.wait_idle(30)
        assert list(view.device.options) == available_devices() == ["cpu"]
        assert view.device.value == "cpu"
        assert "Computing on CPU" in app.header.children[0].value  # the header says where it computes
        old = state.session
        state.loader.switch_model("digits_cnn", None, device="cuda")
        assert state.wait_idle(30)
        status = state.activity.job_status["model"]
        assert status["state"] == "failed"
        assert "cuda is not on this machine" in status["text"]
        assert "cpu" in status["text"]
        assert state.session is old  # the session explored so far stays
    finally:
        app.state.close()


def test_the_first_batch_shrinks_only_for_models_whose_64_images_cost_too_much():
    from explorer.evaluation import first_batch_size

    assert first_batch_size(41_000_000) == 64  # ResNet-20: unchanged
    assert first_batch_size(4_089_184_256) == 8  # ResNet-50 at 224 px
    assert first_batch_size(10**12) == 8  # never below 8
