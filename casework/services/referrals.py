"""Referrals to HRDA, an IDVA service, MAPPA and a perpetrator programme.

Every referral goes along a route of its type (`referral_routes`) to a receiving agency where an
active user can decide it, and records consent (given, refused or not sought, and
without consent the lawful basis for sharing). It is submitted, then accepted or declined (with a
reason the referrer sees) by the receiving side: an HRDA chair of the receiving agency for HRDA, a
caseworker of it for the others (`policy.can_decide_referral`), then closed. Accepting shares the
person and the case with the receiving agency. Imported referrals are history: never decided,
never in a queue. A second open referral of the same kind for the same person is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select

from .. import policy
from ..db import db
from ..models import (
    Agency,
    Case,
    Consent,
    HrdaCriteria,
    MessageKind,
    Person,
    ProgrammeOutcome,
    Referral,
    ReferralRoute,
    ReferralStatus,
    ReferralType,
    RiskAssessment,
    User,
)
from ..models.base import utcnow
from ..risk.dash import Criterion
from . import assessments, audit, outbox, referral_routes, sharing, versioning

OPEN = (ReferralStatus.SUBMITTED, ReferralStatus.ACCEPTED)
TEXT_MAX = 2000


class ReferralError(Exception):
    """A referral or decision that cannot be made; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AlreadyReferred(ReferralError):
    """A second open referral of a kind: the message says of the first only what the user may be told
    (`policy.open_referral_view`)."""

    def __init__(self, person: Person, shown: Referral | policy.ReferralElsewhere | None) -> None:
        if isinstance(shown, Referral):
            message = (f"{person.display_name} already has an open {shown.type.label} referral "
                       f"(made {shown.referred_on:%-d %B %Y}); it must be declined or closed first")
        elif isinstance(shown, policy.ReferralElsewhere):
            message = (f"{person.display_name} already has an open {shown.kind.label} referral, made by "
                       f"{shown.holder}; contact {shown.holder}: a second one is refused until it is declined "
                       "or closed")
        else:
            message = "This referral cannot be made"
        super().__init__(message, "type")
        self.shown = shown


class NotAVictim(ReferralError):
    """An HRDA referral of someone who is not a victim: refused whatever is posted."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "type")


NOT_A_VICTIM = ("{name} is not recorded as a victim in an incident or a case: an HRDA referral is only "
                "made for a victim")


class NotAllowed(Exception):
    """The user may see the referral but not do this to it."""


def open_referral(person_id: Any, kind: ReferralType) -> Referral | None:
    """The person's open referral of this kind, if any (imported history is never open)."""
    return db.session.scalar(select(Referral).where(
        Referral.person_id == person_id, Referral.type == kind, Referral.imported.is_(False),
        Referral.status.in_(OPEN)).order_by(Referral.referred_on.desc()).limit(1))


def open_referral_seen_by(person: Person, kind: ReferralType, *, viewer: Any
                          ) -> Referral | policy.ReferralElsewhere | None:
    """The person's open referral of this kind as `viewer` may be told of it: the referral, or only
    that one exists and which agency made it, or nothing (`policy.open_referral_view`). Every page
    that mentions an open referral asks this, never `open_referral`."""
    existing = open_referral(person.id, kind)
    if existing is None:
        return None
    holder = db.session.get(Agency, existing.owner_agency_id)
    return policy.open_referral_view(viewer, existing, person=person,
                                     holder=holder.name if holder is not None else "another agency")


def _text(value: str | None, *, what: str, field: str, required: bool = False) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise ReferralError(f"Enter {what}", field)
    if len(value) > TEXT_MAX:
        raise ReferralError(f"{what[0].upper()}{what[1:]} must be {TEXT_MAX} characters or fewer", field)
    return value or None


def criteria_of(referral: Referral) -> list[Criterion]:
    """The HRDA criteria that held when the referral was made, in the spec's order."""
    if referral.criteria_held:
        return [Criterion(v) for v in referral.criteria_held.split(",") if v]
    return [Criterion(referral.criteria.value)] if referral.criteria else []


def _hrda_criteria(person: Person, *, chosen: Iterable[str], dash_score: int | None,
                   assessment: RiskAssessment | None, reason: str | None, today: dt.date) -> list[Criterion]:
    """The criteria the referrer gives, each checked against the facts; "repeat" is added whenever it
    holds, since a repeat referral goes back to HRDA whatever else is said."""
    try:
        picked = {Criterion(c) for c in chosen}
    except ValueError:
        raise ReferralError("Select the criteria from the list", "criteria") from None
    proposal = assessments.hrda_proposal(person, assessment=assessment, today=today)
    held = set(proposal.criteria)
    high_from = assessments.bands().high_from
    if Criterion.VISIBLE_HIGH_RISK in picked and (dash_score is None or dash_score < high_from):
        raise ReferralError(f"Visible high risk needs a DASH score of {high_from} or more", "dash_score")
    if Criterion.PROFESSIONAL_JUDGEMENT in picked and not (reason or (assessment and assessment.judged_high)):
        raise ReferralError("Explain the professional judgement in the reason for the referral", "reason")
    for criterion in (Criterion.ESCALATION, Criterion.REPEAT):
        if criterion in picked and criterion not in held:
            raise ReferralError(f"{criterion.label} does not hold for this person today", "criteria")
    if Criterion.REPEAT in held:
        picked.add(Criterion.REPEAT)
    if not picked:
        raise ReferralError("Select at least one HRDA referral criterion", "criteria")
    return [c for c in Criterion if c in picked]


def _destination(kind: ReferralType, chosen: Agency | None) -> Agency:
    """The receiving agency along a route of `kind` (`referral_routes`): the one chosen, or the only
    service when there is one; refused when nobody there could decide on the referral."""
    services = referral_routes.services(kind)
    if not services:
        raise ReferralError(f"No service can receive {kind.label} referrals now: ask an administrator to set "
                            "the referral route", "receiving_agency")
    if chosen is None and len(services) == 1:
        only: Agency = services[0].agency
        return only
    if chosen is None:
        raise ReferralError(f"Select the service receiving the {kind.label} referral", "receiving_agency")
    route = referral_routes.route_to(kind, chosen.id)
    if route is None:
        raise ReferralError(f"{chosen.name} does not receive {kind.label} referrals: select one of the services "
                            "listed", "receiving_agency")
    if not chosen.active:
        raise ReferralError(f"{chosen.name} is no longer an active agency: choose another", "receiving_agency")
    if not referral_routes.usable(route):
        raise ReferralError(f"Nobody at {chosen.name} can decide {kind.label} referrals now: select another "
                            "service, or ask an administrator", "receiving_agency")
    return chosen


def refer(person: Person, *, kind: ReferralType, receiving_agency: Agency | None, consent: Consent | None,
          lawful_basis: str | None, reason: str | None, by: Any, today: dt.date, case: Case | None = None,
          assessment: RiskAssessment | None = None, criteria: Iterable[str] = (), dash_score: int | None = None,
          children_in_household: bool | None = None, mappa_category: int | None = None,
          mappa_level: int | None = None) -> Referral:
    """Refer a person; a second open referral of the same kind is refused."""
    if not policy.can(by, policy.Permission.REFER) or not policy.can_view(by, person):
        raise NotAllowed("You cannot refer this person")
    if open_referral(person.id, kind) is not None:
        raise AlreadyReferred(person, open_referral_seen_by(person, kind, viewer=by))
    if kind is ReferralType.HRDA and not assessments.is_victim(person.id):
        raise NotAVictim(NOT_A_VICTIM.format(name=person.display_name))
    receiving_agency = _destination(kind, receiving_agency)
    if consent is None:
        raise ReferralError("Select whether the person gave consent", "consent")
    basis = _text(lawful_basis, what="the lawful basis for sharing without consent", field="lawful_basis",
                  required=consent is not Consent.GIVEN)
    if consent is Consent.GIVEN and basis:
        raise ReferralError("Give a lawful basis only when consent was refused or not sought", "lawful_basis")
    reason = _text(reason, what="the reason for the referral", field="reason")
    if case is not None and not policy.can_view(by, case):
        raise ReferralError("Select a case you can see", "case")
    if assessment is not None and (assessment.person_id != person.id or not assessment.complete
                                   or not policy.can_view_assessment(by, assessment)):
        raise ReferralError("Select a completed DASH checklist of this person", "assessment")
    referral = Referral(person_id=person.id, type=kind, referred_on=today, status=ReferralStatus.SUBMITTED,
                        owner_agency_id=by.agency_id, receiving_agency_id=receiving_agency.id,
                        referred_by_id=by.id, case_id=case.id if case else None,
                        assessment_id=assessment.id if assessment else None, consent=consent)
    referral.lawful_basis = basis
    referral.reason = reason
    if kind is ReferralType.HRDA:
        if assessment is not None:
            dash_score = assessment.score
        if dash_score is not None and not 0 <= dash_score <= 24:
            raise ReferralError("The DASH score must be a whole number from 0 to 24", "dash_score")
        if children_in_household is None:
            raise ReferralError("Select whether there are children in the household", "children_in_household")
        held = _hrda_criteria(person, chosen=criteria, dash_score=dash_score, assessment=assessment,
                              reason=reason, today=today)
        referral.criteria_held = ",".join(c.value for c in held)
        # The exchange format knows three criteria; a repeat-only referral leaves its column empty.
        referral.criteria = next((HrdaCriteria(c.value) for c in held if c is not Criterion.REPEAT), None)
        referral.dash_score = dash_score
        referral.children_in_household = children_in_household
    elif kind is ReferralType.MAPPA:
        if mappa_category not in (1, 2, 3):
            raise ReferralError("Select the MAPPA category (1, 2 or 3)", "mappa_category")
        if mappa_level not in (1, 2, 3):
            raise ReferralError("Select the MAPPA level (1, 2 or 3)", "mappa_level")
        referral.mappa_category, referral.mappa_level = mappa_category, mappa_level
    db.session.add(referral)
    db.session.flush()
    versioning.record_edit(referral, action="referral.create", fields=audit.changed_fields(referral) or ["type"],
                        user=by)
    tell_receivers(referral)
    return referral


def tell_receivers(referral: Referral) -> int:
    """Email the users who can decide `referral` (its route's deciders) that it waits for them."""
    route = referral_routes.route_to(referral.type, referral.receiving_agency_id)
    if route is None:
        return 0
    endpoint, values = outbox.referral_page(referral)
    return outbox.queue_many(MessageKind.REFERRAL_RECEIVED, to=referral_routes.deciders(route),
                             endpoint=endpoint, values=values)


def decide(referral: Referral, *, accept: bool, reason: str | None, version: int | None, by: Any,
           meeting: Any = None) -> Referral:
    """Accept (sharing the person and the case with the receiving agency) or decline with a reason.
    Accepting an HRDA referral with a `meeting` lists it on that meeting's agenda (which shares it
    with the invited agencies); without one it waits in the chair's queue to be placed."""
    if meeting is not None and (referral.type is not ReferralType.HRDA or not accept):
        raise ReferralError("Only an accepted HRDA referral goes to a meeting", "meeting")
    if meeting is not None and not meeting_open_to(by, meeting):
        raise ReferralError("Select a planned or current meeting you chair", "meeting")
    if not policy.can_decide_referral(by, referral):
        raise NotAllowed("Only the receiving agency decides this referral")
    versioning.check_version(referral, version, action_prefix="referral")
    if referral.status is not ReferralStatus.SUBMITTED:
        raise ReferralError(f"This referral has already been {referral.status.label.lower()}", "decision")
    referral.decision_reason = _text(reason, what="the reason for declining", field="reason", required=not accept)
    referral.status = ReferralStatus.ACCEPTED if accept else ReferralStatus.DECLINED
    referral.decided_by_id = by.id
    referral.decided_at = utcnow()
    fields = audit.changed_fields(referral)
    versioning.flush_or_stale(referral, version or 0, action_prefix="referral")
    versioning.record_edit(referral, action=f"referral.{'accept' if accept else 'decline'}", fields=fields, user=by)
    referrer = db.session.get(User, referral.referred_by_id) if referral.referred_by_id else None
    if referrer is not None and referrer.id != by.id:
        outbox.queue(MessageKind.REFERRAL_DECIDED, to=referrer, endpoint="referrals.show",
                     values={"referral_id": referral.id})
    if accept:
        agency = db.session.get_one(Agency, referral.receiving_agency_id)
        sharing.share(record=referral.person, agency=agency, via="referral", by=by)
        if referral.case_id is not None:
            sharing.share(record=db.session.get(Case, referral.case_id), agency=agency, via="referral", by=by)
        if meeting is not None:
            from . import meetings

            meetings.list_case(meeting, referral, by=by)
    return referral


def meeting_open_to(user: Any, meeting: Any) -> bool:
    """A meeting an HRDA referral may be accepted onto: one the user chairs, not closed."""
    return policy.chairs_meeting(user, meeting) and meeting.state.value != "closed"


def may_follow_up(user: Any, referral: Referral) -> bool:
    """The receiving side or the referring agency may record progress and close a referral."""
    if referral.imported:
        return False
    if policy.can_decide_referral(user, referral):
        return True
    return (referral.owner_agency_id == user.agency_id and policy.can(user, policy.Permission.REFER)
            and policy.can_view(user, referral))


def record_programme(referral: Referral, *, version: int | None, started_on: dt.date | None,
                     ended_on: dt.date | None, outcome: ProgrammeOutcome | None, by: Any) -> Referral:
    """A perpetrator programme's start, end and outcome (completed, left early, removed)."""
    if not may_follow_up(by, referral):
        raise NotAllowed("You cannot update this referral")
    versioning.check_version(referral, version, action_prefix="referral")
    if referral.type is not ReferralType.PERPETRATOR_PROGRAMME or referral.status is not ReferralStatus.ACCEPTED:
        raise ReferralError("Only an accepted perpetrator programme referral has a programme to record", "started_on")
    if ended_on is not None and started_on is None:
        raise ReferralError("Enter the date the programme started", "started_on")
    if ended_on is not None and started_on is not None and ended_on < started_on:
        raise ReferralError("The end date must be on or after the start date", "ended_on")
    if (ended_on is None) != (outcome is None):
        raise ReferralError("Give both the end date and the outcome, or neither",
                            "outcome" if outcome is None else "ended_on")
    referral.started_on, referral.ended_on, referral.outcome = started_on, ended_on, outcome
    fields = audit.changed_fields(referral)
    versioning.flush_or_stale(referral, version or 0, action_prefix="referral")
    versioning.record_edit(referral, action="referral.programme", fields=fields, user=by)
    return referral


def close(referral: Referral, *, version: int | None, by: Any) -> Referral:
    """Close an accepted or declined referral."""
    if not may_follow_up(by, referral):
        raise NotAllowed("You cannot close this referral")
    versioning.check_version(referral, version, action_prefix="referral")
    if referral.status not in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED):
        raise ReferralError("Only an accepted or declined referral can be closed", "status")
    referral.status = ReferralStatus.CLOSED
    referral.closed_at = utcnow()
    versioning.flush_or_stale(referral, version or 0, action_prefix="referral")
    versioning.record_edit(referral, action="referral.close", fields=["status", "closed_at"], user=by)
    return referral


# --- reading ---------------------------------------------------------------------------------


def visible_referrals(viewer: Any) -> Select[Any]:
    return select(Referral).where(policy.visible_filter(viewer, Referral))


def of_person(person: Person, *, viewer: Any) -> list[Referral]:
    """The person's referrals the viewer may see, newest first."""
    return list(db.session.scalars(
        select(Referral).where(Referral.person_id == person.id, policy.visible_filter(viewer, Referral))
        .order_by(Referral.referred_on.desc(), Referral.created_at.desc())))


def of_case(case: Case, *, viewer: Any) -> list[Referral]:
    """The referrals made within a case that the viewer may see, newest first."""
    return list(db.session.scalars(
        select(Referral).where(Referral.case_id == case.id, policy.visible_filter(viewer, Referral))
        .order_by(Referral.referred_on.desc(), Referral.created_at.desc())))


def awaiting_decision(user: Any) -> list[Referral]:
    """Submitted referrals to the user's agency that the user may decide, oldest first: those of the
    types routed to the agency with a role the user holds (`referral_routes`), never imported history."""
    kinds = [r.type for r in db.session.scalars(select(ReferralRoute).where(
        ReferralRoute.agency_id == user.agency_id, ReferralRoute.role.in_(list(user.roles))))
        if policy.can(user, referral_routes.needed_permission(r.type))]
    if not kinds:
        return []
    return list(db.session.scalars(
        select(Referral).where(Referral.receiving_agency_id == user.agency_id, Referral.imported.is_(False),
                               Referral.status == ReferralStatus.SUBMITTED, Referral.type.in_(kinds))
        .order_by(Referral.referred_on, Referral.created_at)))


def awaiting_from(user: Any) -> list[Referral]:
    """The user's own referrals still waiting for a decision, oldest first (the home page marks the
    overdue ones)."""
    return list(db.session.scalars(
        select(Referral).where(Referral.referred_by_id == user.id, Referral.imported.is_(False),
                               Referral.status == ReferralStatus.SUBMITTED)
        .order_by(Referral.referred_on, Referral.created_at)))


def recent_decisions(user: Any, *, since: dt.datetime) -> list[Referral]:
    """Decisions on the user's own referrals made since `since`, newest first."""
    return list(db.session.scalars(
        select(Referral).where(Referral.referred_by_id == user.id, Referral.decided_at.is_not(None),
                               Referral.decided_at >= since,
                               or_(Referral.status == ReferralStatus.ACCEPTED,
                                   Referral.status == ReferralStatus.DECLINED,
                                   Referral.status == ReferralStatus.CLOSED))
        .order_by(Referral.decided_at.desc())))


# --- what became of a referral, for its sender --------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the viewer may be told of what became of a referral: the HRDA meeting it goes to (its
    date; `meeting` itself only for those taking part), and the actions agreed there that the viewer
    may see (all of them for those taking part; otherwise those given to the viewer's agency when it
    made the referral)."""

    meeting_starts_at: dt.datetime | None
    meeting: Any
    actions: list[Any]


def outcome_of(referral: Referral, *, viewer: Any) -> Outcome:
    from ..models.meeting import MeetingAction, MeetingCase
    from . import meetings

    item = db.session.scalar(select(MeetingCase).where(MeetingCase.referral_id == referral.id))
    if item is None or not policy.can_view(viewer, referral):
        return Outcome(None, None, [])
    meeting = meetings.meeting_of(item)
    taking_part = policy.takes_part_in_meeting(viewer, meeting)
    query = select(MeetingAction).where(MeetingAction.meeting_case_id == item.id)
    if not taking_part:
        if referral.owner_agency_id != getattr(viewer, "agency_id", None):
            return Outcome(meetings.local_time(meeting), None, [])
        query = query.where(MeetingAction.agency_id == viewer.agency_id)
    actions = list(db.session.scalars(query.order_by(MeetingAction.due_on, MeetingAction.id)))
    return Outcome(meetings.local_time(meeting), meeting if taking_part else None, actions)


def summaries(found: list[Referral], *, today: dt.date) -> dict[Any, str]:
    """A line on what became of each referral, for the lists on the person and case pages: overdue for
    a decision, declined and why, the HRDA meeting it was heard at, the programme's progress. The
    referrals are ones the viewer may see, and each line says only what their referral page shows
    every viewer of it. One query for the meetings, whatever the number."""
    from ..models.meeting import Meeting, MeetingCase
    from . import meetings

    ids = [r.id for r in found]
    heard: dict[Any, Meeting] = {}
    if ids:
        rows = db.session.execute(select(MeetingCase.referral_id, Meeting).join(
            Meeting, Meeting.id == MeetingCase.meeting_id).where(MeetingCase.referral_id.in_(ids)))
        heard = {referral_id: meeting for referral_id, meeting in rows}
    lines: dict[Any, str] = {}
    for r in found:
        parts = []
        if referral_routes.is_overdue(r, today=today):
            parts.append("overdue for a decision")
        if r.status is ReferralStatus.DECLINED and r.decision_reason:
            parts.append(f"declined: {r.decision_reason}")
        if r.id in heard:
            parts.append(f"heard at the HRDA meeting of {meetings.local_time(heard[r.id]):%-d %B %Y}")
        if r.started_on:
            parts.append(f"programme started {r.started_on:%-d %B %Y}")
        if r.ended_on:
            parts.append(f"ended {r.ended_on:%-d %B %Y}" + (f": {r.outcome.label.lower()}" if r.outcome else ""))
        if parts:
            text = "; ".join(parts)
            lines[r.id] = text[0].upper() + text[1:]
    return lines
