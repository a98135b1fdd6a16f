"""Where does a reader lose case? Its case-only errors by ink contrast and by text length.

A case-only error is an answer right ignoring case and wrong with it. If they gathered in
faint captchas (python `captcha` draws text in a random colour over a light background), the
cue would be lost to contrast; if they grew per character with the text length (longer lines
are squeezed harder into the same width), to the squeeze. Contrast is the image's median grey
minus its 1st-percentile grey. The test images are samples ``0..count-1`` at the test seed,
read by the exported ONNX model through the Solver.

    python benchmarks/case_errors.py runs/hku_context_640k/model.onnx --scheme hku --count 2000
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from bench_common import markdown_table, percent

from captchalab.inference.solver import Solver
from captchalab.schemes import get_scheme
from captchalab.training.config import TEST_SEED


def contrast(image: object) -> float:
    grey = np.asarray(image.convert("L"), dtype=np.float32)  # type: ignore[attr-defined]
    return float(np.median(grey) - np.percentile(grey, 1))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="an exported .onnx model (or 'default')")
    parser.add_argument("--scheme", default="hku")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--bins", type=int, default=5, help="contrast quantile bins")
    args = parser.parse_args(argv)
    scheme, solver = get_scheme(args.scheme), Solver.load(args.model)
    samples = [scheme.sample_at(TEST_SEED, i) for i in range(args.count)]
    answers = [p.text for p in solver.solve([image for image, _ in samples])]
    texts = [text for _, text in samples]
    exact = np.array([a == t for a, t in zip(answers, texts, strict=True)])
    folded = np.array([a.lower() == t.lower() for a, t in zip(answers, texts, strict=True)])
    case_only = folded & ~exact
    values = np.array([contrast(image) for image, _ in samples])
    edges = np.quantile(values, np.linspace(0, 1, args.bins + 1))
    which = np.searchsorted(edges[1:-1], values, side="right")  # each image in one bin
    by_contrast = []
    for k, (lo, hi) in enumerate(itertools.pairwise(edges)):
        m = which == k
        by_contrast.append(
            [
                f"{lo:.0f}-{hi:.0f}",
                str(m.sum()),
                percent(exact[m].mean()),
                percent(case_only[m].mean()),
            ]
        )
    by_length = []
    for length in sorted({len(t) for t in texts}):
        m = np.array([len(t) == length for t in texts])
        share = case_only[m].mean()
        by_length.append(
            [
                str(length),
                str(m.sum()),
                percent(exact[m].mean()),
                percent(share),
                percent(share / length),
            ]
        )
    print(
        f"{args.model} on {args.scheme}: exact {percent(exact.mean())}, "
        f"ignoring case {percent(folded.mean())}\n"
    )
    print(
        "\n".join(markdown_table(["contrast", "images", "exact", "case-only errors"], by_contrast))
    )
    print()
    headers = ["length", "images", "exact", "case-only errors", "per character"]
    print("\n".join(markdown_table(headers, by_length)))


if __name__ == "__main__":
    main()
