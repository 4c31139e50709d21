"""A caseworker completes a DASH checklist through the pages and downloads it as a PDF from the
checklist's page: a real PDF whose text holds the person's name with its accents; axe on each page."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from casework.db import db
from casework.models import User
from tests.browser.test_people_pages import _axe, _sign_in

pytestmark = pytest.mark.browser

FORENAMES, SURNAME = "Siân Zoë", "Ó Súilleabháin-O'Brien"


@pytest.fixture()
def victim_id(live_server, live_user):  # type: ignore[no-untyped-def]
    email, password, secret = live_user()
    with live_server.app.app_context():
        from tests.factories import PersonFactory, victim

        user = db.session.query(User).filter_by(email=email).one()
        person = victim(PersonFactory(owner_agency_id=user.agency_id, forenames=FORENAMES, surname=SURNAME))
        db.session.commit()
        return email, password, secret, person.id


def test_a_dash_checklist_completed_through_the_pages_downloads_as_a_pdf_with_the_name(browser, live_server,
                                                                                      victim_id):
    email, password, secret, person_id = victim_id
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)  # (axe runs as a script)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        _sign_in(page, email, password, secret)
        page.goto(f"/people/{person_id}")
        page.click("#risk-assessments a:has-text('Complete a DASH checklist')")
        _axe(page)
        for n in range(1, 25):
            page.check(f"input[name=q{n}][value={'yes' if n <= 14 else 'no'}]")
        page.click("button:has-text('Complete the checklist')")
        page.wait_for_selector("h1:has-text('DASH risk checklist')")
        _axe(page)
        with page.expect_download() as download:
            page.click("a:has-text('Download as PDF')")
        assert download.value.suggested_filename.startswith("dash-checklist-")
        with open(download.value.path(), "rb") as f:
            data = f.read()
        assert data.startswith(b"%PDF-")
        text = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())
        assert f"{FORENAMES} {SURNAME}" in text and "High" in text and "OFFICIAL-SENSITIVE" in text
    finally:
        context.close()
