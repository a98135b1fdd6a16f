"""What telling the Solver a site's symbols and answer length buys, hint by hint.

    python benchmarks/site_hints.py --model default --count 300 \
        --out benchmarks/results/site_hints.md

Each set is read four times by the same model: with no hint, told the symbols its labels use
(as a site owner states them: in the case they are written, ``Solver.restricted``), told the
lengths of its labels (``Solver.with_lengths``), and told both. Sets: the ``test`` split of
``../shared/data/kaggle_captcha_v2`` and the fixed-length ``digits5`` and ``hku4`` presets at
the test seed. Both hints come from the labels, so they are what the site's owner knows, not
what a solver could infer from one image.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from bench_common import KAGGLE_DIR, command_line, machine_lines, markdown_table, percent, publish
from case_policy import texts

from captchalab.evaluation import evaluate_predictions
from captchalab.evaluation.release import BenchmarkSet, scheme_set, split_set
from captchalab.inference import Solver

HINTS = ("none", "symbols", "length", "symbols + length")
HEADERS = ("set", "images", "lengths", *(f"exact: {h}" for h in HINTS), "ignoring case: both")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="captchalab ONNX model, or 'default'")
    parser.add_argument("--count", type=int, default=300, help="images per synthetic set")
    parser.add_argument("--kaggle", type=Path, default=KAGGLE_DIR, help="kaggle_captcha_v2 dir")
    parser.add_argument("--kaggle-limit", type=int, default=None, help="first N test images")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/site_hints.md"))
    return parser.parse_args(argv)


def hinted(solver: Solver, bench: BenchmarkSet, hint: str) -> Solver:
    symbols = "".join(sorted({c for label in bench.labels for c in label}))
    lengths = {len(label) for label in bench.labels}
    if "symbols" in hint:
        solver = solver.restricted(symbols)
    if "length" in hint:
        solver = solver.with_lengths(lengths)
    return solver


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    model = Solver.load(args.model, threads=args.threads)
    sets = []
    if (args.kaggle / "split.csv").exists():
        sets.append(split_set(args.kaggle, name="kaggle_v2_test", limit=args.kaggle_limit))
    sets += [scheme_set("digits5", args.count), scheme_set("hku4", args.count)]
    rows = []
    for bench in sets:
        results = [
            evaluate_predictions(bench.labels, texts(hinted(model, bench, hint), bench))
            for hint in HINTS
        ]
        spans = sorted({len(label) for label in bench.labels})
        rows.append(
            (
                bench.name,
                str(len(bench.labels)),
                "-".join(map(str, dict.fromkeys((spans[0], spans[-1])))),
                *(percent(r.exact_accuracy) for r in results),
                percent(results[-1].case_insensitive_accuracy),
            )
        )
        print(*rows[-1], sep="\t", flush=True)
    lines = [
        f"# Site hints: symbols and answer length ({args.model})",
        "",
        f"`{command_line()}`, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        *machine_lines(("captchalab", "onnxruntime")),
        "",
        "Symbols: those of the set's labels, in the case they are written. Length: the lengths "
        "of its labels.",
        "",
        *markdown_table(HEADERS, rows),
        "",
    ]
    publish("\n".join(lines), args.out)


if __name__ == "__main__":
    main()
