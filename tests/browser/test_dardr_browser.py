"""A review after a death with a recommendation recorded through the pages (issue 18 §3), from the
manager's home page link; then the board's learning search, and the MARAC return (§4) reached from
the measures page. Each page is checked with axe and at 320 CSS pixels."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.measures.periods import today_in_london
from tests.browser.test_caseworker_journey import _sign_in
from tests.browser.test_reflow import check

pytestmark = pytest.mark.browser


def _fill_date(page, name: str, day: dt.date) -> None:  # type: ignore[no-untyped-def]
    page.fill(f"#{name}-day", str(day.day))
    page.fill(f"#{name}-month", str(day.month))
    page.fill(f"#{name}-year", str(day.year))


def test_a_review_with_a_recommendation_through_the_pages(browser, live_server):
    from casework.db import db
    from tests.factories import AgencyFactory
    from tests.fixtures_auth import PASSWORD, make_user

    with live_server.app.app_context():
        agency = AgencyFactory(name=f"Review Agency {dt.datetime.now().timestamp()}")
        manager = make_user(roles=("manager",), agency=agency)
        db.session.commit()
        user = (manager.email, PASSWORD, manager.totp_secret)
        agency_name = agency.name
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.set_viewport_size({"width": 1280, "height": 800})
    _sign_in(page, *user)
    seen: list[str] = []
    today = today_in_london()

    page.click("#dardr a:has-text('Reviews after a death')")
    page.wait_for_selector("h1:has-text('Reviews after a death')")
    check(page, seen)  # the register
    page.click("a:has-text('Start a review')")
    page.click("main button:has-text('Start the review')")  # nothing filled in: the errors
    page.wait_for_selector(".govuk-error-summary")
    check(page, seen)
    _fill_date(page, "notified_on", today - dt.timedelta(days=3))
    page.fill("#subject", "Browser Test Person")
    page.click("main button:has-text('Start the review')")
    page.wait_for_selector("h1:has-text('Browser Test Person')")
    check(page, seen)  # the review
    page.click("a:has-text('Add a recommendation')")
    page.wait_for_selector("h1:has-text('Add a recommendation')")
    check(page, seen)
    page.fill("#text", "Share the risk assessment at every handover")
    page.check("input[name='themes'][value='information_sharing']")
    page.select_option("#agency", label=agency_name)
    _fill_date(page, "due_on", today + dt.timedelta(days=90))
    page.click("main button:has-text('Save')")
    page.wait_for_selector("text=Recommendation added")
    assert "Share the risk assessment" in page.inner_text("main")
    page.click("a:has-text('Not started')")
    page.wait_for_selector("h1:has-text('Recommendation 1')")
    check(page, seen)  # its progress
    page.check("input[name='status'][value='in_progress']")
    page.fill("#evidence", "Briefing drafted")
    page.click("main button:has-text('Save')")
    page.wait_for_selector("text=Progress recorded")

    page.goto("/")
    page.click("#dardr a:has-text('Learning from reviews')")
    page.wait_for_selector("h1:has-text('Learning from reviews')")
    assert "In progress" in page.inner_text("main") and "Browser Test Person" not in page.inner_text("main")
    check(page, seen)

    page.click("nav a:has-text('Measures')")
    page.click("a:has-text('The MARAC data return')")
    page.wait_for_selector("h1:has-text('MARAC data return')")
    check(page, seen)
    assert len(seen) == 7
    context.close()
