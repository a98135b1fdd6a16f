"""The scheme contract: a named captcha generator that turns text into an image, reproducibly."""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, fields, is_dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import ClassVar

from PIL import Image

from captchalab.charset import Charset

# Libraries whose drawing code decides the pixels a scheme renders.
_RENDERING_LIBRARIES = ("captcha", "pillow", "numpy")


@dataclass(frozen=True)
class Scheme(ABC):
    """A captcha generator.

    ``render`` must draw every random choice from ``rng`` so that a seed fixes the image.
    ``width`` x ``height`` is the image size, or the largest one for a ``variable_size``
    scheme (such as ``mix``), whose images preprocessing resizes to the model's input.
    """

    # Bump in a subclass whenever its drawing code changes what a seed renders: cached
    # renders are keyed by it (see ``fingerprint``).
    RENDERER_VERSION: ClassVar[int] = 1
    # Who wrote the drawing code. The shipped default model trains only on schemes whose
    # generators are all "captchalab"; others (e.g. the python ``captcha`` library) are for
    # evaluation (``scripts/release_default.py`` refuses a run trained on one).
    GENERATOR: ClassVar[str] = "captchalab"

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

    def generators(self) -> frozenset[str]:
        """The generators that draw this scheme's samples (``GENERATOR`` unless it mixes)."""
        return frozenset({self.GENERATOR})

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

    def fingerprint(self) -> str:
        """A hash of everything that decides what this scheme renders: its full definition
        (every field, so every value a YAML file sets), the renderer's class and
        ``RENDERER_VERSION``, the contents of its font files, captchalab's version and the
        versions of the drawing libraries. Caches of rendered images are keyed by it."""
        import captchalab

        kind = type(self)
        parts = [
            f"{kind.__module__}.{kind.__qualname__}/{kind.RENDERER_VERSION}",
            repr(self),
            f"captchalab {captchalab.__version__}",
            *(f"{name} {_library_version(name)}" for name in _RENDERING_LIBRARIES),
            *(f"{font} {_file_digest(font)}" for font in sorted(_font_files(self))),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def sample_at(self, seed: int, index: int) -> tuple[Image.Image, str]:
        """Sample ``index`` of the stream seeded by ``seed``, independent of all other indices."""
        return self.sample(random.Random(f"{self.name}:{seed}:{index}"))


def _font_files(item: object) -> set[str]:
    """Every path in a ``fonts`` field of ``item`` or of the dataclasses it holds."""
    found: set[str] = set()
    if not is_dataclass(item) or isinstance(item, type):
        return found
    for entry in fields(item):
        value = getattr(item, entry.name)
        if entry.name == "fonts" and isinstance(value, tuple | list):
            found.update(str(font) for font in value)
        else:
            found |= _font_files(value)
    return found


def _file_digest(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        return "missing"
    stat = file.stat()
    return _digest_of(str(file.resolve()), stat.st_mtime_ns, stat.st_size)


@cache
def _digest_of(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@cache
def _library_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"
