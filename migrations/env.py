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
        if conn.dialect.name != "sqlite":
            _run(conn)
            conn.commit()
            return
        # SQLite remakes a table to alter it (batch mode): with foreign keys enforced, remaking one
        # that other rows refer to (the agency table, say) fails. As SQLite's documentation for
        # altering tables says, they are off while the migrations run (the pragma is ignored inside
        # a transaction, so it is set before one begins) and every reference is checked before the
        # commit: a migration that broke one fails, and nothing of it is kept.
        raw = conn.connection.driver_connection
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            before = _revision(raw)
            _run(conn)
            # Checked only when a migration ran: the check reads every reference of the database.
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() if _revision(raw) != before else []
            if broken:
                raise RuntimeError(f"the migrations left {len(broken)} references to missing rows "
                                   f"(first in table {broken[0][0]}); nothing was changed")
            conn.commit()
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def _revision(raw) -> str | None:  # type: ignore[no-untyped-def]
    """The database's revision, read on the driver's connection (no transaction is begun for it)."""
    try:
        row = raw.execute("SELECT version_num FROM alembic_version").fetchone()
    except Exception:  # noqa: BLE001 - a new database has no alembic_version table yet
        return None
    return row[0] if row else None


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
