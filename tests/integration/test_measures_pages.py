"""The measures pages: the dashboard's figures, a measure's chart, table and localities, the
records behind a figure (only those the viewer may see), exports and the marks commands."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from casework.models import AgencyKind, AsbType, AuditEntry, Category, party_mark
from tests.conftest import Page
from tests.factories import AgencyFactory
from tests.integration.test_measures_engine import Records

D = dt.date


@pytest.fixture()
def records(session, home_agency):  # type: ignore[no-untyped-def]
    """Records of the signed-in users' agency, and of another agency (not shared)."""
    mine = Records(session)
    mine.agency = home_agency
    theirs = Records(session)
    theirs.agency = AgencyFactory(name="Other Agency", kind=AgencyKind.COUNCIL)
    for n in range(6):
        mine.incident(D(2024, 5 + n, 1), category=Category.ASB, locality="Weymouth")
    for n in range(8):
        mine.incident(D(2023, 5, 1 + n), category=Category.ASB, locality="Bridport")
    theirs.incident(D(2024, 6, 15), category=Category.ASB, locality="=HYPERLINK(\"http://x\")")
    victim = mine.person()
    mine.da(D(2024, 5, 1), victims=[victim])
    mine.da(D(2024, 6, 1), victims=[victim])
    session.commit()
    return mine, theirs


def page_of(client, url: str) -> Page:  # type: ignore[no-untyped-def]
    page = Page(client.get(url))
    assert page.status_code == 200, page.text[:500]
    return page


def cell(page: Page, measure: str, which: str) -> str:
    """What a cell shows (the visually hidden words for screen readers left out)."""
    found = page.select_one(f"tr#measure-{measure} td[data-figure={which}]")
    for hidden in found.select(".govuk-visually-hidden"):
        hidden.decompose()
    return found.get_text(" ", strip=True)


def test_the_dashboard_shows_each_measure_with_the_previous_period_change_and_trend(manager_client, records):
    page = page_of(manager_client, "/measures?period=2024/25")
    assert page.h1 == "Measures for 2024/25"
    assert [h.get_text(strip=True) for h in page.select("h2.govuk-heading-m")][:3] == [
        "Domestic abuse and stalking", "Sexual offences", "Anti-social behaviour"]
    assert cell(page, "ASB1", "current") == "7"
    assert cell(page, "ASB1", "previous") == "8"
    assert cell(page, "ASB1", "change") == "Down 1"
    assert cell(page, "ASB1", "trend") == "Improving"
    assert cell(page, "DA1", "current") == "50.0% 1 of 2"
    assert cell(page, "DA1", "trend") == "Not available"
    assert "Repeat victims of domestic abuse" in page.select_one("tr#measure-DA1 th").get_text()


def test_publication_hides_small_numbers_and_the_change_that_would_reveal_them(manager_client, records):
    page = page_of(manager_client, "/measures?period=2024/25&suppress=1")
    assert page.select_one("#suppress").has_attr("checked")
    assert cell(page, "DA1", "current") == "Suppressed <5 of <5"
    assert cell(page, "DA1", "change") == "—"
    assert cell(page, "ASB1", "current") == "7"


def test_a_bad_period_is_reported_and_the_last_full_year_shown(manager_client, records):
    response = manager_client.get("/measures?period=2024/26")
    assert response.status_code == 400
    assert "There is a problem" in response.get_data(as_text=True)


def test_a_measure_page_draws_a_monthly_chart_with_its_data_table_and_localities(manager_client, records):
    page = page_of(manager_client, "/measures/ASB1?period=2024/25")
    svg = page.select_one("figure svg")
    assert svg["role"] == "img"
    assert svg.select_one("title").get_text() == "Anti-social behaviour reported to the police, month by month"
    assert "April 2022 to March 2025" in svg.select_one("desc").get_text()
    rows = page.select("#monthly-table tbody tr")
    assert len(rows) == 36
    by_month = {r.select_one("th").get_text(strip=True): r.select("td")[-1].get_text(strip=True) for r in rows}
    assert by_month["May 2023"] == "8" and by_month["Jun 2024"] == "2" and by_month["Jul 2024"] == "1"
    assert len(svg.select("rect")) == sum(1 for v in by_month.values() if v not in ("0", "–"))
    localities = {r.select_one("th").get_text(strip=True): r.select_one("td").get_text(strip=True)
                  for r in page.select("#locality-table tbody tr")}
    # Another agency's value from before the list of localities: counted, its text never shown.
    assert localities == {"Weymouth": "6", "Unrecognised locality": "1"}
    assert "HYPERLINK" not in page.text


def test_a_referral_measure_has_no_locality_breakdown(manager_client, records):
    page = page_of(manager_client, "/measures/HRDA1?period=2024/25")
    assert page.select_one("#locality-table") is None
    assert "which have no locality" in page.text


def test_the_records_behind_a_count_list_only_visible_ones_and_say_how_many_are_left_out(
        manager_client, records, session):
    dashboard = page_of(manager_client, "/measures?period=2024/25")
    link = dashboard.select_one("tr#measure-ASB1 td[data-figure=current] a")["href"]
    page = page_of(manager_client, link)
    assert len(page.select("#records tbody tr")) == 6
    summary = page.select_one("#records-summary").get_text(" ", strip=True)
    assert summary.startswith("7 incidents counted.") and "1 is not listed" in summary
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "measures.records")).all()[-1]
    details = json.loads(entry.details)
    assert entry.result_count == 6 and details["not_listed"] == 1 and details["measure"] == "ASB1"


def test_exports_keep_numbers_numeric_and_name_only_listed_localities(manager_client, records, session):
    response = manager_client.get("/measures/ASB1/export.xlsx?period=2024/25")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    months, places = book["ASB1 by month"], book["ASB1 by locality"]
    may_2023 = next(row for row in months.iter_rows(min_row=2) if row[0].value == "2023-05")
    assert may_2023[1].value == 8 and may_2023[1].data_type == "n"
    texts = [row[0].value for row in places.iter_rows(min_row=2)]
    assert texts == ["Weymouth", "Unrecognised locality"]
    assert all(c.data_type != "f" for row in places.iter_rows() for c in row)

    text = manager_client.get("/measures/ASB1/export.csv?period=2024/25").data.decode("utf-8-sig")
    assert "HYPERLINK" not in text and "Unrecognised locality" in text

    ods = manager_client.get("/measures/ASB1/export.ods?period=2024/25")
    content = zipfile.ZipFile(io.BytesIO(ods.data)).read("content.xml").decode()
    assert 'office:value-type="float" office:value="8"' in content
    assert "HYPERLINK" not in content
    actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.position))]
    assert actions.count("measures.export") == 3


def test_the_dashboard_export_for_publication_suppresses_small_numbers(manager_client, records):
    response = manager_client.get("/measures/export.csv?period=2024/25&suppress=1")
    assert response.headers["Content-Disposition"].endswith('measures-2024-25-published.csv"')
    rows = {r["Measure"]: r for r in csv.DictReader(io.StringIO(response.data.decode("utf-8-sig")))}
    assert rows["DA1"]["Numerator"] == "<5" and rows["DA1"]["Value"] == ""
    assert rows["ASB1"]["Value"] == "7" and rows["ASB1"]["Previous value"] == "8"
    assert rows["ASB1"]["Trend"] == "Improving"


def test_an_unknown_measure_or_format_is_not_found(manager_client, records):
    assert manager_client.get("/measures/XX9").status_code == 404
    assert manager_client.get("/measures/export.pdf?period=2024/25").status_code == 404
    assert manager_client.get("/measures/FR1/records?period=2024/25").status_code == 404  # sums list nothing


def test_the_marks_commands_check_and_rebuild(runner, session):
    records = Records(session)
    victim = records.person()
    records.incident(D(2024, 5, 1), category=Category.ASB, asb_type=AsbType.PERSONAL, victims=[victim])
    records.incident(D(2024, 6, 1), category=Category.ASB, asb_type=AsbType.PERSONAL, victims=[victim])
    session.commit()
    assert runner.invoke(["measures", "check"]).exit_code == 0
    session.execute(update(party_mark).values(repeat_asb=True))
    session.commit()
    failed = runner.invoke(["measures", "check"])
    assert failed.exit_code == 1 and "3 stored repeat marks and 0 monthly figures differ" in failed.output
    assert "repeat_asb True (should be False)" in failed.output  # and the two month summaries it moved
    rebuilt = runner.invoke(["measures", "rebuild"])
    assert rebuilt.exit_code == 0 and "Rebuilt 2 repeat marks" in rebuilt.output
    assert runner.invoke(["measures", "check"]).exit_code == 0


def _year_select(page: Page) -> tuple[list[str], list[str]]:
    options = page.select("select#period option")
    return [o.get_text(strip=True) for o in options], [o.get_text(strip=True) for o in options if o.has_attr("selected")]


def test_the_year_select_keeps_the_year_shown_when_all_the_data_is_in_this_year(manager_client, session, home_agency):
    """Every record in the current year: the page shows the last full year by default, and its
    select used to offer only the current one (shown selected, so Show silently switched)."""
    from casework.services.measure_pages import current_period

    now = current_period()
    mine = Records(session)
    mine.agency = home_agency
    mine.incident(now.first_day, category=Category.ASB)
    session.commit()
    page = page_of(manager_client, "/measures")
    assert page.select_one("h1").get_text(strip=True) == f"Measures for {now.previous.name}"
    offered, selected = _year_select(page)
    assert selected == [now.previous.name]
    assert offered == [now.name, now.previous.name]


def test_the_year_select_offers_every_year_with_any_record_the_measures_count(manager_client, session, home_agency):
    mine = Records(session)
    mine.agency = home_agency
    victim = mine.person()
    mine.referral(victim, D(2019, 5, 1))  # a referral years before the first incident
    mine.incident(D(2022, 6, 1), category=Category.ASB)
    session.commit()
    page = page_of(manager_client, "/measures/ASB1?period=2021/22")
    offered, selected = _year_select(page)
    assert selected == ["2021/22"]
    assert offered[-1] == "2019/20" and "2021/22" in offered and "2020/21" in offered
    far = page_of(manager_client, "/measures?period=2035/36")  # a year after every record is kept too
    assert _year_select(far)[1] == ["2035/36"]


def test_a_proportion_that_moved_less_than_the_place_shown_is_no_change_not_worsening():
    """0.3111 to 0.3112 read "Up 0.0 percentage points" beside "Worsening"."""
    from casework.measures.tables import measure_by_id
    from casework.services.measure_pages import change_text, show_value, shown_trend

    da1 = measure_by_id("DA1")
    change = change_text(da1, {"value": 0.3112}, {"value": 0.3111})
    assert change == "No change"
    assert shown_trend(change, "worsening") == "no_change"
    assert change_text(da1, {"value": 0.3212}, {"value": 0.3111}) == "Up 1.0 percentage points"
    assert shown_trend("Up 1.0 percentage points", "worsening") == "worsening"
    assert show_value(da1, 0.26) == "26.0%"


def test_the_chart_and_the_figures_write_percentages_alike(manager_client, records):
    page = page_of(manager_client, "/measures/DA1?period=2024/25")
    labels = [t.get_text() for t in page.select("figure svg text")]
    percentages = [t for t in labels if t.endswith("%")]
    assert percentages and all(t[:-1].split(".")[-1].isdigit() and len(t[:-1].split(".")[-1]) == 1
                               for t in percentages), percentages
