"""``captchalab serve --workers 2`` as users run it: both processes answer, and ``/metrics``
from either one counts the requests of both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from servers import serving

from .conftest import free_port

REQUESTS = 40


@pytest.fixture(scope="module")
def two_workers(onnx_model_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CAPTCHALAB_RATE_LIMIT_PER_MINUTE": "0"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    args = ["--model", f"tiny={onnx_model_path}", "--workers", "2"]
    with serving(args, port, env) as url:
        yield url


def _solve_requests(metrics_text: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        if family.name == "captchalab_http_requests":
            return sum(
                sample.value
                for sample in family.samples
                if sample.name.endswith("_total") and sample.labels.get("route") == "/v1/solve"
            )
    return 0.0


def test_metrics_sum_every_worker(two_workers: str, png: bytes) -> None:
    for _ in range(REQUESTS):  # a new connection each time: the kernel spreads them
        with httpx.Client() as client:
            response = client.post(two_workers + "/v1/solve", files={"image": png})
            assert response.status_code == 200, response.text
    for _ in range(3):  # any worker's /metrics sees all requests
        with httpx.Client() as client:
            text = client.get(two_workers + "/metrics").text
        assert _solve_requests(text) == REQUESTS
