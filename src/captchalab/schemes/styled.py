"""Our own seeded captcha renderer (Pillow + numpy), configured by a :class:`Style` or YAML.

Characters are drawn one by one (random font, size, colour, tilt; filled, or hollow, double,
thin or extruded), laid out with vertical jitter or on a sine baseline, with overlap,
sine-warped, composited over a plain or gradient background (optionally with blobs and a
grid), then crossed by lines, covered with noise dots, lines and arcs, framed by letterbox
bars, optionally blurred, and finally inverted, reduced in resolution, palette-quantised or
JPEG-compressed as configured (:mod:`captchalab.schemes.styled_effects`).
For given font files and Pillow version an image is a pure function of the ``rng`` passed
to :meth:`StyledScheme.render`. The YAML format is described
in :mod:`captchalab.schemes.styled_config`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageFilter

from captchalab.schemes import styled_effects as effects
from captchalab.schemes import styled_glyphs as glyph_styles
from captchalab.schemes import styled_render as draw
from captchalab.schemes.base import Scheme
from captchalab.schemes.styled_config import Colours, Style, read_scheme_file

__all__ = ["Colours", "Style", "StyledScheme", "load_scheme_file"]


@dataclass(frozen=True)
class StyledScheme(Scheme):
    """A scheme drawn by our own renderer in the given :class:`Style`."""

    style: Style = field(default_factory=Style)

    min_width: int | None = None
    min_height: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        low_w, low_h = self.min_width or self.width, self.min_height or self.height
        if not 8 <= low_w <= self.width or not 8 <= low_h <= self.height:
            raise ValueError(f"scheme {self.name!r}: bad minimum size {low_w}x{low_h}")

    @property
    def variable_size(self) -> bool:
        return self.min_width is not None or self.min_height is not None

    def _canvas(self, rng: random.Random) -> tuple[int, int]:
        """This image's (width, height); draws from ``rng`` only for a size range."""
        width, height = self.size
        if self.min_width is not None:
            width = rng.randint(self.min_width, self.width)
        if self.min_height is not None:
            height = rng.randint(self.min_height, self.height)
        return width, height

    def render(self, text: str, rng: random.Random) -> Image.Image:
        """``text`` as an RGB image of ``self.size`` (width, height), or of a size drawn
        between the minimum and ``self.size`` for a size range."""
        style, colours = self.style, self.style.colours
        size = self._canvas(rng)
        width, height = size
        image = draw.background(size, rng, colours.background, style.gradient)
        if style.blobs != (0, 0):
            effects.draw_blobs(
                image, rng, rng.randint(*style.blobs), style.blob_radius, colours.blobs
            )
        if style.grid != (0, 0):
            draw.draw_grid(image, rng, style.grid, colours.grid)
        bar = 0
        if style.letterbox != (0.0, 0.0):
            bar = round(rng.uniform(*style.letterbox) * height)
        word_colour = draw.sample_colour(rng, colours.text)
        glyphs = [self._glyph(char, word_colour, rng) for char in text]
        gaps = [rng.uniform(*style.spacing) for _ in glyphs[1:]]
        if style.baseline_wave > 0:
            tallest = max(glyph.height for glyph in glyphs)
            mean_width = sum(glyph.width for glyph in glyphs) / len(glyphs)
            period = rng.uniform(*style.baseline_period) * mean_width
            phase = rng.uniform(0.0, 2.0 * math.pi)
            amplitude = style.baseline_wave * tallest
            strip = effects.lay_out_wave(glyphs, gaps, amplitude, period, phase)
        else:
            strip = draw.lay_out(glyphs, gaps, rng)
        amplitude = style.warp * height
        # Leave room at the edges, and above and below for the warp to move text into.
        margin_x = max(1, round(0.04 * width))
        margin_y = max(1, round(0.06 * height)) + math.ceil(amplitude) + bar
        if style.placement == "centre":
            margins = (margin_x, margin_y)
            layer = effects.place_centre(strip, size, rng, margins, style.placement_jitter)
        else:
            layer = draw.fit_and_place(strip, size, rng, (margin_x, margin_y))
        if amplitude > 0:
            period = rng.uniform(*style.warp_period) * width
            layer = draw.sine_warp(layer, amplitude, period, rng.uniform(0.0, 2.0 * math.pi))
        image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
        text_box = layer.getchannel("A").getbbox()
        if style.text_lines != (0, 0) and text_box is not None:
            effects.draw_text_lines(
                image,
                rng,
                text_box,
                rng.randint(*style.text_lines),
                style.text_line_width,
                style.text_line_dotted,
                colours.lines or colours.text,
            )
        draw.draw_noise(
            image,
            rng,
            colours.noise or colours.text,
            dots=(rng.randint(*style.noise_dots), style.dot_size),
            lines=(rng.randint(*style.noise_lines), style.line_width),
            arcs=rng.randint(*style.noise_arcs),
        )
        if bar > 0:
            effects.draw_letterbox(image, bar, draw.sample_colour(rng, colours.letterbox))
        if style.blur > 0:
            image = image.filter(ImageFilter.GaussianBlur(style.blur))
        return self._finish(image, rng)

    def _glyph(self, char: str, word_colour: draw.RGB, rng: random.Random) -> Image.Image:
        style, colours = self.style, self.style.colours
        font = draw.load_font(rng.choice(style.fonts), rng.randint(*style.font_size))
        fill = word_colour
        if style.colour_per == "char":
            fill = draw.sample_colour(rng, colours.text)
        if style.colour_jitter > 0:
            fill = _jitter(fill, style.colour_jitter, rng)
        tilt = rng.uniform(-style.rotation, style.rotation)
        outline_fill = draw.sample_colour(rng, colours.outline)
        if style.glyph_style == "fill":
            return draw.draw_glyph(char, font, fill, tilt, style.outline, outline_fill)
        stroke = rng.randint(*style.stroke_width)
        extrude = (0, 0.0)
        if style.glyph_style == "extrude":
            extrude = (rng.randint(*style.extrude_depth), rng.uniform(*style.extrude_angle))
        return glyph_styles.styled_glyph(
            char, font, fill, tilt, style.glyph_style, stroke, outline_fill, extrude
        )

    def _finish(self, image: Image.Image, rng: random.Random) -> Image.Image:
        """Post-processing: inversion, low resolution, palette, JPEG (each off by default)."""
        style = self.style
        if style.invert:
            image = effects.invert(image)
        if style.downscale != (1.0, 1.0):
            image = effects.downscale(image, rng.uniform(*style.downscale))
        if style.gif_colours != (0, 0):
            image = effects.gif_palette(image, rng.randint(*style.gif_colours))
        if style.jpeg_quality != (0, 0):
            image = effects.jpeg(image, rng.randint(*style.jpeg_quality))
        return image


def _jitter(colour: draw.RGB, amount: int, rng: random.Random) -> draw.RGB:
    red, green, blue = (min(255, max(0, c + rng.randint(-amount, amount))) for c in colour)
    return (red, green, blue)


def load_scheme_file(path: Path) -> StyledScheme:
    """A :class:`StyledScheme` from a YAML scheme file.

    Raises ``ValueError`` naming the file and the offending key (unknown keys, wrong types,
    bad values) and ``FileNotFoundError`` when ``path`` does not exist.
    """
    config = read_scheme_file(path)
    try:
        return StyledScheme(
            name=config.name,
            charset=config.charset,
            min_length=config.min_length,
            max_length=config.max_length,
            width=config.width,
            height=config.height,
            style=config.style,
            min_width=config.min_width,
            min_height=config.min_height,
        )
    except ValueError as error:  # length range or size rejected by Scheme
        raise ValueError(f"scheme file {path}: {error}") from error
