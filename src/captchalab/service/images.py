"""Untrusted upload -> model input: size, format (by magic bytes) and pixel checks, then decode.

Formats are recognised from their first bytes, never from a file name or a declared type, and
Pillow opens each upload once, with only the accepted formats' decoders.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image

from captchalab.data.formats import PILLOW_FORMATS
from captchalab.data.preprocess import (
    ImageDecodeError,
    ImageTooLarge,
    Preprocessing,
    load_image,
    to_array,
)
from captchalab.service.errors import (
    InvalidImage,
    InvalidRequest,
    PayloadTooLarge,
    TooManyPixels,
    UnsupportedMediaType,
)

logger = logging.getLogger(__name__)

# The formats the service decodes: those captchalab reads from folders (data.formats).
ALLOWED = PILLOW_FORMATS
_NAMES = ", ".join(ALLOWED[:-1]) + " and " + ALLOWED[-1]


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pixels: int


def sniff_format(data: bytes) -> str:
    """The Pillow format name for ``data``'s magic bytes; ``UnsupportedMediaType`` otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith(b"BM"):
        return "BMP"
    raise UnsupportedMediaType(f"only {_NAMES} images are accepted")


def decode_base64(text: str) -> bytes:
    """Standard base64, optionally as a ``data:image/...;base64,`` URL."""
    if text.startswith("data:"):
        _, _, text = text.partition(",")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest(f"image is not valid base64: {exc}") from None


def decode_image(data: bytes, limits: UploadLimits) -> Image.Image:
    """Checked, decoded upload: size and format checks, then one ``Image.open`` restricted to
    the accepted formats, whose header is checked against ``max_pixels`` before decoding."""
    if not data:
        raise InvalidImage("image is empty")
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(f"image exceeds {limits.max_bytes} bytes")
    image_format = sniff_format(data)
    try:
        return load_image(data, formats=ALLOWED, max_pixels=limits.max_pixels)
    except ImageTooLarge as exc:
        raise TooManyPixels(str(exc)) from None
    except ImageDecodeError as exc:
        raise InvalidImage(f"cannot read {image_format} image: {exc}") from None
    except Exception as exc:  # decoders can fail late (truncated frames, odd modes)
        logger.info("rejected an upload that failed to decode", exc_info=True)
        raise InvalidImage(f"cannot decode image: {exc}") from None


def prepare_image(data: bytes, spec: Preprocessing, limits: UploadLimits) -> np.ndarray:
    """Checked bytes -> ``(C, H, W)`` float32; raises a ``ServiceError`` for bad input."""
    image = decode_image(data, limits)
    try:
        return to_array(image, spec)
    except Exception as exc:
        logger.info("rejected an upload that failed to preprocess", exc_info=True)
        raise InvalidImage(f"cannot decode image: {exc}") from None
