"""A manager reads the measures in Chromium: the dashboard, a measure's page (chart and tables) and
the records behind a figure; axe-core finds no accessibility problem on any of them."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.db import db
from casework.models import Category
from tests.browser.test_caseworker_journey import _axe, _sign_in

pytestmark = pytest.mark.browser


def test_a_manager_reads_the_measures_and_the_records_behind_one(page, live_server, live_user):
    from tests.factories import AgencyFactory
    from tests.integration.test_measures_engine import Records

    with live_server.app.app_context():
        agency = AgencyFactory(name="Measures Browser Agency")
        records = Records(db.session)
        records.agency = agency
        for month in (5, 6, 7):
            records.incident(dt.date(2024, month, 3), category=Category.ASB, locality="Dorchester")
        db.session.commit()
    email, password, secret = live_user(roles=("manager",), agency=agency)
    _sign_in(page, email, password, secret)

    page.goto("/measures?period=2024/25")
    assert page.inner_text("h1") == "Measures for 2024/25"
    _axe(page)
    page.click("#measure-ASB1 th a")
    page.wait_for_selector("h1:has-text('Anti-social behaviour reported to the police')")
    assert page.locator("svg[role=img] title").count() >= 1
    assert page.locator("#monthly-table tbody tr").count() == 36
    _axe(page)
    page.click("[data-figure=current] a")
    page.wait_for_selector("h1:has-text('Records behind')")
    assert page.locator("#records tbody tr").count() >= 3
    _axe(page)
