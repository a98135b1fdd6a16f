"""Which regions of an image get which perturbation: single methods and Algorithm 1.

For ``linf`` and ``l0`` the whole allowed area (``mask``) gets the one method. The mixture
method (advCAPTCHA, Algorithm 1) draws ``k`` random non-overlapping masks and gives each its
own norm and budget: about half the masks get L-inf with budget ``linf``, the others share the
``l0`` pixel budget. Following section 5.1, L0 changes go in the background only, whatever
``mask`` says: salt-and-pepper pixels on a glyph hurt people more than machines.
"""

from __future__ import annotations

import random

import numpy as np
from PIL import Image

from captchalab.adversarial.attacks import Region
from captchalab.adversarial.masks import (
    background_mask,
    disjoint_bands,
    disjoint_rectangles,
    full_mask,
    glyph_mask,
    random_rectangle,
)
from captchalab.adversarial.settings import HardeningSettings, mask_ratio


def allowed_area(image: Image.Image, settings: HardeningSettings, rng: random.Random) -> np.ndarray:
    """The single mask of the ``linf`` / ``l0`` methods."""
    ratio = mask_ratio(settings.mask)
    if settings.mask == "background":
        return background_mask(image)
    if settings.mask == "glyph":
        return glyph_mask(image)
    if ratio is None:
        return full_mask(image.size)
    return random_rectangle(image.size, ratio, rng)


def plan_regions(
    image: Image.Image, settings: HardeningSettings, rng: random.Random
) -> list[Region]:
    """The regions, norms and budgets for one image (all choices drawn from ``rng``)."""
    if settings.method == "linf":
        return [Region(allowed_area(image, settings, rng), "linf", settings.linf)]
    if settings.method == "l0":
        return [Region(allowed_area(image, settings, rng), "l0", settings.l0)]
    return _mixture(image, settings, rng)


def _mixture(image: Image.Image, settings: HardeningSettings, rng: random.Random) -> list[Region]:
    k = settings.masks
    ratio = mask_ratio(settings.mask)
    parts = (
        disjoint_rectangles(image.size, ratio, k, rng)
        if ratio is not None
        else disjoint_bands(image.size, k, rng)
    )
    if k == 1:
        norms = [rng.choice(["linf", "l0"])]
    else:
        norms = ["linf"] * (k - k // 2) + ["l0"] * (k // 2)
        rng.shuffle(norms)
    background = background_mask(image)
    l0_parts = norms.count("l0")
    shares = (
        [
            settings.l0 // l0_parts + (1 if i < settings.l0 % l0_parts else 0)
            for i in range(l0_parts)
        ]
        if l0_parts
        else []
    )
    regions = []
    for part, norm in zip(parts, norms, strict=True):
        if norm == "l0":
            regions.append(Region(part & background, "l0", shares.pop(0)))
        else:
            area = part
            if settings.mask == "background":
                area = part & background
            elif settings.mask == "glyph":
                area = part & ~background
            regions.append(Region(area, "linf", settings.linf))
    return regions


def region_union(regions: list[Region]) -> np.ndarray:
    """All pixels some region may change."""
    union = np.zeros_like(regions[0].mask)
    for region in regions:
        union |= region.mask
    return union
