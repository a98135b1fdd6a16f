"""Is the Solver's confidence honest? Fit a temperature on one held-out set, check on another.

Fits T on ``--fit`` images rendered from the validation seed, then reports, on ``--count``
images from the test seed, the reliability table (per confidence bin: mean confidence vs
accuracy) and the coverage table (keep answers with confidence >= c: how many, how accurate),
before and after T. ``--write`` stores T in the ONNX file so every Solver applies it.

    python benchmarks/calibration.py --model default --scheme mix --fit 2000 --count 2000 --write
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from bench_common import command_line, machine_lines, markdown_table, percent, publish

from captchalab.data.cache import render_arrays
from captchalab.evaluation import coverage_table, expected_calibration_error, reliability_table
from captchalab.inference import Solver
from captchalab.inference.metadata import write_metadata
from captchalab.inference.solver import resolve_model_path
from captchalab.inference.temperature import fit_temperature
from captchalab.objectives.decoding import decode
from captchalab.training.config import TEST_SEED, VALIDATION_SEED


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="ONNX model (default: shipped)")
    parser.add_argument("--scheme", default="mix", help="scheme name or YAML file")
    parser.add_argument("--fit", type=int, default=2000, help="images to fit T on")
    parser.add_argument("--count", type=int, default=2000, help="images to check T on")
    parser.add_argument("--write", action="store_true", help="store T in the ONNX file")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/calibration.md"))
    return parser.parse_args()


def outcomes(
    solver: Solver, logits: np.ndarray, labels: list[str], temperature: float
) -> tuple[list[bool], list[float]]:
    decoded = decode(logits / temperature, solver.charset, solver.metadata.objective)
    correct = [d.text == solver.charset.normalize(t) for d, t in zip(decoded, labels, strict=True)]
    return correct, [d.confidence for d in decoded]


def section(title: str, correct: list[bool], confidences: list[float]) -> list[str]:
    bins = [
        [
            f"{row['lower']:.1f}-{row['upper']:.1f}",
            str(row["count"]),
            "" if row["count"] == 0 else percent(row["mean_confidence"]),
            "" if row["count"] == 0 else percent(row["accuracy"]),
        ]
        for row in reliability_table(correct, confidences)
    ]
    kept = [
        [
            f">= {row['threshold']}",
            percent(row["coverage"]),
            "" if row["accuracy"] is None else percent(row["accuracy"]),
        ]
        for row in coverage_table(correct, confidences)
    ]
    ece = expected_calibration_error(correct, confidences)
    return [
        f"## {title}",
        "",
        f"exact accuracy {percent(float(np.mean(correct)))}, expected calibration error {ece:.3f}",
        "",
        *markdown_table(["confidence", "answers", "mean confidence", "accuracy"], bins),
        "",
        *markdown_table(["keep if confidence", "answers kept", "accuracy of kept"], kept),
        "",
    ]


def main() -> None:
    args = parse_args()
    solver = Solver.load(args.model)
    spec = solver.preprocessing
    fit_images, fit_labels = render_arrays(args.scheme, spec, VALIDATION_SEED, args.fit)
    test_images, test_labels = render_arrays(args.scheme, spec, TEST_SEED, args.count)
    to_float = 1.0 / 255.0
    fit_logits = solver.logits(fit_images.astype(np.float32) * to_float)
    test_logits = solver.logits(test_images.astype(np.float32) * to_float)
    before = solver.metadata.temperature
    temperature = fit_temperature(fit_logits, fit_labels, solver.charset, solver.metadata.objective)
    lines = [
        f"# Confidence calibration: {args.scheme}, model {args.model}",
        "",
        f"`{command_line()}`",
        "",
        *machine_lines(["captchalab", "onnxruntime"]),
        "",
        f"Temperature fitted on {args.fit} validation-seed images: T = {temperature:.2f}; "
        f"checked on {args.count} test-seed images.",
        "",
        *section(f"Before (T = {before:.2f})", *outcomes(solver, test_logits, test_labels, before)),
        *section(
            f"After (T = {temperature:.2f})",
            *outcomes(solver, test_logits, test_labels, temperature),
        ),
    ]
    if args.write:
        write_metadata(
            resolve_model_path(args.model), solver.metadata.with_temperature(temperature)
        )
        lines.append(f"T = {temperature:.2f} written into {args.model}.")
    text = "\n".join(lines) + "\n"
    publish(text, args.out)


if __name__ == "__main__":
    main()
