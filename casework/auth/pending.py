"""The state between the password and the second factor, kept on the server.

After a correct password (or a password set through a set-up link) the browser's
session cookie carries a random token; the database keeps its SHA-256 with the
user, the stage ("code": a code from the authenticator; "enrol": setting one up),
where to go afterwards and the password's version (`password_changed_at`). It
is refused once it has been used, after ten minutes, once the password has
changed, and once the user signs out or completes a sign-in anywhere: a copied
cookie replays nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select

from .. import crypto
from ..db import begin_mode, db, rowcount
from ..models import PendingSignIn, User
from ..models.base import utcnow

LASTS = dt.timedelta(minutes=10)
CODE, ENROL = "code", "enrol"


@dataclass(frozen=True)
class Pending:
    user_id: uuid.UUID
    stage: str
    next_path: str | None


def begin(*, user: User, stage: str, next_path: str | None) -> str:
    """A pending sign-in for `user` (in the request's transaction); returns the cookie's token."""
    token = crypto.new_token()
    now = utcnow()
    db.session.execute(delete(PendingSignIn).where(PendingSignIn.expires_at < now))
    db.session.add(PendingSignIn(token_hash=crypto.token_digest(token), user_id=user.id, stage=stage,
                                 next_path=next_path, password_changed_at=user.password_changed_at,
                                 expires_at=now + LASTS))
    db.session.flush()
    return token


def find(token: str | None, *, stage: str) -> Pending | None:
    """The pending sign-in a cookie's token names, while it may still be used.

    Read in a transaction of its own, so the request's own transaction is not begun by it (the
    second factor's checks write in transactions of their own, which on SQLite would wait for it)."""
    if not token:
        return None
    with db.new_session() as s, begin_mode("DEFERRED"):
        row = s.execute(
            select(PendingSignIn.user_id, PendingSignIn.stage, PendingSignIn.next_path, PendingSignIn.expires_at,
                   PendingSignIn.password_changed_at, User.active,
                   User.password_changed_at.label("password_now"))
            .join(User, User.id == PendingSignIn.user_id)
            .where(PendingSignIn.token_hash == crypto.token_digest(token))
        ).first()
    if row is None or row.stage != stage or row.expires_at <= utcnow() or not row.active:
        return None
    if row.password_changed_at != row.password_now:
        return None  # the password has changed since: start again with the new one
    return Pending(user_id=row.user_id, stage=row.stage, next_path=row.next_path)


def use(token: str | None, *, user_id: uuid.UUID) -> bool:
    """Use the pending sign-in up (in the request's transaction), with every other one of the user's:
    False when it was already used (by a request that got there first)."""
    if not token:
        return False
    used = rowcount(db.session.execute(delete(PendingSignIn).where(
        PendingSignIn.token_hash == crypto.token_digest(token), PendingSignIn.user_id == user_id)))
    end_all(user_id=user_id)
    return used == 1


def end_all(*, user_id: uuid.UUID) -> None:
    """End every pending sign-in of a user (in the request's transaction): signing out, a completed
    sign-in, a password set."""
    db.session.execute(delete(PendingSignIn).where(PendingSignIn.user_id == user_id))


def drop(token: str | None) -> None:
    """End the pending sign-in a cookie's token names (in the request's transaction): signing out."""
    if token:
        db.session.execute(delete(PendingSignIn).where(PendingSignIn.token_hash == crypto.token_digest(token)))
