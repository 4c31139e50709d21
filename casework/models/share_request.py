"""A request to an agency to share a person's record (issue 14 §6): a caseworker who sees the person
by identity only asks the owning agency, giving a reason; its managers accept (an explicit share) or
decline with a reason the requester sees."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Secret

WAITING, ACCEPTED, DECLINED = "waiting", "accepted", "declined"


class ShareRequest(Base):
    __tablename__ = "share_request"
    __table_args__ = (
        Index("ix_share_request_owner_status", "owner_agency_id", "status"),
        Index("ix_share_request_person_agency", "person_id", "requesting_agency_id"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    requesting_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    reason = Secret(str, nullable=False)  # may name people: encrypted
    status: Mapped[str] = mapped_column(String(16), default=WAITING)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None]
    decline_reason = Secret(str)
