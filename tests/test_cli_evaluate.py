"""`evaluate` scores what ships (ONNX through the Solver, calibrated); `calibrate` fits T."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from captchalab.cli import app
from captchalab.evaluation.held_out import calibrate_model, evaluate_solver, held_out_images
from captchalab.inference import Solver
from captchalab.inference.metadata import write_metadata
from captchalab.inference.solver import resolve_model_path
from captchalab.training.config import TEST_SEED, VALIDATION_SEED

runner = CliRunner()


def _with_temperature(folder: Path, temperature: float) -> Path:
    path = folder / "calibrated.onnx"
    shutil.copyfile(resolve_model_path("default"), path)
    write_metadata(path, Solver.load(path).metadata.with_temperature(temperature))
    return path


def test_evaluating_an_onnx_file_applies_its_calibration(tmp_path: Path) -> None:
    model = _with_temperature(tmp_path, 2.5)
    solver = Solver.load(model)
    images, labels = held_out_images(
        solver.preprocessing, solver.charset, TEST_SEED, scheme="digits5", count=6
    )
    result, examples = evaluate_solver(solver, images, labels)
    calibrated = [p.confidence for p in solver.solve_arrays(images)]
    shipped = [p.confidence for p in Solver.load("default").solve_arrays(images)]
    assert [confidence for _, _, confidence in examples] == calibrated
    assert np.mean(calibrated) < np.mean(shipped) - 0.05  # T=2.5 (shipped: 0.9) softens them

    report = tmp_path / "report"
    args = ["evaluate", str(model), "--scheme", "digits5", "-n", "6", "--report", str(report)]
    outcome = runner.invoke(app, args)
    assert outcome.exit_code == 0, outcome.output
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["count"] == 6
    assert metrics["mean_confidence"] == pytest.approx(float(np.mean(calibrated)))
    assert result.mean_confidence == pytest.approx(float(np.mean(calibrated)))


def test_evaluate_accepts_the_default_model_and_a_checkpoint(
    tmp_path: Path, crnn_checkpoint_path: Path
) -> None:
    outcome = runner.invoke(app, ["evaluate", "default", "--scheme", "digits5", "-n", "8"])
    assert outcome.exit_code == 0, outcome.output
    assert "samples           8" in outcome.output and "exact accuracy" in outcome.output
    args = ["evaluate", str(crnn_checkpoint_path), "--scheme", "digits5", "-n", "4"]
    outcome = runner.invoke(app, args)
    assert outcome.exit_code == 0, outcome.output
    assert "samples           4" in outcome.output
    outcome = runner.invoke(app, ["evaluate", str(tmp_path / "no.onnx"), "--scheme", "digits5"])
    assert outcome.exit_code == 2 and "no model file" in outcome.output


def test_calibrate_writes_a_calibrated_copy_and_prints_the_reliability_table(
    tmp_path: Path,
) -> None:
    out = tmp_path / "calibrated.onnx"
    args = ["calibrate", "default", "--scheme", "digits5", "-n", "40", "-o", str(out)]
    outcome = runner.invoke(app, args)
    assert outcome.exit_code == 0, outcome.output
    assert "confidence" in outcome.output and "0.9-1.0" in outcome.output
    temperature = Solver.load(out).metadata.temperature
    assert f"temperature {temperature:.2f} written to {out}" in outcome.output

    # the same library call, on the same validation-seed images, gives the same T
    solver = Solver.load("default")
    images, labels = held_out_images(
        solver.preprocessing, solver.charset, VALIDATION_SEED, scheme="digits5", count=40
    )
    again = calibrate_model("default", tmp_path / "again.onnx", images, labels)
    assert again.temperature == temperature and again.count == 40
    assert sum(row["count"] for row in again.after) == 40
    assert Solver.load("default").metadata.temperature == solver.metadata.temperature  # intact


def test_calibrate_needs_one_source_and_an_onnx_output(tmp_path: Path) -> None:
    outcome = runner.invoke(app, ["calibrate", "default", "-o", str(tmp_path / "x.onnx")])
    assert outcome.exit_code == 2 and "exactly one of --scheme or --data" in outcome.output
    args = ["calibrate", "default", "--scheme", "digits5", "-n", "4", "-o", str(tmp_path / "x")]
    outcome = runner.invoke(app, args)
    assert outcome.exit_code == 2 and ".onnx" in outcome.output
