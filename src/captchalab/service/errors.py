"""Service errors: each carries its HTTP status and a stable machine-readable ``kind``.

Every error response body is ``{"error": kind, "detail": "..."}``.
"""

from __future__ import annotations

import math


class ServiceError(Exception):
    status_code = 400
    kind = "bad_request"

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}

    def to_dict(self) -> dict[str, str]:
        return {"error": self.kind, "detail": self.detail}


class MalformedBody(ServiceError):
    """The body cannot be parsed as its declared type (e.g. broken multipart)."""

    status_code = 400
    kind = "bad_request"


class InvalidRequest(ServiceError):
    status_code = 422
    kind = "invalid_request"


class InvalidImage(ServiceError):
    status_code = 422
    kind = "invalid_image"


class Unauthorized(ServiceError):
    status_code = 401
    kind = "unauthorized"


class UnknownModel(ServiceError):
    status_code = 404
    kind = "unknown_model"


class PayloadTooLarge(ServiceError):
    status_code = 413
    kind = "payload_too_large"


class TooManyPixels(ServiceError):
    status_code = 413
    kind = "too_many_pixels"


class UnsupportedMediaType(ServiceError):
    status_code = 415
    kind = "unsupported_media_type"


class RateLimited(ServiceError):
    status_code = 429
    kind = "rate_limited"

    def __init__(self, retry_after_s: float) -> None:
        seconds = max(1, math.ceil(retry_after_s))
        super().__init__(
            f"rate limit exceeded; retry in {seconds} s", {"Retry-After": str(seconds)}
        )


class Busy(ServiceError):
    status_code = 503
    kind = "busy"

    def __init__(self, detail: str = "server is busy; retry shortly") -> None:
        super().__init__(detail, {"Retry-After": "1"})


class NotReady(ServiceError):
    status_code = 503
    kind = "not_ready"
