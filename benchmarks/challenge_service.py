"""Throughput of the challenge API: issue a challenge, answer it, as many times as it can.

    python benchmarks/challenge_service.py --seconds 10
    python benchmarks/challenge_service.py --seconds 10 \\
        --postgres postgresql+psycopg://user:password@127.0.0.1/db

Starts ``captchalab serve --challenges`` (plain rendering, one worker) in a subprocess per store
(a fresh SQLite file; PostgreSQL with ``--postgres``, whose challenge tables it empties first)
and runs ``--concurrency`` asyncio clients in this process, each looping ``POST
/v1/challenges`` then ``POST /v1/challenges/{id}/answer``. Prints a markdown table: rounds/s,
p50/p99 latency of each call, errors, and the share of rounds that found the pool empty (503).
The client and the server share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from bench_common import REPO_ROOT, command_line, machine_lines, markdown_table, publish


@dataclass
class Result:
    store: str
    concurrency: int
    rounds: int
    errors: int
    busy: int
    seconds: float
    issue_ms: list[float]
    answer_ms: list[float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(challenges: Path, url: str, port: int, model: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CAPTCHALAB_RATE_LIMIT_PER_MINUTE": "0", "CAPTCHALAB_DATABASE_URL": url}
    command = [
        sys.executable, "-m", "captchalab.cli", "serve", "--model", model,
        "--port", str(port), "--challenges", str(challenges),
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"server exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                time.sleep(2.0)  # let the pool fill
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not become ready")


async def drive(base: str, store: str, concurrency: int, seconds: float) -> Result:
    result = Result(store, concurrency, 0, 0, 0, 0.0, [], [])
    stop = time.perf_counter() + seconds

    async def client_loop(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                issued = await client.post("/v1/challenges")
                if issued.status_code == 503:
                    result.busy += 1
                    continue
                if issued.status_code != 200:
                    result.errors += 1
                    continue
                middle = time.perf_counter()
                challenge_id = issued.json()["id"]
                answered = await client.post(
                    f"/v1/challenges/{challenge_id}/answer", json={"answer": "abcd"}
                )
                end = time.perf_counter()
            except httpx.HTTPError:
                result.errors += 1
                continue
            if answered.status_code != 200:
                result.errors += 1
                continue
            result.rounds += 1
            result.issue_ms.append((middle - start) * 1000)
            result.answer_ms.append((end - middle) * 1000)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        began = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - began
    return result


def empty_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        for table in ("answers", "challenges", "secrets", "alembic_version"):
            connection.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    engine.dispose()


def pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.1f}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--scheme", default="hku")
    parser.add_argument("--pool-size", type=int, default=256)
    parser.add_argument("--model", default="default", help="solve model the server also loads")
    parser.add_argument("--postgres", help="also measure this PostgreSQL URL (tables emptied)")
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "challenge_service.md"
    )
    args = parser.parse_args()

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="captchalab-challenges-") as tmp:
        challenges = Path(tmp) / "challenges.yaml"
        challenges.write_text(f"scheme: {args.scheme}\nttl_s: 120\npool_size: {args.pool_size}\n")
        stores = [("SQLite (WAL, synchronous=FULL)", f"sqlite:///{tmp}/store.db")]
        if args.postgres:
            empty_postgres(args.postgres)
            stores.append(("PostgreSQL", args.postgres))
        for name, url in stores:
            port = free_port()
            process = start_server(challenges, url, port, args.model)
            try:
                for concurrency in args.concurrency:
                    result = asyncio.run(
                        drive(f"http://127.0.0.1:{port}", name, concurrency, args.seconds)
                    )
                    results.append(result)
                    print(f"{name} c={concurrency}: {result.rounds / result.seconds:.1f} rounds/s")
            finally:
                process.terminate()
                process.wait(timeout=30)

    rows = [
        [
            r.store,
            str(r.concurrency),
            f"{r.rounds / r.seconds:.1f}",
            pct(r.issue_ms, 50),
            pct(r.issue_ms, 99),
            pct(r.answer_ms, 50),
            pct(r.answer_ms, 99),
            str(r.errors),
            f"{100 * r.busy / max(1, r.busy + r.rounds):.1f}%",
        ]
        for r in results
    ]
    headers = [
        "store", "clients", "rounds/s", "issue p50 ms", "issue p99 ms", "answer p50 ms",
        "answer p99 ms", "errors", "pool empty",
    ]  # fmt: skip
    load = os.getloadavg()
    text = "\n".join(
        [
            "# Challenge API throughput",
            "",
            f"`{command_line()}`",
            "",
            *machine_lines(["captchalab", "sqlalchemy", "psycopg", "uvicorn"]),
            f"- load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}",
            f"- scheme `{args.scheme}` rendered plainly, pool {args.pool_size}, one worker; "
            f"{args.seconds:g} s per row; a round = issue + answer",
            "",
            *markdown_table(headers, rows),
            "",
        ]
    )
    publish(text, args.out)


if __name__ == "__main__":
    main()
