"""The audit trail: who did what, to which record, when and from where.

An entry is never lost for a change that was committed, and is kept when the
request that caused it is refused or rolled back:

- PostgreSQL: each entry is written at once, in a transaction of its own on a
  connection of its own, before the request's own commit. A committed change
  therefore always has its entry; a crash before the request commits leaves
  the entry of a change that never happened, like any refused request's.
- SQLite has one writer at a time. While the request's transaction holds no
  write lock (a read-only request, or a writing one before its first write),
  an entry is written at once in a transaction of its own, as above. Once it
  holds the write lock, an entry written elsewhere would wait for the request
  to end, so it waits in the session instead (`PENDING`) and is written:
  * when the request commits: inside that same transaction, just before the
    COMMIT (`before_commit`), reading the chain's head under the write lock the
    request already holds; the change and its entry are committed together, or
    neither is;
  * when the request is rolled back (refused, failed, or its commit failed):
    straight after, in a transaction of its own, so the entry survives.

Entries form a chain: each carries the previous entry's hash and an HMAC
(the keyring's audit key) over that hash and its own content. Writers are
serialised (SQLite: the write lock, taken by BEGIN IMMEDIATE or held by the
committing request; PostgreSQL: an advisory lock), so two writers can never
fork the chain; positions are unique besides. See
`casework.services.audit_chain` for verification and checkpoints.

PostgreSQL keeps writing at once rather than at commit: its guarantee is
already that no committed change lacks its entry, an entry is durable the
moment it is recorded (a view is on record even if the request then fails),
and the chain's advisory lock is never held across the rest of a request.

Entries hold field names, never values; search terms are stored encrypted.

Every committed append also writes the chain's new head to the log stream (an
"audit head" line, signed with the audit key, `anchor`): the logs leave the
machine, so deleting the newest entries in the database is seen by
`casework audit verify --anchors` against them (see `casework.services.audit_chain`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .. import crypto
from ..db import begin_mode, db, holds_write_lock, is_sqlite
from ..models import AuditEntry
from ..models.base import utcnow

GENESIS = b"\x00" * 32
# pg_advisory_xact_lock key serialising writers of the chain ("casework" in ASCII).
CHAIN_LOCK_KEY = 0x6361736577_6F726B
PENDING = "casework.audit_pending"  # session.info: entries waiting for the session's transaction to end
WRITTEN = "casework.audit_written"  # session.info: how many of them were appended at its commit
CONNECTION = "casework.audit_connection"  # session.info: the connection of its transaction
HEAD = "casework.audit_head"  # session.info: the head appended at its commit, logged once committed
ANCHOR_DOMAIN = b"casework-audit-checkpoint|"  # anchors and checkpoints are signed alike
ANCHOR_MESSAGE = "audit head "
_CURRENT = object()
# The chain's head after each append, whatever LOG_LEVEL says of the app's other lines.
anchor_log = logging.getLogger("casework.audit.head")
anchor_log.setLevel(logging.INFO)


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
    """Add an entry to the trail: at once in a transaction of its own, or on SQLite, when the
    request holds the write lock, with the request's commit (see the module's docstring).

    `user` defaults to the signed-in user; `record` is a person, incident, case,
    referral or any model with an id; `details` is JSON-able and must never
    hold personal values (field names, counts, reasons chosen from a list).
    """
    _enqueue([_event(action, user=user, record=record, record_kind=record_kind, record_id=record_id,
                     details=details, terms=terms, result_count=result_count)])


def record_many(action: str, entries: Iterable[tuple[Any, str, uuid.UUID, dict[str, Any] | None]]) -> None:
    """Add many entries of one action at once, each `(user, record_kind, record_id, details)` as
    `record` takes them: for a bulk writer (the demo's cases), whose thousands of entries `record`
    would otherwise write one transaction each on PostgreSQL. Written as `record` writes one."""
    _enqueue([_event(action, user=user, record=None, record_kind=kind, record_id=record_id, details=details)
              for user, kind, record_id, details in entries])


def _event(action: str, *, user: Any, record: Any, record_kind: str | None = None,
           record_id: uuid.UUID | None = None, details: dict[str, Any] | None = None, terms: str | None = None,
           result_count: int | None = None) -> Event:
    if user is _CURRENT:
        user = _signed_in_user()
    if record is not None:
        record_id = record.id
        record_kind = record_kind or _kind_of(record)
    return Event(
        at=utcnow(), action=action,
        user_id=getattr(user, "id", None), agency_id=getattr(user, "agency_id", None),
        record_kind=record_kind, record_id=record_id,
        details=json.dumps(details, sort_keys=True, default=str) if details else None,
        terms=terms or None, result_count=result_count,
        client_address=request.remote_addr if has_request_context() else None,
    )


def _enqueue(events: list[Event]) -> None:
    """Write the events at once, or leave them waiting for the session's commit (see the docstring)."""
    if not events:
        return
    session = g.get("_casework_session") if has_app_context() else None
    if session is not None and _would_wait_for(session):
        session.info.setdefault(PENDING, []).extend(events)
        return
    write(events)


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
    with db.new_session() as s, begin_mode("IMMEDIATE"):
        entries = _append(s, events)
        s.commit()
    if entries:
        log_head(entries[-1].position, bytes(entries[-1].mac))
    return entries


def anchor_body(position: int, hash_: bytes, at: str) -> bytes:
    return json.dumps({"position": position, "hash": hash_.hex(), "at": at},
                      sort_keys=True, separators=(",", ":")).encode()


def anchor(position: int, hash_: bytes) -> dict[str, Any]:
    """The chain's head at `position` (its entry's hash), signed with the audit key: a checkpoint
    line, and the log stream's "audit head" line."""
    at = utcnow().isoformat(timespec="seconds")
    mac = crypto.chain_mac(crypto.current(), ANCHOR_DOMAIN, anchor_body(position, hash_, at))
    return {"position": position, "hash": hash_.hex(), "at": at, "mac": mac.hex()}


def log_head(position: int, hash_: bytes) -> None:
    """Write the committed head to the log stream (outside the database)."""
    anchor_log.info("%s%s", ANCHOR_MESSAGE, json.dumps(anchor(position, hash_), separators=(",", ":")))


def _append(s: Session, events: list[Event]) -> list[AuditEntry]:
    """Append events to the chain in `s`'s transaction, which holds the chain's lock (SQLite: the
    write lock; PostgreSQL: the advisory lock, taken here) until it ends."""
    ring = crypto.current()
    if not is_sqlite(s):
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_KEY})
    head = s.execute(select(AuditEntry.position, AuditEntry.mac)
                     .order_by(AuditEntry.position.desc()).limit(1)).first()
    position, prev = (head.position, bytes(head.mac)) if head else (0, GENESIS)
    entries = []
    now = utcnow()  # when the rows are written (an entry's `at` is when its event happened)
    for ev in events:
        position += 1
        entry = AuditEntry(position=position, at=ev.at, user_id=ev.user_id, agency_id=ev.agency_id,
                           action=ev.action, record_kind=ev.record_kind, record_id=ev.record_id,
                           details=ev.details, result_count=ev.result_count,
                           client_address=ev.client_address, prev_hash=prev, created_at=now, updated_at=now)
        entry.terms = ev.terms
        entry.mac = crypto.chain_mac(ring, prev, canonical(entry))
        prev = entry.mac
        entries.append(entry)
    # An insert of the rows, not the unit of work's flush of new objects (a third of an append's time):
    # the entries are never changed once written, so the session need not track them.
    s.execute(insert(AuditEntry), [{key: entry.__dict__.get(key) for key in _COLUMN_KEYS} for entry in entries])
    return entries


_COLUMN_KEYS = tuple(attr.key for attr in inspect(AuditEntry).column_attrs)


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
    """Whether writing now, in a transaction of its own, would wait for `session`'s write lock:
    SQLite, and `session`'s transaction holds it (a read-only transaction does not). Never in the
    tests' single shared connection, where a nested transaction takes no lock.

    An entry written at once beside a read-only transaction is one more reason for such a
    transaction never to write later: SQLite refuses to turn a read into a write once anyone has
    written since it first read (true of any concurrent writer); requests that may write begin
    IMMEDIATE."""
    if not session.in_transaction() or not is_sqlite(session):
        return False
    bind = current_app.extensions["casework.sessionmaker"].kw.get("bind")
    if isinstance(bind, Connection):
        return False
    connection = session.info.get(CONNECTION)
    return connection is not None and holds_write_lock(connection)


@event.listens_for(Session, "after_begin")
def _remember_connection(session: Session, _transaction: Any, connection: Connection) -> None:
    session.info[CONNECTION] = connection


@event.listens_for(Session, "before_commit")
def _write_pending_with_the_commit(session: Session) -> None:
    """The request commits: its waiting entries go into the same transaction (see the module's docstring)."""
    if session.in_nested_transaction() or not session.info.get(PENDING) or not _would_wait_for(session):
        return
    session.flush()  # the changes first: their flush may record entries too
    pending = session.info[PENDING]
    entries = _append(session, pending)
    session.info[WRITTEN] = len(pending)
    if entries:
        session.info[HEAD] = (entries[-1].position, bytes(entries[-1].mac))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(CONNECTION, None)
    head = session.info.pop(HEAD, None)
    if head is not None:
        log_head(*head)
    pending = session.info.pop(PENDING, None) or []
    left = pending[session.info.pop(WRITTEN, 0):]
    if left:  # recorded after the entries were appended (none in practice): own transaction
        write(left)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    """A rolled-back transaction took any entries appended at its commit with it: all of them are
    written now, in a transaction of their own."""
    if session.in_nested_transaction():
        return
    session.info.pop(CONNECTION, None)
    session.info.pop(WRITTEN, None)
    session.info.pop(HEAD, None)  # rolled back with the entries: never anchored
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
