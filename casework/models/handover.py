"""A case handed from one caseworker to another by a manager (issue 14 §5): the new caseworker is told
on their home page until they say they have seen it."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class CaseHandover(Base):
    __tablename__ = "case_handover"
    __table_args__ = (Index("ix_case_handover_to_seen", "to_user_id", "seen_at"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    from_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    to_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    by_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[dt.datetime | None]
