"""Accuracy of a model through the library's resize against Pillow's BILINEAR resize.

captchalab resizes float32 images with Pillow's BILINEAR (``captchalab.data.resize``), a filter
the browser extension reproduces bit for bit in JavaScript. Models trained before that
change saw Pillow's 8-bit BILINEAR resize instead; this script measures what the change costs
such a model, on the ``mix`` scheme at the test seed and the Kaggle test split:

    python benchmarks/preprocess_resize.py --model default --count 500 \
        --out benchmarks/results/preprocess_resize.md

Both columns run the same Solver on the same images; only ``image -> tensor`` differs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from bench_common import KAGGLE_DIR, display_path, machine_lines, markdown_table
from bench_sets import BenchSet, kaggle_set, scheme_set
from PIL import Image

from captchalab.data.preprocess import Preprocessing, load_image, to_array
from captchalab.evaluation.metrics import evaluate_predictions
from captchalab.inference import Solver

Preprocess = Callable[[bytes, Preprocessing], np.ndarray]


def pillow_bilinear(data: bytes, spec: Preprocessing) -> np.ndarray:
    """The earlier path: Pillow grayscale, Pillow BILINEAR (8-bit), integer border colour."""
    image = load_image(data).convert("L" if spec.channels == 1 else "RGB")
    size = (spec.width, spec.height)
    if spec.resize == "stretch" or image.size == size:
        fitted = image.resize(size, Image.Resampling.BILINEAR)
    else:
        scale = min(spec.width / image.width, spec.height / image.height)
        inner = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        resized = image.resize(inner, Image.Resampling.BILINEAR)
        pixels = np.asarray(resized)
        ring = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
        median = np.median(ring, axis=0)
        fill = int(median) if np.ndim(median) == 0 else tuple(int(v) for v in median)
        fitted = Image.new(resized.mode, size, fill)
        fitted.paste(resized, (0, 0))
    array = np.asarray(fitted, dtype=np.float32) / 255.0
    return array[None] if spec.channels == 1 else array.transpose(2, 0, 1)


def library(data: bytes, spec: Preprocessing) -> np.ndarray:
    return to_array(load_image(data), spec)


PATHS: dict[str, Preprocess] = {
    "Pillow 8-bit BILINEAR (before)": pillow_bilinear,
    "captchalab float resize": library,
}


def measure(solver: Solver, bench: BenchSet, path: Preprocess) -> tuple[float, float, float]:
    both_cases = "".join(dict.fromkeys(s + s.swapcase() for s in bench.symbols))
    restricted = solver.restricted("".join(c for c in both_cases if c in solver.charset.symbols))
    batch = np.stack([path(image, solver.preprocessing) for image in bench.images])
    predictions = [p.text for p in restricted.solve_arrays(batch)]
    result = evaluate_predictions(bench.labels, predictions, case_sensitive=bench.case_sensitive)
    return result.exact_accuracy, result.case_insensitive_accuracy, result.character_error_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default", help="ONNX model ('default': shipped)")
    parser.add_argument("--count", type=int, default=500, help="mix images at the test seed")
    parser.add_argument("--kaggle", type=Path, default=KAGGLE_DIR)
    parser.add_argument("--out", type=Path, default=None, help="write the markdown report here")
    args = parser.parse_args()

    solver = Solver.load(args.model)
    sets = [scheme_set("mix", args.count)]
    if (args.kaggle / "split.csv").exists():
        sets.append(kaggle_set(args.kaggle))
    else:
        print(f"note: no split.csv in {args.kaggle}; the Kaggle set is left out")
    rows: list[list[str]] = []
    for bench in sets:
        for name, path in PATHS.items():
            start = time.perf_counter()
            exact, insensitive, cer = measure(solver, bench, path)
            seconds = time.perf_counter() - start
            rows.append(
                [bench.name, str(len(bench.images)), name, f"{100 * exact:.1f}%",
                 f"{100 * insensitive:.1f}%", f"{cer:.3f}", f"{seconds:.1f}"]
            )  # fmt: skip
            print(" | ".join(rows[-1]))
    lines = [
        "# Resize: captchalab's float resize against Pillow's 8-bit BILINEAR",
        "",
        f"`python benchmarks/preprocess_resize.py --model {args.model} --count {args.count}`",
        "",
        *machine_lines(["onnxruntime", "numpy", "pillow"]),
        f"- model: `{args.model}`; sets: {', '.join(f'{b.name} ({b.source})' for b in sets)}",
        "",
        *markdown_table(
            ["set", "images", "preprocessing", "exact", "case-insens.", "CER", "seconds"], rows
        ),
        "",
    ]
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines))
        print(f"wrote {display_path(args.out)}")


if __name__ == "__main__":
    main()
