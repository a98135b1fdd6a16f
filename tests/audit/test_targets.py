"""The audit's test captchas, read at each attacker's own preprocessing."""

from __future__ import annotations

from PIL import Image

from captchalab.audit.targets import ScoringImages
from captchalab.data.preprocess import Preprocessing


def test_test_images_give_each_preprocessing_its_own_arrays() -> None:
    images = [Image.new("RGB", (200, 50), (240, 240, 240)) for _ in range(3)]
    test = ScoringImages(images)
    fixed = Preprocessing(height=32, width=128, resize="pad")
    wide = Preprocessing(height=32, width=256, resize="pad", dynamic_width=True, min_width=80)
    assert test.arrays(fixed).shape == (3, 1, 32, 128)
    assert test.arrays(wide).shape == (3, 1, 32, 256)
    assert test.arrays(fixed) is test.arrays(fixed)  # computed once
    assert len(test) == 3
