"""The ``hard`` family of the ``broad`` scheme: the looks that ``mix`` never shows.

:func:`render_hard` draws ``text`` on a canvas of any size (tiny, wide, tall) and combines,
each with its own probability:

* placement: text filling the canvas, or small text anywhere on it (big margins), between
  letterbox bars;
* glyphs: solid, outlined, hollow, double-stroke, thin single-stroke or 3-D extruded, dotted
  or textured fill, per-character fonts, colours and sizes, overlapping neighbours;
* geometry: per-character rotation up to 90 degrees, wavy (sine) baselines and warps;
* backgrounds: heavy multi-colour blobs, confetti of dotted strokes, the ``mix`` backgrounds;
  lines crossing every glyph, lines running on past the text with hooks and ticks across
  them (marks that are not characters), dotted lines, speckle;
* finish: light-on-dark (inverted) text, low resolution (downscale then upscale), GIF palette
  quantisation, JPEG artefacts, mild blur.

Lower case stays smaller than upper case: glyphs sit on one baseline at one font size per
word, and per-character size changes are kept small for letters whose case is told by size
alone (``o``/``O``, ``s``/``S`` ...). Every random choice comes from the ``rng`` argument;
numpy noise is seeded from it, so a sample is a pure function of the rng's seed.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import cast

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

from captchalab.schemes import styled_render as draw
from captchalab.schemes.mix_render import (
    background,
    exact,
    line_tails,
    luma_colour,
    luminance,
    noise,
    nudge,
    strike,
    with_contrast,
)
from captchalab.schemes.mix_word import glyph, set_on_baseline, wave
from captchalab.schemes.styled_render import RGB

# Characters whose case (or identity) a reader tells from their size alone.
SIZE_SENSITIVE = set("cCkKoOpPsSuUvVwWxXyYzZ0")
GLYPH_STYLES = ("solid", "outline", "hollow", "double", "thin")
GLYPH_STYLE_WEIGHTS = (0.4, 0.17, 0.15, 0.13, 0.15)
_THIN_NAMES = ("thin", "hairline", "light", "kristi", "mono")
_BLACK, _WHITE = (0, 0, 0), (255, 255, 255)


def render_hard(
    text: str, size: tuple[int, int], fonts: Sequence[str], rng: random.Random
) -> Image.Image:
    """``text`` as an RGB image of ``size`` (width, height) in a randomly combined hard look."""
    width, height = size
    dark = rng.random() < 0.3  # light text on a dark ground
    paper_luma, ink_luma = ((0, 80), (175, 255)) if dark else ((170, 255), (0, 110))
    paper = luma_colour(rng, paper_luma, rng.uniform(0, 60))
    saturation = rng.uniform(0, 160)
    style = rng.choices(GLYPH_STYLES, GLYPH_STYLE_WEIGHTS)[0]
    ink = with_contrast(
        luma_colour(rng, ink_luma, saturation), paper, 150 if style == "thin" else 110
    )
    image, busy = _ground(size, rng, paper, ink)
    region = _letterbox(image, rng, paper, ink) if rng.random() < 0.15 else (0, 0, width, height)
    inks = (ink, ink_luma, saturation, paper)
    strip, font_size = _text_strip(text, fonts, region, rng, inks, style, 140 if busy else 100)
    layer = _place(strip, size, region, rng)
    band = layer.getchannel("A").getbbox() or region
    if rng.random() < 0.15:  # soft drop shadow
        image = _shadow(image, layer, rng, nudge(paper, _BLACK if not dark else _WHITE, 0.35))
    image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
    _clutter(image, rng, band, font_size, (ink, ink_luma, paper), busy)
    return _finish(image, rng, band, fragile=style == "thin")


# --- grounds ---


def _ground(
    size: tuple[int, int], rng: random.Random, paper: RGB, ink: RGB
) -> tuple[Image.Image, bool]:
    """The background, and whether it is busy (then less clutter goes on top)."""
    kind = rng.choices(("mix", "blobs", "confetti"), (0.45, 0.4, 0.15))[0]
    if kind == "mix":
        return background(size, rng, paper, ink), False
    image = Image.new("RGB", size, paper)
    luma = luminance(paper)
    # Keep the clutter near the paper's brightness, on the side away from the ink.
    band = (luma - 35, luma + 20) if luma > luminance(ink) else (luma - 20, luma + 35)
    if kind == "blobs":
        _blobs(image, rng, band, (ink, paper))
    else:
        _confetti(image, rng, band, (ink, paper))
    return image, True


def _clear_of(colour: RGB, inks: tuple[RGB, RGB]) -> RGB:
    """``colour``, pulled towards the paper until it is 90 luma away from the ink."""
    ink, paper = inks
    for amount in (0.0, 0.3, 0.6, 1.0):
        moved = nudge(colour, paper, amount)
        if abs(luminance(moved) - luminance(ink)) >= 90:
            return moved
    return paper


def _blobs(
    image: Image.Image, rng: random.Random, luma: tuple[float, float], inks: tuple[RGB, RGB]
) -> None:
    """Heavy multi-colour ellipses over the whole ground, sometimes softened."""
    width, height = image.size
    pen = ImageDraw.Draw(image)
    for _ in range(rng.randint(5, 25)):
        x, y = rng.randrange(width), rng.randrange(height)
        rx, ry = rng.randint(3, max(4, height // 2)), rng.randint(3, max(4, height // 2))
        colour = _clear_of(luma_colour(rng, luma, rng.uniform(30, 110)), inks)
        pen.ellipse((x - rx, y - ry, x + rx, y + ry), fill=colour)
    if rng.random() < 0.5:
        image.paste(image.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 4.0))))


def _confetti(
    image: Image.Image, rng: random.Random, luma: tuple[float, float], inks: tuple[RGB, RGB]
) -> None:
    """Many short multi-colour strokes and dotted strokes."""
    width, height = image.size
    pen = ImageDraw.Draw(image)
    count = round(rng.randint(15, 50) * min(2.0, width * height / (160 * 60)))
    for _ in range(count):
        x, y = rng.randrange(width), rng.randrange(height)
        length, angle = rng.uniform(4, max(6, height / 2)), rng.uniform(0, math.pi)
        end = (x + length * math.cos(angle), y + length * math.sin(angle))
        colour = _clear_of(luma_colour(rng, luma, rng.uniform(40, 130)), inks)
        if rng.random() < 0.5:
            pen.line(((x, y), end), fill=colour, width=rng.randint(1, 2))
        else:
            _dotted_line(pen, (x, y), end, colour, 1, rng.randint(3, 6))


def _dotted_line(
    pen: ImageDraw.ImageDraw,
    start: tuple[float, float],
    end: tuple[float, float],
    fill: RGB,
    radius: int,
    step: int,
) -> None:
    length = math.dist(start, end)
    for i in range(int(length // step) + 1):
        t = i * step / max(length, 1.0)
        x, y = start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t
        pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)


def _letterbox(
    image: Image.Image, rng: random.Random, paper: RGB, ink: RGB
) -> tuple[int, int, int, int]:
    """Draw bars on two opposite edges in place; return the free region (l, t, r, b)."""
    width, height = image.size
    pen = ImageDraw.Draw(image)
    colour = luma_colour(rng, (0, 255), rng.uniform(0, 150))
    if abs(luminance(colour) - luminance(ink)) < 60:
        colour = nudge(colour, paper, 0.6)
    if height * 2 >= width or rng.random() < 0.3:  # bars top and bottom
        bar = max(2, round(height * rng.uniform(0.08, 0.2)))
        pen.rectangle((0, 0, width, bar - 1), fill=colour)
        pen.rectangle((0, height - bar, width, height), fill=colour)
        return (0, bar, width, height - bar)
    bar = max(2, round(width * rng.uniform(0.05, 0.12)))
    pen.rectangle((0, 0, bar - 1, height), fill=colour)
    pen.rectangle((width - bar, 0, width, height), fill=colour)
    return (bar, 0, width - bar, height)


# --- text ---


def _text_strip(
    text: str,
    fonts: Sequence[str],
    region: tuple[int, int, int, int],
    rng: random.Random,
    inks: tuple[RGB, tuple[float, float], float, RGB],
    style: str,
    contrast_min: float,
) -> tuple[Image.Image, int]:
    """The word as an RGBA strip sized for ``region`` in glyph ``style``, and its font size.

    Per-character colours keep ``contrast_min`` luma from the paper."""
    ink, luma, saturation, paper = inks
    thin_fonts = [path for path in fonts if _is_thin(path)]
    word_font = rng.choice(thin_fonts if style == "thin" and thin_fonts else fonts)
    mixed_fonts = rng.random() < 0.25
    gap = rng.uniform(-0.35, -0.15) if rng.random() < 0.2 else rng.uniform(-0.15, 0.3)
    font_size = _font_size(text, word_font, region, gap, rng)
    if style == "double" and font_size < 22:  # the two rings would merge
        style = "outline"
    rotation = rng.choices((0.0, 15.0, rng.uniform(30.0, 60.0), 90.0), (0.2, 0.4, 0.25, 0.15))[0]
    size_jitter = 0.25 if rng.random() < 0.35 else 0.05
    per_char_colour = rng.random() < 0.4
    line = max(1, round(font_size / rng.uniform(10, 18)))
    if style == "thin":  # the stroke width the glyphs are thinned to
        line = rng.choice((1, 1, 2))
    contrast = _BLACK if luminance(paper) > 128 else _WHITE
    edge = nudge(ink, contrast, 0.6) if rng.random() < 0.5 else nudge(paper, ink, 0.15)
    glyphs = []
    for char in text:
        path = rng.choice(fonts) if mixed_fonts else word_font
        jitter = size_jitter if char not in SIZE_SENSITIVE else min(size_jitter, 0.06)
        font = draw.load_font(path, max(8, round(font_size * (1.0 + rng.uniform(-jitter, jitter)))))
        fill = ink
        if per_char_colour:
            fill = with_contrast(luma_colour(rng, luma, saturation), paper, contrast_min)
        tilt = rng.uniform(-rotation, rotation)
        glyphs.append(_styled_glyph(char, font, fill, tilt, style, (line, edge)))
    gaps = [gap + rng.uniform(-0.05, 0.05) for _ in text]
    lifts = [0] * len(text)
    if rng.random() < 0.4:  # wavy baseline
        amplitude = rng.uniform(0.08, 0.3) * font_size
        cycles, phase = rng.uniform(0.5, 2.0), rng.uniform(0.0, 2.0 * math.pi)
        lifts = [
            round(amplitude * math.sin(2 * math.pi * cycles * i / len(text) + phase))
            for i in range(len(text))
        ]
    strip = set_on_baseline(glyphs, gaps, lifts)
    if rng.random() < 0.25:
        amplitude = rng.uniform(0.05, 0.2) * font_size
        strip = wave(strip, amplitude, rng.uniform(0.4, 1.2) * strip.width, rng.uniform(0, 6.3))
    solid = style in ("solid", "outline")  # thin strokes would not survive these
    effect = rng.choices(("none", "texture", "extrude"), (0.55, 0.25, 0.2))[0] if solid else "none"
    if effect == "texture" and font_size >= 24:
        strip = _texture(strip, rng)
    elif effect == "extrude":
        strip = _extrude(strip, rng, nudge(ink, contrast, 0.45), max(2, font_size // 8))
    if rng.random() < 0.2:
        strip = strip.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BILINEAR, expand=True)
    return strip, font_size


def _font_size(
    text: str, path: str, region: tuple[int, int, int, int], gap: float, rng: random.Random
) -> int:
    """Either text filling the region's height or small text with wide margins."""
    left, top, right, bottom = region
    width, height = right - left, bottom - top
    small = height >= 50 and rng.random() < (0.6 if height > 1.5 * 45 else 0.3)
    share = rng.uniform(0.3, 0.55) if small else rng.uniform(0.55, 0.85)
    wanted = max(10, round(height * share))
    advance = draw.load_font(path, wanted).getlength(text) * (1.0 + gap) + 0.3 * wanted
    room = width * (rng.uniform(0.4, 0.8) if small else rng.uniform(0.8, 0.95))
    return max(10, min(wanted, math.floor(wanted * room / max(advance, 1.0))))


def _styled_glyph(
    char: str,
    font: ImageFont.FreeTypeFont,
    fill: RGB,
    rotation: float,
    style: str,
    edge: tuple[int, RGB],
) -> tuple[Image.Image, float]:
    """One glyph cropped to its ink with its baseline row, in the word's glyph ``style``."""
    width, colour = edge
    if style == "outline":
        return glyph(char, font, fill, rotation, (width, colour, False))
    if style == "hollow":
        return glyph(char, font, fill, rotation, (width, fill, True))
    image, baseline = glyph(char, font, fill, rotation, (0, fill, False))
    if style == "double":
        return _double_stroke(image, fill, width), baseline + 2 * min(width, 3) + 1
    if style == "thin" and not _is_thin(str(font.path)):  # a light face is thin already
        alpha = image.getchannel("A")
        image.putalpha(_thinned(alpha, _thinning(_stem_width(alpha), width)))
    return image, baseline


_SUPERSAMPLE = 4


def _stem_width(alpha: Image.Image) -> float:
    """A glyph's stroke width in px, from its coverage: twice the ink area over the number of
    edge pixels (a long stroke of width w has w pixels of area and two of edge per step)."""
    ink = np.pad(np.asarray(alpha) >= 128, 1)  # ink on the image's edge is edge too
    inner = ink.copy()
    inner[1:, :] &= ink[:-1, :]
    inner[:-1, :] &= ink[1:, :]
    inner[:, 1:] &= ink[:, :-1]
    inner[:, :-1] &= ink[:, 1:]
    edge = int(ink.sum() - inner.sum())
    return 2.0 * float(ink.sum()) / edge if edge else 0.0


def _thinning(stem: float, stroke: int) -> int:
    """Erosion steps at ``_SUPERSAMPLE`` times the resolution that leave a ``stem`` px wide
    stroke about ``stroke`` px wide (an eighth of a pixel off each side per step)."""
    return max(0, min(8 * _SUPERSAMPLE, round((stem - stroke) * _SUPERSAMPLE / 2)))


def _thinned(alpha: Image.Image, steps: int) -> Image.Image:
    """``alpha`` eroded ``steps`` times at four times the resolution, so that strokes of any
    size thin smoothly instead of breaking; erosion stops before the glyph would vanish."""
    if steps <= 0:
        return alpha
    width, height = alpha.size
    framed = ImageOps.expand(alpha, 1, 0)  # erode from outside too where ink meets the edge
    big = framed.resize(
        (framed.width * _SUPERSAMPLE, framed.height * _SUPERSAMPLE), Image.Resampling.BILINEAR
    )
    for _ in range(steps):
        thinner = big.filter(ImageFilter.MinFilter(3))
        if cast(int, thinner.getextrema()[1]) < 128:  # one band: (low, high)
            break
        big = thinner
    return big.resize(framed.size, Image.Resampling.BOX).crop((1, 1, width + 1, height + 1))


@lru_cache(maxsize=1024)
def _is_thin(path: str) -> bool:
    name = Path(path).name.lower()
    return "bold" not in name and any(key in name for key in _THIN_NAMES)


def _grow(
    mask: Image.Image, radius: int, rank: type[ImageFilter.MaxFilter | ImageFilter.MinFilter]
) -> Image.Image:
    """``mask`` dilated (``MaxFilter``) or eroded (``MinFilter``) by ``radius`` px, in 3x3
    steps (much faster than one large rank filter)."""
    for _ in range(radius):
        mask = mask.filter(rank(3))
    return mask


def _double_stroke(image: Image.Image, fill: RGB, width: int) -> Image.Image:
    """Two concentric outlines of a glyph: one on its edge, one ``width`` + 1 px outside."""
    width = min(width, 3)
    pad = 2 * width + 1
    alpha = ImageOps.expand(image.getchannel("A"), pad, fill=0)
    inner = ImageChops.subtract(alpha, _grow(alpha, width, ImageFilter.MinFilter))
    near = _grow(alpha, width + 1, ImageFilter.MaxFilter)
    far = _grow(near, pad - width - 1, ImageFilter.MaxFilter)
    rings = ImageChops.lighter(inner, ImageChops.subtract(far, near))
    out = Image.new("RGBA", alpha.size, (*fill, 0))
    out.putalpha(rings)
    return out


def _texture(strip: Image.Image, rng: random.Random) -> Image.Image:
    """Dotted, striped or grainy ink: the strip's alpha times a pattern."""
    alpha = np.asarray(strip.getchannel("A"), np.float32)  # (H, W)
    height, width = alpha.shape
    ys, xs = np.mgrid[0:height, 0:width]
    kind = rng.choice(("dots", "stripes", "grain"))
    if kind == "dots":
        step = rng.randint(3, 4)
        keep = ((xs % step) < step - 1) & ((ys % step) < step - 1)
        pattern = keep.astype(np.float32)
    elif kind == "stripes":
        step, slope = rng.randint(3, 5), rng.choice((0.0, 1.0, -1.0))
        pattern = (((ys + slope * xs).astype(np.int64) % step) < step - 1).astype(np.float32)
    else:
        grain = np.random.default_rng(rng.getrandbits(63))
        pattern = grain.uniform(0.65, 1.0, alpha.shape).astype(np.float32)
    out = strip.copy()
    out.putalpha(Image.fromarray(np.rint(alpha * pattern).astype(np.uint8)))
    return out


def _extrude(strip: Image.Image, rng: random.Random, side: RGB, depth: int) -> Image.Image:
    """A 3-D extrusion: the strip's silhouette stacked ``depth`` px behind it in ``side``."""
    dx, dy = rng.choice(((1, 1), (-1, 1), (1, -1), (-1, -1), (1, 0), (0, 1)))
    width, height = strip.size
    out = Image.new("RGBA", (width + depth, height + depth), (0, 0, 0, 0))
    silhouette = Image.new("RGBA", strip.size, (*side, 255))
    silhouette.putalpha(strip.getchannel("A"))
    origin = (depth if dx < 0 else 0, depth if dy < 0 else 0)
    for step in range(depth, 0, -1):
        out.alpha_composite(silhouette, (origin[0] + dx * step, origin[1] + dy * step))
    out.alpha_composite(strip, origin)
    return out


def _place(
    strip: Image.Image, size: tuple[int, int], region: tuple[int, int, int, int], rng: random.Random
) -> Image.Image:
    """A transparent layer of ``size`` with the strip shrunk into ``region`` at a random spot."""
    left, top, right, bottom = region
    inner = (right - left, bottom - top)
    margin = (max(1, round(0.03 * inner[0])), max(1, round(0.05 * inner[1])))
    placed = draw.fit_and_place(strip, inner, rng, margin)
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    layer.paste(placed, (left, top))
    return layer


def _shadow(image: Image.Image, layer: Image.Image, rng: random.Random, tone: RGB) -> Image.Image:
    offset = (rng.randint(-3, 3), rng.randint(1, 3))
    shade = Image.new("RGBA", layer.size, (*tone, 0))
    alpha = layer.getchannel("A").filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.0)))
    shade.putalpha(ImageChops.offset(alpha, *offset))
    return Image.alpha_composite(image.convert("RGBA"), shade).convert("RGB")


# --- clutter and finish ---


def _clutter(
    image: Image.Image,
    rng: random.Random,
    band: tuple[int, int, int, int],
    font_size: int,
    inks: tuple[RGB, tuple[int, int], RGB],
    busy: bool,
) -> None:
    """Lines crossing every glyph, dotted lines and speckle, each drawn in place at random
    (half as often on a busy ground)."""
    ink, luma, paper = inks
    often = 0.5 if busy else 1.0
    left, top, right, bottom = band
    pen = ImageDraw.Draw(image)
    if rng.random() < 0.3 * often:  # lines through the whole word, so through every glyph
        for _ in range(rng.randint(1, 3)):
            y0, y1 = rng.uniform(top, bottom), rng.uniform(top, bottom)
            x0, x1 = left - rng.randint(0, 20), right + rng.randint(0, 20)
            colour = (
                ink if rng.random() < 0.5 else with_contrast(luma_colour(rng, luma, 120), paper)
            )
            thickness = max(1, round(font_size * rng.uniform(0.03, 0.08)))
            pen.line(((x0, y0), (x1, y1)), fill=colour, width=thickness)
    elif rng.random() < 0.2 * often:
        strike(image, rng, band, ink)
    elif rng.random() < 0.45 * often:  # a line running on past the text, hooks and ticks
        line_tails(image, rng, band, ink)
    if rng.random() < 0.2 * often:
        width, height = image.size
        for _ in range(rng.randint(1, 3)):
            start = (rng.uniform(0, width / 4), rng.uniform(0, height))
            end = (rng.uniform(3 * width / 4, width), rng.uniform(0, height))
            colour = ink if rng.random() < 0.5 else luma_colour(rng, luma, 120)
            radius = max(1, round(font_size * 0.03))
            _dotted_line(pen, start, end, colour, radius, 2 * radius + rng.randint(1, 4))
    if rng.random() < 0.4 * often:
        noise(image, rng, exact(ink) if rng.random() < 0.5 else (luma, luma, luma))


def _finish(
    image: Image.Image, rng: random.Random, band: tuple[int, int, int, int], fragile: bool
) -> Image.Image:
    """Inversion, low resolution, palette quantisation, JPEG and mild blur, at random
    (no low resolution, palette or blur and only mild JPEG for ``fragile``, thin, text)."""
    if rng.random() < 0.08:
        image = ImageOps.invert(image)
    text_height = band[3] - band[1]
    if (
        rng.random() < 0.2 and text_height >= 20 and not fragile
    ):  # keep the text >= 12 px tall when small
        factor = rng.uniform(1.4, min(3.0, text_height / 12))
        small = (max(8, round(image.width / factor)), max(8, round(image.height / factor)))
        down = rng.choice((Image.Resampling.BOX, Image.Resampling.BILINEAR))
        up = rng.choice((Image.Resampling.NEAREST, Image.Resampling.BILINEAR))
        image = image.resize(small, down).resize(image.size, up)
    if rng.random() < 0.15 and not fragile:  # GIF-like palette
        dither = rng.choice((Image.Dither.NONE, Image.Dither.FLOYDSTEINBERG))
        image = image.quantize(colors=rng.choice((8, 16, 32, 64)), dither=dither)
        image = image.convert("RGB")
    if rng.random() < 0.1 and not fragile:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
    if rng.random() < 0.3:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=rng.randint(40 if fragile else 12, 75))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return image
