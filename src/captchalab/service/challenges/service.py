"""The challenge service: issue a pooled captcha, judge and store the one answer it gets.

The true text leaves this module only as a keyed HMAC of its case-folded form; answers are
compared with ``hmac.compare_digest`` on the same HMAC, so the comparison takes the same time
whatever the answer. Nothing here logs a text or an answer.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.exc import OperationalError

from captchalab.schemes import Scheme
from captchalab.service.challenges.config import ChallengeConfig
from captchalab.service.challenges.errors import ChallengeExpired, ChallengeUsed, UnknownChallenge
from captchalab.service.challenges.pool import ChallengePool
from captchalab.service.challenges.sources import ImageSource, build_source
from captchalab.service.errors import Busy
from captchalab.service.metrics import ServiceMetrics
from captchalab.store import AnswerOutcome, ChallengeStore, IssuedChallenge, connect, migrate
from captchalab.store.records import Verdict, keyed_digest

logger = logging.getLogger(__name__)

CHALLENGE_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16)
SECRET_NAME = "challenge-hmac"
_PURGE_EVERY_S = 60.0
_PURGE_GRACE_MS = 60_000  # keep expired challenges a minute, so late answers get 410, not 404


class ChallengeService:
    def __init__(
        self,
        config: ChallengeConfig,
        database_url: str | None,
        metrics: ServiceMetrics,
        secret: str | None = None,
        clock: Callable[[], float] = time.time,
        source: ImageSource | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.clock = clock
        self.source = source or build_source(config)
        self.scheme: Scheme = self.source.scheme
        self.pool = ChallengePool(self.source, config.pool_size, config.wait_s)
        self.store = ChallengeStore(connect(database_url))
        self._configured_secret = secret.encode("utf-8") if secret else None
        self._key = b""
        self._purger: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await asyncio.to_thread(migrate, self.store.engine)
        if self._configured_secret is not None:
            self._key = self._configured_secret
        else:
            self._key = await asyncio.to_thread(self.store.secret, SECRET_NAME)
        await self.pool.start()
        self._purger = asyncio.create_task(self._purge_forever(), name="challenge-purge")
        logger.info(
            "serving challenges of %s (ttl %.0f s, pool %d, %s)",
            self.scheme.name,
            self.config.ttl_s,
            self.config.pool_size,
            "hardened" if self.config.hardening else self.config.source,
        )

    async def stop(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
        await self.pool.stop()
        self.store.engine.dispose()

    def normalise(self, text: str) -> str:
        """The scheme's case policy (and surrounding whitespace ignored)."""
        return self.scheme.charset.normalize(text.strip())

    def text_digest(self, text: str) -> str:
        return keyed_digest(self._key, "text", self.normalise(text))

    def client_digest(self, client: str) -> str:
        return keyed_digest(self._key, "client", client)

    async def issue(self, client: str) -> dict[str, Any]:
        captcha = await self.pool.take()
        now_ms = self._now_ms()
        challenge = IssuedChallenge(
            id=secrets.token_urlsafe(16),
            scheme=self.scheme.name,
            text_digest=self.text_digest(captcha.text),
            text_length=len(self.normalise(captcha.text)),
            image_png=captcha.png,
            client_digest=self.client_digest(client),
            issued_at_ms=now_ms,
            expires_at_ms=now_ms + self.config.ttl_ms,
        )
        async with _store_errors():
            await asyncio.to_thread(self.store.issue, challenge)
        return {
            "id": challenge.id,
            "image": base64.b64encode(captcha.png).decode("ascii"),
            "expires_at": _iso(challenge.expires_at_ms),
        }

    async def answer(self, challenge_id: str, answer: str, client: str) -> bool:
        if not CHALLENGE_ID.fullmatch(challenge_id):
            raise UnknownChallenge("no such challenge")
        submitted = self.normalise(answer)
        submitted_digest = self.text_digest(answer)

        def judge(stored_digest: str, stored_length: int) -> Verdict:
            correct = hmac.compare_digest(submitted_digest, stored_digest)
            return Verdict(correct=correct, length_anomaly=len(submitted) != stored_length)

        async with _store_errors():
            outcome, verdict = await asyncio.to_thread(
                self.store.answer,
                challenge_id,
                answer.strip(),
                self.client_digest(client),
                self._now_ms(),
                judge,
            )
        if outcome is AnswerOutcome.UNKNOWN:
            raise UnknownChallenge("no such challenge")
        if outcome is AnswerOutcome.USED:
            raise ChallengeUsed("this challenge was answered already; request a new one")
        if outcome is AnswerOutcome.EXPIRED:
            raise ChallengeExpired("this challenge expired; request a new one")
        assert verdict is not None
        self.metrics.count_challenge_answer(verdict.correct, verdict.length_anomaly)
        return verdict.correct

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def _purge_forever(self) -> None:
        while True:
            await asyncio.sleep(_PURGE_EVERY_S)
            try:
                await asyncio.to_thread(
                    self.store.purge_unanswered, self._now_ms() - _PURGE_GRACE_MS
                )
            except Exception:
                logger.exception("purging expired challenges failed")


@contextlib.asynccontextmanager
async def _store_errors() -> AsyncIterator[None]:
    """A store that cannot be reached is a 503 to retry, not a 500: a retried answer then gets
    its verdict, or 409 if the first attempt was committed after all."""
    try:
        yield
    except OperationalError as exc:
        logger.error("the challenge store is unavailable: %s", type(exc.orig).__name__)
        raise Busy("the challenge store is unavailable; retry shortly") from None


def _iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
