"""A person's and a case's chronology in Chromium, opened through the pages' links, with JavaScript
off: the filter, the pages, the print-friendly view, another agency's incident by identity only,
reflow at 320 px, and no axe-core violations on any of it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from casework.db import db
from casework.models import (
    AgencyKind,
    Case,
    CaseKind,
    CaseNote,
    CasePerson,
    Category,
    Incident,
    Party,
    PartyRole,
    Person,
    User,
)
from tests.browser.test_people_pages import _axe, _sign_in

pytestmark = pytest.mark.browser


@pytest.fixture()
def story(live_server, live_user):  # type: ignore[no-untyped-def]
    """A caseworker's person with a case of 30 notes, an incident of their own agency and one of
    another agency."""
    email, password, secret = live_user()
    with live_server.app.app_context():
        from tests.factories import AgencyFactory

        user = db.session.query(User).filter_by(email=email).one()
        police = AgencyFactory(name=f"Dorset Police {uuid.uuid4().hex[:4]}", kind=AgencyKind.POLICE)
        person = Person(surname=f"Chron{uuid.uuid4().hex[:6]}", forenames="Robin", owner_agency_id=user.agency_id)
        db.session.add(person)
        db.session.flush()
        for agency_id, day in ((user.agency_id, dt.date(2025, 4, 1)), (police.id, dt.date(2025, 5, 3))):
            incident = Incident(occurred_on=day, category=Category.ROBBERY, domestic_abuse=True,
                                recorded_by=AgencyKind.POLICE, owner_agency_id=agency_id)
            db.session.add(incident)
            db.session.flush()
            db.session.add(Party(incident_id=incident.id, person_id=person.id, role=PartyRole.VICTIM))
        case = Case(kind=CaseKind.DOMESTIC_ABUSE, owner_agency_id=user.agency_id, caseworker_id=user.id)
        db.session.add(case)
        db.session.flush()
        db.session.add(CasePerson(case_id=case.id, person_id=person.id, role=PartyRole.VICTIM))
        for n in range(30):
            note = CaseNote(case_id=case.id, author_id=user.id,
                            at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC) + dt.timedelta(hours=n))
            note.text = f"Note number {n}: a longwordwithoutanybreaksthatmustwrapatnarrowwidths{n}"
            db.session.add(note)
        db.session.commit()
        ids = {"person": person.id, "case": case.id, "police": police.name}
    return email, password, secret, ids


def test_the_chronology_through_the_pages_links_without_javascript(browser, live_server, story):
    email, password, secret, ids = story
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        _sign_in(page, email, password, secret)
        page.goto(f"/people/{ids['person']}")
        page.click("#chronology-link")
        page.wait_for_selector("h1")
        assert "32 items" in page.inner_text("#chronology-count")
        assert len(page.query_selector_all(".app-chronology__item")) == 25
        assert "Note number 29" in page.inner_text(".app-chronology__item >> nth=0")
        page.click(".govuk-pagination__next a")
        items = page.inner_text(".app-chronology")
        assert f"An incident recorded by {ids['police']} on 3 May 2025" in items
        assert "Incident: Robbery (as victim)" in items
        page.click("a:has-text('Print-friendly view')")
        assert len(page.query_selector_all(".app-chronology__item")) == 32
        page.click("a:has-text('Back to the paged view')")
        page.check("input[name=kind][value=incident]")
        page.click("main button:has-text('Apply filter')")
        assert "2 items of the kinds selected" in page.inner_text("#chronology-count")
        assert page.is_checked("input[name=kind][value=incident]")
        page.click("a:has-text('Clear filter')")
        assert "32 items" in page.inner_text("#chronology-count")
        page.click("a:has-text('Back to')")
        page.wait_for_selector("#chronology-link")
    finally:
        context.close()


def test_the_chronology_pages_have_no_axe_violations_and_reflow(page, live_server, story):
    email, password, secret, ids = story
    _sign_in(page, email, password, secret)
    page.goto(f"/cases/{ids['case']}")
    page.click("#chronology-link")
    page.wait_for_selector(".app-chronology")
    assert "Note number 29" in page.inner_text(".app-chronology")
    _axe(page)
    person_chronology = f"/people/{ids['person']}/chronology"
    for url in (person_chronology, f"{person_chronology}?kind=incident&kind=note&page=2",
                f"{person_chronology}?view=print", f"{person_chronology}?kind=merge"):
        page.goto(url)
        _axe(page)
    page.set_viewport_size({"width": 320, "height": 800})
    for url in (person_chronology, f"/cases/{ids['case']}/chronology"):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{url} scrolls sideways at 320 px by {overflow} px"
