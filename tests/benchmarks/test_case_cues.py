"""benchmarks/case_cues.py: the threshold bound and a tiny end-to-end run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import case_cues  # noqa: E402


def test_best_threshold_accuracy() -> None:
    assert case_cues.best_threshold_accuracy([1, 2, 3], [7, 8, 9]) == 1.0
    assert case_cues.best_threshold_accuracy([7, 8, 9], [1, 2, 3]) == 1.0  # either direction
    assert case_cues.best_threshold_accuracy([5, 5], [5, 5]) == 0.5


def test_case_cues_report(tmp_path: Path) -> None:
    out = tmp_path / "cues.md"
    case_cues.main(["--samples", "2", "--out", str(out)])
    table = [line for line in out.read_text().splitlines() if line.startswith("| `")]
    assert len(table) == len(case_cues.PAIRS)
    assert "25x44" in table[0]  # hku4's monospace box at font size 40, for both cases
    with pytest.raises(SystemExit):
        case_cues.main(["--scheme", "merged4", "--out", str(out)])  # not python `captcha`
