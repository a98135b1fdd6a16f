"""Word captchas: lowercase English words drawn by the python ``captcha`` library.

``data/words.txt`` holds 5000 lowercase ASCII words of 3-8 letters taken from the
``wamerican`` dictionary (``/usr/share/dict/words``, 2020.12.07): words with a vowel and
without an inflected form's suffix (-s, -es, -ed, -ing, -ly after a listed stem), the first
5000 in sha256 order of the word, stored sorted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from captchalab.schemes.imagecaptcha import ImageCaptchaScheme


@lru_cache(maxsize=1)
def load_words() -> tuple[str, ...]:
    """The packaged word list, in file order."""
    text = resources.files("captchalab.schemes").joinpath("data/words.txt").read_text("ascii")
    return tuple(text.split())


@lru_cache(maxsize=16)
def _words_between(min_length: int, max_length: int) -> tuple[str, ...]:
    return tuple(word for word in load_words() if min_length <= len(word) <= max_length)


@dataclass(frozen=True)
class WordsScheme(ImageCaptchaScheme):
    """An :class:`ImageCaptchaScheme` whose texts are words from :func:`load_words`."""

    def sample_text(self, rng: random.Random) -> str:
        words = _words_between(self.min_length, self.max_length)
        if not words:
            lengths = f"{self.min_length}-{self.max_length}"
            raise ValueError(f"scheme {self.name!r}: no words of length {lengths}")
        return rng.choice(words)
