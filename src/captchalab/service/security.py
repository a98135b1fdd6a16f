"""Access control: API keys (stored as SHA-256 hashes), token-bucket rate limits, body limits."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
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
    """One token bucket per key: ``burst`` tokens, refilled at ``per_minute`` tokens a minute.

    At most ``max_keys`` buckets are kept, least recently used first out, so each request
    costs O(1) however many clients there are. A bucket pushed out by ``max_keys`` more recent
    clients starts full again when its client comes back; an idle one would have refilled.
    """

    def __init__(
        self,
        per_minute: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # (tokens, time)

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, cost: float = 1.0) -> float:
        """Spend ``cost`` tokens: 0.0 when allowed, else the seconds until it would be.

        A request is allowed when the bucket holds ``cost`` tokens, or is full when ``cost``
        exceeds ``burst``; the tokens may then go below zero, so a large batch delays the next
        requests instead of never passing. Refused requests spend nothing.
        """
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        buckets = self._buckets
        state = buckets.get(key)
        if state is None:
            tokens = self.burst
            if len(buckets) >= self.max_keys:
                buckets.popitem(last=False)
        else:
            tokens = min(self.burst, state[0] + (now - state[1]) * self.rate)
            buckets.move_to_end(key)
        needed = min(cost, self.burst)
        if tokens < needed:
            buckets[key] = (tokens, now)
            return (needed - tokens) / self.rate
        buckets[key] = (tokens - cost, now)
        return 0.0


@dataclass(frozen=True)
class Client:
    """Whom a request is charged to: a key's bucket, or (without keys) an address's."""

    buckets: TokenBuckets
    id: str


def address_bucket(client_ip: str) -> str:
    """The bucket of a client address: the address for IPv4, its /64 network for IPv6 (one
    host usually holds a whole /64, so per-address buckets would be free to multiply)."""
    if ":" not in client_ip:
        return client_ip
    try:
        address = ipaddress.IPv6Address(client_ip)
    except ValueError:
        return client_ip
    if address.ipv4_mapped is not None:  # an IPv4 client of a dual-stack socket
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False))


class AccessGuard:
    """Checks a request's ``X-API-Key`` header and rate limits; raises 401/429 errors.

    With keys configured, the key is checked first and a valid one is charged to its own
    bucket: traffic without a valid key never spends a key's tokens, whatever address it
    shares. Failed attempts are charged to the client address, so guessing is throttled.
    Without keys, each client address has a bucket.

    ``workers`` processes each enforce ``1 / workers`` of the rate and burst, so that together
    they never allow more than the configured limit (see docs/api.md).
    """

    def __init__(
        self,
        api_key_hashes: list[str],
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        workers: int = 1,
    ) -> None:
        self.api_key_hashes = list(api_key_hashes)
        share_rate, share_burst = per_minute / workers, max(1.0, burst / workers)
        self.by_ip = TokenBuckets(share_rate, share_burst, clock)
        self.by_key = TokenBuckets(share_rate, share_burst, clock)

    @property
    def keys_required(self) -> bool:
        return bool(self.api_key_hashes)

    def check(self, client_ip: str, api_key: str | None) -> Client:
        """Authenticate and charge one request; the ``Client`` to charge any further cost to."""
        if not self.api_key_hashes:
            client = Client(self.by_ip, address_bucket(client_ip))
        else:
            key_hash = self._match(api_key)
            if key_hash is None:
                self.charge(Client(self.by_ip, address_bucket(client_ip)), 1.0)
                raise Unauthorized(f"a valid {API_KEY_HEADER} header is required")
            client = Client(self.by_key, key_hash)
        self.charge(client, 1.0)
        return client

    def charge(self, client: Client, cost: float) -> None:
        """Spend ``cost`` more tokens of ``client`` (``RateLimited`` when there are too few)."""
        if cost > 0:
            wait = client.buckets.take(client.id, cost)
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
