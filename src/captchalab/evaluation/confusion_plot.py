"""Character confusion matrix: counts from an ``EvaluationResult`` and a heatmap PNG.

Rows are true characters, columns predicted characters plus a last column for deletions;
both are restricted to characters that occur. Cells are coloured by share of their row, so
rare and common characters read on one scale, through a power curve (``COLOUR_GAMMA``) so a
1% confusion is visible beside a 99% diagonal. matplotlib (Agg canvas, no pyplot state) draws
the heatmap when installed; otherwise Pillow draws a plainer one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from captchalab.evaluation.alignment import GAP
from captchalab.evaluation.metrics import EvaluationResult

logger = logging.getLogger(__name__)

DELETION_LABEL = "del"
# Cell counts are printed only while the matrix is small enough to read them.
ANNOTATE_UP_TO = 30
# Shade = share ** COLOUR_GAMMA: lifts small error shares off white.
COLOUR_GAMMA = 0.35


def confusion_matrix(
    result: EvaluationResult, charset: str | None = None
) -> tuple[list[str], list[str], np.ndarray]:
    """``(true_chars, predicted_chars, counts)``; counts is (rows, cols) int64.

    Columns are every character seen on either side, then ``GAP`` (deletions). Insertions
    have no true character and are left out. Characters follow ``charset`` order when given,
    the rest sorted after them.
    """
    pairs = [(t, p, n) for t, p, n in result.confusion_counts if t != GAP]
    true_chars = _ordered({t for t, _, _ in pairs}, charset)
    seen = {t for t, _, _ in pairs} | {p for _, p, _ in pairs if p != GAP}
    predicted_chars = [*_ordered(seen, charset), GAP]
    row_of = {char: i for i, char in enumerate(true_chars)}
    col_of = {char: j for j, char in enumerate(predicted_chars)}
    counts = np.zeros((len(true_chars), len(predicted_chars)), dtype=np.int64)
    for true, predicted, n in pairs:
        counts[row_of[true], col_of[predicted]] += n
    return true_chars, predicted_chars, counts


def plot_confusion(
    result: EvaluationResult, path: Path, title: str = "", charset: str | None = None
) -> Path:
    """Write the confusion heatmap PNG to ``path`` and return it."""
    true_chars, predicted_chars, counts = confusion_matrix(result, charset)
    # (rows, cols) counts -> share of each row; rows are never empty by construction.
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    rows = [_tick_label(c) for c in true_chars]
    cols = [_tick_label(c) for c in predicted_chars]
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas_classes = _load_matplotlib()
    if canvas_classes is None or not rows:
        if rows:
            logger.info("matplotlib not installed; drawing the confusion matrix with Pillow")
        _draw_with_pillow(rates, counts, rows, cols, title).save(path)
    else:
        _draw_with_matplotlib(canvas_classes, rates, counts, rows, cols, title, path)
    return path


def _ordered(chars: set[str], charset: str | None) -> list[str]:
    first = [c for c in dict.fromkeys(charset or "") if c in chars]
    return first + sorted(chars.difference(first))


def _tick_label(char: str) -> str:
    if char == GAP:
        return DELETION_LABEL
    return "sp" if char.isspace() else char


def _load_matplotlib() -> tuple[Any, Any, Any] | None:
    """``(Figure, FigureCanvasAgg, PowerNorm)``, imported lazily; ``None`` without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import PowerNorm
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure, FigureCanvasAgg, PowerNorm


def _draw_with_matplotlib(
    canvas_classes: tuple[Any, Any, Any],
    rates: np.ndarray,
    counts: np.ndarray,
    rows: list[str],
    cols: list[str],
    title: str,
    path: Path,
) -> None:
    figure_class, canvas_class, norm_class = canvas_classes
    size = max(4.0, 0.3 * len(cols) + 2.0), max(3.0, 0.3 * len(rows) + 1.5)
    figure = figure_class(figsize=size, dpi=100, layout="constrained")
    canvas_class(figure)  # attaches the Agg canvas; pyplot's global state stays untouched
    axes = figure.add_subplot()
    norm = norm_class(gamma=COLOUR_GAMMA, vmin=0.0, vmax=1.0)
    image = axes.imshow(rates, cmap="Blues", norm=norm)
    axes.set_xticks(range(len(cols)), cols)
    axes.set_yticks(range(len(rows)), rows)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    if len(cols) <= ANNOTATE_UP_TO:
        for (i, j), n in np.ndenumerate(counts):
            if n:
                colour = "white" if rates[i, j] ** COLOUR_GAMMA > 0.6 else "black"
                axes.text(j, i, str(n), ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=axes, label="share of true character")
    figure.savefig(path)


def _draw_with_pillow(
    rates: np.ndarray, counts: np.ndarray, rows: list[str], cols: list[str], title: str
) -> Image.Image:
    cell, margin, header = 22, 34, 36
    width = max(margin + cell * len(cols) + 8, 200)
    height = header + cell * max(len(rows), 1) + 8
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    draw.text((4, 2), title or "confusion (rows: true, cols: predicted)", fill="black", font=font)
    if not rows:
        draw.text((4, header), "no label characters", fill="black", font=font)
        return image
    for j, label in enumerate(cols):
        draw.text((margin + j * cell + 3, header - 16), label, fill="black", font=font)
    for i, label in enumerate(rows):
        top = header + i * cell
        draw.text((4, top + 4), label, fill="black", font=font)
        for j in range(len(cols)):
            left = margin + j * cell
            box = (left, top, left + cell - 1, top + cell - 1)
            draw.rectangle(box, fill=_blue(float(rates[i, j])), outline=(220, 220, 220))
            if counts[i, j] and len(cols) <= ANNOTATE_UP_TO:
                colour = "white" if rates[i, j] ** COLOUR_GAMMA > 0.6 else "black"
                draw.text((left + 3, top + 4), str(counts[i, j]), fill=colour, font=font)
    return image


def _blue(rate: float) -> tuple[int, int, int]:
    """White (rate 0) to dark blue (rate 1), close to matplotlib's "Blues" on the same curve."""
    low, high = np.array([247, 251, 255]), np.array([8, 48, 107])
    shade = min(max(rate, 0.0), 1.0) ** COLOUR_GAMMA
    red, green, blue = (low + (high - low) * shade).round().astype(int)
    return int(red), int(green), int(blue)
