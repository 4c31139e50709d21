"""What became of a referral comes back to its sender (issue 14, part 2): the referral page shows the
decision and its reason, the HRDA meeting it goes to and its date, and the actions agreed for the
referrer's agency with their status; the programme's start, end and outcome. Each as far as the
viewer may see: an agency not at the meeting sees only its own actions, another agency nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.db import db
from casework.models import AgencyKind, ReferralStatus, ReferralType
from casework.services import hrda, meeting_records, meetings
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory, ReferralFactory, routed, victim
from tests.fixtures_auth import make_user, sign_in

TODAY = dt.date(2026, 11, 26)


@pytest.fixture()
def world(app_ctx):
    police = AgencyFactory(name="Outcome Police", kind=AgencyKind.POLICE)
    team = AgencyFactory(name="Outcome HRDA team", kind=AgencyKind.COUNCIL)
    housing = AgencyFactory(name="Outcome Housing", kind=AgencyKind.HOUSING)
    chair = make_user(roles=("hrda_chair",), agency=team)
    routed("hrda", team)  # the chair decides the HRDA referrals routed to team
    officer = make_user(agency=police)
    person = victim(PersonFactory(owner_agency_id=police.id))
    referral = ReferralFactory(person_id=person.id, referred_on=dt.date(2026, 11, 20), owner_agency_id=police.id,
                               receiving_agency_id=team.id, referred_by_id=officer.id, dash_score=15,
                               criteria_held="dash", children_in_household=True)
    meeting = meetings.schedule(day=dt.date(2026, 12, 1), time=dt.time(10), place="Room 1", online=False,
                                agencies=[police, housing], by=chair, today=TODAY)[0]
    item = hrda.accept(referral, meeting=meeting, version=referral.version, by=chair)
    meetings.start(meeting, by=chair)
    mine = meeting_records.add_action(item, text="Flag the address for urgent response", agency=police,
                                      person_name=None, due_on=dt.date(2026, 12, 5), by=chair, today=TODAY)
    meeting_records.add_action(item, text="Fit door locks", agency=housing, person_name=None,
                               due_on=dt.date(2026, 12, 10), by=chair, today=TODAY)
    db.session.commit()
    return {"referral": referral, "meeting": meeting, "officer": officer, "chair": chair, "mine": mine,
            "team_worker": make_user(agency=team),
            "housing_worker": make_user(agency=housing), "outsider": make_user(agency=AgencyFactory())}


def test_the_referrer_sees_the_decision_the_meeting_and_the_actions_with_their_status(app_ctx, world):
    page = Page(sign_in(app_ctx, world["officer"]).get(f"/referrals/{world['referral'].id}"))
    assert "Accepted" in page.text
    outcome = page.select_one("#outcome")
    assert "Heard at the HRDA meeting of 1 December 2026 at 10:00am" in outcome.text
    assert outcome.select(f"a[href='/meetings/{world['meeting'].id}']")
    rows = [r.text for r in page.select("#actions tbody tr")]
    assert len(rows) == 2
    assert "Flag the address for urgent response" in rows[0] and "Outcome Police" in rows[0] and "Open" in rows[0]
    meeting_records.update_action(world["mine"], progress="Flagged", done=True, by=world["officer"])
    db.session.commit()
    page = Page(sign_in(app_ctx, world["officer"]).get(f"/referrals/{world['referral'].id}"))
    assert "Done" in page.select("#actions tbody tr")[0].text


def test_who_is_not_at_the_meeting_sees_its_date_but_not_its_actions(app_ctx, world):
    page = Page(sign_in(app_ctx, world["team_worker"]).get(f"/referrals/{world['referral'].id}"))
    assert page.status_code == 200
    outcome = page.select_one("#outcome")
    assert "1 December 2026" in outcome.text and not outcome.select("a[href^='/meetings/']")
    assert not page.select("#actions") and "Flag the address" not in page.text
    response = sign_in(app_ctx, world["outsider"]).get(f"/referrals/{world['referral'].id}")
    assert response.status_code == 404


def test_the_person_page_says_what_became_of_each_referral(app_ctx, world):
    referral = world["referral"]
    declined = ReferralFactory(person_id=referral.person_id, type=ReferralType.IDVA, referred_on=dt.date(2026, 11, 2),
                               owner_agency_id=referral.owner_agency_id, receiving_agency_id=AgencyFactory().id,
                               status=ReferralStatus.DECLINED)
    declined.decision_reason = "Already supported by another IDVA"
    db.session.commit()
    page = Page(sign_in(app_ctx, world["officer"]).get(f"/people/{referral.person_id}"))
    rows = {row.select_one("a")["href"]: row.text for row in page.select("#referrals tbody tr")}
    assert "Heard at the HRDA meeting of 1 December 2026" in rows[f"/referrals/{referral.id}"]
    assert "Declined: Already supported by another IDVA" in rows[f"/referrals/{declined.id}"]


def test_an_action_for_a_referrer_not_invited_reaches_it_and_the_chair_is_warned(app_ctx):
    """docs/hrda.md: the referring agency, not invited, may be given an action; it sees it on its
    action list (linking to its referral, not the meeting it may not open), the referral and the
    person's chronology; the chair's page warns it was not invited. No other uninvited agency."""
    police = AgencyFactory(name="Uninvited Police", kind=AgencyKind.POLICE)
    team, housing = AgencyFactory(name="Uninvited HRDA team"), AgencyFactory(name="Uninvited Housing")
    chair = make_user(roles=("hrda_chair",), agency=team)
    routed("hrda", team)
    officer = make_user(agency=police)
    person = victim(PersonFactory(owner_agency_id=police.id))
    referral = ReferralFactory(person_id=person.id, referred_on=dt.date(2026, 11, 20), owner_agency_id=police.id,
                               receiving_agency_id=team.id, referred_by_id=officer.id)
    meeting = meetings.schedule(day=dt.date(2026, 12, 1), time=dt.time(10), place="Room 1", online=False,
                                agencies=[housing], by=chair, today=TODAY)[0]
    item = hrda.accept(referral, meeting=meeting, version=referral.version, by=chair)
    meetings.start(meeting, by=chair)
    db.session.commit()
    chair_page = Page(sign_in(app_ctx, chair).get(f"/meetings/{meeting.id}"))
    assert "Uninvited Police referred this case but is not invited" in chair_page.select_one(
        f"#not-invited-{item.id.hex}").text
    offered = [o.text for o in chair_page.select(f"select[name='action-{item.id.hex}-agency'] option")]
    assert "Uninvited Police (referred the case, not invited)" in offered
    with pytest.raises(meetings.MeetingError, match="or the agency that referred the case"):
        meeting_records.add_action(item, text="Not theirs", agency=AgencyFactory(), person_name=None,
                                   due_on=dt.date(2026, 12, 5), by=chair, today=TODAY)
    meeting_records.add_action(item, text="Flag the address", agency=police, person_name=None,
                               due_on=dt.date(2026, 12, 5), by=chair, today=TODAY)
    meeting_records.add_action(item, text="Fit door locks", agency=housing, person_name=None,
                               due_on=dt.date(2026, 12, 10), by=chair, today=TODAY)
    db.session.commit()
    client = sign_in(app_ctx, officer)
    mine = Page(client.get("/hrda-actions"))
    assert "Flag the address" in mine.text and "Fit door locks" not in mine.text
    assert mine.select(f"a[href='/referrals/{referral.id}']") and not mine.select("a[href^='/meetings/']")
    assert client.get(f"/meetings/{meeting.id}").status_code in (403, 404)
    outcome = Page(client.get(f"/referrals/{referral.id}")).select_one("#actions").text
    assert "Flag the address" in outcome and "Fit door locks" not in outcome
    chronology = Page(client.get(f"/people/{person.id}/chronology")).text
    assert "HRDA action for Uninvited Police" in chronology and "Uninvited Housing" not in chronology
