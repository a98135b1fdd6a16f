"""The exactly defined preprocessing steps that the browser extension reimplements."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from captchalab.data import resize
from captchalab.data.preprocess import Preprocessing, to_array


@pytest.fixture
def gray() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (50, 200, 1), dtype=np.uint8)


def test_grayscale_is_pillows_integer_luma() -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(rgb).convert("L"))
    assert np.array_equal(resize.grayscale(rgb), expected)


@pytest.mark.parametrize("size", [3, 5])
def test_median_filter_equals_pillows(gray: np.ndarray, size: int) -> None:
    expected = np.asarray(Image.fromarray(gray[:, :, 0]).filter(ImageFilter.MedianFilter(size)))
    assert np.array_equal(resize.median_filter(gray, size)[:, :, 0], expected)
    with pytest.raises(ValueError, match="odd"):
        resize.median_filter(gray, 4)


@pytest.mark.parametrize(("height", "width"), [(32, 128), (20, 60), (100, 300), (7, 3)])
def test_resize_is_the_weight_matrices_and_close_to_pillow(
    gray: np.ndarray, height: int, width: int
) -> None:
    out = resize.resize(gray, height, width)[:, :, 0]
    rows, cols = resize.resize_weights(50, height), resize.resize_weights(200, width)
    assert np.allclose(out, rows @ gray[:, :, 0].astype(np.float64) @ cols.T, atol=1e-9)
    assert np.allclose(rows.sum(axis=1), 1.0) and np.allclose(cols.sum(axis=1), 1.0)
    pillow = Image.fromarray(gray[:, :, 0]).resize((width, height), Image.Resampling.BILINEAR)
    # Pillow rounds to 8 bits between its passes; the weights are the same.
    assert np.abs(out - np.asarray(pillow, dtype=np.float64)).max() <= 1.0 + 1e-9


def test_resize_to_the_same_size_is_the_identity(gray: np.ndarray) -> None:
    assert np.array_equal(resize.resize(gray, 50, 200), gray.astype(np.float64))


def test_inner_size_rounds_half_up_in_integers() -> None:
    assert resize.inner_size(250, 65, 128, 32) == (123, 32)
    assert resize.inner_size(256, 41, 128, 32) == (128, 21)  # 20.5: half up, not to even
    assert resize.inner_size(1000, 1, 128, 32) == (128, 1)


def test_pad_fills_with_the_ring_median() -> None:
    pixels = np.full((10, 80, 1), 200, dtype=np.uint8)
    pixels[3:7, 10:70] = 0
    out = resize.fit(pixels, 32, 128, "pad")
    assert out.shape == (32, 128, 1)
    assert np.all(out[20:, :, 0] == 200.0) and out[10, 60, 0] < 100


def test_to_array_runs_the_defined_steps() -> None:
    rgb = np.random.default_rng(2).integers(0, 256, (40, 90, 3), dtype=np.uint8)
    spec = Preprocessing(height=24, width=64, channels=1, resize="stretch", median_filter=3)
    steps = resize.fit(
        resize.median_filter(resize.grayscale(rgb)[:, :, None], 3), 24, 64, "stretch"
    )
    expected = (steps / 255.0).astype(np.float32).transpose(2, 0, 1)
    assert np.array_equal(to_array(Image.fromarray(rgb), spec), expected)
