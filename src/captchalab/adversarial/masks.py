"""Where a perturbation may go: boolean ``(H, W)`` masks on the served image (numpy only).

* ``ink_mask``: the glyph ink, the minority side of an Otsu threshold on the grey image;
* ``background_mask``: pixels at least ``margin`` pixels away from any ink;
* ``glyph_mask``: its complement, the ink and the pixels within ``margin`` of it (where the
  ordinary captcha already varies, so a change there costs little structural similarity);
* ``random_rectangle`` / ``disjoint_rectangles``: rectangles of a given area fraction;
* ``disjoint_bands``: the image cut into ``k`` vertical bands at random points.
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
from PIL import Image

from captchalab.data.ink import otsu_threshold

GLYPH_MARGIN = 2  # pixels kept clear around the ink by the background mask


def grey(image: Image.Image) -> np.ndarray:
    """``(H, W)`` uint8 luminance."""
    return np.asarray(image.convert("L"), dtype=np.uint8)


def ink_mask(image: Image.Image) -> np.ndarray:
    """True on glyph ink: the minority side of the Otsu threshold (dark text on light, or
    light text on dark)."""
    values = grey(image)
    threshold = otsu_threshold(values)
    dark = values <= threshold
    return dark if dark.mean() <= 0.5 else ~dark


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation with a ``(2r+1)`` square."""
    if radius <= 0:
        return mask.copy()
    height, width = mask.shape
    padded = np.pad(mask, radius)
    out = np.zeros_like(mask)
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            out |= padded[dy : dy + height, dx : dx + width]
    return out


def background_mask(image: Image.Image, margin: int = GLYPH_MARGIN) -> np.ndarray:
    """True on pixels at least ``margin`` pixels (Chebyshev) away from any ink."""
    return ~dilate(ink_mask(image), margin)


def glyph_mask(image: Image.Image, margin: int = GLYPH_MARGIN) -> np.ndarray:
    """True on the ink and on pixels within ``margin`` pixels of it: the complement of
    ``background_mask``."""
    return dilate(ink_mask(image), margin)


def full_mask(size: tuple[int, int]) -> np.ndarray:
    width, height = size
    return np.ones((height, width), dtype=bool)


def _rectangle_in(
    rng: random.Random, height: int, x0: int, x1: int, area: float, aspect: float
) -> tuple[int, int, int, int]:
    """A rectangle of about ``area`` pixels inside columns ``[x0, x1)``: (top, left, h, w)."""
    band = x1 - x0
    rect_w = max(1, min(band, round(math.sqrt(area * aspect))))
    rect_h = max(1, min(height, math.ceil(area / rect_w)))
    if rect_h == height:  # too tall: widen instead
        rect_w = max(1, min(band, math.ceil(area / height)))
    top = rng.randint(0, height - rect_h)
    left = rng.randint(x0, x1 - rect_w)
    return top, left, rect_h, rect_w


def disjoint_rectangles(
    size: tuple[int, int], ratio: float, count: int, rng: random.Random
) -> list[np.ndarray]:
    """``count`` non-overlapping rectangles, together covering about ``ratio`` of the image.

    The image is split into ``count`` equal vertical bands and each rectangle is placed at a
    random spot inside its own band, so no two can overlap.
    """
    width, height = size
    area = ratio * width * height / count
    masks = []
    for index in range(count):
        x0, x1 = round(index * width / count), round((index + 1) * width / count)
        top, left, rect_h, rect_w = _rectangle_in(rng, height, x0, x1, area, width / height)
        mask = np.zeros((height, width), dtype=bool)
        mask[top : top + rect_h, left : left + rect_w] = True
        masks.append(mask)
    return masks


def random_rectangle(size: tuple[int, int], ratio: float, rng: random.Random) -> np.ndarray:
    """One rectangle of about ``ratio`` of the image area, at a random place."""
    return disjoint_rectangles(size, ratio, 1, rng)[0]


def disjoint_bands(size: tuple[int, int], count: int, rng: random.Random) -> list[np.ndarray]:
    """The image cut into ``count`` vertical bands at random points (each at least half the
    mean width), covering it exactly once."""
    width, height = size
    count = max(1, min(count, width))
    lengths = [1.0 + rng.random() for _ in range(count)]
    scale = width / sum(lengths)
    cuts = [0]
    for length in lengths[:-1]:
        cuts.append(min(width - 1, max(cuts[-1] + 1, round(cuts[-1] + length * scale))))
    cuts.append(width)
    masks = []
    for left, right in itertools.pairwise(cuts):
        mask = np.zeros((height, width), dtype=bool)
        mask[:, left:right] = True
        masks.append(mask)
    return masks
