from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column
from .vocab import RecordKind


class SourceRef(Base):
    """An agency's own identifier for a record, so a re-import updates instead of duplicating.

    Refs are per agency (the police's P0000001 and the council's P0000001 are
    different people). When two people are merged the merged record's refs
    move to the survivor, so later imports of them update it.
    """

    __tablename__ = "source_ref"
    __table_args__ = (
        UniqueConstraint("agency_id", "kind", "ref"),
        Index("ix_source_ref_record", "kind", "record_id"),
    )

    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    kind: Mapped[str] = enum_column(RecordKind)
    ref: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[uuid.UUID]
