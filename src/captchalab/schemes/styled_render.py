"""Drawing primitives for :mod:`captchalab.schemes.styled`: backgrounds, glyphs, warps, noise.

Every random choice comes from the ``rng`` argument, so for fixed fonts and Pillow version a
seed fixes the pixels. Layers that carry text are RGBA with transparent (0, 0, 0, 0) fill.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ColourRange = tuple[tuple[int, int], tuple[int, int], tuple[int, int]]
"""Inclusive (low, high) bounds for the red, green and blue channels."""

RGB = tuple[int, int, int]


def sample_colour(rng: random.Random, ranges: ColourRange) -> RGB:
    red, green, blue = (rng.randint(low, high) for low, high in ranges)
    return (red, green, blue)


@lru_cache(maxsize=256)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def background(
    size: tuple[int, int], rng: random.Random, ranges: ColourRange, gradient: bool
) -> Image.Image:
    """A plain or linear-gradient RGB image of ``size`` (width, height)."""
    start = sample_colour(rng, ranges)
    if not gradient:
        return Image.new("RGB", size, start)
    end = np.array(sample_colour(rng, ranges), dtype=np.float32)
    angle = rng.uniform(0.0, 2.0 * math.pi)
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)  # (H, W) each
    along = xs * math.cos(angle) + ys * math.sin(angle)
    span = float(along.max() - along.min()) or 1.0
    t = ((along - along.min()) / span)[..., None]  # (H, W, 1) in [0, 1]
    pixels = np.array(start, dtype=np.float32) * (1.0 - t) + end * t  # (H, W, 3)
    return Image.fromarray(np.rint(pixels).astype(np.uint8))


def draw_grid(
    image: Image.Image, rng: random.Random, spacing: tuple[int, int], colours: ColourRange
) -> None:
    """Draw in place a lattice of 1-pixel lines ``spacing`` (min, max) pixels apart."""
    step, colour = rng.randint(*spacing), sample_colour(rng, colours)
    draw = ImageDraw.Draw(image)
    width, height = image.size
    for x in range(rng.randrange(step), width, step):
        draw.line(((x, 0), (x, height - 1)), fill=colour)
    for y in range(rng.randrange(step), height, step):
        draw.line(((0, y), (width - 1, y)), fill=colour)


def draw_glyph(
    char: str,
    font: ImageFont.FreeTypeFont,
    fill: RGB,
    rotation: float,
    outline: int = 0,
    outline_fill: RGB = (0, 0, 0),
) -> Image.Image:
    """One character as a tightly cropped RGBA image, rotated by ``rotation`` degrees."""
    box_floats = font.getbbox(char, stroke_width=outline)
    left, top = math.floor(box_floats[0]), math.floor(box_floats[1])
    right, bottom = math.ceil(box_floats[2]), math.ceil(box_floats[3])
    pad = 2 + outline
    # Transparent pixels carry the fill colour so rotation does not blend in dark fringes.
    glyph = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (*fill, 0))
    ImageDraw.Draw(glyph).text(
        (pad - left, pad - top),
        char,
        font=font,
        fill=(*fill, 255),
        stroke_width=outline,
        stroke_fill=(*outline_fill, 255),
    )
    glyph = glyph.rotate(rotation, resample=Image.Resampling.BICUBIC, expand=True)
    box = glyph.getchannel("A").getbbox()
    if box is None:  # whitespace: keep an empty advance of a third of the font size
        return Image.new("RGBA", (max(1, int(font.size) // 3), 1), (0, 0, 0, 0))
    return glyph.crop(box)


def lay_out(
    glyphs: Sequence[Image.Image], gaps: Sequence[float], rng: random.Random
) -> Image.Image:
    """Set glyphs left to right on one RGBA strip.

    ``gaps[i]`` is the space after glyph ``i`` as a fraction of its width (negative overlaps);
    each glyph also gets a random vertical offset of up to 15% of the tallest glyph.
    """
    tallest = max(glyph.height for glyph in glyphs)
    jitter = round(0.15 * tallest)
    positions, x = [], 0
    for i, glyph in enumerate(glyphs):
        positions.append((x, rng.randint(0, tallest - glyph.height + jitter)))
        gap = gaps[i] if i < len(gaps) else 0.0
        x += max(1, glyph.width + round(gap * glyph.width))
    width = max(px + glyph.width for (px, _), glyph in zip(positions, glyphs, strict=True))
    strip = Image.new("RGBA", (width, tallest + jitter), (0, 0, 0, 0))
    for position, glyph in zip(positions, glyphs, strict=True):
        strip.alpha_composite(glyph, dest=position)
    return strip


def fit_and_place(
    strip: Image.Image,
    size: tuple[int, int],
    rng: random.Random,
    margin: tuple[int, int],
    squash: bool = False,
) -> Image.Image:
    """Shrink ``strip`` to fit inside ``margin`` (x, y) and paste it at a random spot.

    By default the strip keeps its aspect ratio. With ``squash`` its width and height shrink
    independently, so a line too long for the canvas is squeezed sideways and keeps its
    height, as generators that resize their text to the canvas draw it.

    Returns a transparent RGBA layer of ``size`` (width, height) holding the text.
    """
    width, height = size
    box_w, box_h = max(1, width - 2 * margin[0]), max(1, height - 2 * margin[1])
    scale_x, scale_y = min(1.0, box_w / strip.width), min(1.0, box_h / strip.height)
    if not squash:
        scale_x = scale_y = min(scale_x, scale_y)
    if scale_x < 1.0 or scale_y < 1.0:
        new_size = (max(1, int(strip.width * scale_x)), max(1, int(strip.height * scale_y)))
        strip = strip.resize(new_size, Image.Resampling.LANCZOS)
    x_low, y_low = min(margin[0], width - strip.width), min(margin[1], height - strip.height)
    x = rng.randint(x_low, max(x_low, width - margin[0] - strip.width))
    y = rng.randint(y_low, max(y_low, height - margin[1] - strip.height))
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    layer.paste(strip, (x, y))
    return layer


def sine_warp(layer: Image.Image, amplitude: float, period: float, phase: float) -> Image.Image:
    """Shift column ``x`` of an RGBA layer down by ``amplitude * sin(2 pi x / period + phase)``.

    Interpolates linearly between rows on premultiplied alpha, so edges stay clean.
    """
    pixels = np.asarray(layer, dtype=np.float32)  # (H, W, 4)
    height, width = pixels.shape[:2]
    premultiplied = pixels.copy()
    premultiplied[..., :3] *= pixels[..., 3:] / 255.0
    shift = amplitude * np.sin(2.0 * np.pi * np.arange(width) / period + phase)  # (W,)
    source = np.arange(height, dtype=np.float32)[:, None] - shift[None, :]  # (H, W)
    row0 = np.floor(source).astype(np.int64)
    frac = (source - row0)[..., None]  # (H, W, 1)
    columns = np.arange(width)[None, :]

    def rows(index: np.ndarray) -> np.ndarray:
        inside = ((index >= 0) & (index < height))[..., None]
        return np.where(inside, premultiplied[np.clip(index, 0, height - 1), columns], 0.0)

    warped = rows(row0) * (1.0 - frac) + rows(row0 + 1) * frac  # (H, W, 4)
    alpha = warped[..., 3:]
    warped[..., :3] = np.where(alpha > 0, warped[..., :3] * 255.0 / np.maximum(alpha, 1e-6), 0.0)
    return Image.fromarray(np.clip(np.rint(warped), 0, 255).astype(np.uint8))


def draw_noise(
    image: Image.Image,
    rng: random.Random,
    colours: ColourRange,
    dots: tuple[int, tuple[int, int]],
    lines: tuple[int, tuple[int, int]],
    arcs: int,
) -> None:
    """Draw in place: ``dots`` = (count, (min, max) diameter); ``lines`` = (count, (min, max)
    width), also used as the width of the ``arcs`` curves."""
    draw = ImageDraw.Draw(image)
    width, height = image.size
    count, (low, high) = dots
    for _ in range(count):
        x, y, diameter = rng.randrange(width), rng.randrange(height), rng.randint(low, high)
        colour = sample_colour(rng, colours)
        if diameter <= 1:
            draw.point((x, y), fill=colour)
        else:
            draw.ellipse((x, y, x + diameter - 1, y + diameter - 1), fill=colour)
    count, (low, high) = lines
    for _ in range(count):
        start = (rng.randint(0, width // 4), rng.randrange(height))
        end = (rng.randint(3 * width // 4, width), rng.randrange(height))
        draw.line((start, end), fill=sample_colour(rng, colours), width=rng.randint(low, high))
    for _ in range(arcs):
        x0, y0 = rng.randint(-width // 2, width // 2), rng.randint(-height // 2, height // 2)
        x1, y1 = x0 + rng.randint(width // 2, 2 * width), y0 + rng.randint(height, 3 * height)
        start_angle = rng.uniform(0.0, 360.0)
        end_angle = start_angle + rng.uniform(60.0, 240.0)
        colour, line_width = sample_colour(rng, colours), rng.randint(low, high)
        draw.arc((x0, y0, x1, y1), start_angle, end_angle, fill=colour, width=line_width)
