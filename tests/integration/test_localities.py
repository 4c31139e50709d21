"""Localities come from the partnership's list (issue 20, finding 6).

The measures' breakdowns by locality name only the list's localities, never text someone typed
(another agency's street with a count of 1); with small numbers suppressed, a locality whose figures
are suppressed is left out unless the viewer may see every record behind it. Forms and imports take
only the list's localities (case and spacing do not count); administrators keep the list.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from casework.db import db
from casework.demo.places import AREAS, LOCALITIES
from casework.exchange import ImportFailed, import_dataset
from casework.models import AgencyKind, Area, AuditEntry, Category, Incident, Locality
from casework.services import localities
from tests.conftest import Page
from tests.factories import AgencyFactory
from tests.fixtures_auth import make_user, sign_in
from tests.integration.people_support import dob_fields, make_world
from tests.integration.test_measures_engine import Records
from tests.integration.test_measures_marks import exact

D = dt.date
STREET = "Flat 2, 14 Smith Street"  # what someone typed where a locality goes


def breakdown(client, url: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    page = Page(client.get(url))
    assert page.status_code == 200, page.text[:300]
    return {r.select_one("th").get_text(strip=True): r.select_one("td").get_text(strip=True)
            for r in page.select("#locality-table tbody tr")}


@pytest.fixture()
def places(session, home_agency):  # type: ignore[no-untyped-def]
    """ASB in 2024/25: 6 of the home agency's in Weymouth and 3 in Dorchester; another agency's 2 in
    Bridport and 1 whose locality, recorded before the list, is a street."""
    mine, theirs = Records(session), Records(session)
    mine.agency = home_agency
    theirs.agency = AgencyFactory(name="Other Agency", kind=AgencyKind.COUNCIL)
    for n in range(6):
        mine.incident(D(2024, 5 + n, 1), category=Category.ASB, locality="Weymouth")
    for n in range(3):
        mine.incident(D(2024, 7, 1 + n), category=Category.ASB, locality="Dorchester")
    for n in range(2):
        theirs.incident(D(2024, 8, 1 + n), category=Category.ASB, locality="Bridport")
    theirs.incident(D(2024, 6, 15), category=Category.ASB, locality=STREET)
    session.commit()
    return mine, theirs


# --- the breakdowns ------------------------------------------------------------------------------


def test_a_breakdown_counts_a_locality_outside_the_list_without_showing_its_text(manager_client, places):
    rows = breakdown(manager_client, "/measures/ASB1?period=2024/25")
    assert rows == {"Bridport": "2", "Dorchester": "3", "Weymouth": "6", "Unrecognised locality": "1"}
    assert list(rows)[-1] == "Unrecognised locality"
    page = manager_client.get("/measures/ASB1?period=2024/25").get_data(as_text=True)
    assert "Smith Street" not in page
    for fmt in ("csv", "xlsx", "ods"):
        exported = manager_client.get(f"/measures/ASB1/export.{fmt}?period=2024/25")
        assert exported.status_code == 200 and b"Smith Street" not in exported.data


def test_with_suppression_a_locality_of_small_numbers_goes_unless_the_viewer_may_see_its_records(
        manager_client, places, app_ctx):
    url = "/measures/ASB1?period=2024/25&suppress=1"
    # The home agency's manager sees their own Dorchester (3 records) as <5; the other agency's
    # Bridport and unrecognised locality are left out, names and all.
    assert breakdown(manager_client, url) == {"Dorchester": "<5", "Weymouth": "6"}
    page = Page(manager_client.get(url))
    assert "Localities whose figures are small numbers (1 to 4) are left out" in \
        page.select_one("#localities-left-out").get_text(" ", strip=True)
    assert "Bridport" not in page.select_one("#localities").find_next("table").get_text()

    text = manager_client.get("/measures/ASB1/export.csv?period=2024/25&suppress=1").data.decode("utf-8-sig")
    assert "Bridport" not in text and "Unrecognised" not in text and "Dorchester" in text

    # The other agency's manager may see the Bridport records and their own unrecognised one.
    _, theirs = places
    other = sign_in(app_ctx, make_user(roles=("manager",), agency=theirs.agency))
    assert breakdown(other, url) == {"Bridport": "<5", "Weymouth": "6", "Unrecognised locality": "<5"}


def test_a_restricted_record_behind_a_locality_hides_it_from_its_own_agency_too(manager_client, places, session):
    mine, _ = places
    mine.incident(D(2024, 7, 20), category=Category.ASB, locality="Dorchester", restricted=True)
    session.commit()
    assert breakdown(manager_client, "/measures/ASB1?period=2024/25&suppress=1") == {"Weymouth": "6"}
    assert breakdown(manager_client, "/measures/ASB1?period=2024/25")["Dorchester"] == "4"


def test_the_computed_and_stored_breakdowns_agree_on_the_unrecognised_row(places, session):
    from casework.measures import engine
    from casework.measures.definitions import BY_ID
    from casework.measures.periods import Period

    for measure in ("ASB1", "ASB2"):
        stored = engine.by_locality(session, BY_ID[measure], Period(2024))
        assert stored == engine.by_locality(session, BY_ID[measure], Period(2024), precomputed=False)
    assert [place for place, _ in engine.by_locality(session, BY_ID["ASB1"], Period(2024))] == [
        "Bridport", "Dorchester", "Weymouth", "Unrecognised locality"]


# --- the incident form ------------------------------------------------------------------------------


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    return make_world(app_ctx)


def _form(on: D, **extra: object) -> dict[str, object]:
    return {**dob_fields(on, "occurred_on"), "category": "violence_with_injury", **extra}


def _incidents() -> int:
    return db.session.scalar(select(func.count()).select_from(Incident)) or 0


def test_the_form_offers_the_list_of_localities(world):
    status, soup = world.page("/incidents/new")
    assert status == 200
    field = soup.select_one("select#locality")
    options = [o["value"] for o in field.select("option")]
    assert options[0] == "" and "West Moors" in options and "Weymouth" in options
    assert options[1:] == localities.names()
    assert soup.select_one("input[name=locality]") is None


def test_the_form_matches_case_and_spacing_and_refuses_free_text(world):
    response = world.post("/incidents/new", _form(D(2024, 5, 1), locality="  west   MOORS "))
    assert response.status_code == 302
    incident = db.session.scalar(select(Incident).order_by(Incident.created_at.desc()).limit(1))
    assert incident.locality == "West Moors"

    before = _incidents()
    response = world.post("/incidents/new", _form(D(2024, 5, 1), locality=STREET))
    assert response.status_code == 400
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    summary = soup.select_one(".govuk-error-summary a[href='#locality']")
    assert summary.get_text(strip=True) == (f"'{STREET}' is not a locality in the partnership's list: "
                                            f"choose one from the list")
    assert _incidents() == before


def test_an_incident_from_before_the_list_keeps_its_locality_when_saved_unchanged(world):
    incident = world.incident(on=D(2024, 5, 1), locality=STREET)
    db.session.commit()
    _, soup = world.page(f"/incidents/{incident.id}/edit")
    chosen = soup.select_one("select#locality option[selected]")
    assert chosen["value"] == STREET and "not in the list" in chosen.get_text()

    data = _form(D(2024, 5, 2), locality=STREET, version=str(incident.version))
    assert world.post(f"/incidents/{incident.id}/edit", data).status_code == 302
    db.session.refresh(incident)
    assert incident.locality == STREET and incident.occurred_on == D(2024, 5, 2)

    data = _form(D(2024, 5, 3), locality="14 Smith Street", version=str(incident.version))
    assert world.post(f"/incidents/{incident.id}/edit", data).status_code == 400
    db.session.refresh(incident)
    assert incident.locality == STREET and incident.occurred_on == D(2024, 5, 2)


# --- imports ------------------------------------------------------------------------------------


INCIDENT_HEADER = ("incident_ref,occurred_on,category,domestic_abuse,recorded_by,locality,area,rural,alcohol,"
                   "drugs,mental_health,asb_type")
AREA_HEADER = "area,locality,asb_priority,sv_hotspot,rural_hotspot"


@pytest.fixture(params=["checked first", "checked apart"])
def checking(request, app_ctx, monkeypatch):  # type: ignore[no-untyped-def]
    """Both ways an import checks (and, apart, an agency's first import prepared apart too)."""
    if request.param == "checked apart":
        monkeypatch.setitem(app_ctx.config, "IMPORT_CHECK_APART_BYTES", 0)
    return request.param


def dataset(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "set"
    folder.mkdir()
    for stem, content in files.items():
        (folder / f"{stem}.csv").write_text(content.strip("\n") + "\n", encoding="utf-8")
    return folder


def test_an_import_refuses_a_locality_outside_the_list_and_writes_nothing(tmp_path, session, checking):
    agency = AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)
    folder = dataset(tmp_path, areas=f"{AREA_HEADER}\nHarbourside,Harbour Road,y,n,n",
                     incidents="\n".join([INCIDENT_HEADER, "I1,2024-05-01,theft,n,police,weymouth,,,,,,",
                                          f'I2,2024-05-02,theft,n,police,"{STREET}",,,,,,']))
    with pytest.raises(ImportFailed) as failed:
        import_dataset(folder, agency=agency)
    session.rollback()
    rule = "is not a locality in the partnership's list (`casework localities list`; case and spacing do not count)"
    assert failed.value.problems == [f"areas.csv:2: locality: 'Harbour Road' {rule}",
                                     f"incidents.csv:3: locality: '{STREET}' {rule}"]
    assert _incidents() == 0 and session.scalar(select(func.count()).select_from(Area)) == 0


def test_an_import_gives_each_locality_the_lists_spelling(tmp_path, session, checking):
    agency = AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)
    incidents = f"""{INCIDENT_HEADER}
I1,2024-05-01,theft,n,police,  west   MOORS,,,,,,
I2,2024-05-02,theft,n,police,Swanage,Harbourside,,,,,
I3,2024-05-03,theft,n,police,,,,,,,"""
    folder = dataset(tmp_path, areas=f"{AREA_HEADER}\nHarbourside,  WEYMOUTH ,y,n,n", incidents=incidents)
    import_dataset(folder, agency=agency)
    session.commit()
    assert sorted(session.scalars(select(Incident.locality)), key=str) == [None, "Swanage", "West Moors"]
    assert session.scalar(select(Area.locality)) == "Weymouth"
    assert exact(session)


# --- the list, kept by administrators -------------------------------------------------------------


def test_administrators_keep_the_list_and_the_records_and_figures_follow(runner, session):
    records = Records(session)
    for value in ("  kingston  lacy", "KINGSTON LACY", STREET):
        records.incident(D(2024, 5, 1), category=Category.ASB, locality=value)
    records.incident(D(2024, 5, 2), category=Category.ASB, locality="Wool")
    session.commit()

    listed = runner.invoke(["localities", "unrecognised"])
    assert listed.exit_code == 0
    assert listed.stdout.splitlines() == ["'  kingston  lacy'\t1", f"'{STREET}'\t1", "'KINGSTON LACY'\t1"]

    added = runner.invoke(["localities", "add", " Kingston   Lacy "])
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == "Added Kingston Lacy; 2 records given it"
    assert session.scalar(select(func.count()).select_from(Incident)
                          .where(Incident.locality == "Kingston Lacy")) == 2
    assert exact(session)

    mapped = runner.invoke(["localities", "map", STREET, "--to", "wool"])
    assert mapped.exit_code == 0 and mapped.stdout.strip() == "1 record given the locality Wool"
    assert runner.invoke(["localities", "unrecognised"]).stdout.strip() == "Every record's locality is in the list."

    renamed = runner.invoke(["localities", "rename", "Wool", "Wool and Bovington"])
    assert renamed.exit_code == 0 and renamed.stdout.strip() == "Renamed to Wool and Bovington; 2 records changed"
    assert set(session.scalars(select(Incident.locality))) == {"Kingston Lacy", "Wool and Bovington"}
    assert exact(session)

    refused = runner.invoke(["localities", "remove", "Wool and Bovington"])
    assert refused.exit_code != 0 and "is the locality of 2 records" in refused.output
    assert runner.invoke(["localities", "remove", "Sixpenny Handley"]).exit_code == 0
    assert localities.by_name("Sixpenny Handley") is None

    for name, message in (("weymouth", "The locality Weymouth is already in the list"),
                          ("Unrecognised Locality", "is what the measures call records outside the list"),
                          ("", "Enter the locality's name")):
        result = runner.invoke(["localities", "add", name])
        assert result.exit_code != 0 and message in result.output, result.output

    listing = runner.invoke(["localities", "list"]).output.splitlines()
    assert "Kingston Lacy\t2" in listing and "Wool and Bovington\t2" in listing and "Weymouth\t0" in listing
    actions = [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.record_kind == "locality")
                                                 .order_by(AuditEntry.position))]
    assert actions == ["locality.create", "locality.map", "locality.update", "locality.delete"]


def test_the_demo_and_sample_localities_are_on_the_list(session):
    listed = set(session.scalars(select(Locality.name)))
    assert {loc.name for loc in LOCALITIES} | {area.locality for area in AREAS} <= listed
    sample = Path(__file__).parents[1] / "data" / "sample"
    for name in ("incidents.csv", "areas.csv"):
        with (sample / name).open(encoding="utf-8-sig") as f:
            assert {row["locality"] for row in csv.DictReader(f) if row["locality"]} <= listed
