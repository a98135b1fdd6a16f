"""Open an audit's report.html in headless Debian Chromium (Playwright) and check or capture it.

Chromium is the system's (``shutil.which("chromium")``); nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from captchalab.browser import CHROMIUM_ARGS, chromium_path

# Every section id the template renders, and for each plot whether the PNG decoded.
INSPECT_JS = """
() => ({
  sections: Array.from(document.querySelectorAll("section[id]")).map((s) => s.id),
  plots: Array.from(document.querySelectorAll("img.plot")).map((img) => ({
    name: img.dataset.plot, width: img.naturalWidth, height: img.naturalHeight,
    complete: img.complete,
  })),
  placeholder: document.querySelectorAll("[data-placeholder=hardening]").length,
  hardening_tables: document.querySelectorAll("table[data-table=hardening]").length,
})
"""


def inspect_report(report: Path, screenshot: Path | None = None) -> dict[str, Any]:
    """Load ``report`` and return its sections and plots; optionally save a full-page PNG."""
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(Path(report).resolve().as_uri(), wait_until="load")
            page.wait_for_function(
                "Array.from(document.images).every((img) => img.complete)", timeout=30_000
            )
            found: dict[str, Any] = page.evaluate(INSPECT_JS)
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return found
