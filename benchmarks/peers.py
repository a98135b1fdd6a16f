"""captchalab against peer solvers (ddddocr, Tesseract) on fixed test sets, in one run.

    python benchmarks/peers.py --model default --count 500 --out benchmarks/results/peers.md
    python benchmarks/peers.py --sets 'heldout_*' --no-kaggle --out /tmp/heldout.md

Sets: every registered scheme preset (``mix`` too once registered), every YAML scheme in
``configs/schemes/`` (among them the ``heldout_*`` families that no training preset draws:
wide and tall canvases, hollow, double, thin and extruded glyphs, blobs, letterbox bars,
lines and dotted lines through the text, 90-degree tilts, wavy baselines, inverted
colours, low resolution with JPEG, GIF palettes, grids, blur and speckle), the PyPI
generators of ``generators.py`` and the ``test`` split of ``../shared/data/kaggle_captcha_v2``
(``--sets`` picks some by name). Per set and solver it reports exact and
case-insensitive accuracy, character error rate, single-image latency p50/p99 (one image
per call, after warm-up) and batched throughput (captchalab: batches of 64; peers: one image
per call, they have no batch API), with ratios to ddddocr. All solvers run in this process
on this machine, so compare ratios, and quote absolute numbers with the machine line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from fnmatch import fnmatch
from functools import partial
from pathlib import Path

import numpy as np
from bench_common import (
    KAGGLE_DIR,
    command_line,
    machine_lines,
    markdown_table,
    percent,
    progress_bar,
    publish,
)
from bench_sets import BenchSet, set_builders
from peer_solvers import PEERS, BenchSolver, CaptchalabSolver, load_peers
from rich.console import Console
from rich.progress import Progress

from captchalab.evaluation import EvaluationResult, evaluate_predictions
from captchalab.training.config import TEST_SEED

BASELINE = "ddddocr"
PACKAGES = ("captchalab", "onnxruntime", "ddddocr", "pytesseract", "pillow", "numpy")
RESULT_HEADERS = (
    *("set", "solver", "exact", "case-insens.", "CER", "p50 ms", "p99 ms", "img/s"),
    *("exact x ddddocr", "img/s x ddddocr"),
)
SUMMARY_HEADERS = (
    *("solver", "sets", "mean exact", "mean case-insens.", "mean CER"),
    *("median p50 ms", "median img/s"),
)


@dataclass(frozen=True)
class SolverRun:
    set_name: str
    solver: str
    result: EvaluationResult
    latencies_ms: list[float]
    images_per_s: float

    def latency(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="captchalab ONNX model, or 'default'")
    parser.add_argument("--count", type=int, default=500, help="images per synthetic set")
    parser.add_argument("--kaggle", type=Path, default=KAGGLE_DIR, help="kaggle_captcha_v2 dir")
    parser.add_argument("--kaggle-limit", type=int, default=None, help="first N test images")
    parser.add_argument("--no-kaggle", action="store_true", help="leave the Kaggle set out")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls before timing")
    parser.add_argument("--threads", type=int, default=None, help="captchalab ORT threads")
    parser.add_argument(
        "--no-charset",
        dest="no_charset",
        action="store_true",
        help="do not tell solvers the set's symbols (no captchalab restricted(), no ddddocr "
        "set_ranges, no Tesseract whitelist)",
    )
    parser.add_argument(
        "--lengths",
        action="store_true",
        help="tell captchalab each set's answer lengths (those of its labels; "
        "Solver.with_lengths); the peers cannot take a length",
    )
    parser.add_argument(
        "--sets",
        nargs="+",
        default=None,
        metavar="PATTERN",
        help="only the sets whose names match one of these shell patterns (e.g. 'heldout_*'); "
        "default: every set",
    )
    parser.add_argument(
        "--peers",
        nargs="*",
        default=list(PEERS),
        choices=PEERS,
        help="peer solvers to run beside captchalab (default: all installed; none: '--peers')",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/peers.md"))
    return parser.parse_args(argv)


def measure(
    solver: BenchSolver, bench_set: BenchSet, warmup: int, advance: Callable[[int], None]
) -> SolverRun:
    """Latency one image per call, then throughput (batched if the solver can), then score."""
    solver.prepare(bench_set)
    images = bench_set.images
    for image in images[:warmup]:
        solver.solve_one(image)
    latencies, predictions = [], []
    for image in images:
        started = time.perf_counter()
        predictions.append(solver.solve_one(image))
        latencies.append(1000 * (time.perf_counter() - started))
        advance(1)
    images_per_s = 1000 * len(images) / sum(latencies)
    if solver.batch_size > 1:
        solver.solve_batch(images[: solver.batch_size])  # warm-up at the batch shape
        started = time.perf_counter()
        predictions = []
        for start in range(0, len(images), solver.batch_size):
            predictions += solver.solve_batch(images[start : start + solver.batch_size])
            advance(min(solver.batch_size, len(images) - start))
        images_per_s = len(images) / (time.perf_counter() - started)
    result = evaluate_predictions(
        bench_set.labels, predictions, case_sensitive=bench_set.case_sensitive
    )
    return SolverRun(bench_set.name, solver.name, result, latencies, images_per_s)


def ratio(value: float, baseline: float | None) -> str:
    if baseline is None or baseline == 0:
        return "n/a"
    return f"{value / baseline:.2f}x"


def results_rows(runs: list[SolverRun]) -> list[list[str]]:
    baselines = {r.set_name: r for r in runs if r.solver == BASELINE}
    rows = []
    for run in runs:
        base = baselines.get(run.set_name)
        rows.append(
            [
                run.set_name,
                run.solver,
                percent(run.result.exact_accuracy),
                percent(run.result.case_insensitive_accuracy),
                f"{run.result.character_error_rate:.3f}",
                f"{run.latency(50):.1f}",
                f"{run.latency(99):.1f}",
                f"{run.images_per_s:.1f}",
                ratio(run.result.exact_accuracy, base.result.exact_accuracy if base else None),
                ratio(run.images_per_s, base.images_per_s if base else None),
            ]
        )
    return rows


def summary_rows(runs: list[SolverRun]) -> list[list[str]]:
    """Per solver, over all sets: mean accuracy and CER, median p50 and throughput."""
    rows = []
    for solver in dict.fromkeys(r.solver for r in runs):
        mine = [r for r in runs if r.solver == solver]
        rows.append(
            [
                solver,
                str(len(mine)),
                percent(statistics.mean(r.result.exact_accuracy for r in mine)),
                percent(statistics.mean(r.result.case_insensitive_accuracy for r in mine)),
                f"{statistics.mean(r.result.character_error_rate for r in mine):.3f}",
                f"{statistics.median(r.latency(50) for r in mine):.1f}",
                f"{statistics.median(r.images_per_s for r in mine):.1f}",
            ]
        )
    return rows


def sets_rows(sets: list[BenchSet]) -> list[list[str]]:
    rows = []
    for bench_set in sets:
        lengths = sorted({len(label) for label in bench_set.labels})
        span = f"{lengths[0]}-{lengths[-1]}" if len(lengths) > 1 else str(lengths[0])
        symbols = f"{len(bench_set.symbols)}: `{bench_set.symbols}`"
        rows.append([bench_set.name, bench_set.source, str(len(bench_set.labels)), span, symbols])
    return rows


def header_lines(args: argparse.Namespace) -> list[str]:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    told = (
        "no"
        if args.no_charset
        else (
            "yes, both cases of each letter (captchalab `Solver.restricted`, ddddocr set_ranges, "
            "Tesseract whitelist)"
        )
    )
    return [
        "# Peer benchmark",
        "",
        f"`{command_line()}` ({stamp})",
        "",
        *machine_lines(PACKAGES),
        f"- captchalab model: `{args.model}`; test seed {TEST_SEED}; warm-up {args.warmup} calls",
        f"- solvers told each set's symbols: {told}",
        "- captchalab told each set's answer lengths (`Solver.with_lengths`): "
        + ("yes (the lengths of its labels; peers are not)" if args.lengths else "no"),
    ]


def report(
    args: argparse.Namespace, sets: list[BenchSet], runs: list[SolverRun], notes: list[str]
) -> str:
    lines = [
        *header_lines(args),
        "",
        "## Results",
        "",
        "Latency: one image (PNG bytes) per call, decode included. Throughput: captchalab",
        "in batches of 64; peers one image per call (no batch API).",
        "`x ddddocr`: this row's value divided by ddddocr's on the same set.",
        "",
        *markdown_table(RESULT_HEADERS, results_rows(runs)),
        "",
        "## Summary over sets",
        "",
        *markdown_table(SUMMARY_HEADERS, summary_rows(runs)),
        "",
        "## Test sets",
        "",
        *markdown_table(["set", "source", "images", "length", "symbols"], sets_rows(sets)),
    ]
    if notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def load_solvers(args: argparse.Namespace, note: Callable[[str], None]) -> list[BenchSolver]:
    try:
        ours: BenchSolver = CaptchalabSolver(
            args.model, args.threads, not args.no_charset, args.lengths
        )
    except (FileNotFoundError, ValueError) as exc:
        sys.exit(f"error: cannot load the captchalab model: {exc}")
    return [ours, *load_peers(not args.no_charset, note, args.peers)]


def build_sets(
    args: argparse.Namespace, bar: Progress, note: Callable[[str], None]
) -> list[BenchSet]:
    kaggle = None if args.no_kaggle else args.kaggle
    builders = list(set_builders(args.count, kaggle, args.kaggle_limit, note))
    if args.sets:
        builders = [(n, b) for n, b in builders if any(fnmatch(n, p) for p in args.sets)]
        if not builders:
            sys.exit(f"error: no test set matches --sets {' '.join(args.sets)}")
    task = bar.add_task("building test sets", total=len(builders))
    sets = []
    for name, build in builders:
        bar.update(task, description=f"building {name}")
        sets.append(build())
        bar.advance(task)
    bar.update(task, description="built test sets")
    return sets


def run_all(
    solvers: list[BenchSolver], sets: list[BenchSet], warmup: int, bar: Progress
) -> list[SolverRun]:
    calls = sum(len(s.images) * (2 if v.batch_size > 1 else 1) for s in sets for v in solvers)
    task = bar.add_task("solving", total=calls)
    advance = partial(bar.advance, task)
    runs = []
    for bench_set in sets:
        for solver in solvers:
            bar.update(task, description=f"{bench_set.name} / {solver.name}")
            runs.append(measure(solver, bench_set, warmup, advance))
    bar.update(task, description="solved")
    return runs


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    console = Console()
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        console.print(f"[yellow]note:[/yellow] {message}")

    solvers = load_solvers(args, note)
    with progress_bar(console) as bar:
        sets = build_sets(args, bar, note)
        runs = run_all(solvers, sets, args.warmup, bar)
    text = report(args, sets, runs, notes)
    publish(text, args.out)
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
