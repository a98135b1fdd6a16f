"""benchmarks/hardening_threshold.py runs end to end and writes its table."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import hardening_threshold  # noqa: E402


def test_threshold_report(tmp_path: Path) -> None:
    out = tmp_path / "threshold.md"
    gallery = tmp_path / "gallery"
    hardening_threshold.main(["--count", "2", "--out", str(out), "--gallery", str(gallery)])
    page = (gallery / "gallery.html").read_text()
    assert page.count("data:image/png;base64,") == 2 * 2 * len(hardening_threshold.SETTINGS)
    assert (gallery / "gallery.png").stat().st_size > 1000
    text = out.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| L") or "mixture" in line]
    assert len([r for r in rows if r.startswith("|")]) == len(hardening_threshold.SETTINGS)
    l0_row = next(r for r in rows if r.startswith("| L0 100"))
    assert l0_row.split(" | ")[1:3] == ["100", "100.0"]  # every L0 pixel survives the threshold
