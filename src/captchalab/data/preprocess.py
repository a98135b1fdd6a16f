"""The single image -> array path, shared by training, evaluation, ONNX inference and the service.

numpy and Pillow only, so the torch-free Solver runs exactly the code the model was trained with.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from captchalab.data import resize

# Refuse images whose decoded size could exhaust memory (decompression bombs).
MAX_PIXELS = 40_000_000

ImageInput = str | Path | bytes | Image.Image | np.ndarray


class ImageDecodeError(ValueError):
    """The input is not a readable image."""


class ImageTooLarge(ImageDecodeError):
    """The image has more pixels than allowed (checked from its header, before decoding)."""


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes model input: ``(channels, height, width)`` float32 in [0, 1].

    ``resize``: "stretch" resizes to (width, height) ignoring aspect;
    "pad" keeps aspect, fits inside, and pads the right/bottom with the border colour.

    ``crop_text``: first cut the image to the box around its ink, with a margin
    (``resize.text_box``), so small text on a big canvas keeps its detail.

    ``dynamic_width`` (with "pad", for models whose width axis is free, e.g. ``crnn``):
    ``width`` is a cap, and the model reads each image cut after its content (a proportional
    width, rounded up to a multiple of 16, at least ``min_width``): see :func:`width_groups`.
    Arrays from :func:`to_array` always have the full ``width``, so they stack; the Solver
    and training cut them.
    """

    height: int = 48
    width: int = 128
    channels: int = 1
    resize: str = "stretch"
    median_filter: int = 0
    dynamic_width: bool = False
    min_width: int = 64
    crop_text: bool = False

    def __post_init__(self) -> None:
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if self.resize not in ("stretch", "pad"):
            raise ValueError(f"resize must be 'stretch' or 'pad', got {self.resize!r}")
        if self.median_filter and self.median_filter % 2 == 0:
            raise ValueError("median_filter size must be odd (3, 5, ...)")
        if self.dynamic_width and self.resize != "pad":
            raise ValueError("dynamic_width needs resize 'pad' (the canvas is cut after its text)")
        if self.dynamic_width and not 1 <= self.min_width <= self.width:
            raise ValueError(
                f"min_width must be within 1..width ({self.width}), got {self.min_width}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown preprocessing keys: {sorted(unknown)}")
        return cls(**data)


def load_image(
    source: ImageInput,
    *,
    formats: Sequence[str] | None = None,
    max_pixels: int = MAX_PIXELS,
) -> Image.Image:
    """Open a path, raw bytes, a PIL image or an array as an 8-bit RGB PIL image (first frame).

    Encoded input is opened once: ``formats`` (Pillow format names, all by default) restricts
    the decoders tried, and an image over ``max_pixels`` raises ``ImageTooLarge`` from its header,
    before any pixel is decoded. Every mode decodes to the tones it shows (see ``_to_8_bit``);
    transparency is composited over white.
    """
    if isinstance(source, Image.Image):
        image = source
    elif isinstance(source, np.ndarray):
        image = _from_array(source)
    else:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        image = _open(data, formats, max_pixels)
    try:
        return _flatten_alpha(_to_8_bit(image))
    except ImageDecodeError:
        raise
    except (ValueError, OSError) as exc:  # a mode Pillow cannot convert
        raise ImageDecodeError(f"cannot convert a {image.mode} image to RGB: {exc}") from exc


def _open(data: bytes, formats: Sequence[str] | None, max_pixels: int) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=list(formats) if formats else None)
        if image.width * image.height > max_pixels:
            raise ImageTooLarge(
                f"image of {image.width}x{image.height} pixels exceeds {max_pixels} pixels"
            )
        image.seek(0)
        image.load()
    except ImageDecodeError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"image exceeds {max_pixels} pixels: {exc}") from exc
    except UnidentifiedImageError as exc:  # Pillow's own message names only a buffer object
        kinds = f"a {', '.join(formats)} image" if formats else "an image format Pillow reads"
        raise ImageDecodeError(
            f"cannot decode image: {len(data):,} bytes that are not {kinds}"
        ) from exc
    except Exception as exc:  # Pillow raises many types for corrupt data
        raise ImageDecodeError(f"cannot decode image: {exc}") from exc
    return image


def _from_array(array: np.ndarray) -> Image.Image:
    """``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` array -> PIL image.

    uint8 is used as is, uint16 spans 0-65535, bool is black and white, other integers are 0-255
    (clipped), floats are [0, 1] when no value exceeds 1 and 0-255 (clipped) otherwise.
    """
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageDecodeError(f"array of shape {array.shape} is not an image (H, W[, 3|4])")
    return Image.fromarray(_array_to_uint8(array))


def _array_to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype == np.uint16:
        return _scaled(array, 1 / 257)
    if np.issubdtype(array.dtype, np.integer):
        return _scaled(array, 1.0)
    if not np.issubdtype(array.dtype, np.floating):
        raise ImageDecodeError(f"array of dtype {array.dtype} is not an image")
    if not np.isfinite(array).all():
        raise ImageDecodeError("array values are not finite (NaN or infinity)")
    top = float(array.max()) if array.size else 0.0
    return _scaled(array, 255.0 if top <= 1.0 else 1.0)


def _scaled(array: np.ndarray, scale: float) -> np.ndarray:
    return np.clip(np.rint(array.astype(np.float64) * scale), 0, 255).astype(np.uint8)


def _to_8_bit(image: Image.Image) -> Image.Image:
    """High bit-depth greyscale -> ``L`` (``LA`` when it has a transparent value).

    ``I;16*`` and ``I`` (16-bit PNG and TIFF greyscale) span 0-65535; ``F`` follows the float
    array rule of ``_from_array``. Pillow's own conversion clips these at 255 instead (a 16-bit
    scan turns white).
    """
    if not (image.mode.startswith("I") or image.mode == "F"):
        return image
    values = np.asarray(image)
    grey = _array_to_uint8(values) if image.mode == "F" else _scaled(values, 1 / 257)
    converted = Image.fromarray(grey, mode="L")
    transparent = image.info.get("transparency")
    if isinstance(transparent, int) and not isinstance(transparent, bool):
        alpha = np.where(values == transparent, 0, 255).astype(np.uint8)
        converted = Image.merge("LA", (converted, Image.fromarray(alpha, mode="L")))
    return converted


def _flatten_alpha(image: Image.Image) -> Image.Image:
    """Composite transparency over white: captchas with alpha are drawn for a light page.

    Alpha channels, palette transparency and colour keys (``transparency`` in ``info``) count.
    """
    if image.mode in ("RGBA", "LA", "PA", "RGBa") or "transparency" in image.info:
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
    # Pillow's convert("L") is resize.grayscale's integer luma exactly (and faster).
    luma = np.asarray(image.convert("L"), dtype=np.uint8)
    pixels = luma[:, :, None] if spec.channels == 1 else np.asarray(image.convert("RGB"))
    if spec.crop_text:
        top, bottom, left, right = resize.text_box(luma)
        pixels = pixels[top:bottom, left:right]
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


def input_widths(batch: np.ndarray, spec: Preprocessing) -> np.ndarray:
    """``(B, C, H, W)`` arrays -> ``(B,)`` the width the model reads of each (``W`` for a
    fixed-width model; see ``resize.content_width`` and ``resize.input_width``)."""
    if not spec.dynamic_width:
        return np.full(len(batch), batch.shape[-1], dtype=np.int64)
    cap = min(spec.width, batch.shape[-1])
    return np.array(
        [resize.input_width(resize.content_width(a), min(spec.min_width, cap), cap) for a in batch],
        dtype=np.int64,
    )


def width_groups(batch: np.ndarray, spec: Preprocessing) -> list[tuple[np.ndarray, int]]:
    """``(indices, width)`` per input width: run ``batch[indices, ..., :width]`` together.

    One group of the full width for a fixed-width model. Training, evaluation, the Solver and
    the service all group this way, so each image is read at the same width everywhere.
    """
    widths = input_widths(batch, spec)
    return [(np.flatnonzero(widths == w), int(w)) for w in np.unique(widths)]


def trim(batch: np.ndarray, spec: Preprocessing) -> np.ndarray:
    """Cut a batch to the widest input width among its images (no cut for fixed width)."""
    if not spec.dynamic_width or not len(batch):
        return batch
    return batch[..., : int(input_widths(batch, spec).max())]
