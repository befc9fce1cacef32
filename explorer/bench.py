"""``pruning-explorer bench``: how live is live? Slider-move latency against the naive way, in one run.

For each model, the benchmark makes single-group slider moves of two kinds: random groups, and the first
layer (where a class starts, and where the activation cache cannot help: everything downstream changes).
Each kind runs in both precisions (fp32, and bf16 autocast where the CPU has it). For each move it times

* ``first``: from the plan change to the first running estimate (first batch),
* ``final``: from the plan change to the exact value, with the activation cache,
* ``naive``: a full fp32 re-evaluation of the masked model with no cache (the way without this engine),

and reports the medians and 95th percentiles (the model's headline row: random moves in the session's
default precision), peak RSS, and the measured CPU speed-up of the exported model at a 50 % L1 plan.
The ImageNet-scale row (``--imagenet``, or ``--models torchvision/resnet50``) is torchvision's ResNet-50 at
224 px, untrained, on synthetic data (256 samples: the timing does not depend on the values). It times random
moves in the session's precision only, with two naive baselines in the same run: ``naive`` (fp32, no cache,
as in the other rows) and ``naive_same_precision`` (the session's precision, no cache: the stricter one).

Every row carries ``baseline_macs`` (per image) and ``device``. Timings are not asserted by the tests (shared
machines make timed assertions flaky).
"""

from __future__ import annotations

import os
import platform
import random
import time

import torch

from explorer.latency import measure_latency
from explorer.memory import peak_rss
from explorer.session import PruningSession

DEFAULT_MODELS = {"digits_cnn": None, "resnet20_cifar": 1000}
IMAGENET_MODELS = {"torchvision/resnet50": 256}  # name → synthetic samples (opt-in: minutes on a CPU)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _synthetic_data(session_spec, num_samples: int, seed: int):
    """Random inputs with random labels: the timing does not depend on the values."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(num_samples, *session_spec.input_shape, generator=generator)
    labels = torch.randint(0, session_spec.num_classes, (num_samples,), generator=generator)
    return torch.utils.data.TensorDataset(inputs, labels)


def machine_info() -> dict:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def bench_model(
    name: str,
    num_samples: int | None,
    moves: int = 30,
    seed: int = 0,
    with_sensitivity: bool = True,
    device: str | None = None,
) -> dict:
    """Benchmark one zoo model; returns the figures described in the module docstring."""
    from explorer.zoo import get_model_spec

    spec = get_model_spec(name)
    data = None
    synthetic = False
    if spec.dataset != "digits":
        data = _synthetic_data(spec, num_samples or 1000, seed)
        synthetic = True
    session = PruningSession(
        name, data=data, num_samples=num_samples, pretrained=not synthetic, seed=seed, device=device
    )
    default = session.precision
    session.scores("l1")
    rows, naive = [], {}
    for precision in ("fp32", "bf16") if default == "bf16" else ("fp32",):
        session.set_precision(precision)
        session.baseline()
        for kind in ("random", "first layer"):
            rng = random.Random(seed)
            timed = _time_moves(session, rng, moves, kind, with_naive=precision == "fp32")
            naive.setdefault(kind, timed["naive"])
            rows.append({"precision": precision, "kind": kind, **_summary(timed, naive[kind])})
    session.set_precision(default)
    headline = next(r for r in rows if r["precision"] == default and r["kind"] == "random")
    sensitivity = _time_sensitivity(session) if with_sensitivity else {}
    session.reset()
    session.set_global_ratio(0.5, criterion="l1")
    exported = session.export()
    example = session.data.val.inputs[:64]
    original_ms = measure_latency(session.model, example)
    exported_ms = measure_latency(exported, example)
    return {
        "samples": int(session.data.val.labels.shape[0]),
        "baseline_macs": session.baseline_cost().macs,
        "device": str(session.device),
        "synthetic_data": synthetic,
        "groups": len(session.groups),
        "moves": moves,
        "precision": default,
        **{k: v for k, v in headline.items() if k not in ("precision", "kind")},
        "moves_by_kind": rows,
        "cache_mb": round(session.evaluator.cache.used / 2**20, 1),
        "peak_rss_mb": round(peak_rss() / 2**20, 1),
        "latency_original_ms": round(original_ms, 2),
        "latency_exported_ms": round(exported_ms, 2),
        "export_speedup": round(original_ms / exported_ms, 2),
        **sensitivity,
    }


def bench_imagenet_model(
    name: str = "torchvision/resnet50",
    num_samples: int = 256,
    moves: int = 12,
    seed: int = 0,
    device: str | None = None,
) -> dict:
    """The ImageNet-scale row: random single-group moves on an untrained torchvision model at 224 px, on
    synthetic data, in the session's precision, against both naive re-evaluations in the same run."""
    from explorer.zoo import get_model_spec

    data = _synthetic_data(get_model_spec(name), num_samples, seed)
    start = time.perf_counter()
    session = PruningSession(
        name, data=data, num_samples=num_samples, pretrained=False, seed=seed, device=device
    )
    opened = time.perf_counter() - start
    session.scores("l1")
    session.baseline()
    timed = _time_moves(session, random.Random(seed), moves, "random", with_naive=True)
    same = timed["naive"]
    precision = session.precision
    session.set_precision("fp32")
    fp32 = []
    for _ in range(max(3, moves // 4)):  # the fp32 baseline is the slowest: a few runs give its median
        begin = time.perf_counter()
        session.evaluate(use_cache=False)
        fp32.append((time.perf_counter() - begin) * 1000)
    session.set_precision(precision)
    summary = _summary(timed, fp32)
    same_p50 = _percentile(same, 50)
    return {
        "samples": int(session.data.val.labels.shape[0]),
        "baseline_macs": session.baseline_cost().macs,
        "device": str(session.device),
        "synthetic_data": True,
        "groups": len(session.groups),
        "moves": moves,
        "precision": precision,
        **summary,
        "naive_same_precision_p50_ms": round(same_p50, 2),
        "final_over_naive_same_precision": round(_percentile(timed["final"], 50) / same_p50, 3),
        "session_start_s": round(opened, 1),
        "cache_mb": round(session.evaluator.cache.used / 2**20, 1),
        "peak_rss_mb": round(peak_rss() / 2**20, 1),
    }


def _time_moves(session: PruningSession, rng: random.Random, moves: int, kind: str, with_naive: bool) -> dict:
    """Milliseconds of ``moves`` slider moves: to the first estimate, to the exact value, and naive."""
    first, final, naive = [], [], []
    for _ in range(moves):
        group = session.groups[0] if kind == "first layer" else rng.choice(session.groups)
        ratio = rng.choice([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
        start = time.perf_counter()
        session.set_ratio(group.name, ratio, criterion="l1")
        for i, _metrics in enumerate(session.iter_evaluate()):
            if i == 0:
                first.append((time.perf_counter() - start) * 1000)
        final.append((time.perf_counter() - start) * 1000)
        if with_naive:
            start = time.perf_counter()
            session.evaluate(use_cache=False)
            naive.append((time.perf_counter() - start) * 1000)
    return {"first": first, "final": final, "naive": naive}


def _summary(timed: dict, naive: list[float]) -> dict:
    final_p50, naive_p50 = _percentile(timed["final"], 50), _percentile(naive, 50)
    return {
        "first_p50_ms": round(_percentile(timed["first"], 50), 2),
        "first_p95_ms": round(_percentile(timed["first"], 95), 2),
        "final_p50_ms": round(final_p50, 2),
        "final_p95_ms": round(_percentile(timed["final"], 95), 2),
        "naive_p50_ms": round(naive_p50, 2),
        "final_over_naive": round(final_p50 / naive_p50, 3),
    }


def _time_sensitivity(session: PruningSession) -> dict:
    """Seconds for a full sensitivity scan (9 ratios × every group), cached vs naive, in the same run."""
    from explorer.sensitivity import run_sensitivity

    start = time.perf_counter()
    run_sensitivity(session, criterion="l1")
    cached = time.perf_counter() - start
    start = time.perf_counter()
    run_sensitivity(session, criterion="l1", use_cache=False)
    naive = time.perf_counter() - start
    return {"sensitivity_s": round(cached, 2), "sensitivity_naive_s": round(naive, 2)}


def run_benchmark(
    models: dict[str, int | None] | None = None,
    moves: int = 30,
    with_sensitivity: bool = True,
    device: str | None = None,
) -> dict:
    """``{"machine": {...}, "models": {name: {...}}}``; names in ``IMAGENET_MODELS`` get the ImageNet row
    (``bench_imagenet_model``, at most 12 moves)."""
    models = models or DEFAULT_MODELS
    rows = {}
    for name, samples in models.items():
        if name in IMAGENET_MODELS:
            rows[name] = bench_imagenet_model(
                name, samples or IMAGENET_MODELS[name], min(moves, 12), device=device
            )
        else:
            rows[name] = bench_model(name, samples, moves, with_sensitivity=with_sensitivity, device=device)
    return {"machine": machine_info(), "models": rows}


def format_table(result: dict) -> str:
    """A Markdown table of the benchmark result."""
    keys = [
        "device",
        "samples",
        "baseline_macs",
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
    ]
    lines = ["| model | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, row in result["models"].items():
        lines.append(f"| {name} | " + " | ".join(str(row.get(k, "")) for k in keys) + " |")
    moves = ["precision", "kind", "first_p50_ms", "first_p95_ms", "final_p50_ms", "final_p95_ms"]
    moves += ["naive_p50_ms", "final_over_naive"]
    lines += ["", "| model | " + " | ".join(moves) + " |", "|---" * (len(moves) + 1) + "|"]
    for name, row in result["models"].items():
        for sub in row.get("moves_by_kind", []):
            lines.append(f"| {name} | " + " | ".join(str(sub[k]) for k in moves) + " |")
    lines.append("naive: a full fp32 re-evaluation without the cache, timed in the same run.")
    machine = result["machine"]
    lines.append("")
    lines.append(
        f"Machine: {machine['cpu']}, {machine['cores']} cores, torch {machine['torch']} "
        f"({machine['torch_threads']} threads), Python {machine['python']}."
    )
    return "\n".join(lines)
