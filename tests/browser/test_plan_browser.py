"""The plan's delivery and local problem-solving in the browser (issue 18 §1-2), from a manager's
home page: the flagged activity, the plan, an activity's page and an update added to it; then the
local problems, recording one (its errors first) and adding an action. Each page is checked with axe
at 1280 and 320 CSS pixels (no sideways scrolling, chart labels 14 pixels or more)."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import ActivityStatus, ActivityUpdate, Category, PlanActivity
from casework.services import plan as plans
from tests.browser.test_caseworker_journey import _fill_date, _sign_in
from tests.browser.test_reflow import check, follow

pytestmark = pytest.mark.browser


def _world(live_server):  # type: ignore[no-untyped-def]
    from tests.factories import AgencyFactory, IncidentFactory
    from tests.fixtures_auth import PASSWORD, make_user

    with live_server.app.app_context():
        stamp = f"{dt.datetime.now().microsecond:06d}"  # this run's, the live database kept between tests
        agency = AgencyFactory(name=f"Plan Lead Agency {stamp}")
        partner = AgencyFactory(name=f"Plan Partner Agency {stamp}")
        manager = make_user(roles=("manager",), agency=agency)
        plan = plans.current() or plans.create(
            title="Browser Community Safety Plan", first_year=2023, last_year=2026, year=2025,
            priorities=[("Rural crime", "Rural communities protected.", "RUR1 RUR3")], issues=[])
        activity = PlanActivity(title=f"Reduce fly-tipping through enforcement {stamp}", lead_agency_id=agency.id,
                                position=9)
        plan.priorities[0].activities.append(activity)
        db.session.flush()
        plans._set_partners(activity, [partner.id])
        today = today_in_london()
        db.session.add(ActivityUpdate(activity_id=activity.id, status=ActivityStatus.ON_TRACK,
                                      narrative="Twelve mobile cameras placed.", agency_id=agency.id,
                                      updated_on=today - dt.timedelta(days=120)))
        for n in range(14):
            IncidentFactory(occurred_on=today - dt.timedelta(days=30 * n + 3), category=Category.FLY_TIPPING,
                            locality="Weymouth", owner_agency_id=agency.id)
        db.session.commit()
        return (manager.email, PASSWORD, manager.totp_secret), activity.title, partner.name


def test_recording_an_activity_update_and_a_local_problem_from_the_home_page(page, live_server):
    user, title, partner = _world(live_server)
    seen: list[str] = []
    page.set_viewport_size({"width": 1280, "height": 800})
    _sign_in(page, *user)
    assert title in page.locator("#stale-activities").inner_text()
    check(page, seen)  # home, with the flagged activity
    follow(page, "#plan-link")
    page.wait_for_selector("h1")
    check(page, seen)  # the plan
    follow(page, f"a:has-text('{title}')")
    assert "No update for 90 days" in page.locator("#latest-update").inner_text()
    check(page, seen)  # the activity
    page.click("button:has-text('Add the update')")  # nothing chosen: the errors
    page.wait_for_selector(".govuk-error-summary")
    check(page, seen)
    page.check("input[name=status][value=at_risk]")
    page.fill("#narrative", "Reports up on last year; a second enforcement officer starts next month.")
    _fill_date(page, "updated_on", today_in_london())
    with page.expect_navigation():
        page.click("button:has-text('Add the update')")
    assert "At risk" in page.locator("#activity-status").inner_text()
    assert "(0 days ago)" in page.locator("#latest-update").inner_text()
    assert "second enforcement officer" in page.locator("#history li").first.inner_text()

    follow(page, "a.govuk-back-link")
    follow(page, "a:has-text('At risk or off track')")
    assert title in page.locator("main").inner_text()
    page.goto("/")
    assert page.locator("#stale-activities").count() == 0 or title not in page.locator("#stale-activities").inner_text()
    follow(page, "#problems-link")
    check(page, seen)  # the local problems
    follow(page, "#record-problem")
    page.click("button:has-text('Record the problem')")
    page.wait_for_selector(".govuk-error-summary")
    check(page, seen)  # the form, with its errors
    page.fill("#group_name", "Weymouth and Portland")
    page.fill("#title", "Fly-tipping at the Lodmoor lay-bys")
    page.fill("#description", "Household and trade waste dumped at night.")
    page.check("input[name=place_kind][value=locality]")
    page.select_option("#locality", "Weymouth")
    page.check("input[name=categories][value=fly_tipping]")
    _fill_date(page, "started_on", today_in_london() - dt.timedelta(days=150))
    page.check(f"label:has-text('{partner}')")
    with page.expect_navigation():
        page.click("button:has-text('Record the problem')")
    assert page.locator("h1").inner_text() == "Fly-tipping at the Lodmoor lay-bys"
    assert page.locator("#monthly-table tbody tr").count() >= 13
    assert "(started)" in page.locator("#monthly-table").inner_text()
    check(page, seen)  # the problem, its chart and table
    page.fill("#text", "Place a mobile camera at the two worst lay-bys")
    page.select_option("#owner", label=partner)
    _fill_date(page, "due_on", today_in_london() + dt.timedelta(days=30))
    with page.expect_navigation():
        page.click("button:has-text('Add the action')")
    assert "Place a mobile camera" in page.locator("#actions-table").inner_text()
    follow(page, "#close-problem")
    check(page, seen)  # closing, with its outcome
    assert len(seen) == 8
