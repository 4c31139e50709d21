"""The board pack in the browser (issue 18 §5): a manager goes from the home page's partnership
section to the board pack, is told what is wrong with a meeting date left empty, reads the pack for
a meeting and downloads it as a PDF. Each page is checked with axe at 1280 and 320 CSS pixels (no
sideways scrolling, chart labels 14 pixels or more)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from casework.measures.periods import today_in_london
from tests.browser.test_caseworker_journey import _fill_date, _sign_in
from tests.browser.test_reflow import check, follow

pytestmark = pytest.mark.browser


def _manager(live_server):  # type: ignore[no-untyped-def]
    from casework.db import db
    from casework.services import plan as plans
    from tests.factories import AgencyFactory
    from tests.fixtures_auth import PASSWORD, make_user

    with live_server.app.app_context():
        stamp = f"{dt.datetime.now().microsecond:06d}"  # this run's, the live database kept between tests
        manager = make_user(roles=("manager",), agency=AgencyFactory(name=f"Board Pack Agency {stamp}"))
        if plans.current() is None:
            plans.create(title="Browser Community Safety Plan", first_year=2023, last_year=2026, year=2025,
                         priorities=[("Rural crime", "Rural communities protected.", "RUR1 RUR3")], issues=[])
        db.session.commit()
        return manager.email, PASSWORD, manager.totp_secret


def test_a_manager_downloads_the_board_pack_from_their_home_page(page, live_server):
    seen: list[str] = []
    page.set_viewport_size({"width": 1280, "height": 800})
    _sign_in(page, *_manager(live_server))
    follow(page, "#board-pack-link")
    check(page, seen)  # the page, no meeting chosen yet
    follow(page, "#show-pack")  # no date: the error
    assert "Enter the date of the board's meeting" in page.locator(".govuk-error-summary").inner_text()
    check(page, seen)
    meeting = today_in_london() + dt.timedelta(days=3)
    _fill_date(page, "meeting", meeting)
    follow(page, "#show-pack")
    assert page.locator("#marac-quarter").count() == 1
    check(page, seen)  # the pack
    with page.expect_download() as download:
        page.click("#download-pdf")
    assert download.value.suggested_filename == f"board-pack-{meeting.isoformat()}.pdf"
    with open(download.value.path(), "rb") as f:
        reader = PdfReader(io.BytesIO(f.read()))
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Partnership board pack" in text and "OFFICIAL" in text and "OFFICIAL-SENSITIVE" not in text
    assert len(seen) == 3
