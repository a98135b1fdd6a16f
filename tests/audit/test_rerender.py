"""Re-rendering a finished audit recomputes what is derived and keeps what was measured."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from captchalab.audit.rerender import old_figures, rerender


def test_rerender_restores_derived_numbers_and_keeps_figures(
    tiny_report: Path, tiny_metrics: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "report"
    shutil.copytree(tiny_report, folder)
    names = [t["name"] for t in tiny_metrics["targets"]]
    before = old_figures((folder / "report.html").read_text(), names)
    assert all("confusion" in figures for figures in before)
    stale = json.loads((folder / "metrics.json").read_text())
    for target in stale["targets"]:
        for cost in target["costs"].values():
            cost["samples"][1] = {"target": 0.9, "value": 1.0, "method": "measured", "bound": None}
        target["advice"] = []
    (folder / "metrics.json").write_text(json.dumps(stale))

    metrics = rerender(folder)

    for fresh, original in zip(metrics["targets"], tiny_metrics["targets"], strict=True):
        assert fresh["costs"] == original["costs"]
        assert fresh["advice"] == original["advice"]
        assert fresh["curves"] == original["curves"]
    assert metrics["headline"] == tiny_metrics["headline"]
    after = old_figures((folder / "report.html").read_text(), names)
    assert [sorted(t) for t in after] == [sorted(t) for t in before]
    for old, new in zip(before, after, strict=True):  # measured figures carried over as they were
        assert all(new[name] == png for name, png in old.items() if not name.startswith("curve"))
    assert json.loads((folder / "metrics.json").read_text()) == metrics
    assert "## Headline: cost to break" in (folder / "summary.md").read_text()


def test_rerender_refuses_a_foreign_report(tiny_report: Path, tmp_path: Path) -> None:
    folder = tmp_path / "report"
    shutil.copytree(tiny_report, folder)
    (folder / "report.html").write_text("<html>no figures</html>")
    with pytest.raises(ValueError, match="not a report of this audit"):
        rerender(folder)


def test_rerender_of_an_older_report_changes_nothing(tiny_report: Path, tmp_path: Path) -> None:
    folder = tmp_path / "report"
    shutil.copytree(tiny_report, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    for target in metrics["targets"]:
        del target["hardening"]  # as written before the hardening section existed
    (folder / "metrics.json").write_text(json.dumps(metrics))
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(ValueError, match="older captchalab"):
        rerender(folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
