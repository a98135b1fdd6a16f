"""Optional layers and finishing steps of the styled renderer.

Backgrounds (multi-colour blobs, letterbox bars), a wavy baseline and centred placement of
the text, lines drawn through the text, and post-processing (colour inversion, a
downscale-then-upscale round trip, GIF palette quantisation, JPEG compression). Every random
choice comes from the ``rng`` argument.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageOps

from captchalab.schemes.styled_render import ColourRange, sample_colour


def draw_blobs(
    image: Image.Image,
    rng: random.Random,
    count: int,
    radius: tuple[float, float],
    colours: ColourRange,
) -> None:
    """Draw in place ``count`` filled ellipses, radii ``radius`` (fractions of the height)."""
    draw = ImageDraw.Draw(image)
    width, height = image.size
    for _ in range(count):
        x, y = rng.randrange(width), rng.randrange(height)
        rx = max(1.0, rng.uniform(*radius) * height)
        ry = max(1.0, rx * rng.uniform(0.6, 1.4))
        draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=sample_colour(rng, colours))


def draw_letterbox(image: Image.Image, bar: int, colour: tuple[int, int, int]) -> None:
    """Draw in place bars ``bar`` pixels high across the top and the bottom."""
    if bar <= 0:
        return
    draw = ImageDraw.Draw(image)
    width, height = image.size
    draw.rectangle((0, 0, width - 1, bar - 1), fill=colour)
    draw.rectangle((0, height - bar, width - 1, height - 1), fill=colour)


def lay_out_wave(
    glyphs: Sequence[Image.Image],
    gaps: Sequence[float],
    amplitude: float,
    period: float,
    phase: float,
) -> Image.Image:
    """Set glyphs left to right with their centres on a sine baseline.

    Glyph ``i`` starting at ``x`` is moved down by ``amplitude * sin(2 pi x / period +
    phase)`` pixels; ``gaps`` as in :func:`~captchalab.schemes.styled_render.lay_out`.
    """
    tallest = max(glyph.height for glyph in glyphs)
    lift = math.ceil(amplitude)
    xs, x = [], 0
    for i, glyph in enumerate(glyphs):
        xs.append(x)
        gap = gaps[i] if i < len(gaps) else 0.0
        x += max(1, glyph.width + round(gap * glyph.width))
    positions = []
    for glyph, left in zip(glyphs, xs, strict=True):
        centre = left + glyph.width / 2
        offset = amplitude * math.sin(2.0 * math.pi * centre / period + phase)
        positions.append((left, round(lift + offset + (tallest - glyph.height) / 2)))
    width = max(px + glyph.width for (px, _), glyph in zip(positions, glyphs, strict=True))
    height = max(py + glyph.height for (_, py), glyph in zip(positions, glyphs, strict=True))
    strip = Image.new("RGBA", (width, max(height, tallest + 2 * lift)), (0, 0, 0, 0))
    for position, glyph in zip(positions, glyphs, strict=True):
        strip.alpha_composite(glyph, dest=(position[0], max(0, position[1])))
    return strip


def place_centre(
    strip: Image.Image,
    size: tuple[int, int],
    rng: random.Random,
    margin: tuple[int, int],
    jitter: float,
) -> Image.Image:
    """Like ``fit_and_place`` but centred, moved at most ``jitter`` of the free room each way."""
    width, height = size
    box_w, box_h = max(1, width - 2 * margin[0]), max(1, height - 2 * margin[1])
    scale = min(1.0, box_w / strip.width, box_h / strip.height)
    if scale < 1.0:
        new_size = (max(1, int(strip.width * scale)), max(1, int(strip.height * scale)))
        strip = strip.resize(new_size, Image.Resampling.LANCZOS)
    free_x, free_y = max(0, width - strip.width), max(0, height - strip.height)
    x = round(free_x / 2 + rng.uniform(-jitter, jitter) * free_x / 2)
    y = round(free_y / 2 + rng.uniform(-jitter, jitter) * free_y / 2)
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    layer.paste(strip, (x, y))
    return layer


def draw_text_lines(
    image: Image.Image,
    rng: random.Random,
    text_box: tuple[int, int, int, int],
    count: int,
    widths: tuple[int, int],
    dotted: bool,
    colours: ColourRange,
) -> None:
    """Draw in place ``count`` lines across ``text_box`` (left, top, right, bottom), each
    entering and leaving within the middle 60% of the text's rows so that it crosses every
    glyph; ``dotted`` draws them as rows of dots."""
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = text_box
    reach = max(2, (right - left) // 20)
    low, high = top + round(0.2 * (bottom - top)), bottom - round(0.2 * (bottom - top))
    for _ in range(count):
        start = (left - rng.randint(0, reach), rng.randint(low, high))
        end = (right + rng.randint(0, reach), rng.randint(low, high))
        colour, width = sample_colour(rng, colours), rng.randint(*widths)
        if not dotted:
            draw.line((start, end), fill=colour, width=width)
            continue
        length = math.dist(start, end)
        step = 2 * width + 1
        for k in range(int(length // step) + 1):
            t = k * step / max(length, 1.0)
            x = start[0] + t * (end[0] - start[0])
            y = start[1] + t * (end[1] - start[1])
            r = width / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)


def invert(image: Image.Image) -> Image.Image:
    """Light on dark from dark on light (and the reverse)."""
    return ImageOps.invert(image.convert("RGB"))


def downscale(image: Image.Image, factor: float) -> Image.Image:
    """Shrink by ``factor`` (< 1) and enlarge back to the original size: a low-resolution look."""
    small = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    reduced = image.resize(small, Image.Resampling.BILINEAR)
    return reduced.resize(image.size, Image.Resampling.NEAREST)


def gif_palette(image: Image.Image, colours: int) -> Image.Image:
    """Quantise to a ``colours``-entry palette, as a GIF encoder does."""
    palette = image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    return palette.convert("RGB")


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    """A JPEG round trip at ``quality`` (1-95)."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")
