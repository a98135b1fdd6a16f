"""CORS for the browser extension: its ``chrome-extension://`` origin in the allow-list may
post images with a key and read ``Retry-After`` on a 429; other extensions may not."""

from __future__ import annotations

from .conftest import ClientFactory

EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


def test_the_allowed_extension_posts_with_a_key_and_reads_retry_after(
    make_client: ClientFactory, png: bytes
) -> None:
    client = make_client(cors_origins=[EXTENSION], rate_limit_per_minute=1, rate_limit_burst=1)
    preflight = client.options(
        "/v1/solve",
        headers={
            "Origin": EXTENSION,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == EXTENSION
    first = client.post("/v1/solve", files={"image": png}, headers={"Origin": EXTENSION})
    assert first.status_code == 200
    assert first.headers["access-control-allow-origin"] == EXTENSION
    limited = client.post("/v1/solve", files={"image": png}, headers={"Origin": EXTENSION})
    assert limited.status_code == 429
    assert limited.headers["access-control-allow-origin"] == EXTENSION
    assert "retry-after" in limited.headers["access-control-expose-headers"].lower()
    assert int(limited.headers["retry-after"]) > 0


def test_another_extension_is_not_allowed(make_client: ClientFactory, png: bytes) -> None:
    client = make_client(cors_origins=[EXTENSION])
    other = "chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba"
    response = client.post("/v1/solve", files={"image": png}, headers={"Origin": other})
    assert "access-control-allow-origin" not in response.headers
