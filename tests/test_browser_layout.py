"""The projector layout, in a real Chromium: at 1280×720 (and 1920×1080) the selected layer's slider, the
global slider and the accuracy, MACs and parameters cards are all on the first screen, without scrolling, for
``digits_cnn`` and for ``resnet20_cifar``; the slider tracks are wide enough to hit.

Each model gets its own ``pruning-explorer app`` (no preheated kernel: one page each). ResNet-20 runs on its
real public weights and the first 100 CIFAR-10 test images from ``../shared/data`` (skipped without them).
Full-page screenshots go to ``test-artifacts/layout-<model>-<width>x<height>.png``, the measured boxes to
``test-artifacts/layout-boxes.json``. The helpers (Chromium, the server's lifecycle, offline routing) are
``tests/test_browser.py``'s.
"""

from __future__ import annotations

import json
import os
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

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:the embedded weights")]

SIZES = ((1280, 720), (1920, 1080))
DOCS = REPO / "docs"
#: The slider tracks must be at least this wide (the old layout had about 100 px).
MIN_TRACK = 200
#: What must be on the first screen: CSS selector of the element → its name in the report.
MUST_SEE = {
    ".pe-selected-slider": "selected layer's slider",
    ".pe-global-slider": "global slider",
}
CARDS = {"Top-1 accuracy": "accuracy card", "MACs per image": "MACs card", "Parameters": "parameters card"}

#: The element that scrolls the page: Voilà's lab template scrolls a panel, not the document.
SCROLLER = """
() => {
  let el = document.querySelector('.pruning-explorer');
  while (el && el !== document.body) {
    const overflow = getComputedStyle(el).overflowY;
    if ((overflow === 'auto' || overflow === 'scroll') && el.scrollHeight > el.clientHeight + 1) return el;
    el = el.parentElement;
  }
  return document.scrollingElement;
}
"""

BOXES = """
([selectors, cards]) => {
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
    return {x: r.x, y: r.y, width: r.width, height: r.height}; };
  const out = {};
  for (const [sel, name] of Object.entries(selectors)) out[name] = box(document.querySelector(sel));
  for (const [title, name] of Object.entries(cards)) {
    const card = Array.from(document.querySelectorAll('.pe-card')).find(
      (c) => c.firstElementChild && c.firstElementChild.textContent.trim() === title);
    out[name] = box(card);
  }
  out.tracks = Array.from(document.querySelectorAll('.pruning-explorer-controls .widget-slider .noUi-target'))
    .map((el) => el.getBoundingClientRect().width);
  out.selected_track = box(document.querySelector('.pe-selected-slider .noUi-target'));
  out.page_height = window.__peScroller.scrollHeight;
  out.scroll_y = window.__peScroller.scrollTop;
  return out;
}
"""


@pytest.fixture(scope="module", params=["digits_cnn", "resnet20_cifar"])
def served(request: pytest.FixtureRequest, chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Any:  # noqa: F811
    """``(model, url)`` of a running app; ResNet-20 on its real weights and 100 real CIFAR-10 images."""
    model = request.param
    env = dict(os.environ, BOKEH_RESOURCES="inline", PYTHONPATH=str(REPO))
    data = None
    if model == "resnet20_cifar":
        shared = request.getfixturevalue("shared_data")
        from explorer.zoo.pretrained import install_weights

        cache = tmp_path_factory.mktemp("weights")
        install_weights(model, shared / "pretrained" / "resnet20-12fca82f.th", cache_dir=cache)
        env["PRUNING_EXPLORER_CACHE"] = str(cache)
        data = f"cifar10_csv:{shared / 'cifar10-first100' / 'cifar10_test.csv'}"
    args = ["--model", model, "--pool-size", "0", "--explore"] + (["--data", data] if data else [])
    with running_app(args, f"voila-layout-{model}.log", env) as (url, _process):
        yield model, url


@pytest.fixture(scope="module")
def page(served: tuple[str, str], chromium: str) -> Iterator[tuple[str, Any]]:  # noqa: F811
    from playwright.sync_api import sync_playwright

    model, url = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
        visit = Visit(page=context.new_page(), load_ms=float("nan"))
        context.route("**/*", _route_offline(visit))
        try:
            visit.page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT * 1000)
            visit.page.wait_for_selector(".pe-selected-slider .noUi-handle", timeout=LOAD_TIMEOUT * 1000)
            visit.page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.pe-card')).some("
                "(c) => c.textContent.includes('exact'))",
                timeout=LOAD_TIMEOUT * 1000,
            )
            visit.page.evaluate(f"() => {{ window.__peScroller = ({SCROLLER.strip()})(); }}")
            yield model, visit.page
        finally:
            context.close()
            browser.close()


def full_page_screenshot(pg: Any, path: Path, width: int, height: int) -> None:
    """The whole app in one image: the viewport grown to the scroller's height for the shot (the page scrolls
    a panel, which Playwright's ``full_page`` does not see), then put back."""
    total = pg.evaluate("() => window.__peScroller.scrollHeight")
    pg.set_viewport_size({"width": width, "height": max(height, int(total) + 40)})
    pg.wait_for_timeout(600)
    pg.screenshot(path=str(path), full_page=True)
    pg.set_viewport_size({"width": width, "height": height})
    pg.wait_for_timeout(300)


def _record(name: str, boxes: dict) -> None:
    path = ARTIFACTS / "layout-boxes.json"
    found = json.loads(path.read_text()) if path.is_file() else {}
    found[name] = boxes
    path.write_text(json.dumps(found, indent=1))


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_first_screen_holds_the_sliders_and_the_cards(page: tuple[str, Any], width: int, height: int) -> None:
    model, pg = page
    pg.set_viewport_size({"width": width, "height": height})
    pg.evaluate("() => { window.__peScroller.scrollTop = 0; }")
    pg.wait_for_timeout(800)  # let the layout and bokeh settle at the new size
    boxes = pg.evaluate(BOXES, [MUST_SEE, CARDS])
    name = f"{model}-{width}x{height}"
    _record(name, boxes)
    pg.screenshot(path=str(ARTIFACTS / f"layout-{name}-screen.png"))
    full_page_screenshot(pg, ARTIFACTS / f"layout-{name}.png", width, height)
    off_screen = {}
    for what in [*MUST_SEE.values(), *CARDS.values()]:
        box = boxes[what]
        inside = (
            box is not None
            and box["width"] > 0
            and box["x"] >= 0
            and box["y"] >= 0
            and box["x"] + box["width"] <= width
            and box["y"] + box["height"] <= height
        )
        if not inside:
            off_screen[what] = box
    assert off_screen == {}, f"not on the first screen at {width}×{height}: {off_screen}"
    assert boxes["selected_track"]["width"] >= 1.5 * MIN_TRACK
    assert min(boxes["tracks"]) >= MIN_TRACK, boxes["tracks"]


def test_lesson_screenshots_in_both_languages(page: tuple[str, Any]) -> None:
    """The lesson's first step, full page, in English and Korean (``docs/lesson-en.png``, ``-ko.png``);
    (digits_cnn only); then back to English and the free explorer."""
    model, pg = page
    if model != "digits_cnn":
        pytest.skip("the docs show the default model")
    width, height = SIZES[0]
    pg.set_viewport_size({"width": width, "height": height})
    pg.get_by_role("button", name="Guided lesson").click()
    pg.get_by_text("Step 1 of 6").wait_for()
    boxes = pg.evaluate(BOXES, [{".pruning-explorer-lesson": "lesson"}, CARDS])
    _record(f"{model}-lesson-{width}x{height}", boxes)
    assert boxes["lesson"]["y"] + boxes["lesson"]["height"] <= height  # the step is on the first screen
    assert boxes["accuracy card"]["y"] + boxes["accuracy card"]["height"] <= height
    DOCS.mkdir(exist_ok=True)
    full_page_screenshot(pg, DOCS / "lesson-en.png", width, height)
    pg.get_by_role("button", name="한국어").click()
    pg.get_by_text("6단계 중 1단계").wait_for()
    pg.wait_for_timeout(800)
    full_page_screenshot(pg, DOCS / "lesson-ko.png", width, height)
    pg.get_by_role("button", name="English").click()
    pg.get_by_role("button", name="Free explorer").click()
    pg.locator(".pruning-explorer-lesson").wait_for(state="hidden")


def test_page_scrolls_with_the_cards_in_view(page: tuple[str, Any]) -> None:
    model, pg = page
    width, height = SIZES[0]
    pg.set_viewport_size({"width": width, "height": height})
    pg.evaluate("() => { window.__peScroller.scrollTop = 600; }")
    pg.wait_for_timeout(400)
    card = pg.evaluate(BOXES, [{}, {"Top-1 accuracy": "accuracy card"}])
    _record(f"{model}-{width}x{height}-scrolled", card)
    pg.screenshot(path=str(ARTIFACTS / f"layout-{model}-{width}x{height}-scrolled.png"))
    pg.evaluate("() => { window.__peScroller.scrollTop = 0; }")
    assert card["scroll_y"] >= 300, "the page did not scroll"
    card = card["accuracy card"]
    assert card is not None
    assert card["y"] >= 0, "the cards scroll away with the page"
    assert card["y"] + card["height"] <= height
