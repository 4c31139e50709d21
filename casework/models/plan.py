"""The Community Safety Plan and its delivery: a plan (one row a year: refreshing the plan for a new
year copies it), its priorities and cross-cutting issues, each priority's activities (a lead agency,
partner agencies, a due date or none for "ongoing") and the progress updates on them.

Nothing here is about a person: the plan is the partnership's, read by everyone signed in.
An activity copied into a new year's plan names the one it was copied from (`copied_from_id`), so its
history runs back through the earlier years' updates (the plan service)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, enum_column
from .incident import Incident
from .vocab import Labelled


class ActivityStatus(Labelled):
    NOT_STARTED = "not_started", "Not started"
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"
    COMPLETE = "complete", "Complete"


class Plan(Base):
    """One year's version of a plan: `first_year`-`last_year` is its period (2023-26: the financial
    years 2023/24 to 2025/26); `year` the financial year this version is for (2025: 2025/26)."""

    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("title", "year"),)

    title: Mapped[str] = mapped_column(String(200))
    first_year: Mapped[int]
    last_year: Mapped[int]
    year: Mapped[int]
    copied_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plan.id"))

    priorities: Mapped[list[PlanPriority]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="PlanPriority.position",
        back_populates="plan")
    issues: Mapped[list[PlanIssue]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="PlanIssue.position")

    @property
    def period(self) -> str:
        return f"{self.first_year}-{self.last_year % 100:02d}"

    @property
    def year_name(self) -> str:
        return f"{self.year}/{(self.year + 1) % 100:02d}"


class PlanPriority(Base):
    """A priority of the plan, its measures named by their ids (`casework.measures.definitions`)."""

    __tablename__ = "plan_priority"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    aim: Mapped[str | None] = mapped_column(Text)
    measure_ids: Mapped[str] = mapped_column(String(200), default="")  # "DA1 DA2 DA3"

    activities: Mapped[list[PlanActivity]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="(PlanActivity.position, PlanActivity.id)",
        back_populates="priority")
    plan: Mapped[Plan] = relationship(back_populates="priorities")

    @property
    def measures(self) -> list[str]:
        return self.measure_ids.split()


class PlanIssue(Base):
    """A cross-cutting issue of the plan (mental health, substance misuse, ...)."""

    __tablename__ = "plan_issue"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)


class PlanActivity(Base):
    """What the partnership said it would do under a priority: led by one agency, with partners."""

    __tablename__ = "plan_activity"

    priority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan_priority.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(Text)
    lead_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    due_on: Mapped[dt.date | None]  # None: ongoing
    copied_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plan_activity.id"), index=True)

    partners: Mapped[list[PlanActivityPartner]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")
    priority: Mapped[PlanPriority] = relationship(back_populates="activities")

    @property
    def partner_ids(self) -> list[uuid.UUID]:
        return [p.agency_id for p in self.partners]


class PlanActivityPartner(Base):
    __tablename__ = "plan_activity_partner"
    __table_args__ = (UniqueConstraint("activity_id", "agency_id"),)

    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan_activity.id", ondelete="CASCADE"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)


class ActivityUpdate(Base):
    """Progress on an activity as of a date, written by a user of its lead or a partner agency."""

    __tablename__ = "activity_update"
    __table_args__ = (Index("ix_activity_update_activity_on", "activity_id", "updated_on"),)

    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan_activity.id", ondelete="CASCADE"))
    status: Mapped[ActivityStatus] = enum_column(ActivityStatus)
    narrative: Mapped[str] = mapped_column(Text)
    updated_on: Mapped[dt.date]
    written_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))  # the writer's, when written


# A local problem's incidents by month are counted by locality and date (the local problems service).
Index("ix_incident_locality_occurred_on", Incident.locality, Incident.occurred_on)
