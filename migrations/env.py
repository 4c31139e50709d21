"""Alembic environment: runs against the engine of the current Casework app."""

from __future__ import annotations

from alembic import context
from flask import current_app

from casework.db import begin_mode
from casework.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = current_app.extensions["casework.engine"]
    with begin_mode("IMMEDIATE"), engine.connect() as conn:
        _run(conn)
        conn.commit()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `casework db upgrade` against a database")
run_migrations_online()
