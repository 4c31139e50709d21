"""The demo's live referrals: what the demo caseworker, HRDA chair and IDVA find waiting when they
first sign in. The referrals in the partners' extracts are imported history, closed and heard, so
without these every queue would be empty and the referral journey could not be walked from the demo.

They are made by the referral service, as the caseworker makes them through the pages, for victims
on the caseworker's open domestic abuse cases, after the meetings that heard the imported referrals
(`casework.demo.board`, which never lists these). They are the caseworker's, dated by working days
before the demo's last working day:

- HRDA referrals made on it, 1 and 4 working days before: the last is overdue (2 working days);
- IDVA referrals made 2 and 7 working days before: the last is overdue (5 working days);
- an HRDA referral made 6 working days before that the chair accepted onto the next meeting: the
  demo's fortnightly Thursday meeting after its last day, planned, with the partner agencies invited,
  so the chair can run it (and on the caseworker's home page among the decisions on their referrals).

Fewer where the caseworker has fewer victims (a small demo); none where the demo caseworker or chair
is gone or inactive, or a referral is refused (another route set up, say). Loading the demo again
makes none: the caseworker has made referrals already.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from ..db import db
from ..models import (
    Agency,
    Case,
    CaseKind,
    CasePerson,
    CaseStatus,
    Consent,
    Meeting,
    PartyRole,
    Person,
    RecordKind,
    Referral,
    ReferralType,
    SourceRef,
)
from ..risk.working_days import working_days_before
from ..services import meetings, referrals, users
from ..words import LONDON
from .partners import PARTNERS

CASEWORKER = "caseworker@demo.casework.test"
CHAIR = "chair@demo.casework.test"
HRDA_WAITING = (0, 1, 4)  # working days before the demo's last working day
IDVA_WAITING = (2, 7)
HRDA_ACCEPTED = 6
CANDIDATES = 50  # victims looked at, the earliest cases first
REASON = {
    ReferralType.HRDA: "Controlling behaviour is escalating and she fears for the children: in my professional "
                       "judgement the risk is high.",
    ReferralType.IDVA: "Asks for support through the court process and with safety planning at home.",
}


def add_live_referrals(*, today: dt.date) -> int:
    """Make the caseworker's live referrals (see above); returns how many were made."""
    worker, chair = users.by_email(CASEWORKER), users.by_email(CHAIR)
    if worker is None or chair is None or not (worker.active and chair.active) or db.session.scalar(
            select(Referral.id).where(Referral.referred_by_id == worker.id).limit(1)) is not None:
        return 0
    first_ref = (select(func.min(SourceRef.ref)).where(SourceRef.kind == RecordKind.PERSON,
                                                        SourceRef.record_id == Person.id).scalar_subquery())
    victims = db.session.execute(
        select(Person, Case).join(CasePerson, CasePerson.person_id == Person.id).join(Case, Case.id == CasePerson.case_id)
        .where(Case.caseworker_id == worker.id, Case.kind == CaseKind.DOMESTIC_ABUSE,
               Case.status != CaseStatus.CLOSED, CasePerson.role == PartyRole.VICTIM)
        .order_by(Case.created_at, first_ref, Case.id).limit(CANDIDATES)).all()
    plan: list[tuple[ReferralType, int, bool]] = [
        *((ReferralType.HRDA, days, False) for days in HRDA_WAITING), (ReferralType.HRDA, HRDA_ACCEPTED, True),
        *((ReferralType.IDVA, days, False) for days in IDVA_WAITING)]
    meeting = _next_meeting(chair, today)
    made = 0
    for kind, days, accept in plan:
        for person, case in victims:
            if referrals.open_referral(person.id, kind) is not None:
                continue
            try:
                with db.session.begin_nested():
                    referral = _refer(person, case, kind, by=worker, on=working_days_before(today, days))
                    if accept:
                        referrals.decide(referral, accept=True, reason=None, version=referral.version, by=chair,
                                         meeting=meeting)
            except (referrals.ReferralError, referrals.NotAllowed):
                continue  # (this one refused, as the page would refuse it: the next victim)
            made += 1
            break
    return made


def _next_meeting(chair: Any, today: dt.date) -> Meeting | None:
    """The chair's next planned meeting after `today`, scheduled as the chair schedules one: 10:00 on
    the Thursday a fortnight after the last meeting heard (`casework.demo.board`), the partner
    agencies invited. None when it cannot be scheduled (the meeting's service refuses it)."""
    last = db.session.scalar(select(func.max(Meeting.starts_at)).where(Meeting.agency_id == chair.agency_id))
    day = last.astimezone(LONDON).date() if last else today + dt.timedelta(days=(3 - today.weekday()) % 7 or 7)
    while day <= today:
        day += dt.timedelta(days=14)
    invited = list(db.session.scalars(select(Agency).where(Agency.name.in_([p.name for p in PARTNERS]),
                                                           Agency.active.is_(True)).order_by(Agency.name)))
    try:
        with db.session.begin_nested():
            [planned] = meetings.schedule(day=day, time=dt.time(10), place="County Hall, Dorchester", online=False,
                                          agencies=invited, by=chair, today=today)
    except (meetings.MeetingError, meetings.NotAllowed):
        return None
    return planned


def _refer(person: Person, case: Case, kind: ReferralType, *, by: Any, on: dt.date) -> Referral:
    hrda: dict[str, Any] = ({"criteria": ["professional_judgement"], "children_in_household": True}
                            if kind is ReferralType.HRDA else {})
    return referrals.refer(person, kind=kind, receiving_agency=None, consent=Consent.GIVEN, lawful_basis=None,
                           reason=REASON[kind], by=by, today=on, case=case, **hrda)
