"""The outbox: email messages written in the same transaction as the change they tell someone of,
sent later by the scheduler process (the outbox service).

A message holds no personal data: its subject and body say what kind of thing happened and its
link leads to the page. The link may carry a secret (a set-up link's token): it is kept sealed
(`Secret`) and cleared once the message is sent; `link_shown` is the link with the secret cut out,
for the log and the admin page.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Secret, enum_column, utcnow
from .vocab import Labelled


class MessageKind(Labelled):
    """What a message tells; its words are in the outbox service's `WORDS`."""

    SET_UP_LINK = "set_up_link", "Set-up link"
    SECOND_FACTOR_RESET = "second_factor_reset", "Second factor reset"
    REFERRAL_RECEIVED = "referral_received", "New referral"
    REFERRAL_DECIDED = "referral_decided", "Referral decided"
    HRDA_ACTION = "hrda_action", "HRDA action assigned"
    AGENDA_PUBLISHED = "agenda_published", "HRDA agenda published"
    DAILY_DIGEST = "daily_digest", "Daily digest"


class MessageState(Labelled):
    QUEUED = "queued", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (not retried)"


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "state", "next_attempt_at"),)

    message_id: Mapped[str] = mapped_column(String(255), unique=True)  # the Message-ID header
    kind: Mapped[MessageKind] = enum_column(MessageKind)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # "{link}" stands where the link goes
    link = Secret(str)  # sealed; cleared once sent
    link_shown: Mapped[str | None] = mapped_column(String(1000))  # the link without its secret
    state: Mapped[MessageState] = enum_column(MessageState, default=MessageState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # A sender's lease: until this time the message is being sent by `claimed_by` and no one else's.
    claimed_until: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[dt.datetime | None]
    sent_via: Mapped[str | None] = mapped_column(String(8))  # "smtp" or "log" (development)
    last_error: Mapped[str | None] = mapped_column(Text)  # scrubbed: no addresses, no values
