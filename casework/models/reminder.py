"""Reminders on a user's home page: a case review due, a task or an HRDA action overdue.

Made and removed by the reminders job (the reminders service). The text names the
kind of work and the date, never a person: the link leads to the record, where access rules apply.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Reminder(Base):
    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "record_id", "due_on"),
        Index("ix_reminder_user_dismissed", "user_id", "dismissed_at"),
        Index("ix_reminder_record", "record_kind", "record_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # case_review, task, hrda_action
    record_kind: Mapped[str] = mapped_column(String(16))  # case, referral, ...
    record_id: Mapped[uuid.UUID]
    due_on: Mapped[dt.date]
    text: Mapped[str] = mapped_column(String(200))
    dismissed_at: Mapped[dt.datetime | None]
