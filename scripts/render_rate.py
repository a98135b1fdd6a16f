"""Images per second a scheme renders on N processes (the ceiling of on-the-fly training).

python scripts/render_rate.py broad --workers 14     # prints one number: images/s
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from multiprocessing import get_context

from captchalab.schemes import get_scheme


def _render(scheme: str, index: int) -> int:
    get_scheme(scheme).sample_at(12345, index)
    return index


def render_rate(scheme: str, workers: int, per_worker: int = 300) -> float:
    job = partial(_render, scheme)
    with get_context("spawn").Pool(workers) as pool:
        pool.map(job, range(workers * 4))  # start-up and font loading
        count = per_worker * workers
        start = time.perf_counter()
        pool.map(job, range(count), chunksize=16)
        return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scheme", help="scheme preset or YAML file")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--per-worker", type=int, default=300, help="images timed per process")
    args = parser.parse_args()
    print(f"{render_rate(args.scheme, args.workers, args.per_worker):.0f}")


if __name__ == "__main__":
    main()
