"""Engines and migrations: SQLite (WAL, durable commits) by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DATABASE_URL_ENV = "CAPTCHALAB_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///captchalab.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 0x63617074  # PostgreSQL advisory lock key held while migrating


def database_url(url: str | None = None) -> str:
    """``url``, else ``$CAPTCHALAB_DATABASE_URL``, else a SQLite file in the working folder."""
    return url or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def sqlite_file(url: str | None = None) -> Path | None:
    """The file of a SQLite URL (see ``database_url``), or None for another database."""
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def connect(url: str | None = None) -> Engine:
    """An engine for ``url`` (see ``database_url``); raises ``ValueError`` on a bad URL."""
    resolved = database_url(url)
    try:
        parsed = make_url(resolved)
    except ArgumentError as exc:
        raise ValueError(f"invalid database URL {resolved!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(resolved, parsed.database)
    if parsed.get_backend_name() == "postgresql":
        try:
            return create_engine(resolved, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ValueError(
                f"PostgreSQL needs its driver ({exc.name}): pip install 'captchalab[postgres]'"
            ) from None
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if not database or database == ":memory:":
        raise ValueError("the SQLite store must be a file (sqlite:///path/to/file.db)")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=FULL")  # a commit is on disk before it returns
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")  # several workers share one file
        cursor.close()

    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there already)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # one migrator at a time across processes
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
