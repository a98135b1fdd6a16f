"""Case-insensitive accuracy of plain decoding against ``Solver.case_insensitive()`` decoding.

    python benchmarks/case_policy.py --model default --count 300 \
        --out benchmarks/results/case_policy.md

Sets: the ``hku`` and ``words`` presets at the test seed and the ``test`` split of
``../shared/data/kaggle_captcha_v2``. Both decodings read the same images with the same
model; the case-insensitive score folds both the answer and the label to lower case, so the
only difference is whether the two cases of a letter pool their probability before decoding.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from bench_common import KAGGLE_DIR, command_line, machine_lines, markdown_table, percent, publish

from captchalab.evaluation import evaluate_predictions
from captchalab.evaluation.release import BenchmarkSet, scheme_set, split_set
from captchalab.inference import Solver

HEADERS = ("set", "images", "exact (plain)", "case-insens. (plain)", "case-insens. (folded)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="captchalab ONNX model, or 'default'")
    parser.add_argument("--count", type=int, default=300, help="images per synthetic set")
    parser.add_argument("--kaggle", type=Path, default=KAGGLE_DIR, help="kaggle_captcha_v2 dir")
    parser.add_argument("--kaggle-limit", type=int, default=None, help="first N test images")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/case_policy.md"))
    return parser.parse_args(argv)


def texts(solver: Solver, bench: BenchmarkSet) -> list[str]:
    images = list(bench.images)
    return [
        p.text
        for start in range(0, len(images), 64)
        for p in solver.solve(images[start : start + 64])
    ]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    plain = Solver.load(args.model, threads=args.threads)
    folded = plain.case_insensitive()
    sets = [scheme_set("hku", args.count), scheme_set("words", args.count)]
    if (args.kaggle / "split.csv").exists():
        sets.append(split_set(args.kaggle, name="kaggle_v2_test", limit=args.kaggle_limit))
    rows = []
    for bench in sets:
        before = evaluate_predictions(bench.labels, texts(plain, bench))
        after = evaluate_predictions(bench.labels, texts(folded, bench))
        rows.append(
            (
                bench.name,
                str(len(bench.labels)),
                percent(before.exact_accuracy),
                percent(before.case_insensitive_accuracy),
                percent(after.case_insensitive_accuracy),
            )
        )
        print(*rows[-1], sep="\t", flush=True)
    lines = [
        f"# Case policy: plain vs case-insensitive decoding ({args.model})",
        "",
        f"`{command_line()}`, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        *machine_lines(("captchalab", "onnxruntime")),
        "",
        *markdown_table(HEADERS, rows),
        "",
    ]
    publish("\n".join(lines), args.out)


if __name__ == "__main__":
    main()
