"""Real ``captchalab serve`` processes for the tests that need a server over a socket."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping

import httpx
import pytest


@contextlib.contextmanager
def serving(args: list[str], port: int, env: Mapping[str, str]) -> Iterator[str]:
    """Run ``captchalab serve --port PORT *args`` until it answers ``/readyz``; yield its URL.

    A server that exits or is not ready within 60 s fails the test with its output.
    """
    command = [sys.executable, "-m", "captchalab.cli", "serve", "--port", str(port), *args]
    process = subprocess.Popen(
        command, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                pytest.fail(f"server did not become ready:\n{output[-2000:]}")
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
