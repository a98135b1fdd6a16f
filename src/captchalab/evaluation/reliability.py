"""Does a prediction's confidence match how often it is right?

``reliability_table`` bins answers by confidence into equal-width bins over [0, 1];
``expected_calibration_error`` is the count-weighted gap between each bin's accuracy and
mean confidence; ``coverage_table`` says what share of answers a confidence threshold keeps
and how accurate the kept ones are (the trade-off a solver's "give up below" setting makes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

DEFAULT_THRESHOLDS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99)


def _as_arrays(
    correct: Sequence[bool], confidences: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    if len(correct) != len(confidences):
        raise ValueError(f"{len(correct)} outcomes but {len(confidences)} confidences")
    hits = np.asarray(correct, dtype=bool).reshape(-1)
    scores = np.asarray(confidences, dtype=np.float64).reshape(-1)
    if scores.size and (np.isnan(scores).any() or scores.min() < 0.0 or scores.max() > 1.0):
        raise ValueError("confidences must lie in [0, 1]")
    return hits, scores


def reliability_table(
    correct: Sequence[bool], confidences: Sequence[float], bins: int = 10
) -> list[dict[str, Any]]:
    """One row per bin: ``lower``, ``upper``, ``count``, ``mean_confidence``, ``accuracy``.

    Bin i covers [i/bins, (i+1)/bins); the last bin also holds 1.0. Empty bins have
    ``count`` 0 and ``None`` for the means.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    hits, scores = _as_arrays(correct, confidences)
    bin_ids = np.clip(np.floor(scores * bins).astype(np.int64), 0, bins - 1)
    rows = []
    for index in range(bins):
        members = bin_ids == index
        count = int(members.sum())
        rows.append(
            {
                "lower": round(index / bins, 10),
                "upper": round((index + 1) / bins, 10),
                "count": count,
                "mean_confidence": float(scores[members].mean()) if count else None,
                "accuracy": float(hits[members].mean()) if count else None,
            }
        )
    return rows


def expected_calibration_error(
    correct: Sequence[bool], confidences: Sequence[float], bins: int = 10
) -> float:
    """Sum over bins of (bin count / total) * |bin accuracy - bin mean confidence|; 0 if empty."""
    table = reliability_table(correct, confidences, bins)
    total = sum(row["count"] for row in table)
    if total == 0:
        return 0.0
    return float(
        sum(
            row["count"] / total * abs(row["accuracy"] - row["mean_confidence"])
            for row in table
            if row["count"]
        )
    )


def accuracy_above(
    correct: Sequence[bool], confidences: Sequence[float], threshold: float
) -> tuple[float, float | None]:
    """``(coverage, accuracy)`` of the answers with confidence >= ``threshold``.

    Coverage is the kept fraction of all answers; accuracy is ``None`` when none are kept.
    """
    hits, scores = _as_arrays(correct, confidences)
    kept = scores >= threshold
    kept_count = int(kept.sum())
    coverage = kept_count / scores.size if scores.size else 0.0
    accuracy = float(hits[kept].mean()) if kept_count else None
    return coverage, accuracy


def coverage_table(
    correct: Sequence[bool],
    confidences: Sequence[float],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
) -> list[dict[str, Any]]:
    """One row per threshold: ``threshold``, ``kept`` (count), ``coverage``, ``accuracy``."""
    rows = []
    for threshold in thresholds:
        coverage, accuracy = accuracy_above(correct, confidences, threshold)
        kept = sum(1 for score in confidences if score >= threshold)
        rows.append(
            {"threshold": threshold, "kept": kept, "coverage": coverage, "accuracy": accuracy}
        )
    return rows
