from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, ImportDigest, enum_column
from .reference import COLUMN_LENGTH, default_for
from .vocab import AgencyKind, AsbType, Category, CjStatus, PartyRole


class Incident(ImportDigest, Base):
    """Something that happened, recorded by one agency, with the people involved as parties."""

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_occurred_on_category", "occurred_on", "category"),
                      # an area's complaints for an ASB case review (the ASB reviews service)
                      Index("ix_incident_area_category_occurred_on", "area_id", "category", "occurred_on"))

    occurred_on: Mapped[dt.date]
    # The day the agency was told (blank: the day it happened); the ASB case review's rule uses it.
    reported_on: Mapped[dt.date | None]
    category: Mapped[Category] = enum_column(Category)
    domestic_abuse: Mapped[bool] = mapped_column(default=False)
    recorded_by: Mapped[AgencyKind] = enum_column(AgencyKind)
    locality: Mapped[str | None] = mapped_column(String(200))
    area_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("area.id"), index=True)
    rural: Mapped[bool] = mapped_column(default=False)
    alcohol: Mapped[bool] = mapped_column(default=False)
    drugs: Mapped[bool] = mapped_column(default=False)
    mental_health: Mapped[bool] = mapped_column(default=False)
    asb_type: Mapped[AsbType | None] = enum_column(AsbType, nullable=True)
    restricted: Mapped[bool] = mapped_column(default=False)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    # The short reference people read and type (casework.models.reference), unique.
    reference: Mapped[str] = mapped_column(String(COLUMN_LENGTH), default=default_for("incident"), index=True, unique=True)
    # The parties as the data exchange last imported them (`casework.exchange.digest`): a keyed
    # digest of their rows in parties.csv, and the latest `updated_at` of the parties it left.
    parties_digest: Mapped[bytes | None] = mapped_column(LargeBinary(16), default=None)
    parties_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    parties: Mapped[list[Party]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", passive_deletes=True
    )
    area = relationship("Area")

    __mapper_args__ = {"version_id_col": version}


class Party(Base):
    """A person's part in an incident: victim or perpetrator (a person may be both)."""

    __tablename__ = "party"
    __table_args__ = (
        UniqueConstraint("incident_id", "person_id", "role"),
        Index("ix_party_person_role", "person_id", "role"),
    )

    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    role: Mapped[PartyRole] = enum_column(PartyRole)
    cj_status: Mapped[CjStatus | None] = enum_column(CjStatus, nullable=True)

    incident: Mapped[Incident] = relationship(back_populates="parties")
    person = relationship("Person")
