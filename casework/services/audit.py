"""The audit trail: who did what, to which record, when and from where.

Each entry is written in a transaction of its own, so it is kept when the
request that caused it is refused or rolled back. On PostgreSQL it is written
at once. SQLite has one writer at a time, and a request that is writing holds
that lock: there the entry waits until the request's own transaction has
ended (committed or rolled back) and is written straight after, still in its
own transaction.

Entries form a chain: each carries the previous entry's hash and an HMAC
(the keyring's audit key) over that hash and its own content. Writers are
serialised (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock), so two
writers can never fork the chain; positions are unique besides. See
`casework.services.audit_chain` for verification and checkpoints.

Entries hold field names, never values; search terms are stored encrypted.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import event, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .. import crypto
from ..db import begin_mode, db, is_sqlite
from ..models import AuditEntry
from ..models.base import utcnow

GENESIS = b"\x00" * 32
# pg_advisory_xact_lock key serialising writers of the chain ("casework" in ASCII).
CHAIN_LOCK_KEY = 0x6361736577_6F726B
PENDING = "casework.audit_pending"
_CURRENT = object()


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    action: str
    user_id: uuid.UUID | None
    agency_id: uuid.UUID | None
    record_kind: str | None
    record_id: uuid.UUID | None
    details: str | None
    terms: str | None
    result_count: int | None
    client_address: str | None


def record(action: str, *, user: Any = _CURRENT, record: Any = None, record_kind: str | None = None,
           record_id: uuid.UUID | None = None, details: dict[str, Any] | None = None, terms: str | None = None,
           result_count: int | None = None) -> None:
    """Add an entry to the trail (in its own transaction; see the module's docstring).

    `user` defaults to the signed-in user; `record` is a person, incident, case,
    referral or any model with an id; `details` is JSON-able and must never
    hold personal values (field names, counts, reasons chosen from a list).
    """
    if user is _CURRENT:
        user = _signed_in_user()
    if record is not None:
        record_id = record.id
        record_kind = record_kind or _kind_of(record)
    ev = Event(
        at=utcnow(), action=action,
        user_id=getattr(user, "id", None), agency_id=getattr(user, "agency_id", None),
        record_kind=record_kind, record_id=record_id,
        details=json.dumps(details, sort_keys=True, default=str) if details else None,
        terms=terms or None, result_count=result_count,
        client_address=request.remote_addr if has_request_context() else None,
    )
    session = g.get("_casework_session") if has_app_context() else None
    if session is not None and _would_wait_for(session):
        session.info.setdefault(PENDING, []).append(ev)
        return
    write([ev])


def record_view(obj: Any, *, user: Any = _CURRENT, part: str | None = None) -> None:
    """A person, incident, case or referral was shown (`part`: a part of it, e.g. "address")."""
    record("record.view", user=user, record=obj, details={"part": part} if part else None)


def record_search(*, kind: str, terms: str, result_count: int, user: Any = _CURRENT) -> None:
    """A search: its terms are stored encrypted, readable only on the audit page."""
    record("search", user=user, record_kind=kind, terms=terms, result_count=result_count)


def record_change(obj: Any, *, action: str, fields: Iterable[str], user: Any = _CURRENT) -> None:
    """A record was created or changed (`action`, e.g. "person.update"): which fields, never their values."""
    record(action, user=user, record=obj, details={"fields": sorted(set(fields))})


def record_exchange(action: str, *, user: Any = _CURRENT, agency_id: uuid.UUID | None = None,
                    counts: dict[str, Any] | None = None, file_name: str | None = None) -> None:
    """An export or import (`action`: "export" or "import") of an agency's records."""
    details: dict[str, Any] = {}
    if agency_id:
        details["agency_id"] = str(agency_id)
    if counts:
        details["counts"] = counts
    if file_name:
        details["file"] = file_name
    record(f"exchange.{action}", user=user, details=details or None)


@dataclass(frozen=True)
class Viewing:
    at: dt.datetime
    user_email: str | None
    agency_id: uuid.UUID | None
    part: str | None


def viewers_of(obj: Any, *, limit: int = 50) -> list[Viewing]:
    """Who has looked at a record, newest first (for managers, on a person's page)."""
    from ..models import User

    rows = db.session.execute(
        select(AuditEntry.at, User.email, AuditEntry.agency_id, AuditEntry.details)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .where(AuditEntry.action == "record.view", AuditEntry.record_id == obj.id)
        .order_by(AuditEntry.position.desc()).limit(limit))
    return [Viewing(at=r.at, user_email=r.email, agency_id=r.agency_id,
                    part=json.loads(r.details).get("part") if r.details else None) for r in rows]


def changed_fields(obj: Any) -> list[str]:
    """The attributes of an ORM object changed since it was loaded (call before the flush).
    Encrypted attributes are named without their `_sealed` suffix."""
    state = inspect(obj)
    names = []
    for attr in state.mapper.column_attrs:
        if state.attrs[attr.key].history.has_changes():
            names.append(attr.key.removesuffix("_sealed"))
    return sorted(n for n in names if n not in ("updated_at", "version"))


def write(events: list[Event]) -> list[AuditEntry]:
    """Append events to the chain in a transaction of their own."""
    ring = crypto.current()
    with db.new_session() as s, begin_mode("IMMEDIATE"):
        if not is_sqlite(s):
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_KEY})
        head = s.execute(select(AuditEntry.position, AuditEntry.mac)
                         .order_by(AuditEntry.position.desc()).limit(1)).first()
        position, prev = (head.position, bytes(head.mac)) if head else (0, GENESIS)
        entries = []
        for ev in events:
            position += 1
            entry = AuditEntry(position=position, at=ev.at, user_id=ev.user_id, agency_id=ev.agency_id,
                               action=ev.action, record_kind=ev.record_kind, record_id=ev.record_id,
                               details=ev.details, result_count=ev.result_count,
                               client_address=ev.client_address, prev_hash=prev)
            entry.terms = ev.terms
            entry.mac = crypto.chain_mac(ring, prev, canonical(entry))
            prev = entry.mac
            s.add(entry)
            entries.append(entry)
        s.commit()
    return entries


def canonical(entry: AuditEntry) -> bytes:
    """The bytes an entry's MAC covers: every field that says what happened, in a fixed order."""
    sealed = entry.terms_sealed  # type: ignore[attr-defined]
    doc = {
        "v": 1, "id": str(entry.id), "position": entry.position,
        "at": entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "user_id": _str(entry.user_id), "agency_id": _str(entry.agency_id), "action": entry.action,
        "record_kind": entry.record_kind, "record_id": _str(entry.record_id), "details": entry.details,
        "terms": base64.b64encode(bytes(sealed)).decode() if sealed is not None else None,
        "result_count": entry.result_count, "client_address": entry.client_address,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _kind_of(obj: Any) -> str:
    from ..policy import RECORD_MODELS

    for kind, model in RECORD_MODELS.items():
        if isinstance(obj, model):
            return kind
    return getattr(obj, "__tablename__", type(obj).__name__.lower())


def _signed_in_user() -> Any:
    if not has_request_context():
        return None
    from flask_login import current_user

    return current_user if getattr(current_user, "is_authenticated", False) else None


def _would_wait_for(session: Session) -> bool:
    """Whether writing now would wait for `session`'s own write lock (SQLite, outside the tests'
    single shared connection, where a nested transaction takes no lock)."""
    if not session.in_transaction() or not is_sqlite(session):
        return False
    bind = current_app.extensions["casework.sessionmaker"].kw.get("bind")
    return not isinstance(bind, Connection)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _write_pending(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending:
        write(pending)


def write_leftovers() -> None:
    """End of an app context: a transaction still open is rolled back (nothing was committed for it)
    and the entries waiting on it are written."""
    session = g.get("_casework_session")
    if session is None:
        return
    if session.in_transaction() and session.info.get(PENDING):
        session.rollback()
    pending = session.info.pop(PENDING, None)
    if pending:
        write(pending)
