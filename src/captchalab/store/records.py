"""Issuing challenges and recording answers, each in one transaction.

An answer is accepted only by the transaction that marks its challenge used *and* stores the
answer with its verdict: if the process dies before the commit, neither happened (and the
client was told nothing); after it, both did. The ``used = false`` condition on that update,
and the unique ``answers.challenge_id``, make a challenge single-use across workers.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from captchalab.store.tables import AnswerRow, ChallengeRow, SecretRow


class AnswerOutcome(enum.Enum):
    ACCEPTED = "accepted"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class IssuedChallenge:
    id: str
    scheme: str
    text_digest: str
    text_length: int
    image_png: bytes
    client_digest: str
    issued_at_ms: int
    expires_at_ms: int


@dataclass(frozen=True)
class StoredAnswer:
    challenge_id: str
    client_digest: str
    answer: str
    answer_length: int
    answered_at_ms: int
    time_to_answer_ms: int
    correct: bool
    length_anomaly: bool
    image_png: bytes
    scheme: str


@dataclass(frozen=True)
class Verdict:
    correct: bool
    length_anomaly: bool


# (stored text digest, stored text length) -> verdict; computed inside the transaction.
Judge = Callable[[str, int], Verdict]


class ChallengeStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def secret(self, name: str) -> bytes:
        """The server secret ``name``, generated and stored on first use (race-safe)."""
        with Session(self.engine) as session:
            row = session.get(SecretRow, name)
            if row is not None:
                return bytes.fromhex(row.value)
            session.add(SecretRow(name=name, value=secrets.token_hex(32)))
            try:
                session.commit()
            except IntegrityError:  # another worker stored it first: use theirs
                session.rollback()
            stored = session.get(SecretRow, name, populate_existing=True)
            assert stored is not None
            return bytes.fromhex(stored.value)

    def issue(self, challenge: IssuedChallenge) -> None:
        with Session(self.engine) as session, session.begin():
            session.add(
                ChallengeRow(
                    id=challenge.id,
                    scheme=challenge.scheme,
                    text_digest=challenge.text_digest,
                    text_length=challenge.text_length,
                    image_png=challenge.image_png,
                    client_digest=challenge.client_digest,
                    issued_at_ms=challenge.issued_at_ms,
                    expires_at_ms=challenge.expires_at_ms,
                    used=False,
                )
            )

    def answer(
        self,
        challenge_id: str,
        answer: str,
        client_digest: str,
        now_ms: int,
        judge: Judge,
    ) -> tuple[AnswerOutcome, Verdict | None]:
        """Judge and store ``answer`` in one transaction, or say why it cannot be."""
        with Session(self.engine) as session:
            with session.begin():
                claimed = session.execute(
                    update(ChallengeRow)
                    .where(
                        ChallengeRow.id == challenge_id,
                        ChallengeRow.used.is_(False),
                        ChallengeRow.expires_at_ms > now_ms,
                    )
                    .values(used=True)
                    .returning(
                        ChallengeRow.text_digest,
                        ChallengeRow.text_length,
                        ChallengeRow.issued_at_ms,
                    )
                ).first()
                if claimed is not None:
                    digest, length, issued_at_ms = claimed
                    verdict = judge(digest, length)
                    session.add(
                        AnswerRow(
                            challenge_id=challenge_id,
                            client_digest=client_digest,
                            answer=answer,
                            answer_length=len(answer),
                            answered_at_ms=now_ms,
                            time_to_answer_ms=max(0, now_ms - issued_at_ms),
                            correct=verdict.correct,
                            length_anomaly=verdict.length_anomaly,
                        )
                    )
                    return AnswerOutcome.ACCEPTED, verdict
            # Not claimed: say why (read after the failed update, outside its transaction).
            row = session.execute(
                select(ChallengeRow.used, ChallengeRow.expires_at_ms).where(
                    ChallengeRow.id == challenge_id
                )
            ).first()
        if row is None:
            return AnswerOutcome.UNKNOWN, None
        if row.used:
            return AnswerOutcome.USED, None
        return AnswerOutcome.EXPIRED, None

    def purge_unanswered(self, before_ms: int) -> int:
        """Delete challenges that expired unanswered before ``before_ms``; returns how many."""
        with Session(self.engine) as session, session.begin():
            result = session.execute(
                delete(ChallengeRow).where(
                    ChallengeRow.used.is_(False), ChallengeRow.expires_at_ms < before_ms
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def answers(self, since_ms: int = 0, flagged_only: bool = False) -> Iterator[StoredAnswer]:
        """Stored answers from ``since_ms`` on, oldest first, with their challenge's image."""
        query = (
            select(AnswerRow, ChallengeRow.image_png, ChallengeRow.scheme)
            .join(ChallengeRow, ChallengeRow.id == AnswerRow.challenge_id)
            .where(AnswerRow.answered_at_ms >= since_ms)
            .order_by(AnswerRow.answered_at_ms, AnswerRow.id)
        )
        if flagged_only:
            query = query.where(AnswerRow.length_anomaly.is_(True))
        with Session(self.engine) as session:
            for row, image_png, scheme in session.execute(query).yield_per(256):
                yield StoredAnswer(
                    challenge_id=row.challenge_id,
                    client_digest=row.client_digest,
                    answer=row.answer,
                    answer_length=row.answer_length,
                    answered_at_ms=row.answered_at_ms,
                    time_to_answer_ms=row.time_to_answer_ms,
                    correct=row.correct,
                    length_anomaly=row.length_anomaly,
                    image_png=image_png,
                    scheme=scheme,
                )


def keyed_digest(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``key``, separated by ``purpose``; hex."""
    message = purpose.encode() + b"\x00" + value.encode("utf-8")
    return hmac.new(key, message, "sha256").hexdigest()
