from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, enum_column
from .vocab import HrdaCriteria, ProgrammeOutcome, ReferralStatus, ReferralType


class Referral(Base):
    """A referral of a victim (HRDA, IDVA) or a perpetrator (MAPPA, perpetrator programme)."""

    __tablename__ = "referral"
    __table_args__ = (Index("ix_referral_type_person_referred_on", "type", "person_id", "referred_on"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    type: Mapped[ReferralType] = enum_column(ReferralType)
    referred_on: Mapped[dt.date]
    status: Mapped[ReferralStatus] = enum_column(ReferralStatus, default=ReferralStatus.SUBMITTED)
    imported: Mapped[bool] = mapped_column(default=False)  # history: arrives closed, never queued
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    receiving_agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"))

    # HRDA
    criteria: Mapped[HrdaCriteria | None] = enum_column(HrdaCriteria, nullable=True)
    dash_score: Mapped[int | None]
    children_in_household: Mapped[bool | None]
    # MAPPA
    mappa_category: Mapped[int | None]
    mappa_level: Mapped[int | None]
    # perpetrator programme
    started_on: Mapped[dt.date | None] = mapped_column(index=True)
    ended_on: Mapped[dt.date | None]
    outcome: Mapped[ProgrammeOutcome | None] = enum_column(ProgrammeOutcome, nullable=True)

    version: Mapped[int] = mapped_column(default=1)
    person = relationship("Person")

    __mapper_args__ = {"version_id_col": version}
