"""The class demo, in a real Chromium: a teacher's whole flow on the pretrained ResNet-20 under a 2 GB limit.

``pruning-explorer app`` serves ResNet-20 (its real public weights, installed with ``install_weights``) on
the first 100 CIFAR-10 test images of ``../shared/data``: 50 are the validation subset, and the other 50
the fine-tuning data (``--train-data held-out``), so nothing is trained on what is measured. One kernel is
preheated, as on Binder. The tests run in file order on one page, as one lesson would:

1. the page opens at ResNet-20's real accuracy (time to interactive is recorded);
2. 16 slider moves, every other one of the first layer, each checked against an in-process session;
3. three criteria (FPGM, Taylor, hessian);
4. a sensitivity scan and Li et al.'s plan;
5. fine-tuning, then Reset (the original network, exactly) and Undo (the fine-tuned one again);
6. an export, whose SUMMARY.md names the fine-tuned weights;
7. a reload: the old kernel is shut down, and one kernel serves the visitor.

The kernel's resident memory is sampled after every step; its peak (``VmHWM``) must stay within 1.5 GB, the
kernel's share of a 2 GB Binder pod. Timings and memory go to ``test-artifacts/browser-class.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    LOAD_TIMEOUT,
    PAGE_HELPERS,
    UPDATE_TIMEOUT,
    Visit,
    _card,
    _reset,
    _route_offline,
    _screenshot,
    _set_criterion,
    _shown,
    _slider,
    _slider_handle,
    _slider_ratio,
    _wait_for_values,
    chromium,  # noqa: F401  (a fixture, used by name)
    running_app,
)
from test_browser_reload import _kernels, _wait_for_kernels

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The kernel's share of a 2 GB pod (the server and the preheated kernel share the rest on Binder).
KERNEL_PEAK_MB = 1500
SAMPLES = 50
FINETUNE_STEPS = 20
MOVES = 16
EXACT_ACCURACY = (
    "(v) => { const c = window.__pe.card('Top-1 accuracy'); return c.value === v && c.note === 'exact'; }"
)
SLIDERS = "() => document.querySelector('.pruning-explorer .noUi-handle') ? performance.now() : null"


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def setup(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The weights cache, the app's arguments, and the in-process reference session of the same options."""
    from explorer.session import PruningSession
    from explorer.zoo.pretrained import install_weights

    cache = tmp_path_factory.mktemp("weights")
    install_weights("resnet20_cifar", shared_data / "pretrained" / "resnet20-12fca82f.th", cache_dir=cache)
    data = f"cifar10_csv:{shared_data / 'cifar10-first100' / 'cifar10_test.csv'}"
    options = {"data": data, "num_samples": SAMPLES, "train_data": "held-out", "memory_limit": "2G"}
    with _environment(PRUNING_EXPLORER_CACHE=str(cache)):
        reference = PruningSession("resnet20_cifar", verify=False, **options)
    args = ["--model", "resnet20_cifar", "--data", data, "--samples", str(SAMPLES)]
    args += ["--train-data", "held-out", "--memory-limit", "2G", "--explore", "--pool-size", "1"]
    return {"cache": cache, "args": args, "reference": reference, "export": tmp_path_factory.mktemp("export")}


class ClassVisit(Visit):
    """The visit, the server's process, the visitor's kernel and the memory samples."""

    server_pid: int = 0
    kernel: int = 0
    rss_mb: dict[str, float]


def _rss(visit: ClassVisit, step: str) -> None:
    """Record the visitor's kernel's resident memory after ``step``."""
    kernels = _kernels(visit.server_pid)
    assert visit.kernel in kernels, f"the visitor's kernel {visit.kernel} is gone: {kernels}"
    visit.rss_mb[step] = round(kernels[visit.kernel])
    visit.rss_mb[f"{step} (peak so far)"] = round(_peak_mb(visit.kernel))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _wait_until_idle(pid: int, timeout: float, quiet: float = 3.0) -> None:
    """Wait until kernel ``pid`` has used (almost) no CPU for ``quiet`` seconds: it has run the notebook.
    (Its memory can stay flat for seconds while it is still building the session on a loaded machine.)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = _cpu_seconds(pid)
        time.sleep(quiet)
        if _cpu_seconds(pid) - before < 0.1 * quiet:
            return
    pytest.fail(f"the preheated kernel was still busy after {timeout} s")


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/status")


@pytest.fixture(scope="module")
def visit(setup: dict[str, Any], chromium: str) -> Iterator[ClassVisit]:  # noqa: F811
    from playwright.sync_api import sync_playwright

    env = dict(os.environ, BOKEH_RESOURCES="inline", PRUNING_EXPLORER_CACHE=str(setup["cache"]))
    with running_app(setup["args"], "voila-class-server.log", env) as (url, process):
        # the probe's kernel is gone; wait for the preheated one to have run the notebook
        waiting = _wait_for_kernels(process.pid, 1, timeout=LOAD_TIMEOUT)
        _wait_until_idle(next(iter(waiting)), timeout=LOAD_TIMEOUT)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            page = context.new_page()
            page.set_default_timeout(UPDATE_TIMEOUT * 1000)
            result = ClassVisit(page=page, load_ms=float("nan"))
            result.rss_mb, result.server_pid, result.kernel = {}, process.pid, next(iter(waiting))
            context.route("**/*", _route_offline(result))
            page.on("console", lambda m: result.console.append({"type": m.type, "text": m.text}))
            page.on("pageerror", lambda e: result.console.append({"type": "pageerror", "text": str(e)}))
            try:
                page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT * 1000)
                ready = page.wait_for_function(SLIDERS, timeout=LOAD_TIMEOUT * 1000, polling="raf")
                result.load_ms = float(ready.json_value())
                result.timings["page_request_to_sliders_ms"] = round(result.load_ms)
                page.evaluate(PAGE_HELPERS)
                yield result
            finally:
                ARTIFACTS.mkdir(exist_ok=True)
                (ARTIFACTS / "browser-class-console.json").write_text(json.dumps(result.console, indent=1))
                (ARTIFACTS / "browser-class.json").write_text(
                    json.dumps({**result.timings, "kernel_rss_mb": result.rss_mb}, indent=2)
                )
                context.close()
                browser.close()


def _weights_label(page: Any) -> str:
    return page.locator(".pruning-explorer-weights").inner_text()


def _wait_for_weights(page: Any, text: str) -> None:
    """Wait until the live-weights bar says ``text``."""
    script = "(t) => document.querySelector('.pruning-explorer-weights').textContent.includes(t)"
    page.wait_for_function(script, arg=text)


# -------------------------------------------------------------------------------------------------- tests
def test_the_page_opens_at_resnet20s_real_accuracy(visit: ClassVisit, setup: dict[str, Any]) -> None:
    from explorer.ui.format import format_accuracy

    page, reference = visit.page, setup["reference"]
    base = reference.baseline()
    assert base.accuracy >= 0.9  # ResNet-20's real weights: 49 of these 50 images
    group = reference.groups[0].name
    _wait_for_values(page, _shown(reference, group), group)
    visit.timings["page_request_to_exact_accuracy_ms"] = round(page.evaluate("() => performance.now()"))
    assert _card(page, "Top-1 accuracy")["value"] == format_accuracy(base.accuracy)
    assert "Live weights: original" in _weights_label(page)
    _rss(visit, "open")
    _screenshot(page, "class-01-open")


def test_sixteen_moves_every_other_one_the_first_layer(visit: ClassVisit, setup: dict[str, Any]) -> None:
    page, reference = visit.page, setup["reference"]
    first, later = reference.groups[0].name, reference.groups[5].name
    ratios = {first: 0.0, later: 0.0}
    latencies: dict[str, list[float]] = {first: [], later: []}
    for i in range(MOVES):
        group = first if i % 2 == 0 else later
        previous = _card(page, "Top-1 accuracy")["value"]
        handle = _slider_handle(page, group)
        handle.scroll_into_view_if_needed()
        handle.focus()
        keys_before = page.evaluate("() => window.__pe.keys.length")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([e, r]) => parseInt(e.textContent) / 100 > r + 1e-9",
            arg=[_slider(page, group).locator(".widget-readout").element_handle(), ratios[group]],
            polling="raf",
        )
        ratios[group] = _slider_ratio(page, group)
        reference.reset()
        reference.set_ratios({g: r for g, r in ratios.items() if r > 0}, criterion="l1")
        want = _shown(reference, group)
        _wait_for_values(page, want, group)
        if want["accuracy"] != previous:  # otherwise the card has nothing to change into
            pressed, events = page.evaluate("(k) => [window.__pe.keys[k], window.__pe.accuracy]", keys_before)
            exact = [e for e in events if e["t"] > pressed and e["value"] == want["accuracy"]]
            latencies[group].append(exact[0]["t"] - pressed)
    assert ratios == {first: pytest.approx(0.4), later: pytest.approx(0.4)}  # 8 steps of 5 % each
    assert len(latencies[first]) >= 4, "too few first-layer moves changed the accuracy to time them"
    for name, group in (("first_layer", first), ("later_layer", later)):
        if latencies[group]:
            visit.timings[f"keypress_to_exact_{name}_ms_p50"] = round(statistics.median(latencies[group]))
            visit.timings[f"keypress_to_exact_{name}_ms_all"] = [round(t) for t in latencies[group]]
    _rss(visit, "16 moves")
    _screenshot(page, "class-02-moves")


def test_three_criteria(visit: ClassVisit, setup: dict[str, Any]) -> None:
    page, reference = visit.page, setup["reference"]
    first, later = reference.groups[0].name, reference.groups[5].name
    ratios = {first: _slider_ratio(page, first), later: _slider_ratio(page, later)}
    for criterion in ("fpgm", "taylor", "hessian"):
        started = time.perf_counter()
        _set_criterion(page, criterion)
        reference.reset()
        reference.set_ratios(ratios, criterion=criterion)
        _wait_for_values(page, _shown(reference, first), first)
        visit.timings[f"criterion_{criterion}_s"] = round(time.perf_counter() - started, 1)
        _rss(visit, f"criterion {criterion}")
    _set_criterion(page, "l1")
    reference.reset()
    reference.set_ratios(ratios, criterion="l1")
    _wait_for_values(page, _shown(reference, first), first)


def test_a_scan_and_li_et_als_plan(visit: ClassVisit, setup: dict[str, Any]) -> None:
    page, reference = visit.page, setup["reference"]
    started = time.perf_counter()
    page.locator(".lm-TabBar-tab").filter(has_text="Sensitivity & plans").click()
    page.get_by_role("button", name="Run sensitivity scan").click()
    reference.reset()
    table = reference.sensitivity(criterion="l1")
    page.get_by_text(f"{len(table.rows)} evaluations with Filter size (L1) in").wait_for(
        timeout=LOAD_TIMEOUT * 1000
    )
    visit.timings["sensitivity_scan_s"] = round(time.perf_counter() - started, 1)
    page.get_by_role("button", name="Apply Li et al. plan").click()
    plan = reference.suggest_plan("li", table=table, epsilon=0.01)
    first = reference.groups[0].name
    _wait_for_values(page, _shown(reference, first), first)
    for group, ratio in plan["ratios"].items():
        assert _slider_ratio(page, group) == pytest.approx(ratio), group
    _rss(visit, "scan and plan")


def test_fine_tune_then_reset_is_the_original_and_undo_the_fine_tuned(
    visit: ClassVisit, setup: dict[str, Any]
) -> None:
    from explorer.ui.format import format_accuracy

    page, reference = visit.page, setup["reference"]
    page.locator(".pe-global-slider .noUi-handle").focus()
    for _ in range(6):  # 30 % of every layer, ranked across layers
        page.keyboard.press("ArrowRight")
    reference.reset()
    reference.set_global_ratio(0.3, criterion="l1")
    first = reference.groups[0].name
    _wait_for_values(page, _shown(reference, first), first)
    page.locator(".lm-TabBar-tab").filter(has_text="Fine-tune & export").click()
    steps = page.locator(".widget-text").filter(has=page.get_by_text("Steps", exact=True)).locator("input")
    steps.fill(str(FINETUNE_STEPS))
    steps.press("Enter")
    started = time.perf_counter()
    # a button's accessible name starts with its icon's glyph: match the end
    page.get_by_role("button", name=re.compile(r"Fine-tune$")).click()
    page.get_by_text(f"Fine-tuned {FINETUNE_STEPS} steps.").wait_for(timeout=LOAD_TIMEOUT * 1000)
    visit.timings["finetune_s"] = round(time.perf_counter() - started, 1)
    _wait_for_weights(page, "fine-tuned under plan #")
    assert f"({FINETUNE_STEPS} steps)" in _weights_label(page)
    page.wait_for_function("() => window.__pe.card('Top-1 accuracy').note === 'exact'")
    tuned = _card(page, "Top-1 accuracy")["value"]
    _rss(visit, "fine-tune")

    _reset(page)
    original = format_accuracy(reference.baseline().accuracy)
    reference.reset()
    _wait_for_values(page, _shown(reference, first), first)
    assert _card(page, "Top-1 accuracy")["value"] == original
    _wait_for_weights(page, "Live weights: original")

    page.get_by_role("button", name="Undo").click()
    _wait_for_weights(page, "fine-tuned under plan #")
    page.wait_for_function(EXACT_ACCURACY, arg=tuned)
    _rss(visit, "reset and undo")
    _screenshot(page, "class-03-after-undo")


def test_an_export_names_the_fine_tuned_weights(visit: ClassVisit, setup: dict[str, Any]) -> None:
    page = visit.page
    folder = setup["export"] / "pruned-resnet20"
    page.get_by_placeholder("folder (relative to the notebook's folder, or absolute)").fill(str(folder))
    page.get_by_role("button", name="Save pruned model").click()
    page.get_by_text(f"Saved to {folder}").wait_for(timeout=LOAD_TIMEOUT * 1000)
    assert {"plan.json", "pruned_state_dict.pt", "SUMMARY.md"} <= {p.name for p in folder.iterdir()}
    summary = (folder / "SUMMARY.md").read_text()
    assert "fine-tuned under plan #" in summary
    assert f"({FINETUNE_STEPS} steps)" in summary
    _rss(visit, "export")


def test_the_kernel_stays_within_its_share_of_a_2_gb_pod(visit: ClassVisit) -> None:
    peak = _peak_mb(visit.kernel)
    visit.timings["kernel_peak_rss_mb"] = round(peak)
    print(f"\nkernel RSS after each step (MB): {visit.rss_mb}; peak {peak:.0f} MB")
    assert peak <= KERNEL_PEAK_MB, visit.rss_mb


def test_a_reload_leaves_one_kernel_serving_the_visitor(visit: ClassVisit) -> None:
    page, old = visit.page, visit.kernel
    page.reload(wait_until="commit")
    ready = page.wait_for_function(SLIDERS, timeout=LOAD_TIMEOUT * 1000, polling="raf")
    visit.timings["reload_to_sliders_ms"] = round(float(ready.json_value()))
    deadline = time.monotonic() + LOAD_TIMEOUT
    while old in _kernels(visit.server_pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    kernels = _wait_for_kernels(visit.server_pid, 2, timeout=LOAD_TIMEOUT)
    assert old not in kernels, "the kernel of the page we left is still running"
    # the one serving the reloaded page, and the preheated one waiting for the next visitor
    assert len(kernels) == 2, kernels
    print(f"\n{json.dumps(visit.timings, indent=2)}")
