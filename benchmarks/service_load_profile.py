"""Per-request CPU cost of ``POST /v1/solve``, in process, with no HTTP client in the way.

    python benchmarks/service_load_profile.py --model model.onnx --requests 400 --concurrency 16
    python benchmarks/service_load_profile.py --model model.onnx --profile out.prof

Calls the FastAPI app directly through ASGI with a prebuilt multipart (or ``--json``) body, so
the numbers are the app's own work: middleware, rate limiting, body parsing, image checks and
decoding, preprocessing, batching, the solver and the JSON response (uvicorn's HTTP parsing and
socket writes are not included; measure those with ``service_load.py --driver wrk``).

Prints CPU milliseconds per request: the whole process (all threads), the event-loop thread,
and the two pieces that run in worker threads (image preparation and ``solve_arrays``), so that
what is left is the service's own overhead. ``--profile FILE`` writes a cProfile of the event
loop thread (``python -m pstats FILE``); ``--pyinstrument`` prints a pyinstrument tree of it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import cProfile
import io
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw

from captchalab.service import ServiceSettings, create_app
from captchalab.service import images as service_images
from captchalab.service.security import hash_api_key

API_KEY = "benchmark-key"
BOUNDARY = "c0ffee0c0ffee0c0ffee0c0ffee0c0ff"


class ThreadClock:
    """Sums the CPU time of calls to a function, whichever thread they run in."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.seconds = 0.0
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return self.function(*args, **kwargs)
        finally:
            spent = time.thread_time() - start
            with self._lock:
                self.seconds += spent
                self.calls += 1


def sample_png(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).text((6, height // 3), "4821", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def multipart_body(image: bytes) -> tuple[bytes, str]:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="c.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    return head + image + f"\r\n--{BOUNDARY}--\r\n".encode(), (
        f"multipart/form-data; boundary={BOUNDARY}"
    )


def json_body(image: bytes) -> tuple[bytes, str]:
    return json.dumps({"image": base64.b64encode(image).decode()}).encode(), "application/json"


async def call(app: Any, body: bytes, content_type: str, client: int) -> int:
    """One ``POST /v1/solve`` through ASGI; returns the status code."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/solve",
        "raw_path": b"/v1/solve",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"x-api-key", API_KEY.encode()),
        ],
        "client": ("127.0.0.1", 40000 + client),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # like a quiet client: wait for disconnect
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def drive(app: Any, body: bytes, content_type: str, requests: int, concurrency: int) -> int:
    """Send ``requests`` requests from ``concurrency`` sequential callers; returns the errors."""
    remaining = requests
    errors = 0

    async def caller(index: int) -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            if await call(app, body, content_type, index) != 200:
                errors += 1

    await asyncio.gather(*(caller(i) for i in range(concurrency)))
    return errors


def run(args: argparse.Namespace) -> dict[str, float]:
    settings = ServiceSettings(
        models={"default": args.model},
        threads=1,  # no spinning intra-op threads: their CPU time would hide the service's
        batching=not args.direct,
        api_key_hashes=[hash_api_key(API_KEY)],
        rate_limit_per_minute=1e12,  # checked on every request, never refused
        rate_limit_burst=1_000_000,
        queue_size=4096,
    )
    app = create_app(settings)
    result: dict[str, float] = {}

    async def scenario() -> None:
        async with app.router.lifespan_context(app):
            loaded = app.state.service.registry.get(None)
            spec = loaded.solver.preprocessing
            image = sample_png(spec.width, spec.height)
            body, content_type = (json_body if args.json else multipart_body)(image)
            solve = ThreadClock(loaded.solver.solve_arrays)
            prepare = ThreadClock(service_images.prepare_image)
            loaded.runner._solve_arrays = solve
            patched = _patch_everywhere(service_images.prepare_image, prepare)
            await drive(app, body, content_type, args.warmup, args.concurrency)
            solve.seconds = prepare.seconds = 0.0
            solve.calls = 0
            profiler = cProfile.Profile() if args.profile else None
            inst = _pyinstrument() if args.pyinstrument else None
            wall, cpu, loop_cpu = time.perf_counter(), time.process_time(), time.thread_time()
            with _profiling(profiler, inst):
                errors = await drive(app, body, content_type, args.requests, args.concurrency)
            n = args.requests
            result.update(
                wall_ms=(time.perf_counter() - wall) * 1000 / n,
                process_cpu_ms=(time.process_time() - cpu) * 1000 / n,
                loop_cpu_ms=(time.thread_time() - loop_cpu) * 1000 / n,
                prepare_cpu_ms=prepare.seconds * 1000 / n,
                solve_cpu_ms=solve.seconds * 1000 / n,
                mean_batch=n / max(1, solve.calls),
                errors=errors,
            )
            for module in patched:
                setattr(module, "prepare_image", prepare.function)  # noqa: B010
            if profiler is not None:
                profiler.dump_stats(args.profile)
            if inst is not None:
                print(inst.output_text(unicode=False, color=False, show_all=True))

    if args.loop == "uvloop":
        import uvloop

        uvloop.run(scenario())
    else:
        asyncio.run(scenario())
    return result


def _patch_everywhere(original: Any, replacement: Any) -> list[Any]:
    """Replace ``original`` in every service module that imported it by name."""
    patched = []
    for name, module in list(sys.modules.items()):
        if (
            name.startswith("captchalab.service")
            and getattr(module, "prepare_image", None) is original
        ):
            setattr(module, "prepare_image", replacement)  # noqa: B010
            patched.append(module)
    return patched


def _pyinstrument() -> Any:
    from pyinstrument import Profiler

    return Profiler(interval=0.0005, async_mode="disabled")


@contextlib.contextmanager
def _profiling(profiler: cProfile.Profile | None, inst: Any) -> Any:
    if profiler is not None:
        profiler.enable()
    if inst is not None:
        inst.start()
    try:
        yield
    finally:
        if inst is not None:
            inst.stop()
        if profiler is not None:
            profiler.disable()


def _default_loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="ONNX model path or 'default'")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3, help="report the cheapest of N runs")
    parser.add_argument("--direct", action="store_true", help="batching off")
    parser.add_argument("--json", action="store_true", help="JSON base64 body, not multipart")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default=_default_loop(),
                        help="event loop (uvicorn picks uvloop when it is installed)")  # fmt: skip
    parser.add_argument("--profile", help="write a cProfile of the event-loop thread here")
    parser.add_argument("--pyinstrument", action="store_true", help="print a pyinstrument tree")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    runs = [run(args) for _ in range(1 if args.profile or args.pyinstrument else args.repeats)]
    best = min(runs, key=lambda r: r["process_cpu_ms"])
    other = best["process_cpu_ms"] - best["prepare_cpu_ms"] - best["solve_cpu_ms"]
    body = "json" if args.json else "multipart"
    mode = "direct" if args.direct else "batching"
    print(
        f"{body}, {mode}, {args.loop}, concurrency {args.concurrency}, {args.requests} requests, "
        f"cheapest of {len(runs)} runs; CPU ms per request:"
    )
    print("| process | event loop | prepare (thread) | solve_arrays (thread) | overhead | "
          "wall ms/req | mean batch | errors |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {best['process_cpu_ms']:.3f} | {best['loop_cpu_ms']:.3f} | "
        f"{best['prepare_cpu_ms']:.3f} | {best['solve_cpu_ms']:.3f} | {other:.3f} | "
        f"{best['wall_ms']:.3f} | {best['mean_batch']:.1f} | {best['errors']:.0f} |"
    )


if __name__ == "__main__":
    main()
