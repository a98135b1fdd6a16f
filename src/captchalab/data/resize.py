"""Pixels -> model input, defined exactly so that other languages can compute the same tensor.

The browser extension (``extension/src/lib/preprocess.js``) implements every step here; its
tests check the JavaScript against tensors written by this module, and the two agree bit for
bit. Each step is integer arithmetic, or float arithmetic whose every rounding is stated:

- grayscale: ITU-R 601-2 luma in 16-bit fixed point, ``(19595 R + 38470 G + 7471 B + 32768)
  >> 16`` (Pillow's ``convert("L")`` computes exactly this);
- text crop (optional, before everything below): first, bars along the edges are cut off
  (:func:`bar_box`): a line is uniform when at least 90% of its pixels are less than
  ``CROP_CONTRAST`` grey levels from its median (the lower middle value), and the leading
  rows from the top form a bar when they are uniform at one level and the next row, within
  the first half, is uniform at a level at least ``CROP_CONTRAST`` away (letterbox bars, a
  frame); then the same from the bottom, then the columns from the left and the right
  within the rows left. In what remains, the background is the median of the grayscale
  image's outer ring (the lower middle value of the sorted ring); ink is every pixel
  at least ``CROP_CONTRAST`` grey levels from it. A line (row or column) is a core line when
  it holds at least a tenth of the inkiest line's ink. The text's rows are the run of core
  rows around the inkiest row (the first one when several tie) in which neighbouring core
  rows have at most ``max(2, H // 20)`` other rows between them, grown outwards while the
  next row holds a fiftieth of the peak (so descenders stay). The columns are found the same
  way from the ink inside those rows only, with up to the rows' height (at least 2) between
  core columns. Noise scattered over the canvas (dots, specks) therefore neither joins the
  run nor counts towards the columns. The box, widened by a margin of a quarter of its
  height (at least 2 px) on every side and clipped to what the bars leave, is kept
  (:func:`text_box`). Images without ink keep all but their bars;
- median filter: odd square window over the edge-replicated image, per channel;
- resize: Pillow's BILINEAR on float32 ("F") images, per channel: a separable triangle filter
  whose support widens with the downscale factor (:func:`resize_weights`), columns first, each
  output the float64 sum of its taps in increasing input order, rounded to float32 after each
  pass. Unlike Pillow on 8-bit images there is no rounding to 8 bits between the passes;
- "pad": the inner size keeps the aspect ratio, rounded half up in integer arithmetic; the
  rest of the canvas (right and bottom) takes the median of the resized image's outer ring
  (float64; an even count takes the mean of the two middle values);
- output: value / 255 in float64, rounded to float32, ``(C, H, W)``;
- dynamic width (models whose width axis is free): the "pad" canvas is cut after its content,
  i.e. after the last column that differs anywhere from the right edge's fill (when the right
  edge column is one constant per channel; otherwise nothing is cut), rounded up to a
  multiple of :data:`WIDTH_STEP` and kept within ``[min_width, width]``
  (:func:`content_width`, :func:`input_width`).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

LUMA_WEIGHTS = (19595, 38470, 7471)  # sum 65536: luma = (weights . rgb + 32768) >> 16
# Bumped whenever an array this module computes changes (render caches are keyed by it).
# 3: the text crop cuts edge bars and follows the run of text around the inkiest line
PREPROCESSING_VERSION = 3
WIDTH_STEP = 16  # dynamic-width inputs are cut to a multiple of this many columns
CROP_CONTRAST = 40  # grey levels from the background that count as ink for the text crop


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


def resize_weights(in_size: int, out_size: int) -> np.ndarray:
    """``(out_size, in_size)`` float64 matrix of the triangle filter; each row sums to 1.

    Output sample ``i`` is centred on input coordinate ``c = (i + 0.5) * in_size / out_size``;
    with ``f = max(in_size / out_size, 1)`` its taps are inputs ``x`` from
    ``trunc(c - f + 0.5)`` to ``trunc(c + f + 0.5)`` (clipped), weighted
    ``max(0, 1 - |(x - c + 0.5) * (1 / f)|)`` and divided by their sum (summed in order).
    This is the statement of what :func:`resize` computes, for readers and tests.
    """
    if in_size < 1 or out_size < 1:
        raise ValueError(f"sizes must be positive, got {in_size} -> {out_size}")
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    reciprocal = 1.0 / filter_scale
    weights = np.zeros((out_size, in_size), dtype=np.float64)
    for i in range(out_size):
        centre = (i + 0.5) * scale
        low = max(int(centre - filter_scale + 0.5), 0)
        high = min(int(centre + filter_scale + 0.5), in_size)
        total = 0.0
        for x in range(low, high):
            distance = abs((x - centre + 0.5) * reciprocal)
            weights[i, x] = 1.0 - distance if distance < 1.0 else 0.0
            total += weights[i, x]
        if total != 0.0:
            weights[i] /= total
    return weights


def resize(planes: np.ndarray, height: int, width: int) -> np.ndarray:
    """``(C, H, W)`` values -> ``(C, height, width)`` float32 (see the module docstring)."""
    if height < 1 or width < 1:
        raise ValueError(f"sizes must be positive, got {height}x{width}")
    out = np.empty((planes.shape[0], height, width), dtype=np.float32)
    for channel, plane in enumerate(planes):
        image = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32), mode="F")
        out[channel] = np.asarray(image.resize((width, height), Image.Resampling.BILINEAR))
    return out


def inner_size(width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    """The largest ``(w, h)`` of the image's aspect ratio that fits the box, rounded half up."""
    if width * box_height >= height * box_width:  # limited by the width
        return box_width, max(1, (height * box_width * 2 + width) // (2 * width))
    return max(1, (width * box_height * 2 + height) // (2 * height)), box_height


def border_value(planes: np.ndarray) -> np.ndarray:
    """``(C,)`` float64 median of the outer ring (top row, bottom row, left column, right
    column, corners counted in each) of ``(C, H, W)`` values: a guess of the background."""
    ring = np.concatenate(
        [planes[:, 0, :], planes[:, -1, :], planes[:, :, 0], planes[:, :, -1]], axis=1
    ).astype(np.float64)
    ordered = np.sort(ring, axis=1)
    n = ordered.shape[1]
    if n % 2:
        return ordered[:, n // 2]
    return (ordered[:, n // 2 - 1] + ordered[:, n // 2]) / 2


def fit(planes: np.ndarray, height: int, width: int, mode: str) -> np.ndarray:
    """``(C, H, W)`` values -> ``(C, height, width)`` float64 by "stretch" or "pad"."""
    if mode == "stretch" or planes.shape[1:] == (height, width):
        return resize(planes, height, width).astype(np.float64)
    if mode != "pad":
        raise ValueError(f"resize must be 'stretch' or 'pad', got {mode!r}")
    inner_w, inner_h = inner_size(planes.shape[2], planes.shape[1], width, height)
    resized = resize(planes, inner_h, inner_w)
    canvas = np.empty((planes.shape[0], height, width), dtype=np.float64)
    canvas[:] = border_value(resized)[:, None, None]
    canvas[:, :inner_h, :inner_w] = resized
    return canvas


def content_width(planes: np.ndarray) -> int:
    """Columns of a ``(C, H, W)`` canvas up to its last one that is not pure fill.

    The fill is the right edge column, when that column is one constant per channel (the
    padding "pad" adds, or a flat background); a canvas whose right edge varies is all
    content. Cutting the fill columns loses nothing: they hold no ink.
    """
    edge = planes[:, :, -1]  # (C, H)
    if not (edge == edge[:, :1]).all():
        return int(planes.shape[2])
    fill = edge[:, :1, None]  # (C, 1, 1)
    differs = (planes != fill).any(axis=(0, 1))  # (W,)
    columns = np.flatnonzero(differs)
    return int(columns[-1]) + 1 if columns.size else 0


def input_width(content: int, min_width: int, max_width: int) -> int:
    """``content`` columns rounded up to a multiple of ``WIDTH_STEP``, within the bounds."""
    stepped = -(-content // WIDTH_STEP) * WIDTH_STEP
    return min(max_width, max(min_width, stepped))


def text_box(luma: np.ndarray) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` (end-exclusive) of the text in an ``(H, W)`` uint8
    grayscale image, with its margin (see the module docstring); all of the image inside
    its edge bars when it has no ink."""
    top, bottom, left, right = bar_box(luma)
    inner = _ink_box(luma[top:bottom, left:right])
    return inner[0] + top, inner[1] + top, inner[2] + left, inner[3] + left


def bar_box(luma: np.ndarray) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)``: the ``(H, W)`` grayscale image without the uniform
    bars along its edges (letterboxing, frames; see the module docstring)."""
    height, width = luma.shape
    levels, uniform = _line_stats(luma)  # every row: the top and the bottom bar share them
    top = _bar_length(levels, uniform, height)
    bottom = height - _bar_length(levels[::-1], uniform[::-1], height - top)
    levels, uniform = _line_stats(np.ascontiguousarray(luma[top:bottom].T))
    left = _bar_length(levels, uniform, width)
    right = width - _bar_length(levels[::-1], uniform[::-1], width - left)
    return top, bottom, left, right


def _line_stats(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each line's level (its median, the lower middle value) and whether it is uniform: at
    least 90% of it within ``CROP_CONTRAST`` of that level."""
    if not lines.size:
        return np.zeros(len(lines), np.int16), np.zeros(len(lines), bool)
    middle = (lines.shape[1] - 1) // 2
    levels = np.partition(lines, middle, axis=1)[:, middle].astype(np.int16)
    near = (np.abs(lines.astype(np.int16) - levels[:, None]) < CROP_CONTRAST).sum(1, np.int32)
    return levels, near * 10 >= lines.shape[1] * 9


def _bar_length(levels: np.ndarray, uniform: np.ndarray, count: int) -> int:
    """How many of the first ``count`` lines (their :func:`_line_stats`) form a bar: uniform
    at one level, followed (within the first half) by a uniform line of another level;
    else 0."""
    if not count or not uniform[0]:
        return 0
    block = count // 2 + 1  # every line that may end a bar
    other = np.abs(levels[1:block] - levels[0]) >= CROP_CONTRAST
    ends = np.flatnonzero(~uniform[1:block] | other)  # the first line that is no longer the bar
    if not len(ends):
        return 0
    end = int(ends[0]) + 1
    return end if uniform[end] else 0


def _ink_box(luma: np.ndarray) -> tuple[int, int, int, int]:
    """:func:`text_box` inside the bars: the text's box with its margin, or all of ``luma``."""
    height, width = luma.shape
    ring = np.concatenate([luma[0, :], luma[-1, :], luma[:, 0], luma[:, -1]])
    middle = (ring.size - 1) // 2
    background = int(np.partition(ring, middle)[middle])
    ink = np.abs(luma.astype(np.int16) - background) >= CROP_CONTRAST
    rows = ink.sum(1, np.int32)
    if not rows.any():
        return 0, height, 0, width
    top, bottom = _ink_span(rows, max(2, height // 20))
    left, right = _ink_span(ink[top:bottom].sum(0, np.int32), max(2, bottom - top))
    margin = max(2, (bottom - top) // 4)
    return (
        max(0, top - margin),
        min(height, bottom + margin),
        max(0, left - margin),
        min(width, right + margin),
    )


def _ink_span(counts: np.ndarray, gap: int) -> tuple[int, int]:
    """``[start, end)``: the run of core lines (a tenth of the peak's ink) around the first
    peak, with at most ``gap`` other lines between neighbouring core lines, grown outwards
    while the next line holds a fiftieth of the peak (descenders, ascenders, thin serifs)."""
    peak = int(counts.max())
    core = np.flatnonzero(counts * 10 >= peak)
    # breaks[i]: core line breaks[i] and the next one have more than `gap` lines between
    breaks = np.flatnonzero(np.diff(core) > gap + 1)
    peak_at = int(np.searchsorted(core, int(np.argmax(counts))))
    k = int(np.searchsorted(breaks, peak_at))  # breaks[k - 1] < peak_at <= breaks[k]
    first = int(breaks[k - 1]) + 1 if k else 0
    last = int(breaks[k]) if k < len(breaks) else len(core) - 1
    start, end = int(core[first]), int(core[last]) + 1
    while start > 0 and counts[start - 1] * 50 >= peak:
        start -= 1
    while end < len(counts) and counts[end] * 50 >= peak:
        end += 1
    return start, end
