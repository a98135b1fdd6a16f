"""Challenges, their answers, and generated server secrets.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("scheme", sa.String(200), nullable=False),
        sa.Column("text_digest", sa.String(64), nullable=False),
        sa.Column("text_length", sa.Integer, nullable=False),
        sa.Column("image_png", sa.LargeBinary, nullable=False),
        sa.Column("client_digest", sa.String(64), nullable=False),
        sa.Column("issued_at_ms", sa.BigInteger, nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger, nullable=False),
        sa.Column("used", sa.Boolean, nullable=False),
    )
    op.create_index("ix_challenges_expires_at_ms", "challenges", ["expires_at_ms"])
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "challenge_id",
            sa.String(32),
            sa.ForeignKey("challenges.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("client_digest", sa.String(64), nullable=False),
        sa.Column("answer", sa.String(64), nullable=False),
        sa.Column("answer_length", sa.Integer, nullable=False),
        sa.Column("answered_at_ms", sa.BigInteger, nullable=False),
        sa.Column("time_to_answer_ms", sa.BigInteger, nullable=False),
        sa.Column("correct", sa.Boolean, nullable=False),
        sa.Column("length_anomaly", sa.Boolean, nullable=False),
    )
    op.create_index("ix_answers_answered_at_ms", "answers", ["answered_at_ms"])
    op.create_table(
        "secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("secrets")
    op.drop_index("ix_answers_answered_at_ms", "answers")
    op.drop_table("answers")
    op.drop_index("ix_challenges_expires_at_ms", "challenges")
    op.drop_table("challenges")
