"""The demo's material for the partnership board (issue 18): HRDA meetings that heard the demo's
HRDA referrals (so the MARAC return has cases), equality information for a share of people (given
with their agreement), and one review after a death with its recommendations.

Meetings and equality answers are written in bulk (Core statements, values sealed as the ORM would
seal them), as the demo's cases are, so a 1M-incident demo stays quick."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from .. import crypto
from ..db import db
from ..models import Agency, Meeting, MeetingAgency, MeetingCase, MeetingState, Person, Referral, ReferralType, User
from ..models.base import new_id, utcnow
from ..models.equality import ETHNICITIES
from ..words import LONDON

BATCH = 5_000
HRDA_AGENCY = "Dorset Council"  # the demo's HRDA route (casework.demo.loader.DEMO_ROUTES)


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start:start + BATCH]


def _meeting_days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every other Thursday from the first Thursday on or after `first` to `last`."""
    day = first + dt.timedelta(days=(3 - first.weekday()) % 7)
    days = []
    while day <= last:
        days.append(day)
        day += dt.timedelta(days=14)
    return days


def add_meetings(*, today: dt.date) -> int:
    """List every imported HRDA referral not yet heard at the first fortnightly meeting at least three
    days after it was made (10:00 London, closed), up to `today`. Returns the number of cases listed.
    The demo's live referrals (`casework.demo.live_referrals`) wait for the chair: never listed here,
    on this load or the next."""
    chair = db.session.scalar(select(Agency).where(Agency.name == HRDA_AGENCY))
    referrals = db.session.execute(
        select(Referral.id, Referral.referred_on).where(
            Referral.type == ReferralType.HRDA, Referral.imported.is_(True),
            Referral.id.not_in(select(MeetingCase.referral_id)))
        .order_by(Referral.referred_on, Referral.id)).all()
    if chair is None or not referrals:
        return 0
    days = _meeting_days(referrals[0].referred_on + dt.timedelta(days=3), today)
    meetings: dict[dt.date, Any] = {}
    cases: list[dict[str, Any]] = []
    now = utcnow()
    index = 0
    positions: dict[dt.date, int] = {}
    for referral_id, referred_on in referrals:
        while index < len(days) and days[index] < referred_on + dt.timedelta(days=3):
            index += 1
        if index == len(days):
            break
        day = days[index]
        meeting_id = meetings.setdefault(day, new_id())
        positions[day] = positions.get(day, 0) + 1
        cases.append({"id": new_id(), "created_at": now, "updated_at": now, "meeting_id": meeting_id,
                      "referral_id": referral_id, "position": positions[day]})
    rows = []
    for day, meeting_id in meetings.items():
        starts = dt.datetime.combine(day, dt.time(10), LONDON).astimezone(dt.UTC)
        rows.append({"id": meeting_id, "created_at": now, "updated_at": now, "agency_id": chair.id,
                     "starts_at": starts, "place": "County Hall, Dorchester", "online": False,
                     "state": MeetingState.CLOSED.value, "closed_at": starts + dt.timedelta(hours=3)})
    invited = [{"id": new_id(), "created_at": now, "updated_at": now, "meeting_id": m, "agency_id": chair.id}
               for m in meetings.values()]
    for table, values in ((Meeting.__table__, rows), (MeetingAgency.__table__, invited),
                          (MeetingCase.__table__, cases)):
        for batch in _batches(values):
            db.session.execute(insert(table), batch)
    return len(cases)


ETHNIC_WEIGHTS = {code: (880 if code == "white_british" else 40 if code == "white_other" else 6)
                  for code, _, _ in ETHNICITIES}
ANSWERS = {
    "disability": (("no", 74), ("yes_a_little", 12), ("yes_a_lot", 8), ("prefer_not_to_say", 6)),
    "sexual_orientation": (("straight", 89), ("gay_lesbian", 3), ("bisexual", 3), ("other", 1),
                           ("prefer_not_to_say", 4)),
    "gender_identity": (("same", 95), ("different", 1), ("prefer_not_to_say", 4)),
}


def add_equality(*, seed: int, today: dt.date) -> int:
    """Equality answers for about seven in ten HRDA victims and one in ten other people, as if asked
    with their agreement; a few questions left unanswered. Returns how many people were given them."""
    rng = random.Random(seed * 7919 + 18)
    victims = set(db.session.scalars(select(Referral.person_id).where(Referral.type == ReferralType.HRDA)))
    ids = db.session.scalars(select(Person.id).where(Person.merged_into_id.is_(None),
                                                     Person.equality_agreed_on.is_(None)).order_by(Person.id)).all()
    ring = crypto.current()
    codes, weights = list(ETHNIC_WEIGHTS), list(ETHNIC_WEIGHTS.values())
    rows = []
    for person_id in ids:
        if rng.random() >= (0.7 if person_id in victims else 0.1):
            continue
        values: dict[str, str | None] = {"ethnicity": rng.choices(codes, weights)[0]}
        for name, options in ANSWERS.items():
            values[name] = rng.choices([o for o, _ in options], [w for _, w in options])[0]
        if rng.random() < 0.1:
            values[rng.choice(list(values))] = None
        row: dict[str, Any] = {"row_id": person_id, "agreed": today - dt.timedelta(days=rng.randrange(30, 1500))}
        for name, value in values.items():
            row[f"v_{name}"] = None if value is None else crypto.seal(
                ring, crypto.encode_plain(value), table="person", column=name, row_id=person_id)
        rows.append(row)
    table = Person.__table__
    statement = (update(table).where(table.c.id == bindparam("row_id"))
                 .values(equality_agreed_on=bindparam("agreed"),
                         **{name: bindparam(f"v_{name}") for name in ("ethnicity", *ANSWERS)}))
    connection = db.session.connection()
    for batch in _batches(rows):
        connection.execute(statement, batch)
    return len(rows)


def add_review(*, today: dt.date) -> bool:
    """One review after a death, started by the demo manager, with its steps and recommendations;
    False when there is no demo manager or a review already exists."""
    from ..models import DardrReview
    from ..services import dardr

    manager = db.session.scalar(select(User).where(User.email == "manager@demo.casework.test"))
    if manager is None or db.session.scalar(select(DardrReview.id).limit(1)) is not None:
        return False
    agencies = {a.name: a for a in db.session.scalars(select(Agency))}
    caseworker = db.session.scalar(select(User).where(User.email == "caseworker@demo.casework.test"))
    notified = today - dt.timedelta(days=300)
    review = dardr.create(notified_on=notified, subject="Joanne Marsh (a name made up for the demo)",
                          circumstances="Died at home; her former partner has been charged. Known to police and "
                                        "health; one HRDA referral eighteen months before.", by=manager, today=today)
    if caseworker is not None:
        dardr.name(review, user=caseworker, by=manager)
    dardr.decide(review, decision="hold", decided_on=notified + dt.timedelta(days=26), reason=None, by=manager,
                 today=today)
    dardr.set_panel(review, chair="Alex Morgan, independent chair", panel="Dorset Police; NHS Dorset; Dorset "
                    "Council children's and adults' services; Dorset Domestic Abuse Forum", by=manager)
    for name, asked, due, got in (("Dorset Police", 30, 90, None), ("NHS Dorset", 30, 90, 85),
                                  ("Dorset Council", 30, 90, 100)):
        if name in agencies:
            request = dardr.request_report(review, agency=agencies[name], requested_on=notified + dt.timedelta(asked),
                                           due_on=notified + dt.timedelta(due), by=manager, today=today)
            if got is not None:
                dardr.report_received(request, received_on=notified + dt.timedelta(got), by=manager, today=today)
    dardr.add_contact(review, contacted_on=notified + dt.timedelta(days=40), summary="Met her sister with the "
                      "advocate; she will share letters Joanne wrote.", by=manager, today=today)
    for text, themes, name, due_days, status in (
        ("Call handlers ask about previous incidents at the address on every domestic abuse call",
         ["risk_assessment", "information_sharing"], "Dorset Police", 200, "in_progress"),
        ("GP practices ask routinely about abuse when a patient presents with anxiety or injuries",
         ["routine_enquiry", "training"], "NHS Dorset", 250, "complete"),
        ("Housing officers are trained to recognise coercive and controlling behaviour",
         ["coercive_control", "training"], "Dorset Council", 400, "not_started"),
        ("HRDA actions name the agency and person responsible and are checked at the next meeting",
         ["multi_agency"], "Dorset Police", 500, "not_started"),
    ):
        if name not in agencies:
            continue
        item = dardr.add_recommendation(review, text=text, themes=themes, agency=agencies[name],
                                        due_on=notified + dt.timedelta(days=due_days), by=manager, today=today)
        if status != "not_started":
            dardr.update_recommendation(item, status=status, evidence="Guidance issued and audited in June"
                                        if status == "complete" else "Briefing drafted", completed_on=today
                                        if status == "complete" else None, by=manager, today=today)
    return True
