"""Reviews after a death (Domestic Abuse Related Death Reviews, DARDR, formerly DHR): the review,
the agencies asked for their reports, the contact with the family and the recommendations.

A review is always restricted: only the users named on it (`RestrictedAccess` rows of kind
"dardr") see it. Everything that may name or describe a person is encrypted (`Secret`). A
recommendation's text and evidence are encrypted too, though the board reads them (never the
review's personal details: see docs/dardr.md)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Secret, enum_column
from .vocab import Labelled


class ReviewDecision(Labelled):
    HOLD = "hold", "Hold a review"
    NOT_HOLD = "not_hold", "Do not hold a review"


class RecommendationStatus(Labelled):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETE = "complete", "Complete"


class LearningTheme(Labelled):
    """The learning themes of the Home Office's analyses of reviews (docs/dardr.md)."""

    RISK_ASSESSMENT = "risk_assessment", "Risk assessment"
    INFORMATION_SHARING = "information_sharing", "Information sharing"
    COERCIVE_CONTROL = "coercive_control", "Coercive and controlling behaviour"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"
    SUICIDE = "suicide", "Suicide and self-harm"
    ADULT_FAMILY = "adult_family", "Adult family homicide"
    CHILDREN = "children", "Children in the household"
    TRAINING = "training", "Training and awareness"
    RECORD_KEEPING = "record_keeping", "Record keeping"
    ROUTINE_ENQUIRY = "routine_enquiry", "Routine enquiry"
    MULTI_AGENCY = "multi_agency", "Multi-agency working"


class DardrReview(Base):
    """One review: from the notification of a death to the review's publication."""

    __tablename__ = "dardr_review"

    reference: Mapped[str] = mapped_column(String(20), unique=True)  # e.g. DARDR-2025-01: no personal detail
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    notified_on: Mapped[dt.date]
    subject = Secret(str, nullable=False)  # the person who died, as the panel calls them
    circumstances = Secret(str)
    decision: Mapped[ReviewDecision | None] = enum_column(ReviewDecision, nullable=True)
    decided_on: Mapped[dt.date | None]
    decision_reason = Secret(str)
    chair = Secret(str)  # the independent chair
    panel = Secret(str)  # the panel's members and agencies
    submitted_on: Mapped[dt.date | None]  # to the Home Office quality assurance panel
    qa_outcome = Secret(str)
    published_on: Mapped[dt.date | None]
    version: Mapped[int] = mapped_column(default=1)

    requests: Mapped[list[DardrAgencyRequest]] = relationship(
        back_populates="review", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(DardrAgencyRequest.due_on, DardrAgencyRequest.id)")
    contacts: Mapped[list[DardrFamilyContact]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True,
        order_by="(DardrFamilyContact.contacted_on, DardrFamilyContact.created_at)")
    recommendations: Mapped[list[DardrRecommendation]] = relationship(
        back_populates="review", cascade="all, delete-orphan", passive_deletes=True,
        order_by="DardrRecommendation.number")

    __mapper_args__ = {"version_id_col": version}


class DardrAgencyRequest(Base):
    """An agency asked for its report (an individual management review) by a date."""

    __tablename__ = "dardr_agency_request"
    __table_args__ = (UniqueConstraint("review_id", "agency_id"),)

    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dardr_review.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    requested_on: Mapped[dt.date]
    due_on: Mapped[dt.date]
    received_on: Mapped[dt.date | None]

    review = relationship("DardrReview", back_populates="requests")
    agency = relationship("Agency")


class DardrFamilyContact(Base):
    """One contact with the family of the person who died."""

    __tablename__ = "dardr_family_contact"

    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dardr_review.id", ondelete="CASCADE"), index=True)
    contacted_on: Mapped[dt.date]
    summary = Secret(str, nullable=False)
    by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))


class DardrRecommendation(Base):
    """A recommendation of a review, owned by an agency, with its progress."""

    __tablename__ = "dardr_recommendation"
    __table_args__ = (UniqueConstraint("review_id", "number"),)

    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dardr_review.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    text = Secret(str, nullable=False)
    themes: Mapped[str] = mapped_column(String(400), default="")  # LearningTheme values, comma-separated
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    due_on: Mapped[dt.date] = mapped_column(index=True)
    status: Mapped[RecommendationStatus] = enum_column(RecommendationStatus, default=RecommendationStatus.NOT_STARTED)
    evidence = Secret(str)
    completed_on: Mapped[dt.date | None]
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    review = relationship("DardrReview", back_populates="recommendations")
    owner_agency = relationship("Agency")

    __mapper_args__ = {"version_id_col": version}

    @property
    def theme_list(self) -> list[LearningTheme]:
        return [LearningTheme(t) for t in self.themes.split(",") if t]
