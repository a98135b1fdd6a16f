"""Rate limits: O(1) bounded buckets, per-image charges, keys before charges, trusted proxies
and limits shared between worker processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from captchalab.service import ServiceSettings, create_app, server
from captchalab.service.errors import RateLimited
from captchalab.service.security import AccessGuard, TokenBuckets, hash_api_key

from .conftest import ClientFactory, free_port

KEY = "s3cret-key"


def test_buckets_are_bounded_least_recently_used_first_out() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0], max_keys=100)
    assert buckets.take("kept") == 0 and buckets.take("kept") == 0
    for client in range(1000):  # all active at once: none has refilled
        assert buckets.take(f"c{client}") == 0
        if client % 10 == 0:
            assert buckets.take("kept") > 0  # recently used: stays, still empty
        assert len(buckets) <= 100
    assert buckets.take("c999") == 0 and buckets.take("c999") > 0  # a recent one kept its state
    assert buckets.take("c0") == 0  # the oldest went: it starts full again


def test_a_cost_above_the_burst_needs_a_full_bucket_and_leaves_a_debt() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=3, clock=lambda: now[0])
    assert buckets.take("a", cost=5) == 0  # full bucket: allowed, 2 tokens owed
    assert buckets.take("a") == pytest.approx(3.0)  # -2 -> 1 token takes 3 s
    now[0] += 3.0
    assert buckets.take("a") == 0
    assert buckets.take("b", cost=2) == 0 and buckets.take("b", cost=2) == pytest.approx(1.0)


def test_a_batch_is_charged_per_image(make_client: ClientFactory, png: bytes) -> None:
    client = make_client(rate_limit_per_minute=1, rate_limit_burst=5)
    batch = client.post("/v1/solve/batch", files=[("images", png)] * 4)
    assert batch.status_code == 200, batch.text
    assert client.post("/v1/solve", files={"image": png}).status_code == 200  # the 5th token
    limited = client.post("/v1/solve", files={"image": png})
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    assert client.post("/v1/solve/batch", files=[("images", png)] * 2).status_code == 429


def test_bad_keys_from_a_shared_address_do_not_starve_valid_keys(
    make_client: ClientFactory, png: bytes
) -> None:
    client = make_client(
        api_key_hashes=[hash_api_key(KEY)], rate_limit_per_minute=1, rate_limit_burst=2
    )
    anonymous = [client.get("/v1/models").status_code for _ in range(4)]
    wrong = client.get("/v1/models", headers={"X-API-Key": "guess"}).status_code
    assert anonymous == [401, 401, 429, 429] and wrong == 429  # guessing is throttled
    keyed = [client.get("/v1/models", headers={"X-API-Key": KEY}).status_code for _ in range(3)]
    assert keyed == [200, 200, 429]  # the key's own bucket, untouched by the others


def test_an_ipv6_host_gets_one_bucket_for_its_network() -> None:
    guard = AccessGuard([], per_minute=1, burst=1)
    guard.check("2001:db8:1:2::1", None)
    with pytest.raises(RateLimited):
        guard.check("2001:db8:1:2:ffff::9", None)  # same /64: same client
    guard.check("2001:db8:1:3::1", None)  # another network
    guard.check("192.0.2.1", None)
    with pytest.raises(RateLimited):
        guard.check("192.0.2.1", None)
    guard.check("192.0.2.2", None)  # IPv4: per address
    with pytest.raises(RateLimited):
        guard.check("::ffff:192.0.2.2", None)  # the same IPv4 client on a dual-stack socket
    guard.check("::ffff:192.0.2.3", None)


def test_several_workers_share_the_limit(onnx_model_path: Any) -> None:
    settings = server.build_settings(
        {"tiny": str(onnx_model_path)}, workers=2, rate_limit_per_minute=60, rate_limit_burst=4
    )
    assert settings.workers == 2
    guard = create_app(settings).state.service.guard
    assert guard.by_ip.burst == 2 and guard.by_ip.rate == pytest.approx(0.5)
    assert guard.by_key.burst == 2 and guard.by_key.rate == pytest.approx(0.5)
    one = AccessGuard([], 60, 4, workers=1)
    assert one.by_ip.burst == 4 and one.by_ip.rate == pytest.approx(1.0)


@contextmanager
def _uvicorn(settings: ServiceSettings) -> Iterator[str]:
    """The app under a real uvicorn, configured as ``server.run`` configures it."""
    port = free_port()
    options = server.uvicorn_options(settings, "127.0.0.1", port)
    config = uvicorn.Config(create_app(settings), log_level="warning", **options)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


def _statuses(url: str, addresses: list[str]) -> list[int]:
    with httpx.Client(base_url=url) as client:
        return [
            client.get("/v1/models", headers={"X-Forwarded-For": ip}).status_code
            for ip in addresses
        ]


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    service_settings: Callable[..., ServiceSettings],
) -> None:
    limits = {"rate_limit_per_minute": 1, "rate_limit_burst": 1}
    spoofed = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    default = service_settings(**limits)
    assert default.forwarded_allow_ips == []
    with _uvicorn(default) as url:  # anyone on 127.0.0.1 is one client, whatever it claims
        assert _statuses(url, spoofed) == [200, 429, 429]
    trusted = service_settings(forwarded_allow_ips=["127.0.0.1"], **limits)
    with _uvicorn(trusted) as url:  # behind a trusted proxy: one bucket per forwarded client
        assert _statuses(url, [*spoofed, spoofed[0]]) == [200, 200, 200, 429]


def test_forwarded_allow_ips_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTCHALAB_FORWARDED_ALLOW_IPS", "10.0.0.1, 192.168.0.0/16")
    settings = ServiceSettings()
    assert settings.forwarded_allow_ips == ["10.0.0.1", "192.168.0.0/16"]
    options = server.uvicorn_options(settings, "0.0.0.0", 80)
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "10.0.0.1,192.168.0.0/16"
    monkeypatch.delenv("CAPTCHALAB_FORWARDED_ALLOW_IPS")
    assert server.uvicorn_options(ServiceSettings(), "h", 1)["proxy_headers"] is False
    monkeypatch.setenv("CAPTCHALAB_FORWARDED_ALLOW_IPS", "proxy.example")
    with pytest.raises(ValueError, match=r"proxy\.example"):
        ServiceSettings()
