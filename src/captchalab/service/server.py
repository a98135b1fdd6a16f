"""Run the service with uvicorn: the library side of ``captchalab serve``."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any

import uvicorn

from captchalab.service.app import SETTINGS_ENV, create_app
from captchalab.service.metrics import MULTIPROCESS_ENV
from captchalab.service.settings import ServiceSettings


def build_settings(
    models: dict[str, str] | None, workers: int = 1, **overrides: Any
) -> ServiceSettings:
    """Settings from ``CAPTCHALAB_*`` variables, then ``models`` (unless ``None``) and
    ``overrides`` on top.

    With several workers, each gets an equal share of the cores unless ``threads`` is given.
    """
    if workers > 1 and overrides.get("threads") is None:
        overrides["threads"] = max(1, (os.cpu_count() or 1) // workers)
    if models is not None:
        overrides["models"] = models
    overrides = {key: value for key, value in overrides.items() if value is not None}
    return ServiceSettings(**overrides)


def run(models: dict[str, str], host: str, port: int, workers: int, **overrides: Any) -> None:
    """Serve ``models`` (name -> ONNX path or "default") on ``host:port`` until interrupted.

    ``overrides`` are ``ServiceSettings`` fields (``batching=False``, ``api_key_hashes=[...]``,
    ...); ``None`` values are ignored so a CLI can pass its unset options straight through.
    Several workers (one per core) serve more requests per second than one, as Python's HTTP
    handling then runs on every core; each holds its own copy of the models, and ``/metrics``
    sums all of them.
    """
    settings = build_settings(models, workers, **overrides)
    # uvicorn's defaults pick uvloop and httptools when installed (uvicorn[standard]).
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": True,
        "access_log": settings.access_log,
    }
    if workers <= 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Worker processes rebuild the app from the import string, reading settings from the env,
    # and share their metrics through files in a folder of their own (see service.metrics).
    os.environ[SETTINGS_ENV] = json.dumps(settings.model_dump(mode="json"))
    metrics_dir = tempfile.mkdtemp(prefix="captchalab-metrics-")
    os.environ[MULTIPROCESS_ENV] = metrics_dir
    try:
        uvicorn.run(
            "captchalab.service.app:create_app_from_environment",
            factory=True,
            workers=workers,
            **options,
        )
    finally:
        os.environ.pop(MULTIPROCESS_ENV, None)
        shutil.rmtree(metrics_dir, ignore_errors=True)
