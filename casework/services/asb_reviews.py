"""ASB case reviews (the community trigger): record an application, show the threshold by rule,
record the decision, the panel (refusing anyone who handled a complaint), the review and its
recommendations, the outcome sent and an appeal. The rules are `casework.risk.asb_review`'s; this
module fetches what they need and writes what the users decide (docs/asb-case-review.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import and_, func, or_, select

from .. import policy
from ..db import db
from ..models import (
    ActionStatus,
    Agency,
    AgencyKind,
    Applicant,
    Area,
    AsbRecommendation,
    AsbReview,
    AsbReviewPanel,
    AuditEntry,
    Case,
    CaseIncident,
    CasePerson,
    Category,
    Incident,
    Party,
    PartyRole,
    Person,
    ThresholdDecision,
    User,
)
from ..models.base import new_id
from ..risk import asb_review as rule
from ..risk.repeats import add_months
from . import audit


class AsbReviewError(Exception):
    """Something the users asked that the rules refuse: `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def settings() -> rule.Settings:
    """The spec's settings, from config `ASB_REVIEW_*` where set."""
    if not has_app_context():
        return rule.DEFAULTS
    config = current_app.config
    return rule.Settings(**{name: int(config.get(f"ASB_REVIEW_{name.upper()}", getattr(rule.DEFAULTS, name)))
                            for name in rule.Settings.__dataclass_fields__})


# --- the complaints and the threshold by rule ----------------------------------------------------


def _complaints(condition: Any, received_on: dt.date, s: rule.Settings) -> list[rule.Complaint]:
    """ASB incidents matching `condition` whose behaviour could qualify: from a month before the
    window to the day received (every qualifying complaint is among them), with their victims (each
    as the record it was merged into, if it was). One query, in Core: at a million incidents the
    ORM's objects and a list of ids sent back cost more than the query."""
    start, _ = rule.window(received_on, s)
    incident, party, person = Incident.__table__, Party.__table__, Person.__table__
    query = (select(incident.c.id, incident.c.occurred_on, incident.c.reported_on, incident.c.reference,
                    incident.c.recorded_by, party.c.person_id, person.c.merged_into_id)
             .select_from(incident.outerjoin(party, and_(party.c.incident_id == incident.c.id,
                                                        party.c.role == PartyRole.VICTIM))
                          .outerjoin(person, person.c.id == party.c.person_id))
             .where(condition, incident.c.category == Category.ASB,
                    incident.c.occurred_on >= add_months(start, -1), incident.c.occurred_on <= received_on))
    found: dict[Any, tuple[Any, set[Any]]] = {}
    for row in db.session.execute(query):
        entry = found.get(row.id)
        if entry is None:
            entry = found[row.id] = (row, set())
        if row.person_id is not None:
            entry[1].add(row.merged_into_id or row.person_id)
    return [rule.Complaint(r.id, r.occurred_on, r.reported_on, frozenset(victims), r.reference,
                           AgencyKind(r.recorded_by).label if r.recorded_by else "")
            for r, victims in found.values()]


def victim_records(person_id: uuid.UUID) -> list[uuid.UUID]:
    """The victim's person record and the records merged into it."""
    merged = db.session.scalars(select(Person.id).where(Person.merged_into_id == person_id)).all()
    return [person_id, *merged]


def threshold_for(*, received_on: dt.date, person_id: uuid.UUID | None = None,
                  area_id: uuid.UUID | None = None) -> rule.Threshold:
    """The threshold by rule on `received_on`, from every agency's records (as the measures count)."""
    s = settings()
    if person_id is not None:
        ids = victim_records(person_id)
        on_victim = Incident.__table__.c.id.in_(select(Party.incident_id).where(
            Party.person_id.in_(ids), Party.role == PartyRole.VICTIM))
        return rule.personal_threshold(_complaints(on_victim, received_on, s), received_on, s)
    return rule.community_threshold(_complaints(Incident.__table__.c.area_id == area_id, received_on, s),
                                    received_on, s)


def threshold(review: AsbReview) -> rule.Threshold:
    return threshold_for(received_on=review.received_on, person_id=review.person_id, area_id=review.area_id)


# --- reading ------------------------------------------------------------------------------------


def visible(user: Any, *, person_id: uuid.UUID | None = None) -> list[AsbReview]:
    """The applications `user` may see (for one victim, with `person_id`), newest first."""
    query = select(AsbReview).where(policy.asb_review_filter(user, AsbReview))
    if person_id is not None:
        query = query.where(AsbReview.person_id == person_id)
    return list(db.session.scalars(query
                                   .order_by(AsbReview.received_on.desc(), AsbReview.created_at.desc())))


def get(review_id: uuid.UUID, *, viewer: Any) -> AsbReview | None:
    """The application, or None when it does not exist or `viewer` may not see it."""
    review = db.session.get(AsbReview, review_id)
    return review if review is not None and policy.can_view_asb_review(viewer, review) else None


def steps(review: AsbReview) -> list[rule.Step]:
    return rule.steps(received_on=review.received_on,
                      decision=review.decision.value if review.decision else None,
                      decided_on=review.decided_on, review_held_on=review.review_held_on,
                      outcome_sent_on=review.outcome_sent_on, settings=settings())


def clocks(user: Any, *, today: dt.date) -> list[tuple[AsbReview, rule.Step, bool]]:
    """For the home page: each step still to do of the applications `user` coordinates (every one,
    for the coordinator) or is the caseworker of, with whether it is overdue; overdue first."""
    if policy.can(user, policy.Permission.COORDINATE_ASB_REVIEWS):
        mine: Any = AsbReview.imported.is_(False)
    elif policy.can(user, policy.Permission.RECORD_ASB_REVIEWS):
        mine = and_(AsbReview.caseworker_id == user.id, AsbReview.imported.is_(False))
    else:
        return []
    open_ones = db.session.scalars(select(AsbReview).where(mine, AsbReview.outcome_sent_on.is_(None))
                                   .order_by(AsbReview.received_on)).all()
    due = [(r, step, step.overdue(today)) for r in open_ones for step in steps(r) if step.done_on is None]
    return sorted(due, key=lambda row: (not row[2], row[1].due))


def handled_by(review: AsbReview) -> dict[uuid.UUID, str]:
    """The users who handled one of the application's complaints, with how: who recorded it, the
    caseworker of a case of one of its parties, or of a case it is linked to."""
    incident_ids = [j.complaint.incident_id for j in threshold(review).judged]
    if not incident_ids:
        return {}
    found: dict[Any, str] = {}  # (user ids: the queries leave out None)
    for (user_id,) in db.session.execute(select(AuditEntry.user_id).where(
            AuditEntry.action == "incident.create", AuditEntry.record_id.in_(incident_ids),
            AuditEntry.user_id.is_not(None))):
        found.setdefault(user_id, "recorded one of the complaints")
    party_people = select(Party.person_id).where(Party.incident_id.in_(incident_ids))
    for (user_id,) in db.session.execute(select(Case.caseworker_id).join(CasePerson, CasePerson.case_id == Case.id)
                                         .where(CasePerson.person_id.in_(party_people),
                                                Case.caseworker_id.is_not(None))):
        found.setdefault(user_id, "is the caseworker of a person in one of the complaints")
    for (user_id,) in db.session.execute(select(Case.caseworker_id).join(CaseIncident, CaseIncident.case_id == Case.id)
                                         .where(CaseIncident.incident_id.in_(incident_ids),
                                                Case.caseworker_id.is_not(None))):
        found.setdefault(user_id, "is the caseworker of a case with one of the complaints")
    return found


# --- writing ------------------------------------------------------------------------------------


def new_ref(received_on: dt.date) -> str:
    return f"ASB-{received_on:%Y%m%d}-{new_id().hex[-6:].upper()}"


MAX_AFFECTED = 200  # people listed on one application
MAX_AFFECTED_LINE = 200  # characters a person


def affected_list(text: str | None) -> list[str]:
    """The people affected as typed, one on each line: blank lines dropped, spaces trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def check_affected(people: list[str]) -> None:
    if not people:
        raise AsbReviewError("Enter the people affected by the behaviour, one on each line", "affected_people")
    if len(people) > MAX_AFFECTED:
        raise AsbReviewError(f"List at most {MAX_AFFECTED} people affected", "affected_people")
    for number, line in enumerate(people, start=1):
        if len(line) > MAX_AFFECTED_LINE:
            raise AsbReviewError(f"Person {number} of the people affected must be {MAX_AFFECTED_LINE} characters "
                                 "or fewer", "affected_people")


def apply(*, received_on: dt.date, agency_id: uuid.UUID, applicant: Applicant, behaviour: str, by: Any,
          person: Person | None = None, area: Area | None = None, applicant_name: str | None = None,
          victim_consent: bool | None = None, affected_people: list[str] | None = None,
          today: dt.date) -> AsbReview:
    """Record an application for a victim (`person`) or an area (`area`), exactly one of the two; a
    community application lists the people affected (at least one; not counted by the threshold)."""
    if (person is None) == (area is None):
        raise AsbReviewError("Apply for a victim or for an area", "kind")
    affected = [line.strip() for line in affected_people or [] if line.strip()]
    if area is not None:
        check_affected(affected)
    if received_on > today:
        raise AsbReviewError("The date received must be today or in the past", "received_on")
    if db.session.get(Agency, agency_id) is None:
        raise AsbReviewError("Select the agency that received the application", "agency")
    if not (behaviour or "").strip():
        raise AsbReviewError("Describe the behaviour", "behaviour")
    if applicant is not Applicant.VICTIM:
        if not (applicant_name or "").strip():
            raise AsbReviewError("Enter the name of who applied on the victim's behalf", "applicant_name")
        if victim_consent is not True:
            raise AsbReviewError("An application on the victim's behalf needs the victim's consent", "victim_consent")
    if person is not None and person.merged_into_id is not None:
        raise AsbReviewError("This record was merged into another: apply for that one", "kind")
    review = AsbReview(review_ref=new_ref(received_on), person_id=person.id if person else None,
                       area_id=area.id if area else None, received_on=received_on, receiving_agency_id=agency_id,
                       caseworker_id=by.id, applicant=applicant,
                       applicant_name=(applicant_name or "").strip() or None if applicant is not Applicant.VICTIM
                       else None,
                       victim_consent=victim_consent if applicant is not Applicant.VICTIM else None,
                       behaviour=behaviour.strip(),
                       affected_people="\n".join(affected) if area is not None else None)
    db.session.add(review)
    db.session.flush()
    audit.record("asb_review.apply", user=by, record=review, record_kind="asb_review")
    return review


def _not_before(day: dt.date | None, earlier: dt.date | None, what: str, field: str) -> None:
    if day is not None and earlier is not None and day < earlier:
        raise AsbReviewError(f"{what} must be on or after {earlier:%-d %B %Y}", field)


def decide(review: AsbReview, *, decision: ThresholdDecision, decided_on: dt.date, reason: str | None,
           by: Any, today: dt.date) -> rule.Threshold:
    """Record the threshold decision; departing from the threshold by rule needs a reason."""
    if review.decision is not None:
        raise AsbReviewError("The threshold decision is already recorded", "decision")
    if decided_on > today:
        raise AsbReviewError("The date decided must be today or in the past", "decided_on")
    _not_before(decided_on, review.received_on, "The date decided", "decided_on")
    by_rule = threshold(review)
    departs = by_rule.met != (decision is ThresholdDecision.MET)
    if departs and not (reason or "").strip():
        raise AsbReviewError("Give the reason for departing from the threshold by rule", "reason")
    review.decision, review.decided_on, review.decided_by_id = decision, decided_on, by.id
    review.decision_reason = (reason or "").strip() or None
    review.threshold_by_rule = by_rule.met
    db.session.flush()
    audit.record("asb_review.decide", user=by, record=review, record_kind="asb_review",
                 details={"decision": decision.value, "by_rule": by_rule.met, "departs": departs})
    return by_rule


def add_panel_member(review: AsbReview, *, agency_id: uuid.UUID, user_id: uuid.UUID | None, by: Any) -> AsbReviewPanel:
    """Add a user (of their agency) or an agency to the panel; anyone who handled a complaint is refused."""
    if review.decision is not ThresholdDecision.MET:
        raise AsbReviewError("A panel is formed only when the threshold is met", "member")
    if user_id is not None:
        user = db.session.get(User, user_id)
        if user is None or not user.active:
            raise AsbReviewError("Select an active user", "member")
        why = handled_by(review).get(user.id)
        if why:
            raise AsbReviewError(f"{user.name} cannot sit on the panel: they {why}", "member")
        agency_id = user.agency_id
    elif db.session.get(Agency, agency_id) is None:
        raise AsbReviewError("Select an agency", "member")
    if any(m.user_id == user_id and m.agency_id == agency_id for m in review.panel):
        raise AsbReviewError("They are already on the panel", "member")
    member = AsbReviewPanel(review_id=review.id, user_id=user_id, agency_id=agency_id)
    review.panel.append(member)
    db.session.flush()
    audit.record("asb_review.panel_add", user=by, record=review, record_kind="asb_review",
                 details={"user_id": str(user_id) if user_id else None, "agency_id": str(agency_id)})
    return member


def hold_review(review: AsbReview, *, held_on: dt.date, by: Any, today: dt.date) -> None:
    if review.decision is not ThresholdDecision.MET:
        raise AsbReviewError("A review is held only when the threshold is met", "held_on")
    if held_on > today:
        raise AsbReviewError("The date held must be today or in the past", "held_on")
    _not_before(held_on, review.decided_on, "The date held", "held_on")
    review.review_held_on = held_on
    db.session.flush()
    audit.record("asb_review.review_held", user=by, record=review, record_kind="asb_review")


def recommend(review: AsbReview, *, text: str, owner_agency_id: uuid.UUID, due_on: dt.date, by: Any) -> AsbRecommendation:
    if review.review_held_on is None:
        raise AsbReviewError("Record the date the review was held before its recommendations", "text")
    if not (text or "").strip():
        raise AsbReviewError("Enter the recommendation", "text")
    if db.session.get(Agency, owner_agency_id) is None:
        raise AsbReviewError("Select the agency that owns the recommendation", "owner_agency")
    _not_before(due_on, review.review_held_on, "The due date", "due_on")
    recommendation = AsbRecommendation(review_id=review.id, text=text.strip(), owner_agency_id=owner_agency_id,
                                       due_on=due_on)
    review.recommendations.append(recommendation)
    db.session.flush()
    audit.record("asb_review.recommend", user=by, record=review, record_kind="asb_review")
    return recommendation


def may_update_recommendation(user: Any, recommendation: AsbRecommendation) -> bool:
    """The coordinator, or a user of the owner agency who records applications or oversees it."""
    if policy.can(user, policy.Permission.COORDINATE_ASB_REVIEWS):
        return True
    return recommendation.owner_agency_id == user.agency_id and (
        policy.can(user, policy.Permission.RECORD_ASB_REVIEWS) or policy.can(user, policy.Permission.OVERSEE_AGENCY))


def complete_recommendation(recommendation: AsbRecommendation, *, by: Any, today: dt.date) -> None:
    if recommendation.status is ActionStatus.DONE:
        raise AsbReviewError("The recommendation is already done", "status")
    recommendation.status, recommendation.done_on = ActionStatus.DONE, today
    db.session.flush()
    audit.record("asb_review.recommendation_done", user=by, record=recommendation.review, record_kind="asb_review")


def send_outcome(review: AsbReview, *, sent_on: dt.date, by: Any, today: dt.date) -> None:
    if review.decision is None:
        raise AsbReviewError("Record the threshold decision before the outcome", "sent_on")
    if review.decision is ThresholdDecision.MET and review.review_held_on is None:
        raise AsbReviewError("Record the review before the outcome", "sent_on")
    if sent_on > today:
        raise AsbReviewError("The date sent must be today or in the past", "sent_on")
    _not_before(sent_on, review.review_held_on or review.decided_on, "The date sent", "sent_on")
    review.outcome_sent_on = sent_on
    db.session.flush()
    audit.record("asb_review.outcome_sent", user=by, record=review, record_kind="asb_review")


def record_appeal(review: AsbReview, *, received_on: dt.date, decided_on: dt.date | None, upheld: bool | None,
                  by: Any, today: dt.date) -> None:
    if review.decision is None:
        raise AsbReviewError("An appeal is against a decision: record the decision first", "received_on")
    for day, field, what in ((received_on, "received_on", "The date the appeal was received"),
                             (decided_on, "decided_on", "The date the appeal was decided")):
        if day is not None and day > today:
            raise AsbReviewError(f"{what} must be today or in the past", field)
    _not_before(received_on, review.decided_on, "The date the appeal was received", "received_on")
    _not_before(decided_on, received_on, "The date the appeal was decided", "decided_on")
    if decided_on is not None and upheld is None:
        raise AsbReviewError("Select whether the appeal was upheld", "upheld")
    review.appeal_received_on, review.appeal_decided_on = received_on, decided_on
    review.appeal_upheld = upheld if decided_on is not None else None
    db.session.flush()
    audit.record("asb_review.appeal", user=by, record=review, record_kind="asb_review")


# --- the yearly publication -----------------------------------------------------------------------


def figures(*, year: str, as_of: dt.date) -> dict[str, object]:
    """The yearly publication (spec: Yearly publication), from every application."""
    start, end = rule.financial_year(year)
    recommendation_count = (select(func.count(AsbRecommendation.id))
                            .where(AsbRecommendation.review_id == AsbReview.id).scalar_subquery())
    rows = db.session.execute(select(
        AsbReview.received_on, AsbReview.decision, AsbReview.decided_on, AsbReview.review_held_on,
        AsbReview.imported_recommendations + recommendation_count, AsbReview.appeal_received_on,
        AsbReview.appeal_upheld).where(or_(AsbReview.received_on.between(start, end),
                                           AsbReview.appeal_received_on.between(start, end)))).all()
    apps = [rule.Application(received_on=r[0], decision=r[1].value if r[1] else None, decided_on=r[2],
                             review_held_on=r[3], recommendations=r[4] or 0, appeal_received_on=r[5],
                             appeal_upheld=bool(r[6])) for r in rows]
    return rule.figures(apps, year=year, as_of=as_of, settings=settings())
