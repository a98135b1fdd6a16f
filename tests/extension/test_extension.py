"""The extension end to end in headless Chromium: select a captcha on a page (the overlay,
dragged with the mouse), right-click an image, low confidence, errors; server mode against a
real ``captchalab serve``, local mode with the server blocked; and 50 images answered the same
in the browser, by the server and by the Python Solver.

Toolbar clicks, shortcuts and context menus cannot be driven, so tests call the handlers they
run (``captchalab.onAction``, ``onReadImage``), exposed on the service worker.
``CAPTCHALAB_EXTENSION_SCREENSHOTS=docs/extension`` writes the documentation's screenshots.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from captchalab.charset import resolve_symbols
from captchalab.inference import Solver
from captchalab.schemes import get_scheme
from captchalab.training.config import TEST_SEED

from .conftest import MARGIN, Browser, Captcha, b64, free_port, png_bytes

PARITY_IMAGES = 50
HINT_IMAGES = 10
SENTINEL = "clipboard before"
ON_REGION = """([id, rect, viewport]) => chrome.tabs.get(id).then(
  (tab) => captchalab.onRegion(id, tab.windowId, rect, viewport))"""
SOLVE_ALL = """async ([images, mode, url]) => {
  const out = [];
  for (const b of images) {
    const bytes = Uint8Array.from(atob(b), (c) => c.charCodeAt(0));
    out.push(await captchalab.solveImageBytes(bytes, { mode, serverUrl: url }));
  }
  return out;
}"""
READ_IMAGE = "([id, src]) => captchalab.onReadImage(id, src)"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("CAPTCHALAB_EXTENSION_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser: Browser, page_url: str) -> Iterator[Any]:
    page = browser.context.new_page()
    page.goto(page_url)
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
    page.bring_to_front()
    page.evaluate("(t) => navigator.clipboard.writeText(t)", SENTINEL)
    yield page
    page.close()


def tab_of(browser: Browser, page: Any) -> int:
    tabs = browser.call("() => chrome.tabs.query({}).then(ts => ts.map(t => [t.id, t.url]))")
    return max(tab for tab, url in tabs if url == page.url)


def clipboard(page: Any) -> str:
    return str(page.evaluate("() => navigator.clipboard.readText()"))


def solve_requests(server: str) -> float:
    text = httpx.get(server + "/metrics").text
    for family in text_string_to_metric_families(text):
        if family.name == "captchalab_http_requests":
            return sum(
                s.value
                for s in family.samples
                if s.name.endswith("_total") and s.labels.get("route") == "/v1/solve"
            )
    return 0.0


def select(browser: Browser, page: Any, selector: str, screenshot: Path | None = None) -> dict:
    """Toolbar click -> drag a rectangle around ``selector`` -> the answer's toast."""
    assert browser.call("(id) => captchalab.onAction(id)", tab_of(browser, page)) is None
    page.wait_for_selector("#captchalab-overlay")
    box = page.locator(selector).bounding_box()
    page.mouse.move(box["x"] - MARGIN, box["y"] - MARGIN)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] + MARGIN, box["y"] + box["height"] + MARGIN, steps=4)
    if screenshot:
        page.screenshot(path=str(screenshot))
    page.mouse.up()
    page.wait_for_selector("#captchalab-toast")
    return dict(browser.call("() => captchalab.lastRegion()"))


def toast(page: Any) -> tuple[str, str]:
    element = page.locator("#captchalab-toast")
    return str(element.get_attribute("data-kind")), str(element.inner_text())


def test_server_mode_selection_lands_in_the_clipboard(
    browser: Browser, server: str, page: Any, captcha: Captcha, shots: Path
) -> None:
    browser.set_settings(mode="server", serverUrl=server)
    before = solve_requests(server)
    result = select(browser, page, "#captcha", screenshot=shots / "select.png")
    assert result.get("error") is None, result
    assert result["mode"] == "server" and result["scale"] == 1
    with Image.open(io.BytesIO(captcha.png)) as image:  # the dragged margin was trimmed off
        assert (result["crop"]["width"], result["crop"]["height"]) == image.size
    assert result["text"] == captcha.text == clipboard(page)
    assert result["confidence"] > 0.5
    assert solve_requests(server) == before + 1
    kind, text = toast(page)
    assert kind == "ok" and captcha.text in text and "%" in text
    page.screenshot(path=str(shots / "copied.png"))


def test_local_mode_works_with_the_server_blocked(
    browser: Browser, server: str, page: Any, captcha: Captcha
) -> None:
    blocked: list[str] = []

    def abort(route: Any) -> None:
        blocked.append(route.request.url)
        route.abort()

    browser.context.route(server + "/**", abort)
    try:
        browser.set_settings(mode="server", serverUrl=server)  # the block works on the worker
        failed = browser.call(
            READ_IMAGE,
            [tab_of(browser, page), page.url.replace("index.html", captcha.name)],
        )
        assert "Cannot reach" in failed["error"] and blocked
        before = solve_requests(server)
        browser.set_settings(mode="local", serverUrl=server)
        result = select(browser, page, "#captcha")
        assert result.get("error") is None, result
        assert result["mode"] == "local"
        assert result["text"] == captcha.text == clipboard(page)
        assert result["confidence"] > 0.5
        assert solve_requests(server) == before  # no image left the browser
    finally:
        browser.context.unroute(server + "/**")


def test_right_click_reads_the_image(
    browser: Browser, page: Any, page_url: str, captcha: Captcha
) -> None:
    browser.set_settings(mode="local")
    source = page_url.replace("index.html", captcha.name)
    result = browser.call(READ_IMAGE, [tab_of(browser, page), source])
    assert result.get("error") is None, result
    assert result["text"] == captcha.text == clipboard(page)
    assert result["crop"]["width"] >= 40  # the image's rectangle on screen, not the page


def test_low_confidence_copies_nothing_and_asks_for_a_refresh(
    browser: Browser, page: Any, page_url: str, noise: Captcha, shots: Path
) -> None:
    browser.set_settings(mode="local", threshold=0.5)
    source = page_url.replace("index.html", noise.name)
    result = browser.call(READ_IMAGE, [tab_of(browser, page), source])
    assert result["confidence"] < 0.5 and not result["copied"]
    assert clipboard(page) == SENTINEL
    kind, text = toast(page)
    assert kind == "warning" and "Refresh the captcha" in text
    page.locator("#noise").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "low-confidence.png"))


@pytest.mark.parametrize(
    ("settings", "rect", "message"),
    [
        ({"mode": "local"}, {"x": 10, "y": 10, "width": 0, "height": 0}, "Nothing selected"),
        ({"mode": "local"}, {"x": 10, "y": 10, "width": 5, "height": 30}, "too small"),
        ({"mode": "local", "customModel": "bm90IGEgbW9kZWw=", "customModelName": "bad.onnx"},
         {"x": 10, "y": 10, "width": 100, "height": 40}, "not a captchalab model"),
        ({"mode": "server", "serverUrl": "http://127.0.0.1:PORT"},
         {"x": 10, "y": 10, "width": 100, "height": 40}, "Cannot reach the captchalab server"),
    ],
    ids=["nothing-selected", "too-small", "bad-model", "server-unreachable"],
)  # fmt: skip
def test_errors_are_shown_in_the_page(
    browser: Browser, page: Any, settings: dict, rect: dict, message: str
) -> None:
    if "serverUrl" in settings:
        settings = {
            **settings,
            "serverUrl": settings["serverUrl"].replace("PORT", str(free_port())),
        }
    browser.set_settings(**settings)
    tab = tab_of(browser, page)
    result = browser.call(
        ON_REGION,
        [tab, rect, page.evaluate("() => ({width: innerWidth, height: innerHeight})")],
    )
    assert message in result["error"]
    page.wait_for_selector("#captchalab-toast")
    kind, text = toast(page)
    assert kind == "error" and message in text
    assert clipboard(page) == SENTINEL


def test_local_server_and_python_answers_are_identical(
    browser: Browser, server: str, solver: Solver
) -> None:
    scheme = get_scheme("mix")
    images = [png_bytes(scheme.sample_at(TEST_SEED, 100 + i)[0]) for i in range(PARITY_IMAGES)]
    encoded = [b64(image) for image in images]
    local = browser.call(SOLVE_ALL, [encoded, "local", server])
    remote = browser.call(SOLVE_ALL, [encoded, "server", server])
    python = solver.solve(images)
    assert [r["text"] for r in local] == [r["text"] for r in remote] == [p.text for p in python]
    for a, b in zip(local, remote, strict=True):
        assert abs(a["confidence"] - b["confidence"]) < 1e-3


def test_a_site_that_ignores_case_gets_the_solvers_lower_case_answers(
    browser: Browser, server: str, solver: Solver
) -> None:
    """The reading hint "The site ignores case" (``caseInsensitive``): local mode folds both
    cases of each letter as ``Solver.case_insensitive()`` does, server mode sends
    ``case=insensitive``."""
    scheme = get_scheme("mix")
    images = [png_bytes(scheme.sample_at(TEST_SEED, 100 + i)[0]) for i in range(HINT_IMAGES)]
    assert any(p.text != p.text.lower() for p in solver.solve(images))  # work for the hint
    folded = solver.case_insensitive().solve(images)
    encoded = [b64(image) for image in images]
    browser.set_settings(mode="local", caseInsensitive=True)
    try:
        local = browser.call(SOLVE_ALL, [encoded, "local", server])
        remote = browser.call(SOLVE_ALL, [encoded, "server", server])
    finally:
        browser.set_settings(mode="local")
    assert [r["text"] for r in local] == [p.text for p in folded] == [r["text"] for r in remote]
    assert all(r["text"] == r["text"].lower() for r in local)
    for answer, expected in zip(local, folded, strict=True):
        assert abs(answer["confidence"] - expected.confidence) < 1e-3


def test_the_second_look_gives_the_solvers_answers_in_both_modes(
    browser: Browser, server: str, solver: Solver
) -> None:
    """ "Look again if unsure" (``secondLook``): local mode reads the views of
    ``lib/views.js`` in the browser, server mode sends ``second_look=true``; both answer as
    ``Solver.with_second_look()``."""
    scheme = get_scheme("mix")
    images = [png_bytes(scheme.sample_at(TEST_SEED, 300 + i)[0]) for i in range(HINT_IMAGES)]
    looked = solver.with_second_look().solve(images)
    assert any(a.text != b.text for a, b in zip(solver.solve(images), looked, strict=True))
    encoded = [b64(image) for image in images]
    browser.set_settings(mode="server", serverUrl=server, secondLook=True)
    try:
        local = browser.call(SOLVE_ALL, [encoded, "local", server])
        remote = browser.call(SOLVE_ALL, [encoded, "server", server])
    finally:
        browser.set_settings(mode="local", secondLook=False)
    assert [r["text"] for r in local] == [p.text for p in looked] == [r["text"] for r in remote]
    for answer, expected in zip(local, looked, strict=True):
        assert abs(answer["confidence"] - expected.confidence) < 1e-3


def test_a_sites_symbols_and_length_give_the_solvers_answers_in_both_modes(
    browser: Browser, server: str, solver: Solver
) -> None:
    """The reading hints "Allowed symbols" and "Answer length": local mode decodes as
    ``Solver.restricted(...).with_lengths(...)`` does, server mode sends ``symbols`` and
    ``length`` (the named set as typed: the server expands it)."""
    scheme = get_scheme("mix")
    images = [png_bytes(scheme.sample_at(TEST_SEED, 100 + i)[0]) for i in range(HINT_IMAGES)]
    hinted = solver.restricted(resolve_symbols("@alnum_upper")).with_lengths("4-6").solve(images)
    plain = solver.solve(images)
    assert [p.text for p in plain] != [p.text for p in hinted]  # work for the hints
    encoded = [b64(image) for image in images]
    browser.set_settings(mode="local", symbols="@alnum_upper", length="4-6")
    try:
        local = browser.call(SOLVE_ALL, [encoded, "local", server])
        remote = browser.call(SOLVE_ALL, [encoded, "server", server])
    finally:
        browser.set_settings(mode="local")
    assert [r["text"] for r in local] == [p.text for p in hinted] == [r["text"] for r in remote]
    for mine, theirs, expected in zip(local, remote, hinted, strict=True):
        assert abs(mine["confidence"] - expected.confidence) < 1e-3
        assert abs(theirs["confidence"] - expected.confidence) < 1e-3


def test_options_page(browser: Browser, shots: Path) -> None:
    browser.set_settings(mode="server", serverUrl="http://127.0.0.1:8000", threshold=0.6)
    page = browser.context.new_page()
    page.set_viewport_size({"width": 760, "height": 900})
    page.goto(f"chrome-extension://{browser.extension_id}/options.html")
    page.wait_for_selector("#cors-hint:has-text('chrome-extension://')")
    assert page.locator("input[name=mode][value=server]").is_checked()
    assert page.input_value("#threshold") == "60"
    assert not page.is_checked("#caseInsensitive") and page.input_value("#length") == ""
    page.check("input[name=mode][value=local]")
    page.fill("#threshold", "70")
    page.fill("#length", "9-7")
    page.click("#save")
    page.wait_for_selector("#status.error:has-text('runs backwards')")
    page.check("#caseInsensitive")
    page.fill("#symbols", "@digits")
    page.fill("#length", " 4-6 ")
    page.click("#save")
    page.wait_for_selector("#status:has-text('Saved')")
    stored = browser.call("() => chrome.storage.local.get(null)")
    assert stored["mode"] == "local" and stored["threshold"] == 0.7
    hints = (stored["caseInsensitive"], stored["symbols"], stored["length"])
    assert hints == (True, "@digits", "4-6")
    page.screenshot(path=str(shots / "options.png"), full_page=True)
    page.close()


def test_a_picked_model_is_checked_saved_and_used(
    browser: Browser, tmp_path: Path, captcha: Captcha
) -> None:
    from captchalab.inference.solver import DEFAULT_MODEL

    browser.set_settings(mode="local")
    page = browser.context.new_page()
    page.goto(f"chrome-extension://{browser.extension_id}/options.html")
    page.wait_for_selector("#cors-hint:has-text('chrome-extension://')")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a model")
    page.set_input_files("#model-file", str(junk))
    page.wait_for_selector("#status.error:has-text('not a captchalab model')")
    mine = tmp_path / "mine.onnx"
    mine.write_bytes(DEFAULT_MODEL.read_bytes())
    page.set_input_files("#model-file", str(mine))
    page.wait_for_selector("#status:has-text('Model checked')")
    page.click("#save")
    page.wait_for_selector("#status:has-text('Saved')")
    assert "mine.onnx" in page.text_content("#model-name")
    answer = browser.call(SOLVE_ALL, [[b64(captcha.png)], "local", ""])[0]
    assert answer["model"] == "mine.onnx" and answer["text"] == captcha.text
    page.click("#model-reset")
    page.evaluate("() => { document.getElementById('status').textContent = ''; }")
    page.click("#save")
    page.wait_for_selector("#status:has-text('Saved')")
    assert "customModel" not in browser.call("() => chrome.storage.local.get(null)")
    page.close()
