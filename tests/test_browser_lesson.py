"""The guided lesson, walked in a real Chromium, in English and in Korean, on ``digits_cnn``.

The app starts on its landing page, the lesson (no ``--explore``). Each of the six steps is walked as a
student would: the step's question is on the page and not yet answered, the student moves the real controls
(clicks a bar of the filter plot, drags a layer's slider with the keyboard, picks a criterion and a filter,
runs the scan and applies Li et al.'s plan, fine-tunes then reconstructs and reads the three-row comparison,
measures the latency), the page's check turns to answered ("✓"), and Next leads on. After the last step
the pruned model is saved and downloaded through the page's link (a zip in a ``data:`` URI), and the zip is
opened. Each language gets its own visit (a fresh kernel): the Korean one switches the page's language first.

The lesson's first step is photographed full page at 1280×720 in both languages: ``docs/lesson-en.png`` and
``docs/lesson-ko.png`` (the README shows one). Chromium, the server and offline routing are
``tests/test_browser.py``'s.
"""

from __future__ import annotations

import html
import io
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    LOAD_TIMEOUT,
    REPO,
    Visit,
    _route_offline,
    chromium,  # noqa: F401  (a fixture, used by name)
    running_app,
)
from test_browser_layout import SCROLLER, full_page_screenshot

from explorer.ui.i18n import LANGUAGES, Translator
from explorer.ui.lesson import STEPS
from explorer.ui.naming import criterion_label, layer_labels
from explorer.ui.views.controls import css_name
from explorer.ui.views.lesson import KEYS

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:the embedded weights")]

DOCS = REPO / "docs"
#: Seconds one answer may take to be checked (the fine-tuning and the scan run on a busy 2-core machine).
ANSWER_TIMEOUT = 180
#: digits_cnn's layers (``features.0``, ``.3``, ``.7``) and their filter counts.
GROUPS = [{"name": "features.0", "num_channels": 16}, {"name": "features.3", "num_channels": 32}]
GROUPS.append({"name": "features.7", "num_channels": 32})
LESSON = ".pruning-explorer-lesson"

#: Page coordinates of one bar of the filter plot (a bokeh canvas): BokehJS's own views give the plot's frame
#: and scales. The bar is the lowest ranked one whose score is at least a third of the highest (a bar tall
#: enough to hit, and a filter whose loss the rest of the lesson can afford).
BAR = """
() => {
  const B = window.Bokeh;
  if (!B || !B.index) return null;
  for (const v of B.index.all_views()) {
    const m = v.model;
    if (!m || !v.frame || !m.renderers) continue;
    const bars = m.renderers.find((r) => r.glyph && r.glyph.type === 'VBar');
    if (!bars) continue;
    const data = bars.data_source.data;
    if (!data.x || data.x.length === 0) continue;
    v.el.scrollIntoView({block: 'center'});
    const rect = v.el.getBoundingClientRect();
    if (rect.width === 0) continue;
    const top = Math.max(...Array.from(data.score));
    let i = 0;
    while (i < data.x.length - 1 && !(data.score[i] >= top / 3)) i++;
    return {
      x: rect.left + v.frame.x_scale.compute(data.x[i]),
      y: rect.top + v.frame.y_scale.compute(data.score[i] / 2),
      channel: data.channel[i],
    };
  }
  return null;
}
"""


@pytest.fixture(scope="module")
def server(chromium: str) -> Iterator[str]:  # noqa: F811
    """The app on digits_cnn, on its landing page: the guided lesson."""
    env = dict(os.environ, BOKEH_RESOURCES="inline", PYTHONPATH=str(REPO))
    with running_app(["--model", "digits_cnn", "--pool-size", "0"], "voila-lesson.log", env) as (url, _p):
        yield url


def _plain(text: str) -> str:
    """A catalogue text as the page shows it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _lesson_text(page: Any) -> str:
    return page.locator(LESSON).inner_text()


def _wait_answered(page: Any, step: str, t: Translator) -> None:
    try:
        page.locator(LESSON).get_by_text("✓").wait_for(timeout=ANSWER_TIMEOUT * 1000)
    except Exception as error:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"lesson-{t.lang}-{step}-failure.png"), full_page=True)
        raise AssertionError(
            f"step {step!r} never answered; the lesson shows {_lesson_text(page)!r}"
        ) from error


def _keyboard_slider(page: Any, group: str, steps: int) -> None:
    """Move the slider of ``group`` by ``steps`` arrow keys (5 % each), as a student with the keyboard."""
    handle = page.locator(f".pe-slider-{css_name(group)} .noUi-handle")
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(steps):
        page.keyboard.press("ArrowRight")


def _walk(page: Any, t: Translator, tmp_path: Path) -> None:
    """Every step: the question shown and open, the real controls moved, the answer checked, Next."""
    waiting = _plain(t("lesson.waiting"))
    labels = layer_labels(GROUPS, t, counts=False)
    for number, step in enumerate(STEPS, 1):
        title, _text, task, _done = KEYS[step]
        page.get_by_text(t("lesson.step", number=number, total=len(STEPS))).wait_for()
        shown = _lesson_text(page)
        assert _plain(t(title)) in shown
        assert _plain(t(task)) in shown, (step, shown)
        assert waiting in shown, f"step {step!r} answered before its question: {shown!r}"
        if step == "filter":  # click one bar of the filter plot
            bar = page.evaluate(BAR)
            assert bar is not None, "no bar of the filter plot on the page"
            page.mouse.click(bar["x"], bar["y"])
        elif step == "slider":  # the last conv layer to half, with the keyboard
            _keyboard_slider(page, "features.7", 10)
        elif step == "criteria":  # another criterion, then one filter's "why"
            page.locator(".widget-dropdown").filter(
                has=page.get_by_text(t("controls.criterion"), exact=True)
            ).locator("select").select_option(label=criterion_label("fpgm", t))
            page.get_by_text(criterion_label("fpgm", t)).first.wait_for()
            box = page.locator(".widget-text").filter(has=page.get_by_text(t("why.filter"), exact=True))
            field = box.locator("input")
            field.scroll_into_view_if_needed()
            current = int(field.input_value() or 0)
            field.fill(str((current + 1) % 16))
            field.press("Enter")
        elif step == "sensitivity":  # the scan, then Li et al.'s plan
            page.get_by_role("button", name=t("scan.run")).click()
            done = t("jobs.scan.done", count=27, criterion=criterion_label("fpgm", t), seconds="SECONDS")
            pattern = re.compile(re.escape(_plain(done)).replace("SECONDS", "[0-9.]+"))
            page.locator(".pruning-explorer-panels").get_by_text(pattern).wait_for()  # 3 layers × 9 ratios
            page.get_by_role("button", name=t("plans.li")).click()
        elif step == "finetune":  # back to the original, prune the middle layer by half, fine-tune
            page.get_by_role("button", name=t("weights.reset")).first.click()
            _keyboard_slider(page, "features.3", 10)
            page.locator(f".pe-slider-{css_name('features.3')} .widget-readout").get_by_text("50%").wait_for()
            page.wait_for_timeout(2000)  # the debounced move reaches the plan before the fine-tuning starts
            steps = page.locator(".widget-text").filter(has=page.get_by_text(t("finetune.steps"), exact=True))
            steps.locator("input").fill("60")
            steps.locator("input").press("Enter")
            # the accessible name starts with the icon's glyph (CSS generated content): match its end
            page.get_by_role("button", name=re.compile(re.escape(t("finetune.run")) + "$")).click()
            # once the fine-tuned row has its figure, reconstruct (the click waits for the button's enabling)
            not_yet = t("lesson.recovery.not_yet")
            page.locator(".pe-recovery-finetuned").filter(has_not_text=not_yet).wait_for()
            page.get_by_role("button", name=re.compile(re.escape(t("reconstruct.run")) + "$")).click()
        else:  # the real speed-up
            page.get_by_role("button", name=t("metrics.latency.button")).click()
        _wait_answered(page, step, t)
        assert waiting not in _lesson_text(page)
        answer = next(line for line in _lesson_text(page).splitlines() if "✓" in line)
        print(f"\n[{t.lang}] step {number} ({step}): {answer}")
        if step == "slider":
            assert labels["features.7"] in _lesson_text(page)
        if step == "finetune":  # the comparison: three rows, each with its figure
            rows = page.locator(".pe-recovery-row")
            assert rows.count() == 3
            for i in range(3):
                assert re.search(r"\d+\.\d %", rows.nth(i).inner_text()), rows.nth(i).inner_text()
        next_button = page.locator(LESSON).get_by_role("button", name=t("lesson.next"))
        if number < len(STEPS):
            next_button.click()
        else:
            assert next_button.is_disabled()
    _download(page, t, tmp_path)


def _download(page: Any, t: Translator, tmp_path: Path) -> None:
    """Save the pruned model, then download it through the page's link and open the zip."""
    folder = tmp_path / f"pruned-{t.lang}"
    box = page.locator(".widget-text").filter(has=page.get_by_text(t("export.folder"), exact=True))
    box.locator("input").fill(str(folder))
    page.get_by_role("button", name=t("export.save")).click()
    link = page.locator("a.pe-download")
    link.wait_for(timeout=ANSWER_TIMEOUT * 1000)
    with page.expect_download() as info:
        link.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert info.value.suggested_filename == f"{folder.name}.zip"
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        names = sorted(archive.namelist())
        assert names == [f"{folder.name}/{n}" for n in ("SUMMARY.md", "plan.json", "pruned_state_dict.pt")]
        for name in names:
            assert archive.read(name) == (folder / Path(name).name).read_bytes()
    assert (
        _plain(t("export.weights", label="")).split(":")[0] in page.locator(".pruning-explorer").inner_text()
    )


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_walk_the_whole_lesson(server: str, chromium: str, lang: str, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    t = Translator(lang)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 720}, accept_downloads=True)
        visit = Visit(page=context.new_page(), load_ms=float("nan"))
        page = visit.page
        page.set_default_timeout(LOAD_TIMEOUT * 1000)
        context.route("**/*", _route_offline(visit))
        page.on("pageerror", lambda e: visit.console.append({"type": "pageerror", "text": str(e)}))
        try:
            page.goto(server, wait_until="commit", timeout=LOAD_TIMEOUT * 1000)
            page.get_by_text(Translator("en")("lesson.step", number=1, total=len(STEPS))).wait_for()
            if lang != "en":
                page.get_by_role("button", name=LANGUAGES[lang]).click()
                page.get_by_text(t("lesson.step", number=1, total=len(STEPS))).wait_for()
            page.wait_for_function(
                "(exact) => Array.from(document.querySelectorAll('.pe-card')).some("
                "(c) => c.textContent.includes(exact))",
                arg=t("metrics.exact"),
            )
            page.evaluate(f"() => {{ window.__peScroller = ({SCROLLER.strip()})(); }}")
            DOCS.mkdir(exist_ok=True)
            page.wait_for_timeout(800)  # bokeh's canvases settle
            full_page_screenshot(page, DOCS / f"lesson-{lang}.png", 1280, 720)
            page.set_viewport_size({"width": 1280, "height": 1000})
            page.set_default_timeout(ANSWER_TIMEOUT * 1000)
            _walk(page, t, tmp_path)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"lesson-{lang}-done.png"), full_page=True)
        finally:
            context.close()
            browser.close()
    assert [e for e in visit.console if e["type"] == "pageerror"] == []
