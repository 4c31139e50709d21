"""The audit trail: append-only, each entry chained to the one before by an HMAC.

Entries carry no foreign keys on purpose: nothing that happens to a user,
agency or record may ever block, cascade into or alter the trail.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Secret


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    position: Mapped[int] = mapped_column(BigInteger, unique=True)  # 1, 2, 3, ... without gaps
    at: Mapped[dt.datetime] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    agency_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64))
    record_kind: Mapped[str | None] = mapped_column(String(32))
    record_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    details: Mapped[str | None] = mapped_column(Text)  # JSON; field names, never their values
    terms = Secret(str)  # what was searched for: personal data, so encrypted
    result_count: Mapped[int | None]
    client_address: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))
