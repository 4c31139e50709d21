"""HRDA pages: the chair's queue and review (a repeat preselects the next meeting), accepting and
declining, the meeting page only for participants and audited, research, minutes, actions, the
agenda's CSV (formula-like text neutralised), figures, and overdue actions on the home page."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import AgencyKind, AuditEntry, MeetingCase, ReferralStatus
from casework.services import meeting_records, meetings
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory, ReferralFactory, routed, victim
from tests.fixtures_auth import make_user, sign_in


@pytest.fixture()
def world(app_ctx):
    police = AgencyFactory(name="Police", kind=AgencyKind.POLICE)
    team = AgencyFactory(name="HRDA team", kind=AgencyKind.COUNCIL)
    housing = AgencyFactory(name="Housing", kind=AgencyKind.HOUSING)
    chair = make_user(roles=("hrda_chair",), agency=team)
    routed("hrda", team)  # the chair decides the HRDA referrals routed to team
    today = today_in_london()
    meeting = meetings.schedule(day=today + dt.timedelta(days=3), time=dt.time(10), place="Room 1", online=False,
                                agencies=[police, housing], by=chair, today=today)[0]
    db.session.commit()
    return {"police": police, "team": team, "housing": housing, "chair": chair, "meeting": meeting,
            "today": today, "officer": make_user(agency=police), "housing_worker": make_user(agency=housing)}


def _referral(world, person=None, days_ago=5, **kwargs):
    person = person or victim(PersonFactory(owner_agency_id=world["police"].id, surname="Smith"))
    referral = ReferralFactory(person_id=person.id, referred_on=world["today"] - dt.timedelta(days=days_ago),
                               owner_agency_id=world["police"].id, receiving_agency_id=world["team"].id,
                               dash_score=16, children_in_household=True, criteria_held="dash",
                               referred_by_id=world["officer"].id, **kwargs)
    db.session.commit()
    return referral


def test_the_queue_is_oldest_first_and_sorts_on_the_server(app_ctx, world):
    newer, older = _referral(world, days_ago=2), _referral(world, days_ago=9)
    chair = sign_in(app_ctx, world["chair"])
    links = [a["href"] for a in Page(chair.get("/hrda/referrals")).select("#queue tbody a")]
    assert links == [f"/hrda/referrals/{older.id}", f"/hrda/referrals/{newer.id}"]
    links = [a["href"] for a in Page(chair.get("/hrda/referrals?sort=-waiting")).select("#queue tbody a")]
    assert links == [f"/hrda/referrals/{newer.id}", f"/hrda/referrals/{older.id}"]


def test_a_repeat_preselects_the_next_meeting_and_accepting_lists_it(app_ctx, world):
    person = victim(PersonFactory(owner_agency_id=world["police"].id))
    _referral(world, person, days_ago=100, status=ReferralStatus.CLOSED)
    repeat = _referral(world, person)
    chair = sign_in(app_ctx, world["chair"])
    page = Page(chair.get(f"/hrda/referrals/{repeat.id}"))
    assert page.select_one("#meeting option[selected]")["value"] == str(world["meeting"].id)
    assert page.select_one("input[name=decision][value=accept]").has_attr("checked")
    response = chair.post(f"/hrda/referrals/{repeat.id}/decision",
                          data={"decision": "accept", "meeting": str(world["meeting"].id), "version": repeat.version})
    assert response.status_code == 302
    assert db.session.scalar(select(MeetingCase.meeting_id).where(MeetingCase.referral_id == repeat.id)) == \
        world["meeting"].id


def test_accepting_without_a_meeting_or_declining_without_a_reason_is_refused(app_ctx, world):
    referral = _referral(world)
    chair = sign_in(app_ctx, world["chair"])
    page = Page(chair.post(f"/hrda/referrals/{referral.id}/decision",
                           data={"decision": "accept", "meeting": "", "version": referral.version}))
    assert page.status_code == 400 and page.select_one(".govuk-error-summary a")["href"] == "#meeting"
    page = Page(chair.post(f"/hrda/referrals/{referral.id}/decision",
                           data={"decision": "decline", "reason": "", "version": referral.version}))
    assert page.status_code == 400 and page.select_one(".govuk-error-summary a")["href"] == "#reason"
    response = chair.post(f"/hrda/referrals/{referral.id}/decision",
                          data={"decision": "decline", "reason": "Below threshold", "version": referral.version})
    assert response.status_code == 302
    officer = sign_in(app_ctx, world["officer"])
    assert "Below threshold" in Page(officer.get("/")).select_one("#decisions").text


def test_only_participants_see_the_meeting_and_each_view_is_audited(app_ctx, world):
    outsider = make_user(agency=AgencyFactory())
    meeting = world["meeting"]
    assert sign_in(app_ctx, outsider).get(f"/meetings/{meeting.id}").status_code == 404
    housing = sign_in(app_ctx, world["housing_worker"])
    assert housing.get(f"/meetings/{meeting.id}").status_code == 200
    views = db.session.scalars(select(AuditEntry.user_id).where(AuditEntry.action == "record.view",
                                                                 AuditEntry.record_id == meeting.id)).all()
    assert views == [world["housing_worker"].id]


def _accepted(app_ctx, world, **kwargs):
    referral = _referral(world, **kwargs)
    chair = sign_in(app_ctx, world["chair"])
    chair.post(f"/hrda/referrals/{referral.id}/decision",
               data={"decision": "accept", "meeting": str(world["meeting"].id), "version": referral.version})
    return chair, db.session.scalar(select(MeetingCase).where(MeetingCase.referral_id == referral.id))


def test_research_is_saved_and_shown_to_other_participants(app_ctx, world):
    _, item = _accepted(app_ctx, world)
    housing = sign_in(app_ctx, world["housing_worker"])
    key = f"research-{item.id.hex}"
    day = world["today"]
    response = housing.post(f"/meetings/{world['meeting'].id}/cases/{item.id}/research", data={
        f"{key}-facts": "Tenancy at risk", f"{key}-opinion": "", f"{key}-checked_on-day": day.day,
        f"{key}-checked_on-month": day.month, f"{key}-checked_on-year": day.year})
    assert response.status_code == 302
    page = Page(sign_in(app_ctx, world["officer"]).get(f"/meetings/{world['meeting'].id}"))
    assert "Tenancy at risk" in page.select_one(f"#case-{item.id.hex}").text


def test_the_agenda_csv_neutralises_formula_like_text(app_ctx, world):
    person = victim(PersonFactory(owner_agency_id=world["police"].id, forenames="=HYPERLINK(1)", surname="Jones"))
    chair, _ = _accepted(app_ctx, world, person=person)
    response = chair.get(f"/meetings/{world['meeting'].id}/agenda?format=csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "Order" and rows[1][1].startswith("'")
    assert "=HYPERLINK" in rows[1][1]
    page = Page(chair.get(f"/meetings/{world['meeting'].id}/agenda"))
    assert page.status_code == 200 and page.select_one(".app-no-print") is not None


def test_actions_overdue_show_on_the_agency_home_page_and_are_marked_done(app_ctx, world):
    chair, item = _accepted(app_ctx, world)
    meeting = world["meeting"]
    meetings.start(meeting, by=world["chair"])
    action = meeting_records.add_action(item, text="Fit door locks", agency=world["housing"], person_name=None,
                                        due_on=world["today"], by=world["chair"], today=world["today"])
    action.due_on = world["today"] - dt.timedelta(days=1)  # time passes
    db.session.commit()
    housing = sign_in(app_ctx, world["housing_worker"])
    assert "Fit door locks" in Page(housing.get("/")).select_one("#overdue-hrda-actions").text
    key = f"action-{action.id.hex}"
    response = housing.post(f"/hrda-actions/{action.id}", data={f"{key}-progress": "Fitted", f"{key}-done": "y"})
    assert response.status_code == 302
    assert Page(housing.get("/")).select_one("#overdue-hrda-actions") is None
    assert "Fit door locks" not in Page(chair.get("/hrda/actions")).soup.text


def test_progress_on_an_action_returns_only_to_a_page_of_this_site(app_ctx, world):
    _chair, item = _accepted(app_ctx, world)
    meetings.start(world["meeting"], by=world["chair"])
    action = meeting_records.add_action(item, text="Fit door locks", agency=world["housing"], person_name=None,
                                        due_on=world["today"], by=world["chair"], today=world["today"])
    db.session.commit()
    housing = sign_in(app_ctx, world["housing_worker"])
    key = f"action-{action.id.hex}"
    for n, (back, expected) in enumerate((("https://evil.example/", "/hrda-actions"),
                                          ("//evil.example/x", "/hrda-actions"),
                                          ("/\t/evil.example/x", "/hrda-actions"), ("/", "/"))):
        response = housing.post(f"/hrda-actions/{action.id}", data={f"{key}-progress": f"Ordered {n}", "back": back})
        assert response.status_code == 302
        assert response.headers["Location"] in (expected, f"http://localhost{expected}")


def test_range_figures_as_a_page_and_csv(app_ctx, world):
    chair, _ = _accepted(app_ctx, world)
    day = world["meeting"].starts_at.date()
    query = (f"first-day={day.day}&first-month={day.month}&first-year={day.year}"
             f"&last-day={day.day}&last-month={day.month}&last-year={day.year}")
    page = Page(chair.get(f"/hrda/figures?{query}"))
    assert page.status_code == 200 and "Cases heard" in page.soup.text
    rows = list(csv.reader(io.StringIO(chair.get(f"/hrda/figures?{query}&format=csv").get_data(as_text=True))))
    assert ["Cases heard", "1"] in rows
    assert Page(chair.get("/hrda/figures?first-day=40")).status_code == 400
