"""Housekeeping of accounts: set-up links past their time, sessions that timed out, kept forms,
pending sign-ins (between the password and the second factor) past their ten minutes.

Sessions time out when they are next used (casework.auth.sessions); these functions also end
the ones never used again, so the session table says truthfully which are open, and delete
ended sessions and expired kept forms (encrypted form contents) after a while.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, delete, or_, update

from ..auth import sessions
from ..db import db, rowcount
from ..models import FormStash, PendingSignIn, User, UserSession
from ..models.base import utcnow


@dataclass(frozen=True)
class Expired:
    setup_links: int
    sessions_ended: int
    sessions_deleted: int
    kept_forms_deleted: int
    pending_sign_ins_deleted: int = 0

    def __str__(self) -> str:
        return (f"{self.setup_links} set-up links expired, {self.sessions_ended} sessions ended, "
                f"{self.sessions_deleted} old sessions, {self.kept_forms_deleted} kept forms and "
                f"{self.pending_sign_ins_deleted} expired pending sign-ins deleted")


def expire(*, now: dt.datetime | None = None) -> Expired:
    """End what has run out of time (flushes; the caller commits)."""
    now = now or utcnow()
    links = rowcount(db.session.execute(
        update(User).where(User.setup_token_hash.isnot(None), User.setup_expires_at < now)
        .values(setup_token_hash=None, setup_expires_at=None)
    )) or 0
    ended = 0
    for reason, condition in (
        ("absolute_timeout", UserSession.created_at <= now - sessions.absolute_limit()),
        ("idle_timeout", UserSession.last_seen_at <= now - sessions.idle_limit()),
    ):
        ended += rowcount(db.session.execute(
            update(UserSession).where(UserSession.revoked_at.is_(None), condition)
            .values(revoked_at=now, ended_because=reason)
        )) or 0
    keep = dt.timedelta(days=int(current_app.config["ENDED_SESSIONS_KEEP_DAYS"]))
    deleted = rowcount(db.session.execute(
        delete(UserSession).where(UserSession.revoked_at.isnot(None), UserSession.revoked_at < now - keep)
    )) or 0
    forms = rowcount(db.session.execute(
        delete(FormStash).where(or_(FormStash.expires_at < now, and_(FormStash.created_at < now - keep)))
    )) or 0
    pending = rowcount(db.session.execute(delete(PendingSignIn).where(PendingSignIn.expires_at < now))) or 0
    db.session.flush()
    return Expired(setup_links=links, sessions_ended=ended, sessions_deleted=deleted, kept_forms_deleted=forms,
                   pending_sign_ins_deleted=pending)
