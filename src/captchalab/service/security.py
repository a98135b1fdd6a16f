"""Access control: API keys (stored as SHA-256 hashes), token-bucket rate limits, body limits."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from captchalab.service.errors import InvalidRequest, PayloadTooLarge, RateLimited, Unauthorized

API_KEY_HEADER = "X-API-Key"

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' blob: data:; object-src 'none'; "
        b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
]


def hash_api_key(key: str) -> str:
    """The SHA-256 hex digest that ``api_key_hashes`` stores for ``key``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class TokenBuckets:
    """One token bucket per key: ``burst`` tokens, refilled at ``per_minute`` tokens a minute."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last update)

    def take(self, key: str) -> float:
        """Spend one token: 0.0 when allowed, else the seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > self.max_keys:
            self._evict(now)
        return 0.0

    def _evict(self, now: float) -> None:
        # A bucket idle long enough to be full again carries no state worth keeping.
        refill_s = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < refill_s}


class AccessGuard:
    """Checks a request's client IP and ``X-API-Key`` header; raises 401/429 errors."""

    def __init__(
        self,
        api_key_hashes: list[str],
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_key_hashes = list(api_key_hashes)
        self.by_ip = TokenBuckets(per_minute, burst, clock)
        self.by_key = TokenBuckets(per_minute, burst, clock)

    def check(self, client_ip: str, api_key: str | None) -> None:
        # The IP bucket comes first so that guessing keys is throttled too.
        wait = self.by_ip.take(client_ip)
        if wait:
            raise RateLimited(wait)
        if not self.api_key_hashes:
            return
        key_hash = self._match(api_key)
        if key_hash is None:
            raise Unauthorized(f"a valid {API_KEY_HEADER} header is required")
        wait = self.by_key.take(key_hash)
        if wait:
            raise RateLimited(wait)

    def _match(self, api_key: str | None) -> str | None:
        if not api_key:
            return None
        digest = hash_api_key(api_key)
        matched = None
        for known in self.api_key_hashes:  # no early exit: constant work per configured key
            if hmac.compare_digest(digest, known):
                matched = known
        return matched


class BodySizeLimitMiddleware:
    """Caps request bodies by ``Content-Length`` and by bytes actually received.

    The check runs when the endpoint first reads the body, so it raises ``PayloadTooLarge``
    inside the app, where the JSON error handlers turn it into a 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if received == 0:
                declared = _content_length(scope)
                if declared is not None and declared > self.max_bytes:
                    raise PayloadTooLarge(self._detail())
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(self._detail())
            return message

        await self.app(scope, limited_receive, send)

    def _detail(self) -> str:
        return f"request body exceeds {self.max_bytes} bytes"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                raise InvalidRequest("invalid Content-Length header") from None
    return None


class SecurityHeadersMiddleware:
    """Adds nosniff, no-referrer, no-framing and a same-origin CSP to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in _SECURITY_HEADERS if h[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
