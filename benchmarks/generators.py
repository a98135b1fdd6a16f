"""Captcha generators from PyPI, other than ``captcha``, wrapped as ``(text, rng) -> PIL image``.

They give the peer benchmark styles that captchalab's own schemes do not imitate. Each
package draws from Python's global ``random`` module, so every call runs with that module
seeded from ``rng`` (and its state restored afterwards): a seed fixes the image.

A package that is not installed is skipped by ``available_generators`` with a note; install
them with ``pip install -r benchmarks/requirements.txt``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFont

Render = Callable[[str, random.Random], Image.Image]

DIGITS_UPPER = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class GeneratorSpec:
    """A PyPI generator: the package it needs, the texts it draws and how to build it."""

    name: str
    package: str  # the pip name, for the "not installed" note
    symbols: str
    length: int
    build: Callable[[], Render]  # imports the package; raises ImportError if it is missing


@contextmanager
def seeded_global_random(rng: random.Random) -> Iterator[None]:
    """Seed the ``random`` module from ``rng`` for the duration, then restore its state."""
    saved = random.getstate()
    random.seed(rng.getrandbits(64))
    try:
        yield
    finally:
        random.setstate(saved)


def captcha_font() -> str:
    """The TrueType font shipped with ``captcha`` (a captchalab dependency): always present."""
    import captcha

    return str(Path(captcha.__file__).parent / "data" / "DroidSansMono.ttf")


def build_claptcha() -> Render:
    """``claptcha`` 0.3.3 at its defaults (200x80, one strike-through line, warped letters)."""
    from claptcha import Claptcha

    class _SizedFont(ImageFont.FreeTypeFont):
        # claptcha calls ``font.getsize``, which Pillow 10 removed
        def getsize(self, text: str) -> tuple[int, int]:
            _, _, right, bottom = self.getbbox(text)
            return int(right), int(bottom)

    class _Claptcha(Claptcha):
        @property
        def font(self) -> ImageFont.FreeTypeFont:
            return self._font

        @font.setter
        def font(self, path: str) -> None:
            self._font = _SizedFont(path, self.h - 2 * self.margin_y)

    def render(text: str, rng: random.Random) -> Image.Image:
        with seeded_global_random(rng):
            return _Claptcha(text, captcha_font()).image[1].convert("RGB")

    return render


def build_multicolorcaptcha() -> Render:
    """``multicolorcaptcha`` 1.2 at size 0 (256x144) and difficulty 2, for a given text.

    Its ``gen_captcha_image`` draws its own 4 characters; this composes the same public
    per-character call, join and clutter so that the text comes from the benchmark.
    """
    from multicolorcaptcha import CaptchaGenerator

    generator = CaptchaGenerator(0)
    lines, circles = 1, 10  # DIFFICULT_LEVELS_VALUES[2]: horizontal lines, circles

    def render(text: str, rng: random.Random) -> Image.Image:
        with seeded_global_random(rng):
            cell = round(generator.captcha_size[0] / len(text))
            background = generator.gen_rand_color()
            chars = [
                generator.gen_captcha_char_image(c, (cell, cell), 2, background)["image"]
                for c in text
            ]
            image = generator.images_join_horizontal(chars)
            for _ in range(lines):
                generator.add_rand_horizontal_line_to_image(image, random.randint(1, 5))
            for _ in range(circles):
                generator.add_rand_circle_to_image(image, int(0.05 * cell), int(0.15 * cell))
            canvas = Image.new("RGB", generator.captcha_size, (0, 0, 0))  # its default margin
            canvas.paste(image, (0, (canvas.height - image.height) // 2))
            return canvas

    return render


def build_wheezy() -> Render:
    """``wheezy.captcha`` as in its README: warped, rotated, offset letters, a curve, noise."""
    from wheezy.captcha import image as wheezy

    draw = wheezy.captcha(
        drawings=[
            wheezy.background(),
            wheezy.text(
                fonts=[captcha_font()],
                drawings=[wheezy.warp(), wheezy.rotate(), wheezy.offset()],
            ),
            wheezy.curve(),
            wheezy.noise(),
            wheezy.smooth(),
        ]
    )

    def render(text: str, rng: random.Random) -> Image.Image:
        with seeded_global_random(rng):
            return draw(text).convert("RGB")

    return render


GENERATORS = (
    GeneratorSpec("claptcha", "claptcha", DIGITS_UPPER, 5, build_claptcha),
    GeneratorSpec(
        "multicolorcaptcha", "multicolorcaptcha", DIGITS_UPPER, 4, build_multicolorcaptcha
    ),
    GeneratorSpec("wheezy", "wheezy.captcha", DIGITS_UPPER, 4, build_wheezy),
)


def available_generators(
    note: Callable[[str], None] = print,
) -> list[tuple[GeneratorSpec, Render]]:
    """The generators whose package imports; each missing one gets a note."""
    ready = []
    for spec in GENERATORS:
        try:
            ready.append((spec, spec.build()))
        except ImportError as exc:
            note(f"skipping generator {spec.name}: {exc} (pip install {spec.package})")
    return ready


def sample(spec: GeneratorSpec, render: Render, seed: int, index: int) -> tuple[Image.Image, str]:
    """Sample ``index`` of the stream seeded by ``seed`` (text, then image, from one rng)."""
    rng = random.Random(f"{spec.name}:{seed}:{index}")
    text = "".join(rng.choice(spec.symbols) for _ in range(spec.length))
    return render(text, rng), text
