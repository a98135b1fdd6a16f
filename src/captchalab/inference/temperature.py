"""Temperature scaling: make a model's sequence confidence mean "probability of being right".

One scalar T divides every logit before the softmax. It never changes the decoded text (the
argmax is the same for any T > 0), only the confidence. T is chosen on held-out labelled
images by a grid search over [0.5, 3] that minimises the negative log-likelihood of
correctness under the sequence confidence (a proper scoring rule, so it rewards honest
confidences, unlike accuracy). The fit is only as good as the held-out set is representative:
a few hundred images of the captchas the model will meet, not the training set.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from captchalab.charset import Charset
from captchalab.data.preprocess import ImageInput, preprocess_batch
from captchalab.objectives.decoding import decode

logger = logging.getLogger(__name__)

TEMPERATURES = np.round(np.arange(0.5, 3.0 + 1e-9, 0.05), 2)
_EPSILON = 1e-6


def _stack(logits_list: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Per-sample ``(S, C)`` arrays or ``(B, S, C)`` batches -> one ``(N, S, C)`` array."""
    parts = [logits_list] if isinstance(logits_list, np.ndarray) else list(logits_list)
    if not parts:
        raise ValueError("no logits to calibrate on")
    batches = [p[None] if p.ndim == 2 else p for p in parts]
    return np.concatenate(batches).astype(np.float64)


def confidence_nll(correct: np.ndarray, confidence: np.ndarray) -> float:
    """Mean negative log-likelihood of the outcomes (right/wrong) under the confidences."""
    p = np.clip(confidence, _EPSILON, 1.0 - _EPSILON)
    return float(-np.mean(np.where(correct, np.log(p), np.log1p(-p))))


def fit_temperature(
    logits_list: Sequence[np.ndarray] | np.ndarray,
    labels: Sequence[str],
    charset: Charset,
    decoder: str,
) -> float:
    """The T in ``TEMPERATURES`` whose sequence confidences best predict correctness."""
    logits = _stack(logits_list)
    if len(logits) != len(labels):
        raise ValueError(f"{len(logits)} logits but {len(labels)} labels")
    texts = [d.text for d in decode(logits, charset, decoder)]
    correct = np.array([t == charset.normalize(y) for t, y in zip(texts, labels, strict=True)])
    losses = [
        confidence_nll(correct, _confidences(logits / temperature, charset, decoder))
        for temperature in TEMPERATURES
    ]
    best = float(TEMPERATURES[int(np.argmin(losses))])
    if correct.all() or not correct.any():
        logger.warning(
            "every held-out answer is %s; T=%s only reflects the grid's edge",
            "right" if correct.all() else "wrong",
            best,
        )
    elif best in (TEMPERATURES[0], TEMPERATURES[-1]):
        logger.warning("the best temperature %s is at the edge of the search grid", best)
    logger.info(
        "temperature %.2f: NLL %.4f (T=1: %.4f), accuracy %.2f%%",
        best,
        min(losses),
        confidence_nll(correct, _confidences(logits, charset, decoder)),
        100 * correct.mean(),
    )
    return best


def _confidences(logits: np.ndarray, charset: Charset, decoder: str) -> np.ndarray:
    return np.array([d.confidence for d in decode(logits, charset, decoder)])


def calibrate_onnx(
    onnx_path: Path, images: np.ndarray | Sequence[ImageInput], labels: Sequence[str]
) -> float:
    """Fit T on labelled held-out images and store it in the ONNX file's metadata.

    ``images``: preprocessed ``(N, C, H, W)`` arrays, or any inputs ``Solver.solve`` takes.
    Returns T; Solvers loaded from the file afterwards apply it.
    """
    from captchalab.inference.metadata import write_metadata
    from captchalab.inference.solver import Solver

    solver = Solver.load(onnx_path)
    if not isinstance(images, np.ndarray):
        images = preprocess_batch(list(images), solver.preprocessing)
    logits = solver.logits(images)
    temperature = fit_temperature(logits, labels, solver.charset, solver.metadata.objective)
    write_metadata(Path(onnx_path), solver.metadata.with_temperature(temperature))
    return temperature
