"""Attacker-side input cleaning: what a solver may do to a captcha before reading it.

Median filter, Gaussian blur, JPEG re-encode, binarisation (Otsu) and total-variation
denoising (Chambolle's projection algorithm, in numpy). Each maps an RGB image to an RGB
image of the same size; they are registered by name.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

from captchalab.adversarial.masks import grey
from captchalab.data.ink import otsu_threshold
from captchalab.registry import add_unique, lookup

Cleaning = Callable[[Image.Image], Image.Image]
_CLEANINGS: dict[str, Cleaning] = {}


def register_cleaning(name: str) -> Callable[[Cleaning], Cleaning]:
    def wrap(function: Cleaning) -> Cleaning:
        add_unique(_CLEANINGS, "cleaning", name, function)
        return function

    return wrap


def list_cleanings() -> list[str]:
    return list(_CLEANINGS)


def get_cleaning(name: str) -> Cleaning:
    return lookup(_CLEANINGS, "cleaning", name)


@register_cleaning("median")
def median(image: Image.Image) -> Image.Image:
    """3x3 median filter: removes isolated (L0) pixels."""
    return image.convert("RGB").filter(ImageFilter.MedianFilter(3))


@register_cleaning("blur")
def blur(image: Image.Image) -> Image.Image:
    """Gaussian blur, radius 1."""
    return image.convert("RGB").filter(ImageFilter.GaussianBlur(1.0))


@register_cleaning("jpeg")
def jpeg(image: Image.Image, quality: int = 50) -> Image.Image:
    """JPEG re-encode at quality 50."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


@register_cleaning("binarise")
def binarise(image: Image.Image) -> Image.Image:
    """Black and white at the Otsu threshold."""
    values = grey(image)
    out = np.where(values > otsu_threshold(values), 255, 0).astype(np.uint8)
    return Image.fromarray(out, "L").convert("RGB")


def tv_denoise(values: np.ndarray, weight: float = 0.1, iterations: int = 30) -> np.ndarray:
    """Chambolle (2004) total-variation denoising of a 2-D float image in [0, 1]."""
    p = np.zeros((2, *values.shape), dtype=np.float64)
    tau = 0.125
    out = values.astype(np.float64)
    for _ in range(iterations):
        divergence = np.zeros_like(out)
        divergence[:, 1:] += p[1][:, 1:] - p[1][:, :-1]
        divergence[:, 0] += p[1][:, 0]
        divergence[1:, :] += p[0][1:, :] - p[0][:-1, :]
        divergence[0, :] += p[0][0, :]
        out = values - weight * divergence
        grad_y = np.zeros_like(out)
        grad_x = np.zeros_like(out)
        grad_y[:-1, :] = out[1:, :] - out[:-1, :]
        grad_x[:, :-1] = out[:, 1:] - out[:, :-1]
        norm = np.sqrt(grad_y**2 + grad_x**2)
        factor = 1.0 + (tau / weight) * norm
        p[0] = (p[0] - (tau / weight) * grad_y) / factor
        p[1] = (p[1] - (tau / weight) * grad_x) / factor
    return np.clip(out, 0.0, 1.0)


@register_cleaning("tv")
def total_variation(image: Image.Image) -> Image.Image:
    """Total-variation denoising of each channel (weight 0.1)."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    channels = [tv_denoise(rgb[:, :, c]) for c in range(3)]
    out = np.round(np.stack(channels, axis=-1) * 255.0).astype(np.uint8)
    return Image.fromarray(out, "RGB")
