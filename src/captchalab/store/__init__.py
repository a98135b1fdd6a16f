"""The challenge store: issued challenges and the answers they received (SQLAlchemy 2).

SQLite (a file, WAL mode) by default, PostgreSQL when ``CAPTCHALAB_DATABASE_URL`` names it;
the schema is versioned by Alembic migrations shipped in ``store/migrations`` and applied by
``migrate``. No torch.
"""

from captchalab.store.database import (
    DATABASE_URL_ENV,
    DEFAULT_DATABASE_URL,
    connect,
    database_url,
    migrate,
)
from captchalab.store.records import (
    AnswerOutcome,
    ChallengeStore,
    IssuedChallenge,
    StoredAnswer,
)

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "AnswerOutcome",
    "ChallengeStore",
    "IssuedChallenge",
    "StoredAnswer",
    "connect",
    "database_url",
    "migrate",
]
