"""The audit page's search: the entries matching its filters, newest first, a page at a time, and the
email addresses of the users who made them. Reads only; what may be shown is the page's to decide
(`policy`: a manager sees their agency's entries and their search terms, an administrator everyone's
entries and no terms)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from ..db import db
from ..models import AuditEntry, User


@dataclass(frozen=True)
class EntriesPage:
    entries: list[AuditEntry]
    total: int
    emails: dict[uuid.UUID, str]  # the entries' users' email addresses


def user_id_for(email: str) -> uuid.UUID | None:
    """The id of the user with this email address (as stored: lower case), or None."""
    return db.session.scalar(select(User.id).where(User.email == email))


def find(*, agency_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None,
         record_id: uuid.UUID | None = None, since: dt.date | None = None, until: dt.date | None = None,
         page: int, size: int) -> EntriesPage:
    """One page of the entries (of `agency_id`'s users, by `user_id`, about `record_id`, from `since`
    to `until` inclusive, each filter only when given), newest first, and their total."""
    conditions: list[Any] = []
    if agency_id is not None:
        conditions.append(AuditEntry.agency_id == agency_id)
    if user_id is not None:
        conditions.append(AuditEntry.user_id == user_id)
    if record_id is not None:
        conditions.append(AuditEntry.record_id == record_id)
    if since:
        conditions.append(AuditEntry.at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until:
        conditions.append(AuditEntry.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC))
    total = db.session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    entries = list(db.session.scalars(select(AuditEntry).where(*conditions).order_by(AuditEntry.position.desc())
                                      .limit(size).offset((page - 1) * size)))
    return EntriesPage(entries=entries, total=total, emails=emails_of({e.user_id for e in entries if e.user_id}))


def emails_of(user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    return {u.id: u.email for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}


def has_terms(entry: AuditEntry) -> bool:
    """Whether the entry keeps sealed words (search terms, or a reason given), whoever may read them."""
    return bool(entry.terms_sealed)  # type: ignore[attr-defined]  # the Secret column's stored bytes
