"""The hardening gallery: written by the library, and the checked-in page in real Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from captchalab.adversarial.gallery import GalleryRow, write_gallery

DOCS = Path(__file__).resolve().parents[2] / "docs" / "hardening"
# hardening.py's gallery, and hardening_threshold.py's for each scheme it was run on
GALLERIES = [DOCS / "gallery.html", *sorted(DOCS.glob("threshold_*/gallery.html"))]


def test_gallery_is_self_contained(tmp_path: Path, captchas) -> None:
    images = captchas[0][:2]
    rows = [GalleryRow("setting <a>", images, [im.rotate(180) for im in images])]
    write_gallery(rows, tmp_path / "g.html", tmp_path / "g.png", "title")
    page = (tmp_path / "g.html").read_text()
    assert page.count("data:image/png;base64,") == 4 and "setting &lt;a&gt;" in page
    assert Image.open(tmp_path / "g.png").size[0] > 2 * 120


@pytest.mark.skipif(
    shutil.which("chromium") is None and not os.environ.get("CI"),
    reason="Debian chromium is not installed (apt-get install -y chromium)",
)
@pytest.mark.parametrize("gallery", GALLERIES, ids=lambda p: p.parent.name)
def test_checked_in_gallery_renders_in_chromium(tmp_path: Path, gallery: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert gallery.exists(), "run benchmarks/hardening.py to write the gallery"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(gallery.as_uri())
            sizes = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])"
            )
            page.screenshot(path=str(tmp_path / "gallery.png"), full_page=True)
        finally:
            browser.close()
    assert len(sizes) >= 6
    # every image decoded, at the scheme's size with pixels doubled (merged4: 120x40)
    assert all(done for done, _, _ in sizes)
    assert len({(width, height) for _, width, height in sizes}) == 1
    if gallery.parent.name in ("hardening", "threshold_merged4"):
        assert sizes[0][1:] == [240, 80]
    assert (tmp_path / "gallery.png").stat().st_size > 1000


def test_long_labels_wrap_inside_their_column() -> None:
    from PIL import Image, ImageDraw

    from captchalab.adversarial.gallery import _wrapped

    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    label = "mixture 0.3 / 100, iterative, smooth 1, diversity 0.7, momentum 0.9, ensemble"
    lines = _wrapped(draw, label, 248)
    assert len(lines) >= 2 and " ".join(lines) == label
    assert all(draw.textlength(line) <= 248 for line in lines)
    assert _wrapped(draw, "", 248) == [""]
