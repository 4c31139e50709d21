"""Documents kept with a record (a person, case, incident, referral, HRDA meeting case or order): the row
says what the document is; its bytes are in `document_chunk` rows, sealed by `casework.crypto`
under the document's own content key (see the documents service)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Secret


class Document(Base):
    """A document added to a record. `record_kind`/`record_id` name the record it was added to and
    never change: the sealed bytes are bound to them (a merge leaves a person's documents on the
    merged record, which the survivor's page lists)."""

    __tablename__ = "document"
    __table_args__ = (Index("ix_document_record", "record_kind", "record_id"),)

    record_kind: Mapped[str] = mapped_column(String(16))  # person, case, incident, referral, meeting_case, order
    record_id: Mapped[uuid.UUID]
    title = Secret(str, nullable=False)
    filename = Secret(str)  # as the uploader's computer named it, cleaned; shown and used on download
    content_key = Secret(str)  # the document's own AES-256 key (None once erased: the bytes are gone)
    document_date: Mapped[dt.date]
    media_type: Mapped[str] = mapped_column(String(80))  # decided from the content, never the name
    size: Mapped[int]
    chunks: Mapped[int]
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))


class DocumentChunk(Base):
    """One sealed chunk of a document's bytes, at its position."""

    __tablename__ = "document_chunk"
    __table_args__ = (UniqueConstraint("document_id", "position"),)

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    position: Mapped[int]
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
