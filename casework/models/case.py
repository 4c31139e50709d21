from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Secret, enum_column, utcnow
from .reference import COLUMN_LENGTH, default_for
from .vocab import CaseKind, CaseStatus, PartyRole


class Case(Base):
    """An agency's piece of work, grouping people and incidents, with its caseworker, notes and tasks."""

    __tablename__ = "case"
    # An agency's open cases by review date (its overdue reviews; a manager's team's counts): on
    # PostgreSQL with what the counts and the visibility condition read, so they need not visit the
    # table. SQLite uses it only where a query says `status <> 'closed'` in so many words.
    __table_args__ = (Index("ix_case_open_agency_review", "owner_agency_id", "review_on",
                            postgresql_include=["caseworker_id", "restricted", "id"],
                            postgresql_where=text("status <> 'closed'"), sqlite_where=text("status <> 'closed'")),)

    kind: Mapped[CaseKind] = enum_column(CaseKind)
    status: Mapped[CaseStatus] = enum_column(CaseStatus, default=CaseStatus.OPEN)
    review_on: Mapped[dt.date | None] = mapped_column(index=True)
    summary = Secret(str)
    outcome = Secret(str)
    restricted: Mapped[bool] = mapped_column(default=False)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    caseworker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    closed_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    # The short reference people read and type (casework.models.reference), unique.
    reference: Mapped[str] = mapped_column(String(COLUMN_LENGTH), default=default_for("case"), index=True, unique=True)

    people: Mapped[list[CasePerson]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    incidents: Mapped[list[CaseIncident]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    notes: Mapped[list[CaseNote]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                 order_by="(CaseNote.at, CaseNote.id)")
    tasks: Mapped[list[CaseTask]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                 order_by="(CaseTask.due_on, CaseTask.id)")
    caseworker = relationship("User", foreign_keys=[caseworker_id])

    __mapper_args__ = {"version_id_col": version}


class CasePerson(Base):
    __tablename__ = "case_person"
    __table_args__ = (UniqueConstraint("case_id", "person_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[PartyRole | None] = enum_column(PartyRole, nullable=True)
    note: Mapped[str | None] = mapped_column(String(200))


class CaseIncident(Base):
    __tablename__ = "case_incident"
    __table_args__ = (UniqueConstraint("case_id", "incident_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incident.id"), index=True)


class CaseNote(Base):
    """An entry in a case's timeline; its text is personal data, so encrypted."""

    __tablename__ = "case_note"
    __table_args__ = (Index("ix_case_note_case_at", "case_id", "at"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    text = Secret(str, nullable=False)

    author = relationship("User")


class CaseTask(Base):
    """Something to do on a case, by a date, by someone of the case's agency."""

    __tablename__ = "case_task"
    # The open tasks of each owner by due date (a user's tasks due; a manager's team's overdue tasks),
    # with the case in the key, not INCLUDEd, so that SQLite (which has no INCLUDE) joins a task to its
    # case from the index alone too (migration 0032).
    __table_args__ = (Index("ix_case_task_open_owner_due", "owner_id", "due_on", "case_id",
                            postgresql_where=text("done_at IS NULL"), sqlite_where=text("done_at IS NULL")),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    title = Secret(str, nullable=False)  # may name people: encrypted
    due_on: Mapped[dt.date] = mapped_column(index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    done_at: Mapped[dt.datetime | None]
    done_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))

    owner = relationship("User", foreign_keys=[owner_id])
