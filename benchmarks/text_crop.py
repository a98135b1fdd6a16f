"""What the text crop's rule is worth: the current ``resize.text_box`` against the previous one.

Preprocessing version 3 first cuts uniform bars off the edges (letterboxing, frames), then
finds the text as the run of inky rows around the inkiest row, and its columns from the ink
inside those rows only. Version 2 (kept here as
:func:`previous_text_box`) took every row and column from the first to the last one holding
a tenth of the peak's ink, so dots scattered over a big canvas could stretch the box to the
whole image. This script reads the release benchmark (every preset, every
``configs/schemes/`` YAML scheme and the Kaggle test split) with one model twice, changing
only the box, and writes the per-set table:

    python benchmarks/text_crop.py --model default --count 300 \
        --out benchmarks/results/text_crop.md
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from bench_common import (
    KAGGLE_DIR,
    SCHEME_FILES,
    command_line,
    machine_lines,
    markdown_table,
    percent,
    publish,
)

from captchalab.data import resize
from captchalab.evaluation.release import BenchmarkSet, exact_accuracy, release_benchmark
from captchalab.inference import Solver

TextBox = Callable[[np.ndarray], tuple[int, int, int, int]]


def previous_text_box(luma: np.ndarray) -> tuple[int, int, int, int]:
    """Preprocessing version 2's box: first to last line with a tenth of the peak's ink."""
    height, width = luma.shape
    ring = np.concatenate([luma[0, :], luma[-1, :], luma[:, 0], luma[:, -1]])
    background = int(np.sort(ring)[(ring.size - 1) // 2])
    ink = np.abs(luma.astype(np.int32) - background) >= resize.CROP_CONTRAST
    rows, cols = ink.sum(axis=1), ink.sum(axis=0)
    if not rows.any():
        return 0, height, 0, width

    def span(counts: np.ndarray) -> tuple[int, int]:
        peak = int(counts.max())
        core = np.flatnonzero(counts * 10 >= peak)
        start, end = int(core[0]), int(core[-1]) + 1
        while start > 0 and counts[start - 1] * 50 >= peak:
            start -= 1
        while end < len(counts) and counts[end] * 50 >= peak:
            end += 1
        return start, end

    top, bottom = span(rows)
    left, right = span(cols)
    margin = max(2, (bottom - top) // 4)
    return (
        max(0, top - margin),
        min(height, bottom + margin),
        max(0, left - margin),
        min(width, right + margin),
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="ONNX model with crop_text on")
    parser.add_argument("--count", type=int, default=300, help="images per synthetic set")
    parser.add_argument("--kaggle", type=Path, default=KAGGLE_DIR, help="kaggle_captcha_v2 dir")
    parser.add_argument("--out", type=Path, help="write the markdown table here")
    return parser.parse_args(argv)


def read_with(box: TextBox, solver: Solver, sets: list[BenchmarkSet]) -> dict[str, float]:
    current = resize.text_box
    resize.text_box = box  # preprocess.to_array looks the box up at call time
    try:
        return {bench.name: exact_accuracy(solver, bench) for bench in sets}
    finally:
        resize.text_box = current


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    solver = Solver.load(args.model)
    if not solver.preprocessing.crop_text:
        raise SystemExit(f"{args.model}: this model does not crop to the text (crop_text off)")
    sets = release_benchmark(SCHEME_FILES, args.kaggle, args.count, note=lambda _: None)
    started = time.perf_counter()
    before = read_with(previous_text_box, solver, sets)
    after = read_with(resize.text_box, solver, sets)
    rows = [
        [
            f"`{name}`",
            percent(before[name]),
            percent(after[name]),
            f"{100 * (after[name] - before[name]):+.1f}",
        ]
        for name in before
    ]
    mean_before, mean_after = (
        float(np.mean(list(before.values()))),
        float(np.mean(list(after.values()))),
    )
    rows.append(
        [
            "mean",
            percent(mean_before),
            percent(mean_after),
            f"{100 * (mean_after - mean_before):+.1f}",
        ]
    )
    lines = [
        "# The text crop: preprocessing version 2 against version 3",
        "",
        f"Command: `{command_line()}`; model `{args.model}` ({solver.name}); "
        f"{args.count} images per synthetic set; {time.perf_counter() - started:.0f} s.",
        "Only the box differs; every other step is the same Solver on the same images.",
        "",
        *markdown_table(
            [
                "set",
                "version 2 (first to last inky line)",
                "version 3 (bars cut, run around the peak)",
                "change (points)",
            ],
            rows,
        ),
        "",
        *machine_lines(),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        publish(text, args.out)


if __name__ == "__main__":
    main()
