"""Pinned pixels: options added to the styled renderer must not change existing looks.

The digests were computed before the renderer gained its optional glyph styles, layouts,
backgrounds and post-processing; every new option defaults to off and draws no random
numbers when off, so the YAML schemes, the ``merged4`` preset and the ``mix`` scheme (whose
``styled`` family draws random :class:`Style` objects) render byte-identical images.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from captchalab.charset import Charset
from captchalab.schemes import get_scheme
from captchalab.schemes.base import Scheme
from captchalab.schemes.mix import MixScheme

SCHEMES = Path(__file__).resolve().parents[2] / "configs" / "schemes"

PINNED_YAML = {
    "heldout_blur": "6819f887b12c6680",
    "heldout_grid": "fb5b27103074138f",
    "heldout_speckle": "2df8778c5ce98869",
    "noisy_lines": "c1233f390498beb5",
    "styled_example": "72b04ba3658f4592",
    "trivial": "a79bfabd3bb9f090",
}


def digest(scheme: Scheme, seed: int, count: int) -> str:
    """Texts, sizes and raw RGB pixels of samples ``0..count-1`` at ``seed``."""
    hasher = hashlib.sha256()
    for index in range(count):
        image, text = scheme.sample_at(seed, index)
        hasher.update(text.encode())
        hasher.update(repr(image.size).encode())
        hasher.update(np.asarray(image).tobytes())
    return hasher.hexdigest()[:16]


@pytest.mark.parametrize("name", sorted(PINNED_YAML))
def test_yaml_schemes_render_as_pinned(name: str) -> None:
    assert digest(get_scheme(str(SCHEMES / f"{name}.yaml")), 7, 4) == PINNED_YAML[name]


def test_merged4_preset_renders_as_pinned() -> None:
    assert digest(get_scheme("merged4"), 7, 4) == "f395640e3703efcd"


def test_mix_renders_as_pinned() -> None:
    assert digest(get_scheme("mix"), 7, 8) == "809a252b2bf42242"


def test_mix_styled_family_renders_as_pinned() -> None:
    weights = (0.0, 0.0, 1.0)  # word, imagecaptcha, styled: random Style objects only
    scheme = MixScheme("mix", Charset.from_spec("@alnum"), 3, 8, 250, 100, family_weights=weights)
    assert digest(scheme, 7, 8) == "4522b58d55a78ea3"
