"""Temperature scaling: fitted on held-out answers, stored in the ONNX file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from captchalab.charset import Charset
from captchalab.inference import Solver
from captchalab.inference.temperature import calibrate_onnx, fit_temperature

CHARSET = Charset("0123456789")


def _overconfident(count: int, accuracy: float, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Fixed-length logits that always say "12" with ~0.99 per slot but are right
    ``accuracy`` of the time."""
    rng = np.random.default_rng(seed)
    logits = np.zeros((count, 2, CHARSET.num_classes))
    logits[:, 0, 2] = logits[:, 1, 3] = 7.0  # ids 2, 3 -> "12"
    labels = ["12" if rng.random() < accuracy else "99" for _ in range(count)]
    return logits, labels


def test_overconfident_model_gets_a_temperature_above_one() -> None:
    logits, labels = _overconfident(400, accuracy=0.6)
    temperature = fit_temperature(logits, labels, CHARSET, "fixed_length")
    assert 1.5 < temperature <= 3.0
    # Per-sample (S, C) arrays are accepted too.
    assert fit_temperature(list(logits), labels, CHARSET, "fixed_length") == temperature


def test_calibrate_onnx_writes_the_temperature(tmp_path: Path, onnx_model_path: Path) -> None:
    path = tmp_path / "model.onnx"
    shutil.copy(onnx_model_path, path)
    images = np.random.default_rng(0).random((20, 1, 32, 96), dtype=np.float32)
    labels = ["123"] * 20  # an untrained model is always wrong: T goes to a grid edge
    temperature = calibrate_onnx(path, images, labels)
    assert temperature in (0.5, 3.0)
    assert Solver.load(path).metadata.temperature == temperature
