"""How much of a perturbation an attacker can take away with one fixed threshold.

An attacker who binarises a captcha before reading it (``cleaning.binarise``), or a model
retrained on hardened captchas that learns the same invariance, sees only the pixels whose
side of the threshold the perturbation changed. On a high-contrast scheme a light-grey
background sits far above the threshold, so an L-inf change of at most eps there never
crosses it: the whole L-inf part of a background-masked perturbation vanishes, and only the
L0 pixels (pushed to black or white) and changes near glyph edges survive. numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from captchalab.adversarial.masks import grey
from captchalab.data.ink import otsu_threshold


@dataclass(frozen=True)
class Survival:
    """One hardened captcha against its ordinary original, both binarised at the original's
    Otsu threshold."""

    changed: int  # pixels whose grey value differs at all
    surviving: int  # pixels whose black/white value differs

    @property
    def share(self) -> float:
        """The share of changed pixels that survive binarisation (0 when nothing changed)."""
        return self.surviving / self.changed if self.changed else 0.0


def binarised(values: np.ndarray, threshold: int) -> np.ndarray:
    """``(H, W)`` bool: True where the grey value is above ``threshold``."""
    return values > threshold


def survival(reference: Image.Image, hardened: Image.Image) -> Survival:
    """Count the changed pixels and those that survive the reference's Otsu binarisation.

    The threshold is the ordinary captcha's, so the count measures the perturbation alone
    (a threshold recomputed on the hardened image could move and flip pixels the
    perturbation never touched).
    """
    a, b = grey(reference), grey(hardened)
    if a.shape != b.shape:
        raise ValueError(f"sizes differ: {a.shape} vs {b.shape}")
    threshold = otsu_threshold(a)
    changed = int((a != b).sum())
    surviving = int((binarised(a, threshold) != binarised(b, threshold)).sum())
    return Survival(changed, surviving)
