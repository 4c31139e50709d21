from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Secret, enum_column
from .vocab import CaseKind, CaseStatus, PartyRole


class Case(Base):
    """An agency's piece of work, grouping people and incidents."""

    __tablename__ = "case"

    kind: Mapped[CaseKind] = enum_column(CaseKind)
    status: Mapped[CaseStatus] = enum_column(CaseStatus, default=CaseStatus.OPEN)
    review_on: Mapped[dt.date | None] = mapped_column(index=True)
    summary = Secret(str)
    outcome = Secret(str)
    restricted: Mapped[bool] = mapped_column(default=False)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)

    people: Mapped[list[CasePerson]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    incidents: Mapped[list[CaseIncident]] = relationship(cascade="all, delete-orphan", passive_deletes=True)

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
