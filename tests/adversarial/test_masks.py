from __future__ import annotations

import random

import numpy as np
from PIL import Image, ImageDraw

from captchalab.adversarial.masks import (
    GLYPH_MARGIN,
    background_mask,
    dilate,
    disjoint_bands,
    disjoint_rectangles,
    ink_mask,
)


def _bar_image() -> Image.Image:
    image = Image.new("RGB", (60, 30), (240, 240, 235))
    ImageDraw.Draw(image).rectangle((20, 10, 29, 19), fill=(20, 30, 40))
    return image


def test_ink_is_the_dark_glyph_and_background_keeps_a_margin() -> None:
    image = _bar_image()
    ink = ink_mask(image)
    assert ink.sum() == 100 and ink[10:20, 20:30].all()
    background = background_mask(image)
    # exactly the pixels farther than the margin from the square
    expected = np.ones_like(background)
    expected[10 - GLYPH_MARGIN : 20 + GLYPH_MARGIN, 20 - GLYPH_MARGIN : 30 + GLYPH_MARGIN] = False
    assert (background == expected).all()


def test_light_text_on_dark_is_still_the_ink() -> None:
    image = Image.new("RGB", (40, 20), (10, 10, 10))
    ImageDraw.Draw(image).rectangle((5, 5, 9, 9), fill=(250, 250, 250))
    assert ink_mask(image).sum() == 25


def test_dilate_grows_by_the_radius() -> None:
    mask = np.zeros((9, 9), dtype=bool)
    mask[4, 4] = True
    assert dilate(mask, 2).sum() == 25


def test_rectangles_do_not_overlap_and_cover_the_ratio() -> None:
    rng = random.Random(0)
    for count in (1, 2, 4, 6):
        masks = disjoint_rectangles((120, 40), 0.25, count, rng)
        assert len(masks) == count
        total = np.sum(masks, axis=0)
        assert total.max() == 1
        assert abs(total.sum() / (120 * 40) - 0.25) < 0.06


def test_bands_partition_the_image() -> None:
    bands = disjoint_bands((120, 40), 4, random.Random(3))
    assert len(bands) == 4
    assert (np.sum(bands, axis=0) == 1).all()


def test_glyph_mask_is_the_complement_of_the_background() -> None:
    from captchalab.adversarial.masks import glyph_mask

    image = Image.new("L", (40, 20), 255)
    image.paste(0, (10, 5, 14, 15))
    glyph = glyph_mask(image.convert("RGB"))
    assert (glyph == ~background_mask(image.convert("RGB"))).all()
    assert glyph[5:15, 10:14].all() and glyph[10, 8] and not glyph[10, 7]
    assert glyph.sum() == (4 + 4) * (10 + 4)
