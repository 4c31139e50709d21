"""Every page of the people and incident journeys in Chromium, signed in as a caseworker, checked by
axe-core (axe.min.js ships inside axe-playwright-python: it runs offline), with JavaScript off for
the journey itself: the pages work without it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import update

from casework import crypto
from casework.db import db
from casework.models import (
    AgencyKind,
    Category,
    Incident,
    Party,
    PartyRole,
    Person,
    User,
)
from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


def _axe(page) -> None:  # type: ignore[no-untyped-def]
    count, report = axe_violations(page)  # less GOV.UK's known conditional-radio finding
    assert count == 0, f"{page.url}\n{report}"


@pytest.fixture()
def caseworker(live_server, live_user):  # type: ignore[no-untyped-def]
    """A caseworker with a few records: two people (one with a hidden address), incidents, and
    another agency's person of the same name."""
    email, password, secret = live_user()
    with live_server.app.app_context():
        from tests.factories import AgencyFactory

        user = db.session.query(User).filter_by(email=email).one()
        other = AgencyFactory(name=f"Other {uuid.uuid4().hex[:6]}", kind=AgencyKind.COUNCIL)
        tag = uuid.uuid4().hex[:6]
        surname = f"Axe{tag}"
        victim = Person(surname=surname, forenames="Vera", date_of_birth=dt.date(1985, 3, 4), postcode="DT1 1XJ",
                        address="1 Hidden Row", do_not_disclose_address=True, owner_agency_id=user.agency_id)
        twin = Person(surname=surname, forenames="Vera", date_of_birth=dt.date(1985, 3, 4),
                      owner_agency_id=user.agency_id)
        stranger = Person(surname=surname, forenames="Sam", owner_agency_id=other.id)
        db.session.add_all([victim, twin, stranger])
        db.session.flush()
        for days in (300, 30):
            incident = Incident(occurred_on=dt.date.today() - dt.timedelta(days=days), category=Category.ROBBERY,
                                domestic_abuse=True, recorded_by=AgencyKind.POLICE, owner_agency_id=user.agency_id)
            db.session.add(incident)
            db.session.flush()
            db.session.add(Party(incident_id=incident.id, person_id=victim.id, role=PartyRole.VICTIM))
        db.session.commit()
        ids = {"victim": victim.id, "twin": twin.id, "incident": incident.id, "surname": surname}
    return email, password, secret, ids


def _sign_in(page, email: str, password: str, secret: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/sign-in/code")
    page.fill("#code", crypto.totp_now(secret))
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/")


def test_people_and_incident_pages_have_no_axe_violations(page, live_server, caseworker):
    email, password, secret, ids = caseworker
    _sign_in(page, email, password, secret)
    victim, twin, incident, surname = ids["victim"], ids["twin"], ids["incident"], ids["surname"]
    for url in ("/people", f"/people?surname={surname}", "/people?postcode=nonsense", "/people/new",
                f"/people/{victim}", f"/people/{victim}/edit", f"/people/{victim}/merge",
                f"/people/{victim}/merge?surname={surname}", f"/people/{victim}/merge/{twin}", "/incidents",
                "/incidents/new", f"/incidents/{incident}", f"/incidents/{incident}/edit",
                f"/incidents/{incident}/people?role=victim&surname={surname}",
                f"/incidents/{incident}/people/{twin}?role=victim"):
        response = page.goto(url)
        assert response is not None and response.status in (200, 400), url
        _axe(page)
    # The hidden address, shown on request.
    page.goto(f"/people/{victim}")
    page.click("button:has-text('Show the address')")
    page.wait_for_selector("dd:has-text('1 Hidden Row')")
    _axe(page)
    # Errors on a form, and the duplicate warning.
    page.goto("/people/new")
    page.click("main button:has-text('Save person')")
    page.wait_for_selector(".govuk-error-summary")
    _axe(page)
    page.fill("#surname", surname)
    page.fill("#forenames", "Vera")
    page.fill("#date_of_birth-day", "4")
    page.fill("#date_of_birth-month", "3")
    page.fill("#date_of_birth-year", "1985")
    page.click("main button:has-text('Save person')")
    page.wait_for_selector("#duplicates")
    assert "A restricted record" not in page.inner_text("#duplicates")
    _axe(page)
    page.goto("/incidents/new")
    page.check("input[name=category][value=asb]")
    page.click("main button:has-text('Save')")
    page.wait_for_selector(".govuk-error-summary")
    _axe(page)
    # A stale edit.
    page.goto(f"/people/{twin}/edit")
    with live_server.app.app_context():
        db.session.execute(update(Person).where(Person.id == twin).values(version=Person.version + 1))
        db.session.commit()
    page.click("main button:has-text('Save changes')")
    page.wait_for_selector("h1:has-text('Someone else changed this person')")
    _axe(page)


def test_recording_an_incident_and_its_people_works_without_javascript(browser, live_server, caseworker):
    email, password, secret, ids = caseworker
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(30_000)  # generous: CI shares 2 cores with a second test worker
    try:
        _sign_in(page, email, password, secret)
        page.goto("/incidents/new")
        today = dt.date.today()
        page.fill("#occurred_on-day", str(today.day))
        page.fill("#occurred_on-month", str(today.month))
        page.fill("#occurred_on-year", str(today.year))
        page.check("input[name=category][value=violence_with_injury]")
        page.check("#domestic_abuse")
        page.click("main button:has-text('Save')")
        page.wait_for_selector("h1:has-text('Violence with injury')")
        page.click("a:has-text('Add a victim')")
        page.fill("#surname", ids["surname"])
        page.fill("#forenames", "Vera")
        page.click("main button:has-text('Search')")
        page.click(f"#results ~ div table a[href*='{ids['victim']}']")
        page.click("main button:has-text('Add to the incident')")
        page.wait_for_selector("#repeats")
        assert "Repeat victim event: domestic abuse" in page.inner_text("#repeats")
        page.click("a:has-text('Add a perpetrator')")
        page.click("a:has-text('Record a new person')")
        page.fill("#surname", f"New{uuid.uuid4().hex[:6]}")
        page.click("main button:has-text('Save person')")
        page.click("main button:has-text('Add to the incident')")
        page.wait_for_selector("td:has-text('Perpetrator')")
    finally:
        context.close()
