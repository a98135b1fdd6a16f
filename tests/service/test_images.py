"""Uploads are opened once, by the accepted formats' decoders only, under a captcha-sized limit."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from captchalab.data.formats import IMAGE_SUFFIXES, PILLOW_FORMATS
from captchalab.inference.inputs import expand_inputs
from captchalab.service import images
from captchalab.service.settings import ServiceSettings

from .conftest import ClientFactory, image_bytes


def test_an_upload_is_opened_once_with_the_accepted_formats(
    client: Any, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    real_open = Image.open

    def counting_open(fp: Any, mode: str = "r", formats: Any = None) -> Image.Image:
        calls.append(formats)
        return real_open(fp, mode, formats)

    monkeypatch.setattr(Image, "open", counting_open)
    assert client.post("/v1/solve", files={"image": png}).status_code == 200
    assert calls == [list(images.ALLOWED)]


def test_default_pixel_limit_fits_captchas_not_photos(make_client: ClientFactory) -> None:
    assert ServiceSettings().max_pixels == 500_000
    client = make_client(max_pixels=ServiceSettings().max_pixels)
    fits = client.post("/v1/solve", files={"image": image_bytes(size=(1000, 500))})
    assert fits.status_code == 200, fits.text
    big = client.post("/v1/solve", files={"image": image_bytes(size=(1000, 501))})
    assert big.status_code == 413 and big.json()["error"] == "too_many_pixels"


def test_folders_and_the_service_accept_the_same_types(tmp_path: Any, client: Any) -> None:
    assert images.ALLOWED == PILLOW_FORMATS
    for fmt in PILLOW_FORMATS:  # every accepted format decodes through the service
        response = client.post("/v1/solve", files={"image": image_bytes(fmt)})
        assert response.status_code == 200, (fmt, response.text)
    for suffix in (*IMAGE_SUFFIXES, ".tif", ".txt"):
        (tmp_path / f"a{suffix}").write_bytes(b"")
    found = {name[len(str(tmp_path)) + 2 :] for name in expand_inputs([tmp_path])}
    assert found == set(IMAGE_SUFFIXES)


def test_a_16_bit_upload_reaches_the_model_as_grey_not_white(png: bytes) -> None:
    import io

    import numpy as np

    from captchalab.data.preprocess import Preprocessing

    grey = Image.fromarray(np.full((32, 96), 257 * 100, dtype=np.uint16))  # I;16
    buffer = io.BytesIO()
    grey.save(buffer, format="PNG")
    limits = images.UploadLimits(max_bytes=1 << 20, max_pixels=500_000)
    array = images.prepare_image(buffer.getvalue(), Preprocessing(height=32, width=96), limits)
    assert np.allclose(array, 100 / 255, atol=1e-6)
