"""benchmarks/site_hints.py reads each set with every hint and writes its table."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import site_hints  # noqa: E402


def test_site_hints_table(tmp_path: Path) -> None:
    out = tmp_path / "hints.md"
    site_hints.main(["--count", "4", "--kaggle", str(tmp_path / "none"), "--out", str(out)])
    rows = [line for line in out.read_text().splitlines() if line.startswith("| ")]
    assert [r.split(" | ")[0] for r in rows[1:]] == ["| digits5", "| hku4"]
    assert all(len(r.split(" | ")) == len(site_hints.HEADERS) for r in rows[1:])
    assert rows[1].split(" | ")[2] == "5"  # digits5 texts are 5 long
