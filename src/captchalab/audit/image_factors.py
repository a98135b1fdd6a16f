"""Factors measured on the captcha images themselves, for folders nothing can re-render.

Per image: ``contrast`` (mean background minus mean ink intensity, 0-1), ``ink`` (the
fraction of ink pixels), ``overlap`` (estimated glyph overlap: 1 minus the ratio of separate
ink column-runs to symbols, so 0 when every glyph stands alone and near 1 when they merge
into one blob; a column is ink when at least 15% of it is inked, and runs narrower than 3
columns are noise) and ``length``. Ink is the darker side of an Otsu threshold of the
grayscale image. :func:`relate` then sets each factor against the attacker's per-image
errors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image

from captchalab.data.ink import otsu_threshold

FACTOR_NAMES = ("contrast", "ink", "overlap", "length")
FACTOR_LABELS = {
    "contrast": "contrast",
    "ink": "ink density",
    "overlap": "estimated glyph overlap",
    "length": "length",
}


def measure(image: Image.Image, label: str) -> dict[str, float]:
    gray = np.asarray(image.convert("L"), dtype=np.uint8)  # (H, W)
    threshold = otsu_threshold(gray)
    ink = gray <= threshold
    if ink.mean() > 0.5:  # light text on a dark background: the minority side is the ink
        ink = ~ink
    ink_values, paper_values = gray[ink], gray[~ink]
    contrast = (
        abs(float(paper_values.mean()) - float(ink_values.mean())) / 255.0
        if ink_values.size and paper_values.size
        else 0.0
    )
    runs = _glyph_runs(ink)
    symbols = max(1, len(label))
    overlap = max(0.0, 1.0 - min(runs, symbols) / symbols)
    return {
        "contrast": contrast,
        "ink": float(ink.mean()),
        "overlap": overlap,
        "length": float(len(label)),
    }


def _glyph_runs(ink: np.ndarray) -> int:
    """Separate runs of ink columns wide enough to be glyphs (noise dots and thin strokes
    crossing a gap do not count as ink columns; runs narrower than 3 columns are noise)."""
    height, width = ink.shape
    columns = ink.sum(axis=0) >= max(2, round(0.15 * height))  # (W,)
    padded = np.concatenate([[False], columns, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    minimum = max(3, round(0.02 * width))
    return int(np.count_nonzero(ends - starts >= minimum))


@dataclass(frozen=True)
class FactorRelation:
    """How one measured factor relates to the attacker's errors on the test set."""

    name: str
    label: str
    mean_correct: float | None
    mean_wrong: float | None
    correlation: float | None  # Pearson r between the factor and "image was misread"
    bins: list[dict[str, float]]  # [{low, high, count, error_rate}] over terciles

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def relate(measures: Sequence[dict[str, float]], wrong: Sequence[bool]) -> list[FactorRelation]:
    errors = np.array(wrong, dtype=np.float64)
    relations = []
    for name in FACTOR_NAMES:
        values = np.array([m[name] for m in measures], dtype=np.float64)
        relations.append(
            FactorRelation(
                name,
                FACTOR_LABELS[name],
                _mean(values[errors == 0]),
                _mean(values[errors == 1]),
                _correlation(values, errors),
                _bins(values, errors),
            )
        )
    return relations


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def _correlation(values: np.ndarray, errors: np.ndarray) -> float | None:
    if values.std() == 0 or errors.std() == 0:
        return None
    r = float(np.corrcoef(values, errors)[0, 1])
    return None if math.isnan(r) else r


def _bins(values: np.ndarray, errors: np.ndarray) -> list[dict[str, float]]:
    edges = np.unique(np.quantile(values, [0.0, 1 / 3, 2 / 3, 1.0]))
    if edges.size < 2:
        return [
            {
                "low": float(values.min()),
                "high": float(values.max()),
                "count": float(values.size),
                "error_rate": float(errors.mean()),
            }
        ]
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, edges.size - 2)
    bins = []
    for i in range(edges.size - 1):
        chosen = index == i
        if chosen.any():
            bins.append(
                {
                    "low": float(edges[i]),
                    "high": float(edges[i + 1]),
                    "count": float(chosen.sum()),
                    "error_rate": float(errors[chosen].mean()),
                }
            )
    return bins
