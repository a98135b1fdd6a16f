"""Evaluate a torch checkpoint on a scheme's fixed test set or a labelled folder (the ONNX
models users run are scored by ``evaluation.held_out``)."""

from __future__ import annotations

from pathlib import Path

from captchalab.evaluation import EvaluationResult, evaluate_predictions
from captchalab.evaluation.held_out import Example, held_out_images
from captchalab.objectives import create_objective
from captchalab.training.checkpoint import load_checkpoint
from captchalab.training.config import TEST_SEED
from captchalab.training.predict import predict_arrays

__all__ = ["Example", "evaluate_checkpoint"]


def evaluate_checkpoint(
    checkpoint: Path,
    scheme: str | None = None,
    data: Path | None = None,
    count: int = 2000,
    seed: int = TEST_SEED,
    workers: int | None = None,
) -> tuple[EvaluationResult, list[Example]]:
    """Metrics plus ``(label, prediction, confidence)`` for every test image."""
    model, meta = load_checkpoint(checkpoint)
    objective = create_objective(meta.objective, meta.charset, meta.max_length)
    images, labels = held_out_images(
        meta.preprocessing,
        meta.charset,
        seed,
        scheme=scheme,
        data=data,
        count=count,
        workers=workers,
    )
    predictions = predict_arrays(model, objective, images, preprocessing=meta.preprocessing)
    texts = [p.text for p in predictions]
    confidences = [p.confidence for p in predictions]
    result = evaluate_predictions(
        labels, texts, confidences, case_sensitive=meta.charset.case_sensitive
    )
    return result, list(zip(labels, texts, confidences, strict=True))
