"""Where the glyph ink is: Otsu's threshold on grey levels (numpy only).

Shared by the hardening masks (perturb the background, not the glyphs), the attackers' input
cleaning (binarisation) and the audit's image factors (contrast, ink density, overlap).
"""

from __future__ import annotations

import numpy as np


def otsu_threshold(values: np.ndarray) -> int:
    """The grey level (0-255) that best separates uint8 ``values`` into two classes: the one
    that maximises the between-class variance. A flat image gives 0."""
    histogram = np.bincount(values.ravel(), minlength=256).astype(np.float64)
    total = histogram.sum()
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(histogram)
    mean = np.cumsum(histogram * levels)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean[-1] * weight - mean * total) ** 2 / (weight * (total - weight))
    between = np.nan_to_num(between, nan=-1.0, posinf=-1.0)
    return int(np.argmax(between))
