"""Accuracy of voting over several renderings of one captcha, against the number of renderings.

Some sites redraw the same text on every refresh; each rendering is an independent look at the
same answer. For every test text this renders K variants (fresh noise, warp and colours), solves
each, and combines them with ``captchalab.inference.vote``.

    python benchmarks/voting.py --model hku.onnx --scheme hku --texts 300 --renderings 1 3 5 10
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from bench_common import command_line, machine_lines, markdown_table, percent, progress_bar, publish
from rich.console import Console

from captchalab.inference import Solver, vote
from captchalab.schemes import get_scheme
from captchalab.training.config import TEST_SEED


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="ONNX model (default: shipped)")
    parser.add_argument("--scheme", default="hku", help="scheme name or YAML file")
    parser.add_argument("--texts", type=int, default=300, help="distinct captcha texts")
    parser.add_argument("--renderings", type=int, nargs="+", default=[1, 3, 5, 10])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/voting.md"))
    return parser.parse_args()


def accuracy_by_renderings(args: argparse.Namespace) -> list[list[str]]:
    solver, scheme = Solver.load(args.model), get_scheme(args.scheme)
    most = max(args.renderings)
    hits = dict.fromkeys(args.renderings, 0)
    with progress_bar(Console(stderr=True)) as bar:
        task = bar.add_task("texts", total=args.texts)
        for index in range(args.texts):
            text = scheme.sample_text(random.Random(f"vote-text:{TEST_SEED}:{index}"))
            images = [
                scheme.render(text, random.Random(f"vote-render:{TEST_SEED}:{index}:{k}"))
                for k in range(most)
            ]
            predictions = solver.solve(images)
            expected = solver.charset.normalize(text)
            for count in args.renderings:
                hits[count] += vote(predictions[:count]).text == expected
            bar.advance(task)
    return [[str(k), percent(hits[k] / args.texts)] for k in args.renderings]


def main() -> None:
    args = parse_args()
    rows = accuracy_by_renderings(args)
    lines = [
        f"# Voting over renderings: {args.scheme}, model {args.model}, {args.texts} texts",
        "",
        f"`{command_line()}`",
        "",
        *machine_lines(["captchalab", "onnxruntime"]),
        "",
        *markdown_table(["renderings", "exact accuracy"], rows),
    ]
    text = "\n".join(lines) + "\n"
    publish(text, args.out)


if __name__ == "__main__":
    main()
