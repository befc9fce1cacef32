"""Time to interactive of the Voilà app in a real browser (Chromium, 1280×720), with a preheated kernel.

Serves ``pruning-explorer app --explore --no-browser --port P --pool-size 1`` on digits_cnn, waits for the
pool's kernel, then loads the page ``--loads`` times (sleeping between loads so the pool refills). An init
script polls every 20 ms and records when ``window.Bokeh`` is defined and when the first ``.widget-slider``
appears; navigation timing gives the response and load event. Prints one JSON line per load and the medians.

    python tools/measure_tti.py --loads 3
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = """
window.__tti = {};
const t0 = performance.now();
const tick = () => {
  const now = performance.now();
  if (window.__tti.bokeh === undefined && window.Bokeh !== undefined) window.__tti.bokeh = now;
  const slider = document.querySelector('.widget-slider');
  if (window.__tti.slider === undefined && slider) window.__tti.slider = now;
  if (window.__tti.slider === undefined || window.__tti.bokeh === undefined) setTimeout(tick, 20);
};
setTimeout(tick, 0);
"""

#: (name, what to click, a text that shows once the content is there)
OPEN = (
    ("finetune_tab_s", "Fine-tune & export", "Fine-tune the pruned network"),
    ("analyses_s", "Analyses: who pays for the pruning, and dynamic pruning", "The average accuracy hides"),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(loads: int, warmup: float, pause: float, open_tabs: bool = False) -> list[dict]:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    command = [sys.executable, "-m", "explorer.cli", "app", "--model", "digits_cnn", "--explore"]
    command += ["--no-browser", "--port", str(port), "--pool-size", "1"]
    log = open(REPO / "test-artifacts" / "tti-server.log", "w")  # noqa: SIM115
    env = dict(os.environ, BOKEH_RESOURCES="inline")
    server = subprocess.Popen(
        command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(warmup)  # the probe above used the pool's kernel: let a new one preheat
        results = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            for i in range(loads):
                context = browser.new_context(viewport={"width": 1280, "height": 720})
                page = context.new_page()
                page.add_init_script(PROBE)
                page.goto(url, wait_until="commit", timeout=120_000)
                page.wait_for_function("window.__tti && window.__tti.slider !== undefined", timeout=120_000)
                nav = page.evaluate(
                    "JSON.parse(JSON.stringify(performance.getEntriesByType('navigation')[0]))"
                )
                tti = page.evaluate("window.__tti")
                size = page.evaluate("document.documentElement.outerHTML.length")
                opened = {}
                if open_tabs:  # a tab and the Analyses area opened for the first time: click → content shown
                    for key, header, content in OPEN:
                        start = time.perf_counter()
                        page.get_by_text(header, exact=True).first.click()
                        page.get_by_text(content).first.wait_for(state="visible", timeout=60_000)
                        opened[key] = round(time.perf_counter() - start, 3)
                row = {
                    "load": i,
                    "response_end_s": nav["responseEnd"] / 1000,
                    "load_event_s": nav["loadEventEnd"] / 1000,
                    "bokeh_s": tti.get("bokeh", float("nan")) / 1000,
                    "slider_s": tti["slider"] / 1000,
                    "html_bytes": nav.get("transferSize"),
                    "dom_chars": size,
                    **opened,
                }
                print(json.dumps(row), flush=True)
                results.append(row)
                context.close()
                if i + 1 < loads:
                    time.sleep(pause)
            browser.close()
        return results
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=40.0)
    parser.add_argument("--pause", type=float, default=35.0)
    parser.add_argument("--open-tabs", action="store_true", help="also time opening a closed tab (s)")
    args = parser.parse_args()
    (REPO / "test-artifacts").mkdir(exist_ok=True)
    rows = measure(args.loads, args.warmup, args.pause, args.open_tabs)
    keys = ("response_end_s", "load_event_s", "bokeh_s", "slider_s")
    print("median", json.dumps({k: round(statistics.median(r[k] for r in rows), 3) for k in keys}))


if __name__ == "__main__":
    main()
