"""The browser extension loaded into headless Debian Chromium (Playwright, persistent context),
a real ``captchalab serve`` for server mode, and a test page served from another origin.

The extension is built from the checkout (``node extension/build.mjs``; it needs
``npm ci`` in ``extension/``). Outside CI a missing Chromium, Node or ``npm ci`` skips these
tests; in CI (``CI`` set) it fails them.
"""

from __future__ import annotations

import base64
import functools
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from servers import serving

from captchalab.browser import CHROMIUM_ARGS
from captchalab.inference import Prediction, Solver
from captchalab.schemes import get_scheme
from captchalab.training.config import TEST_SEED

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "extension"
CHROMIUM = shutil.which("chromium")
NODE = shutil.which("node")
VIEWPORT = {"width": 900, "height": 560}
MARGIN = 6  # CSS pixels of page background the drag takes around the captcha


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI: .ci/steps/extension.sh installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def extension_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh build of the extension, plus one test-only grant: host access to every page.

    captureVisibleTab needs activeTab (granted by a real click or shortcut, which no test can
    make) or host access, so the test build adds ``<all_urls>``; everything else is the
    shipped build.
    """
    if CHROMIUM is None:
        _missing("Debian chromium is not installed (apt-get install -y chromium)")
    if NODE is None:
        _missing("node is not installed (apt-get install -y nodejs npm)")
    if not (EXTENSION / "node_modules" / "onnxruntime-web").is_dir():
        _missing("extension/node_modules is missing: run `npm ci` in extension/")
    out = tmp_path_factory.mktemp("extension") / "dist"
    built = subprocess.run(
        [str(NODE), str(EXTENSION / "build.mjs"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert "host_permissions" not in manifest  # the shipped build asks for none
    manifest["host_permissions"] = ["<all_urls>"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


@dataclass
class Captcha:
    name: str
    png: bytes
    text: str  # the label
    answer: Prediction  # the Python Solver's answer for the image as the page shows it


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def on_page(image: Image.Image) -> Image.Image:
    """The image with the page's white margin the drag includes."""
    framed = Image.new("RGB", (image.width + 2 * MARGIN, image.height + 2 * MARGIN), "white")
    framed.paste(image.convert("RGB"), (MARGIN, MARGIN))
    return framed


@pytest.fixture(scope="session")
def solver() -> Solver:
    return Solver.load("default")


@pytest.fixture(scope="session")
def captcha(solver: Solver) -> Captcha:
    """The first ``mix`` test captcha the default model reads right, with and without the margin."""
    scheme = get_scheme("mix")
    for index in range(40):
        image, text = scheme.sample_at(TEST_SEED, index)
        bare, framed = solver.solve([image, on_page(image)])
        if bare.text == text == framed.text and framed.confidence > 0.8:
            return Captcha("captcha.png", png_bytes(image), text, framed)
    raise AssertionError("no easy captcha among the first 40: has the default model changed?")


@pytest.fixture(scope="session")
def noise(solver: Solver) -> Captcha:
    """Random noise: whatever the model reads, it should not be sure of it."""
    rng = np.random.default_rng(5)
    image = Image.fromarray(rng.integers(0, 256, (50, 150, 3), dtype=np.uint8))
    answer = solver.solve(on_page(image))
    assert answer.confidence < 0.5, "noise should get a low confidence"
    return Captcha("noise.png", png_bytes(image), "", answer)


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in</title>
<style>body {{ font: 16px system-ui, sans-serif; margin: 24px; background: #fff; }}
img {{ display: block; margin: 12px 0; }} input {{ font-size: 16px; padding: 4px; }}</style>
</head><body>
<h2>Sign in</h2>
<p>Type the characters you see:</p>
<img id="captcha" src="captcha.png" alt="captcha">
<input id="answer" name="answer" autocomplete="off">
<p style="margin-top: 48px">A harder one:</p>
<img id="noise" src="noise.png" alt="captcha">
</body></html>
"""


@pytest.fixture(scope="session")
def page_url(
    tmp_path_factory: pytest.TempPathFactory, captcha: Captcha, noise: Captcha
) -> Iterator[str]:
    """The test page, served from ``localhost`` (the server answers on ``127.0.0.1``)."""
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text(PAGE.format())
    (root / captcha.name).write_bytes(captcha.png)
    (root / noise.name).write_bytes(noise.png)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("localhost", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{httpd.server_address[1]}/index.html"
    httpd.shutdown()


@dataclass
class Browser:
    context: Any
    worker: Any
    extension_id: str

    def call(self, expression: str, arg: Any = None) -> Any:
        """Evaluate in the extension's service worker."""
        return self.worker.evaluate(expression, arg)

    def set_settings(self, **settings: Any) -> None:
        self.call(
            "(s) => chrome.storage.local.clear().then(() => chrome.storage.local.set(s))", settings
        )

    def tab_id(self, url: str) -> int:
        tabs = self.call("() => chrome.tabs.query({}).then(ts => ts.map(t => [t.id, t.url]))")
        return next(tab for tab, tab_url in tabs if tab_url == url)


# Module scope, not session: a running sync Playwright keeps an event loop on the main thread,
# which would break the asyncio-based tests that run after these.
@pytest.fixture(scope="module")
def browser(extension_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                f"--disable-extensions-except={extension_dir}",
                f"--load-extension={extension_dir}",
            ],
            viewport=VIEWPORT,
            permissions=["clipboard-read", "clipboard-write"],
        )
        worker = (
            context.service_workers[0]
            if context.service_workers
            else context.wait_for_event("serviceworker", timeout=30_000)
        )
        extension_id = worker.url.split("/")[2]
        yield Browser(context, worker, extension_id)
        context.close()


@pytest.fixture(scope="module")
def server(browser: Browser) -> Iterator[str]:
    """``captchalab serve`` with the default model, allowing the extension's origin."""
    port = free_port()
    env = {
        **os.environ,
        "CAPTCHALAB_RATE_LIMIT_PER_MINUTE": "0",
        "CAPTCHALAB_CORS_ORIGINS": f"chrome-extension://{browser.extension_id}",
    }
    with serving([], port, env) as url:
        yield url


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
