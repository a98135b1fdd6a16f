"""Glyph styles of the styled renderer beyond plain filled text: hollow, double, thin, extrude.

Each style is a function of a character's filled mask, so every font works. ``hollow`` keeps
a ring of ``stroke`` pixels around the glyph (its inside is transparent); ``double`` keeps
two such rings with a gap of ``stroke`` pixels between them; ``thin`` erodes the glyph to a
single thin stroke; ``extrude`` stacks ``depth`` copies of the glyph, shifted along
``angle`` degrees (0: right, 90: down), in a side colour under the face, like 3-D
lettering. Nothing here draws random numbers: the caller passes every choice in.
"""

from __future__ import annotations

import math
from typing import Literal

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

GlyphStyle = Literal["fill", "hollow", "double", "thin", "extrude"]
GLYPH_STYLES: tuple[str, ...] = ("fill", "hollow", "double", "thin", "extrude")

RGB = tuple[int, int, int]


def _mask(
    char: str,
    font: ImageFont.FreeTypeFont,
    size: tuple[int, int],
    origin: tuple[int, int],
    stroke: int,
) -> Image.Image:
    """The glyph's coverage (mode ``L``), thickened by ``stroke`` pixels all round."""
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).text(
        origin, char, font=font, fill=255, stroke_width=stroke, stroke_fill=255
    )
    return mask


_SUPERSAMPLE = 4


def _thin(
    char: str,
    font: ImageFont.FreeTypeFont,
    size: tuple[int, int],
    origin: tuple[int, int],
    stroke: int,
) -> Image.Image:
    """The glyph with every stroke ``stroke`` pixels narrower (``stroke / 2`` off each side),
    eroded at four times the resolution so that strokes thin smoothly instead of breaking.
    Erosion stops before a glyph would vanish."""
    big_font = font.font_variant(size=int(font.size) * _SUPERSAMPLE)
    big_size = (size[0] * _SUPERSAMPLE, size[1] * _SUPERSAMPLE)
    big = _mask(char, big_font, big_size, (origin[0] * _SUPERSAMPLE, origin[1] * _SUPERSAMPLE), 0)
    for _ in range(stroke * _SUPERSAMPLE // 2):
        thinner = big.filter(ImageFilter.MinFilter(3))
        if thinner.getbbox() is None:
            break
        big = thinner
    return big.resize(size, Image.Resampling.BOX)


def _shift(mask: Image.Image, dx: int, dy: int) -> Image.Image:
    moved = Image.new("L", mask.size, 0)
    moved.paste(mask, (dx, dy))
    return moved


def styled_glyph(
    char: str,
    font: ImageFont.FreeTypeFont,
    fill: RGB,
    rotation: float,
    style: GlyphStyle,
    stroke: int,
    side_fill: RGB = (0, 0, 0),
    extrude: tuple[int, float] = (0, 0.0),
) -> Image.Image:
    """One character in ``style`` as a tightly cropped RGBA image, rotated by ``rotation``.

    ``stroke``: ring width (``hollow``, ``double``) or pixels eroded (``thin``), at least 1.
    ``extrude``: (depth in pixels, direction in degrees) for ``extrude``, drawn in
    ``side_fill``.
    """
    stroke = max(1, stroke)
    depth, angle = extrude if style == "extrude" else (0, 0.0)
    reach = 3 * stroke if style == "double" else stroke
    box = font.getbbox(char, stroke_width=reach)
    left, top = math.floor(box[0]), math.floor(box[1])
    right, bottom = math.ceil(box[2]), math.ceil(box[3])
    pad = 2 + reach + depth
    size = (right - left + 2 * pad, bottom - top + 2 * pad)
    origin = (pad - left, pad - top)
    face = _mask(char, font, size, origin, 0)
    side: Image.Image | None = None
    if style == "hollow":
        face = ImageChops.subtract(_mask(char, font, size, origin, stroke), face)
    elif style == "double":
        outer = ImageChops.subtract(
            _mask(char, font, size, origin, 3 * stroke), _mask(char, font, size, origin, 2 * stroke)
        )
        inner = ImageChops.subtract(_mask(char, font, size, origin, stroke), face)
        face = ImageChops.lighter(outer, inner)
    elif style == "thin":
        face = _thin(char, font, size, origin, stroke)
    elif style == "extrude" and depth > 0:
        dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        side = Image.new("L", size, 0)
        for step in range(1, depth + 1):
            side = ImageChops.lighter(side, _shift(face, round(step * dx), round(step * dy)))
    # Transparent pixels carry the fill colour so rotation does not blend in dark fringes.
    glyph = Image.new("RGBA", size, (*fill, 0))
    if side is not None:
        glyph.paste(Image.new("RGBA", size, (*side_fill, 255)), (0, 0), side)
    glyph.paste(Image.new("RGBA", size, (*fill, 255)), (0, 0), face)
    glyph = glyph.rotate(rotation, resample=Image.Resampling.BICUBIC, expand=True)
    ink = glyph.getchannel("A").getbbox()
    if ink is None:  # whitespace: keep an empty advance of a third of the font size
        return Image.new("RGBA", (max(1, int(font.size) // 3), 1), (0, 0, 0, 0))
    return glyph.crop(ink)
