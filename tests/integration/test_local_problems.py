"""Local problem-solving (issue 18 §2): recording a problem in a locality or a designated area, the
incidents there by month beside its dates (counted as the measures count), its actions, and closing it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import Category, LocalProblem
from casework.services import local_problems as problems
from tests.conftest import Page
from tests.factories import AgencyFactory, AreaFactory, IncidentFactory


def _date(day: dt.date, name: str) -> dict[str, str]:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}


def _month_back(n: int) -> dt.date:
    return problems.add_months(today_in_london().replace(day=1), -n)


@pytest.fixture()
def places(app_ctx):  # type: ignore[no-untyped-def]
    owner = AgencyFactory(name="Recording Agency")
    started = _month_back(3)
    for months_back, category, locality, restricted in [
            (3, Category.FLY_TIPPING, "Weymouth", False), (3, Category.FLY_TIPPING, "Weymouth", True),
            (1, Category.FLY_TIPPING, "Weymouth", False), (1, Category.ASB, "Weymouth", False),
            (1, Category.FLY_TIPPING, "Portland", False), (20, Category.FLY_TIPPING, "Weymouth", False)]:
        IncidentFactory(occurred_on=_month_back(months_back) + dt.timedelta(days=4), category=category,
                        locality=locality, restricted=restricted, owner_agency_id=owner.id)
    db.session.commit()
    return {"started": started, "partner": AgencyFactory(name="Group Partner")}


def test_a_caseworker_records_a_problem_and_sees_its_incidents_by_month_beside_its_start(places, caseworker_client):
    started = places["started"] + dt.timedelta(days=9)
    response = caseworker_client.post("/local-problems/new", data={
        "group_name": "Weymouth and Portland PCG", "title": "Fly-tipping at the lay-bys",
        "description": "Waste dumped at night.", "place_kind": "locality", "locality": "weymouth",
        "categories": ["fly_tipping"], **_date(started, "started_on"), "partners": [str(places["partner"].id)]})
    assert response.status_code == 302
    problem = db.session.scalar(select(LocalProblem))
    assert problem.locality == "Weymouth" and len(problem.partner_ids) == 2
    page = Page(caseworker_client.get(response.headers["Location"]))
    rows = {r.select_one("th").get_text(strip=True): r.select_one("td").get_text(strip=True)
            for r in page.select("#monthly-table tbody tr")}
    assert len(rows) == 16  # a year before the month it started, to this month
    start = places["started"].strftime("%b %Y")
    assert rows[f"{start} (started)"] == "2"  # a restricted incident counts: counts only, as the measures do
    assert rows[_month_back(1).strftime("%b %Y")] == "1"  # not the ASB, nor Portland's
    assert sum(int(v) for v in rows.values()) == 3  # the one 20 months back is before the chart
    assert page.select_one("svg title").text == "Incidents in Weymouth by month"
    assert "when the problem started" in page.select_one("svg desc").text
    assert "Fly-tipping at the lay-bys" in Page(caseworker_client.get("/local-problems")).select_one("table").text


def test_a_problem_in_a_designated_area_counts_the_areas_incidents(places, user_factory):
    area = AreaFactory(name="Lodmoor")
    IncidentFactory(occurred_on=_month_back(0), category=Category.ASB, area_id=area.id, locality="Weymouth")
    user = user_factory(roles=("board_officer",))
    problem = problems.record(group_name="G", title="ASB", description="d", locality=None, area_id=area.id,
                              categories=[], started_on=_month_back(2), partner_ids=[], by=user,
                              today=today_in_london())
    months = problems.incidents_by_month(problem, today=today_in_london())
    assert months[-1] == (_month_back(0), 1) and sum(n for _, n in months) == 1
    assert problems.place_of(problem) == "Lodmoor (designated area)"


def test_a_problem_needs_a_place_from_the_list_and_writes_nothing_otherwise(places, caseworker_client):
    page = Page(caseworker_client.post("/local-problems/new", data={}))
    assert page.status_code == 400
    assert [a.get_text(strip=True) for a in page.select(".govuk-error-summary a")] == [
        "Enter the locality group", "Enter the problem in a few words", "Describe what is happening",
        "Select a locality or a designated area", "Enter when the problem started"]
    page = Page(caseworker_client.post("/local-problems/new", data={
        "group_name": "G", "title": "T", "description": "D", "place_kind": "locality", "locality": "Atlantis",
        **_date(today_in_london(), "started_on")}))
    assert "'Atlantis' is not a locality in the partnership's list" in page.text
    assert db.session.scalar(select(func.count()).select_from(LocalProblem)) == 0


def test_actions_go_to_the_groups_partners_and_a_closed_problem_keeps_its_outcome(
        places, user_factory, login, admin_client):
    member = user_factory(roles=("manager",), agency=places["partner"])
    problem = problems.record(group_name="G", title="Fly-tipping", description="d", locality="Weymouth",
                              area_id=None, categories=[], started_on=places["started"], partner_ids=[],
                              by=member, today=today_in_london())
    db.session.commit()
    client = login(member)
    url = f"/local-problems/{problem.id}"
    outsider = AgencyFactory(name="Not In The Group")
    db.session.commit()
    page = Page(client.post(f"{url}/actions", data={"text": "Cameras", "owner": str(outsider.id),
                                                     **_date(today_in_london(), "due_on")}))
    assert "The action's owner must be one of the group's partner agencies" in page.text
    assert client.post(f"{url}/actions", data={"text": "Cameras", "owner": str(places["partner"].id),
                                                **_date(today_in_london(), "due_on")}).status_code == 302
    action = problem.actions[0]
    assert client.post(f"{url}/actions/{action.id}/done").status_code == 302
    assert action.done_on == today_in_london()
    assert login(user_factory(roles=("caseworker",), agency=outsider)).post(
        f"{url}/close", data={"confirm": "yes", "outcome": "x"}).status_code == 403
    assert admin_client.get("/local-problems/new").status_code == 403  # administrators do not record them
    assert "Enter the outcome" in Page(client.post(f"{url}/close", data={"confirm": "yes"})).text
    response = client.post(f"{url}/close", data={"confirm": "yes", "outcome": "Reports fell by half.",
                                                  **_date(today_in_london(), "closed_on")})
    assert response.status_code == 302
    page = Page(client.get(url))
    assert "Reports fell by half." in page.select_one("#outcome").text and page.select_one("#add-action") is None
    assert problems.open_problems(today=today_in_london()) == []


def test_what_users_wrote_on_the_plan_and_the_problems_is_shown_escaped(places, user_factory, login):
    from casework.models import ActivityStatus, ActivityUpdate, PlanActivity
    from casework.services import plan as plans

    bad = '"><svg onload=alert(1)><script>x(1)</script>'
    officer = user_factory(roles=("board_officer",), agency=places["partner"])
    plan = plans.create(title=f"Plan {bad}", first_year=2023, last_year=2026, year=2025,
                        priorities=[(f"Priority {bad}", bad, "DA1")], issues=[(bad, bad)])
    activity = PlanActivity(title=bad, lead_agency_id=officer.agency_id, position=1)
    plan.priorities[0].activities.append(activity)
    db.session.flush()
    db.session.add(ActivityUpdate(activity_id=activity.id, status=ActivityStatus.AT_RISK, narrative=bad,
                                  updated_on=today_in_london(), agency_id=officer.agency_id))
    problem = problems.record(group_name=bad, title=bad, description=bad, locality="Weymouth", area_id=None,
                              categories=[], started_on=places["started"], partner_ids=[], by=officer,
                              today=today_in_london())
    problems.add_action(problem, text=bad, owner_agency_id=officer.agency_id, due_on=today_in_london(), by=officer)
    db.session.commit()
    client = login(officer)
    for url in ("/plan", f"/plan/activities/{activity.id}", "/local-problems", f"/local-problems/{problem.id}",
                f"/local-problems/{problem.id}/close", f"/plan/activities/{activity.id}/edit"):
        body = client.get(url).get_data(as_text=True)
        assert "alert(1)" in body, url  # shown
        assert "<script>x(1)" not in body and "<svg onload" not in body, url  # but never as markup
