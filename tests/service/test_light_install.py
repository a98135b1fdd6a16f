"""The container's ``captchalab serve``: no torch (the light install), settings from the env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.service.conftest import free_port

# Runs the CLI as if torch were not installed: any import of it fails loudly.
NO_TORCH = """
import importlib.abc, runpy, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch imported by the light install: " + name)
sys.meta_path.insert(0, NoTorch())
sys.argv = ["captchalab", *sys.argv[1:]]
runpy.run_module("captchalab.cli", run_name="__main__")
"""


def test_serve_runs_without_torch_with_settings_from_the_environment(
    onnx_model_path: Path,
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CAPTCHALAB_HOST": "127.0.0.1",
        "CAPTCHALAB_PORT": str(port),
        "CAPTCHALAB_MODELS": f"tiny={onnx_model_path}",
        "CAPTCHALAB_MAX_BATCH_SIZE": "3",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", NO_TORCH, "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    ready = json.loads(r.read())
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        assert ready is not None, process.communicate(timeout=10)[0] if process.poll() else ""
        assert "tiny" in json.dumps(ready)
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert "torch imported" not in output
    assert f"serving tiny on http://127.0.0.1:{port}/" in output.replace("\n", "")


def test_bad_environment_settings_fail_clearly() -> None:
    env = {**os.environ, "CAPTCHALAB_MAX_BATCH_SIZE": "zero", "CAPTCHALAB_PORT": "1"}
    result = subprocess.run(
        [sys.executable, "-c", NO_TORCH, "serve"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "max_batch_size" in result.stderr
