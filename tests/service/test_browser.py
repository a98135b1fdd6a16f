"""The web page in headless Debian Chromium: dropping or pasting an image shows the answer."""

from __future__ import annotations

import base64
import os
import shutil
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from captchalab.browser import CHROMIUM_ARGS
from captchalab.service import ServiceSettings, create_app

from .conftest import free_port

CHROMIUM = shutil.which("chromium")
# Locally a machine without Chromium skips; in CI (which installs it) a missing browser fails.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian chromium is not installed (apt-get install -y chromium)",
)


# Builds a File from base64 bytes and delivers it the way a user's drop or paste would.
DELIVER_JS = """
([kind, encoded]) => {
  const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  const file = new File([bytes], "captcha.png", { type: "image/png" });
  const data = new DataTransfer();
  data.items.add(file);
  const init = { bubbles: true, cancelable: true };
  if (kind === "drop") {
    const zone = document.getElementById("drop-zone");
    zone.dispatchEvent(new DragEvent("dragover", { ...init, dataTransfer: data }));
    zone.dispatchEvent(new DragEvent("drop", { ...init, dataTransfer: data }));
  } else {
    document.dispatchEvent(new ClipboardEvent("paste", { ...init, clipboardData: data }));
  }
}
"""


@pytest.fixture(scope="module")
def server_url(onnx_model_path) -> Iterator[str]:
    settings = ServiceSettings(models={"tiny": str(onnx_model_path)}, rate_limit_per_minute=0)
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(server_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True
        )
        context = browser.new_context(viewport={"width": 380, "height": 720})  # phone width
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto(server_url + "/")
        # Selector waits, not wait_for_function: the page's CSP forbids string evaluation.
        page.wait_for_selector("#model option", state="attached")
        yield page
        browser.close()


def _api_text(server_url: str, png: bytes, **fields: str) -> str:
    response = httpx.post(server_url + "/v1/solve", files={"image": ("c.png", png)}, data=fields)
    response.raise_for_status()
    return str(response.json()["text"])


@pytest.fixture(scope="module")
def expected_text(server_url: str, png: bytes) -> str:
    """The page's answer: it asks for a second look unless the box is unticked."""
    text = _api_text(server_url, png, second_look="true")
    assert text, "the tiny model should answer something, or the page checks prove nothing"
    return text


def _deliver(page, kind: str, png: bytes) -> str:
    """Drop or paste ``png`` and return the answer the page shows."""
    page.evaluate(
        "['answer', 'confidence'].forEach(id => document.getElementById(id).textContent = '')"
    )
    page.evaluate(DELIVER_JS, [kind, base64.b64encode(png).decode()])
    page.wait_for_selector("#confidence:has-text('%')")
    return page.text_content("#answer") or ""


def test_models_are_listed(page) -> None:
    assert page.eval_on_selector("#model", "el => el.value") == "tiny"


def test_dropping_an_image_shows_the_answer(page, png: bytes, expected_text: str) -> None:
    assert _deliver(page, "drop", png) == expected_text
    assert page.is_visible("#preview")
    assert "confident" in (page.text_content("#confidence") or "")


def test_pasting_an_image_shows_the_answer(page, png: bytes, expected_text: str) -> None:
    assert _deliver(page, "paste", png) == expected_text


def test_clicking_the_answer_copies_it(page, png: bytes, expected_text: str) -> None:
    _deliver(page, "drop", png)
    page.click("#answer")
    page.wait_for_selector("#status:has-text('Copied')")
    assert expected_text in (page.text_content("#status") or "")


def test_the_second_look_box_decides_what_is_asked(page, server_url: str, png: bytes) -> None:
    """Ticked (the default), the page asks for a second look and the answer echoes its
    threshold; unticked, it reads once, as the API does without the field."""
    assert page.is_checked("#second-look")
    answers = []
    for ticked in (True, False):
        page.set_checked("#second-look", ticked)
        with page.expect_response(lambda r: r.url.endswith("/v1/solve")) as response:
            shown = _deliver(page, "drop", png)
        answers.append((shown, response.value.json().get("second_look")))
    page.check("#second-look")
    assert answers == [
        (_api_text(server_url, png, second_look="true"), 0.5),
        (_api_text(server_url, png), None),
    ]


def test_page_fits_a_phone_screen(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
