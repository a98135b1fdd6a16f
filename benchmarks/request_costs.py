"""Per-request costs of two service parts, measured in-process (no HTTP, no model):

- ``TokenBuckets.take`` with 1,000 to 200,000 clients active at once (the cost must stay flat:
  the buckets are a bounded LRU, not a dict rebuilt when full);
- multipart parsing of one upload: ``service.multipart.parse_form`` (python-multipart's parser
  with in-memory callbacks) against Starlette's ``MultiPartParser`` on the same body.

    python benchmarks/request_costs.py --out benchmarks/results/request_costs.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import timeit
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
from bench_common import command_line, machine_lines, markdown_table, publish
from starlette.datastructures import Headers
from starlette.formparsers import MultiPartParser

from captchalab.service.multipart import parse_form
from captchalab.service.security import TokenBuckets

FORM_LIMITS = {"max_files": 2, "max_fields": 8, "max_part_size": 4096}


def best_us(function: Callable[[], object], number: int, repeat: int = 5) -> float:
    """The fastest of ``repeat`` runs, in microseconds per call (the least disturbed one)."""
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number * 1e6


def bucket_row(active: int, requests: int) -> list[str]:
    """A request from a new client while ``active`` others are still active (not refilled)."""
    now = [0.0]
    buckets = TokenBuckets(per_minute=300, burst=60, clock=lambda: now[0], max_keys=100_000)
    for client in range(active):
        buckets.take(f"10.0.{client}")
    now[0] += 1.0  # a bucket refills in 12 s: every client is still active
    fresh = iter(range(10**9))
    cost = best_us(lambda: buckets.take(f"new-{next(fresh)}"), requests)
    return [f"{active:,}", f"{len(buckets):,}", f"{cost:.2f}"]


def multipart_rows(size: int, number: int) -> list[list[str]]:
    request = httpx.Request(
        "POST",
        "http://test/v1/solve",
        files={"image": ("c.png", os.urandom(size))},
        data={"model": "default"},
    )
    body = request.read()
    content_type = request.headers["content-type"]
    ours = best_us(lambda: parse_form(content_type, body, **FORM_LIMITS), number)

    async def starlette_once() -> None:
        async def stream() -> AsyncIterator[bytes]:
            yield body

        parser = MultiPartParser(Headers({"content-type": content_type}), stream(), **FORM_LIMITS)
        form = await parser.parse()
        await form.close()

    async def starlette_many() -> float:
        loop = asyncio.get_running_loop()
        best = float("inf")
        for _ in range(5):
            start = loop.time()
            for _ in range(number):
                await starlette_once()
            best = min(best, (loop.time() - start) / number * 1e6)
        return best

    theirs = asyncio.run(starlette_many())
    return [
        [f"{len(body):,}", "`parse_form` (python-multipart, in memory)", f"{ours:.1f}", "1.00"],
        [f"{len(body):,}", "Starlette `MultiPartParser`", f"{theirs:.1f}", f"{theirs / ours:.2f}"],
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--active", type=int, nargs="+", default=[1_000, 100_000, 200_000])
    parser.add_argument("--requests", type=int, default=2_000, help="timed takes per row")
    parser.add_argument("--body-bytes", type=int, default=29_000, help="uploaded file size")
    parser.add_argument("--parses", type=int, default=500, help="timed parses per run")
    parser.add_argument("--out", type=Path, help="also write the markdown here")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    buckets = markdown_table(
        ["active clients", "buckets kept afterwards", "µs per request"],
        [bucket_row(active, args.requests) for active in args.active],
    )
    multipart = markdown_table(
        ["body bytes", "parser", "µs per body", "ratio"],
        multipart_rows(args.body_bytes, args.parses),
    )
    text = "\n".join(
        [
            f"`{command_line()}`",
            "",
            *machine_lines(["captchalab", "python-multipart", "starlette"]),
            f"- load average (1 min) at the start: {load:.1f}; other work on the machine "
            "inflates every figure, so compare rows of one run only",
            "",
            "Rate-limit buckets (at most 100,000 kept per worker):",
            "",
            *buckets,
            "",
            "Multipart parsing of one upload and a `model` field (best of 5 runs):",
            "",
            *multipart,
            "",
        ]
    )
    if args.out:
        publish(text, args.out)
    else:
        print(text)


if __name__ == "__main__":
    main()
