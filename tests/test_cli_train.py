"""generate -> train -> evaluate through the command line, on a tiny budget."""

import csv
import hashlib
from pathlib import Path

from typer.testing import CliRunner

from captchalab.cli import app

runner = CliRunner()


def _digest(folder: Path) -> str:
    files = sorted(folder.iterdir())
    return hashlib.sha256(b"".join(f.name.encode() + f.read_bytes() for f in files)).hexdigest()


def test_generate_train_evaluate(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = runner.invoke(
        app,
        [
            "generate",
            "--scheme",
            "digits5",
            "-n",
            "24",
            "-o",
            str(data),
            "--seed",
            "7",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader((data / "labels.csv").open()))
    assert rows[0] == ["filename", "label"] and len(rows) == 25
    again = tmp_path / "again"
    runner.invoke(
        app,
        [
            "generate",
            "--scheme",
            "digits5",
            "-n",
            "24",
            "-o",
            str(again),
            "--seed",
            "7",
            "--workers",
            "1",
        ],
    )
    assert _digest(data) == _digest(again)

    run = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(data),
            "--charset",
            "@digits",
            "--model",
            "crnn",
            "-o",
            str(run),
            "--max-steps",
            "3",
            "--batch-size",
            "8",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (run / "last" / "model.safetensors").exists() and (run / "metrics.jsonl").exists()

    result = runner.invoke(
        app,
        ["train", "--data", str(data), "--charset", "@digits", "-o", str(run), "--max-steps", "3"],
    )
    assert result.exit_code == 2 and "--resume" in result.output

    tuned = tmp_path / "tuned"
    result = runner.invoke(
        app,
        [
            "train",
            "--init",
            str(run),
            "--data",
            str(data),
            "-o",
            str(tuned),
            "--max-steps",
            "2",
            "--batch-size",
            "8",
            "--threads",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"model_name": "crnn"' in (tuned / "last" / "checkpoint.json").read_text()
    assert "threads: 2" in (tuned / "config.yaml").read_text()

    report = tmp_path / "report"
    result = runner.invoke(
        app, ["evaluate", str(run), "--data", str(data), "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    assert "exact" in result.output.lower()
    assert {p.name for p in report.iterdir()} >= {"summary.md", "metrics.json", "confusion.png"}


def test_clear_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--scheme", "nope", "-n", "2", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "unknown scheme" in result.output
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "12x4_1.png").write_bytes(b"")
    result = runner.invoke(
        app, ["train", "--data", str(bad), "--charset", "@digits", "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 2 and "'x'" in result.output and "12x4_1.png" in result.output
