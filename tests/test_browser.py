"""End-to-end tests: the real ``pruning-explorer app`` (Voilà) driven by a real Chromium, offline.

One Voilà server and one page serve the whole module (each visit starts a kernel that loads torch, ~800 MB):
the tests below run in file order on that page (the criterion test starts from the plan the slider test
left; the others reset the plan first). Every request that does not go to localhost is aborted, so the app
is checked to work with no network at all.

The numbers the page shows are compared with what a ``PruningSession("digits_cnn")`` computes in this
process for the same plan, formatted with the app's own ``explorer.ui.format`` functions.

Artifacts (``test-artifacts/``, gitignored): screenshots, the Voilà server log, ``browser-timings.json``
(page request → interactive sliders, and slider keypress → updated accuracy, p50 over the moves). The main
screenshot is also written to ``docs/screenshot.png`` for the README.

Chromium: ``/usr/bin/chromium`` (Debian) or ``chromium`` on the PATH; ``playwright install`` is never
needed. Without it the tests skip, except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from explorer.ui.state import DEBOUNCE_SECONDS

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:the embedded weights")]

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
DOCS_SCREENSHOT = REPO / "docs" / "screenshot.png"
MAX_SCREENSHOT_BYTES = 500_000

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1320, "height": 1350}

#: Seconds allowed for the server to answer, and for the page to show its sliders (a cold kernel imports
#: torch and builds the session; on a loaded 2-core machine that can take 30 s).
SERVER_TIMEOUT = 120
LOAD_TIMEOUT = 180
#: Seconds allowed for one slider move or criterion switch to reach the exact accuracy.
UPDATE_TIMEOUT = 60

#: The layer whose slider the tests move, and how many keyboard steps (of 5 %) they take.
GROUP = "features.0"
# Timing budgets: 3× the p50s of the previous build's run on this shared 2-core machine (page request →
# sliders 3.8 s, key press → first accuracy change 289 ms, → exact accuracy 441 ms; this build's run: 6.3 s,
# 352 ms, 368 ms), generous enough not to flake when the machine is loaded (the exact accuracy then took
# about 1 s), tight enough to catch a lost cache or debounce (a naive re-evaluation alone takes several
# times the p50).
BUDGET_MS = {
    "page_request_to_sliders_ms": 3 * 3800,
    "keypress_to_first_accuracy_change_ms_p50": 3 * 289,
    "keypress_to_exact_accuracy_ms_p50": 3 * 441,
}
MOVES = 12

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")

# In-page helpers: read a metric card, and record (with performance.now()) every keydown and every change
# of the accuracy card, so round trips are timed inside the browser, free of the test's polling delays.
PAGE_HELPERS = """
() => {
  if (window.__pe) return;
  const card = (title) => {
    for (const el of document.querySelectorAll('.widget-html-content')) {
      const box = el.firstElementChild;
      if (!box || box.children.length < 3) continue;
      if (box.children[0].textContent.trim() === title) {
        return {value: box.children[1].textContent.trim(), note: box.children[2].textContent.trim()};
      }
    }
    return null;
  };
  const pe = {card, keys: [], accuracy: [], last: null};
  const watch = () => {
    const c = card('Top-1 accuracy');
    const text = c ? c.value + ' | ' + c.note : null;
    if (text !== pe.last) {
      pe.last = text;
      pe.accuracy.push({t: performance.now(), value: c && c.value, note: c && c.note});
    }
  };
  new MutationObserver(watch).observe(document.body, {childList: true, subtree: true, characterData: true});
  document.addEventListener('keydown', () => pe.keys.push(performance.now()), true);
  window.__pe = pe;
  watch();
}
"""


def _missing(reason: str) -> None:
    """Skip, or fail under ``CI=true``: in CI a missing browser must not pass silently."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip")
    pytest.skip(reason)


def find_chromium() -> str | None:
    """The Chromium binary: Debian's ``/usr/bin/chromium``, else ``chromium`` on the PATH."""
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc; the Jupyter kernels run in their own sessions)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name (field 2) may contain spaces: the ppid is the 2nd field after its closing ")"
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def _stop_server(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (Voilà then shuts its kernels down), SIGKILL what is left."""
    started = _descendants(process.pid)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    for pid in started:  # kernels live in sessions of their own: not reached by the group signal
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _shutdown_probe_kernel(base: str, page: str) -> None:
    """Stop the kernel that Voilà started to answer the readiness probe (it would compete for the CPU).

    Voilà's shutdown endpoint wants an XSRF token: a double-submitted cookie/header pair of our own.
    """
    marker = '"kernelId": "'
    start = page.find(marker)
    if start < 0:
        return
    kernel = page[start + len(marker) : page.find('"', start + len(marker))]
    token = "0123456789abcdef0123456789abcdef"
    request = urllib.request.Request(
        f"{base}voila/api/shutdown/{kernel}",
        data=b"",
        method="POST",
        headers={"X-XSRFToken": token, "Cookie": f"_xsrf={token}"},
    )
    # if it fails, the kernel is culled after ten idle minutes anyway, and killed with the server
    with contextlib.suppress(urllib.error.URLError):
        urllib.request.urlopen(request, timeout=10).close()


def _wait_for_http(url: str, process: subprocess.Popen, log: Path) -> str:
    """Poll ``url`` until it answers 200; returns the page. Fails if the server dies or times out."""
    deadline = time.monotonic() + SERVER_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Voilà server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=SERVER_TIMEOUT) as response:
                if response.status == 200:
                    return response.read().decode("utf-8", "replace")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"the Voilà server did not answer on {url} within {SERVER_TIMEOUT} s")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        _missing("Chromium not found (/usr/bin/chromium or `chromium` on PATH): apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the Python package playwright is not installed (pip install -e '.[test]')")
    return path


@contextlib.contextmanager
def running_app(
    app_args: list[str], log_name: str, env: dict[str, str] | None = None, *, stop_probe_kernel: bool = True
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``pruning-explorer app APP_ARGS`` on a free localhost port, in its own process group, its output in
    ``test-artifacts/LOG_NAME``; yields ``(url, process)`` once it answers, and stops it (kernels too)."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    cli = shutil.which("pruning-explorer")
    command = [cli] if cli else [sys.executable, "-m", "explorer.cli"]
    command += ["app", "--port", str(port), "--no-browser", *app_args]
    log = ARTIFACTS / log_name
    with log.open("w") as handle:
        process = subprocess.Popen(
            command, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        page = _wait_for_http(url, process, log)
        if stop_probe_kernel:
            _shutdown_probe_kernel(url, page)
        yield url, process
    finally:
        _stop_server(process)


@pytest.fixture(scope="module")
def server(chromium: str) -> Iterator[str]:
    """The app on digits_cnn, in the free explorer (the landing page is otherwise the guided lesson, which
    unlocks the sliders later); yields its URL."""
    env = dict(os.environ, BOKEH_RESOURCES="inline")
    with running_app(["--model", "digits_cnn", "--explore"], "voila-server.log", env) as (url, _process):
        yield url


@pytest.fixture(scope="module")
def session() -> Any:
    """The same session the app builds, in this process: the reference for every number on the page."""
    from explorer.session import PruningSession

    return PruningSession("digits_cnn")


@dataclass
class Visit:
    """The page, and what was recorded while it was open."""

    page: Any
    load_ms: float
    console: list[dict] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)


def _message(kind: str, text: str, url: str | None = None) -> dict[str, str]:
    return {"type": kind, "text": text, "url": url or ""}


def _route_offline(visit: Visit):
    def handle(route: Any) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("data", "blob") or url.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            visit.blocked.append(route.request.url)
            route.abort("internetdisconnected")

    return handle


@pytest.fixture(scope="module")
def visit(server: str, chromium: str, session: Any) -> Iterator[Visit]:
    """One visit of the app, offline; waits until the real sliders and the bokeh canvases are there."""
    from playwright.sync_api import sync_playwright

    session.baseline()  # before the page is requested, so the reference does not slow its loading
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.set_default_timeout(UPDATE_TIMEOUT * 1000)
        result = Visit(page=page, load_ms=float("nan"))
        context.route("**/*", _route_offline(result))
        page.on(
            "console",
            lambda m: result.console.append(
                {"type": m.type, "text": m.text, "url": m.location.get("url", "")}
            ),
        )
        page.on(
            "pageerror", lambda e: result.console.append({"type": "pageerror", "text": str(e), "url": ""})
        )
        try:
            page.goto(server, wait_until="commit", timeout=LOAD_TIMEOUT * 1000)
            # performance.now() counts from the navigation's start, i.e. from the page request
            loading = page.wait_for_function(
                "() => document.querySelector('.pruning-explorer') ? performance.now() : null",
                timeout=LOAD_TIMEOUT * 1000,
                polling="raf",
            )
            result.timings["page_request_to_loading_state_ms"] = round(float(loading.json_value()))
            handle = page.wait_for_function(
                "() => document.querySelector('.pruning-explorer .noUi-handle') ? performance.now() : null",
                timeout=LOAD_TIMEOUT * 1000,
                polling="raf",
            )
            result.load_ms = float(handle.json_value())
            result.timings["page_request_to_sliders_ms"] = round(result.load_ms)
            page.evaluate(PAGE_HELPERS)
            yield result
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "browser-console.json").write_text(json.dumps(result.console, indent=1))
            context.close()
            browser.close()


# ------------------------------------------------------------------------------------------------ helpers
def _card(page: Any, title: str) -> dict | None:
    return page.evaluate("(t) => window.__pe.card(t)", title)


def _slider(page: Any, group: str) -> Any:
    """The slider of ``group`` in the list of every layer (the page names layers in plain words; the row and
    the slider carry the code name as a CSS class)."""
    from explorer.ui.views.controls import css_name

    return page.locator(f".pe-slider-{css_name(group)}")


def _slider_handle(page: Any, group: str) -> Any:
    return _slider(page, group).locator(".noUi-handle")


def _shown(session: Any, group: str) -> dict[str, str]:
    """What the page must show for the session's current plan, formatted as the app formats it."""
    from explorer.ui.format import format_accuracy, format_count

    metrics = session.evaluate()
    return {
        "accuracy": format_accuracy(metrics.accuracy),
        "macs": format_count(metrics.macs),
        "params": format_count(metrics.params),
        "removed": str(len(session.pruned.get(group, ()))),
    }


def _expected(session: Any, group: str, ratio: float, criterion: str) -> dict[str, str]:
    """What the page must show for ``group`` alone pruned at ``ratio`` by ``criterion``."""
    session.reset()
    if ratio > 0:
        session.set_ratios({group: ratio}, criterion=criterion)
    return _shown(session, group)


def _wait_for_values(page: Any, want: dict[str, str], group: str) -> None:
    """Wait until the cards show the exact ``want`` values and the layer's channel count agrees."""
    from explorer.ui.views.controls import css_name

    script = """
    ([acc, macs, params, group, removed]) => {
      const a = window.__pe.card('Top-1 accuracy'), m = window.__pe.card('MACs per image');
      const p = window.__pe.card('Parameters');
      if (!a || !m || !p) return false;
      const row = document.querySelector('.pe-row-' + group);
      const count = row ? row.textContent : '';
      return a.value === acc && a.note === 'exact' && m.value === macs && p.value === params
        && count.includes(removed + ' of ');
    }
    """
    args = [want["accuracy"], want["macs"], want["params"], css_name(group), want["removed"]]
    try:
        page.wait_for_function(script, arg=args, timeout=UPDATE_TIMEOUT * 1000, polling="raf")
    except Exception as error:
        shown = {t: _card(page, t) for t in ("Top-1 accuracy", "MACs per image", "Parameters")}
        _screenshot(page, "failure")
        raise AssertionError(f"the page never showed {want}; it shows {shown}") from error


def _slider_ratio(page: Any, group: str) -> float:
    """The slider's value, read from its readout ("15%"): its ``aria-valuenow`` is rounded to 0.1."""
    text = _slider(page, group).locator(".widget-readout").inner_text().strip()
    assert text.endswith("%"), text
    return int(text.rstrip("%").strip()) / 100


def _screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _reset(page: Any) -> None:
    page.get_by_role("button", name="Back to the original network").click()


def _set_criterion(page: Any, name: str) -> None:
    from explorer.ui.i18n import Translator
    from explorer.ui.naming import criterion_label

    page.locator(".widget-dropdown").filter(has=page.get_by_text("Criterion", exact=True)).locator(
        "select"
    ).select_option(label=criterion_label(name, Translator("en")))


# -------------------------------------------------------------------------------------------------- tests
def test_page_loads_with_sliders_cards_and_plots(visit: Visit, session: Any) -> None:
    from explorer.ui.format import format_accuracy, format_count

    page = visit.page
    print(f"\npage request → interactive sliders: {visit.load_ms / 1000:.2f} s")
    assert visit.load_ms <= BUDGET_MS["page_request_to_sliders_ms"], (visit.timings, BUDGET_MS)
    for group in session.groups:
        assert _slider_handle(page, group.name).count() == 1, group.name
    base = session.baseline()
    _wait_for_values(
        page,
        {
            "accuracy": format_accuracy(base.accuracy),
            "macs": format_count(base.macs),
            "params": format_count(base.params),
            "removed": "0",
        },
        GROUP,
    )
    # bokeh draws into canvases inside shadow roots (the locator pierces them): BokehJS came inline
    page.locator(".bk-Canvas canvas, canvas").first.wait_for(state="attached")
    assert page.locator("canvas").count() >= 4
    assert page.evaluate("() => typeof window.Bokeh !== 'undefined'")
    assert "Loading model" not in page.locator(".pruning-explorer").inner_text()
    _screenshot(page, "01-loaded")


def test_keyboard_slider_moves_match_the_session(visit: Visit, session: Any) -> None:
    page = visit.page
    _reset(page)
    _wait_for_values(page, _expected(session, GROUP, 0.0, "l1"), GROUP)
    handle = _slider_handle(page, GROUP)
    handle.focus()
    previous_ratio, previous = 0.0, _card(page, "Top-1 accuracy")["value"]
    first_ms, exact_ms = [], []
    for _ in range(MOVES):
        keys_before = page.evaluate("() => window.__pe.keys.length")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([e, r]) => parseInt(e.textContent) / 100 > r + 1e-9",
            arg=[_slider(page, GROUP).locator(".widget-readout").element_handle(), previous_ratio],
            polling="raf",
        )
        ratio = _slider_ratio(page, GROUP)
        assert ratio == pytest.approx(previous_ratio + 0.05), "one arrow key = one 5 % step"
        want = _expected(session, GROUP, ratio, "l1")
        _wait_for_values(page, want, GROUP)
        if want["accuracy"] != previous:  # otherwise the accuracy text has nothing to change into
            pressed, events = page.evaluate("(k) => [window.__pe.keys[k], window.__pe.accuracy]", keys_before)
            after = [e for e in events if e["t"] > pressed]
            first_ms.append(after[0]["t"] - pressed)
            exact = [e for e in after if e["value"] == want["accuracy"] and e["note"] == "exact"]
            exact_ms.append(exact[0]["t"] - pressed)
        previous_ratio, previous = ratio, want["accuracy"]
    assert len(exact_ms) >= MOVES // 2, "too few moves changed the accuracy to time them"
    visit.timings.update(
        {
            "moves_timed": len(exact_ms),
            "keypress_to_first_accuracy_change_ms_p50": round(statistics.median(first_ms)),
            "keypress_to_exact_accuracy_ms_p50": round(statistics.median(exact_ms)),
            "keypress_to_exact_accuracy_ms_all": [round(t) for t in exact_ms],
            "note": f"includes the app's {DEBOUNCE_SECONDS} s slider debounce; digits_cnn, 359 images",
        }
    )
    print(
        f"\nkeypress → first accuracy change p50 {statistics.median(first_ms):.0f} ms, "
        f"→ exact accuracy p50 {statistics.median(exact_ms):.0f} ms over {len(exact_ms)} moves"
    )
    _screenshot(page, "02-after-slider")
    for key in ("keypress_to_first_accuracy_change_ms_p50", "keypress_to_exact_accuracy_ms_p50"):
        assert visit.timings[key] <= BUDGET_MS[key], (key, visit.timings, BUDGET_MS)


def test_criterion_dropdown_reranks_and_updates(visit: Visit, session: Any) -> None:
    from explorer.criteria import get_criterion

    page = visit.page
    ratio = _slider_ratio(page, GROUP)
    assert ratio > 0, "runs after the slider test, on the plan it left"
    for criterion in ("fpgm", "taylor"):
        _set_criterion(page, criterion)
        want = _expected(session, GROUP, ratio, criterion)
        _wait_for_values(page, want, GROUP)
        title = get_criterion(criterion).title
        page.get_by_text(title).first.wait_for()
    _screenshot(page, "03-after-criterion")
    # the main screenshot: a pruned plan, by a data-driven criterion, every panel drawn
    page.wait_for_timeout(500)  # let bokeh finish repainting the plots
    page.screenshot(path=str(DOCS_SCREENSHOT))
    assert DOCS_SCREENSHOT.stat().st_size < MAX_SCREENSHOT_BYTES
    _set_criterion(page, "l1")
    _reset(page)
    _wait_for_values(page, _expected(session, GROUP, 0.0, "l1"), GROUP)


def test_sensitivity_scan_and_li_plan(visit: Visit, session: Any) -> None:
    from explorer.ui.format import format_percent

    page = visit.page
    _reset(page)
    _wait_for_values(page, _expected(session, GROUP, 0.0, "l1"), GROUP)
    page.locator(".lm-TabBar-tab").filter(has_text="Sensitivity & plans").click()
    page.get_by_role("button", name="Run sensitivity scan").click()
    table = session.sensitivity(criterion="l1")  # the app's default grid, 10 % … 90 %
    page.get_by_text(f"{len(table.rows)} evaluations with Filter size (L1) in").wait_for(
        timeout=UPDATE_TIMEOUT * 1000
    )
    note = f"Unpruned accuracy {format_percent(table.baseline_accuracy)}; {len(table.rows)} evaluations"
    page.get_by_text(note).wait_for()
    panels = page.locator(".pruning-explorer-panels")
    panels.scroll_into_view_if_needed()
    assert panels.locator("canvas").count() >= 1

    page.get_by_role("button", name="Apply Li et al. plan").click()  # ε slider at its default, 1 point
    session.reset()
    plan = session.suggest_plan("li", table=table, epsilon=0.01)
    _wait_for_values(page, _shown(session, GROUP), GROUP)
    for group, ratio in plan["ratios"].items():
        assert _slider_ratio(page, group) == pytest.approx(ratio), group
    page.get_by_text("Li et al. plan, ε = 1.0 points, ranked by Filter size (L1)").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    panels.screenshot(path=str(ARTIFACTS / "04-sensitivity-and-plan.png"))
    _reset(page)
    _wait_for_values(page, _expected(session, GROUP, 0.0, "l1"), GROUP)


def test_no_console_errors(visit: Visit) -> None:
    errors = []
    for message in visit.console:
        if message["type"] not in ("error", "pageerror"):
            continue  # warnings (labextension version notes, bokeh's idle-status notes) are not failures
        if message["text"].startswith("Failed to load resource") and message["url"] in visit.blocked:
            continue  # a request to the internet, aborted by this test (offline): judged by the next test
        if "favicon" in message["url"] and "404" in message["text"]:
            continue  # browsers ask for /favicon.ico on their own; not part of the app
        errors.append(message)
    assert not errors, json.dumps(errors, indent=1)


def test_works_offline_no_request_leaves_localhost(visit: Visit) -> None:
    """Nothing may be fetched from the internet: not only for privacy, but because a stylesheet in the head
    blocks the first render. Aborted at once (as here, or with no DNS) it costs nothing; where outgoing
    packets are silently dropped (firewalls, proxies) the page stays blank until the request times out —
    checked by hand: with the two requests below left unanswered, no slider after 120 s.

    Fails today: Voilà 0.5's ``lab`` template links Font Awesome from cdn.jsdelivr.net (the widgets manager
    bundles its own copy, so the icons do not need it). Fix: serve with a template without those links.
    """
    external = sorted(set(visit.blocked))
    assert not external, f"the page asked the internet for {external}"


def test_write_timings(visit: Visit) -> None:
    """Last on purpose: writes ``test-artifacts/browser-timings.json`` with what the other tests measured."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "browser-timings.json"
    path.write_text(json.dumps(visit.timings, indent=2))
    print(f"\n{json.dumps(visit.timings, indent=2)}")
    assert "page_request_to_sliders_ms" in visit.timings
