"""A restricted person named on a page about another record (a referral, the HRDA queue and review,
a meeting, its agenda, print view and CSV, the actions lists, the home page): users not named on the
person see "A restricted person", with no name, date of birth, link or id; a named user sees them."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import AgencyKind, MeetingCase, ReferralStatus
from casework.services import meeting_records, meetings, restricted, sharing
from tests.factories import AgencyFactory, PersonFactory, ReferralFactory, routed
from tests.fixtures_auth import make_user, sign_in

SECRET = ("Zebedeehidden", "Quillonsecret")  # surname, forenames: found nowhere else on the pages
BORN = dt.date(1981, 7, 23)


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    police = AgencyFactory(name="Police", kind=AgencyKind.POLICE)
    team = AgencyFactory(name="HRDA team", kind=AgencyKind.COUNCIL)
    housing = AgencyFactory(name="Housing", kind=AgencyKind.HOUSING)
    chair = make_user(roles=("hrda_chair",), agency=team)
    routed("hrda", team)  # HRDA referrals reach this chair's home page
    officer = make_user(agency=police)  # named on the person
    colleague = make_user(agency=police)  # same agency, not named
    housing_worker = make_user(agency=housing)  # invited agency, not named
    today = today_in_london()
    meeting = meetings.schedule(day=today + dt.timedelta(days=3), time=dt.time(10), place="Room 1", online=False,
                                agencies=[police, housing], by=chair, today=today)[0]
    person = PersonFactory(owner_agency_id=police.id, surname=SECRET[0], forenames=SECRET[1], date_of_birth=BORN)
    db.session.commit()
    restricted.restrict(person, by=officer)
    referral = ReferralFactory(person_id=person.id, referred_on=today - dt.timedelta(days=5),
                               owner_agency_id=police.id, receiving_agency_id=team.id, dash_score=16,
                               criteria_held="dash", referred_by_id=officer.id)
    db.session.commit()
    return {"police": police, "team": team, "chair": chair, "officer": officer, "colleague": colleague,
            "housing_worker": housing_worker, "meeting": meeting, "person": person, "referral": referral,
            "today": today}


def _hidden(text: str, person) -> None:  # type: ignore[no-untyped-def]
    assert SECRET[0] not in text and SECRET[1] not in text
    assert str(person.id) not in text and person.id.hex not in text
    assert "23 July 1981" not in text and "1981-07-23" not in text


def _shown(text: str, person) -> None:  # type: ignore[no-untyped-def]
    assert SECRET[0] in text or SECRET[0].upper() in text, text[text.find("<main"):][:3000]


def _get(app_ctx, user, url):  # type: ignore[no-untyped-def]
    response = sign_in(app_ctx, user).get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _accept(app_ctx, world) -> MeetingCase:  # type: ignore[no-untyped-def]
    referral = world["referral"]
    response = sign_in(app_ctx, world["chair"]).post(
        f"/hrda/referrals/{referral.id}/decision",
        data={"decision": "accept", "meeting": str(world["meeting"].id), "version": referral.version})
    assert response.status_code == 302
    return db.session.scalar(select(MeetingCase).where(MeetingCase.referral_id == referral.id))


def test_referral_pages_name_a_restricted_person_only_to_a_named_user(app_ctx, world):
    person, referral = world["person"], world["referral"]
    for user, url in [(world["chair"], f"/referrals/{referral.id}"), (world["chair"], "/referrals?box=received"),
                      (world["colleague"], f"/referrals/{referral.id}"), (world["colleague"], "/referrals?box=sent"),
                      (world["chair"], "/")]:
        text = _get(app_ctx, user, url)
        _hidden(text, person)
        assert "A restricted person" in text, url
    for url in [f"/referrals/{referral.id}", "/referrals?box=sent"]:
        _shown(_get(app_ctx, world["officer"], url), person)
    assert f"/people/{person.id}" in _get(app_ctx, world["officer"], f"/referrals/{referral.id}")


def test_the_hrda_queue_and_review_do_not_name_a_restricted_person_to_the_chair(app_ctx, world):
    person, referral = world["person"], world["referral"]
    for url in ["/hrda/referrals", f"/hrda/referrals/{referral.id}", "/hrda/referrals?sort=victim"]:
        text = _get(app_ctx, world["chair"], url)
        _hidden(text, person)
        assert "A restricted person" in text, url
    sharing.share(record=person, agency=world["team"], via="explicit", by=world["officer"], reason="HRDA")
    restricted.name(person, user=world["chair"], by=world["officer"])
    db.session.commit()
    for url in ["/hrda/referrals", f"/hrda/referrals/{referral.id}"]:
        _shown(_get(app_ctx, world["chair"], url), person)


def test_the_unplaced_queue_does_not_name_a_restricted_person(app_ctx, world):
    referral = world["referral"]
    referral.status = ReferralStatus.ACCEPTED
    db.session.commit()
    text = _get(app_ctx, world["chair"], "/hrda/referrals")
    _hidden(text, world["person"])


def test_a_meeting_its_agenda_and_csv_name_a_restricted_person_only_to_a_named_user(app_ctx, world):
    person, meeting = world["person"], world["meeting"]
    item = _accept(app_ctx, world)
    meeting_records.add_action(item, text="Check tenancy", agency=world["police"], person_name=None,
                               due_on=world["today"] + dt.timedelta(days=7), by=world["chair"],
                               today=world["today"])
    db.session.commit()
    pages = [f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/agenda", f"/meetings/{meeting.id}/agenda?print=1",
             f"/meetings/{meeting.id}/agenda?format=csv"]
    for user in (world["chair"], world["colleague"], world["housing_worker"]):
        for url in pages:
            text = _get(app_ctx, user, url)
            _hidden(text, person)
            assert "A restricted person" in text, url
    _hidden(_get(app_ctx, world["chair"], "/hrda/actions"), person)
    _hidden(_get(app_ctx, world["colleague"], "/hrda-actions"), person)
    for url in pages:
        _shown(_get(app_ctx, world["officer"], url), person)
    assert f"/people/{person.id}" in _get(app_ctx, world["officer"], f"/meetings/{meeting.id}")
    _shown(_get(app_ctx, world["officer"], "/hrda-actions"), person)


def test_an_unrestricted_person_the_viewer_may_not_see_is_named_by_identity_only(app_ctx, world):
    """A person is one identity across the partnership: the HRDA chair reviewing a referral must know who is
    referred before accepting it (which shares the record), but gets no link to a record not yet shared."""
    person = PersonFactory(owner_agency_id=world["police"].id, surname="Plainhidden")
    referral = ReferralFactory(person_id=person.id, referred_on=world["today"], owner_agency_id=world["police"].id,
                               receiving_agency_id=world["team"].id, referred_by_id=world["officer"].id)
    db.session.commit()
    text = _get(app_ctx, world["chair"], f"/referrals/{referral.id}")
    assert "Plainhidden" in text and str(person.id) not in text
    assert "A restricted person" not in text
