"""The case-error breakdown: bins cover every test image, and a case-only error is counted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import case_errors

from captchalab.inference.solver import DEFAULT_MODEL


def test_contrast_is_the_median_minus_the_darkest_percent() -> None:
    image = Image.new("L", (10, 10), 200)
    image.putpixel((0, 0), 20)
    image.putpixel((1, 0), 20)
    assert case_errors.contrast(image.convert("RGB")) == pytest.approx(200 - 20)


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped model")
def test_the_report_covers_every_image(capsys: pytest.CaptureFixture[str]) -> None:
    case_errors.main(["default", "--scheme", "hku", "--count", "12", "--bins", "3"])
    out = capsys.readouterr().out
    contrast_rows = [
        line for line in out.splitlines() if line.startswith("| ") and "-" in line.split("|")[1]
    ]
    assert sum(int(row.split("|")[2]) for row in contrast_rows) == 12
    assert "per character" in out
