"""A caseworker's whole journey in Chromium: record a domestic abuse incident with a new victim (a
duplicate warning for a similar person) and perpetrator, complete a DASH checklist with 15 yes
answers, see "high risk", refer to HRDA; a second incident within 12 months flags both people as
repeats. axe-core checks every page of the journey and the case pages for accessibility."""

from __future__ import annotations

import datetime as dt

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


def _sign_in(page, email: str, password: str, secret: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/sign-in/code")
    page.fill("#code", crypto.totp_now(secret))
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/")


def _fill_date(page, name: str, day: dt.date) -> None:  # type: ignore[no-untyped-def]
    page.fill(f"#{name}-day", str(day.day))
    page.fill(f"#{name}-month", str(day.month))
    page.fill(f"#{name}-year", str(day.year))


def _record_incident(page, day: dt.date) -> None:  # type: ignore[no-untyped-def]
    page.goto("/incidents/new")
    _fill_date(page, "occurred_on", day)
    page.check("input[name=category][value=violence_with_injury]")
    page.check("#domestic_abuse")
    page.click("main button:has-text('Save')")
    page.wait_for_selector("h1:has-text('Violence with injury')")


def _add_new_person(page, role: str, *, surname: str, forenames: str, born: dt.date,  # type: ignore[no-untyped-def]
                    expect_duplicate: bool) -> None:
    page.click(f"a:has-text('Add a {role}')")
    page.click("a:has-text('Record a new person')")
    page.fill("#surname", surname)
    page.fill("#forenames", forenames)
    _fill_date(page, "date_of_birth", born)
    page.click("main button:has-text('Save person')")
    if expect_duplicate:
        warning = page.locator("#duplicates")
        assert "This person may already be known" in warning.inner_text()
        page.click("main button:has-text('None of these: record a new person')")
    page.wait_for_selector("h1:has-text('Add ')")
    page.click("main button:has-text('Add to the incident')")
    page.wait_for_selector(f"td:has-text('{role.capitalize()}')")


def _add_known_person(page, role: str, *, surname: str, forenames: str) -> None:  # type: ignore[no-untyped-def]
    page.click(f"a:has-text('Add a {role}')")
    page.fill("#surname", surname)
    page.fill("#forenames", forenames)
    page.click("main button:has-text('Search')")
    page.click(f"#results ~ div table a:has-text('{forenames} {surname}')")
    page.click("main button:has-text('Add to the incident')")
    page.wait_for_selector(f"td:has-text('{role.capitalize()}')")


def choose_service(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The referral's receiving service: a choice by name where the type has several services (other
    tests in the session may have routed more), else shown as the one service."""
    if page.locator("input[type=radio][name=receiving_agency]").count():
        page.get_by_label(name, exact=True).check()
    else:
        assert name in page.locator("#receiving_agency").inner_text()


def refer_to_hrda(page, service: str, *, reason: str, children: str, axe=None,  # type: ignore[no-untyped-def]
                  in_case: bool = False) -> None:
    """From a person's page: make an HRDA referral on professional judgement, with consent, to
    `service` (within the person's first case if `in_case`); `axe`, if given, checks the type's page
    and the filled-in form. Ends on the referral's page."""
    page.click("a:has-text('Make a referral')")
    if axe is not None:
        axe(page)
    page.check("input[name=type][value=hrda]")
    page.click("main button:has-text('Continue')")
    page.wait_for_selector("h1:has-text('Make an HRDA referral')")
    choose_service(page, service)
    page.check("input[name=consent][value=given]")
    page.check("input[name=criteria][value=professional_judgement]")
    page.fill("#reason", reason)
    page.check(f"input[name=children_in_household][value={children}]")
    if in_case:
        page.select_option("#case", index=1)
    if axe is not None:
        axe(page)
    page.click("main button:has-text('Make the referral')")
    page.wait_for_selector("h1:has-text('HRDA referral')")


@pytest.fixture()
def journey_setup(live_server, live_user):  # type: ignore[no-untyped-def]
    """A caseworker of a police agency, the HRDA's agency, and an existing person like the victim."""
    from tests.factories import AgencyFactory, PersonFactory, routed

    with live_server.app.app_context():
        police = AgencyFactory(name=f"Dorset Police {dt.datetime.now().timestamp()}")
        hrda = AgencyFactory(name=f"Dorset HRDA {dt.datetime.now().timestamp()}")
        routed("hrda", hrda)  # HRDA referrals go to this agency's chair
        PersonFactory(surname="Whitcombe", forenames="Janet", date_of_birth=dt.date(1990, 4, 12),
                      owner_agency_id=police.id)
        db.session.commit()
        police_id, hrda_name = police.id, hrda.name
    from tests.fixtures_auth import PASSWORD, make_user

    with live_server.app.app_context():
        agency = db.session.get(type(police), police_id)
        user = make_user(agency=agency)
        db.session.commit()
        return user.email, PASSWORD, user.totp_secret, hrda_name


def test_caseworker_journey_incident_dash_hrda_referral_and_repeat_flags(page, journey_setup):
    email, password, secret, hrda_name = journey_setup
    today = today_in_london()
    _sign_in(page, email, password, secret)

    # Saved empty, the incident form lists every error at once, in page order; a link focuses its box.
    page.goto("/incidents/new")
    page.fill("#occurred_on-day", "32")
    page.fill("#occurred_on-month", "13")
    page.fill("#occurred_on-year", "25")
    page.click("main button:has-text('Save')")
    links = page.locator(".govuk-error-summary a")
    assert links.all_inner_texts() == ["Date of the incident must be a real date", "Select the category"]
    links.nth(0).click()
    assert page.evaluate("document.activeElement.id") == "occurred_on-day"
    links.nth(1).click()
    assert page.evaluate("document.activeElement.id") == "category"
    _axe(page)

    # A domestic abuse incident with a new victim (like an existing person) and a new perpetrator.
    _record_incident(page, today - dt.timedelta(days=60))
    _add_new_person(page, "victim", surname="Whitcombe", forenames="Jayne", born=dt.date(1990, 4, 12),
                    expect_duplicate=True)
    _add_new_person(page, "perpetrator", surname="Pardoe", forenames="Keith", born=dt.date(1986, 9, 3),
                    expect_duplicate=False)

    # The victim's DASH checklist: 15 yes answers make high risk, and an HRDA referral is proposed.
    page.click("a:has-text('Jayne Whitcombe')")
    page.click("#risk-assessments a:has-text('Complete a DASH checklist')")
    page.wait_for_selector("input[name=q1]")
    _axe(page)
    for n in range(1, 25):
        page.check(f"input[name=q{n}][value={'yes' if n <= 15 else 'no'}]")
    page.fill("#n1", "Bruising to the arms")
    page.click("button:has-text('Complete the checklist')")
    page.wait_for_selector("h1:has-text('DASH risk checklist')")
    assert "High risk" in page.locator("main").inner_text()
    assert "visible high risk: a DASH score of 15" in page.locator("#proposal").inner_text()
    _axe(page)

    page.click("a:has-text('Make an HRDA referral')")
    choose_service(page, hrda_name)
    page.check("input[name=consent][value=given]")
    page.check("input[name=children_in_household][value=yes]")
    _axe(page)
    page.click("main button:has-text('Make the referral')")
    page.wait_for_selector("h1:has-text('HRDA referral')")
    body = page.locator("main").inner_text()
    assert "Submitted" in body and "Visible high risk (DASH)" in body and "15" in body
    _axe(page)
    page.click("main a:has-text('Jayne Whitcombe')")
    assert "HRDA" in page.locator("#referrals").inner_text()
    assert "High risk" in page.locator("#risk-assessments").inner_text()
    _axe(page)

    # A second incident within 12 months, with the same two people: both are now repeats.
    _record_incident(page, today - dt.timedelta(days=10))
    _add_known_person(page, "victim", surname="Whitcombe", forenames="Jayne")
    _add_known_person(page, "perpetrator", surname="Pardoe", forenames="Keith")
    second_incident = page.url
    repeats = page.locator("#repeats").inner_text()
    assert "Repeat victim event: domestic abuse" in repeats
    assert "Repeat perpetrator event: domestic abuse" in repeats
    page.click("#people a:has-text('Jayne Whitcombe')")
    assert "Repeat victim: domestic abuse" in page.locator("#flags").inner_text()
    page.go_back()
    page.click("#people a:has-text('Keith Pardoe')")
    assert "Repeat perpetrator: domestic abuse" in page.locator("#flags").inner_text()

    # The case pages: open a case for the perpetrator's victim, add a note and a task, close it.
    page.go_back()
    page.click("#people a:has-text('Jayne Whitcombe')")
    page.click("#cases a:has-text('Open a case')")
    page.check("input[name=kind][value=domestic_abuse]")
    _fill_date(page, "review_on", today + dt.timedelta(days=14))
    _axe(page)
    page.click("main button:has-text('Open the case')")
    page.wait_for_selector("h1:has-text('Domestic abuse case')")
    page.select_option("#incident", index=1)
    page.click("main button:has-text('Link the incident')")
    # Anyone the caseworker may see is found from the case page and linked in a role.
    page.fill("#people #surname", "Pardoe")
    page.click("#people button:has-text('Search')")
    page.wait_for_selector("h1:has-text('Link a person to the case')")
    _axe(page)
    page.locator("tr:has-text('Keith Pardoe') select").select_option("perpetrator")
    page.click("tr:has-text('Keith Pardoe') button:has-text('Link to the case')")
    page.wait_for_selector("h1:has-text('Domestic abuse case')")
    assert "Keith Pardoe" in page.locator("#people table").inner_text()
    page.fill("#text", "Spoke to Jayne: staying with her sister")
    page.click("main button:has-text('Add the note')")
    page.fill("#title", "Safety plan review")
    _fill_date(page, "due_on", today + dt.timedelta(days=3))
    page.click("main button:has-text('Add the task')")
    assert "Spoke to Jayne" in page.locator("#timeline").inner_text()
    _axe(page)
    page.click("a:has-text('Close the case')")
    _axe(page)
    assert "It leaves" in page.inner_text("#effects")
    page.fill("#outcome", "Moved to a refuge")
    page.click("main button:has-text('Close the case')")
    assert "Closed" in page.locator("#details").inner_text()
    # Removing the perpetrator from the second incident says whose flag changes, and only then does it.
    page.goto(second_incident)
    page.click("#people a:has-text('Remove perpetrator Keith Pardoe')")
    page.wait_for_selector("h1:has-text('Remove Keith Pardoe from the incident?')")
    assert "Keith Pardoe's repeat-perpetrator flag will be recalculated" in page.inner_text("#effects")
    _axe(page)
    page.click("main button:has-text('Remove from the incident')")
    page.wait_for_selector("h1:has-text('Violence with injury')")
    assert "Keith Pardoe" not in page.locator("#people").inner_text()
    assert "Not a repeat perpetrator event" in page.locator("#repeats").inner_text()
    for path in ("/cases", "/referrals?box=sent", "/"):
        page.goto(path)
        _axe(page)
