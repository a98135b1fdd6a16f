"""The binarisation-survival count: light background changes vanish, L0 pixels stay."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from captchalab.adversarial.survival import survival


def _captcha() -> np.ndarray:
    values = np.full((40, 120), 230, dtype=np.uint8)  # light background
    values[10:30, 20:40] = 10  # a dark glyph
    values[10:30, 60:80] = 10
    return values


def test_background_linf_change_does_not_survive() -> None:
    ordinary = _captcha()
    hardened = ordinary.copy()
    background = ordinary > 128
    hardened[background] -= 76  # eps 0.3 darker: still far on the light side
    result = survival(Image.fromarray(ordinary), Image.fromarray(hardened))
    assert result.changed == int(background.sum())
    assert result.surviving == 0
    assert result.share == 0.0


def test_l0_pixels_and_crossing_changes_survive() -> None:
    ordinary = _captcha()
    hardened = ordinary.copy()
    hardened[0, :7] = 0  # seven background pixels pushed to black (L0)
    hardened[15, 25] = 250  # one ink pixel pushed to white
    hardened[35, 100] = 200  # a change that stays on the light side
    result = survival(Image.fromarray(ordinary), Image.fromarray(hardened))
    assert (result.changed, result.surviving) == (9, 8)
    assert result.share == pytest.approx(8 / 9)


def test_identical_images_and_size_mismatch() -> None:
    ordinary = Image.fromarray(_captcha())
    assert survival(ordinary, ordinary).share == 0.0
    with pytest.raises(ValueError, match="sizes differ"):
        survival(ordinary, ordinary.resize((60, 20)))
