"""The HRDA chair's work on referrals: the queue of submitted referrals with their flags, accepting
onto a meeting (a repeat goes to the next planned meeting unless the chair chooses another) or
declining; and the figures, for a meeting or a date range."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import and_, exists, select

from .. import policy, words
from ..db import db
from ..models import (
    ActionStatus,
    Agency,
    AgencyKind,
    Gender,
    Meeting,
    MeetingCase,
    Person,
    Referral,
    ReferralRoute,
    ReferralStatus,
    ReferralType,
)
from ..risk import repeats
from . import meetings, person_names, referrals


@dataclass(frozen=True)
class QueueRow:
    referral: Referral
    victim: str
    agency: str
    criteria: list[str]
    dash_score: int | None
    repeat: bool
    escalation: bool
    children: bool | None
    days_waiting: int


SORTS = {
    "waiting": lambda r: (-r.days_waiting, r.referral.created_at),
    "agency": lambda r: (r.agency, -r.days_waiting),
    "dash": lambda r: (r.dash_score if r.dash_score is not None else -1, -r.days_waiting),
    "repeat": lambda r: (r.repeat, -r.days_waiting),
    "escalation": lambda r: (r.escalation, -r.days_waiting),
    "children": lambda r: (bool(r.children), -r.days_waiting),
    "victim": lambda r: (r.victim.lower(), -r.days_waiting),
}


def routed_to(user: Any) -> Any:
    """A SQL condition: HRDA referrals that came along a referral route the user decides on (the HRDA
    route to the user's agency, with a role the user holds), as `policy.can_decide_referral` says.
    Not "to the user's agency": a referral to it with no route waits for an administrator to move it."""
    return and_(Referral.type == ReferralType.HRDA, Referral.imported.is_(False), exists().where(
        ReferralRoute.type == Referral.type, ReferralRoute.agency_id == Referral.receiving_agency_id,
        ReferralRoute.agency_id == user.agency_id, ReferralRoute.role.in_(list(user.roles))))


def queue(user: Any, *, today: dt.date, sort: str = "waiting") -> list[QueueRow]:
    """Submitted HRDA referrals along the routes the chair decides on (`routed_to`; never imported
    history), oldest first unless `sort` names another column (`-name` reverses)."""
    if not policy.can(user, policy.Permission.CHAIR_HRDA):
        return []
    r = Referral.__table__
    rows = db.session.execute(
        select(Referral, repeats.is_repeat_referral(r).label("repeat"))
        .where(routed_to(user), Referral.status == ReferralStatus.SUBMITTED)).all()
    names = {a.id: a.name for a in db.session.scalars(select(Agency))}
    config = current_app.config
    shown = person_names.many_for_viewer(user, (referral.person for referral, _ in rows))
    result = []
    for referral, repeat in rows:
        escalation = repeats.potential_escalation(
            db.session, referral.person_id, today=referral.referred_on,
            incidents=int(config["ESCALATION_INCIDENTS"]), window_days=int(config["ESCALATION_WINDOW_DAYS"]))
        result.append(QueueRow(
            referral=referral, victim=shown[referral.person_id].text,
            agency=names.get(referral.owner_agency_id, ""),
            criteria=[c.label for c in referrals.criteria_of(referral)], dash_score=referral.dash_score,
            repeat=bool(repeat), escalation=escalation, children=referral.children_in_household,
            days_waiting=(today - referral.referred_on).days))
    key = sort.removeprefix("-")
    if key not in SORTS:
        sort, key = "waiting", "waiting"
    result.sort(key=SORTS[key], reverse=sort.startswith("-"))
    return result


def is_repeat(referral: Referral) -> bool:
    """HRDA criterion 4 / measure HRDA1, from the one rule in `risk.repeats`."""
    return repeats.would_be_repeat_hrda(db.session, referral.person_id, referred_on=referral.referred_on)


def default_meeting(referral: Referral, *, user: Any) -> Meeting | None:
    """The meeting preselected when accepting: the next planned one for a repeat referral."""
    return meetings.next_planned(user.agency_id) if is_repeat(referral) else None


def accept(referral: Referral, *, meeting: Meeting | None, version: int | None, by: Any) -> MeetingCase:
    """Accept an HRDA referral onto a meeting (listing it shares the person with the invited agencies)."""
    if meeting is None:
        raise referrals.ReferralError("Select the meeting the referral goes to", "meeting")
    referrals.decide(referral, accept=True, reason=None, version=version, by=by, meeting=meeting)
    item = db.session.scalar(select(MeetingCase).where(MeetingCase.referral_id == referral.id))
    assert item is not None
    return item


def place(referral: Referral, *, meeting: Meeting | None, by: Any) -> MeetingCase:
    """Put an accepted HRDA referral that is on no agenda yet onto a meeting."""
    if not policy.can_decide_referral(by, referral) or referral.status is not ReferralStatus.ACCEPTED:
        raise referrals.NotAllowed("Only an accepted HRDA referral to your agency is placed")
    if meeting is None or not referrals.meeting_open_to(by, meeting):
        raise referrals.ReferralError("Select a planned or current meeting you chair", "meeting")
    return meetings.list_case(meeting, referral, by=by)


def unplaced(user: Any) -> list[Referral]:
    """Accepted HRDA referrals along the chair's routes (`routed_to`) that are on no meeting's agenda."""
    if not policy.can(user, policy.Permission.CHAIR_HRDA):
        return []
    listed = select(MeetingCase.referral_id)
    return list(db.session.scalars(select(Referral).where(
        routed_to(user), Referral.status == ReferralStatus.ACCEPTED,
        Referral.id.not_in(listed)).order_by(Referral.referred_on)))


# --- figures ---------------------------------------------------------------------------------


@dataclass
class Summary:
    cases: int = 0
    repeats: int = 0
    by_agency: Counter[str] = field(default_factory=Counter)
    not_police: int = 0
    male_victims: int = 0
    children: int = 0
    actions: int = 0
    actions_done: int = 0

    @property
    def repeat_share(self) -> float | None:
        return self.repeats / self.cases if self.cases else None

    @property
    def not_police_share(self) -> float | None:
        return self.not_police / self.cases if self.cases else None


def _summarise(items: list[MeetingCase]) -> Summary:
    summary = Summary()
    agencies = {a.id: a for a in db.session.scalars(select(Agency))}
    for item in items:
        referral = item.referral
        summary.cases += 1
        summary.repeats += is_repeat(referral)
        agency = agencies.get(referral.owner_agency_id)
        summary.by_agency[agency.name if agency else "Unknown"] += 1
        summary.not_police += agency is None or agency.kind is not AgencyKind.POLICE
        person = db.session.get(Person, referral.person_id)
        summary.male_victims += person is not None and person.gender is Gender.MALE
        summary.children += bool(referral.children_in_household)
        summary.actions += len(item.actions)
        summary.actions_done += sum(a.status is ActionStatus.DONE for a in item.actions)
    return summary


def meeting_summary(meeting: Meeting) -> Summary:
    """A meeting's figures: cases heard, repeats, referrals by agency, actions agreed and done."""
    return _summarise(list(meeting.cases))


def range_summary(agency_id: Any, *, first: dt.date, last: dt.date) -> Summary:
    """The same figures for every meeting the agency ran from `first` to `last` (London dates)."""
    start = dt.datetime.combine(first, dt.time(), meetings.LONDON).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), meetings.LONDON).astimezone(dt.UTC)
    items = list(db.session.scalars(
        select(MeetingCase).join(Meeting, Meeting.id == MeetingCase.meeting_id)
        .where(Meeting.agency_id == agency_id, Meeting.starts_at >= start, Meeting.starts_at < end)))
    return _summarise(items)


def referrals_made(*, first: dt.date, last: dt.date) -> tuple[int, int]:
    """(repeat referrals, HRDA referrals) made from `first` to `last`: the numerator and denominator
    of measure HRDA1 (every HRDA referral, imported history included, as the measure counts)."""
    r = Referral.__table__
    rows = db.session.execute(select(repeats.is_repeat_referral(r)).where(
        r.c.type == ReferralType.HRDA, r.c.referred_on >= first, r.c.referred_on <= last)).scalars().all()
    return sum(bool(x) for x in rows), len(rows)


def summary_rows(summary: Summary) -> list[list[Any]]:
    """The figures as (figure, value) rows, for a page or a CSV file."""
    def share(value: float | None) -> str:
        return "" if value is None else words.percent(value)

    rows: list[list[Any]] = [
        ["Cases heard", summary.cases],
        ["Repeat referrals", summary.repeats],
        ["Repeat share", share(summary.repeat_share)],
        ["Referrals from agencies other than the police", summary.not_police],
        ["Share from agencies other than the police", share(summary.not_police_share)],
        ["Cases with a male victim", summary.male_victims],
        ["Cases with children in the household", summary.children],
        ["Actions agreed", summary.actions],
        ["Actions done", summary.actions_done],
    ]
    rows += [[f"Referrals from {name}", count] for name, count in sorted(summary.by_agency.items())]
    return rows
