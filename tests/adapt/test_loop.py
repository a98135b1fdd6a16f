"""A tiny adapt loop on a toy scheme: no human labels, and the model must get better."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from captchalab.adapt import AdaptConfig, OracleChecker, adapt
from captchalab.adapt.loop import RunFolderExists
from captchalab.cli import app
from captchalab.inference import Solver
from tests.adapt.toy import rotated_digits, write_pool


def _accuracy(model: str | Path, samples: list) -> float:
    predictions = Solver.load(model, threads=1).solve([image for image, _ in samples])
    return sum(p.text == text for p, (_, text) in zip(predictions, samples, strict=True)) / len(
        samples
    )


def test_adapt_improves_on_a_toy_scheme_without_labels(tmp_path: Path) -> None:
    labels = write_pool(tmp_path / "pool", 150, seed=2)
    test = rotated_digits(100, seed=3)  # held out: never solved, checked or trained on
    zero_shot = _accuracy("default", test)
    oracle = OracleChecker(labels)
    config = AdaptConfig(rounds=2, steps=60, batch_size=16, lr=1e-3, threads=1)
    history = adapt("default", tmp_path / "pool", oracle, tmp_path / "run", config)
    assert [r.round for r in history] == [1, 2]
    first, second = history
    assert first.solved == 150 and first.queries == 150
    assert 0 < first.accepted_first < 150
    assert second.solved == 150 - first.labels  # labelled images are not asked again
    assert second.labels > first.labels and oracle.queries == second.queries
    with (tmp_path / "run" / "labels" / "labels.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == second.labels
    assert all(labels[Path(row["filename"]).name] == row["label"] for row in rows)  # only accepted
    adapted = _accuracy(tmp_path / "run" / "model.onnx", test)
    assert adapted >= zero_shot + 0.15, (zero_shot, adapted)
    lines = (tmp_path / "run" / "adapt.jsonl").read_text().splitlines()
    assert [json.loads(line)["round"] for line in lines] == [1, 2]
    with pytest.raises(RunFolderExists):
        adapt("default", tmp_path / "pool", oracle, tmp_path / "run", config)


def test_query_budget_and_runner_up_answers(tmp_path: Path) -> None:
    labels = write_pool(tmp_path / "pool", 40, seed=5)
    oracle = OracleChecker(labels)
    config = AdaptConfig(rounds=1, steps=2, batch_size=8, top_k=3, query_budget=50, threads=1)
    (record,) = adapt("default", tmp_path / "pool", oracle, tmp_path / "run", config)
    assert record.queries == oracle.queries <= 50
    assert record.queries > 40 or record.accepted_first == 40  # budget spent on runner-ups
    assert record.labels == record.accepted_first + record.accepted_alternative


def test_cli_adapt_with_a_check_command(tmp_path: Path) -> None:
    labels = write_pool(tmp_path / "pool", 20, seed=7)
    script = tmp_path / "check.py"
    script.write_text(
        "import sys, pathlib\n"
        f"labels = {labels!r}\n"
        "sys.exit(0 if labels[pathlib.Path(sys.argv[1]).name] == sys.argv[2] else 1)\n"
    )
    args = ["adapt", "--images", str(tmp_path / "pool"), "--check", f"{sys.executable} {script}"]
    args += ["-o", str(tmp_path / "run"), "--rounds", "1", "--steps", "2", "--threads", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "round 1:" in result.output and (tmp_path / "run" / "model.onnx").exists()
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "already holds an adapt run" in again.output
    elsewhere = [*args[:2], str(tmp_path / "none"), *args[3:6], str(tmp_path / "run2"), *args[7:]]
    missing = CliRunner().invoke(app, elsewhere)
    assert missing.exit_code == 2 and "no images" in missing.output


class _Recording(OracleChecker):
    def __init__(self, labels: dict[str, str]) -> None:
        super().__init__(labels)
        self.answers: list[str] = []

    def check(self, image: Path, answer: str) -> bool:
        self.answers.append(answer)
        return super().check(image, answer)


@pytest.mark.parametrize("top_k", [1, 3])
def test_a_known_length_sends_only_answers_that_fit(tmp_path: Path, top_k: int) -> None:
    labels = write_pool(tmp_path / "pool", 40, seed=5)  # every label is 2 digits
    free, fitted = _Recording(labels), _Recording(labels)
    base = AdaptConfig(rounds=1, steps=2, batch_size=8, top_k=top_k, threads=1)
    (plain,) = adapt("default", tmp_path / "pool", free, tmp_path / "free", base)
    config = AdaptConfig(
        rounds=1, steps=2, batch_size=8, top_k=top_k, threads=1, lengths=frozenset({2})
    )
    (known,) = adapt("default", tmp_path / "pool", fitted, tmp_path / "fitted", config)
    assert fitted.answers and all(len(answer) == 2 for answer in fitted.answers)
    assert any(len(answer) != 2 for answer in free.answers)  # the premise: some misfit unasked
    # an answer that fits is the same either way; one that does not was bound to be rejected
    assert known.accepted_first >= plain.accepted_first
    assert known.labels >= plain.labels


def test_cli_adapt_refuses_a_bad_length(tmp_path: Path) -> None:
    write_pool(tmp_path / "pool", 4, seed=7)
    args = ["adapt", "--images", str(tmp_path / "pool"), "--check", "true"]
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "run"), "--length", "5-3"])
    assert result.exit_code == 2 and "runs backwards" in result.output
    assert not (tmp_path / "run").exists()
