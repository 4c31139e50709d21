"""An order and its breach in Chromium, through the pages' links and buttons: recorded on a
person's page (after the error summary), a breach recorded, both in the person's chronology, the
review on the home page, the board's orders page, and a document added to the order and downloaded as
the same bytes; axe-core on every page. With
CASEWORK_SCREENSHOTS=DIR, each page is saved at 1280 and 320 pixels wide."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import AgencyKind, Category, Incident, Party, PartyRole, Person, User
from tests.browser.conftest import axe_violations
from tests.browser.test_people_pages import _sign_in

pytestmark = pytest.mark.browser


@pytest.fixture()
def person_with_incident(live_server, live_user):  # type: ignore[no-untyped-def]
    email, password, secret = live_user()
    with live_server.app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        person = Person(surname=f"Order{uuid.uuid4().hex[:6]}", forenames="Sam", owner_agency_id=user.agency_id)
        db.session.add(person)
        db.session.flush()
        incident = Incident(occurred_on=today_in_london() - dt.timedelta(days=20), category=Category.ASB,
                            recorded_by=AgencyKind.COUNCIL, owner_agency_id=user.agency_id)
        db.session.add(incident)
        db.session.flush()
        db.session.add(Party(incident_id=incident.id, person_id=person.id, role=PartyRole.PERPETRATOR))
        db.session.commit()
        person_id = person.id
    return email, password, secret, person_id


def _check(page, name: str) -> None:  # type: ignore[no-untyped-def]
    count, report = axe_violations(page)
    assert count == 0, f"{page.url}\n{report}"
    folder = os.environ.get("CASEWORK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for width in (1280, 320):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})


def _date(page, name: str, day: dt.date) -> None:  # type: ignore[no-untyped-def]
    page.fill(f"#{name}-day", str(day.day))
    page.fill(f"#{name}-month", str(day.month))
    page.fill(f"#{name}-year", str(day.year))


ORDER_PDF = b"%PDF-1.7\n" + b"1 0 obj << >> endobj\n" * 40 + b"%%EOF\n"


def test_an_order_and_its_breach_through_the_pages(page, live_server, person_with_incident, tmp_path):
    email, password, secret, person_id = person_with_incident
    today = today_in_london()
    _sign_in(page, email, password, secret)
    page.goto(f"/people/{person_id}")
    _check(page, "person")
    page.click("#orders a:has-text('Record an order or power')")
    page.wait_for_selector("h1:has-text('Record an order or power')")
    _check(page, "order-new")
    page.click("main button:has-text('Record the order')")
    page.wait_for_selector(".govuk-error-summary")
    assert "Select the kind of order or power" in page.inner_text(".govuk-error-summary")
    _check(page, "order-errors")
    page.check("input[name=kind][value=cbo]")
    _date(page, "issued_on", today - dt.timedelta(days=10))
    _date(page, "review_on", today + dt.timedelta(days=7))
    page.fill("#conditions", "Not to enter Elm Road.\nNot to contact the neighbours.")
    page.check("input[name=incidents]")
    page.click("main button:has-text('Record the order')")
    page.wait_for_selector("h1:has-text('Criminal behaviour order')")
    assert "Anti-social Behaviour, Crime and Policing Act 2014, s.22" in page.inner_text("main")
    _check(page, "order")
    page.click("a:has-text('Record a breach')")
    page.wait_for_selector("h1:has-text('Record a breach')")
    _check(page, "breach-new")
    _date(page, "breached_on", today - dt.timedelta(days=2))
    page.fill("#details", "Seen in Elm Road at night")
    page.click("main button:has-text('Record the breach')")
    page.wait_for_selector("#breaches td:has-text('Seen in Elm Road at night')")
    page.click("#documents a:has-text('Add a document')")
    page.wait_for_selector("h1:has-text('Add a document')")
    _check(page, "order-document-new")
    upload = tmp_path / "court-order.pdf"
    upload.write_bytes(ORDER_PDF)
    page.set_input_files("#file", str(upload))
    page.fill("#title", "Sealed criminal behaviour order")
    _date(page, "document_date", today - dt.timedelta(days=10))
    page.click("button:has-text('Add the document')")
    page.wait_for_selector("#documents table")
    assert "Sealed criminal behaviour order" in page.inner_text("#documents tbody tr")
    _check(page, "order-with-document")
    with page.expect_download() as info:
        page.click("#documents tbody a:has-text('Sealed criminal behaviour order')")
    assert Path(info.value.path()).read_bytes() == ORDER_PDF
    page.click("main a:has-text('Back to')")
    page.click("#chronology-link")
    page.wait_for_selector(".app-chronology")
    story = page.inner_text(".app-chronology")
    assert "Breach of the criminal behaviour order" in story and "Criminal behaviour order made or issued" in story
    _check(page, "chronology")
    page.goto("/")
    assert "Criminal behaviour order of" in page.inner_text("#orders-due")
    _check(page, "home")
    page.goto("/measures")
    page.click("#orders-measures")
    page.wait_for_selector("h1:has-text('Orders and powers')")
    _check(page, "order-measures")
