import io

import numpy as np
import pytest
from PIL import Image

from captchalab.data.preprocess import (
    ImageDecodeError,
    ImageTooLarge,
    Preprocessing,
    load_image,
    preprocess,
    preprocess_batch,
)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_every_input_type_gives_the_same_array(tmp_path) -> None:
    image = Image.new("RGB", (120, 40), (200, 30, 30))
    path = tmp_path / "a.png"
    image.save(path)
    spec = Preprocessing(height=32, width=96)
    arrays = [preprocess(x, spec) for x in (image, path, str(path), _png(image), np.asarray(image))]
    assert arrays[0].shape == (1, 32, 96) and arrays[0].dtype == np.float32
    for other in arrays[1:]:
        np.testing.assert_array_equal(arrays[0], other)


def test_rgb_channels_and_batch() -> None:
    spec = Preprocessing(height=20, width=50, channels=3)
    batch = preprocess_batch([Image.new("RGB", (10, 10), (255, 0, 0))] * 3, spec)
    assert batch.shape == (3, 3, 20, 50)
    assert batch[0, 0].min() == pytest.approx(1.0) and batch[0, 1].max() == pytest.approx(0.0)


def test_pad_keeps_aspect_and_fills_with_background() -> None:
    image = Image.new("L", (50, 50), 255)
    image.paste(0, (20, 20, 30, 30))
    out = preprocess(image.convert("RGB"), Preprocessing(height=20, width=80, resize="pad"))
    assert out.shape == (1, 20, 80)
    assert out[0, :, 30:].min() == pytest.approx(1.0)  # padding is white like the border
    assert out[0, 10, 10] < 0.5  # the black square survived at the left


def test_transparency_is_composited_on_white() -> None:
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    out = preprocess(image, Preprocessing(height=10, width=10))
    assert out.min() == pytest.approx(1.0)


def test_gif_first_frame() -> None:
    frames = [Image.new("P", (10, 10), i) for i in (0, 200)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    assert load_image(buffer.getvalue()).size == (10, 10)


def test_median_filter_removes_isolated_dots() -> None:
    image = Image.new("L", (30, 30), 255)
    image.putpixel((15, 15), 0)
    spec = Preprocessing(height=30, width=30, median_filter=3)
    assert preprocess(image.convert("RGB"), spec).min() == pytest.approx(1.0)


@pytest.mark.parametrize("data", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_corrupt_bytes_raise_a_clear_error(data: bytes) -> None:
    with pytest.raises(ImageDecodeError, match="cannot decode image") as caught:
        load_image(data)
    assert "BytesIO" not in str(caught.value)  # says what the data is, not how it was held


def test_unknown_bytes_say_which_formats_were_accepted() -> None:
    with pytest.raises(ImageDecodeError, match="12 bytes that are not a PNG, GIF image"):
        load_image(b"not an image", formats=("PNG", "GIF"))


def test_bad_arrays_and_specs() -> None:
    with pytest.raises(ImageDecodeError, match="shape"):
        load_image(np.zeros((2, 3, 4, 5), dtype=np.uint8))
    with pytest.raises(ValueError, match="channels"):
        Preprocessing(channels=2)
    with pytest.raises(ValueError, match="unknown preprocessing keys"):
        Preprocessing.from_dict({"height": 3, "colour": 1})


def _encoded(image: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _grey(source: object) -> list[int]:
    """The decoded image's first row as 8-bit grey values (R = G = B is checked too)."""
    rgb = np.asarray(load_image(source))  # type: ignore[arg-type]
    assert rgb.dtype == np.uint8 and rgb.shape[2] == 3
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 1])
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])
    return [int(v) for v in rgb[0, :, 0]]


def test_16_bit_greyscale_png_keeps_its_tones() -> None:
    levels = np.array([[0, 257 * 64, 257 * 128, 65535]], dtype=np.uint16)
    image = Image.fromarray(levels)
    assert image.mode == "I;16"
    data = _encoded(image)
    assert Image.open(io.BytesIO(data)).mode in ("I;16", "I")
    assert _grey(data) == [0, 64, 128, 255]
    assert _grey(image) == [0, 64, 128, 255]
    assert _grey(levels) == [0, 64, 128, 255]  # uint16 arrays are 16-bit too


def test_32_bit_integer_images_are_16_bit_tones() -> None:
    image = Image.fromarray(np.array([[0, 257 * 100, 65535, 70000, -5]], dtype=np.int32))
    assert image.mode == "I"
    assert _grey(image) == [0, 100, 255, 255, 0]
    assert _grey(_encoded(image, "TIFF")) == [0, 100, 255, 255, 0]


def test_float_images_in_unit_range_scale_to_255() -> None:
    unit = Image.fromarray(np.array([[0.0, 0.25, 0.5, 1.0]], dtype=np.float32))
    assert unit.mode == "F"
    assert _grey(unit) == [0, 64, 128, 255]
    assert _grey(_encoded(unit, "TIFF")) == [0, 64, 128, 255]
    wide = Image.fromarray(np.array([[0.0, 100.0, 300.0]], dtype=np.float32))
    assert _grey(wide) == [0, 100, 255]  # beyond [0, 1]: 0-255 values, clipped


def test_cmyk_converts_to_rgb() -> None:
    image = Image.new("CMYK", (3, 1))
    for x, ink in enumerate([(0, 0, 0, 0), (0, 0, 0, 255), (255, 0, 0, 0)]):
        image.putpixel((x, 0), ink)
    expected = [[255, 255, 255], [0, 0, 0], [0, 255, 255]]
    assert np.asarray(load_image(image))[0].tolist() == expected
    jpeg = np.asarray(load_image(_encoded(image, "JPEG", quality=100))).astype(int)
    assert np.abs(jpeg[0] - np.array(expected)).max() <= 3


def test_grey_with_alpha_is_composited_on_white() -> None:
    image = Image.new("LA", (3, 1))
    for x, pixel in enumerate([(0, 0), (0, 255), (0, 128)]):
        image.putpixel((x, 0), pixel)
    assert _grey(_encoded(image)) == [255, 0, 127]


def test_palette_transparency_is_composited_on_white() -> None:
    image = Image.new("P", (3, 1))
    image.putpalette([0, 0, 0, 200, 0, 0, 0, 0, 90])
    for x in range(3):
        image.putpixel((x, 0), x)
    image.info["transparency"] = 0  # palette entry 0 (black) is transparent
    for source in (_encoded(image), _encoded(image, "GIF"), image):
        decoded = np.asarray(load_image(source))
        assert decoded[0].tolist() == [[255, 255, 255], [200, 0, 0], [0, 0, 90]]
    alpha = image.copy()
    alpha.info["transparency"] = bytes([255, 0, 255])  # per-entry alpha: the red one is clear
    assert np.asarray(load_image(_encoded(alpha)))[0].tolist()[1] == [255, 255, 255]


def test_colour_key_transparency_is_composited_on_white() -> None:
    image = Image.new("RGB", (2, 1), (10, 20, 30))
    image.putpixel((1, 0), (1, 2, 3))
    data = _encoded(image, transparency=(10, 20, 30))
    assert np.asarray(load_image(data))[0].tolist() == [[255, 255, 255], [1, 2, 3]]


def test_one_bit_images_are_black_and_white() -> None:
    image = Image.new("1", (3, 1))
    image.putpixel((1, 0), 1)
    assert _grey(_encoded(image)) == [0, 255, 0]
    assert _grey(np.array([[False, True, False]])) == [0, 255, 0]


def test_arrays_of_every_dtype_decode_to_the_right_values() -> None:
    assert _grey(np.array([[0, 128, 255]], dtype=np.uint8)) == [0, 128, 255]
    assert _grey(np.array([[0.0, 0.5, 1.0]], dtype=np.float64)) == [0, 128, 255]
    assert _grey(np.array([[0, 100, 300]], dtype=np.int64)) == [0, 100, 255]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_arrays_are_refused(bad: float) -> None:
    array = np.full((4, 4), 0.5, dtype=np.float32)
    array[1, 2] = bad
    with pytest.raises(ImageDecodeError, match="not finite"):
        load_image(array)
    with pytest.raises(ImageDecodeError, match="not finite"):
        load_image(Image.fromarray(array))


def test_a_mode_pillow_cannot_convert_is_a_clear_error() -> None:
    with pytest.raises(ImageDecodeError, match="cannot convert a La image"):
        load_image(Image.new("La", (2, 2)))


def test_format_and_size_limits_are_checked_on_open() -> None:
    tiff = _encoded(Image.new("RGB", (4, 4)), "TIFF")
    assert load_image(tiff).size == (4, 4)
    with pytest.raises(ImageDecodeError, match="cannot decode image"):
        load_image(tiff, formats=("PNG", "JPEG"))
    png = _encoded(Image.new("RGB", (50, 20)))
    with pytest.raises(ImageTooLarge, match="50x20"):
        load_image(png, max_pixels=999)
    assert load_image(png, max_pixels=1000).size == (50, 20)
