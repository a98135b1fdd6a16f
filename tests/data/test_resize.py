"""The exactly defined preprocessing steps that the browser extension reimplements."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from captchalab.data import resize
from captchalab.data.preprocess import Preprocessing, to_array


@pytest.fixture
def gray() -> np.ndarray:
    """``(1, 50, 200)`` uint8 planes."""
    return np.random.default_rng(0).integers(0, 256, (1, 50, 200), dtype=np.uint8)


def test_grayscale_is_pillows_integer_luma() -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(rgb).convert("L"))
    assert np.array_equal(resize.grayscale(rgb), expected)


@pytest.mark.parametrize("size", [3, 5])
def test_median_filter_equals_pillows(gray: np.ndarray, size: int) -> None:
    pixels = gray.transpose(1, 2, 0)
    expected = np.asarray(Image.fromarray(pixels[:, :, 0]).filter(ImageFilter.MedianFilter(size)))
    assert np.array_equal(resize.median_filter(pixels, size)[:, :, 0], expected)
    with pytest.raises(ValueError, match="odd"):
        resize.median_filter(pixels, 4)


@pytest.mark.parametrize(("height", "width"), [(32, 128), (20, 60), (100, 300), (7, 3)])
def test_resize_applies_the_stated_weights(gray: np.ndarray, height: int, width: int) -> None:
    out = resize.resize(gray, height, width)
    assert out.shape == (1, height, width) and out.dtype == np.float32
    rows, cols = resize.resize_weights(50, height), resize.resize_weights(200, width)
    assert np.allclose(rows.sum(axis=1), 1.0) and np.allclose(cols.sum(axis=1), 1.0)
    exact = rows @ gray[0].astype(np.float64) @ cols.T  # float32 rounding between the passes
    assert np.abs(out[0] - exact).max() < 1e-3
    pillow_8bit = Image.fromarray(gray[0]).resize((width, height), Image.Resampling.BILINEAR)
    assert np.abs(out[0] - np.asarray(pillow_8bit, dtype=np.float32)).max() <= 1.0


def test_resize_to_the_same_size_is_the_identity(gray: np.ndarray) -> None:
    assert np.array_equal(resize.resize(gray, 50, 200), gray.astype(np.float32))


def test_inner_size_rounds_half_up_in_integers() -> None:
    assert resize.inner_size(250, 65, 128, 32) == (123, 32)
    assert resize.inner_size(256, 41, 128, 32) == (128, 21)  # 20.5: half up, not to even
    assert resize.inner_size(1000, 1, 128, 32) == (128, 1)


def test_border_value_is_the_ring_median() -> None:
    planes = np.array([[[1, 2, 3], [4, 100, 6], [7, 8, 9]]], dtype=np.float32)
    assert resize.border_value(planes).tolist() == [5.0]  # ring 1 2 3 7 8 9 1 4 7 3 6 9


def test_pad_fills_with_the_ring_median() -> None:
    planes = np.full((1, 10, 80), 200, dtype=np.uint8)
    planes[:, 3:7, 10:70] = 0
    out = resize.fit(planes, 32, 128, "pad")
    assert out.shape == (1, 32, 128)
    assert np.all(out[0, 20:, :] == 200.0) and out[0, 10, 60] < 100
    with pytest.raises(ValueError, match="stretch"):
        resize.fit(planes, 32, 128, "crop")


def test_to_array_runs_the_defined_steps() -> None:
    rgb = np.random.default_rng(2).integers(0, 256, (40, 90, 3), dtype=np.uint8)
    spec = Preprocessing(height=24, width=64, channels=1, resize="stretch", median_filter=3)
    filtered = resize.median_filter(resize.grayscale(rgb)[:, :, None], 3)
    steps = resize.fit(filtered.transpose(2, 0, 1), 24, 64, "stretch")
    expected = (steps / 255.0).astype(np.float32)
    assert np.array_equal(to_array(Image.fromarray(rgb), spec), expected)


def test_text_box_finds_small_text_on_a_big_canvas() -> None:
    luma = np.full((160, 200), 230, dtype=np.uint8)
    luma[70:90, 60:140] = 20  # the "text": 20 rows, 80 columns
    luma[5, 5] = 0  # one speck far away is not text
    assert resize.text_box(luma) == (65, 95, 55, 145)  # margin 20 // 4 = 5 on every side


def test_text_box_ignores_dots_scattered_over_the_canvas() -> None:
    luma = np.full((160, 200), 230, dtype=np.uint8)
    luma[70:90, 60:140:4] = 20  # small text: 40 ink columns in 20 rows
    luma[70:90, 61:140:4] = 20
    rng = np.random.default_rng(0)
    for y, x in zip(rng.integers(0, 160, 60), rng.integers(0, 200, 60), strict=True):
        if not (60 <= y < 100 and 40 <= x < 160):  # 60 two-pixel specks away from the text
            luma[y, x : x + 2] = 20
    top, bottom, left, right = resize.text_box(luma)
    assert (top, bottom) == (65, 95)  # a speck row holds 2-4 px of ink, the text 40
    assert (left, right) == (55, 143)  # only the ink inside the text's rows counts


def test_text_box_bridges_the_gaps_between_letters_but_not_distant_marks() -> None:
    luma = np.full((60, 300), 230, dtype=np.uint8)
    for x in (40, 70, 100):  # three 10 px letters, 20 px apart: less than the text's height
        luma[20:44, x : x + 10] = 20
    luma[20:44, 250:253] = 20  # a mark 140 px to the right: more than the text's height
    top, bottom, left, right = resize.text_box(luma)
    assert (top, bottom) == (14, 50)
    assert (left, right) == (40 - 6, 110 + 6)


def test_text_box_cuts_letterbox_bars_and_frames_first() -> None:
    luma = np.full((72, 170), 240, dtype=np.uint8)
    luma[:14], luma[-12:] = 10, 10  # dark bars above and below a light band
    luma[30:46, 40:120] = 30  # the text in the band
    luma[3, 50:52] = 240  # a speck inside the top bar: still uniform
    assert resize.bar_box(luma) == (14, 60, 0, 170)
    assert resize.text_box(luma) == (26, 50, 36, 124)  # margin 16 // 4 = 4
    framed = np.full((40, 100), 220, dtype=np.uint8)
    framed[0, :], framed[-1, :], framed[:, 0], framed[:, -1] = 60, 60, 60, 60
    assert resize.bar_box(framed) == (1, 39, 1, 99)
    assert resize.text_box(framed) == (1, 39, 1, 99)  # no ink inside: all but the frame


def test_bar_box_keeps_uniform_edges_that_run_into_text() -> None:
    luma = np.full((50, 200), 235, dtype=np.uint8)  # plain background rows above the text...
    luma[10:40, 20:180:3] = 20  # ...end in a row of text, not in a band of another level
    assert resize.bar_box(luma) == (0, 50, 0, 200)
    dark = np.full((50, 200), 15, dtype=np.uint8)  # light-on-dark text: its ground is no bar
    dark[15:35, 30:170:2] = 230
    assert resize.bar_box(dark) == (0, 50, 0, 200)


def test_text_box_keeps_descenders() -> None:
    luma = np.full((160, 200), 230, dtype=np.uint8)
    luma[70:90, 60:140] = 20  # letters
    luma[90:100, 100:103] = 20  # a thin descender below them: 3 px of ink per row
    top, bottom, _, _ = resize.text_box(luma)
    assert bottom >= 100 + 2  # the descender, and a margin below it
    assert top == 70 - 30 // 4


def test_text_box_keeps_an_image_without_ink_or_with_text_everywhere() -> None:
    assert resize.text_box(np.full((30, 40), 128, dtype=np.uint8)) == (0, 30, 0, 40)
    full = np.full((30, 40), 230, dtype=np.uint8)
    full[1:29, 1:39] = 10
    assert resize.text_box(full) == (1, 29, 1, 39)  # the light ring is a frame: cut
    full[0, ::2], full[-1, ::2], full[::2, 0], full[::2, -1] = 100, 100, 100, 100
    # a ring that is not uniform is no frame: all of it is text, the margin is clipped
    assert resize.text_box(full) == (0, 30, 0, 40)


def test_crop_text_enlarges_small_text() -> None:
    pixels = np.full((160, 200, 3), 230, dtype=np.uint8)
    pixels[70:90, 60:140] = 20
    image = Image.fromarray(pixels)
    plain = Preprocessing(height=32, width=128, resize="pad")
    cropped = Preprocessing(height=32, width=128, resize="pad", crop_text=True)

    def dark(spec: Preprocessing) -> int:
        return int((to_array(image, spec) < 0.5).sum())

    assert dark(cropped) > 10 * dark(plain)
