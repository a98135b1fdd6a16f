"""The ``crowded`` family of the ``broad`` scheme: touching glyphs, each turned and bent.

Many captcha libraries share this look: the glyphs overlap so that no column falls between
two of them, each is rotated and pulled out of shape by a random four-corner warp, they
float at their own heights instead of sitting on a baseline, and a curve (or a line with
hooked ends) and dots of the text's colour cross them on a pale, plain ground.
:func:`render_crowded` draws it with captchalab's own code, so the default model learns the
look without training on another project's generator. Half the words keep one font size
(lower case stays smaller than upper case, so case remains visible); in the other half every
glyph is condensed and stretched to one common height, as many generators do, so that size
no longer tells ``c`` from ``C`` and the only cue left is the stroke's shape. Glyphs may
stand apart as well as overlap. In half the images a line too long for the canvas is
squeezed sideways to fit and keeps its height, so long words come out as tall, narrow
glyphs. Every random choice comes from the ``rng`` argument.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFilter

from captchalab.schemes import styled_render as draw
from captchalab.schemes.mix_render import line_tails, luma_colour, with_contrast
from captchalab.schemes.mix_word import glyph
from captchalab.schemes.styled_render import RGB


def render_crowded(
    text: str, size: tuple[int, int], fonts: Sequence[str], rng: random.Random
) -> Image.Image:
    """``text`` as an RGB image of ``size`` (width, height), glyphs crowded together."""
    width, height = size
    dark = rng.random() < 0.1
    paper = luma_colour(rng, (0, 60) if dark else (205, 255), rng.uniform(0, 50))
    ink_luma = (170, 255) if dark else (0, 150)
    base_ink = with_contrast(luma_colour(rng, ink_luma, rng.uniform(0, 140)), paper)
    per_char = rng.random() < 0.5
    faces = rng.sample(list(fonts), min(len(fonts), rng.randint(1, 3)))
    font_size = max(10, round(height * rng.uniform(0.55, 0.85)))
    overlap, warp = rng.uniform(-0.25, 0.35), rng.uniform(0.05, 0.3)
    stretch_to = round(font_size * rng.uniform(0.9, 1.2)) if rng.random() < 0.5 else 0
    glyphs = []
    for char in text:
        ink = with_contrast(luma_colour(rng, ink_luma, 140), paper) if per_char else base_ink
        font = draw.load_font(rng.choice(faces), font_size)
        image, _ = glyph(char, font, ink, rng.uniform(-30, 30), (0, ink, False))
        image = _four_corner_warp(image, ink, warp, rng)
        glyphs.append(_stretched(image, stretch_to, rng) if stretch_to else image)
    strip = _crowd(glyphs, overlap, rng)
    margin = (max(1, round(0.03 * width)), max(1, round(0.05 * height)))
    layer = draw.fit_and_place(strip, size, rng, margin, squash=rng.random() < 0.5)
    image = Image.new("RGB", size, paper)
    image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
    band = layer.getchannel("A").getbbox() or (0, 0, width, height)
    _curve_and_dots(image, band, base_ink, rng)
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.SMOOTH)
    return image


def _four_corner_warp(
    image: Image.Image, fill: RGB, amount: float, rng: random.Random
) -> Image.Image:
    """``image`` (RGBA) with each corner moved by up to ``amount`` of its size, cropped to ink."""
    pad_x, pad_y = math.ceil(amount * image.width), math.ceil(amount * image.height)
    padded = Image.new("RGBA", (image.width + 2 * pad_x, image.height + 2 * pad_y), (*fill, 0))
    padded.paste(image, (pad_x, pad_y))
    w, h = padded.size

    def corner(x: float, y: float) -> tuple[float, float]:
        return x + rng.uniform(-pad_x, pad_x), y + rng.uniform(-pad_y, pad_y)

    # QUAD maps the source quadrilateral (upper-left, lower-left, lower-right, upper-right)
    # onto the whole output rectangle.
    quad = (*corner(0, 0), *corner(0, h), *corner(w, h), *corner(w, 0))
    warped = padded.transform((w, h), Image.Transform.QUAD, quad, Image.Resampling.BILINEAR)
    ink = warped.getchannel("A").getbbox()
    return warped.crop(ink) if ink else image


def _stretched(image: Image.Image, height: int, rng: random.Random) -> Image.Image:
    """``image`` resized to about ``height`` (90-100%) and condensed to 50-90% of the width
    that keeps its aspect at that height."""
    tall = max(1, round(height * rng.uniform(0.9, 1.0)))
    wide = max(1, round(image.width * tall / image.height * rng.uniform(0.5, 0.9)))
    return image.resize((wide, tall), Image.Resampling.BILINEAR)


def _crowd(glyphs: list[Image.Image], overlap: float, rng: random.Random) -> Image.Image:
    """Glyphs left to right, each overlapping the previous by up to ``overlap`` of its width
    (a negative ``overlap``: a gap of up to that share), at random heights in a strip a
    little taller than the tallest glyph."""
    tallest = max(g.height for g in glyphs)
    strip_height = round(tallest * rng.uniform(1.05, 1.3))
    xs, x = [], 0
    for index, piece in enumerate(glyphs):
        if index:
            x -= round(piece.width * rng.uniform(0.0, overlap))
        xs.append(max(0, x))
        x = max(0, x) + piece.width
    strip = Image.new("RGBA", (max(1, x), strip_height), (0, 0, 0, 0))
    for piece, left in zip(glyphs, xs, strict=True):
        top = rng.randint(0, max(0, strip_height - piece.height))
        strip.alpha_composite(piece, (left, top))
    return strip


def _curve_and_dots(
    image: Image.Image, band: tuple[int, int, int, int], ink: RGB, rng: random.Random
) -> None:
    """In place: a sine-like curve across the text (or, from renderer version 6, a line with
    hooked ends in a quarter of the images) and a sprinkle of dots, in ``ink``."""
    left, top, right, bottom = band
    pen = ImageDraw.Draw(image)
    text_height = max(4, bottom - top)
    if rng.random() < 0.25:
        line_tails(image, rng, band, ink)
    elif rng.random() < 0.8:
        thickness = max(1, round(text_height * rng.uniform(0.04, 0.1)))
        x0 = left - rng.uniform(0, 0.3) * text_height
        x1 = right + rng.uniform(0, 0.3) * text_height
        centre, amplitude = rng.uniform(top, bottom), rng.uniform(0.1, 0.45) * text_height
        period, phase = rng.uniform(0.8, 2.5) * (right - left + 1), rng.uniform(0, 2 * math.pi)
        points = [
            (x, centre + amplitude * math.sin(2 * math.pi * (x - x0) / period + phase))
            for x in (x0 + (x1 - x0) * t / 40 for t in range(41))
        ]
        pen.line(points, fill=ink, width=thickness, joint="curve")
    width, height = image.size
    for _ in range(rng.randint(0, max(1, width * height // 150))):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.5, 2.0)
        pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=ink)
