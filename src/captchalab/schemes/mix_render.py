"""Colours, backgrounds and clutter for the ``mix`` scheme's own look (see :mod:`.mix_word`).

Every random choice comes from the ``rng`` argument; numpy noise is seeded from it.
"""

from __future__ import annotations

import io
import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from captchalab.schemes import styled_render as draw
from captchalab.schemes.styled_render import RGB, ColourRange


def luma_colour(rng: random.Random, luma: tuple[float, float], saturation: float) -> RGB:
    """A colour of brightness drawn from ``luma``, tinted by up to ``saturation`` per channel."""
    base = rng.uniform(*luma)
    red, green, blue = (
        min(255, max(0, round(base + saturation * rng.uniform(-1.0, 1.0)))) for _ in range(3)
    )
    return (red, green, blue)


def exact(colour: RGB) -> ColourRange:
    """``colour`` as a degenerate range, for the range-taking helpers of ``styled_render``."""
    red, green, blue = colour
    return ((red, red), (green, green), (blue, blue))


def luminance(colour: RGB) -> float:
    red, green, blue = colour
    return 0.299 * red + 0.587 * green + 0.114 * blue


def with_contrast(ink: RGB, paper: RGB, minimum: float = 100.0) -> RGB:
    """``ink`` darkened (on light paper) or lightened (on dark) to differ by ``minimum`` luma."""
    ink_luma, paper_luma = luminance(ink), luminance(paper)
    if paper_luma >= 128:
        if ink_luma <= paper_luma - minimum:
            return ink
        return nudge(ink, (0, 0, 0), 1.0 - max(0.0, paper_luma - minimum) / max(ink_luma, 1.0))
    if ink_luma >= paper_luma + minimum:
        return ink
    return nudge(ink, (255, 255, 255), (paper_luma + minimum - ink_luma) / max(255 - ink_luma, 1.0))


def nudge(colour: RGB, towards: RGB, amount: float) -> RGB:
    """``colour`` moved ``amount`` (0-1) of the way to ``towards``."""
    red, green, blue = (round(c + (t - c) * amount) for c, t in zip(colour, towards, strict=True))
    return (red, green, blue)


# --- backgrounds ---


def _gradient(size: tuple[int, int], start: RGB, end: RGB, angle: float) -> np.ndarray:
    width, height = size
    xs = np.arange(width, dtype=np.float32)[None, :] * math.cos(angle)  # (1, W)
    ys = np.arange(height, dtype=np.float32)[:, None] * math.sin(angle)  # (H, 1)
    along = xs + ys  # (H, W)
    low = float(along.min())
    t = ((along - low) / max(float(along.max()) - low, 1.0))[..., None]  # (H, W, 1)
    return np.array(start, np.float32) * (1.0 - t) + np.array(end, np.float32) * t  # (H, W, 3)


def _texture(size: tuple[int, int], rng: random.Random, amplitude: float) -> np.ndarray:
    """Smooth blotches plus fine grain, zero-mean, (H, W, 1) float32."""
    width, height = size
    noise = np.random.default_rng(rng.getrandbits(63))
    cell = rng.randint(4, 16)
    coarse = noise.uniform(0, 255, (height // cell + 2, width // cell + 2)).astype(np.uint8)
    smooth = Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)
    blotches = (np.asarray(smooth, np.float32) - 127.5) / 127.5 * amplitude
    grain = noise.normal(0.0, amplitude * rng.uniform(0.0, 0.3), (height, width))
    return (blotches + grain).astype(np.float32)[..., None]


def _pattern(image: Image.Image, rng: random.Random, colour: RGB) -> None:
    """Light decoration drawn in place: stripes, rings, waves or stray strokes (no grid)."""
    pen = ImageDraw.Draw(image)
    width, height = image.size
    kind = rng.choice(("stripes", "rings", "waves", "strokes"))
    if kind == "stripes":
        step, slope = rng.randint(4, 14), rng.uniform(-1.5, 1.5)
        for x in range(-2 * height, width + 2 * height, step):
            pen.line(((x, 0), (x + slope * height, height)), fill=colour, width=rng.randint(1, 2))
    elif kind == "rings":
        for _ in range(rng.randint(8, 40)):
            x, y, r = rng.randrange(width), rng.randrange(height), rng.randint(2, height // 2)
            box = (x - r, y - r, x + r, y + r)
            if rng.random() < 0.5:
                pen.ellipse(box, fill=colour)
            else:
                pen.ellipse(box, outline=colour, width=rng.randint(1, 2))
    elif kind == "waves":
        for _ in range(rng.randint(3, 10)):
            y0, amp, period = rng.randrange(height), rng.uniform(2, height / 4), rng.uniform(20, 90)
            phase = rng.uniform(0, 2 * math.pi)
            points = [
                (x, y0 + amp * math.sin(2 * math.pi * x / period + phase))
                for x in range(0, width + 4, 4)
            ]
            pen.line(points, fill=colour, width=rng.randint(1, 2))
    else:
        for _ in range(rng.randint(10, 40)):
            x, y, length = rng.randrange(width), rng.randrange(height), rng.randint(4, height)
            angle = rng.uniform(0, math.pi)
            end = (x + length * math.cos(angle), y + length * math.sin(angle))
            pen.line(((x, y), end), fill=colour, width=rng.randint(1, 3))


def background(size: tuple[int, int], rng: random.Random, colour: RGB, text: RGB) -> Image.Image:
    """Flat, gradient, noise-textured or lightly patterned RGB background of ``size``."""
    kind = rng.choices(("flat", "gradient", "texture", "pattern"), (0.35, 0.25, 0.2, 0.2))[0]
    if kind == "flat":
        return Image.new("RGB", size, colour)
    if kind == "gradient" or rng.random() < 0.3:
        luma = luminance(colour)
        other = luma_colour(
            rng, (luma - 20, luma + 40) if luma > 128 else (luma - 20, luma + 20), 60
        )
        pixels = _gradient(size, colour, other, rng.uniform(0, 2 * math.pi))
    else:
        pixels = np.broadcast_to(np.array(colour, np.float32), (size[1], size[0], 3))
    if kind == "texture":
        pixels = pixels + _texture(size, rng, rng.uniform(8, 25))
    image = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))
    if kind == "pattern":
        _pattern(image, rng, nudge(colour, text, rng.uniform(0.12, 0.35)))
    return image


# --- clutter and finish ---


def strike(
    image: Image.Image, rng: random.Random, band: tuple[int, int, int, int], fill: RGB
) -> None:
    """Draw in place 1-2 straight or wavy lines through the text ``band`` (l, t, r, b)."""
    left, top, right, bottom = band
    pen = ImageDraw.Draw(image)
    thickness = max(1, round((bottom - top) * rng.uniform(0.03, 0.07)))
    for _ in range(1 if rng.random() < 0.7 else 2):
        x0, x1 = left - rng.randint(0, 10), right + rng.randint(0, 10)
        y0, y1 = rng.uniform(top, bottom), rng.uniform(top, bottom)
        amp, period = rng.uniform(0, (bottom - top) / 4), rng.uniform(30, 120)
        phase = rng.uniform(0, 2 * math.pi)
        points = [
            (x, y0 + (y1 - y0) * (x - x0) / max(1, x1 - x0) + amp * math.sin(x / period + phase))
            for x in range(x0, x1 + 3, 3)
        ]
        pen.line(points, fill=fill, width=thickness, joint="curve")


def line_tails(
    image: Image.Image, rng: random.Random, band: tuple[int, int, int, int], fill: RGB
) -> None:
    """Draw in place a line through the text ``band`` that runs on into both margins, its ends
    bent into hooks, with short ticks across it near the ends: marks beside the text that are
    not characters, so a reader learns not to count them."""
    left, top, right, bottom = band
    text_height = max(4, bottom - top)
    width = image.width
    pen = ImageDraw.Draw(image)
    thickness = max(1, round(text_height * rng.uniform(0.04, 0.1)))
    # From well clear of the text to just inside its first glyph's box (renderer 6).
    x0 = max(0.0, left - text_height * rng.uniform(-0.1, 1.0))
    x1 = min(width - 1.0, right + text_height * rng.uniform(0.1, 1.2))
    y0, y1 = rng.uniform(top, bottom), rng.uniform(top, bottom)
    points = [(x0 + (x1 - x0) * t / 24, y0 + (y1 - y0) * t / 24) for t in range(25)]
    for end in (0, -1):  # hooks: the last stretch of each end bends up or down, up to steeply
        if rng.random() < 0.5:
            (x, y), bend = points[end], rng.choice((-1, 1)) * text_height * rng.uniform(0.2, 0.7)
            reach = rng.uniform(0.05, 0.5) * text_height * (1 if end else -1)
            points.insert(len(points) if end else 0, (x + reach, y + bend))
    pen.line(points, fill=fill, width=thickness, joint="curve")
    for _ in range(rng.choice((0, 1, 1, 2))):
        cx, cy = points[rng.choice((0, 1, -2, -1))]
        length = text_height * rng.uniform(0.25, 0.6)
        angle = math.radians(rng.uniform(25, 75) * rng.choice((-1, 1)))
        dx, dy = length / 2 * math.cos(angle), length / 2 * math.sin(angle)
        pen.line(((cx - dx, cy - dy), (cx + dx, cy + dy)), fill=fill, width=thickness)


def finish(image: Image.Image, rng: random.Random) -> Image.Image:
    """Mild camera/compression effects: smoothing, slight blur, JPEG artefacts."""
    roll = rng.random()
    if roll < 0.15:
        image = image.filter(ImageFilter.SMOOTH)
    elif roll < 0.25:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.7)))
    if rng.random() < 0.15:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=rng.randint(35, 90))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return image


def noise(image: Image.Image, rng: random.Random, colours: ColourRange) -> None:
    """Dots, lines and arcs over the whole image, each kind present at random."""
    width, height = image.size
    thick = max(1, round(height / 40))
    if rng.random() < 0.45:
        area = min(1.0, width * height / (160 * 60))  # fewer dots on small images
        speckle(image, rng, colours, round(rng.randint(10, 150) * area), thick + 1)
    draw.draw_noise(
        image,
        rng,
        colours,
        dots=(0, (1, 1)),
        lines=(rng.randint(1, 5) if rng.random() < 0.3 else 0, (1, thick)),
        arcs=rng.randint(1, 3) if rng.random() < 0.25 else 0,
    )


def speckle(
    image: Image.Image, rng: random.Random, colours: ColourRange, count: int, largest: int
) -> None:
    """Draw ``count`` dots in place, 1 to ``largest`` pixels across (numpy-drawn, fast)."""
    noise = np.random.default_rng(rng.getrandbits(63))
    width, height = image.size
    xs, ys = noise.integers(0, width, count), noise.integers(0, height, count)
    sizes = noise.integers(1, largest + 1, count)
    lows, highs = np.array(colours).T  # (3,) each
    fills = noise.integers(lows, highs + 1, (count, 3))
    pen = ImageDraw.Draw(image)
    for x, y, diameter, fill in zip(
        xs.tolist(), ys.tolist(), sizes.tolist(), fills.tolist(), strict=True
    ):
        pen.rectangle((x, y, x + diameter - 1, y + diameter - 1), fill=tuple(fill))
