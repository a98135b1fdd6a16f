"""Evaluate a torch checkpoint on a scheme's fixed test set or a labelled folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from captchalab.data.cache import render_arrays
from captchalab.data.datasets import FolderDataset
from captchalab.evaluation import EvaluationResult, evaluate_predictions
from captchalab.objectives import create_objective
from captchalab.training.checkpoint import load_checkpoint
from captchalab.training.config import TEST_SEED
from captchalab.training.predict import predict_arrays

Example = tuple[str, str, float | None]


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
    if data is not None:
        folder = FolderDataset(data, meta.charset, meta.preprocessing)
        images = np.stack([folder[i][0] for i in range(len(folder))])
        labels = [text for _, text in folder.items]
    elif scheme is not None:
        images, labels = render_arrays(scheme, meta.preprocessing, seed, count, workers)
        labels = [meta.charset.normalize(t) for t in labels]
    else:
        raise ValueError("evaluate needs a scheme or a data folder")
    predictions = predict_arrays(model, objective, images)
    texts = [p.text for p in predictions]
    confidences = [p.confidence for p in predictions]
    result = evaluate_predictions(
        labels, texts, confidences, case_sensitive=meta.charset.case_sensitive
    )
    return result, list(zip(labels, texts, confidences, strict=True))
