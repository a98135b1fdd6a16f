"""How fast the Solver reads: one image per call on one thread, and batches on all cores.

    python benchmarks/solver_speed.py                          # the shipped default model
    python benchmarks/solver_speed.py old.onnx default --out benchmarks/results/solver_speed.md

Times ``Solver.solve`` end to end (decode-free: PIL images in, answers out, so preprocessing
and decoding count) on images rendered from the ``broad`` scheme at the test seed, resized to
fixed sizes (200x60, the common case, and 780x80, a wide one): p50 and p99 of single-image
calls with one onnxruntime thread, then images/s for lists of 64 with two threads.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

from PIL import Image

from captchalab.inference import Solver
from captchalab.schemes import get_scheme
from captchalab.training.config import TEST_SEED

SIZES = ((200, 60), (780, 80))


def images(size: tuple[int, int], count: int) -> list[Image.Image]:
    scheme = get_scheme("broad")
    return [scheme.sample_at(TEST_SEED, i)[0].convert("RGB").resize(size) for i in range(count)]


def single(solver: Solver, pictures: list[Image.Image], repeats: int) -> tuple[float, float]:
    for picture in pictures[:10]:
        solver.solve(picture)  # warm-up
    times = []
    for _ in range(repeats):
        for picture in pictures:
            start = time.perf_counter()
            solver.solve(picture)
            times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1e3, times[int(0.99 * (len(times) - 1))] * 1e3


def batched(solver: Solver, pictures: list[Image.Image], seconds: float) -> float:
    solver.solve(pictures)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        solver.solve(pictures)
        done += len(pictures)
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["default"], help=".onnx files or default")
    parser.add_argument("--count", type=int, default=64, help="images per size")
    parser.add_argument("--repeats", type=int, default=5, help="passes of single-image calls")
    parser.add_argument("--seconds", type=float, default=5.0, help="per batched measurement")
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args()
    sets = {size: images(size, args.count) for size in SIZES}
    lines = [
        "# Solver speed",
        "",
        f"Command: `python benchmarks/solver_speed.py {' '.join(args.models)}`; "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}.",
        "",
        "| model | input | size | p50 ms (1 thread) | p99 ms | images/s (lists of 64, 2 threads) |",
        "|---|---|---|---:|---:|---:|",
    ]
    for model in args.models:
        one, two = Solver.load(model, threads=1), Solver.load(model, threads=2)
        spec = one.preprocessing
        shape = f"{spec.height}x{'<=' if spec.dynamic_width else ''}{spec.width}"
        for size, pictures in sets.items():
            p50, p99 = single(one, pictures, args.repeats)
            rate = batched(two, pictures, args.seconds)
            row = (
                f"| {model} | {shape} | {size[0]}x{size[1]} | {p50:.2f} | {p99:.2f} | {rate:.0f} |"
            )
            lines.append(row)
            print(row, flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
