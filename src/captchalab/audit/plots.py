"""The report's figures, drawn with matplotlib (Agg) and returned as PNG bytes."""

from __future__ import annotations

import base64
import io
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from captchalab.audit.anchors import ANCHORS
from captchalab.audit.curves import PowerLaw


def _figure(width: float = 6.4, height: float = 3.6) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def _png(figure: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def learning_curve(
    curves: dict[str, list[dict[str, Any]]],
    fits: dict[str, PowerLaw | None],
    x_key: str,
    x_label: str,
    baselines: dict[str, float],
    show_anchors: bool,
) -> bytes:
    """Accuracy against ``x_key`` (samples or cpu_minutes), log x, with fitted power laws."""
    figure = _figure()
    axes = figure.add_subplot(1, 1, 1)
    top = 1.0
    for (label, points), colour in zip(curves.items(), ("C0", "C1", "C2", "C3"), strict=False):
        xs = [p[x_key] for p in points]
        ys = [100 * p["accuracy"] for p in points]
        if not xs:
            continue
        axes.plot(xs, ys, "o-", color=colour, label=label)
        fit = fits.get(label)
        if fit is not None:
            span = np.geomspace(min(xs), max(xs) * 30, 50)
            axes.plot(span, [100 * fit.accuracy(x) for x in span], "--", color=colour, alpha=0.6)
        top = max(top, max(xs) * 30)
    for (name, value), colour in zip(baselines.items(), ("C4", "C5"), strict=False):
        axes.axhline(100 * value, color=colour, linestyle=":", label=name)
    if show_anchors and x_key == "samples":
        for index, anchor in enumerate(ANCHORS):
            axes.plot([anchor.samples], [anchor.accuracy * 100], "*", markersize=11, color="C3")
            axes.annotate(
                f"{anchor.short} {anchor.accuracy:.2%}",
                (anchor.samples, anchor.accuracy * 100),
                textcoords="offset points",
                xytext=(-10, -14 - 10 * index),
                fontsize=7,
                ha="right",
            )
        top = max(top, 1e6)
    axes.set_xscale("log")
    axes.set_xlim(right=top)
    axes.set_ylim(-2, 102)
    axes.set_xlabel(x_label)
    axes.set_ylabel("exact accuracy (%)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8, loc="upper left")
    return _png(figure)


def sensitivity(rows: Sequence[dict[str, Any]]) -> bytes:
    """Accuracy change per varied factor (points), as horizontal bars."""
    measured = [r for r in rows if r.get("delta") is not None]
    figure = _figure(6.4, max(1.6, 0.4 * len(measured) + 0.8))
    axes = figure.add_subplot(1, 1, 1)
    labels = [f"{r['label']}: {r['change']}" for r in measured]
    deltas = [100 * r["delta"] for r in measured]
    colours = ["C3" if d < 0 else "C2" for d in deltas]
    axes.barh(range(len(deltas)), deltas, color=colours)
    axes.set_yticks(range(len(deltas)), labels, fontsize=8)
    axes.axvline(0, color="black", linewidth=0.8)
    axes.invert_yaxis()
    axes.set_xlabel("attacker accuracy change (points)")
    axes.grid(True, axis="x", alpha=0.3)
    return _png(figure)


def per_position(accuracies: Sequence[float]) -> bytes:
    figure = _figure(4.8, 2.6)
    axes = figure.add_subplot(1, 1, 1)
    axes.bar([str(i + 1) for i in range(len(accuracies))], [100 * a for a in accuracies])
    axes.set_ylim(0, 100)
    axes.set_xlabel("position")
    axes.set_ylabel("character accuracy (%)")
    axes.grid(True, axis="y", alpha=0.3)
    return _png(figure)


def confusion(result: Any, charset: str) -> bytes:
    from captchalab.evaluation.confusion_plot import plot_confusion

    with tempfile.TemporaryDirectory() as folder:
        path = plot_confusion(result, Path(folder) / "confusion.png", "", charset)
        return path.read_bytes()


def image_factors(relations: Sequence[dict[str, Any]]) -> bytes:
    """Error rate per tercile of each measured factor."""
    figure = _figure(8.0, 2.4)
    for i, relation in enumerate(relations):
        axes = figure.add_subplot(1, len(relations), i + 1)
        bins = relation["bins"]
        names = [f"{b['low']:.2g}-{b['high']:.2g}" for b in bins]
        axes.bar(names, [100 * b["error_rate"] for b in bins], color="C1")
        axes.set_title(relation["label"], fontsize=9)
        axes.set_ylim(0, 100)
        axes.tick_params(axis="x", labelsize=7, rotation=30)
        if i == 0:
            axes.set_ylabel("error rate (%)")
    return _png(figure)


def example_grid(
    images: np.ndarray,
    maps: Sequence[np.ndarray],
    captions: Sequence[str],
    title: str,
) -> bytes:
    """One row per example: the input, then each heat map over it."""
    columns = 1 + max((len(m) for m in maps), default=0)
    rows = len(images)
    figure = _figure(1.6 * columns, 0.75 * rows + 0.5)
    figure.suptitle(title, fontsize=9)
    for row in range(rows):
        gray = images[row].mean(axis=0)  # (C, H, W) -> (H, W)
        axes = figure.add_subplot(rows, columns, row * columns + 1)
        axes.imshow(gray, cmap="gray", vmin=0, vmax=255)
        axes.set_title(captions[row], fontsize=7)
        axes.axis("off")
        for column, heat in enumerate(maps[row]):
            axes = figure.add_subplot(rows, columns, row * columns + column + 2)
            axes.imshow(gray, cmap="gray", vmin=0, vmax=255)
            axes.imshow(heat, cmap="jet", alpha=0.5, vmin=0, vmax=1)
            axes.axis("off")
    return _png(figure)
