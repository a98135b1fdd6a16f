"""Score an exported ONNX model the way users get it: raw scheme images through the Solver.

Renders samples ``0..count-1`` of a scheme at the fixed test seed as PIL images (never the
training cache), solves them with ``Solver.load(model)`` (the same preprocessing path as
``captchalab solve``), and writes an evaluation report folder (summary.md, metrics.json,
confusion.png) with exact / case-insensitive accuracy, CER, per-position accuracy and
confusions. Torch is not imported.

    python benchmarks/seed_results.py runs/seed_digits5/model.onnx --scheme digits5 \\
        --count 2000 --out docs/results/seed_digits5_multihead
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench_common import display_path, machine_lines, progress_bar
from rich.console import Console

from captchalab.evaluation import EvaluationResult, evaluate_predictions, write_report
from captchalab.inference.solver import Solver
from captchalab.schemes import get_scheme
from captchalab.training.config import TEST_SEED

BATCH = 64

Example = tuple[str, str, float | None]


def score_onnx(
    model: str | Path, scheme_name: str, count: int = 2000, seed: int = TEST_SEED
) -> tuple[EvaluationResult, list[Example]]:
    """Metrics plus ``(label, prediction, confidence)`` for samples ``0..count-1``."""
    if count < 1:
        raise ValueError("count must be positive")
    solver = Solver.load(model)
    scheme = get_scheme(scheme_name)
    labels: list[str] = []
    texts: list[str] = []
    confidences: list[float] = []
    with progress_bar(Console(stderr=True)) as bar:
        task = bar.add_task(f"solve {scheme_name}", total=count)
        for start in range(0, count, BATCH):
            images = []
            for index in range(start, min(start + BATCH, count)):
                image, text = scheme.sample_at(seed, index)
                images.append(image)
                labels.append(solver.charset.normalize(text))
            for prediction in solver.solve(images):
                texts.append(prediction.text)
                confidences.append(prediction.confidence)
            bar.advance(task, len(images))
    result = evaluate_predictions(
        labels, texts, confidences, case_sensitive=solver.charset.case_sensitive
    )
    return result, list(zip(labels, texts, confidences, strict=True))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="exported .onnx file (captchalab export)")
    parser.add_argument("--scheme", required=True, help="scheme whose test seed to score on")
    parser.add_argument("--count", type=int, default=2000, help="test images (default 2000)")
    parser.add_argument("--out", type=Path, help="report folder (summary.md, metrics.json)")
    args = parser.parse_args(argv)
    try:
        started = time.perf_counter()
        result, examples = score_onnx(args.model, args.scheme, args.count)
        elapsed = time.perf_counter() - started
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{args.scheme}: exact {result.exact_accuracy:.2%}, case-insensitive "
        f"{result.case_insensitive_accuracy:.2%}, CER {result.character_error_rate:.2%} "
        f"on {result.count} images ({elapsed:.0f} s)"
    )
    print("per position: " + ", ".join(f"{a:.2%}" for a in result.per_position_accuracy))
    top = result.top_confusions[:10]
    print("top confusions: " + ", ".join(f"{t or '+'}->{p or '-'} {n}" for t, p, n in top))
    if args.out:
        title = f"{display_path(args.model)} (ONNX, Solver) on {args.scheme}"
        summary = write_report(result, args.out, title=title, examples=examples)
        command = (
            f"python benchmarks/seed_results.py {display_path(args.model)} "
            f"--scheme {args.scheme} --count {args.count} --out {display_path(args.out)}"
        )
        machine = "\n".join(machine_lines(["onnxruntime"]))
        summary.write_text(
            summary.read_text() + f"\n## How measured\n\n{machine}\n- command: `{command}`\n"
        )
        print(f"report written to {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
