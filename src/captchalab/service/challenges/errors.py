"""Challenge API errors (``{"error": kind, "detail": ...}`` like every service error)."""

from __future__ import annotations

from captchalab.service.errors import ServiceError


class UnknownChallenge(ServiceError):
    status_code = 404
    kind = "unknown_challenge"


class ChallengeUsed(ServiceError):
    status_code = 409
    kind = "challenge_used"


class ChallengeExpired(ServiceError):
    status_code = 410
    kind = "challenge_expired"
