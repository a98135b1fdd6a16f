"""The scheme contract: a named captcha generator that turns text into an image, reproducibly."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass

from PIL import Image

from captchalab.charset import Charset


@dataclass(frozen=True)
class Scheme(ABC):
    """A captcha generator.

    ``render`` must draw every random choice from ``rng`` so that a seed fixes the image.
    ``width`` x ``height`` is the image size, or the largest one for a ``variable_size``
    scheme (such as ``mix``), whose images preprocessing resizes to the model's input.
    """

    name: str
    charset: Charset
    min_length: int
    max_length: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError(
                f"scheme {self.name!r}: bad length range {self.min_length}-{self.max_length}"
            )
        if self.width < 8 or self.height < 8:
            raise ValueError(
                f"scheme {self.name!r}: image size {self.width}x{self.height} too small"
            )

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of rendered images."""
        return (self.width, self.height)

    @property
    def variable_size(self) -> bool:
        """True when ``render`` returns images of varying size, each at most ``self.size``."""
        return False

    @property
    def fixed_length(self) -> bool:
        return self.min_length == self.max_length

    def sample_text(self, rng: random.Random) -> str:
        length = rng.randint(self.min_length, self.max_length)
        return "".join(rng.choice(self.charset.symbols) for _ in range(length))

    @abstractmethod
    def render(self, text: str, rng: random.Random) -> Image.Image:
        """Draw ``text`` as an RGB image of ``self.size`` (at most that if ``variable_size``)."""

    def sample(self, rng: random.Random) -> tuple[Image.Image, str]:
        text = self.sample_text(rng)
        return self.render(text, rng), text

    def sample_at(self, seed: int, index: int) -> tuple[Image.Image, str]:
        """Sample ``index`` of the stream seeded by ``seed``, independent of all other indices."""
        return self.sample(random.Random(f"{self.name}:{seed}:{index}"))
