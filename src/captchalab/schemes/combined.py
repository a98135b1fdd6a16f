"""Composite schemes: one training stream drawn from several registered schemes.

A defender's substitute model should read the protected scheme *and* other schemes, as an
attacker's solver usually does (advCAPTCHA, section 3.2). ``CombinedScheme`` draws each sample
from one of its parts (chosen by weight from the sample's own ``rng``), so it plugs into the
trainer, the cache and ``generate`` like any other scheme.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image

from captchalab.charset import Charset
from captchalab.schemes.base import Scheme
from captchalab.schemes.registry import get_scheme, register_scheme


@dataclass(frozen=True)
class CombinedScheme(Scheme):
    """Samples from ``parts`` with probabilities ``weights``; symbols are their union."""

    parts: tuple[Scheme, ...] = ()
    weights: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.parts) < 2 or len(self.weights) != len(self.parts):
            raise ValueError(f"scheme {self.name!r}: need two or more parts, one weight each")
        if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError(f"scheme {self.name!r}: weights must be >= 0 with a positive sum")

    @property
    def variable_size(self) -> bool:
        return True

    def generators(self) -> frozenset[str]:
        """Every generator of the parts that have a weight."""
        drawn = [part for part, weight in zip(self.parts, self.weights, strict=True) if weight > 0]
        return frozenset().union(*(part.generators() for part in drawn))

    def sample(self, rng: random.Random) -> tuple[Image.Image, str]:
        part = rng.choices(self.parts, weights=self.weights)[0]
        return part.sample(rng)

    def render(self, text: str, rng: random.Random) -> Image.Image:
        """Draw ``text`` with the first part whose symbols and lengths can hold it."""
        for part in self.parts:
            fits = part.min_length <= len(text) <= part.max_length
            if fits and all(c in part.charset.symbols for c in text):
                return part.render(text, rng)
        raise ValueError(f"scheme {self.name!r}: no part can draw {text!r}")


def combine(name: str, parts: list[str], weights: list[float]) -> CombinedScheme:
    """A ``CombinedScheme`` of registered schemes (or scheme files)."""
    schemes = tuple(get_scheme(p) for p in parts)
    symbols: list[str] = []
    for scheme in schemes:
        symbols += [c for c in scheme.charset.symbols if c not in symbols]
    case_sensitive = any(s.charset.case_sensitive for s in schemes)
    return CombinedScheme(
        name,
        Charset("".join(symbols), case_sensitive),
        min(s.min_length for s in schemes),
        max(s.max_length for s in schemes),
        max(s.width for s in schemes),
        max(s.height for s in schemes),
        parts=schemes,
        weights=tuple(weights),
    )


@register_scheme("merged4+mix")
def merged4_mix() -> Scheme:
    """Half ``merged4`` (the protected scheme), half ``mix``: a substitute's training stream."""
    return combine("merged4+mix", ["merged4", "mix"], [0.5, 0.5])
