"""Who besides the owning agency may see a record: shares with agencies, and the users named on a
restricted record. `casework.policy` reads these; the sharing service writes them."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Secret


class Share(Base):
    """A record shared with another agency: by a referral, an HRDA meeting listing, or explicitly."""

    __tablename__ = "share"
    __table_args__ = (Index("ix_share_record_agency", "record_kind", "record_id", "agency_id"),)

    record_kind: Mapped[str] = mapped_column(String(16))  # person, incident, case, referral
    record_id: Mapped[uuid.UUID]
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    via: Mapped[str] = mapped_column(String(16))  # referral, hrda_meeting, explicit, request
    reason = Secret(str)
    shared_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[dt.datetime | None]


class RestrictedAccess(Base):
    """A user named on a restricted record: only they may see it."""

    __tablename__ = "restricted_access"
    __table_args__ = (UniqueConstraint("record_kind", "record_id", "user_id"),)

    record_kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
