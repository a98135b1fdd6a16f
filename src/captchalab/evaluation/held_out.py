"""Score and calibrate what ships, an ONNX model through the Solver, on held-out labelled images.

``held_out_images`` builds the labelled set (a scheme's images from a fixed seed, or a labelled
folder) in the model's own preprocessing; ``evaluate_solver`` scores a Solver on it with the
calibration stored in the model applied, exactly as users get answers; ``calibrate_model``
fits the confidence temperature and writes a calibrated copy of the model. No torch here.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from captchalab.charset import Charset
from captchalab.data.cache import render_arrays
from captchalab.data.labels import read_labels
from captchalab.data.preprocess import Preprocessing, preprocess
from captchalab.evaluation.metrics import EvaluationResult, evaluate_predictions
from captchalab.evaluation.reliability import expected_calibration_error, reliability_table
from captchalab.inference.solver import Solver, resolve_model_path
from captchalab.inference.temperature import calibrate_onnx
from captchalab.objectives.decoding import decode

Example = tuple[str, str, float | None]  # (label, answer, confidence)


def held_out_images(
    preprocessing: Preprocessing,
    charset: Charset,
    seed: int,
    scheme: str | None = None,
    data: Path | None = None,
    count: int = 2000,
    workers: int | None = None,
) -> tuple[np.ndarray, list[str]]:
    """``(N, C, H, W)`` float32 images in [0, 1] and their labels (normalised by ``charset``).

    Give exactly one of ``scheme`` (``count`` images of the stream ``seed``) or ``data`` (every
    image of a labelled folder; ``seed`` and ``count`` are ignored).
    """
    if (scheme is None) == (data is None):
        raise ValueError("give exactly one of a scheme or a data folder")
    if data is not None:
        pairs = read_labels(Path(data))
        labels = [charset.validate(text, where=str(path)) for path, text in pairs]
        images = np.stack([preprocess(path, preprocessing) for path, _ in pairs])
        return images, labels
    assert scheme is not None
    if count < 1:
        raise ValueError(f"need at least one image, got count={count}")
    rendered, texts = render_arrays(scheme, preprocessing, seed, count, workers)
    return rendered.astype(np.float32) / 255.0, [charset.normalize(t) for t in texts]


def evaluate_solver(
    solver: Solver, images: np.ndarray, labels: Sequence[str]
) -> tuple[EvaluationResult, list[Example]]:
    """Metrics of the Solver's answers (calibrated confidences) and every example."""
    predictions = solver.solve_arrays(images)
    texts = [p.text for p in predictions]
    confidences = [p.confidence for p in predictions]
    result = evaluate_predictions(
        list(labels), texts, confidences, case_sensitive=solver.charset.case_sensitive
    )
    return result, list(zip(labels, texts, confidences, strict=True))


@dataclass(frozen=True)
class CalibrationReport:
    """The fitted temperature and the reliability of confidences before and after it."""

    temperature: float
    before: list[dict[str, Any]]  # reliability_table rows at the model's previous temperature
    after: list[dict[str, Any]]
    ece_before: float
    ece_after: float
    accuracy: float
    count: int
    path: Path


def calibrate_model(
    model: str | Path, out: Path, images: np.ndarray, labels: Sequence[str], bins: int = 10
) -> CalibrationReport:
    """Copy ``model`` (a path or ``"default"``) to ``out`` with a temperature fitted on the
    labelled held-out ``images``; ``out`` may be the model itself (calibrated in place).

    Fit on images like the ones the model will meet, never its training or test set.
    """
    source, out = resolve_model_path(model), Path(out)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if out.suffix != ".onnx":
        raise ValueError(f"the calibrated model must be an .onnx file, got {out}")
    previous = Solver.load(source)
    logits = previous.logits(images)
    charset, objective = previous.charset, previous.metadata.objective
    normalised = [charset.normalize(label) for label in labels]

    def outcomes(temperature: float) -> tuple[list[bool], list[float]]:
        decoded = decode(logits / temperature, charset, objective)
        correct = [d.text == y for d, y in zip(decoded, normalised, strict=True)]
        return correct, [d.confidence for d in decoded]

    correct, before = outcomes(previous.metadata.temperature)
    if out.resolve() != source.resolve():
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, out)
    temperature = calibrate_onnx(out, images, normalised)
    _, after = outcomes(temperature)
    return CalibrationReport(
        temperature=temperature,
        before=reliability_table(correct, before, bins),
        after=reliability_table(correct, after, bins),
        ece_before=expected_calibration_error(correct, before, bins),
        ece_after=expected_calibration_error(correct, after, bins),
        accuracy=float(np.mean(correct)),
        count=len(correct),
        path=out,
    )
