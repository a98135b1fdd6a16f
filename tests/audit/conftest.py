"""One tiny audit shared by the audit tests: a trivially easy scheme compared with a hard one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from captchalab.cli import app

ROOT = Path(__file__).resolve().parents[2]
EASY = ROOT / "configs" / "schemes" / "trivial.yaml"
HARD = ROOT / "configs" / "schemes" / "noisy_lines.yaml"


@pytest.fixture(scope="session")
def tiny_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("audit") / "report"
    args = ["audit", "--scheme", str(EASY), "--compare", str(HARD), "-o", str(out)]
    result = CliRunner().invoke(app, [*args, "--budget", "tiny", "--threads", "1"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def tiny_metrics(tiny_report: Path) -> dict[str, Any]:
    return json.loads((tiny_report / "metrics.json").read_text())
