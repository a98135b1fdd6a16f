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
    models: dict[str, str] | None, workers: int | None = None, **overrides: Any
) -> ServiceSettings:
    """Settings: ``models`` and ``overrides`` first, then ``CAPTCHALAB_*`` variables, then the
    defaults. ``None`` (``models`` or an override) means "not given": the next source decides.

    With several workers, each gets an equal share of the cores unless ``threads`` is set, and
    the rate limits are shared between them (``workers``).
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    if models is not None:
        given["models"] = models
    if workers is not None:
        given["workers"] = workers
    settings = ServiceSettings(**given)
    if settings.workers > 1 and settings.threads is None:
        cores = max(1, (os.cpu_count() or 1) // settings.workers)
        settings = settings.model_copy(update={"threads": cores})
    return settings


def uvicorn_options(settings: ServiceSettings, host: str, port: int) -> dict[str, Any]:
    """uvicorn's options for ``settings``: proxy headers only from ``forwarded_allow_ips``."""
    # uvicorn's defaults pick uvloop and httptools when installed (uvicorn[standard]).
    # Its own default trusts X-Forwarded-For from 127.0.0.1, so that anything on the host
    # could pick its client address (and rate-limit bucket): here no proxy is trusted unless
    # configured.
    proxies = settings.forwarded_allow_ips
    return {
        "host": host,
        "port": port,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": ",".join(proxies) if proxies else "",
        "access_log": settings.access_log,
    }


def run(
    models: dict[str, str] | None,
    host: str,
    port: int,
    workers: int | None = None,
    **overrides: Any,
) -> None:
    """Serve ``models`` (name -> ONNX path or "default"; ``None``: ``CAPTCHALAB_MODELS`` or the
    shipped model) on ``host:port`` with ``workers`` processes (``None``: ``CAPTCHALAB_WORKERS``
    or 1) until interrupted.

    ``overrides`` are ``ServiceSettings`` fields (``batching=False``, ``api_key_hashes=[...]``,
    ...); ``None`` values are ignored so a CLI can pass its unset options straight through.
    Several workers (one per core) serve more requests per second than one, as Python's HTTP
    handling then runs on every core; each holds its own copy of the models, and ``/metrics``
    sums all of them.
    """
    settings = build_settings(models, workers, **overrides)
    options = uvicorn_options(settings, host, port)
    if settings.workers <= 1:
        uvicorn.run(create_app(settings), **options)
        return
    if settings.challenges is not None:  # once, before the workers race to do it
        from captchalab.store import connect, migrate

        engine = connect(settings.database_url)
        migrate(engine)
        engine.dispose()
    # Worker processes rebuild the app from the import string, reading settings from the env,
    # and share their metrics through files in a folder of their own (see service.metrics).
    os.environ[SETTINGS_ENV] = json.dumps(settings.model_dump(mode="json"))
    metrics_dir = tempfile.mkdtemp(prefix="captchalab-metrics-")
    os.environ[MULTIPROCESS_ENV] = metrics_dir
    try:
        uvicorn.run(
            "captchalab.service.app:create_app_from_environment",
            factory=True,
            workers=settings.workers,
            **options,
        )
    finally:
        os.environ.pop(MULTIPROCESS_ENV, None)
        shutil.rmtree(metrics_dir, ignore_errors=True)
