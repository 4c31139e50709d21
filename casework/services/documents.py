"""Documents kept with a record: adding one (its kind decided from its bytes, its bytes sealed as
they are stored), reading one back chunk by chunk, listing and deleting them, and what retention
and subject access do with them.

Where the bytes are: in the database, in `document_chunk` rows of 64 KiB each, sealed by
`casework.crypto.DocumentSealer` under the document's own content key, which the document's row
keeps encrypted under the data keys (so `casework keys rotate` covers documents without rewriting
their bytes, and `casework backup`/`restore` carry them with everything else). Nothing here holds
more than a few chunks in memory, in either direction.

Who may: the callers (the views) decide with the record's own visibility check, as the record's
page does; these functions take the record already checked. Every addition, download and deletion
is audited against the document, naming its record.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from flask import current_app
from sqlalchemy import delete, func, insert, select

from .. import crypto
from ..db import db
from ..measures.periods import today_in_london
from ..models import Case, Document, DocumentChunk, Incident, MeetingCase, Order, Person, Referral
from ..models.base import new_id, utcnow
from . import audit
from .document_types import KINDS, UnacceptedType, clean_filename, size_text, sniff

RECORD_MODELS: dict[str, type] = {"person": Person, "case": Case, "incident": Incident, "referral": Referral,
                                  "meeting_case": MeetingCase, "order": Order}
INSERT_BATCH = 16  # chunks a statement (1 MiB)
READ_BATCH = 8  # chunks a query while reading back (512 KiB)
MAX_TITLE = 200


class DocumentError(Exception):
    """A document was refused; `field` names the form field at fault."""

    def __init__(self, message: str, *, field: str = "file") -> None:
        super().__init__(message)
        self.field = field


def max_bytes() -> int:
    return int(current_app.config["DOCUMENT_MAX_BYTES"])


def too_large_message() -> str:
    return f"The selected file must be {size_text(max_bytes())} or smaller"


def kind_of_record(record: Any) -> str:
    for kind, model in RECORD_MODELS.items():
        if isinstance(record, model):
            return kind
    raise TypeError(f"documents are not kept with a {type(record).__name__}")


def add(*, record: Any, upload: IO[bytes], size: int, filename: str | None, title: str,
        document_date: dt.date, by: Any) -> Document:
    """Keep a document with `record` (already checked: the user may add to it). `upload` is a
    seekable file of `size` bytes. Refused, naming what is wrong, for an empty or too large file,
    a kind not accepted, or no title or date; nothing is written then."""
    title = (title or "").strip()
    if not title:
        raise DocumentError("Enter a title for the document", field="title")
    if len(title) > MAX_TITLE:
        raise DocumentError(f"The title must be {MAX_TITLE} characters or fewer", field="title")
    if document_date > today_in_london():
        raise DocumentError("The document's date must be today or in the past", field="document_date")
    if size == 0:
        raise DocumentError("The selected file is empty")
    if size > max_bytes():
        raise DocumentError(too_large_message())
    try:
        kind = sniff(upload)
    except UnacceptedType as e:
        raise DocumentError(str(e)) from None
    record_kind = kind_of_record(record)
    document = Document(record_kind=record_kind, record_id=record.id, title=title,
                        filename=clean_filename(filename, kind), content_key=crypto.new_document_key(),
                        document_date=document_date, media_type=kind.media_type, size=size, chunks=0,
                        added_by_id=getattr(by, "id", None))
    db.session.add(document)
    db.session.flush()
    sealer = _sealer(document)
    upload.seek(0)
    table = DocumentChunk.__table__
    batch: list[dict[str, Any]] = []
    count = 0
    now = utcnow()
    for position, sealed in sealer.chunks(upload):
        batch.append({"id": new_id(), "document_id": document.id, "position": position, "sealed": sealed,
                      "created_at": now, "updated_at": now})
        count += 1
        if len(batch) == INSERT_BATCH:
            db.session.execute(insert(table), batch)
            batch = []
    if batch:
        db.session.execute(insert(table), batch)
    document.chunks = count
    db.session.flush()
    audit.record("document.add", user=by, record_kind="document", record_id=document.id,
                 details={"record_kind": record_kind, "record_id": str(record.id), "media_type": kind.media_type,
                          "size": size})
    return document


def _sealer(document: Document) -> crypto.DocumentSealer:
    key = document.content_key
    if key is None:
        raise DocumentError("The document was erased: its content can no longer be read")
    return crypto.DocumentSealer(key, document_id=document.id, record_kind=document.record_kind,
                                 record_id=document.record_id)


def get(document_id: uuid.UUID) -> Document | None:
    return db.session.get(Document, document_id)


def record_of(document: Document) -> Any:
    return db.session.get(RECORD_MODELS[document.record_kind], document.record_id)


def record_download(document: Document, *, by: Any) -> None:
    audit.record("document.download", user=by, record_kind="document", record_id=document.id,
                 details={"record_kind": document.record_kind, "record_id": str(document.record_id)})


def content(document: Document) -> Iterator[bytes]:
    """The document's bytes, a chunk at a time, each authenticated before it is given out; a chunk
    missing, moved or altered raises `crypto.DecryptionError` (the last chunk must be the last)."""
    sealer = _sealer(document)
    document_id, total = document.id, document.chunks
    position = 0
    while position < total:
        rows = db.session.execute(
            select(DocumentChunk.position, DocumentChunk.sealed)
            .where(DocumentChunk.document_id == document_id, DocumentChunk.position >= position)
            .order_by(DocumentChunk.position).limit(READ_BATCH)).all()
        if not rows:
            break
        for found, sealed in rows:
            if found != position:
                raise crypto.DecryptionError(f"document {document_id}: chunk {position} is missing")
            yield sealer.open(position, sealed, final=position == total - 1)
            position += 1
    if position != total:
        raise crypto.DecryptionError(f"document {document_id}: it ends at chunk {position} of {total}")


def delete_document(document: Document, *, by: Any) -> None:
    """Delete a document and its bytes (audited; the audit keeps no title or name)."""
    db.session.execute(delete(DocumentChunk).where(DocumentChunk.document_id == document.id))
    audit.record("document.delete", user=by, record_kind="document", record_id=document.id,
                 details={"record_kind": document.record_kind, "record_id": str(document.record_id)})
    db.session.delete(document)
    db.session.flush()


# --- listing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    id: uuid.UUID
    title: str
    document_date: dt.date
    kind: str
    size: str
    added_by: str | None
    added_at: dt.datetime
    record_kind: str
    record_id: uuid.UUID


def of_records(record_kind: str, record_ids: Iterable[uuid.UUID]) -> list[Listed]:
    """The documents kept with these records (of one kind), newest document date first."""
    from ..models import User

    ids = list(record_ids)
    if not ids:
        return []
    rows = db.session.execute(
        select(Document, User.name).outerjoin(User, User.id == Document.added_by_id)
        .where(Document.record_kind == record_kind, Document.record_id.in_(ids))
        .order_by(Document.document_date.desc(), Document.created_at.desc())).all()
    return [Listed(id=d.id, title=d.title or "", document_date=d.document_date,
                   kind=KINDS[d.media_type].label if d.media_type in KINDS else d.media_type,
                   size=size_text(d.size), added_by=name, added_at=d.created_at, record_kind=d.record_kind,
                   record_id=d.record_id)
            for d, name in rows]


# --- retention and subject access -----------------------------------------------------------


def erase_for(record_kind: str, record_ids: Iterable[uuid.UUID]) -> int:
    """Delete the documents kept with these records, bytes and all (an erasure); how many went."""
    ids = list(record_ids)
    if not ids:
        return 0
    doc_ids = list(db.session.scalars(select(Document.id).where(Document.record_kind == record_kind,
                                                                 Document.record_id.in_(ids))))
    if not doc_ids:
        return 0
    db.session.execute(delete(DocumentChunk).where(DocumentChunk.document_id.in_(doc_ids)))
    db.session.execute(delete(Document).where(Document.id.in_(doc_ids)))
    return len(doc_ids)


def held(records: dict[str, list[uuid.UUID]]) -> list[dict[str, Any]]:
    """What a subject access document says of the documents kept with these records: what each is,
    never its bytes (the controller gives copies of those that are disclosed)."""
    found = []
    for kind, ids in records.items():
        if not ids:
            continue
        for d in db.session.scalars(select(Document).where(Document.record_kind == kind,
                                                           Document.record_id.in_(ids))
                                    .order_by(Document.created_at)):
            found.append({"id": str(d.id), "record_kind": d.record_kind, "record_id": str(d.record_id),
                          "title": d.title, "filename": d.filename, "document_date": d.document_date.isoformat(),
                          "media_type": d.media_type, "size": d.size, "added_at": d.created_at.isoformat()})
    return found


def count_for(record_kind: str, record_ids: Iterable[uuid.UUID]) -> int:
    ids = list(record_ids)
    if not ids:
        return 0
    return db.session.scalar(select(func.count()).select_from(Document).where(
        Document.record_kind == record_kind, Document.record_id.in_(ids))) or 0


def merged_into(person_id: uuid.UUID) -> list[uuid.UUID]:
    """The ids of the records merged into this person, and into those, all the way down."""
    found, queue = [], [person_id]
    while queue:
        parent = queue.pop()
        for child in db.session.scalars(select(Person.id).where(Person.merged_into_id == parent)):
            found.append(child)
            queue.append(child)
    return found
