"""The plan and its delivery (issue 18 §1): updates by the lead and partner agencies' users, the
latest update and its age, the filters, the 90-day flag on the lead agency's home page, editing the
plan (administrators and board officers only) and refreshing it for a new year, keeping the history."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import ActivityStatus, ActivityUpdate, Plan, PlanActivity
from casework.services import plan as plans
from casework.services import users
from tests.conftest import Page
from tests.factories import AgencyFactory


@pytest.fixture()
def world(app_ctx, home_agency):  # type: ignore[no-untyped-def]
    other = AgencyFactory(name="Other Agency")
    partner = AgencyFactory(name="Partner Agency")
    plan = plans.create(title="Test Community Safety Plan", first_year=2023, last_year=2026, year=2025,
                        priorities=[("Domestic abuse and stalking", "Fewer harmed.", "DA1 DA2"),
                                    ("Rural crime", None, "RUR3")],
                        issues=[("Mental health", "Everywhere.")])
    activity = PlanActivity(title="Roll out the Drive approach", lead_agency_id=home_agency.id,
                            due_on=dt.date(2026, 3, 31), position=1)
    plan.priorities[0].activities.append(activity)
    db.session.flush()
    plans._set_partners(activity, [partner.id])
    db.session.commit()
    return {"plan": plan, "activity": activity, "other": other, "partner": partner}


def _update(activity, status, days_ago, text="Progress."):  # type: ignore[no-untyped-def]
    db.session.add(ActivityUpdate(activity_id=activity.id, status=status, narrative=text,
                                  updated_on=today_in_london() - dt.timedelta(days=days_ago),
                                  agency_id=activity.lead_agency_id))
    db.session.commit()


def _date(day: dt.date, name: str = "updated_on") -> dict[str, str]:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}


def test_a_partner_agencys_user_adds_an_update_shown_as_the_latest_with_its_age(world, user_factory, login):
    client = login(user_factory(roles=("caseworker",), agency=world["partner"]))
    day = today_in_london() - dt.timedelta(days=3)
    url = f"/plan/activities/{world['activity'].id}"
    response = client.post(url, data={"status": "at_risk", "narrative": "Referrals below profile.", **_date(day)})
    assert response.status_code == 302
    page = Page(client.get("/plan"))
    row = page.select_one("table tbody tr").get_text(" ", strip=True)
    assert "At risk" in row and "(3 days ago)" in row and "Home Agency" in row
    assert "Referrals below profile." in Page(client.get(url)).select_one("#history").text
    assert "DA1 Repeat victims of domestic abuse" in page.text  # the priority's measures, linked
    assert page.select_one("a[href='/measures/DA1']") is not None
    assert "Mental health" in page.text


def test_a_user_of_another_agency_may_not_add_an_update(world, user_factory, login):
    client = login(user_factory(roles=("manager",), agency=world["other"]))
    url = f"/plan/activities/{world['activity'].id}"
    assert Page(client.get(url)).select_one("#add-update") is None
    response = client.post(url, data={"status": "on_track", "narrative": "x", **_date(today_in_london())})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(ActivityUpdate)) == 0


def test_an_empty_update_lists_every_error_and_writes_nothing(world, caseworker_client):
    url = f"/plan/activities/{world['activity'].id}"
    page = Page(caseworker_client.post(url, data={}))
    assert page.status_code == 400
    errors = [a.get_text(strip=True) for a in page.select(".govuk-error-summary a")]
    assert errors == ["Select the activity's status", "Enter what has been done and what happens next",
                      "Enter the date of the update"]
    future = today_in_london() + dt.timedelta(days=1)
    page = Page(caseworker_client.post(url, data={"status": "on_track", "narrative": "x", **_date(future)}))
    assert "The date of the update must be today or in the past" in page.text
    page = Page(caseworker_client.post(url, data={"status": "on_track", "narrative": "x" * 2001,
                                                  **_date(today_in_london())}))
    assert "The update must be 2,000 characters or fewer" in page.text
    assert db.session.scalar(select(func.count()).select_from(ActivityUpdate)) == 0


def test_the_filters_show_activities_at_risk_or_off_track_and_those_without_an_update_for_90_days(world):
    plan, activity = world["plan"], world["activity"]
    quiet = PlanActivity(title="Extend Farm Watch", lead_agency_id=world["other"].id, position=1)
    plan.priorities[1].activities.append(quiet)
    db.session.commit()
    _update(activity, ActivityStatus.OFF_TRACK, 10)
    _update(quiet, ActivityStatus.ON_TRACK, 90)
    from flask import current_app

    from tests.fixtures_auth import make_user, sign_in

    client = sign_in(current_app, make_user(roles=("caseworker",)))
    attention = Page(client.get("/plan?show=attention")).text
    assert "Roll out the Drive approach" in attention and "Extend Farm Watch" not in attention
    stale = Page(client.get("/plan?show=stale")).text
    assert "Extend Farm Watch" in stale and "Roll out the Drive approach" not in stale
    assert "No update for 90 days" in stale


def test_an_activity_without_an_update_for_90_days_is_flagged_on_its_lead_agencys_managers_home_page(
        world, user_factory, login, home_agency):
    _update(world["activity"], ActivityStatus.ON_TRACK, 90)
    manager = login(user_factory(roles=("manager",), agency=home_agency))
    home = Page(manager.get("/"))
    assert "Roll out the Drive approach" in home.select_one("#stale-activities").text
    assert home.select_one("#plan-link") is not None and home.select_one("#problems-link") is not None
    elsewhere = Page(login(user_factory(roles=("manager",), agency=world["partner"])).get("/"))
    assert elsewhere.select_one("#stale-activities") is None  # a partner is not the lead
    _update(world["activity"], ActivityStatus.ON_TRACK, 89)
    assert Page(manager.get("/")).select_one("#stale-activities") is None


def test_only_administrators_and_board_officers_change_the_plan(world, user_factory, login, caseworker_client):
    priority = world["plan"].priorities[1]
    url = f"/plan/priorities/{priority.id}/activities/new"
    assert caseworker_client.get(url).status_code == 403
    officer = login(user_factory(roles=("board_officer",), agency=world["other"]))
    page = Page(officer.post(url, data={"title": "Cameras", "lead": str(world["other"].id), "timing": "date"}))
    assert "Enter the date the activity is due" in page.text  # the revealed date, asked only for "by a date"
    response = officer.post(url, data={"title": "Cameras at the hotspots", "lead": str(world["other"].id),
                                       "partners": [str(world["partner"].id)], "timing": "ongoing",
                                       **_date(dt.date(2020, 1, 1), "due_on")})
    assert response.status_code == 302
    added = db.session.scalar(select(PlanActivity).where(PlanActivity.title == "Cameras at the hotspots"))
    assert added.due_on is None and added.partner_ids == [world["partner"].id]  # ongoing: the date is ignored


def test_a_board_officer_sees_no_case_records_and_may_also_be_an_administrator(user_factory, login):
    from casework.models import Role

    assert users.roles_problem({Role.ADMIN, Role.BOARD_OFFICER}) is None
    officer = login(user_factory(roles=("board_officer",)))
    assert officer.get("/people").status_code == 403
    assert officer.get("/measures").status_code == 200


def test_refreshing_copies_the_plan_for_the_next_year_and_keeps_the_history(world, user_factory, login):
    plan, activity = world["plan"], world["activity"]
    done = PlanActivity(title="Train frontline staff", lead_agency_id=activity.lead_agency_id, position=2)
    plan.priorities[0].activities.append(done)
    db.session.commit()
    _update(activity, ActivityStatus.ON_TRACK, 20, "Case managers recruited.")
    _update(done, ActivityStatus.COMPLETE, 20)
    admin = login(user_factory(roles=("admin",)))
    url = f"/plan/{plan.id}/refresh"
    assert "Refresh the plan for 2026/27" in Page(admin.get(url)).h1
    assert admin.post(url, data={"confirm": "yes"}).status_code == 302
    new = db.session.scalar(select(Plan).where(Plan.year == 2026))
    assert [i.name for i in new.issues] == ["Mental health"] and new.period == "2023-27"
    copied = [a for p in new.priorities for a in p.activities]
    assert [a.title for a in copied] == ["Roll out the Drive approach"]  # the completed one stays behind
    assert copied[0].partner_ids == [world["partner"].id] and copied[0].copied_from_id == activity.id
    page = Page(admin.get(f"/plan/activities/{copied[0].id}"))
    assert "Case managers recruited." in page.text and "(in the 2025/26 plan)" in page.text
    assert "On track" in page.select_one("#activity-status").text  # the latest update carries over
    assert admin.post(url, data={"confirm": "yes"}).status_code == 302  # the old year is no longer current
    assert db.session.scalar(select(func.count()).select_from(Plan)) == 2
    writer = login(user_factory(roles=("caseworker",), agency=world["partner"]))
    old = writer.post(f"/plan/activities/{activity.id}", data={"status": "on_track", "narrative": "Late.",
                                                                **_date(today_in_london())})
    assert old.status_code == 400 and "kept as it was" in old.get_data(as_text=True)
