"""Keys, rate limits, CORS and every way an upload can be refused (always 4xx JSON)."""

from __future__ import annotations

import base64
import io

from fastapi.testclient import TestClient
from PIL import Image

from captchalab.service.security import TokenBuckets, hash_api_key

from .conftest import ClientFactory, image_bytes

KEY = "s3cret-key"


def _error(response, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == kind
    assert isinstance(body["detail"], str)


def test_api_key_required_when_configured(make_client: ClientFactory, png: bytes) -> None:
    client = make_client(api_key_hashes=[hash_api_key(KEY)])
    _error(client.post("/v1/solve", files={"image": png}), 401, "unauthorized")
    wrong = client.post("/v1/solve", files={"image": png}, headers={"X-API-Key": "nope"})
    _error(wrong, 401, "unauthorized")
    _error(client.get("/v1/models"), 401, "unauthorized")
    ok = client.post("/v1/solve", files={"image": png}, headers={"X-API-Key": KEY})
    assert ok.status_code == 200, ok.text
    assert client.get("/healthz").status_code == 200  # probes need no key


def test_rate_limit_after_burst(make_client: ClientFactory) -> None:
    client = make_client(rate_limit_per_minute=1, rate_limit_burst=3)
    statuses = [client.get("/v1/models").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/v1/models")
    _error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1


def test_rate_limit_per_key(make_client: ClientFactory) -> None:
    other = "another-key"
    client = make_client(
        api_key_hashes=[hash_api_key(KEY), hash_api_key(other)],
        rate_limit_per_minute=1,
        rate_limit_burst=2,
    )
    client.app.state.service.guard.by_ip.rate = 0  # isolate the per-key buckets
    for _ in range(2):
        assert client.get("/v1/models", headers={"X-API-Key": KEY}).status_code == 200
    _error(client.get("/v1/models", headers={"X-API-Key": KEY}), 429, "rate_limited")
    assert client.get("/v1/models", headers={"X-API-Key": other}).status_code == 200


def test_token_bucket_refills() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0])
    assert buckets.take("a") == 0 and buckets.take("a") == 0
    assert buckets.take("a") > 0
    assert buckets.take("b") == 0  # buckets are independent
    now[0] += 1.0  # one token a second
    assert buckets.take("a") == 0
    assert buckets.take("a") > 0


def test_upload_too_large(make_client: ClientFactory) -> None:
    client = make_client(max_upload_bytes=10_000)
    big = image_bytes(size=(96, 32)) + b"\0" * 20_000
    _error(client.post("/v1/solve", files={"image": big}), 413, "payload_too_large")
    encoded = base64.b64encode(big).decode()
    _error(client.post("/v1/solve", json={"image": encoded}), 413, "payload_too_large")


def test_streamed_body_without_content_length_is_capped(make_client: ClientFactory) -> None:
    client = make_client(max_upload_bytes=10_000)

    def chunks():
        for _ in range(20):
            yield b"x" * 1000

    response = client.post(
        "/v1/solve", content=chunks(), headers={"content-type": "application/json"}
    )
    _error(response, 413, "payload_too_large")


def test_too_many_pixels(make_client: ClientFactory) -> None:
    client = make_client(max_pixels=100 * 100)
    response = client.post("/v1/solve", files={"image": image_bytes(size=(200, 200))})
    _error(response, 413, "too_many_pixels")


def test_non_image_is_415_whatever_the_name(client: TestClient) -> None:
    response = client.post("/v1/solve", files={"image": ("x.png", b"GIF-ish text", "image/png")})
    _error(response, 415, "unsupported_media_type")
    tiff = io.BytesIO()
    Image.new("RGB", (8, 8)).save(tiff, format="TIFF")
    _error(
        client.post("/v1/solve", files={"image": tiff.getvalue()}), 415, "unsupported_media_type"
    )
    _error(client.post("/v1/solve", content=b"raw"), 415, "unsupported_media_type")


def test_corrupt_png_is_4xx_json(client: TestClient, png: bytes) -> None:
    truncated = png[: len(png) // 2]
    _error(client.post("/v1/solve", files={"image": truncated}), 422, "invalid_image")
    header_only = png[:16]
    _error(client.post("/v1/solve", files={"image": header_only}), 422, "invalid_image")
    _error(client.post("/v1/solve", files={"image": b""}), 422, "invalid_image")


def test_malformed_bodies_are_4xx_json(client: TestClient) -> None:
    json_headers = {"content-type": "application/json"}
    _error(client.post("/v1/solve", content=b"{", headers=json_headers), 422, "invalid_request")
    _error(client.post("/v1/solve", json={"img": "x"}), 422, "invalid_request")
    _error(client.post("/v1/solve", json=[1, 2]), 422, "invalid_request")
    as_text = client.post("/v1/solve", data={"image": "text"}, files={"unused": b""})
    _error(as_text, 422, "invalid_request")
    _error(client.post("/v1/solve", data={"image": "text"}), 415, "unsupported_media_type")
    broken = {"content-type": "multipart/form-data; boundary=xyz"}
    response = client.post("/v1/solve", content=b"--xyz\r\ngarbage", headers=broken)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_cors_only_for_allowed_origins(make_client: ClientFactory) -> None:
    client = make_client(cors_origins=["https://allowed.example"])
    allowed = client.get("/v1/models", headers={"Origin": "https://allowed.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://allowed.example"
    other = client.get("/v1/models", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        "/v1/solve",
        headers={
            "Origin": "https://allowed.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-API-Key",
        },
    )
    assert preflight.status_code == 200
    assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()


def test_no_cors_by_default(client: TestClient) -> None:
    response = client.get("/v1/models", headers={"Origin": "https://allowed.example"})
    assert "access-control-allow-origin" not in response.headers


def test_security_headers(client: TestClient) -> None:
    headers = client.get("/").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in headers["content-security-policy"]
