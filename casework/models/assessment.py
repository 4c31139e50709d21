"""DASH risk assessments: the 24 answers and their notes (encrypted), the score and level they give
(casework.risk.dash), professional judgement, and whether the checklist is a draft or complete."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..risk.dash import Answer, Checklist, RiskLevel
from .base import Base, Secret, enum_column
from .vocab import Labelled


class AssessmentStatus(Labelled):
    DRAFT = "draft", "Draft"
    COMPLETE = "complete", "Complete"


class RiskAssessment(Base):
    """One DASH checklist of a person, by an assessor, kept with its date (a new one is a new row)."""

    __tablename__ = "risk_assessment"
    __table_args__ = (Index("ix_risk_assessment_person_assessed_on", "person_id", "assessed_on"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case.id"), index=True)
    assessor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"), index=True)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    assessed_on: Mapped[dt.date]
    status: Mapped[AssessmentStatus] = enum_column(AssessmentStatus, default=AssessmentStatus.DRAFT)
    # The answers say much about a person's life (pregnancy, sexual abuse, health): encrypted with
    # the notes, as JSON objects keyed by question number.
    answers = Secret(str)
    notes = Secret(str)
    score: Mapped[int] = mapped_column(default=0)
    scored_level: Mapped[RiskLevel] = enum_column(RiskLevel, default=RiskLevel.STANDARD)
    level: Mapped[RiskLevel] = enum_column(RiskLevel, default=RiskLevel.STANDARD)  # after judgement
    judged_high: Mapped[bool] = mapped_column(default=False)
    judgement_reason = Secret(str)
    completed_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    person = relationship("Person")
    assessor = relationship("User")

    __mapper_args__ = {"version_id_col": version}

    @property
    def checklist(self) -> Checklist:
        """The answers and notes as the DASH rules take them."""
        answers = {int(k): Answer(v) for k, v in json.loads(self.answers or "{}").items()}
        notes = {int(k): v for k, v in json.loads(self.notes or "{}").items()}
        return Checklist(answers=answers, notes=notes)

    def set_checklist(self, checklist: Checklist) -> None:
        self.answers = json.dumps({str(k): v.value for k, v in checklist.answers.items()}, sort_keys=True)
        self.notes = json.dumps({str(k): v for k, v in checklist.notes.items()}, sort_keys=True)

    @property
    def complete(self) -> bool:
        return self.status is AssessmentStatus.COMPLETE
