"""Records whose personal data has been erased: by the retention sweep or on a lawful request.

The record itself stays (so the measures still count it); this row says when and why its
personal fields went, and which ones, by name. It holds no personal value.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Erasure(Base):
    __tablename__ = "erasure"
    __table_args__ = (UniqueConstraint("record_kind", "record_id"),)

    record_kind: Mapped[str] = mapped_column(String(16))  # person, case, incident
    record_id: Mapped[uuid.UUID]
    erased_at: Mapped[dt.datetime]
    cause: Mapped[str] = mapped_column(String(16))  # retention, request
    rule: Mapped[str | None] = mapped_column(String(64))  # the retention rule that expired it
    fields: Mapped[str | None] = mapped_column(Text)  # JSON: {table: [field names]}
