"""Prometheus metrics in a registry owned by one app (so several apps never share counters).

Under several worker processes (``serve --workers N``) ``server.run`` sets
``PROMETHEUS_MULTIPROC_DIR`` before the workers start: each worker then writes its samples to
files there, and ``/metrics`` from any worker sums every worker's (prometheus_client's
multiprocess mode; the metrics here are counters and histograms only, which it sums exactly).
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_TYPE", "MetricsMiddleware", "ServiceMetrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._multiprocess_dir = os.environ.get(MULTIPROCESS_ENV) or None
        self.requests = Counter(
            "captchalab_http_requests",
            "HTTP requests by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "captchalab_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "captchalab_batch_size",
            "Images per solve_arrays call, by model.",
            ["model"],
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "captchalab_errors",
            "Errors returned to clients (whole requests and batch items), by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.challenge_answers = Counter(
            "captchalab_challenge_answers",
            "Challenge answers stored, by verdict.",
            ["correct"],
            registry=self.registry,
        )
        self.challenge_length_anomalies = Counter(
            "captchalab_challenge_length_anomalies",
            "Challenge answers whose length differs from the challenge's text (a bot signal).",
            registry=self.registry,
        )
        for verdict in ("true", "false"):  # both series exist from the start, at 0
            self.challenge_answers.labels(correct=verdict)
        # (route, method, status) -> that request counter and latency histogram: ``labels()``
        # costs more than the observation itself. Bounded like the label sets it mirrors.
        self._per_request: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def observe_request(self, route: str, method: str, status: str, seconds: float) -> None:
        key = (route, method, status)
        series = self._per_request.get(key)
        if series is None:
            series = (self.requests.labels(route, method, status), self.latency.labels(route))
            self._per_request[key] = series
        series[0].inc()
        series[1].observe(seconds)

    def observe_batch(self, model: str, size: int) -> None:
        self.batch_size.labels(model=model).observe(size)

    def count_error(self, kind: str) -> None:
        self.errors.labels(kind=kind).inc()

    def count_challenge_answer(self, correct: bool, length_anomaly: bool) -> None:
        self.challenge_answers.labels(correct="true" if correct else "false").inc()
        if length_anomaly:
            self.challenge_length_anomalies.inc()

    def render(self) -> bytes:
        if self._multiprocess_dir is None:
            return generate_latest(self.registry)
        every_worker = CollectorRegistry()
        MultiProcessCollector(every_worker, path=self._multiprocess_dir)
        return generate_latest(every_worker)


class MetricsMiddleware:
    """Counts and times every HTTP request, labelled by route template (not the raw path)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            elapsed = time.perf_counter() - start
            self.metrics.observe_request(
                _route_template(scope), scope["method"], str(status), elapsed
            )


def _route_template(scope: Scope) -> str:
    # Unmatched paths share one label so random URLs cannot grow the label set.
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
