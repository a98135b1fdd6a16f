"""The ``mix`` scheme: many generators, fonts, sizes and styles, for a general default model.

Each sample draws (from its ``rng``) an image size between ``min_width`` x ``min_height`` and
``width`` x ``height`` (80x30 to 250x100 by default) and one of three families:

* ``word`` (50%): :func:`captchalab.schemes.mix_word.render_word`, words on a baseline over
  flat, gradient, textured or patterned backgrounds, with outlines, hollow text, warps,
  strike-through lines, noise and mild blur or JPEG artefacts;
* ``imagecaptcha`` (30%): the python ``captcha`` library's ``ImageCaptcha`` at that size,
  with its own font or shipped fonts;
* ``styled`` (20%): :class:`~captchalab.schemes.styled.StyledScheme` with a randomly drawn
  :class:`~captchalab.schemes.styled_config.Style`.

Images therefore vary in size (``variable_size`` is true); preprocessing resizes them. Every
family draws one font size per word, so lower case stays smaller than upper case and the
case of look-alike pairs (``o``/``O``, ``s``/``S``, ...) is visible; python ``captcha``'s
own glyph stretching, which hides it, is kept only for texts without such letters.
Deliberately absent, so that they stay unseen for benchmarks: grid backgrounds, strong blur,
per-character size changes and tilts beyond 30 degrees (``configs/schemes/heldout_*.yaml``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import captcha.image as captcha_image
from PIL import Image, ImageDraw, ImageFont

from captchalab.charset import DIGITS, LOWER, UPPER
from captchalab.schemes import styled_render as draw
from captchalab.schemes.base import Scheme
from captchalab.schemes.fonts import shipped_fonts
from captchalab.schemes.imagecaptcha import THIRD_PARTY, captcha_random
from captchalab.schemes.mix_crowded import render_crowded
from captchalab.schemes.mix_hard import render_hard
from captchalab.schemes.mix_word import render_word
from captchalab.schemes.styled import StyledScheme
from captchalab.schemes.styled_config import Colours, Style

# ``mix`` weighs only the first three (``FAMILY_WEIGHTS``): a missing trailing weight is 0 and
# is not drawn from, so adding a family here leaves ``mix``'s random draws unchanged.
FAMILIES = ("word", "imagecaptcha", "styled", "hard", "crowded")
FAMILY_WEIGHTS = (0.5, 0.3, 0.2)
SINGLE_CLASS_TEXT = 0.1  # share of texts drawn from digits, upper or lower case only

# Lower-case letters that python ``captcha`` makes indistinguishable from upper case, as it
# stretches every glyph to the full line height.
_STRETCH_AMBIGUOUS = set("ckopsuvwxyz")
_CAPTCHA_DEFAULT_FONT = captcha_image.DEFAULT_FONTS[0]


@dataclass(frozen=True)
class MixScheme(Scheme):
    """``width`` x ``height`` is the largest image; each sample picks its own size.

    ``family_weights`` are the chances of the first families in :data:`FAMILIES` (the
    missing trailing ones get none); ``fonts`` the font files that the ``word``, ``styled``
    and ``hard`` families (and often ``imagecaptcha``) use.
    """

    min_width: int = 80
    min_height: int = 30
    family_weights: tuple[float, ...] = FAMILY_WEIGHTS
    fonts: tuple[str, ...] = field(default_factory=shipped_fonts)

    def generators(self) -> frozenset[str]:
        """captchalab's own, plus python ``captcha`` while ``imagecaptcha`` has a weight."""
        index = FAMILIES.index("imagecaptcha")
        drawn = len(self.family_weights) > index and self.family_weights[index] > 0
        return frozenset({self.GENERATOR, THIRD_PARTY} if drawn else {self.GENERATOR})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 8 <= self.min_width <= self.width or not 8 <= self.min_height <= self.height:
            raise ValueError(f"scheme {self.name!r}: bad minimum size")
        weights = self.family_weights
        if not 1 <= len(weights) <= len(FAMILIES) or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(
                f"scheme {self.name!r}: need up to one weight (>= 0) per family in {FAMILIES}"
            )

    @property
    def variable_size(self) -> bool:
        return True

    def sample_text(self, rng: random.Random) -> str:
        length = rng.randint(self.min_length, self.max_length)
        symbols = self.charset.symbols
        if rng.random() < SINGLE_CLASS_TEXT:
            groups = ["".join(c for c in group if c in symbols) for group in (DIGITS, UPPER, LOWER)]
            symbols = rng.choice([group for group in groups if group] or [symbols])
        return "".join(rng.choice(symbols) for _ in range(length))

    def pick_size(self, length: int, rng: random.Random) -> tuple[int, int]:
        """A (width, height) in range whose width suits ``length`` characters."""
        # Heights cluster around 45 px, as on most sites; width grows with the text.
        height = round(rng.triangular(self.min_height, self.height, 45))
        width = round(height * (length * rng.uniform(0.35, 0.75) + rng.uniform(0.1, 0.5)))
        return (min(self.width, max(self.min_width, width)), height)

    def render(self, text: str, rng: random.Random) -> Image.Image:
        """``text`` as an RGB image of a random size no larger than ``self.size``."""
        size = self.pick_size(len(text), rng)
        family = rng.choices(FAMILIES[: len(self.family_weights)], self.family_weights)[0]
        if family == "hard":
            return render_hard(text, size, self.fonts, rng)
        if family == "crowded":
            return render_crowded(text, size, self.fonts, rng)
        if family == "word":
            return render_word(text, size, rng, self.fonts)
        if family == "imagecaptcha":
            return self._imagecaptcha(text, size, rng)
        return StyledScheme(
            self.name, self.charset, len(text), len(text), *size, style=self._style(text, size, rng)
        ).render(text, rng)

    def _imagecaptcha(self, text: str, size: tuple[int, int], rng: random.Random) -> Image.Image:
        width, height = size
        fonts = [_CAPTCHA_DEFAULT_FONT]
        if rng.random() < 0.6:
            fonts = rng.sample(self.fonts, rng.randint(1, 3))
        # Its glyphs with random spaces take about 0.65 font sizes each; allow a little squeeze.
        room = width * rng.uniform(1.0, 1.5) / (0.65 * len(text))
        font_size = max(10, round(min(height * rng.uniform(0.7, 0.95), room)))
        faithful = not _STRETCH_AMBIGUOUS & set(text) and rng.random() < 0.5
        generator = _ImageCaptcha(
            width, height, [draw.load_font(path, font_size) for path in fonts], faithful
        )
        background: captcha_image.ColorTuple | None = None  # None: the library's choice
        colour: captcha_image.ColorTuple | None = None
        if rng.random() < 0.15:  # light on dark
            background = draw.sample_colour(rng, ((0, 60),) * 3)
            colour = (*draw.sample_colour(rng, ((170, 255),) * 3), 255)
        with captcha_random(rng):
            image = generator.generate_image(text, bg_color=background, fg_color=colour)
        return image.convert("RGB")

    def _style(self, text: str, size: tuple[int, int], rng: random.Random) -> Style:
        width, height = size
        spacing = rng.uniform(-0.2, 0.25)
        warp = rng.uniform(0.0, 0.12) if rng.random() < 0.25 else 0.0  # slow: numpy warp
        font_size = round(height * rng.uniform(0.5, 0.8) * (1.0 - 1.5 * warp))
        font_size = max(10, min(font_size, round(width * 0.9 / (0.6 * len(text) * (1 + spacing)))))
        dark = rng.random() < 0.15
        light, deep = ((200, 255),) * 3, ((0, 110),) * 3
        outline = rng.randint(1, 2) if rng.random() < 0.15 else 0
        return Style(
            fonts=tuple(rng.sample(self.fonts, rng.randint(1, 3))),
            font_size=(font_size, font_size),
            rotation=rng.uniform(0.0, 30.0),
            warp=warp,
            spacing=(spacing - 0.1, spacing + 0.05),
            outline=outline,
            gradient=rng.random() < 0.3,
            colour_per=rng.choice(("char", "word")),
            noise_dots=(0, rng.choice((0, 50, 150))),
            dot_size=(1, max(1, height // 25)),
            noise_lines=(0, rng.choice((0, 3, 6))),
            noise_arcs=(0, rng.choice((0, 1, 3))),
            line_width=(1, max(1, height // 30)),
            colours=Colours(
                background=deep if dark else light,
                text=light if dark else deep,
                outline=((130, 220),) * 3 if not dark else ((0, 60),) * 3,
            ),
        )


class _ImageCaptcha(captcha_image.ImageCaptcha):
    """``ImageCaptcha`` with preloaded fonts and, unless ``faithful``, glyphs kept to scale.

    The library crops each glyph to its ink and stretches it to the full line height, which
    makes ``o`` and ``O`` (and ``s``/``S``, ``x``/``X`` ...) the same picture. Unless
    ``faithful``, we crop only left and right, so a glyph keeps its place between ascender
    and baseline and lower case stays small; every other step is the library's own.
    """

    def __init__(
        self, width: int, height: int, fonts: list[ImageFont.FreeTypeFont], faithful: bool
    ) -> None:
        super().__init__(width, height)
        self._truefonts = fonts
        self._faithful = faithful

    def _draw_character(
        self, c: str, draw: ImageDraw.ImageDraw, color: captcha_image.ColorTuple
    ) -> Image.Image:
        if self._faithful:
            return super()._draw_character(c, draw, color)
        rng = captcha_image.random
        font = rng.choice(self.truefonts)
        _, _, right, bottom = draw.multiline_textbbox((1, 1), c, font=font)
        w, h = int(right), int(bottom)
        dx1 = rng.randint(*self.character_offset_dx)
        dy1 = rng.randint(*self.character_offset_dy)
        im = Image.new("RGBA", (w + dx1, h + dy1))
        ImageDraw.Draw(im).text((dx1, dy1), c, font=font, fill=color)
        ink = im.getbbox()
        if ink is not None:
            im = im.crop((ink[0], 0, ink[2], im.height))
        im = im.rotate(rng.uniform(*self.character_rotate), Image.Resampling.BILINEAR, expand=True)
        dx2 = w * rng.uniform(*self.character_warp_dx)
        dy2 = h * rng.uniform(*self.character_warp_dy)
        x1, y1 = int(rng.uniform(-dx2, dx2)), int(rng.uniform(-dy2, dy2))
        x2, y2 = int(rng.uniform(-dx2, dx2)), int(rng.uniform(-dy2, dy2))
        w2, h2 = w + abs(x1) + abs(x2), h + abs(y1) + abs(y2)
        quad = (x1, y1, -x1, h2 - y2, w2 + x2, h2 + y2, w2 - x2, -y1)
        im = im.resize((w2, h2))
        return im.transform((w, h), Image.Transform.QUAD, quad)
