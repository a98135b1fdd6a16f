"""Pixels -> model input, defined exactly so that other languages can compute the same tensor.

The browser extension (``extension/src/lib/preprocess.js``) implements every function here
step by step; its tests check the JavaScript against tensors written by this module. Each step
is either integer arithmetic or float64 arithmetic with no intermediate rounding, so two
implementations agree to about 1e-12 (the float32 output differs at most in its last bit):

- grayscale: ITU-R 601-2 luma in 16-bit fixed point, ``(19595 R + 38470 G + 7471 B + 32768)
  >> 16`` (the same integers as Pillow's ``convert("L")``);
- median filter: odd square window over the edge-replicated image, per channel;
- resize: a separable triangle filter whose support widens with the downscale factor
  (antialiased bilinear, the same weights as Pillow's BILINEAR but applied in float64 to the
  8-bit values, with no 8-bit rounding between the two passes);
- "pad": the inner size keeps the aspect ratio, rounded half up in integer arithmetic; the
  rest of the canvas (right and bottom) takes the median of the resized image's outer ring;
- output: values / 255 as float32, ``(C, H, W)``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

LUMA_WEIGHTS = (19595, 38470, 7471)  # sum 65536: luma = (weights . rgb + 32768) >> 16


def grayscale(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB -> ``(H, W)`` uint8 luma."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) RGB pixels, got shape {rgb.shape}")
    wide = rgb.astype(np.uint32)
    r, g, b = LUMA_WEIGHTS
    luma = (wide[..., 0] * r + wide[..., 1] * g + wide[..., 2] * b + 32768) >> 16
    return luma.astype(np.uint8)


def median_filter(pixels: np.ndarray, size: int) -> np.ndarray:
    """Median of each ``size x size`` window (odd ``size``) of ``(H, W, C)`` uint8 pixels,
    with the border replicated outwards; the result has the input's shape and dtype."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"median filter size must be odd and positive, got {size}")
    if size == 1:
        return pixels.copy()
    half = size // 2
    padded = np.pad(pixels, ((half, half), (half, half), (0, 0)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size), axis=(0, 1))
    # An odd count of integers: the median is the middle one, exactly.
    return np.median(windows, axis=(-2, -1)).astype(pixels.dtype)


@lru_cache(maxsize=256)
def resize_weights(in_size: int, out_size: int) -> np.ndarray:
    """``(out_size, in_size)`` float64 matrix of the triangle filter; each row sums to 1.

    Output sample ``i`` is centred on input coordinate ``(i + 0.5) * in_size / out_size``; the
    triangle spans one input pixel each side when enlarging, ``scale`` pixels when shrinking.
    """
    if in_size < 1 or out_size < 1:
        raise ValueError(f"sizes must be positive, got {in_size} -> {out_size}")
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    support = filter_scale  # the triangle's half-width, in input pixels
    weights = np.zeros((out_size, in_size), dtype=np.float64)
    for i in range(out_size):
        centre = (i + 0.5) * scale
        low = max(int(centre - support + 0.5), 0)  # int() truncates, as in the JavaScript
        high = min(int(centre + support + 0.5), in_size)
        total = 0.0  # summed in input order, as the JavaScript does
        for x in range(low, high):
            distance = abs((x - centre + 0.5) / filter_scale)
            weights[i, x] = 1.0 - distance if distance < 1.0 else 0.0
            total += weights[i, x]
        if total != 0.0:
            weights[i] /= total
    weights.flags.writeable = False
    return weights


@lru_cache(maxsize=256)
def _taps(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The nonzero span of each row of ``resize_weights``: ``(out, K)`` indices and weights
    (rows shorter than K are padded with weight 0), in increasing input order."""
    weights = resize_weights(in_size, out_size)
    spans = [np.flatnonzero(row) for row in weights]
    taps = max(len(span) for span in spans)
    index = np.zeros((out_size, taps), dtype=np.intp)
    value = np.zeros((out_size, taps), dtype=np.float64)
    for i, span in enumerate(spans):
        index[i, : len(span)] = span
        value[i, : len(span)] = weights[i, span]
    return index, value


def _resize_axis(values: np.ndarray, out_size: int, axis: int) -> np.ndarray:
    index, weight = _taps(values.shape[axis], out_size)
    moved = np.moveaxis(values, axis, 0)  # (in, ...)
    total = np.zeros((out_size, *moved.shape[1:]), dtype=np.float64)
    extra = (slice(None),) + (None,) * (moved.ndim - 1)
    for k in range(index.shape[1]):  # taps in increasing input order, as in the JavaScript
        total += weight[:, k][extra] * moved[index[:, k]]
    return np.moveaxis(total, 0, axis)


def resize(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """``(H, W, C)`` pixels -> ``(height, width, C)`` float64: columns first, then rows,
    each output value the weighted sum of its taps in increasing input order."""
    horizontal = _resize_axis(pixels.astype(np.float64), width, axis=1)
    return _resize_axis(horizontal, height, axis=0)


def inner_size(width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    """The largest ``(w, h)`` of the image's aspect ratio that fits the box, rounded half up."""
    if width * box_height >= height * box_width:  # limited by the width
        return box_width, max(1, (height * box_width * 2 + width) // (2 * width))
    return max(1, (width * box_height * 2 + height) // (2 * height)), box_height


def border_value(pixels: np.ndarray) -> np.ndarray:
    """``(C,)`` median of the outer ring (top row, bottom row, left column, right column,
    corners counted in each) of ``(H, W, C)`` pixels: a guess of the background."""
    ring = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return np.asarray(np.median(ring, axis=0), dtype=np.float64)


def fit(pixels: np.ndarray, height: int, width: int, mode: str) -> np.ndarray:
    """``(H, W, C)`` pixels -> ``(height, width, C)`` float64 by "stretch" or "pad"."""
    if mode == "stretch" or pixels.shape[:2] == (height, width):
        return resize(pixels, height, width)
    if mode != "pad":
        raise ValueError(f"resize must be 'stretch' or 'pad', got {mode!r}")
    inner_w, inner_h = inner_size(pixels.shape[1], pixels.shape[0], width, height)
    resized = resize(pixels, inner_h, inner_w)
    canvas = np.empty((height, width, pixels.shape[2]), dtype=np.float64)
    canvas[:, :] = border_value(resized)
    canvas[:inner_h, :inner_w] = resized
    return canvas
