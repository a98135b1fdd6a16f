"""Our own seeded captcha renderer (Pillow + numpy), configured by a :class:`Style` or YAML.

Characters are drawn one by one (random font, size, colour, tilt), laid out with vertical
jitter and overlap, sine-warped, composited over a plain or gradient background (optionally
ruled with a grid), then covered with noise dots, lines and arcs, and optionally blurred.
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

from captchalab.schemes import styled_render as draw
from captchalab.schemes.base import Scheme
from captchalab.schemes.styled_config import Colours, Style, read_scheme_file

__all__ = ["Colours", "Style", "StyledScheme", "load_scheme_file"]


@dataclass(frozen=True)
class StyledScheme(Scheme):
    """A scheme drawn by our own renderer in the given :class:`Style`."""

    style: Style = field(default_factory=Style)

    def render(self, text: str, rng: random.Random) -> Image.Image:
        """``text`` as an RGB image of ``self.size`` (width, height)."""
        style, colours = self.style, self.style.colours
        image = draw.background(self.size, rng, colours.background, style.gradient)
        if style.grid != (0, 0):
            draw.draw_grid(image, rng, style.grid, colours.grid)
        word_colour = draw.sample_colour(rng, colours.text)
        glyphs = []
        for char in text:
            font = draw.load_font(rng.choice(style.fonts), rng.randint(*style.font_size))
            fill = word_colour
            if style.colour_per == "char":
                fill = draw.sample_colour(rng, colours.text)
            tilt = rng.uniform(-style.rotation, style.rotation)
            outline_fill = draw.sample_colour(rng, colours.outline)
            glyphs.append(draw.draw_glyph(char, font, fill, tilt, style.outline, outline_fill))
        gaps = [rng.uniform(*style.spacing) for _ in glyphs[1:]]
        strip = draw.lay_out(glyphs, gaps, rng)
        amplitude = style.warp * self.height
        # Leave room at the edges, and above and below for the warp to move text into.
        margin_x = max(1, round(0.04 * self.width))
        margin_y = max(1, round(0.06 * self.height)) + math.ceil(amplitude)
        layer = draw.fit_and_place(strip, self.size, rng, (margin_x, margin_y))
        if amplitude > 0:
            period = rng.uniform(*style.warp_period) * self.width
            layer = draw.sine_warp(layer, amplitude, period, rng.uniform(0.0, 2.0 * math.pi))
        image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
        draw.draw_noise(
            image,
            rng,
            colours.noise or colours.text,
            dots=(rng.randint(*style.noise_dots), style.dot_size),
            lines=(rng.randint(*style.noise_lines), style.line_width),
            arcs=rng.randint(*style.noise_arcs),
        )
        if style.blur > 0:
            image = image.filter(ImageFilter.GaussianBlur(style.blur))
        return image


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
        )
    except ValueError as error:  # length range or size rejected by Scheme
        raise ValueError(f"scheme file {path}: {error}") from error
