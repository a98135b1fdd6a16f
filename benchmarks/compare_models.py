"""Two models on the release benchmark, set by set: what `scripts/release_default.py` checks.

    python benchmarks/compare_models.py default-int8 default     # the int8 copy vs the default
    python benchmarks/compare_models.py mine.onnx default --count 300 \
        --out benchmarks/results/compare_mine.md

The first model is the candidate, the second the baseline. Both are read through the Solver
on the same sets: every scheme preset and every ``configs/schemes/`` YAML scheme at the test
seed, plus the ``test`` split of ``../shared/data/kaggle_captcha_v2`` when present
(``captchalab.evaluation.release.release_benchmark``). Exit status 0 when the candidate's mean
exact accuracy is at least the baseline's, 1 when it is lower; ``--exclude-generator`` leaves
a generator's sets out of that mean, as in the release guard.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

from rich.progress import Progress

from captchalab.evaluation.release import compare_models, release_benchmark
from captchalab.inference import Solver

REPO = Path(__file__).resolve().parent.parent
SCHEME_FILES = REPO / "configs" / "schemes"
KAGGLE_DIR = REPO.parent / "shared" / "data" / "kaggle_captcha_v2"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidate", help=".onnx file, 'default' or 'default-int8'")
    parser.add_argument("baseline", help=".onnx file, 'default' or 'default-int8'")
    parser.add_argument("--count", type=int, default=300, help="images per synthetic set")
    parser.add_argument("--kaggle", type=Path, default=KAGGLE_DIR, help="kaggle_captcha_v2 dir")
    parser.add_argument("--out", type=Path, help="also write the table here (Markdown)")
    parser.add_argument(
        "--exclude-generator",
        action="append",
        default=[],
        metavar="NAME",
        help='leave sets drawn by generator NAME (e.g. "python captcha") out of the decision',
    )
    args = parser.parse_args(argv)
    candidate, baseline = Solver.load(args.candidate), Solver.load(args.baseline)
    sets = release_benchmark(SCHEME_FILES, args.kaggle, args.count)
    total = 2 * sum(len(bench.labels) for bench in sets)
    with Progress() as progress:
        task = progress.add_task(f"{args.candidate} vs {args.baseline}", total=total)
        comparison = compare_models(
            candidate,
            baseline,
            sets,
            advance=lambda n: progress.advance(task, n),
            exclude_generators=args.exclude_generator,
        )
    table = comparison.table(baseline="baseline")
    print(table)
    if args.out:
        command = " ".join(["python benchmarks/compare_models.py", *(argv or sys.argv[1:])])
        args.out.write_text(
            f"# {args.candidate} vs {args.baseline} on the release benchmark\n\n"
            f"Command: `{command}`; {platform.processor() or platform.machine()}, "
            f"Python {platform.python_version()}. Exact accuracy per set.\n\n"
            f"```\n{table}\n```\n",
            encoding="utf-8",
        )
    return 0 if comparison.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
