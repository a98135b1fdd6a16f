"""Load test for the HTTP service, micro-batching on vs off, against the raw Solver.

    python benchmarks/service_load.py --model model.onnx --seconds 10

Starts ``uvicorn`` in a subprocess per mode, drives ``POST /v1/solve`` with an asyncio httpx
client at each concurrency, and prints a markdown table: requests/s, p50/p99 latency, errors,
and each row's throughput as a fraction of the raw Solver's batched throughput
(``solve_arrays`` on batches of 64, in this process, with the server stopped). The client and
the server share this machine's cores, so the ratios are what matter, not absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from PIL import Image, ImageDraw
from prometheus_client.parser import text_string_to_metric_families

from captchalab.inference import Solver


@dataclass
class LoadResult:
    mode: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    mean_batch: float = float("nan")

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


def sample_image(solver: Solver, path: str | None) -> bytes:
    if path:
        return Path(path).read_bytes()
    spec = solver.preprocessing
    image = Image.new("RGB", (spec.width, spec.height), "white")
    ImageDraw.Draw(image).text((6, spec.height // 3), "4821", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def raw_solver_throughput(solver: Solver, image: bytes, seconds: float) -> float:
    """Images per second of ``solve_arrays`` on batches of 64 preprocessed images."""
    from captchalab.data.preprocess import preprocess

    batch = np.stack([preprocess(image, solver.preprocessing)] * 64)  # (64, C, H, W)
    solver.solve_arrays(batch)  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        solver.solve_arrays(batch)
        done += len(batch)
    return done / (time.perf_counter() - start)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(model: str, batching: bool, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CAPTCHALAB_MODELS": json.dumps({"default": model}),
        "CAPTCHALAB_BATCHING": str(batching).lower(),
        "CAPTCHALAB_RATE_LIMIT_PER_MINUTE": "0",
        "CAPTCHALAB_QUEUE_SIZE": "4096",
    }
    command = [
        sys.executable, "-m", "uvicorn", "--factory",
        "captchalab.service.app:create_app_from_environment",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env)


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")


async def drive(url: str, image: bytes, concurrency: int, seconds: float, mode: str) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def one() -> None:
            nonlocal errors
            start = time.perf_counter()
            try:
                response = await client.post("/v1/solve", files={"image": ("c.png", image)})
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - start) * 1000.0)
            else:
                errors += 1

        await asyncio.gather(*(one() for _ in range(concurrency)))  # warm-up
        latencies.clear()
        errors = 0
        start = time.perf_counter()
        deadline = start + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await one()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return LoadResult(mode, concurrency, len(latencies), errors, elapsed, latencies)


def batch_totals(url: str) -> tuple[float, float]:
    """(images, solve calls) so far, from the server's batch-size histogram."""
    text = httpx.get(url + "/metrics", timeout=5).text
    totals = {"sum": 0.0, "count": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for suffix in totals:
                if sample.name == f"captchalab_batch_size_{suffix}":
                    totals[suffix] += sample.value
    return totals["sum"], totals["count"]


def run_mode(args: argparse.Namespace, image: bytes, batching: bool) -> list[LoadResult]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_server(args.model, batching, port)
    mode = "batching" if batching else "direct"
    try:
        wait_ready(url, process)
        results = []
        for concurrency in args.concurrency:
            images_before, calls_before = batch_totals(url)
            result = asyncio.run(drive(url, image, concurrency, args.seconds, mode))
            images_after, calls_after = batch_totals(url)
            result.mean_batch = (images_after - images_before) / max(1, calls_after - calls_before)
            results.append(result)
        return results
    finally:
        process.terminate()
        process.wait(timeout=30)


def markdown(results: list[LoadResult], raw_per_second: float) -> str:
    lines = [
        "| mode | concurrency | requests/s | p50 ms | p99 ms | errors | mean batch "
        "| vs raw solver |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.mode} | {r.concurrency} | {r.per_second:.1f} | {r.percentile(50):.1f} | "
            f"{r.percentile(99):.1f} | {r.errors} | {r.mean_batch:.1f} | "
            f"{r.per_second / raw_per_second:.2f} |"
        )
    lines.append(f"| raw solve_arrays | - | {raw_per_second:.1f} | | | | 64 | 1.00 |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="ONNX model path or 'default'")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--image", help="captcha image to send (default: a drawn one)")
    parser.add_argument("--modes", nargs="+", choices=["batching", "direct"],
                        default=["batching", "direct"])  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    solver = Solver.load(args.model)
    image = sample_image(solver, args.image)
    raw_per_second = raw_solver_throughput(solver, image, args.seconds)
    del solver  # free its threads before the server runs
    results: list[LoadResult] = []
    for mode in args.modes:
        results += run_mode(args, image, batching=mode == "batching")
    print(f"model: {args.model}; {args.seconds:g} s per row; {os.cpu_count()} CPU cores\n")
    print(markdown(results, raw_per_second))


if __name__ == "__main__":
    main()
