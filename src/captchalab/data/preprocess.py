"""The single image -> array path, shared by training, evaluation, ONNX inference and the service.

numpy and Pillow only, so the torch-free Solver runs exactly the code the model was trained with.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from captchalab.data import resize

# Refuse images whose decoded size could exhaust memory (decompression bombs).
MAX_PIXELS = 40_000_000

ImageInput = str | Path | bytes | Image.Image | np.ndarray


class ImageDecodeError(ValueError):
    """The input is not a readable image."""


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes model input: ``(channels, height, width)`` float32 in [0, 1].

    ``resize``: "stretch" resizes to (width, height) ignoring aspect;
    "pad" keeps aspect, fits inside, and pads the right/bottom with the border colour.
    """

    height: int = 48
    width: int = 128
    channels: int = 1
    resize: str = "stretch"
    median_filter: int = 0

    def __post_init__(self) -> None:
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if self.resize not in ("stretch", "pad"):
            raise ValueError(f"resize must be 'stretch' or 'pad', got {self.resize!r}")
        if self.median_filter and self.median_filter % 2 == 0:
            raise ValueError("median_filter size must be odd (3, 5, ...)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown preprocessing keys: {sorted(unknown)}")
        return cls(**data)


def load_image(source: ImageInput) -> Image.Image:
    """Open a path, raw bytes, a PIL image or an array as an RGB PIL image (first frame)."""
    if isinstance(source, Image.Image):
        image = source
    elif isinstance(source, np.ndarray):
        image = _from_array(source)
    else:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        try:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise ImageDecodeError(f"image of {image.width}x{image.height} pixels is too large")
            image.seek(0)
            image.load()
        except ImageDecodeError:
            raise
        except Exception as exc:  # Pillow raises many types for corrupt data
            raise ImageDecodeError(f"cannot decode image: {exc}") from exc
    return _flatten_alpha(image)


def _from_array(array: np.ndarray) -> Image.Image:
    if array.dtype != np.uint8:
        scale = 255.0 if array.size and float(np.nanmax(array)) <= 1.0 else 1.0
        array = np.clip(array * scale, 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageDecodeError(f"array of shape {array.shape} is not an image (H, W[, 3|4])")
    return Image.fromarray(array)


def _flatten_alpha(image: Image.Image) -> Image.Image:
    """Composite transparency over white: captchas with alpha are drawn for a light page."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def to_array(image: Image.Image, spec: Preprocessing) -> np.ndarray:
    """RGB PIL image -> ``(C, H, W)`` float32 in [0, 1] as described by ``spec``.

    Every step after decoding is defined in ``data/resize.py`` (integer grayscale, median
    filter, triangle-filter resize, padding) so that the browser extension computes the same
    tensor in JavaScript.
    """
    if spec.channels == 1:
        # Pillow's convert("L") is resize.grayscale's integer luma exactly (and faster).
        pixels = np.asarray(image.convert("L"), dtype=np.uint8)[:, :, None]
    else:
        pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    if spec.median_filter:
        pixels = resize.median_filter(pixels, spec.median_filter)
    planes = pixels.transpose(2, 0, 1)  # (H, W, C) -> (C, H, W)
    fitted = resize.fit(planes, spec.height, spec.width, spec.resize)
    return (fitted / 255.0).astype(np.float32)


def preprocess(source: ImageInput, spec: Preprocessing) -> np.ndarray:
    """Any supported input -> ``(C, H, W)`` float32 model input."""
    return to_array(load_image(source), spec)


def preprocess_batch(sources: list[ImageInput], spec: Preprocessing) -> np.ndarray:
    """A list of inputs -> ``(B, C, H, W)`` float32."""
    return np.stack([preprocess(s, spec) for s in sources])
