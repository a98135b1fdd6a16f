"""Which gradient tricks make hardened captchas transfer to solvers the substitute never was?

An ablation on the recommended mixture setting (L-inf 0.3 / L0 100, background masks, 10
iterative steps): plain steps, translation-invariant steps (`smooth`), input diversity
(`diversity`), both, and both with momentum, each hardening the same test captchas against the
same substitute. It reuses the models of `benchmarks/hardening.py` in `--work` (trained there
when missing) and reads the hardened captchas with every attacker of that zoo.

    python benchmarks/hardening_transfer.py --quick --count 60   # the quick zoo, minutes
    python benchmarks/hardening_transfer.py --count 300          # the full zoo
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hardening as bench
from bench_common import REPO_ROOT, command_line, machine_lines, markdown_table, percent, publish

from captchalab.adversarial.usability import ssim

VARIANTS: dict[str, dict[str, float]] = {
    "plain": {},
    "smooth 1": {"smooth": 1.0},
    "diversity 0.7": {"diversity": 0.7},
    "smooth 1 + diversity 0.7": {"smooth": 1.0, "diversity": 0.7},
    "smooth 1 + diversity 0.7 + momentum 0.9": {"smooth": 1.0, "diversity": 0.7, "momentum": 0.9},
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the quick benchmark's zoo")
    parser.add_argument("--count", type=int, default=None, help="test captchas (default: budget)")
    parser.add_argument("--work", type=Path, default=None, help="the hardening benchmark's work")
    parser.add_argument("--out", type=Path, default=None, help="markdown report")
    args = parser.parse_args(argv)
    budget = bench.QUICK if args.quick else bench.FULL
    if args.count:
        budget = replace(budget, n_test=args.count)
    suffix = "_quick" if args.quick else ""
    work = args.work or REPO_ROOT / "runs" / f"hardening_bench{suffix}"
    out = args.out or REPO_ROOT / "benchmarks" / "results" / f"hardening_transfer{suffix}.md"
    started = time.perf_counter()
    zoo = bench.Benchmark(budget, work, args.quick)
    zoo.models()
    attackers = zoo.attackers
    ordinary = bench.rates(attackers, zoo.test_images, zoo.test_texts)
    competent = [k for k, v in ordinary.items() if bench.is_unseen(k) and v >= bench.COMPETENT]
    headers = ["gradient", "mean SR (competent unseen)", *attackers, "SSIM", "seconds"]
    rows = [
        [
            "ordinary",
            percent(_mean(ordinary, competent)),
            *map(percent, ordinary.values()),
            "1.00",
            "-",
        ]
    ]
    for name, change in VARIANTS.items():
        bench.console.print(f"{name} ...")
        settings = replace(bench.RECOMMENDED, **change)
        began = time.perf_counter()
        hardened = bench.harden(zoo.substitute, settings, zoo.test_images, zoo.test_texts, 11)
        seconds = time.perf_counter() - began
        sr = bench.rates(attackers, hardened, zoo.test_texts)
        similarity = statistics.fmean(
            ssim(o, h) for o, h in zip(zoo.test_images, hardened, strict=True)
        )
        rows.append(
            [
                name,
                percent(_mean(sr, competent)),
                *map(percent, sr.values()),
                f"{similarity:.3f}",
                f"{seconds:.0f}",
            ]
        )
    lines = [
        f"# Transfer of hardened captchas{' (quick zoo)' if args.quick else ''}",
        "",
        f"Command: `{command_line()}`; {(time.perf_counter() - started) / 60:.1f} min wall time.",
        "",
        *machine_lines(["torch", "onnxruntime", "pillow"]),
        "",
        f"Target `{bench.TARGET}`, {budget.n_test} test captchas, the recommended mixture "
        "(L-inf 0.3 / L0 100, background masks, 10 iterative steps) against the substitute "
        "fine-tuned on merged4+mix. Competent unseen attackers (>= "
        f"{percent(bench.COMPETENT)} on ordinary captchas): {', '.join(competent) or 'none'}. "
        "`seconds`: hardening time of the whole set on this machine.",
        "",
        *markdown_table(headers, rows),
        "",
    ]
    publish("\n".join(lines), out)


def _mean(values: dict[str, float], names: list[str]) -> float:
    chosen = [values[n] for n in names if n in values]
    return statistics.fmean(chosen) if chosen else float("nan")


if __name__ == "__main__":
    main()
