from pathlib import Path

from typer.testing import CliRunner

from captchalab.cli import app
from captchalab.errors import error_text


def test_key_error_loses_its_quotes_and_paths_keep_theirs() -> None:
    assert error_text(KeyError("unknown scheme 'x'")) == "unknown scheme 'x'"
    missing = FileNotFoundError(2, "No such file or directory", "a/b.yaml")
    assert error_text(missing).endswith("'a/b.yaml'")
    assert error_text(ValueError("bad")) == "bad"


def test_train_names_a_missing_scheme_file_whole(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["train", "--scheme", str(tmp_path / "nope.yaml"), "-o", str(tmp_path / "run")]
    )
    assert result.exit_code == 2
    assert f"'{tmp_path / 'nope.yaml'}'" in " ".join(result.output.split())
