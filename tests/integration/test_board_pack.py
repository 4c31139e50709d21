"""The board pack (issue 18 §5, docs/board-pack.md): its content (small numbers suppressed, the
trend from the unsuppressed figures, overdue recommendations without their review's details, the
last quarter before the meeting), the page and its downloads, and the command writing each format."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from casework.db import db
from casework.models import ActivityStatus, ActivityUpdate, Category, PlanActivity
from casework.services import board_pack, dardr, local_problems
from casework.services import plan as plans
from tests.conftest import Page
from tests.factories import AgencyFactory
from tests.fixtures_auth import make_user, sign_in
from tests.integration.test_measures_engine import Records

D = dt.date
MEETING = D(2026, 7, 1)  # a quarter's first day: the pack takes April to June 2026 (2026-27-Q1)
QUERY = "/board-pack?meeting-day=1&meeting-month=7&meeting-year=2026"
CANARY_NAME, CANARY_TEXT = "Perpetua Wolstenholme", "canary-circumstances-5521"


@pytest.fixture()
def world(session, home_agency):  # type: ignore[no-untyped-def]
    records = Records(session)
    records.agency = home_agency
    for day in (D(2025, 5, 3), D(2025, 5, 9), D(2025, 6, 2)):  # 3 in 2025/26, the year before the meeting: "<5"
        records.incident(day, category=Category.ASB, locality="Weymouth")
    for month in range(4, 12):  # 8 the year before that
        records.incident(D(2024, month, 10), category=Category.ASB, locality="Bridport")
    plan = plans.create(title="Board Test Plan", first_year=2023, last_year=2026, year=2026,
                        priorities=[("Anti-social behaviour", "Less ASB.", "ASB1")], issues=[])
    activity = PlanActivity(title="Patrol the seafront", lead_agency_id=home_agency.id, due_on=None, position=1)
    plan.priorities[0].activities.append(activity)
    db.session.flush()
    db.session.add(ActivityUpdate(activity_id=activity.id, status=ActivityStatus.AT_RISK, narrative="Fewer patrols.",
                                  updated_on=D(2026, 6, 20), agency_id=home_agency.id))
    manager = make_user(roles=("manager",), agency=home_agency)
    local_problems.record(group_name="Weymouth PCG", title="ASB at the harbour", description="Groups at night.",
                          locality="Weymouth", area_id=None, categories=["asb"], started_on=D(2026, 3, 1),
                          partner_ids=[], by=manager, today=D(2026, 3, 1))
    health = AgencyFactory(name="Dorset Health")
    review = dardr.create(notified_on=D(2026, 1, 5), subject=CANARY_NAME, circumstances=CANARY_TEXT, by=manager,
                          today=D(2026, 1, 6))
    for text, due in (("Share risk at handover", D(2026, 5, 1)), ("Train GPs on coercion", D(2026, 9, 1))):
        dardr.add_recommendation(review, text=text, themes=["information_sharing"], agency=health, due_on=due,
                                 by=manager, today=D(2026, 1, 6))
    db.session.commit()
    return {"manager": manager, "review": review}


def test_the_pack_suppresses_small_numbers_keeps_the_trend_and_lists_overdue_recommendations_only(app_ctx, world):
    page = Page(sign_in(app_ctx, world["manager"]).get(QUERY))
    assert page.status_code == 200, page.text[:300]
    asb1 = page.select_one("tr#measure-ASB1")
    figures = {td["data-figure"]: td.get_text(" ", strip=True) for td in asb1.select("td")}
    assert figures == {"current": "<5", "previous": "8", "change": "—", "trend": "Improving"}
    months = {row.th.get_text(strip=True): row.td.get_text(strip=True) for row in page.select("#months-ASB1 tbody tr")}
    assert months["May 2025"] == "<5" and months["Apr 2024"] == "<5" and months["Mar 2026"] == "0"
    assert list(months)[-1] == "Jun 2026"  # the month before the meeting's
    problem = {row.th.get_text(strip=True): row.td.get_text(strip=True)
               for row in page.select("#problem-months-1 tbody tr")}
    assert problem["May 2025"] == "<5" and problem["Mar 2026 (started)"] == "0"
    assert "Fewer patrols." in page.select_one("#activities-1").text
    recommendations = page.select_one("#recommendations-table").get_text(" ", strip=True)
    assert "Share risk at handover" in recommendations and "Train GPs" not in recommendations
    body = page.response.get_data(as_text=True)
    assert CANARY_NAME not in body and CANARY_TEXT not in body and str(world["review"].id) not in body
    assert page.select_one("#marac-quarter").text == "2026-27-Q1 (April to June 2026)"
    assert "Groups at night." not in body  # a problem's description stays on the partnership's pages


@pytest.mark.parametrize(("meeting", "quarter"), [
    (D(2026, 7, 1), "2026-27-Q1"),  # the quarter ended the day before
    (D(2026, 6, 30), "2025-26-Q4"),  # the quarter's last day is not over
    (D(2026, 4, 1), "2025-26-Q4"),
    (D(2026, 1, 1), "2025-26-Q3"),
])
def test_the_marac_return_is_the_last_quarter_wholly_before_the_meeting(meeting, quarter):
    assert board_pack.quarter_before(meeting).name == quarter


@pytest.mark.parametrize(("n", "shown"), [(0, 0), (1, "<5"), (4, "<5"), (5, 5), (None, None)])
def test_counts_from_one_to_four_are_suppressed(n, shown):
    assert board_pack.suppress(n) == shown


def test_the_pack_is_as_of_the_day_before_the_meeting_or_today_if_sooner():
    assert board_pack.as_of_for(D(2026, 7, 1), today=D(2026, 12, 7)) == D(2026, 6, 30)
    assert board_pack.as_of_for(D(2026, 12, 10), today=D(2026, 12, 7)) == D(2026, 12, 7)
    assert board_pack.chart_span(D(2026, 7, 1)) == (D(2023, 7, 1), D(2026, 6, 30))
    assert board_pack.year_before(D(2026, 4, 1)).name == "2025/26"
    assert board_pack.year_before(D(2026, 3, 31)).name == "2024/25"


def test_the_page_downloads_each_format_and_refuses_a_bad_date(app_ctx, world):
    client = sign_in(app_ctx, world["manager"])
    odt = client.get(QUERY.replace("/board-pack?", "/board-pack/board-pack.odt?"))
    assert odt.status_code == 200 and odt.headers["Content-Disposition"].endswith('"board-pack-2026-07-01.odt"')
    with zipfile.ZipFile(io.BytesIO(odt.data)) as z:
        content = z.read("content.xml").decode()
        assert any(name.endswith(".svg") for name in z.namelist())
    assert "Share risk at handover" in content and CANARY_NAME not in content and "&lt;5" in content
    html = client.get(QUERY.replace("/board-pack?", "/board-pack/board-pack.html?")).get_data(as_text=True)
    assert "OFFICIAL" in html and "OFFICIAL-SENSITIVE" not in html and html.count("data:image/svg+xml") == 2
    bad = Page(client.get("/board-pack?meeting-day=31&meeting-month=2&meeting-year=2026"))
    assert bad.status_code == 400 and "must be a real date" in bad.select_one(".govuk-error-summary").text
    assert client.get("/board-pack/board-pack.pdf").status_code == 400
    assert client.get(QUERY.replace("/board-pack?", "/board-pack/board-pack.doc?")).status_code == 404


def test_the_command_writes_the_pack_as_html_pdf_and_odt(runner, world, tmp_path):
    for fmt in ("html", "pdf", "odt"):
        out = tmp_path / f"pack.{fmt}"
        result = runner.invoke(args=["board-pack", "--meeting", "2026-07-01", "--format", fmt, "--output", str(out)])
        assert result.exit_code == 0, result.output
        data = out.read_bytes()
        assert data.startswith({"html": b"<!DOCTYPE html>", "pdf": b"%PDF", "odt": b"PK"}[fmt])
    assert "the casework board-pack command" in (tmp_path / "pack.html").read_text()
    bad = runner.invoke(args=["board-pack", "--meeting", "1 July", "--format", "pdf", "--output", str(out)])
    assert bad.exit_code != 0 and "not a date" in bad.output
