"""Usability proxies for hardened captchas, since no person can be asked in a benchmark:
SSIM and PSNR against the ordinary captcha, and the share of perturbation energy on glyph ink.
numpy only.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from captchalab.adversarial.masks import grey, ink_mask


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    axis = np.arange(size, dtype=np.float64) - (size - 1) / 2
    kernel = np.exp(-(axis**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def _filter(values: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Separable 'valid' convolution of a 2-D array with a 1-D kernel along both axes."""
    rows = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="valid"), 1, values)
    return np.apply_along_axis(lambda c: np.convolve(c, kernel, mode="valid"), 0, rows)


def ssim(reference: Image.Image, other: Image.Image) -> float:
    """Mean structural similarity of the grey images (Wang et al. 2004: 11x11 Gaussian window,
    sigma 1.5, K1 = 0.01, K2 = 0.03, dynamic range 255)."""
    a = grey(reference).astype(np.float64)
    b = grey(other).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"sizes differ: {a.shape} vs {b.shape}")
    kernel = _gaussian_window(min(11, min(a.shape) // 2 * 2 - 1 or 1))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = _filter(a, kernel), _filter(b, kernel)
    var_a = _filter(a * a, kernel) - mu_a**2
    var_b = _filter(b * b, kernel) - mu_b**2
    cov = _filter(a * b, kernel) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    return float(index.mean())


def psnr(reference: Image.Image, other: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB over the RGB pixels (inf when identical)."""
    a = np.asarray(reference.convert("RGB"), dtype=np.float64)
    b = np.asarray(other.convert("RGB"), dtype=np.float64)
    mse = float(((a - b) ** 2).mean())
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def glyph_energy_share(reference: Image.Image, other: Image.Image) -> float:
    """Share of the squared perturbation (grey) that falls on glyph ink of the ordinary image."""
    diff = grey(other).astype(np.float64) - grey(reference).astype(np.float64)
    energy = diff**2
    total = float(energy.sum())
    return 0.0 if total == 0 else float(energy[ink_mask(reference)].sum() / total)
