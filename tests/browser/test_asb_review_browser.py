"""An ASB case review in Chromium (issue 17 §1): a caseworker applies from the victim's page, the
coordinator sees the threshold by rule, decides, forms the panel, records the review with a
recommendation and the outcome, and the yearly figures show it, with a download. axe-core checks
every page on the way."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.db import db
from tests.browser.test_hrda_journey import _as, _axe, _fill_date

pytestmark = pytest.mark.browser


@pytest.fixture()
def asb_world(live_server):  # type: ignore[no-untyped-def]
    from casework.models import AgencyKind, AsbType, Category, PartyRole
    from tests.factories import AgencyFactory, IncidentFactory, PartyFactory, PersonFactory
    from tests.fixtures_auth import PASSWORD, make_user

    stamp = int(dt.datetime.now().timestamp() * 1000)
    with live_server.app.app_context():
        police = AgencyFactory(name=f"Police A{stamp}", kind=AgencyKind.POLICE)
        housing = AgencyFactory(name=f"Housing A{stamp}", kind=AgencyKind.HOUSING)
        users = {"caseworker": make_user(agency=police), "coordinator": make_user(roles=("asb_coordinator",),
                                                                                 agency=housing)}
        member = make_user(agency=housing)
        member.name = f"Panel Member {stamp}"
        person = PersonFactory(owner_agency_id=police.id, forenames="Ada", surname=f"Asb{stamp}")
        for day, reported in ((dt.date(2025, 6, 2), None), (dt.date(2025, 7, 1), dt.date(2025, 7, 3)),
                              (dt.date(2025, 8, 4), dt.date(2025, 9, 5))):
            incident = IncidentFactory(owner_agency_id=police.id, category=Category.ASB, asb_type=AsbType.PERSONAL,
                                       occurred_on=day, reported_on=reported)
            PartyFactory(incident=incident, person_id=person.id, role=PartyRole.VICTIM)
        db.session.commit()
        return {"person_id": person.id, "police": police.name, "housing": housing.name, "member": member.name,
                **{k: (u.email, PASSWORD, u.totp_secret) for k, u in users.items()}}


def test_an_application_from_the_victims_page_to_the_published_figures(browser, live_server, asb_world):
    w = asb_world
    context, page = _as(browser, live_server, w["caseworker"])
    page.goto(f"/people/{w['person_id']}")
    page.click("#asb-reviews a:has-text('Apply for an ASB case review')")
    page.wait_for_selector("h1:has-text('Apply for an ASB case review')")
    _axe(page)
    page.click("main button:has-text('Record the application')")
    page.wait_for_selector(".govuk-error-summary")
    _axe(page)
    _fill_date(page, "received_on", dt.date(2025, 8, 31))
    page.check("input[name=applicant][value=behalf]")
    page.select_option("#behalf_role", "councillor")
    page.fill("#applicant_name", "Cllr Bea Blue")
    page.check("input[name=victim_consent][value=yes]")
    page.fill("#behaviour", "Stones thrown at the windows at night")
    page.click("main button:has-text('Record the application')")
    page.wait_for_selector("h2:has-text('Threshold by rule: not met')")
    assert "reported more than a month after the behaviour" in page.inner_text("#threshold")
    _axe(page)
    page.click("a.app-header__partnership")
    page.wait_for_selector("#asb-review-clocks")
    assert "Threshold decision" in page.inner_text("#asb-review-clocks")
    _axe(page)
    context.close()

    context, page = _as(browser, live_server, w["coordinator"])
    page.wait_for_selector("#asb-review-clocks")
    _axe(page)  # the coordinator's home page, with the step due
    page.click("#asb-review-clocks a")
    page.wait_for_selector("h1:has-text('Application ASB-')")
    page.check("input[name=decision-decision][value=met]")
    _fill_date(page, "decided_on", dt.date(2025, 9, 10))
    page.fill("#decision-reason", "The victim is disabled and frightened")
    page.click("main button:has-text('Record the decision')")
    page.wait_for_selector("text=Threshold decision recorded")
    assert "departs from the threshold by rule" in page.inner_text("#decision")
    _axe(page)
    page.select_option("#panel-member", label=f"{w['member']} ({w['housing']})")
    page.click("main button:has-text('Add to the panel')")
    page.wait_for_selector("text=Added to the panel")
    _fill_date(page, "held_on", dt.date(2025, 9, 20))
    page.click("main button:has-text('Record the review')")
    page.wait_for_selector("text=Review recorded")
    page.fill("#recommendation-text", "Fit window guards")
    page.select_option("#recommendation-owner_agency", label=w["housing"])
    _fill_date(page, "due_on", dt.date(2025, 10, 20))
    page.click("main button:has-text('Add the recommendation')")
    page.wait_for_selector("text=Recommendation added")
    _fill_date(page, "sent_on", dt.date(2025, 9, 24))
    page.click("main button:has-text('Record the outcome as sent')")
    page.wait_for_selector("text=Outcome recorded as sent")
    _axe(page)
    page.click("a.app-header__partnership")
    page.wait_for_selector("#asb-recommendations")
    assert "Fit window guards" in page.inner_text("#asb-recommendations")
    page.click("#asb-recommendations a")
    page.wait_for_selector("h1:has-text('recommendations for your agency')")
    _axe(page)
    page.click("nav a:has-text('ASB case reviews')")
    page.wait_for_selector("h1:has-text('ASB case reviews')")
    _axe(page)
    page.click("main a:has-text('Yearly figures')")
    page.wait_for_selector("#year")
    _axe(page)
    page.fill("#year", "2025/26")
    page.click("main button:has-text('Show the figures')")
    page.wait_for_selector("caption:has-text('2025/26')")
    assert page.inner_text("#figure-applications") == "1"
    assert page.inner_text("#figure-reviews_with_recommendations") == "1"
    _axe(page)
    with page.expect_download() as download:
        page.click("main a:has-text('XLSX')")
    assert download.value.suggested_filename == "asb-case-reviews-2025-26.xlsx"
    context.close()
