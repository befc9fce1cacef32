"""The served app in a real Chromium: a preheated kernel answers the first visit at once, a reload frees the
previous kernel, and every kernel stays within a Binder pod's share of memory.

Before: Voilà's shutdown beacon was refused (``403 … '_xsrf' argument missing``), so each reload kept another
kernel of about 1 GB running until the ten-minute cull; and every visit waited for a cold kernel (6-7 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    LOAD_TIMEOUT,
    _descendants,
    _missing,
    find_chromium,
    running_app,
)

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:the embedded weights")]

KERNEL_RSS_BOUND_MB = 1500
# 3× the README's figures from the last run on this shared 2-core machine: a preheated first visit showed
# sliders after 5.2 s, a reload after 2.4 s (a cold kernel took 6.6-9.2 s, so a pool that stopped
# preheating fails the reload budget)
BUDGET_MS = {"preheated_page_request_to_sliders_ms": 3 * 5200, "reload_to_sliders_ms": 3 * 2400}
SLIDERS = "() => document.querySelector('.pruning-explorer .noUi-handle') ? performance.now() : null"


def _kernels(server_pid: int) -> dict[int, float]:
    """pid → resident MB of every Jupyter kernel the server started."""
    found = {}
    for pid in _descendants(server_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, ValueError):
            continue
        if b"ipykernel" in command:
            found[pid] = rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    return found


def _wait_for_kernels(server_pid: int, count: int, timeout: float = 120.0) -> dict[int, float]:
    """Wait until exactly ``count`` kernels exist and have settled (RSS unchanged for 3 s)."""
    deadline, previous, stable_since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        kernels = _kernels(server_pid)
        rounded = {pid: round(mb, -1) for pid, mb in kernels.items()}
        if rounded != previous:
            previous, stable_since = rounded, time.monotonic()
        elif len(kernels) == count and time.monotonic() - stable_since >= 3:
            return kernels
        time.sleep(0.5)
    return _kernels(server_pid)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, subprocess.Popen]]:
    """``pruning-explorer app`` (one preheated kernel); yields (url, process). The readiness request took
    the preheated kernel, and the pool fills again."""
    if find_chromium() is None:
        _missing("Chromium not found (/usr/bin/chromium or `chromium` on PATH): apt-get install chromium")
    args = ["--model", "digits_cnn", "--memory-limit", "2G"]
    with running_app(args, "voila-reload-server.log", stop_probe_kernel=False) as served:
        yield served


def test_preheated_visit_and_reload_leave_one_kernel_per_visitor(served) -> None:
    from playwright.sync_api import sync_playwright

    url, process = served
    # the probe's kernel and the refilled pool: wait until they have run the notebook
    _wait_for_kernels(process.pid, 2, timeout=LOAD_TIMEOUT)
    timings = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url, wait_until="commit")
        ready = page.wait_for_function(SLIDERS, timeout=LOAD_TIMEOUT * 1000, polling="raf")
        timings["preheated_page_request_to_sliders_ms"] = round(float(ready.json_value()))
        before = _wait_for_kernels(process.pid, 3, timeout=LOAD_TIMEOUT)  # probe's, ours, the refilled pool
        page.reload(wait_until="commit")
        ready = page.wait_for_function(SLIDERS, timeout=LOAD_TIMEOUT * 1000, polling="raf")
        timings["reload_to_sliders_ms"] = round(float(ready.json_value()))
        after = _wait_for_kernels(process.pid, 3, timeout=LOAD_TIMEOUT)
        page.screenshot(path=str(ARTIFACTS / "reload-1280x720.png"), full_page=True)
        browser.close()
    timings["kernels_before_reload"] = len(before)
    timings["kernels_after_reload"] = len(after)
    timings["kernel_rss_mb"] = sorted(round(mb) for mb in {**before, **after}.values())
    (ARTIFACTS / "browser-reload.json").write_text(json.dumps(timings, indent=2))
    print(f"\n{json.dumps(timings, indent=2)}")
    # the page we left was shut down on unload: its kernel is gone, the next visit took the preheated one
    assert len(after) == len(before), f"a reload left a kernel behind: {before} → {after}"
    assert set(after) != set(before)
    assert max(timings["kernel_rss_mb"]) <= KERNEL_RSS_BOUND_MB
    for key, budget in BUDGET_MS.items():
        assert timings[key] <= budget, (key, timings, BUDGET_MS)
