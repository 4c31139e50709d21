"""HRDA meetings: the meeting, the agencies invited, the cases heard (one accepted referral each),
each agency's research on a case, and the actions agreed. Everything said about a person is
encrypted (`Secret`)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Secret, enum_column
from .vocab import Labelled


class MeetingState(Labelled):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"


class ActionStatus(Labelled):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class Meeting(Base):
    """An HRDA meeting run by a chair of `agency_id`; recurring meetings share a `series_id`."""

    __tablename__ = "meeting"

    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)  # the chair's agency
    starts_at: Mapped[dt.datetime] = mapped_column(index=True)
    place: Mapped[str | None] = mapped_column(String(200))  # a room; None when online only
    online: Mapped[bool] = mapped_column(default=False)
    state: Mapped[MeetingState] = enum_column(MeetingState, default=MeetingState.PLANNED)
    series_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[dt.datetime | None]
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    early_close_reason = Secret(str)  # why the chair closed it before its date

    invited: Mapped[list[MeetingAgency]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    cases: Mapped[list[MeetingCase]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                    order_by="(MeetingCase.position, MeetingCase.id)")


class MeetingAgency(Base):
    """An agency invited to a meeting: its caseworkers and chairs take part."""

    __tablename__ = "meeting_agency"
    __table_args__ = (UniqueConstraint("meeting_id", "agency_id"),)

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)


class MeetingCase(Base):
    """A referral heard at a meeting, at its place on the agenda, with what the chair records."""

    __tablename__ = "meeting_case"
    __table_args__ = (UniqueConstraint("referral_id"),)

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"))
    position: Mapped[int] = mapped_column(default=0)
    discussion = Secret(str)  # the discussion summary
    safety_plan = Secret(str)

    referral = relationship("Referral")
    research: Mapped[list[Research]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    actions: Mapped[list[MeetingAction]] = relationship(back_populates="meeting_case", cascade="all, delete-orphan",
                                                        passive_deletes=True,
                                                        order_by="(MeetingAction.due_on, MeetingAction.id)")


class Research(Base):
    """What one invited agency knows about a case before the meeting: facts apart from opinion."""

    __tablename__ = "meeting_research"
    __table_args__ = (UniqueConstraint("meeting_case_id", "agency_id"),)

    meeting_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting_case.id", ondelete="CASCADE"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    facts = Secret(str)
    opinion = Secret(str)
    checked_on: Mapped[dt.date]
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))


class MeetingAction(Base):
    """An action agreed for a case: what, by which agency (and person, if known), by when."""

    __tablename__ = "meeting_action"

    meeting_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting_case.id", ondelete="CASCADE"),
                                                      index=True)
    text = Secret(str, nullable=False)  # may name people: encrypted
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    person_name = Secret(str)
    due_on: Mapped[dt.date] = mapped_column(index=True)
    status: Mapped[ActionStatus] = enum_column(ActionStatus, default=ActionStatus.OPEN)
    progress = Secret(str)
    done_at: Mapped[dt.datetime | None]
    done_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))

    meeting_case = relationship("MeetingCase", back_populates="actions")
