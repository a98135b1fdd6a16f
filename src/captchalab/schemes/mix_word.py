"""The ``mix`` scheme's ``word`` family: words set on a baseline, over varied backgrounds.

Unlike :class:`~captchalab.schemes.styled.StyledScheme`, which crops each glyph to its ink
and places it at a random height, this renderer keeps every glyph on one shared baseline
(plus a small jitter) and draws a word at one font size. Lower case therefore stays visibly
smaller than upper case (x-height against cap height), so the case of ``o``/``O``,
``s``/``S``, ``x``/``X`` ... can be read from the image, which a case-sensitive model needs.

Every random choice comes from the ``rng`` argument.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from captchalab.schemes import styled_render as draw
from captchalab.schemes.mix_render import (
    background,
    exact,
    finish,
    luma_colour,
    noise,
    nudge,
    strike,
    with_contrast,
)
from captchalab.schemes.styled_render import RGB


def glyph(
    char: str,
    font: ImageFont.FreeTypeFont,
    fill: RGB,
    rotation: float,
    stroke: tuple[int, RGB, bool],
) -> tuple[Image.Image, float]:
    """``char`` as an RGBA image cropped to its ink, and the row of its baseline in it.

    ``stroke`` is (width, colour, hollow); hollow text keeps only the stroke. The baseline
    row is tracked through the rotation (about the ink's centre), so rotated glyphs still
    sit on the word's baseline.
    """
    stroke_width, stroke_fill, hollow = stroke
    left, top, right, bottom = font.getbbox(char, anchor="ls", stroke_width=stroke_width)
    left, top = math.floor(left), math.floor(top)
    size = (max(1, math.ceil(right) - left), max(1, math.ceil(bottom) - top))
    # Transparent pixels carry the fill colour so resampling does not blend in dark fringes.
    image = Image.new("RGBA", size, (*fill, 0))
    ImageDraw.Draw(image).text(
        (-left, -top),
        char,
        font=font,
        anchor="ls",
        fill=(*fill, 0 if hollow else 255),
        stroke_width=stroke_width,
        stroke_fill=(*stroke_fill, 255),
    )
    baseline = float(-top)
    if rotation:
        centre_to_baseline = baseline - image.height / 2
        image = image.rotate(rotation, resample=Image.Resampling.BILINEAR, expand=True)
        baseline = image.height / 2 + centre_to_baseline * math.cos(math.radians(rotation))
    ink = image.getchannel("A").getbbox()
    if ink is None:  # nothing drawn: an empty sliver
        return Image.new("RGBA", (max(1, round(font.size) // 3), 1), (0, 0, 0, 0)), 0.0
    return image.crop(ink), baseline - ink[1]


def wave(strip: Image.Image, amplitude: float, period: float, phase: float) -> Image.Image:
    """Shift column ``x`` of an RGBA strip down by ``amplitude * sin(2 pi x / period + phase)``.

    A piecewise-linear mesh of 4-pixel columns (fast, in Pillow); the strip grows by the
    amplitude above and below so nothing is cut off.
    """
    width, height = strip.size
    pad = math.ceil(amplitude)
    out_height = height + 2 * pad

    def shift(x: int) -> float:
        return amplitude * math.sin(2.0 * math.pi * x / period + phase)

    mesh = []
    for x0 in range(0, width, 4):
        x1 = min(width, x0 + 4)
        top0, top1 = -pad - shift(x0), -pad - shift(x1)
        quad = (x0, top0, x0, top0 + out_height, x1, top1 + out_height, x1, top1)
        mesh.append(((x0, 0, x1, out_height), quad))
    return strip.transform(
        (width, out_height), Image.Transform.MESH, mesh, Image.Resampling.BILINEAR
    )


def set_on_baseline(
    glyphs: Sequence[tuple[Image.Image, float]], gaps: Sequence[float], lifts: Sequence[int]
) -> Image.Image:
    """Glyphs left to right on one RGBA strip, baselines aligned, each raised by ``lifts[i]``.

    ``gaps[i]`` is the space after glyph ``i`` as a fraction of its width (negative overlaps).
    """
    tops, x, xs = [], 0, []
    for (image, baseline), gap, lift in zip(glyphs, gaps, lifts, strict=True):
        xs.append(x)
        tops.append(round(-baseline) - lift)  # top row relative to the shared baseline at 0
        x += max(1, image.width + round(gap * image.width))
    first = min(tops)
    bottom = max(top + image.height for top, (image, _) in zip(tops, glyphs, strict=True))
    width = max(x0 + image.width for x0, (image, _) in zip(xs, glyphs, strict=True))
    strip = Image.new("RGBA", (width, bottom - first), (0, 0, 0, 0))
    for x0, top, (image, _) in zip(xs, tops, glyphs, strict=True):
        strip.alpha_composite(image, dest=(x0, top - first))
    return strip


def _font_size(text: str, path: str, size: tuple[int, int], gap: float, rng: random.Random) -> int:
    """A font size filling 50-85% of the height, shrunk until the word fits the width."""
    width, height = size
    wanted = max(10, round(height * rng.uniform(0.5, 0.85)))
    advance = draw.load_font(path, wanted).getlength(text) * (1.0 + gap) + 0.2 * wanted
    room = width * rng.uniform(0.8, 0.95)
    return max(10, min(wanted, math.floor(wanted * room / max(advance, 1.0))))


def _text_strip(
    text: str,
    fonts: Sequence[str],
    size: tuple[int, int],
    rng: random.Random,
    inks: tuple[RGB, tuple[float, float], float, RGB],
) -> Image.Image:
    """The word on its baseline: ``inks`` = (word colour, text luma range, saturation, paper)."""
    ink, luma, saturation, paper = inks
    word_font, mixed_fonts = rng.choice(fonts), rng.random() < 0.25
    gap = rng.uniform(-0.25, 0.3)
    font_size = _font_size(text, word_font, size, gap, rng)
    size_jitter = rng.choice((0.0, 0.0, 0.06))
    rotation = rng.uniform(0.0, 30.0) if rng.random() < 0.8 else 0.0
    per_char_colour = rng.random() < 0.35
    stroke_width = max(1, round(font_size / rng.uniform(12, 20))) if rng.random() < 0.15 else 0
    hollow = stroke_width > 0 and rng.random() < 0.5
    contrast = (0, 0, 0) if sum(ink) > 380 else (255, 255, 255)
    outline_colour = ink if hollow else nudge(ink, contrast, 0.5)
    glyphs = []
    for char in text:
        path = rng.choice(fonts) if mixed_fonts else word_font
        scale = 1.0 + rng.uniform(-size_jitter, size_jitter)
        font = draw.load_font(path, max(8, round(font_size * scale)))
        fill = with_contrast(luma_colour(rng, luma, saturation), paper) if per_char_colour else ink
        if hollow:
            outline_colour = fill
        tilt = rng.uniform(-rotation, rotation)
        glyphs.append(glyph(char, font, fill, tilt, (stroke_width, outline_colour, hollow)))
    gaps = [gap + rng.uniform(-0.05, 0.05) for _ in text]
    lift = rng.uniform(0.0, 0.08) * font_size
    strip = set_on_baseline(glyphs, gaps, [round(rng.uniform(-lift, lift)) for _ in text])
    if rng.random() < 0.3:
        strip = strip.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BILINEAR, expand=True)
    if rng.random() < 0.45:
        amplitude = rng.uniform(0.04, 0.2) * font_size
        period = rng.uniform(0.5, 1.5) * strip.width
        strip = wave(strip, amplitude, period, rng.uniform(0.0, 2.0 * math.pi))
    return strip


def render_word(
    text: str, size: tuple[int, int], rng: random.Random, fonts: Sequence[str]
) -> Image.Image:
    """``text`` as an RGB image of ``size`` (width, height) in a randomly drawn look."""
    width, height = size
    dark = rng.random() < 0.15
    paper_luma, luma = ((0, 70), (170, 255)) if dark else ((185, 255), (0, 120))
    paper = luma_colour(rng, paper_luma, rng.uniform(0, 40))
    saturation = rng.uniform(0, 120)
    ink = with_contrast(luma_colour(rng, luma, saturation), paper)
    image = background(size, rng, paper, ink)
    strip = _text_strip(text, fonts, size, rng, (ink, luma, saturation, paper))
    margin = (max(1, round(0.04 * width)), max(1, round(0.06 * height)))
    layer = draw.fit_and_place(strip, size, rng, margin)
    band = layer.getchannel("A").getbbox() or (0, 0, width, height)
    image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
    noise(image, rng, exact(ink) if rng.random() < 0.5 else (luma, luma, luma))
    if rng.random() < 0.25:
        strike(image, rng, band, ink)
    return finish(image, rng)
