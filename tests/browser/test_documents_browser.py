"""A document added to a case through the pages in Chromium: the case page's link, the upload form
(its errors first), the list on the case page, the download (the same bytes), the delete
confirmation; no axe-core violations on any page. With CASEWORK_SCREENSHOTS=<folder> each page is
also saved at 320 and 1280 pixels wide, to look at."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from casework.db import db
from casework.models import Case, CaseKind, User
from tests.browser.test_people_pages import _axe, _sign_in

pytestmark = pytest.mark.browser

DOCUMENT = b"%PDF-1.4\n" + "% Statement of Siân O'Connor-Núñez\n".encode() * 3000 + b"%%EOF\n"


def _look(page, name: str) -> None:  # type: ignore[no-untyped-def]
    _axe(page)
    folder = os.environ.get("CASEWORK_SCREENSHOTS")
    if folder:
        for width in (320, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(Path(folder) / f"documents-{name}-{width}.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})


def test_a_document_added_to_a_case_through_the_pages_downloads_as_the_same_bytes(
        page, live_server, live_user, tmp_path):
    email, password, secret = live_user()
    with live_server.app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        case = Case(kind=CaseKind.DOMESTIC_ABUSE, owner_agency_id=user.agency_id, caseworker_id=user.id,
                    summary=f"Support {uuid.uuid4().hex[:6]}")
        db.session.add(case)
        db.session.commit()
        case_id = case.id
    _sign_in(page, email, password, secret)
    page.goto(f"/cases/{case_id}")
    page.click("#documents a:has-text('Add a document')")
    page.wait_for_selector("h1:has-text('Add a document')")
    _look(page, "new")

    page.click("button:has-text('Add the document')")  # nothing chosen: every error named
    page.wait_for_selector(".govuk-error-summary")
    summary = page.inner_text(".govuk-error-summary")
    assert "Select a file" in summary and "Enter a title" in summary and "Enter the date" in summary
    _look(page, "errors")

    upload = tmp_path / "statement.pdf"
    upload.write_bytes(DOCUMENT)
    page.set_input_files("#file", str(upload))
    page.fill("#title", "Police statement")
    page.fill("#document_date-day", "3")
    page.fill("#document_date-month", "2")
    page.fill("#document_date-year", "2026")
    page.click("button:has-text('Add the document')")
    page.wait_for_selector("#documents table")
    assert "Document added: Police statement" in page.inner_text("body")
    row = page.inner_text("#documents tbody tr")
    assert "Police statement" in row and "3 February 2026" in row and "PDF" in row
    _look(page, "case")

    with page.expect_download() as info:
        page.click("#documents tbody a:has-text('Police statement')")
    download = info.value
    assert download.suggested_filename == "statement.pdf"
    assert Path(download.path()).read_bytes() == DOCUMENT

    page.click("#documents tbody a:has-text('Delete')")
    page.wait_for_selector("h1:has-text('Delete the document')")
    _look(page, "delete")
    page.click("button:has-text('Delete the document')")
    page.wait_for_selector("#documents")
    assert "No documents have been added." in page.inner_text("#documents")
