"""The store's tables. Times are integer milliseconds since the Unix epoch (UTC).

A challenge keeps an HMAC of its case-folded text (never the text), so that an answer can be
compared in constant time by any worker, after a restart too; its PNG is kept so that answers
can later be exported as a labelled folder.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID_LENGTH = 32
DIGEST_LENGTH = 64  # hex SHA-256
MAX_ANSWER_LENGTH = 64


class Base(DeclarativeBase):
    pass


class ChallengeRow(Base):
    __tablename__ = "challenges"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    scheme: Mapped[str] = mapped_column(String(200))
    text_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    text_length: Mapped[int] = mapped_column(Integer)
    image_png: Mapped[bytes] = mapped_column(LargeBinary)
    client_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    issued_at_ms: Mapped[int] = mapped_column(BigInteger)
    expires_at_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class AnswerRow(Base):
    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # unique: a second answer to one challenge cannot be stored, whatever the code above does
    challenge_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("challenges.id", ondelete="CASCADE"), unique=True
    )
    client_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    answer: Mapped[str] = mapped_column(String(MAX_ANSWER_LENGTH))
    answer_length: Mapped[int] = mapped_column(Integer)
    answered_at_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    time_to_answer_ms: Mapped[int] = mapped_column(BigInteger)
    correct: Mapped[bool] = mapped_column(Boolean)
    length_anomaly: Mapped[bool] = mapped_column(Boolean)


class SecretRow(Base):
    """Server secrets generated on first start (used when none is configured)."""

    __tablename__ = "secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
