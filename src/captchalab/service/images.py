"""Untrusted upload -> model input: size, format (by magic bytes) and pixel checks, then decode.

Formats are recognised from their first bytes, never from a file name or a declared type.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image

from captchalab.data.preprocess import ImageDecodeError, Preprocessing, load_image, to_array
from captchalab.service.errors import (
    InvalidImage,
    InvalidRequest,
    PayloadTooLarge,
    TooManyPixels,
    UnsupportedMediaType,
)

logger = logging.getLogger(__name__)


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
    raise UnsupportedMediaType("only PNG, JPEG, GIF, WebP and BMP images are accepted")


def decode_base64(text: str) -> bytes:
    """Standard base64, optionally as a ``data:image/...;base64,`` URL."""
    if text.startswith("data:"):
        _, _, text = text.partition(",")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest(f"image is not valid base64: {exc}") from None


def check_image(data: bytes, limits: UploadLimits) -> None:
    """Size, format and pixel-count checks that read only the header."""
    if not data:
        raise InvalidImage("image is empty")
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(f"image exceeds {limits.max_bytes} bytes")
    image_format = sniff_format(data)
    try:
        header = Image.open(io.BytesIO(data), formats=[image_format])  # lazy: header only
    except Image.DecompressionBombError:
        raise TooManyPixels(f"image has more than {limits.max_pixels} pixels") from None
    except Exception as exc:  # Pillow raises many types for corrupt headers
        raise InvalidImage(f"cannot read {image_format} image: {exc}") from None
    width, height = header.size
    if width * height > limits.max_pixels:
        raise TooManyPixels(f"image of {width}x{height} exceeds {limits.max_pixels} pixels")


def prepare_image(data: bytes, spec: Preprocessing, limits: UploadLimits) -> np.ndarray:
    """Checked bytes -> ``(C, H, W)`` float32; raises a ``ServiceError`` for bad input."""
    check_image(data, limits)
    try:
        image = load_image(data)
        return to_array(image, spec)
    except ImageDecodeError as exc:
        raise InvalidImage(str(exc)) from None
    except Exception as exc:  # decoders can fail late (truncated frames, odd modes)
        logger.info("rejected an upload that failed to decode", exc_info=True)
        raise InvalidImage(f"cannot decode image: {exc}") from None
