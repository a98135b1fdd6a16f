"""The Solver's second look (``Solver.with_second_look``) on the peer benchmark's sets.

    python benchmarks/second_look.py --count 200 --out benchmarks/results/second_look.md

Sets: those of ``peers.py`` (presets, YAML schemes with the held-out families, the PyPI
generators that are installed, the Kaggle test split). Each image is read once plainly and
once per registered view (``captchalab.inference.views``), by a case-sensitive Solver (exact
score) and by its ``case_insensitive()`` view (ignoring-case score). A threshold's answer is
the plain one when its confidence reaches the threshold, else the most confident of the plain
and view readings: the rule of ``with_second_look``, replayed here for a sweep of thresholds.
The Solver's own second look is then run at the default threshold and must give the same
answers as the replay (the report counts them). Times are wall seconds per image in lists of
64 on this machine, plain and with the second look at the default threshold.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from fnmatch import fnmatch
from pathlib import Path

from bench_common import (
    KAGGLE_DIR,
    command_line,
    machine_lines,
    markdown_table,
    percent,
    publish,
)
from bench_sets import BenchSet, set_builders
from PIL import Image
from rich.console import Console

from captchalab.data.preprocess import load_image
from captchalab.inference import Prediction, Solver
from captchalab.inference.solver import DEFAULT_SECOND_LOOK
from captchalab.inference.views import VIEWS

console = Console(stderr=True)
BATCH = 64
THRESHOLDS = (0.3, 0.5, 0.7, 0.9, 1.0)


@dataclass
class Readings:
    """One set's readings: per mode (exact / ignoring case), the plain answers and each
    view's answers."""

    name: str
    labels: list[str]
    plain: dict[str, list[Prediction]]
    views: dict[str, dict[str, list[Prediction]]]
    solver_answers: list[str]  # the Solver's own second look, ignoring case, default threshold
    seconds_plain: float
    seconds_look: float


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="captchalab ONNX model, or 'default'")
    parser.add_argument("--count", type=int, default=200, help="images per synthetic set")
    parser.add_argument("--sets", nargs="*", default=None, help="set names or patterns")
    parser.add_argument("--kaggle", type=Path, default=KAGGLE_DIR, help="kaggle_captcha_v2 dir")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/second_look.md"))
    return parser.parse_args(argv)


def solve_all(solver: Solver, images: list[Image.Image]) -> list[Prediction]:
    return [p for s in range(0, len(images), BATCH) for p in solver.solve(images[s : s + BATCH])]


def timed(solver: Solver, images: list[Image.Image]) -> tuple[list[Prediction], float]:
    started = time.perf_counter()
    answers = solve_all(solver, images)
    return answers, (time.perf_counter() - started) / max(1, len(images))


def read_set(bench: BenchSet, exact: Solver) -> Readings:
    images = [load_image(b) for b in bench.images]
    folded = exact.case_insensitive()
    plain, views = {}, {}
    for mode, solver in (("exact", exact), ("folded", folded)):
        plain[mode], seconds_plain = timed(solver, images)
        views[mode] = {
            name: solve_all(solver, [view(im) for im in images]) for name, view in VIEWS.items()
        }
    looked, seconds_look = timed(folded.with_second_look(DEFAULT_SECOND_LOOK), images)
    return Readings(
        bench.name,
        list(bench.labels),
        plain,
        views,
        [p.text for p in looked],
        seconds_plain,
        seconds_look,
    )


def replay(r: Readings, mode: str, threshold: float | None) -> tuple[list[str], int]:
    """The answers of a second look at ``threshold`` (``None``: plain) and how many images
    it looked at again."""
    answers, looked = [], 0
    for i, first in enumerate(r.plain[mode]):
        if threshold is None or first.confidence >= threshold:
            answers.append(first.text)
            continue
        looked += 1
        candidates = [first, *(r.views[mode][name][i] for name in VIEWS)]
        answers.append(max(candidates, key=lambda p: p.confidence).text)
    return answers, looked


def accuracy(answers: list[str], labels: list[str], fold: bool) -> float:
    norm = str.lower if fold else str
    return sum(norm(a) == norm(t) for a, t in zip(answers, labels, strict=True)) / len(labels)


def scores(r: Readings, threshold: float | None) -> tuple[float, float, float]:
    exact, _ = replay(r, "exact", threshold)
    folded, looked = replay(r, "folded", threshold)
    return (
        accuracy(exact, r.labels, False),
        accuracy(folded, r.labels, True),
        looked / len(r.labels),
    )


def report(args: argparse.Namespace, readings: list[Readings], minutes: float) -> str:
    default = DEFAULT_SECOND_LOOK
    rows, agree, total = [], 0, 0
    for r in readings:
        plain, look = scores(r, None), scores(r, default)
        replayed, _ = replay(r, "folded", default)
        agree += sum(a == b for a, b in zip(replayed, r.solver_answers, strict=True))
        total += len(r.labels)
        rows.append(
            [
                r.name,
                str(len(r.labels)),
                percent(plain[0]),
                percent(look[0]),
                percent(plain[1]),
                percent(look[1]),
                percent(look[2]),
                f"{r.seconds_plain * 1000:.1f}",
                f"{r.seconds_look * 1000:.1f}",
            ]
        )
    sweep, plain_sets = [], [scores(r, None) for r in readings]
    for threshold in (None, *THRESHOLDS):
        per_set = [scores(r, threshold) for r in readings]
        kaggle = [s for r, s in zip(readings, per_set, strict=True) if r.name.startswith("kaggle")]
        sweep.append(
            [
                "plain" if threshold is None else f"{threshold:g}",
                percent(statistics.mean(s[0] for s in per_set)),
                percent(statistics.mean(s[1] for s in per_set)),
                percent(kaggle[0][0]) if kaggle else "-",
                percent(kaggle[0][1]) if kaggle else "-",
                percent(statistics.mean(s[2] for s in per_set)),
                str(sum(s[1] < p[1] - 0.015 for s, p in zip(per_set, plain_sets, strict=True))),
            ]
        )
    lines = [
        "# Second look: other views of the captchas a model is unsure of",
        "",
        f"Command: `{command_line()}`; {minutes:.1f} min; "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        *machine_lines(["captchalab", "onnxruntime", "pillow"]),
        "",
        f"Model `{args.model}`, {args.threads} onnxruntime thread(s); views: "
        f"{', '.join(VIEWS)}. `second look` = `Solver.with_second_look({default:g})`: below "
        "that calibrated confidence the most confident of the plain and view readings wins.",
        "",
        "## Thresholds",
        "",
        *markdown_table(
            [
                "threshold",
                "mean exact",
                "mean ignoring case",
                "Kaggle exact",
                "Kaggle ignoring case",
                "looked at again (ignoring case)",
                "sets 1.5+ points below plain (ignoring case)",
            ],
            sweep,
        ),
        "",
        f"The Solver's own second look at {default:g} agrees with the replay on {agree} of "
        f"{total} answers.",
        "",
        f"## Per set, threshold {default:g}",
        "",
        *markdown_table(
            [
                "set",
                "images",
                "exact",
                "exact, second look",
                "ignoring case",
                "ignoring case, second look",
                "looked at again (ignoring case)",
                "ms/image",
                "ms/image, second look",
            ],
            rows,
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        solver = Solver.load(args.model, threads=args.threads)
    except (FileNotFoundError, ValueError) as exc:
        sys.exit(f"error: {exc}")
    kaggle = args.kaggle if (args.kaggle / "split.csv").exists() else None
    builders = list(set_builders(args.count, kaggle, None, console.print))
    if args.sets:
        builders = [(n, b) for n, b in builders if any(fnmatch(n, p) for p in args.sets)]
        if not builders:
            sys.exit(f"error: no set matches --sets {' '.join(args.sets)}")
    readings = []
    for name, build in builders:
        console.print(f"reading {name}")
        readings.append(read_set(build(), solver))
    publish(report(args, readings, (time.perf_counter() - started) / 60), args.out)


if __name__ == "__main__":
    main()
