"""Local problem-solving: a locality group's (a Partnership Co-ordinating Group's) problem in a
place, the partners working on it, their actions, and its outcome when closed. No personal data:
a problem is about a place, and its incidents are only ever counted."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class LocalProblem(Base):
    __tablename__ = "local_problem"

    group_name: Mapped[str] = mapped_column(String(200))  # the locality group recording it
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    locality: Mapped[str | None] = mapped_column(String(200))  # a name of the locality list, or
    area_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("area.id"), index=True)  # a designated area
    categories: Mapped[str] = mapped_column(String(500), default="")  # incident categories counted; "": all
    started_on: Mapped[dt.date]
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    closed_on: Mapped[dt.date | None] = mapped_column(index=True)
    outcome: Mapped[str | None] = mapped_column(Text)

    partners: Mapped[list[LocalProblemPartner]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")
    actions: Mapped[list[LocalProblemAction]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True,
        order_by="(LocalProblemAction.due_on, LocalProblemAction.id)")
    area = relationship("Area")

    @property
    def category_values(self) -> list[str]:
        return self.categories.split()

    @property
    def partner_ids(self) -> list[uuid.UUID]:
        return [p.agency_id for p in self.partners]


class LocalProblemPartner(Base):
    __tablename__ = "local_problem_partner"
    __table_args__ = (UniqueConstraint("problem_id", "agency_id"),)

    problem_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("local_problem.id", ondelete="CASCADE"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)


class LocalProblemAction(Base):
    __tablename__ = "local_problem_action"

    problem_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("local_problem.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    due_on: Mapped[dt.date]
    done_on: Mapped[dt.date | None]
