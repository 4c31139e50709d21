"""DASH risk assessments: save a checklist as a draft or complete it, score it with the configured
bands, apply professional judgement, keep each one with its date and assessor, and say whether an
HRDA referral is proposed and why.

The rules are casework.risk.dash's (scoring, levels, judgement, the four criteria); the counts the
criteria need come from casework.risk.repeats. Nothing here re-decides a rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import exists, func, or_, select

from .. import policy
from ..db import db
from ..models import (
    AssessmentStatus,
    Case,
    CasePerson,
    Incident,
    Party,
    PartyRole,
    Person,
    Referral,
    ReferralType,
    RiskAssessment,
)
from ..models.base import utcnow
from ..risk import dash, repeats
from . import audit, versioning

REASON_MAX = 2000
NOTE_MAX = 2000


class AssessmentError(Exception):
    """A checklist that cannot be saved; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAVictim(AssessmentError):
    """A DASH checklist (or an HRDA referral) for someone who is not a victim: refused whatever is posted."""


def bands() -> dash.Bands:
    """The configured DASH bands (DASH_HIGH_FROM, DASH_MEDIUM_FROM)."""
    return dash.Bands.from_config(current_app.config)


def _apply(assessment: RiskAssessment, *, answers: Mapping[int, str | None], notes: Mapping[int, str | None],
           judged_high: bool, reason: str | None, complete: bool, today: dt.date) -> None:
    try:
        checklist = dash.Checklist.parse(answers, notes)
    except dash.DashError as e:
        raise AssessmentError(str(e)) from e
    for number, note in checklist.notes.items():
        if len(note) > NOTE_MAX:
            raise AssessmentError(f"Question {number}: notes must be {NOTE_MAX} characters or fewer", f"n{number}")
    missing = checklist.unanswered()
    if not checklist.answers:
        raise AssessmentError("Answer at least one question: a checklist with no answers is not saved", "q1")
    if complete and missing:
        listed = ", ".join(str(n) for n in missing)
        raise AssessmentError(f"Answer every question to complete the checklist (unanswered: {listed}), "
                              "or save it as a draft", f"q{missing[0]}")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise AssessmentError(f"The reason must be {REASON_MAX} characters or fewer", "reason")
    if reason and not judged_high:
        raise AssessmentError("Give a reason only when you judge the risk to be high", "reason")
    try:
        result = dash.assess(checklist, bands=bands(), judgement=dash.RiskLevel.HIGH if judged_high else None,
                             reason=reason or None)
    except dash.DashError as e:
        raise AssessmentError("Explain why you judge the risk to be high", "reason") from e
    assessment.set_checklist(checklist)
    assessment.score = result.score
    assessment.scored_level = result.scored_level
    assessment.level = result.level
    assessment.judged_high = result.judged_high
    assessment.judgement_reason = result.reason
    assessment.assessed_on = today
    if complete:
        assessment.status = AssessmentStatus.COMPLETE
        assessment.completed_at = utcnow()


def is_victim(person_id: Any) -> bool:
    """Whether the person is a victim: a party to an incident as victim, or on a case with the victim
    role. Only a victim has a DASH checklist or an HRDA referral."""
    return bool(db.session.scalar(select(or_(
        exists().where(Party.person_id == person_id, Party.role == PartyRole.VICTIM),
        exists().where(CasePerson.person_id == person_id, CasePerson.role == PartyRole.VICTIM)))))


def victims_among(person_ids: Any) -> set[Any]:
    """Which of these people are victims (`is_victim`), in two queries whatever their number."""
    ids = list(person_ids)
    if not ids:
        return set()
    found = set(db.session.scalars(select(Party.person_id).where(
        Party.person_id.in_(ids), Party.role == PartyRole.VICTIM).distinct()))
    found |= set(db.session.scalars(select(CasePerson.person_id).where(
        CasePerson.person_id.in_(ids), CasePerson.role == PartyRole.VICTIM).distinct()))
    return found


NOT_A_VICTIM = ("{name} is not recorded as a victim in an incident or a case: a DASH checklist is only "
                "completed for a victim")


def start(person: Person, *, by: Any, answers: Mapping[int, str | None], notes: Mapping[int, str | None],
          judged_high: bool, reason: str | None, complete: bool, today: dt.date,
          case: Case | None = None) -> RiskAssessment:
    """A new checklist for a person (optionally within a case), saved as a draft or complete."""
    if not policy.can_view(by, person):
        raise AssessmentError("You cannot see this person")
    if case is not None and not policy.can_view(by, case):
        raise AssessmentError("You cannot see this case", "case")
    if not is_victim(person.id):
        raise NotAVictim(NOT_A_VICTIM.format(name=person.display_name))
    assessment = RiskAssessment(person_id=person.id, case_id=case.id if case else None, assessor_id=by.id,
                                owner_agency_id=by.agency_id, status=AssessmentStatus.DRAFT, assessed_on=today)
    _apply(assessment, answers=answers, notes=notes, judged_high=judged_high, reason=reason, complete=complete,
           today=today)
    db.session.add(assessment)
    db.session.flush()
    versioning.record_edit(assessment, action="assessment.create", fields=["answers", "notes", "status"], user=by)
    return assessment


def save_draft(assessment: RiskAssessment, *, version: int | None, by: Any, answers: Mapping[int, str | None],
               notes: Mapping[int, str | None], judged_high: bool, reason: str | None, complete: bool,
               today: dt.date) -> RiskAssessment:
    """Save more of a draft, or complete it. A completed checklist is never changed: a new one is made."""
    if not policy.can_edit_assessment(by, assessment):
        raise AssessmentError("Only a draft of your agency can be changed; start a new checklist instead")
    versioning.check_version(assessment, version, action_prefix="assessment")
    if not is_victim(assessment.person_id):
        raise NotAVictim(NOT_A_VICTIM.format(name=assessment.person.display_name))
    _apply(assessment, answers=answers, notes=notes, judged_high=judged_high, reason=reason, complete=complete,
           today=today)
    # The assessor is whoever completes or last saved the checklist.
    assessment.assessor_id = by.id
    fields = audit.changed_fields(assessment)
    versioning.flush_or_stale(assessment, version or 0, action_prefix="assessment")
    versioning.record_edit(assessment, action="assessment.update", fields=fields, user=by)
    return assessment


def history(person: Person, *, viewer: Any) -> list[RiskAssessment]:
    """The person's checklists the viewer may see, newest first."""
    if not policy.can_view(viewer, person):
        return []
    return list(db.session.scalars(
        select(RiskAssessment).where(RiskAssessment.person_id == person.id,
                                     policy.assessment_filter(viewer, RiskAssessment))
        .order_by(RiskAssessment.assessed_on.desc(), RiskAssessment.created_at.desc())))


def of_case(case: Case, *, viewer: Any) -> list[RiskAssessment]:
    """The checklists made within a case that the viewer may see, newest first."""
    return [a for a in db.session.scalars(
        select(RiskAssessment).where(RiskAssessment.case_id == case.id,
                                     policy.assessment_filter(viewer, RiskAssessment))
        .order_by(RiskAssessment.assessed_on.desc(), RiskAssessment.created_at.desc()))
        if policy.can_view(viewer, a.person)]


# --- HRDA referral criteria ---------------------------------------------------------------


def _da_victim_incidents(person_id: Any, *, first: dt.date, last: dt.date) -> int:
    """How many domestic abuse incidents the person was a victim of, dated from `first` to `last`."""
    return db.session.scalar(
        select(func.count()).select_from(Party).join(Incident, Incident.id == Party.incident_id)
        .where(Party.person_id == person_id, Party.role == PartyRole.VICTIM,
               repeats.is_kind(repeats.RepeatKind.DA, Incident.__table__),
               Incident.occurred_on >= first, Incident.occurred_on <= last)) or 0


def escalation_count(person_id: Any, *, today: dt.date) -> int:
    """The number of DA incidents as victim to put to `dash.propose_hrda_referral`.

    Whether potential escalation holds is decided once, by `repeats.potential_escalation`. When it
    holds, the count is that of the latest cluster it found (at least the threshold); when it does
    not, the count of the current window (`today` - window + 1 to `today`), which is then always
    below the threshold, so the proposal says the same as the rule.
    """
    window = current_app.config["ESCALATION_WINDOW_DAYS"]
    threshold = current_app.config["ESCALATION_INCIDENTS"]
    if repeats.potential_escalation(db.session, person_id, today=today, incidents=threshold, window_days=window):
        events = repeats.escalation_events(incidents=threshold, window_days=window, person_ids=[person_id]).subquery()
        latest = db.session.scalar(select(func.max(events.c.occurred_on)).where(
            events.c.occurred_on >= today - dt.timedelta(days=window - 1), events.c.occurred_on <= today))
        if isinstance(latest, str):  # SQLite hands a bare aggregate of dates back as text
            latest = dt.date.fromisoformat(latest)
        return _da_victim_incidents(person_id, first=latest - dt.timedelta(days=window), last=latest)
    return _da_victim_incidents(person_id, first=today - dt.timedelta(days=window - 1), last=today)


def days_since_previous_hrda(person_id: Any, *, today: dt.date) -> int | None:
    """Days from the person's latest HRDA referral dated before `today` (None: no earlier one)."""
    latest = db.session.scalar(select(func.max(Referral.referred_on)).where(
        Referral.person_id == person_id, Referral.type == ReferralType.HRDA, Referral.referred_on < today))
    if latest is None:
        return None
    if isinstance(latest, str):
        latest = dt.date.fromisoformat(latest)
    return (today - latest).days


def hrda_proposal(person: Person, *, assessment: RiskAssessment | None, today: dt.date) -> dash.ReferralProposal:
    """Which of the four HRDA criteria hold for a person today, given a completed checklist (or none)."""
    result = None
    if assessment is not None and assessment.complete:
        result = dash.assess(assessment.checklist, bands=bands(),
                             judgement=dash.RiskLevel.HIGH if assessment.judged_high else None,
                             reason=assessment.judgement_reason)
    return dash.propose_hrda_referral(
        assessment=result,
        da_incidents_in_window=escalation_count(person.id, today=today),
        days_since_previous_hrda=days_since_previous_hrda(person.id, today=today),
        escalation_incidents=current_app.config["ESCALATION_INCIDENTS"],
        escalation_window_days=current_app.config["ESCALATION_WINDOW_DAYS"],
        repeat_window_days=repeats.LOOKBACK_DAYS,
    )
