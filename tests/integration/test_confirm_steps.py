"""Confirmation before what cannot be undone, through the pages' links and buttons: removing a
person from an incident (naming whose repeat flag is recalculated), starting and closing an HRDA
meeting (a reason, kept sealed and audited, when closing before its date). A post that skips the
confirmation page changes nothing. (Closing a referral: test_referrals; a case: test_cases.)"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import AgencyKind, AuditEntry, Meeting, MeetingState, Party, PartyRole
from casework.services import meetings
from tests.confirm_support import confirm
from tests.conftest import Page
from tests.factories import AgencyFactory
from tests.fixtures_auth import make_user, sign_in
from tests.integration.people_support import make_world


def _parties(incident) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(Party).where(Party.incident_id == incident.id))


def test_removing_a_person_says_whose_repeat_flag_is_recalculated_and_needs_the_confirmation(app_ctx):
    world = make_world(app_ctx)
    lisa = world.person(forenames="Lisa", surname="Price")
    incident = world.incident(on=dt.date(2024, 5, 1), parties=((lisa, PartyRole.VICTIM),))
    party = db.session.scalar(select(Party).where(Party.incident_id == incident.id))
    db.session.commit()
    incident_page = Page(world.client.get(f"/incidents/{incident.id}"))
    link = incident_page.select_one("#people a[href$='/remove']")
    assert link["href"] == f"/incidents/{incident.id}/parties/{party.id}/remove"
    page = Page(world.client.get(link["href"]))
    assert page.status_code == 200 and page.h1 == "Remove Lisa Price from the incident?"
    effects = [li.get_text(" ", strip=True) for li in page.select("#effects li")]
    assert "Lisa Price will no longer be a victim in this incident." in effects
    assert any(e.startswith("Lisa Price's repeat-victim flag will be recalculated") for e in effects)
    assert page.select_one(f"main a[href='/incidents/{incident.id}#people']").text == "Cancel"
    # The old one-click post, without the confirmation page's button, only shows that page.
    skipped = Page(world.client.post(link["href"], data={}))
    assert skipped.status_code == 200 and skipped.h1 == page.h1
    assert _parties(incident) == 1
    response = confirm(world.client, page)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/incidents/{incident.id}")
    assert _parties(incident) == 0


def test_removing_a_party_of_another_incident_is_not_found(app_ctx):
    world = make_world(app_ctx)
    person = world.person()
    first = world.incident(on=dt.date(2024, 5, 1), parties=((person, PartyRole.VICTIM),))
    second = world.incident(on=dt.date(2024, 5, 2))
    party = db.session.scalar(select(Party).where(Party.incident_id == first.id))
    db.session.commit()
    assert world.client.get(f"/incidents/{second.id}/parties/{party.id}/remove").status_code == 404
    assert world.client.post(f"/incidents/{second.id}/parties/{party.id}/remove",
                             data={"confirm": "yes"}).status_code == 404
    assert _parties(first) == 1


@pytest.fixture()
def chair_world(app_ctx):
    team = AgencyFactory(name="HRDA team", kind=AgencyKind.COUNCIL)
    housing = AgencyFactory(name="Housing", kind=AgencyKind.HOUSING)
    chair = make_user(roles=("hrda_chair",), agency=team)
    db.session.commit()
    return {"team": team, "housing": housing, "chair": chair, "client": sign_in(app_ctx, chair),
            "today": today_in_london()}


def _schedule(world, day: dt.date) -> Meeting:  # type: ignore[no-untyped-def]
    meeting = meetings.schedule(day=day, time=dt.time(10), place="Room 1", online=False,
                                agencies=[world["housing"]], by=world["chair"], today=min(day, world["today"]))[0]
    db.session.commit()
    return meeting


def _state_page(client, meeting: Meeting, label: str) -> Page:  # type: ignore[no-untyped-def]
    page = Page(client.get(f"/meetings/{meeting.id}"))
    button = next(a for a in page.select("main a.govuk-button") if a.get_text(strip=True) == label)
    return Page(client.get(button["href"]))


def test_starting_a_meeting_is_confirmed_first(chair_world):
    client = chair_world["client"]
    meeting = _schedule(chair_world, chair_world["today"])
    assert client.post(f"/meetings/{meeting.id}/state", data={"direction": "start"}).status_code == 200
    db.session.refresh(meeting)
    assert meeting.state is MeetingState.PLANNED
    page = _state_page(client, meeting, "Start the meeting")
    assert page.h1 == "Start the meeting?"
    assert "it cannot be set back to planned" in page.select_one("#effects").text
    assert confirm(client, page).status_code == 302
    db.session.refresh(meeting)
    assert meeting.state is MeetingState.IN_PROGRESS


def test_closing_a_meeting_before_its_date_needs_a_reason_kept_sealed_and_audited(chair_world):
    client = chair_world["client"]
    meeting = _schedule(chair_world, chair_world["today"] + dt.timedelta(days=4))
    meetings.start(meeting, by=chair_world["chair"])
    db.session.commit()
    page = _state_page(client, meeting, "Close the meeting")
    assert page.h1 == "Close the meeting?"
    effects = page.select_one("#effects").text
    assert "Housing will keep the shared records" in effects and "give the reason for closing it early" in effects
    refused = Page(confirm(client, page))
    assert refused.status_code == 400
    assert [a["href"] for a in refused.select(".govuk-error-summary a")] == ["#reason"]
    assert refused.select_one("textarea#reason") is not None
    db.session.refresh(meeting)
    assert meeting.state is MeetingState.IN_PROGRESS
    response = confirm(client, page, reason="All cases were heard at the extra meeting on Monday")
    assert response.status_code == 302
    db.session.refresh(meeting)
    assert meeting.state is MeetingState.CLOSED
    assert meeting.early_close_reason == "All cases were heard at the extra meeting on Monday"
    sealed = db.session.execute(select(Meeting.__table__.c.early_close_reason)
                                .where(Meeting.__table__.c.id == meeting.id)).scalar_one()
    assert b"extra meeting" not in sealed
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "meeting.close",
                                                        AuditEntry.record_id == meeting.id)).one()
    assert json.loads(entry.details) == {"fields": ["closed_at", "early_close_reason", "state"]}
    shown = Page(client.get(f"/meetings/{meeting.id}")).select_one("#early-close-reason").text
    assert "extra meeting on Monday" in shown


def test_closing_on_the_day_asks_no_reason(chair_world):
    client = chair_world["client"]
    meeting = _schedule(chair_world, chair_world["today"])
    meetings.start(meeting, by=chair_world["chair"])
    db.session.commit()
    page = _state_page(client, meeting, "Close the meeting")
    assert page.select_one("textarea") is None
    assert confirm(client, page).status_code == 302
    db.session.refresh(meeting)
    assert meeting.state is MeetingState.CLOSED and meeting.early_close_reason is None
