"""Schemes drawn by the python ``captcha`` library (``ImageCaptcha``), made reproducible.

``captcha`` 0.7.0 draws every random choice from the module-level ``random`` of
``captcha.image``; :func:`captcha_random` swaps in the caller's seeded ``random.Random`` for
the duration of one render (under a lock, so threads cannot interleave), which makes each
image a pure function of its seed.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import captcha.image as captcha_image
from PIL import Image

from captchalab.schemes.base import Scheme

_RANDOM_SWAP_LOCK = threading.Lock()
THIRD_PARTY = "python captcha"  # the generator's name in Scheme.generators()


@contextmanager
def captcha_random(rng: random.Random) -> Iterator[None]:
    """While inside, ``captcha.image`` draws its random choices from ``rng`` (one thread at a
    time); its own ``random`` is back afterwards, even when drawing fails."""
    with _RANDOM_SWAP_LOCK:
        saved = captcha_image.random
        captcha_image.random = rng  # type: ignore[assignment]
        try:
            yield
        finally:
            captcha_image.random = saved


@dataclass(frozen=True)
class ImageCaptchaScheme(Scheme):
    """``captcha.image.ImageCaptcha`` at a given size and font sizes (library default font)."""

    GENERATOR: ClassVar[str] = THIRD_PARTY

    font_sizes: tuple[int, ...] = (42, 50, 56)
    fonts: tuple[str, ...] = field(default=())

    @cached_property
    def _generator(self) -> captcha_image.ImageCaptcha:
        return captcha_image.ImageCaptcha(
            width=self.width,
            height=self.height,
            fonts=list(self.fonts) or None,
            font_sizes=self.font_sizes,
        )

    def render(self, text: str, rng: random.Random) -> Image.Image:
        generator = self._generator
        with captcha_random(rng):
            image = generator.generate_image(text)
        return image.convert("RGB")
