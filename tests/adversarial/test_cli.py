"""``captchalab harden`` and ``captchalab harden finetune`` through the command line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from typer.testing import CliRunner

from captchalab.cli import app
from captchalab.cli.hardening import harden_app

runner = CliRunner()


def _digest(folder: Path) -> str:
    files = sorted(folder.iterdir())
    return hashlib.sha256(b"".join(f.name.encode() + f.read_bytes() for f in files)).hexdigest()


def _harden(substitute: Path, out: Path, *extra: str) -> None:
    args = ["harden", "--scheme", "merged4", "--substitute", str(substitute), "-n", "3"]
    result = runner.invoke(app, [*args, "-o", str(out), "--steps", "2", *extra])
    assert result.exit_code == 0, result.output


def test_harden_writes_pngs_and_labels_reproducibly(
    tiny_checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    _harden(tiny_checkpoints["crnn"], tmp_path / "a", "--seed", "4")
    _harden(tiny_checkpoints["crnn"], tmp_path / "b", "--seed", "4")
    _harden(tiny_checkpoints["crnn"], tmp_path / "c", "--seed", "5")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["000000.png", "000001.png", "000002.png", "labels.csv"]
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b") != _digest(tmp_path / "c")
    lines = (tmp_path / "a" / "labels.csv").read_text().splitlines()
    assert lines[0] == "filename,label" and all(len(line.split(",")[1]) == 4 for line in lines[1:])


def test_harden_takes_an_ensemble_of_substitutes(
    tiny_checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    _harden(tiny_checkpoints["crnn"], tmp_path / "one", "--seed", "4")
    _harden(
        tiny_checkpoints["crnn"],
        tmp_path / "two",
        "--seed",
        "4",
        "--substitute",
        str(tiny_checkpoints["attention"]),
    )
    assert len(list((tmp_path / "two").glob("*.png"))) == 3
    assert _digest(tmp_path / "one") != _digest(tmp_path / "two")  # the second member counts


def test_harden_errors_are_clear(tiny_checkpoints: dict[str, Path], tmp_path: Path) -> None:
    missing = runner.invoke(
        app, ["harden", "--scheme", "merged4", "--substitute", str(tmp_path / "x"), "-o", "o"]
    )
    assert missing.exit_code == 2 and "no checkpoint" in missing.output
    bad = runner.invoke(
        app,
        [
            "harden",
            "--scheme",
            "merged4",
            "--substitute",
            str(tiny_checkpoints["crnn"]),
            "-o",
            str(tmp_path / "o"),
            "--mask",
            "corner",
        ],
    )
    assert bad.exit_code == 2 and "mask must be" in bad.output
    incomplete = runner.invoke(app, ["harden", "--scheme", "merged4"])
    assert incomplete.exit_code == 2 and "--substitute" in incomplete.output
    _harden(tiny_checkpoints["crnn"], tmp_path / "twice")
    again = runner.invoke(
        app,
        [
            "harden",
            "--scheme",
            "merged4",
            "--substitute",
            str(tiny_checkpoints["crnn"]),
            "-n",
            "1",
            "-o",
            str(tmp_path / "twice"),
        ],
    )
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_finetune_on_answers(tiny_checkpoints: dict[str, Path], tmp_path: Path) -> None:
    answers = tmp_path / "answers"
    _harden(tiny_checkpoints["crnn"], answers)
    out = tmp_path / "ft"
    args = [
        "harden",
        "finetune",
        "--substitute",
        str(tiny_checkpoints["crnn"]),
        "--answers",
        str(answers),
        "--original",
        "merged4",
        "-o",
        str(out),
        "--steps",
        "4",
        "--batch-size",
        "4",
        "--original-size",
        "8",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "best" / "checkpoint.json").exists() and (out / "finetune.json").exists()
    twice = runner.invoke(app, args)
    assert twice.exit_code == 2 and "already holds" in twice.output
    bad = runner.invoke(app, [*args[:-8], "-o", str(tmp_path / "ft2"), "--lambda", "lots"])
    assert bad.exit_code == 2 and "auto" in bad.output
    rehearse = tmp_path / "rehearse"
    _harden(tiny_checkpoints["crnn"], rehearse, "--seed", "9")
    again = [*args[:-7], str(tmp_path / "ft3"), *args[-6:], "--rehearse", str(rehearse)]
    rehearsed = runner.invoke(app, again)
    assert rehearsed.exit_code == 0, rehearsed.output
    assert "3 rehearsal captchas" in rehearsed.output
    report = json.loads((tmp_path / "ft3" / "finetune.json").read_text())
    assert report["queries"] == 3 and report["rehearsal"] == 3


def test_the_sub_app_takes_more_commands() -> None:
    assert {c.name for c in harden_app.registered_commands} >= {"finetune"}
