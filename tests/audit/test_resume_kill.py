"""A real `captchalab audit` process, killed with SIGKILL, resumes with `--resume`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .conftest import EASY


def _audit(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "captchalab.cli",
        "audit",
        "--scheme",
        str(EASY),
        "-o",
        str(out),
        "--budget",
        "tiny",
        "--threads",
        "1",
        *extra,
    ]


def test_sigkilled_audit_resumes_and_reuses_its_finished_points(tmp_path: Path) -> None:
    out = tmp_path / "report"
    process = subprocess.Popen(
        _audit(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 300
    try:
        while not list(out.glob("work/*/runs/*/point.json")):
            assert process.poll() is None, "the audit ended before it finished a point"
            assert time.monotonic() < deadline, "no point finished within 5 minutes"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    saved = {
        path.parent.name: json.loads(path.read_text())["point"]
        for path in out.glob("work/*/runs/*/point.json")
    }
    assert saved and not (out / "metrics.json").exists()

    refused = subprocess.run(_audit(out), capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "--resume" in refused.stdout + refused.stderr

    resumed = subprocess.run(_audit(out, "--resume"), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert not (out / "work").exists()
    metrics = json.loads((out / "metrics.json").read_text())
    points = [p for curve in metrics["targets"][0]["curves"].values() for p in curve]
    for name, point in saved.items():  # reused as saved before the kill, not retrained
        mode, model, samples = name.split("-")
        match = [
            p
            for p in points
            if (p["mode"], p["model"], p["samples"]) == (mode, model, int(samples))
        ]
        assert match == [point]
