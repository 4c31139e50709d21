"""The database: one engine per app, one session per app context.

SQLite gets WAL, foreign keys, a busy timeout, secure_delete and write
transactions that take the write lock up front (BEGIN IMMEDIATE), so a
transaction never fails half-way with "database is locked". Read-only
requests begin DEFERRED so readers never queue behind writers.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# "IMMEDIATE" for anything that may write; "DEFERRED" for a read-only request.
sqlite_begin: contextvars.ContextVar[str] = contextvars.ContextVar("sqlite_begin", default="IMMEDIATE")


def make_engine(url: str, *, busy_timeout_ms: int = 10_000, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, **kwargs)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA secure_delete=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(f"BEGIN {sqlite_begin.get()}")


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "sqlite"


@contextlib.contextmanager
def begin_mode(mode: str) -> Iterator[None]:
    token = sqlite_begin.set(mode)
    try:
        yield
    finally:
        sqlite_begin.reset(token)


class Database:
    """`db.session` is the session of the current app context; `db.engine` its app's engine."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"])
        app.extensions["casework.engine"] = engine
        app.extensions["casework.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
        app.teardown_appcontext(self._remove)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["casework.engine"]

    @property
    def session(self) -> Session:
        session = g.get("_casework_session")
        if session is None:
            session = current_app.extensions["casework.sessionmaker"]()
            g._casework_session = session
        return session

    def new_session(self) -> Session:
        """A session of its own, independent of the request's (for the audit trail)."""
        return current_app.extensions["casework.sessionmaker"]()

    @staticmethod
    def _remove(_exc: BaseException | None) -> None:
        session = g.pop("_casework_session", None)
        if session is not None:
            session.close()


db = Database()
