"""The ASB case review (the community trigger): an application for a victim or an area, the
threshold decision, the review with its panel and recommendations, the outcome and an appeal
(/work/shared/spec/asb-case-review.md; docs/asb-case-review.md)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Secret, enum_column
from .meeting import ActionStatus
from .vocab import Labelled


class Applicant(Labelled):
    """Who applied: the victim, or someone on their behalf (with the victim's consent)."""

    VICTIM = "victim", "The victim"
    RELATIVE = "relative", "A relative"
    COUNCILLOR = "councillor", "A councillor"
    MP = "mp", "An MP"
    PROFESSIONAL = "professional", "A professional"


class ThresholdDecision(Labelled):
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"


class AsbReview(Base):
    """One application for an ASB case review, for one person (`person_id`) or an area (`area_id`)."""

    __tablename__ = "asb_case_review"
    __table_args__ = (Index("ix_asb_case_review_received_on", "received_on"),)

    review_ref: Mapped[str] = mapped_column(String(60), unique=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), index=True)
    area_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("area.id"))
    received_on: Mapped[dt.date]
    receiving_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    # The applicant's caseworker: who recorded the application; they see its clocks on their home page.
    caseworker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    applicant: Mapped[Applicant | None] = enum_column(Applicant, nullable=True)  # None: imported
    applicant_name = Secret(str)  # who applied on the victim's behalf
    victim_consent: Mapped[bool | None]  # on the victim's behalf: did the victim consent
    behaviour = Secret(str)  # what the behaviour is: personal data
    # A community application's people affected, as the application lists them (one on each line):
    # the threshold by rule does not count them (it counts the victims of the complaints on record).
    affected_people = Secret(str)

    decision: Mapped[ThresholdDecision | None] = enum_column(ThresholdDecision, nullable=True)
    decided_on: Mapped[dt.date | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    decision_reason = Secret(str)
    threshold_by_rule: Mapped[bool | None]  # what the rule said when the decision was recorded

    review_held_on: Mapped[dt.date | None]
    imported_recommendations: Mapped[int] = mapped_column(default=0)  # an import's count: no texts
    outcome_sent_on: Mapped[dt.date | None]
    appeal_received_on: Mapped[dt.date | None] = mapped_column(index=True)
    appeal_decided_on: Mapped[dt.date | None]
    appeal_upheld: Mapped[bool | None]
    imported: Mapped[bool] = mapped_column(default=False)

    version: Mapped[int] = mapped_column(default=1)
    person = relationship("Person")
    area = relationship("Area")
    receiving_agency = relationship("Agency")
    panel: Mapped[list[AsbReviewPanel]] = relationship(
        back_populates="review", cascade="all, delete-orphan", passive_deletes=True, order_by="AsbReviewPanel.created_at")
    recommendations: Mapped[list[AsbRecommendation]] = relationship(
        back_populates="review", cascade="all, delete-orphan", passive_deletes=True,
        order_by="AsbRecommendation.due_on")

    __mapper_args__ = {"version_id_col": version}

    @property
    def community(self) -> bool:
        return self.area_id is not None

    @property
    def affected(self) -> list[str]:
        return (self.affected_people or "").splitlines()

    @property
    def recommendation_count(self) -> int:
        return len(self.recommendations) + self.imported_recommendations


class AsbReviewPanel(Base):
    """A member of the review panel: a user (with their agency) or an agency."""

    __tablename__ = "asb_review_panel"
    __table_args__ = (UniqueConstraint("review_id", "user_id", "agency_id"),)

    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asb_case_review.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))

    review: Mapped[AsbReview] = relationship(back_populates="panel")
    user = relationship("User")
    agency = relationship("Agency")


class AsbRecommendation(Base):
    """A recommendation of the review: what, which agency owns it, by when, open or done."""

    __tablename__ = "asb_recommendation"
    __table_args__ = (Index("ix_asb_recommendation_owner_status", "owner_agency_id", "status", "due_on"),)

    review_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asb_case_review.id", ondelete="CASCADE"), index=True)
    text = Secret(str, nullable=False)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    due_on: Mapped[dt.date]
    status: Mapped[ActionStatus] = enum_column(ActionStatus, default=ActionStatus.OPEN)
    done_on: Mapped[dt.date | None]

    review: Mapped[AsbReview] = relationship(back_populates="recommendations")
    owner_agency = relationship("Agency")
