"""Alembic environment: runs on the connection ``store.migrate`` passes in, or on
``$CAPTCHALAB_DATABASE_URL`` when the ``alembic`` command is used directly."""

from __future__ import annotations

from alembic import context

from captchalab.store.tables import Base


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from captchalab.store.database import connect

        with connect().begin() as own:
            context.configure(connection=own, target_metadata=Base.metadata)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():  # joins the caller's transaction
        context.run_migrations()


run()
