from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, ImportDigest, Secret, enum_column
from .reference import COLUMN_LENGTH, default_for
from .user import Role
from .vocab import HrdaCriteria, Labelled, ProgrammeOutcome, ReferralStatus, ReferralType


class Consent(Labelled):
    """Whether the person agreed to the referral sharing their information."""

    GIVEN = "given", "Given"
    REFUSED = "refused", "Refused"
    NOT_SOUGHT = "not_sought", "Not sought"


class Referral(ImportDigest, Base):
    """A referral of a victim (HRDA, IDVA) or a perpetrator (MAPPA, perpetrator programme)."""

    __tablename__ = "referral"
    __table_args__ = (Index("ix_referral_type_person_referred_on", "type", "person_id", "referred_on"),
                      # the first and last referral dates (the measures page), from its ends
                      Index("ix_referral_referred_on", "referred_on"))

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    type: Mapped[ReferralType] = enum_column(ReferralType)
    referred_on: Mapped[dt.date]
    status: Mapped[ReferralStatus] = enum_column(ReferralStatus, default=ReferralStatus.SUBMITTED)
    imported: Mapped[bool] = mapped_column(default=False)  # history: arrives closed, never queued
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    receiving_agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency.id"), index=True)
    referred_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case.id"), index=True)
    assessment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("risk_assessment.id"))
    # The short reference people read and type (casework.models.reference), unique.
    reference: Mapped[str] = mapped_column(String(COLUMN_LENGTH), default=default_for("referral"), index=True, unique=True)
    reason = Secret(str)  # why the referral is made
    # Consent to share (None only for imported history); without it, the lawful basis for sharing.
    consent: Mapped[Consent | None] = enum_column(Consent, nullable=True)
    lawful_basis = Secret(str)
    # The receiving side's decision
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_reason = Secret(str)
    closed_at: Mapped[dt.datetime | None]

    # HRDA. `criteria` is the first that holds among the exchange format's three (None when only
    # "repeat" does); `criteria_held` lists every one that holds (casework.risk.dash.Criterion values).
    criteria: Mapped[HrdaCriteria | None] = enum_column(HrdaCriteria, nullable=True)
    criteria_held: Mapped[str | None] = mapped_column(String(120))
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
    receiving_agency = relationship("Agency", foreign_keys=[receiving_agency_id])
    owner_agency = relationship("Agency", foreign_keys=[owner_agency_id])
    referred_by = relationship("User", foreign_keys=[referred_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}


class ReferralRoute(Base):
    """Where a referral of a type goes: a receiving service (an agency) and the role of its people who
    act on it (the HRDA chair for HRDA, a caseworker for the others). A type may have several services;
    the referrer then chooses one by its name."""

    __tablename__ = "referral_route"
    __table_args__ = (UniqueConstraint("type", "agency_id"),)

    type: Mapped[ReferralType] = enum_column(ReferralType)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    role: Mapped[Role] = enum_column(Role)

    agency = relationship("Agency")
