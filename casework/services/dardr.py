"""Reviews after a death (DARDR, formerly DHR): the register, each review's steps, its
recommendations, the agencies' action lists and the board's search of the learning (docs/dardr.md).

A review is seen only by the users named on it (`RestrictedAccess` rows of kind "dardr", the
mechanism of restricted people and cases): whoever starts it is named in the same step; someone
named names others or removes them, never leaving nobody named who may start reviews. Outside the
review, only what carries no personal detail is shown: its reference, the agencies asked for
reports with their due dates, and its recommendations (their text, themes, owner, due date,
status and evidence), which are written for publication.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

from .. import policy
from ..db import db
from ..models import (
    Agency,
    DardrAgencyRequest,
    DardrFamilyContact,
    DardrRecommendation,
    DardrReview,
    LearningTheme,
    RecommendationStatus,
    RestrictedAccess,
    ReviewDecision,
    User,
    UserRole,
)
from . import audit

KIND = policy.DARDR_KIND


class DardrError(Exception):
    """A step could not be recorded; the message says why, naming the field (`field`)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAllowed(Exception):
    """The user may not do this (callers answer 404 or 403)."""


# --- dates (pure) ---------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has no such day (31 January
    plus one month is 28 or 29 February)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def decision_due(notified_on: dt.date) -> dt.date:
    """The last day for the partnership's decision whether to hold a review: one calendar month
    after the notification (statutory guidance: "within one month"), clamped to the month's end."""
    return add_months(notified_on, 1)


def decision_late(notified_on: dt.date, *, decided_on: dt.date | None, today: dt.date) -> bool:
    """Whether the decision was (or, still undecided, is now) later than `decision_due`."""
    return (decided_on or today) > decision_due(notified_on)


# --- the register --------------------------------------------------------------------------


def _text(value: str | None, label: str, field: str, *, required: bool = True, limit: int = 10_000) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise DardrError(f"Enter {label}", field)
        return None
    if len(text) > limit:
        raise DardrError(f"{label[0].upper()}{label[1:]} must be {limit:,} characters or fewer", field)
    return text


def _date(value: dt.date | None, label: str, field: str, *, today: dt.date, not_before: dt.date | None = None,
          not_before_label: str = "", future: bool = False) -> dt.date:
    if value is None:
        raise DardrError(f"Enter {label}", field)
    if not future and value > today:
        raise DardrError(f"{label[0].upper()}{label[1:]} must be today or in the past", field)
    if not_before is not None and value < not_before:
        raise DardrError(f"{label[0].upper()}{label[1:]} must be on or after {not_before_label}", field)
    return value


def may_start(user: Any) -> bool:
    return policy.can(user, policy.Permission.RUN_DARDR)


def _next_reference(year: int) -> str:
    prefix = f"DARDR-{year}-"
    taken = db.session.scalars(select(DardrReview.reference).where(DardrReview.reference.like(prefix + "%")))
    numbers = [int(r.removeprefix(prefix)) for r in taken if r.removeprefix(prefix).isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:02d}"


def create(*, notified_on: dt.date | None, subject: str | None, circumstances: str | None, by: Any,
           today: dt.date) -> DardrReview:
    """Record the notification of a death: a new review named only to `by`."""
    if not may_start(by):
        raise NotAllowed("Only a manager starts a review")
    notified = _date(notified_on, "the date the partnership was notified", "notified_on", today=today)
    name = _text(subject, "the name of the person who died", "subject", limit=200)
    about = _text(circumstances, "the circumstances", "circumstances", required=False)
    review = DardrReview(reference=_next_reference(notified.year), owner_agency_id=by.agency_id,
                         created_by_id=by.id, notified_on=notified, subject=name, circumstances=about)
    db.session.add(review)
    db.session.add(RestrictedAccess(record_kind=KIND, record_id=review.id, user_id=by.id))
    db.session.flush()
    audit.record("dardr.create", user=by, record_kind=KIND, record_id=review.id)
    return review


def get(review_id: uuid.UUID, *, viewer: Any) -> DardrReview | None:
    """The review, when `viewer` is named on it; otherwise None (callers answer 404)."""
    review = db.session.get(DardrReview, review_id)
    return review if policy.can_view_dardr(viewer, review) else None


@dataclass(frozen=True)
class ReviewRow:
    review: DardrReview
    stage: str
    decision_due: dt.date
    decision_late: bool


def stage(review: DardrReview) -> str:
    """Where the review is, in the words of the register."""
    if review.published_on:
        return "Published"
    if review.submitted_on:
        return "With the Home Office quality assurance panel"
    if review.decision is ReviewDecision.NOT_HOLD:
        return "Not held"
    if review.decision is ReviewDecision.HOLD:
        return "Under way"
    return "Waiting for the decision"


def register(viewer: Any, *, today: dt.date) -> list[ReviewRow]:
    """The reviews `viewer` is named on, newest notification first."""
    reviews = db.session.scalars(select(DardrReview).where(policy.dardr_filter(viewer, DardrReview))
                                 .order_by(DardrReview.notified_on.desc(), DardrReview.reference))
    return [ReviewRow(review=r, stage=stage(r), decision_due=decision_due(r.notified_on),
                      decision_late=r.decision is None and decision_late(r.notified_on, decided_on=None, today=today))
            for r in reviews]


def may_use_register(user: Any) -> bool:
    """Whether the register page is the user's: they may start reviews or are named on one."""
    return may_start(user) or bool(db.session.scalar(select(func.count()).select_from(DardrReview)
                                                     .where(policy.dardr_filter(user, DardrReview))))


def _changed(review: DardrReview, action: str, by: Any, fields: list[str]) -> None:
    db.session.flush()
    audit.record(action, user=by, record_kind=KIND, record_id=review.id, details={"fields": fields})


def _check(review: DardrReview, by: Any) -> None:
    if not policy.can_view_dardr(by, review):
        raise NotAllowed("Only someone named on the review records on it")


def decide(review: DardrReview, *, decision: str | None, decided_on: dt.date | None, reason: str | None, by: Any,
           today: dt.date) -> None:
    """Record the partnership's decision whether to hold a review (due: `decision_due`)."""
    _check(review, by)
    try:
        chosen = ReviewDecision(decision or "")
    except ValueError:
        raise DardrError("Select whether the partnership will hold a review", "decision") from None
    day = _date(decided_on, "the date of the decision", "decided_on", today=today, not_before=review.notified_on,
                not_before_label="the date of notification")
    why = _text(reason, "the reason for the decision", "reason", required=chosen is ReviewDecision.NOT_HOLD)
    review.decision, review.decided_on, review.decision_reason = chosen, day, why
    _changed(review, "dardr.decide", by, ["decision", "decided_on", "decision_reason"])


def set_panel(review: DardrReview, *, chair: str | None, panel: str | None, by: Any) -> None:
    """Record the independent chair and the panel."""
    _check(review, by)
    name = _text(chair, "the independent chair's name", "chair", limit=200)
    review.chair, review.panel = name, _text(panel, "the panel's members", "panel", required=False)
    _changed(review, "dardr.panel", by, ["chair", "panel"])


def milestones(review: DardrReview, *, submitted_on: dt.date | None, qa_outcome: str | None,
               published_on: dt.date | None, by: Any, today: dt.date) -> None:
    """Record the submission to the Home Office quality assurance panel and the publication."""
    _check(review, by)
    if review.decision is not ReviewDecision.HOLD:
        raise DardrError("Record the decision to hold a review first", "submitted_on")
    if submitted_on is not None:
        _date(submitted_on, "the date of submission", "submitted_on", today=today,
              not_before=review.decided_on, not_before_label="the date of the decision")
    if published_on is not None:
        if submitted_on is None:
            raise DardrError("Enter the date of submission to the Home Office before the publication", "submitted_on")
        _date(published_on, "the date of publication", "published_on", today=today, not_before=submitted_on,
              not_before_label="the date of submission")
    outcome = _text(qa_outcome, "the quality assurance panel's outcome", "qa_outcome", required=False)
    review.submitted_on, review.published_on, review.qa_outcome = submitted_on, published_on, outcome
    _changed(review, "dardr.milestones", by, ["submitted_on", "qa_outcome", "published_on"])


def request_report(review: DardrReview, *, agency: Agency | None, requested_on: dt.date | None,
                   due_on: dt.date | None, by: Any, today: dt.date) -> DardrAgencyRequest:
    """Ask an agency for its report by a date (its managers see the chaser on their home page)."""
    _check(review, by)
    if agency is None or not agency.active:
        raise DardrError("Select the agency asked for its report", "agency")
    if any(r.agency_id == agency.id for r in review.requests):
        raise DardrError(f"{agency.name} has already been asked for its report", "agency")
    asked = _date(requested_on, "the date of the request", "requested_on", today=today,
                  not_before=review.notified_on, not_before_label="the date of notification")
    due = _date(due_on, "the date the report is due", "due_on", today=today, future=True,
                not_before=asked + dt.timedelta(days=1), not_before_label="the day after the request")
    request = DardrAgencyRequest(review_id=review.id, agency_id=agency.id, requested_on=asked, due_on=due)
    db.session.add(request)
    review.requests.append(request)
    _changed(review, "dardr.request_report", by, ["agency", "requested_on", "due_on"])
    return request


def report_received(request: DardrAgencyRequest, *, received_on: dt.date | None, by: Any, today: dt.date) -> None:
    review = request.review
    _check(review, by)
    request.received_on = _date(received_on, "the date the report was received", "received_on", today=today,
                                not_before=request.requested_on, not_before_label="the date of the request")
    _changed(review, "dardr.report_received", by, ["received_on"])


def add_contact(review: DardrReview, *, contacted_on: dt.date | None, summary: str | None, by: Any,
                today: dt.date) -> DardrFamilyContact:
    """Log a contact with the family."""
    _check(review, by)
    day = _date(contacted_on, "the date of the contact", "contacted_on", today=today)
    contact = DardrFamilyContact(review_id=review.id, contacted_on=day, by_id=by.id,
                                 summary=_text(summary, "what was said", "summary"))
    db.session.add(contact)
    review.contacts.append(contact)
    _changed(review, "dardr.family_contact", by, ["contacted_on", "summary"])
    return contact


# --- who is named ----------------------------------------------------------------------------


def named_users(review: DardrReview) -> list[User]:
    ids = select(RestrictedAccess.user_id).where(RestrictedAccess.record_kind == KIND,
                                                 RestrictedAccess.record_id == review.id)
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(func.lower(User.name))))


def candidates(review: DardrReview) -> list[User]:
    """Active users of any agency, in a role that sees case data or starts reviews, not yet named."""
    named = {u.id for u in named_users(review)}
    users = db.session.scalars(select(User).where(
        User.active.is_(True),
        User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(policy.dardr_roles()))))
        .order_by(func.lower(User.name)))
    return [u for u in users if u.id not in named]


def name(review: DardrReview, *, user: User | None, by: Any) -> None:
    _check(review, by)
    if user is None or user.id not in {u.id for u in candidates(review)}:
        raise DardrError("Select a user from the list", "user")
    db.session.add(RestrictedAccess(record_kind=KIND, record_id=review.id, user_id=user.id))
    db.session.flush()
    audit.record("dardr.name", user=by, record_kind=KIND, record_id=review.id, details={"user_id": str(user.id)})


def remove(review: DardrReview, *, user: User | None, by: Any) -> None:
    """Remove `user` from the review; refused when nobody left named could start reviews (a manager)."""
    _check(review, by)
    named = named_users(review)
    if user is None or user.id not in {u.id for u in named}:
        raise DardrError("Select a user named on this review", "user")
    if not any(u.id != user.id and u.active and may_start(u) for u in named):
        raise DardrError(f"{user.name} is the last manager named on this review: name another first", "user")
    db.session.execute(delete(RestrictedAccess).where(RestrictedAccess.record_kind == KIND,
                                                      RestrictedAccess.record_id == review.id,
                                                      RestrictedAccess.user_id == user.id))
    db.session.flush()
    audit.record("dardr.remove", user=by, record_kind=KIND, record_id=review.id, details={"user_id": str(user.id)})


# --- recommendations ---------------------------------------------------------------------------


def _themes(values: list[str] | None) -> str:
    try:
        chosen = [LearningTheme(v) for v in values or []]
    except ValueError:
        raise DardrError("Select learning themes from the list", "themes") from None
    if not chosen:
        raise DardrError("Select at least one learning theme", "themes")
    return ",".join(t.value for t in LearningTheme if t in chosen)


def add_recommendation(review: DardrReview, *, text: str | None, themes: list[str] | None, agency: Agency | None,
                       due_on: dt.date | None, by: Any, today: dt.date) -> DardrRecommendation:
    """Add a recommendation, numbered after the review's last; it goes on `agency`'s action list."""
    _check(review, by)
    words = _text(text, "the recommendation", "text", limit=2000)
    chosen = _themes(themes)
    if agency is None or not agency.active:
        raise DardrError("Select the agency that owns the recommendation", "agency")
    due = _date(due_on, "the date it is due", "due_on", today=today, future=True,
                not_before=review.notified_on, not_before_label="the date of notification")
    number = max((r.number for r in review.recommendations), default=0) + 1
    recommendation = DardrRecommendation(review_id=review.id, number=number, text=words, themes=chosen,
                                         owner_agency_id=agency.id, due_on=due, updated_by_id=by.id)
    db.session.add(recommendation)
    review.recommendations.append(recommendation)
    db.session.flush()
    audit.record("dardr.recommendation_add", user=by, record_kind="dardr_recommendation",
                 record_id=recommendation.id, details={"review_id": str(review.id)})
    return recommendation


def recommendation_for(recommendation_id: uuid.UUID, *, viewer: Any) -> tuple[DardrRecommendation, bool] | None:
    """The recommendation and whether `viewer` is named on its review, when they may update it
    (`policy.can_update_recommendation`); otherwise None (404)."""
    recommendation = db.session.get(DardrRecommendation, recommendation_id)
    if recommendation is None:
        return None
    named = policy.can_view_dardr(viewer, recommendation.review)
    return (recommendation, named) if policy.can_update_recommendation(viewer, recommendation, named=named) else None


def update_recommendation(recommendation: DardrRecommendation, *, status: str | None, evidence: str | None,
                          completed_on: dt.date | None, by: Any, today: dt.date) -> None:
    """Record progress: a status and the evidence of what was done (required to complete it)."""
    named = policy.can_view_dardr(by, recommendation.review)
    if not policy.can_update_recommendation(by, recommendation, named=named):
        raise NotAllowed("Only the owning agency's managers or the review's panel record progress")
    try:
        chosen = RecommendationStatus(status or "")
    except ValueError:
        raise DardrError("Select the recommendation's status", "status") from None
    proof = _text(evidence, "the evidence of what was done", "evidence",
                  required=chosen is RecommendationStatus.COMPLETE)
    done = None
    if chosen is RecommendationStatus.COMPLETE:
        done = _date(completed_on, "the date it was completed", "completed_on", today=today)
    recommendation.status, recommendation.evidence, recommendation.completed_on = chosen, proof, done
    recommendation.updated_by_id = by.id
    db.session.flush()
    audit.record("dardr.recommendation_update", user=by, record_kind="dardr_recommendation",
                 record_id=recommendation.id, details={"status": chosen.value})


@dataclass(frozen=True)
class RecommendationRow:
    """What the board and the action lists are shown of a recommendation: no personal detail of
    its review (only the review's reference)."""

    id: uuid.UUID
    review_reference: str
    number: int
    text: str
    themes: list[LearningTheme]
    agency: str
    due_on: dt.date
    status: RecommendationStatus
    evidence: str | None
    completed_on: dt.date | None
    overdue: bool


def _rows(recommendations: Any, *, as_of: dt.date) -> list[RecommendationRow]:
    agencies = dict(db.session.execute(select(Agency.id, Agency.name)).all())
    refs = dict(db.session.execute(select(DardrReview.id, DardrReview.reference)).all())
    return [RecommendationRow(
        id=r.id, review_reference=refs.get(r.review_id, ""), number=r.number, text=r.text or "",
        themes=r.theme_list, agency=agencies.get(r.owner_agency_id, ""), due_on=r.due_on, status=r.status,
        evidence=r.evidence, completed_on=r.completed_on,
        overdue=r.status is not RecommendationStatus.COMPLETE and r.due_on < as_of) for r in recommendations]


def search(viewer: Any, *, words: str = "", theme: str = "", status: str = "", agency_id: uuid.UUID | None = None,
           as_of: dt.date) -> list[RecommendationRow]:
    """Every review's recommendations matching the filters, for the board: by words (in the text or
    the evidence, any case), learning theme, status and owning agency; earliest due first."""
    if not policy.can(viewer, policy.Permission.VIEW_DARDR_LEARNING):
        raise NotAllowed("Only the board's members search the learning")
    query = select(DardrRecommendation).order_by(DardrRecommendation.due_on, DardrRecommendation.id)
    if status in {s.value for s in RecommendationStatus}:
        query = query.where(DardrRecommendation.status == RecommendationStatus(status))
    if agency_id is not None:
        query = query.where(DardrRecommendation.owner_agency_id == agency_id)
    rows = _rows(db.session.scalars(query), as_of=as_of)
    if theme in {t.value for t in LearningTheme}:
        rows = [r for r in rows if LearningTheme(theme) in r.themes]
    needle = " ".join(words.split()).casefold()
    if needle:  # the text is sealed: matched here, after reading
        rows = [r for r in rows if needle in r.text.casefold() or needle in (r.evidence or "").casefold()]
    return rows


def overdue_recommendations(as_of: dt.date) -> list[RecommendationRow]:
    """Recommendations not complete whose due date is before `as_of`, most overdue first: for the
    board pack (no viewer: the pack shows no personal detail, only what the learning search shows)."""
    return _rows(db.session.scalars(
        select(DardrRecommendation).where(DardrRecommendation.status != RecommendationStatus.COMPLETE,
                                          DardrRecommendation.due_on < as_of)
        .order_by(DardrRecommendation.due_on, DardrRecommendation.id)), as_of=as_of)


@dataclass(frozen=True)
class ReportChaser:
    review_reference: str
    due_on: dt.date
    overdue: bool
    contact: str  # who started the review: whom to send the report to


@dataclass(frozen=True)
class AgencyActions:
    recommendations: list[RecommendationRow]
    reports: list[ReportChaser]


def agency_actions(user: Any, *, today: dt.date) -> AgencyActions:
    """For a manager's home page: their agency's recommendations not yet complete and the reports
    asked of it not yet received (earliest due first)."""
    if not policy.can(user, policy.Permission.OVERSEE_AGENCY):
        return AgencyActions([], [])
    recommendations = _rows(db.session.scalars(
        select(DardrRecommendation).where(DardrRecommendation.owner_agency_id == user.agency_id,
                                          DardrRecommendation.status != RecommendationStatus.COMPLETE)
        .order_by(DardrRecommendation.due_on, DardrRecommendation.id)), as_of=today)
    rows = db.session.execute(
        select(DardrAgencyRequest.due_on, DardrReview.reference, User.name)
        .join(DardrReview, DardrReview.id == DardrAgencyRequest.review_id)
        .outerjoin(User, User.id == DardrReview.created_by_id)
        .where(DardrAgencyRequest.agency_id == user.agency_id, DardrAgencyRequest.received_on.is_(None))
        .order_by(DardrAgencyRequest.due_on)).all()
    reports = [ReportChaser(review_reference=ref, due_on=due, overdue=due < today, contact=who or "the review's chair")
               for due, ref, who in rows]
    return AgencyActions(recommendations, reports)


def row_of(recommendation: DardrRecommendation, *, as_of: dt.date) -> RecommendationRow:
    return _rows([recommendation], as_of=as_of)[0]
