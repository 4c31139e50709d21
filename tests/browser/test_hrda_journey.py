"""An HRDA chair's whole journey in Chromium: review and accept two referrals (one a repeat, its
meeting preselected), build the agenda, two agencies add research, the chair records minutes and
actions and closes the meeting, and an agency marks its action done. axe-core checks the pages."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from casework import crypto
from casework.db import db
from casework.measures.periods import today_in_london
from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


def _axe(page) -> None:  # type: ignore[no-untyped-def]
    """No axe-core violations on the page (but GOV.UK's known conditional-radio one: see conftest)."""
    count, report = axe_violations(page)
    assert count == 0, f"{page.url}\n{report}"


_LAST_STEP: dict[str, int] = {}


def _next_code(secret: str) -> str:
    """Each code works once: a second sign-in within the same 30-second step uses the next step's code
    (the server accepts one step either side), so the journey never waits and never reuses a code."""
    step = max(int(time.time()) // 30, _LAST_STEP.get(secret, -1) + 1)
    _LAST_STEP[secret] = step
    return crypto.totp_now(secret, at=dt.datetime.fromtimestamp(step * 30, dt.UTC))


def _sign_in(page, user: tuple[str, str, str]) -> None:  # type: ignore[no-untyped-def]
    email, password, secret = user
    page.goto("/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/sign-in/code")
    page.fill("#code", _next_code(secret))
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/")


def _as(browser, live_server, user):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(30_000)  # generous: CI shares 2 cores with a second test worker
    _sign_in(page, user)
    return context, page


def _fill_date(scope, suffix: str, day: dt.date) -> None:  # type: ignore[no-untyped-def]
    scope.locator(f"input[name$='{suffix}-day']").fill(str(day.day))
    scope.locator(f"input[name$='{suffix}-month']").fill(str(day.month))
    scope.locator(f"input[name$='{suffix}-year']").fill(str(day.year))


@pytest.fixture()
def hrda_world(live_server):  # type: ignore[no-untyped-def]
    """Police, housing and the HRDA team; a chair and two caseworkers; a meeting tomorrow inviting
    police and housing; two submitted HRDA referrals, the second a repeat."""
    from casework.models import AgencyKind, ReferralStatus
    from casework.services import meetings
    from tests.factories import AgencyFactory, PersonFactory, ReferralFactory, routed
    from tests.fixtures_auth import PASSWORD, make_user

    stamp = dt.datetime.now().timestamp()
    today = today_in_london()
    with live_server.app.app_context():
        police = AgencyFactory(name=f"Police {stamp}", kind=AgencyKind.POLICE)
        housing = AgencyFactory(name=f"Housing {stamp}", kind=AgencyKind.HOUSING)
        team = AgencyFactory(name=f"HRDA team {stamp}", kind=AgencyKind.COUNCIL)
        users = {role: make_user(roles=roles, agency=agency) for role, roles, agency in (
            ("chair", ("hrda_chair",), team), ("police", ("caseworker",), police),
            ("housing", ("caseworker",), housing))}
        routed("hrda", team)  # the chair decides the HRDA referrals routed to the team
        meeting = meetings.schedule(day=today + dt.timedelta(days=1), time=dt.time(10), place="Room 2",
                                    online=True, agencies=[police, housing], by=users["chair"], today=today)[0]
        first = PersonFactory(owner_agency_id=police.id, forenames="Amy", surname=f"Ash{int(stamp)}")
        second = PersonFactory(owner_agency_id=police.id, forenames="Bea", surname=f"Birch{int(stamp)}")
        common = {"owner_agency_id": police.id, "receiving_agency_id": team.id, "dash_score": 15,
                  "children_in_household": True, "criteria_held": "dash", "referred_by_id": users["police"].id}
        ReferralFactory(person_id=first.id, referred_on=today - dt.timedelta(days=6), **common)
        ReferralFactory(person_id=second.id, referred_on=today - dt.timedelta(days=200), status=ReferralStatus.CLOSED,
                        **common)
        ReferralFactory(person_id=second.id, referred_on=today - dt.timedelta(days=2), **common)
        db.session.commit()
        return {"meeting_id": meeting.id, "first": first.display_name, "second": second.display_name,
                "today": today, "housing_name": housing.name,
                **{k: (u.email, PASSWORD, u.totp_secret) for k, u in users.items()}}


def test_chair_journey_from_referrals_to_a_closed_meeting_and_a_done_action(browser, live_server, hrda_world):
    w = hrda_world
    meeting_url = f"/meetings/{w['meeting_id']}"
    chair_context, chair = _as(browser, live_server, w["chair"])
    # Review and accept both referrals; the repeat has the next meeting preselected.
    chair.goto("/hrda/referrals")
    _axe(chair)
    row = chair.locator("#queue tbody tr").filter(has_text=w["second"])
    assert "Repeat" in row.inner_text()
    chair.click(f"#queue a:has-text('{w['first']}')")
    _axe(chair)
    chair.check("input[name=decision][value=accept]")
    chair.select_option("#meeting", str(w["meeting_id"]))
    chair.click("main button:has-text('Save the decision')")
    chair.wait_for_url(f"**{meeting_url}")
    chair.goto("/hrda/referrals")
    chair.click(f"#queue a:has-text('{w['second']}')")
    assert chair.locator("#meeting").input_value() == str(w["meeting_id"])
    chair.click("main button:has-text('Save the decision')")
    chair.wait_for_url(f"**{meeting_url}")
    # Build the agenda: the repeat goes first.
    chair.locator("#agenda > section").nth(1).locator("button:has-text('Move up')").click()
    chair.wait_for_url(f"**{meeting_url}*")
    assert w["second"] in chair.locator("#agenda > section").nth(0).locator("h3").inner_text()
    _axe(chair)
    chair.goto(f"{meeting_url}/agenda")
    assert chair.locator("li.app-agenda-item").count() == 2
    _axe(chair)

    # Two agencies add their research.
    for who, facts in (("police", "Three call-outs since May"), ("housing", "Rent arrears; tenancy at risk")):
        context, page = _as(browser, live_server, w[who])
        page.goto(meeting_url)
        case = page.locator("#agenda > section").nth(0)
        case.locator("summary:has-text('Your agency')").click()
        case.locator("textarea[name$='-facts']").fill(facts)
        case.locator("textarea[name$='-opinion']").fill("Risk is rising")
        _fill_date(case, "checked_on", w["today"])
        case.locator("button:has-text('Save research')").click()
        page.wait_for_url(f"**{meeting_url}*")
        assert facts in page.locator("#agenda > section").nth(0).inner_text()
        _axe(page)
        context.close()

    # In the meeting: minutes and an action for housing, then close.
    chair.goto(meeting_url)
    assert "Three call-outs" in chair.inner_text("#agenda")
    chair.click("main a:has-text('Start the meeting')")
    chair.wait_for_selector("h1:has-text('Start the meeting?')")
    _axe(chair)
    chair.click("main button:has-text('Start the meeting')")
    chair.wait_for_url(f"**{meeting_url}*")
    case = chair.locator("#agenda > section").nth(0)
    case.locator("summary:has-text('Record the minutes')").click()
    case.locator("textarea[name$='-discussion']").fill("Agreed a joint visit")
    case.locator("textarea[name$='-safety_plan']").fill("Refuge place offered")
    case.locator("button:has-text('Save the minutes')").click()
    chair.wait_for_url(f"**{meeting_url}*")
    case = chair.locator("#agenda > section").nth(0)
    case.locator("summary:has-text('Add an action')").click()
    case.locator("textarea[name$='-text']").fill("Fit door locks")
    case.locator("select[name$='-agency']").select_option(label=w["housing_name"])
    _fill_date(case, "due_on", w["today"] + dt.timedelta(days=7))
    case.locator("button:has-text('Add the action')").click()
    chair.wait_for_url(f"**{meeting_url}*")
    assert "Fit door locks" in chair.inner_text("#agenda")
    # The meeting is tomorrow: closing it today asks why, and only the confirmation page's button closes it.
    chair.click("main a:has-text('Close the meeting')")
    chair.wait_for_selector("h1:has-text('Close the meeting?')")
    assert "give the reason for closing it early" in chair.inner_text("#effects")
    chair.click("main button:has-text('Close the meeting')")
    chair.wait_for_selector(".govuk-error-summary")
    chair.click(".govuk-error-summary a:has-text('Enter the reason')")
    assert chair.evaluate("document.activeElement.id") == "reason"
    _axe(chair)
    chair.fill("#reason", "Both cases were heard early at the extra meeting")
    chair.click("main button:has-text('Close the meeting')")
    chair.wait_for_url(f"**{meeting_url}*")
    assert "Both cases were heard early" in chair.inner_text("#early-close-reason")
    assert "This meeting is closed" in chair.inner_text("main")
    _axe(chair)

    # Housing marks its action done; the chair's outstanding list empties.
    context, housing = _as(browser, live_server, w["housing"])
    housing.goto("/hrda-actions")
    _axe(housing)
    section = housing.locator("section").filter(has_text="Fit door locks")
    section.locator("textarea[name$='-progress']").fill("Locks fitted")
    section.locator("input[name$='-done']").check()
    section.locator("button:has-text('Save')").click()
    housing.wait_for_url("**/hrda-actions")
    assert "Fit door locks" not in housing.inner_text("main")
    context.close()
    chair.goto("/hrda/actions")
    assert "Fit door locks" not in chair.inner_text("main")
    _axe(chair)
    chair_context.close()
