"""Scheme variants change one factor; image factors measure what they claim to."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from PIL import Image, ImageDraw

from captchalab.audit.image_factors import measure, relate
from captchalab.audit.variants import FACTORS, Variant, vary
from captchalab.data.ink import otsu_threshold
from captchalab.schemes import get_scheme
from captchalab.schemes.styled import StyledScheme

from .conftest import HARD


def test_each_styled_factor_changes_only_its_own_fields() -> None:
    scheme = get_scheme(str(HARD))
    assert isinstance(scheme, StyledScheme)
    for name in FACTORS:
        variant = vary(name, scheme)
        assert isinstance(variant, Variant), name
        changed = {
            f.name
            for f in fields(scheme.style)
            if getattr(scheme.style, f.name) != getattr(variant.scheme.style, f.name)
        }
        other = {"charset", "min_length", "max_length"}
        top = {k for k in other if getattr(scheme, k) != getattr(variant.scheme, k)}
        assert changed or top, f"{name} changed nothing"
        assert len(top) == 0 or not changed, f"{name} changed several things"
        variant.scheme.sample_at(0, 0)  # renders


def test_python_captcha_factors_it_cannot_vary_say_so() -> None:
    hku = get_scheme("hku")
    reasons = {name: vary(name, hku) for name in FACTORS}
    assert isinstance(reasons["charset"], Variant) and isinstance(reasons["font"], Variant)
    assert isinstance(reasons["rotation"], str) and "not variable" in reasons["rotation"]


def _image(text_colour: int, gap: int) -> Image.Image:
    image = Image.new("RGB", (120, 40), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for i in range(4):
        x = 10 + i * (12 + gap)
        draw.rectangle((x, 8, x + 12, 32), fill=(text_colour,) * 3)
    return image


def test_measure_contrast_ink_overlap() -> None:
    strong, faint = measure(_image(0, 10), "abcd"), measure(_image(180, 10), "abcd")
    assert strong["contrast"] > 0.9 > 0.4 > faint["contrast"]
    assert strong["overlap"] == 0.0
    assert measure(_image(0, -2), "abcd")["overlap"] == 0.75  # one blob for four symbols
    assert 0.05 < strong["ink"] < 0.5
    gray = np.array([[0] * 10 + [255] * 10], dtype=np.uint8)
    assert 0 <= otsu_threshold(gray) < 255


def test_relate_finds_the_factor_behind_errors() -> None:
    measures = [{"contrast": c, "ink": 0.2, "overlap": 0.0, "length": 4.0} for c in range(10)]
    wrong = [c < 3 for c in range(10)]
    relations = {r.name: r for r in relate(measures, wrong)}
    contrast = relations["contrast"]
    assert contrast.correlation is not None and contrast.correlation < -0.7
    assert contrast.bins[0]["error_rate"] == 1.0 and contrast.bins[-1]["error_rate"] == 0.0
    assert relations["ink"].correlation is None  # constant: no relation claimed
