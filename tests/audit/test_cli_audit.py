"""`captchalab audit` rejects bad input with a clear message before any work starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from captchalab.cli import app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scheme", "hku", "--data", "x"], "exactly one of --scheme or --data"),
        ([], "exactly one of --scheme or --data"),
        (["--scheme", "hku", "--budget", "huge"], "unknown budget"),
        (["--scheme", "nope"], "unknown scheme"),
        (["--scheme", "hku", "--model", "svm"], "models must be among"),
        (["--scheme", "hku", "--factors", "rotation,colourz"], "unknown factors"),
        (["--data", "/nonexistent/folder"], "does not exist"),
    ],
)
def test_bad_input_is_a_clear_error(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["audit", "-o", str(tmp_path / "out"), *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def test_too_small_folder(tmp_path: Path) -> None:
    from captchalab.schemes.generate import generate_dataset

    folder = generate_dataset("digits5", 4, tmp_path / "few", seed=1, workers=1)
    result = CliRunner().invoke(app, ["audit", "--data", str(folder), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "an audit needs >= 10" in " ".join(result.output.split())
