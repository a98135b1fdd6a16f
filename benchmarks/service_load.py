"""Load test for the HTTP service, micro-batching on vs off, against the raw Solver.

    python benchmarks/service_load.py --model model.onnx --seconds 10
    python benchmarks/service_load.py --model model.onnx --seconds 5 --driver wrk

Starts ``captchalab serve`` in a subprocess per mode, drives ``POST /v1/solve`` at each
concurrency and prints a markdown table: requests/s, p50/p99 latency, errors, the server's mean
batch size (from ``/metrics``) and each row's throughput as a fraction of the raw Solver's
batched throughput (``solve_arrays`` on batches of 64, in this process, with the server
stopped). The client and the server share this machine's cores, so the ratios are what
matter, not absolute numbers.

Drivers: ``httpx`` (default) is an asyncio client in this process; ``wrk`` runs the ``wrk``
load generator (``apt-get install wrk``) with ``benchmarks/wrk/solve.lua``. wrk's C event loop
spends far less CPU per request, which leaves more of a small machine to the server. Every
request sends the same prebuilt body: a multipart upload (default) or ``--body json`` base64.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import numpy as np
from bench_common import command_line, machine_lines, publish
from PIL import Image, ImageDraw
from prometheus_client.parser import text_string_to_metric_families

from captchalab.inference import Solver

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "solve.lua"
BOUNDARY = "captchalab-load-boundary"


@dataclass
class LoadResult:
    mode: str
    concurrency: int
    requests: int  # answered with 200
    errors: int  # other statuses, timeouts and socket errors
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_batch: float = float("nan")

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True)
class RequestBody:
    content: bytes
    content_type: str


@dataclass(frozen=True)
class RawThroughput:
    solve: float  # images/s, encoded images in
    solve_arrays: float  # images/s, preprocessed arrays in


def request_body(image: bytes, kind: str) -> RequestBody:
    """The ``POST /v1/solve`` body: a multipart ``image`` file or JSON with base64 ``image``."""
    if kind == "json":
        text = json.dumps({"image": base64.b64encode(image).decode("ascii")})
        return RequestBody(text.encode(), "application/json")
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="image"; filename="c.png"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    tail = f"\r\n--{BOUNDARY}--\r\n"
    content = head.encode() + image + tail.encode()
    return RequestBody(content, f"multipart/form-data; boundary={BOUNDARY}")


def sample_image(solver: Solver, path: str | None) -> bytes:
    if path:
        return Path(path).read_bytes()
    spec = solver.preprocessing
    image = Image.new("RGB", (spec.width, spec.height), "white")
    ImageDraw.Draw(image).text((6, spec.height // 3), "4821", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def raw_solver_throughput(solver: Solver, image: bytes, seconds: float) -> RawThroughput:
    """Images per second of the Solver on batches of 64, in this process, server stopped.

    ``solve`` takes the encoded images (decode + preprocess + model, as the service does per
    batch); ``solve_arrays`` takes preprocessed arrays (the model and decoder alone).
    """
    from captchalab.data.preprocess import preprocess

    arrays = np.stack([preprocess(image, solver.preprocessing)] * 64)  # (64, C, H, W)
    encoded = [image] * 64
    return RawThroughput(
        solve=_per_second(lambda: solver.solve(encoded), 64, seconds),
        solve_arrays=_per_second(lambda: solver.solve_arrays(arrays), 64, seconds),
    )


def _per_second(call: Callable[[], object], images: int, seconds: float) -> float:
    call()  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        done += images
    return done / (time.perf_counter() - start)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    model: str, batching: bool, port: int, log: IO[bytes], workers: int = 1
) -> subprocess.Popen[bytes]:
    """``captchalab serve``, exactly as users run it, with rate limiting off; output to ``log``."""
    env = {
        **os.environ,
        "CAPTCHALAB_RATE_LIMIT_PER_MINUTE": "0",
        "CAPTCHALAB_QUEUE_SIZE": "4096",
    }
    command = [
        sys.executable, "-m", "captchalab.cli", "serve", "--model", f"default={model}",
        "--host", "127.0.0.1", "--port", str(port),
        "--batching" if batching else "--no-batching", "--workers", str(workers),
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(
    url: str, process: subprocess.Popen[bytes], log: IO[bytes], timeout_s: float = 60
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"server exited with code {process.returncode}:\n{tail}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")


async def drive_httpx(
    url: str, body: RequestBody, concurrency: int, seconds: float, mode: str
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"content-type": body.content_type}

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def one() -> None:
            nonlocal errors
            start = time.perf_counter()
            try:
                response = await client.post("/v1/solve", content=body.content, headers=headers)
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
    p50, p99 = np.percentile(latencies, [50, 99]) if latencies else (float("nan"),) * 2
    return LoadResult(mode, concurrency, len(latencies), errors, elapsed, float(p50), float(p99))


def drive_wrk(
    url: str, body: RequestBody, concurrency: int, seconds: float, mode: str, threads: int
) -> LoadResult:
    """One ``wrk --latency`` run with ``concurrency`` connections, parsed into a LoadResult."""
    with tempfile.NamedTemporaryFile(suffix=".body") as file:
        file.write(body.content)
        file.flush()
        env = {**os.environ, "WRK_BODY_FILE": file.name, "WRK_CONTENT_TYPE": body.content_type}
        command = [
            "wrk", f"-t{max(1, min(threads, concurrency))}", f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s", "--timeout", "30s", "--latency",
            "-s", str(WRK_SCRIPT), f"{url}/v1/solve",
        ]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout, mode, concurrency)


_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _wrk_ms(value: str, unit: str) -> float:
    return float(value) * _WRK_UNITS[unit]


def parse_wrk(text: str, mode: str, concurrency: int) -> LoadResult:
    """Requests, duration, 50%/99% latency and errors from ``wrk --latency`` output.

    wrk counts every response as a request; those with a status outside 2xx/3xx are reported on
    a "Non-2xx or 3xx responses" line (only when there are some) and count as errors here, as do
    socket errors (connect, read, write, timeout).
    """
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", text)
    if total is None:
        raise ValueError(f"unexpected wrk output:\n{text}")
    percentiles = {
        int(q): _wrk_ms(value, unit)
        for q, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    }
    bad_status = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    non_2xx = int(bad_status.group(1)) if bad_status else 0
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    socket_errors = sum(int(n) for n in sockets.groups()) if sockets else 0
    return LoadResult(
        mode,
        concurrency,
        requests=int(total.group(1)) - non_2xx,
        errors=non_2xx + socket_errors,
        seconds=_wrk_ms(total.group(2), total.group(3)) / 1000.0,
        p50_ms=percentiles.get(50, float("nan")),
        p99_ms=percentiles.get(99, float("nan")),
    )


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


def run_mode(args: argparse.Namespace, body: RequestBody, batching: bool) -> list[LoadResult]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    mode = "batching" if batching else "direct"
    with tempfile.TemporaryFile() as log:
        process = start_server(args.model, batching, port, log, args.workers)
        try:
            wait_ready(url, process, log)
            return [measure(args, url, body, concurrency, mode) for concurrency in args.concurrency]
        finally:
            process.terminate()
            process.wait(timeout=30)


def measure(
    args: argparse.Namespace, url: str, body: RequestBody, concurrency: int, mode: str
) -> LoadResult:
    """One row: load at ``concurrency``, with the mean batch size from the server's metrics."""
    if args.driver == "wrk":
        asyncio.run(drive_httpx(url, body, concurrency, 0.0, mode))  # warm-up: one per connection
    images_before, calls_before = batch_totals(url)
    if args.driver == "wrk":
        result = drive_wrk(url, body, concurrency, args.seconds, mode, args.wrk_threads)
    else:
        result = asyncio.run(drive_httpx(url, body, concurrency, args.seconds, mode))
    images_after, calls_after = batch_totals(url)
    result.mean_batch = (images_after - images_before) / max(1, calls_after - calls_before)
    return result


def markdown(results: list[LoadResult], raw: RawThroughput) -> str:
    lines = [
        "| mode | concurrency | requests/s | p50 ms | p99 ms | errors | mean batch "
        "| vs Solver.solve | vs solve_arrays |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.mode} | {r.concurrency} | {r.per_second:.1f} | {r.p50_ms:.1f} | "
            f"{r.p99_ms:.1f} | {r.errors} | "
            f"{'n/a' if math.isnan(r.mean_batch) else f'{r.mean_batch:.1f}'} | "
            f"{r.per_second / raw.solve:.2f} | {r.per_second / raw.solve_arrays:.2f} |"
        )
    lines.append(f"| raw Solver.solve (encoded) | - | {raw.solve:.1f} | | | | 64 | 1.00 | |")
    lines.append(f"| raw solve_arrays | - | {raw.solve_arrays:.1f} | | | | 64 | | 1.00 |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="ONNX model path or 'default'")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--image", help="captcha image to send (default: a drawn one)")
    parser.add_argument("--modes", nargs="+", choices=["batching", "direct"],
                        default=["batching", "direct"])  # fmt: skip
    parser.add_argument(
        "--driver", choices=["httpx", "wrk"], default="httpx", help="load generator (no wrk: httpx)"
    )
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (at most -c)")
    parser.add_argument("--body", choices=["multipart", "json"], default="multipart")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--out", type=Path, help="also write the markdown table here")
    args = parser.parse_args(argv)
    if args.driver == "wrk" and shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk); using the httpx driver")
        args.driver = "httpx"
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    solver = Solver.load(args.model)
    image = sample_image(solver, args.image)
    raw = raw_solver_throughput(solver, image, args.seconds)
    del solver  # free its threads before the server runs
    body = request_body(image, args.body)
    results: list[LoadResult] = []
    for mode in args.modes:
        results += run_mode(args, body, batching=mode == "batching")
    text = (
        f"`{command_line()}`\n\n"
        + "\n".join(machine_lines(["captchalab", "onnxruntime", "uvicorn", "fastapi"]))
        + f"\n\nmodel: {args.model}; {args.body} bodies driven by "
        f"{args.driver}; {args.seconds:g} s per row; {args.workers} server worker(s)\n\n"
        f"{markdown(results, raw)}\n"
    )
    if args.out:
        publish(text, args.out)
    else:
        print(text)


if __name__ == "__main__":
    main()
