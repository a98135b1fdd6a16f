"""`serve --challenges FILE` and `harden export-answers` from the command line."""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from captchalab.cli import app
from captchalab.schemes import get_scheme
from captchalab.service.challenges.sources import encode_png, read_labelled_folder
from captchalab.store import ChallengeStore, IssuedChallenge, connect, migrate
from captchalab.store.records import Verdict

runner = CliRunner()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = connect(url)
    migrate(engine)
    store = ChallengeStore(engine)
    now_ms = int(time.time() * 1000)
    image_bytes = encode_png(Image.new("RGB", (128, 48), "white"))
    for i, (answer, anomaly) in enumerate([("AbCd", False), ("xyz", True), ("Q2w3", False)]):
        store.issue(
            IssuedChallenge(
                f"c{i}", "hku", "d" * 64, 4, image_bytes, "c" * 64, now_ms - 500, now_ms + 60_000
            )
        )
        store.answer(f"c{i}", answer, "c" * 64, now_ms, lambda _d, _n, a=anomaly: Verdict(False, a))
    engine.dispose()
    return url


def test_export_answers_writes_a_folder_the_service_can_serve(
    store_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "answers"
    result = runner.invoke(
        app, ["harden", "export-answers", "--database", store_url, "--since", "1h", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 3 answers (1 with an anomalous length)" in result.output
    with (out / "labels.csv").open(newline="") as handle:
        assert [row["label"] for row in csv.DictReader(handle)] == ["AbCd", "xyz", "Q2w3"]
    assert [label for _, label in read_labelled_folder(out, get_scheme("hku"))] == [
        "AbCd",
        "xyz",
        "Q2w3",
    ]
    again = runner.invoke(
        app, ["harden", "export-answers", "--database", store_url, "-o", str(out), "--flagged-only"]
    )
    assert again.exit_code == 2 and "already holds a dataset" in again.output
    flagged = runner.invoke(
        app,
        [
            "harden",
            "export-answers",
            "--database",
            store_url,
            "-o",
            str(out),
            "--flagged-only",
            "--overwrite",
        ],
    )
    assert flagged.exit_code == 0, flagged.output
    assert (out / "000000.png").read_bytes() == encode_png(Image.new("RGB", (128, 48), "white"))
    assert (out / "labels.csv").read_text().splitlines() == ["filename,label", "000000.png,xyz"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "use a duration"),
        (["--database", "sqlite:///{tmp}/none.db"], "no store at"),
        (["--database", "mysql://h/db"], "unsupported database"),
    ],
)
def test_export_answers_refuses_bad_options(
    store_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    if "--database" not in args:
        args += ["--database", store_url]
    result = runner.invoke(app, ["harden", "export-answers", *args, "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_serve_checks_the_challenge_file_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        "captchalab.service.server.run", lambda *args, **kwargs: calls.append(kwargs)
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("scheme: hku\nttl_s: -1\n")
    result = runner.invoke(app, ["serve", "--challenges", str(bad)])
    assert result.exit_code == 2
    assert "ttl_s: Input should be greater than 0" in " ".join(result.output.split())
    assert calls == []
    good = tmp_path / "good.yaml"
    good.write_text("scheme: hku\n")
    monkeypatch.setenv("CAPTCHALAB_DATABASE_URL", "mysql://h/db")
    result = runner.invoke(app, ["serve", "--challenges", str(good)])
    assert result.exit_code == 2 and "unsupported database" in result.output
    monkeypatch.setenv("CAPTCHALAB_DATABASE_URL", f"sqlite:///{tmp_path / 's.db'}")
    result = runner.invoke(app, ["serve", "--challenges", str(good)])
    assert result.exit_code == 0, result.output
    assert calls == [{"batching": None, "challenges": str(good)}]
