import io

import numpy as np
import pytest
from PIL import Image

from captchalab.data.preprocess import (
    ImageDecodeError,
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
    with pytest.raises(ImageDecodeError, match="cannot decode image"):
        load_image(data)


def test_bad_arrays_and_specs() -> None:
    with pytest.raises(ImageDecodeError, match="shape"):
        load_image(np.zeros((2, 3, 4, 5), dtype=np.uint8))
    with pytest.raises(ValueError, match="channels"):
        Preprocessing(channels=2)
    with pytest.raises(ValueError, match="unknown preprocessing keys"):
        Preprocessing.from_dict({"height": 3, "colour": 1})
