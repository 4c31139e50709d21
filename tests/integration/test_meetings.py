"""HRDA meetings through their services: scheduling patterns, accepting referrals onto meetings,
research only for participants, closing locks and ends the agencies' access, actions, figures."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from casework import policy
from casework.db import db
from casework.measures.engine import compute
from casework.measures.periods import Period
from casework.models import (
    ActionStatus,
    AgencyKind,
    AuditEntry,
    Gender,
    MeetingState,
    Person,
    ReferralStatus,
    ReferralType,
    Share,
)
from casework.services import hrda, meeting_records, meetings, referrals
from tests.factories import AgencyFactory, PersonFactory, ReferralFactory, routed, victim
from tests.fixtures_auth import make_user

TODAY = dt.date(2026, 11, 26)


@pytest.fixture()
def world(app_ctx):
    police = AgencyFactory(name="Police", kind=AgencyKind.POLICE)
    hrda_agency = AgencyFactory(name="HRDA team", kind=AgencyKind.COUNCIL)
    housing = AgencyFactory(name="Housing", kind=AgencyKind.HOUSING)
    outsider = AgencyFactory(name="Fire", kind=AgencyKind.FIRE)
    chair = make_user(roles=("hrda_chair",), agency=hrda_agency)
    routed("hrda", hrda_agency)  # the chair decides the HRDA referrals routed to hrda_agency
    return {"police": police, "hrda": hrda_agency, "housing": housing, "outsider": outsider, "chair": chair,
            "officer": make_user(agency=police), "housing_worker": make_user(agency=housing),
            "outsider_worker": make_user(agency=outsider)}


def _meeting(world, day=dt.date(2026, 12, 1), **kwargs):
    return meetings.schedule(day=day, time=dt.time(10), place="Room 1", online=False,
                             agencies=[world["police"], world["housing"]], by=world["chair"], today=TODAY,
                             **kwargs)


def _referral(world, person=None, referred_on=dt.date(2026, 11, 20), **kwargs):
    person = person or victim(PersonFactory(owner_agency_id=world["police"].id))
    kwargs = {"owner_agency_id": world["police"].id, "children_in_household": True, **kwargs}
    return ReferralFactory(person_id=person.id, referred_on=referred_on, receiving_agency_id=world["hrda"].id,
                           dash_score=15, criteria_held="dash", **kwargs)


def test_a_weekly_pattern_creates_a_meeting_on_each_chosen_weekday_until_the_end(world):
    made = _meeting(world, day=dt.date(2026, 11, 30), weekdays=[0, 2], until=dt.date(2026, 12, 14))
    assert [meetings.local_time(m).date() for m in made] == [
        dt.date(2026, 11, 30), dt.date(2026, 12, 2), dt.date(2026, 12, 7), dt.date(2026, 12, 9),
        dt.date(2026, 12, 14)]
    assert {meetings.local_time(m).hour for m in made} == {10}
    assert len({m.series_id for m in made}) == 1 and made[0].series_id is not None
    assert all(m.state is MeetingState.PLANNED and len(m.invited) == 2 for m in made)


@pytest.mark.parametrize("change,field", [
    ({"place": "", "online": False}, "place"), ({"agencies": []}, "agencies"),
    ({"day": dt.date(2026, 11, 1)}, "day"), ({"weekdays": [1]}, "until"),
    ({"weekdays": [1], "until": dt.date(2026, 11, 27), "day": dt.date(2026, 11, 28)}, "until"),
])
def test_a_meeting_without_what_it_needs_is_refused_naming_the_field(world, change, field):
    args = {"day": dt.date(2026, 12, 1), "time": dt.time(10), "place": "Room 1", "online": False,
            "agencies": [world["police"]], "by": world["chair"], "today": TODAY, **change}
    with pytest.raises(meetings.MeetingError) as error:
        meetings.schedule(**args)
    assert error.value.field == field


def test_only_a_chair_schedules(world):
    with pytest.raises(meetings.NotAllowed):
        meetings.schedule(day=dt.date(2026, 12, 1), time=dt.time(10), place="Room", online=False,
                          agencies=[world["police"]], by=world["officer"], today=TODAY)


def test_the_queue_holds_submitted_referrals_oldest_first_with_repeats_flagged_and_no_history(world):
    person = victim(PersonFactory(owner_agency_id=world["police"].id))
    _referral(world, person, referred_on=dt.date(2026, 3, 1), status=ReferralStatus.CLOSED)
    repeat = _referral(world, person, referred_on=dt.date(2026, 11, 20))
    older = _referral(world, referred_on=dt.date(2026, 11, 10))
    _referral(world, referred_on=dt.date(2026, 11, 1), imported=True)
    rows = hrda.queue(world["chair"], today=TODAY)
    assert [r.referral.id for r in rows] == [older.id, repeat.id]
    assert [r.repeat for r in rows] == [False, True]
    assert rows[0].days_waiting == 16 and rows[0].agency == "Police" and rows[0].children is True
    assert [r.referral.id for r in hrda.queue(world["chair"], today=TODAY, sort="-waiting")] == [repeat.id, older.id]
    assert hrda.queue(world["officer"], today=TODAY) == []


def test_a_repeat_referral_defaults_to_the_next_planned_meeting_and_listing_shares_the_person(world):
    later = _meeting(world, day=dt.date(2026, 12, 8))[0]
    first = _meeting(world, day=dt.date(2026, 12, 1))[0]
    person = victim(PersonFactory(owner_agency_id=world["police"].id))
    _referral(world, person, referred_on=dt.date(2026, 3, 1), status=ReferralStatus.CLOSED)
    repeat = _referral(world, person)
    fresh = _referral(world)
    assert hrda.default_meeting(repeat, user=world["chair"]) is not None
    assert hrda.default_meeting(fresh, user=world["chair"]) is None
    now = dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC)
    assert meetings.next_planned(world["hrda"].id, after=now).id == first.id
    item = hrda.accept(repeat, meeting=later, version=repeat.version, by=world["chair"])
    assert repeat.status is ReferralStatus.ACCEPTED and item.meeting_id == later.id
    assert policy.can_view(world["housing_worker"], db.session.get(Person, person.id))
    assert not policy.can_view(world["outsider_worker"], db.session.get(Person, person.id))
    with pytest.raises(referrals.ReferralError):
        hrda.accept(fresh, meeting=None, version=fresh.version, by=world["chair"])


def _listed(world, meeting=None):
    meeting = meeting or _meeting(world)[0]
    referral = _referral(world)
    return meeting, hrda.accept(referral, meeting=meeting, version=referral.version, by=world["chair"])


def test_research_is_for_invited_agencies_and_seen_only_by_participants(world):
    meeting, item = _listed(world)
    entry = meeting_records.save_research(item, facts="Two call-outs in May", opinion="Escalating",
                                          by=world["housing_worker"], checked_on=TODAY, today=TODAY)
    assert entry.agency_id == world["housing"].id and entry.facts == "Two call-outs in May"
    assert policy.takes_part_in_meeting(world["officer"], meeting)
    assert not policy.takes_part_in_meeting(world["outsider_worker"], meeting)
    manager = make_user(roles=("manager",), agency=world["housing"])
    assert not policy.takes_part_in_meeting(manager, meeting)
    with pytest.raises(meetings.NotAllowed):
        meeting_records.save_research(item, facts="x", opinion=None, by=world["outsider_worker"], checked_on=TODAY,
                                      today=TODAY)
    with pytest.raises(meetings.MeetingError) as error:
        meeting_records.save_research(item, facts="x", opinion=None, by=world["officer"],
                                      checked_on=TODAY + dt.timedelta(1), today=TODAY)
    assert error.value.field == "checked_on"
    sealed = db.session.execute(select(type(entry).__table__.c.facts)).scalar_one()
    assert b"call-outs" not in sealed


def test_closing_locks_the_meeting_and_access_ends_when_the_last_action_is_done(world):
    meeting, item = _listed(world)
    person = db.session.get(Person, item.referral.person_id)
    meetings.start(meeting, by=world["chair"])
    meeting_records.record_minutes(item, discussion="Discussed", safety_plan="Refuge place", by=world["chair"])
    action = meeting_records.add_action(item, text="Fit door locks", agency=world["housing"], person_name="J Smith",
                                        due_on=dt.date(2026, 12, 10), by=world["chair"], today=TODAY)
    meetings.close(meeting, by=world["chair"], today=dt.date(2026, 12, 1))
    assert meeting.state is MeetingState.CLOSED
    with pytest.raises(meetings.MeetingError):
        meeting_records.save_research(item, facts="late", opinion=None, by=world["housing_worker"], checked_on=TODAY,
                                      today=TODAY)
    with pytest.raises(meetings.NotAllowed):
        meeting_records.record_minutes(item, discussion="x", safety_plan=None, by=world["housing_worker"])
    meeting_records.record_minutes(item, discussion="Discussed, corrected", safety_plan="Refuge place",
                                   by=world["chair"])
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "meeting.correction.minutes"))
    # An action is open: every invited agency keeps access to the case's records.
    assert policy.can_view(world["housing_worker"], person)
    meeting_records.update_action(action, progress="Locks ordered", done=False, by=world["housing_worker"])
    assert action.progress == "Locks ordered" and policy.can_view(world["housing_worker"], person)
    with pytest.raises(meetings.NotAllowed):
        meeting_records.update_action(action, progress="x", done=True, by=world["officer"])
    meeting_records.update_action(action, progress="Locks fitted", done=True, by=world["housing_worker"])
    assert action.status is ActionStatus.DONE
    assert not policy.can_view(world["housing_worker"], person)
    assert not db.session.scalar(select(Share.id).where(
        Share.record_id == person.id, Share.via == "hrda_meeting", Share.revoked_at.is_(None)))


def test_overdue_and_outstanding_actions(world):
    _, item = _listed(world)
    late = meeting_records.add_action(item, text="Call", agency=world["housing"], person_name=None,
                                      due_on=dt.date(2026, 12, 2), by=world["chair"], today=TODAY)
    assert meeting_records.overdue_actions(world["housing"].id, today=dt.date(2026, 12, 3)) == [late]
    assert meeting_records.overdue_actions(world["housing"].id, today=dt.date(2026, 12, 2)) == []
    assert meeting_records.outstanding_actions(world["hrda"].id) == [late]


def test_the_agenda_is_reordered_and_a_repeat_shows_the_previous_meetings_actions(world):
    first = _meeting(world, day=dt.date(2026, 12, 1))[0]
    second = _meeting(world, day=dt.date(2026, 12, 8))[0]
    person = victim(PersonFactory(owner_agency_id=world["police"].id))
    old = _referral(world, person, referred_on=dt.date(2026, 11, 2))
    earlier = hrda.accept(old, meeting=first, version=old.version, by=world["chair"])
    meeting_records.add_action(earlier, text="Visit", agency=world["police"], person_name=None,
                               due_on=dt.date(2026, 12, 5), by=world["chair"], today=TODAY)
    _, other = _listed(world, second)
    repeat = _referral(world, person, referred_on=dt.date(2026, 11, 20))
    item = hrda.accept(repeat, meeting=second, version=repeat.version, by=world["chair"])
    assert [c.id for c in second.cases] == [other.id, item.id]
    meetings.move(item, up=True, by=world["chair"])
    assert [c.id for c in second.cases] == [item.id, other.id]
    assert meetings.previous_case(item).id == earlier.id
    with pytest.raises(meetings.MeetingError):
        meetings.reorder(second, order=[item.id], by=world["chair"])


def test_the_repeat_share_of_referrals_made_equals_measure_hrda1(world):
    people = [victim(PersonFactory(owner_agency_id=world["police"].id, gender=Gender.MALE)) for _ in range(3)]
    dates = [(0, dt.date(2024, 3, 1)), (0, dt.date(2024, 6, 1)), (0, dt.date(2025, 3, 31)),
             (1, dt.date(2024, 5, 5)), (1, dt.date(2025, 5, 6)), (2, dt.date(2024, 12, 1))]
    for index, day in dates:
        ReferralFactory(person_id=people[index].id, referred_on=day, type=ReferralType.HRDA,
                        owner_agency_id=world["police"].id, status=ReferralStatus.CLOSED, imported=True)
    period = Period(2024)
    figure = compute(db.session, [period])[period]["HRDA1"]
    made = hrda.referrals_made(first=period.first_day, last=period.last_day)
    assert made == (figure.numerator, figure.denominator) == (2, 4)


def test_a_meetings_figures(world):
    meeting, item = _listed(world)
    db.session.get(Person, item.referral.person_id).gender = Gender.MALE
    from_housing = _referral(world, owner_agency_id=world["housing"].id, children_in_household=False)
    hrda.accept(from_housing, meeting=meeting, version=from_housing.version, by=world["chair"])
    meeting_records.add_action(item, text="Call", agency=world["housing"], person_name=None,
                               due_on=dt.date(2026, 12, 2), by=world["chair"], today=TODAY)
    summary = hrda.meeting_summary(meeting)
    assert (summary.cases, summary.repeats, summary.male_victims, summary.children) == (2, 0, 1, 1)
    assert summary.by_agency == {"Police": 1, "Housing": 1} and summary.not_police_share == 0.5
    assert (summary.actions, summary.actions_done) == (1, 0)
    ranged = hrda.range_summary(world["hrda"].id, first=dt.date(2026, 12, 1), last=dt.date(2026, 12, 1))
    assert ranged.cases == 2
    assert hrda.range_summary(world["hrda"].id, first=dt.date(2026, 12, 2), last=dt.date(2026, 12, 9)).cases == 0
