"""The tiny audit's report.html in headless Debian Chromium: every section and plot renders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from captchalab.audit.report import SECTIONS
from captchalab.audit.screenshot import inspect_report

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None and not os.environ.get("CI"),
    reason="Debian chromium is not installed (apt-get install -y chromium)",
)

PLOTS_PER_TARGET = {
    "curve_samples",
    "curve_cpu",
    "per_position",
    "confusion",
    "sensitivity",
    "image_factors",
    "saliency_crnn",
}


def test_every_section_and_plot_renders(tiny_report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    found = inspect_report(tiny_report / "report.html", shot)
    assert found["sections"] == [section for section, _ in SECTIONS]
    names = [plot["name"] for plot in found["plots"]]
    for name in PLOTS_PER_TARGET:
        assert names.count(name) == 2, f"{name}: {names.count(name)} of 2 targets"
    for plot in found["plots"]:
        assert plot["complete"] and plot["width"] > 100 and plot["height"] > 50, plot
    assert found["placeholder"] == 0  # hardening was measured for both targets
    assert found["hardening_tables"] == 2
    assert shot.stat().st_size > 50_000
