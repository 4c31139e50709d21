"""Server-side sessions: the browser's cookie carries a random token, the database its SHA-256.

Several app processes share them through the database. A session ends on
sign-out, deactivation, a password change, a second-factor reset, after 30
minutes idle or 12 hours in all (configurable); an ended session's cookie is
refused from then on, wherever it was copied to.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy import select, update

from .. import crypto
from ..db import begin_mode, db, rowcount
from ..models import User, UserSession
from ..models.base import utcnow

# last_seen_at is written at most this often, so most requests write nothing.
TOUCH_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Resumed:
    user_id: uuid.UUID
    session_id: uuid.UUID


@dataclass(frozen=True)
class TimedOut:
    """The session was valid but has timed out: the user may sign in again and carry on."""

    user_id: uuid.UUID


def idle_limit() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def absolute_limit() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])


def start(*, user: User, client_address: str | None) -> str:
    """A new session for `user` (in the request's transaction); returns the cookie's token."""
    token = crypto.new_token()
    row = UserSession(token_hash=crypto.token_digest(token), user_id=user.id, last_seen_at=utcnow(),
                      client_address=client_address)
    db.session.add(row)
    db.session.flush()
    # Until the request commits, its row is in the request's transaction only, where `resume` (which
    # reads in a transaction of its own) cannot see it: the rest of this request knows it from here.
    g.casework_started_session = (row.token_hash, Resumed(user_id=user.id, session_id=row.id))
    return token


def resume(*, token: str, now: dt.datetime | None = None) -> Resumed | TimedOut | None:
    """Check a cookie's token against the server; None for an unknown, ended or forbidden session.

    Runs in transactions of its own, before the request's, so that the request's
    transaction stays read-only or write-locking as its method says.
    """
    now = now or utcnow()
    digest = crypto.token_digest(token)
    started = g.get("casework_started_session")
    if started is not None and crypto.macs_equal(started[0], digest):
        begun: Resumed | TimedOut | None = started[1]  # by this very request (see `start`)
        return begun
    with db.new_session() as s, begin_mode("DEFERRED"):
        row = s.execute(
            select(UserSession.id, UserSession.user_id, UserSession.created_at, UserSession.last_seen_at,
                   UserSession.revoked_at, User.active, User.password_changed_at)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == digest)
        ).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    if row.password_changed_at is not None and row.password_changed_at > row.created_at:
        return None
    reason = None
    if now - row.created_at >= absolute_limit():
        reason = "absolute_timeout"
    elif now - row.last_seen_at >= idle_limit():
        reason = "idle_timeout"
    if reason:
        _write(update(UserSession).where(UserSession.id == row.id, UserSession.revoked_at.is_(None))
               .values(revoked_at=now, ended_because=reason))
        return TimedOut(user_id=row.user_id)
    if now - row.last_seen_at >= TOUCH_EVERY:
        _write(update(UserSession).where(UserSession.id == row.id, UserSession.revoked_at.is_(None))
               .values(last_seen_at=now))
    return Resumed(user_id=row.user_id, session_id=row.id)


def end(*, session_id: uuid.UUID, reason: str) -> None:
    """End one session (in the request's transaction)."""
    db.session.execute(update(UserSession).where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
                       .values(revoked_at=utcnow(), ended_because=reason))


def end_all(*, user_id: uuid.UUID, reason: str) -> int:
    """End every session of a user (in the request's transaction); returns how many were open."""
    result = db.session.execute(
        update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), ended_because=reason)
    )
    return rowcount(result) or 0


def _write(statement) -> None:  # type: ignore[no-untyped-def]
    with db.new_session() as s, begin_mode("IMMEDIATE"):
        s.execute(statement)
        s.commit()
