"""The database: one engine per app, one session per app context.

SQLite gets WAL, foreign keys, a busy timeout, secure_delete and write
transactions that take the write lock up front (BEGIN IMMEDIATE), so a
transaction never fails half-way with "database is locked". Read-only
requests begin DEFERRED so readers never queue behind writers. Each SQLite
connection knows whether its transaction holds the write lock
(`holds_write_lock`): from BEGIN IMMEDIATE, or from the first statement of a
DEFERRED one that may write (the audit trail asks, see
`casework.services.audit`).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from typing import Any, cast

from flask import Flask, current_app, g
from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# "IMMEDIATE" for anything that may write; "DEFERRED" for a read-only request.
sqlite_begin: contextvars.ContextVar[str] = contextvars.ContextVar("sqlite_begin", default="IMMEDIATE")
# connection.info key: whether the SQLite connection's transaction holds the write lock.
WRITE_LOCK = "casework.write_lock"
# Text statements that never take SQLite's write lock; any other text is taken to (a false alarm
# only makes the audit trail treat the transaction as a writer's).
_READ_ONLY_STATEMENTS = frozenset({"SELECT", "PRAGMA", "EXPLAIN", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK"})
_FIRST_WORD = re.compile(r"\s*(\w+)")


def make_engine(url: str, *, busy_timeout_ms: int = 10_000, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _create_private_file(parsed.database)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, **kwargs)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _create_private_file(database: str | None) -> None:
    """A SQLite database file this app is the first to open is created owner-only (its WAL and
    shared-memory files take the same mode), whatever the URL it was given: left to SQLite, it
    would follow the umask (0644: readable by every user of the machine)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # an existing database keeps the mode its owner gave it
    except OSError:
        pass  # no such folder, or not allowed: SQLite says so, in its words, on connecting


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
        mode = sqlite_begin.get()
        writing = mode in ("IMMEDIATE", "EXCLUSIVE")
        raw = conn.connection.driver_connection
        if writing and _begin_promptly(raw, mode, busy_timeout_ms):
            conn.info[WRITE_LOCK] = True
            return
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")  # (a writer: for what is left of the busy timeout)
        finally:
            raw.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        conn.info[WRITE_LOCK] = writing

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any,
                    _executemany: bool) -> None:
        if not conn.info.get(WRITE_LOCK) and _may_write(statement, context):
            conn.info[WRITE_LOCK] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn: Any) -> None:
        conn.info[WRITE_LOCK] = False


# How long a writer keeps trying for the write lock itself, a millisecond or two apart, before it
# leaves the rest of the busy timeout to SQLite.
PROMPT_WAIT_S = 2.0


def _begin_promptly(raw: sqlite3.Connection, mode: str, busy_timeout_ms: int) -> bool:
    """Begin a writing transaction as soon as the write lock is free; False if it was not within
    PROMPT_WAIT_S (the caller then waits SQLite's way).

    SQLite's own wait sleeps ever longer between tries (up to 100 ms at a time), so a writer that
    just misses the lock's release waits on for tens of milliseconds: with two web workers each
    writing an audit entry per page, that is most of a busy server's slowest answers. Trying again
    every millisecond or two costs a system call a time and answers within one of the release."""
    started = time.monotonic()
    deadline = started + min(PROMPT_WAIT_S, busy_timeout_ms / 1000)
    pause = 0.0005
    raw.execute("PRAGMA busy_timeout=0")
    while True:
        try:
            raw.execute(f"BEGIN {mode}")
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raw.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
                raise
        else:
            raw.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            return True
        if time.monotonic() >= deadline:
            # What is left of the busy timeout, for SQLite's own wait (the caller restores it).
            left = busy_timeout_ms - (time.monotonic() - started) * 1000
            raw.execute(f"PRAGMA busy_timeout={max(int(left), 0)}")
            return False
        time.sleep(pause)
        pause = min(pause * 1.5, 0.002)


# A web server's SQLite connections (`checkpoint_after_responses`): the WAL is checkpointed after a
# response has gone, at most once a second a process; the commit that fills the WAL checkpoints only
# past this many pages (40 MB), should nothing else.
SERVER_AUTOCHECKPOINT_PAGES = 10_000
CHECKPOINT_EVERY_S = 1.0


def checkpoint_after_responses(app: Flask, *, every_s: float = CHECKPOINT_EVERY_S,
                               autocheckpoint_pages: int = SERVER_AUTOCHECKPOINT_PAGES) -> None:
    """For an app serving requests on SQLite (wsgi.py): checkpoint the WAL after a response has been
    sent, at most once every `every_s` seconds, instead of in the commit that takes the WAL past
    SQLite's 1,000 pages.

    Left to SQLite, that commit checkpoints, and so does every commit after it until the WAL starts
    again from its beginning, which it cannot while a reader's snapshot needs its end. A page's audit
    entry is committed while the page's own read transaction is open, and other workers read all the
    time: once past 1,000 pages, nearly every commit copied pages back and waited on `fdatasync`
    (half of 3,000 audit commits took 0.5-385 ms at the 1M demo on a busy disk, 15-20% of a page's
    time, against 0.1 ms each without). A checkpoint after the response, with this request's
    transactions ended, keeps the WAL small at one `fdatasync` a second a worker. The command line
    (imports, jobs) keeps SQLite's own checkpoints."""
    engine: Engine = app.extensions["casework.engine"]
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _fewer_checkpoints(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint_pages)}")

    engine.dispose()  # connections made before (at start) take the setting too
    last = [time.monotonic()]

    @app.after_request
    def _checkpoint_later(response: Any) -> Any:
        now = time.monotonic()
        if now - last[0] >= every_s:
            last[0] = now
            response.call_on_close(lambda: checkpoint(engine))
        return response


def checkpoint(engine: Engine) -> None:
    """Copy what the WAL holds back into the database as far as readers allow (PASSIVE: it waits
    for no one), on a connection of the pool outside any transaction."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        raw = engine.raw_connection()
    except SQLAlchemyError:
        return  # the database cannot be opened just now: a later response's turn
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
    except sqlite3.Error:
        pass  # busy, locked or failing: a later response's turn, or SQLite's own past the limit
    finally:
        raw.close()


def _may_write(statement: str, context: Any) -> bool:
    """Whether a statement may take SQLite's write lock: a compiled statement says so itself (a
    SELECT with a CTE starts with WITH, and takes none); text is judged by its first word."""
    if context is not None and context.compiled is not None and not (context.is_text or context.isddl):
        return bool(context.isinsert or context.isupdate or context.isdelete)
    first = _FIRST_WORD.match(statement)
    return first is None or first.group(1).upper() not in _READ_ONLY_STATEMENTS


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. `Session.execute` is typed as returning a `Result`, which
    has no row count; for such a statement it returns a `CursorResult`, which has."""
    return cast("CursorResult[Any]", result).rowcount


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "sqlite"


def holds_write_lock(conn: Connection) -> bool:
    """Whether the SQLite connection's open transaction holds the write lock (False when none is open)."""
    return not conn.closed and conn.in_transaction() and bool(conn.info.get(WRITE_LOCK))


@contextlib.contextmanager
def begin_mode(mode: str) -> Iterator[None]:
    token = sqlite_begin.set(mode)
    try:
        yield
    finally:
        sqlite_begin.reset(token)


# SQLite's messages for a database it cannot use just now, apart from mistakes in a statement
# (which SQLite also reports as OperationalError, and which must stay errors that are noticed).
_SQLITE_UNAVAILABLE = ("locked", "full", "disk i/o", "unable to open", "readonly", "busy")


def unavailable(error: BaseException) -> bool:
    """Whether a database error means the database cannot be used just now (stopped, unreachable,
    its disk full), not a mistake in a statement."""
    from sqlalchemy import exc as sa

    if isinstance(error, (sa.TimeoutError, sa.DisconnectionError)):
        return True
    if not isinstance(error, (sa.OperationalError, sa.InterfaceError)):
        return False
    if error.connection_invalidated:
        return True
    if isinstance(error.orig, sqlite3.Error):
        return any(word in str(error.orig).lower() for word in _SQLITE_UNAVAILABLE)
    return True  # PostgreSQL's driver reports a lost or refused connection as OperationalError


class Database:
    """`db.session` is the session of the current app context; `db.engine` its app's engine."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"])
        app.extensions["casework.engine"] = engine
        app.extensions["casework.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
        app.teardown_appcontext(self._remove)

    @property
    def engine(self) -> Engine:
        return cast(Engine, current_app.extensions["casework.engine"])

    @property
    def session(self) -> Session:
        session: Session | None = g.get("_casework_session")
        if session is None:
            session = self.new_session()
            g._casework_session = session
        return session

    def new_session(self) -> Session:
        """A session of its own, independent of the request's (for the audit trail)."""
        maker: sessionmaker[Session] = current_app.extensions["casework.sessionmaker"]
        return maker()

    @staticmethod
    def _remove(_exc: BaseException | None) -> None:
        session = g.pop("_casework_session", None)
        if session is not None:
            session.close()


db = Database()
