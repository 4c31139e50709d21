"""`casework import` and `casework export` (the data exchange format) against the database."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from casework import crypto
from casework.db import db
from casework.exchange import ImportFailed, export_dataset, import_dataset
from casework.models import (
    Agency,
    AgencyKind,
    Area,
    Category,
    Incident,
    Party,
    PartyRole,
    Person,
    PreventionActivity,
    Referral,
    ReferralStatus,
    SourceRef,
)
from casework.services import agencies
from tests.conftest import SAMPLE, make_test_app, upgrade
from tests.factories import AgencyFactory, IncidentFactory, PersonFactory

TABLES = ("area", "person", "incident", "party", "referral", "prevention_activity", "source_ref")
PEOPLE_HEADER = "person_ref,surname,forenames,date_of_birth,gender,postcode,mental_health,substance_misuse,complex_needs"
INCIDENT_HEADER = ("incident_ref,occurred_on,category,domestic_abuse,recorded_by,locality,area,rural,alcohol,"
                   "drugs,mental_health,asb_type")


@pytest.fixture()
def police(session):
    return AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)


@pytest.fixture(params=["checked first", "checked apart"])
def checking(request, app_ctx, monkeypatch):
    """Both ways an import checks: before writing (a small data set), and in a process of its own
    while writing (from IMPORT_CHECK_APART_BYTES; here every data set)."""
    if request.param == "checked apart":
        monkeypatch.setitem(app_ctx.config, "IMPORT_CHECK_APART_BYTES", 0)
    return request.param


def dataset(tmp_path: Path, name: str = "set", **files: str) -> Path:
    """A data set folder with the given files (`people="..."` writes people.csv), CRLF lines."""
    folder = tmp_path / name
    folder.mkdir()
    for stem, content in files.items():
        (folder / f"{stem}.csv").write_bytes(content.strip("\n").replace("\n", "\r\n").encode() + b"\r\n")
    return folder


def sample_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)
    return folder


def snapshot() -> dict[str, list[tuple]]:
    """Every row of the tables an import writes, ciphertexts and timestamps included."""
    return {t: [tuple(r) for r in db.session.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
            for t in TABLES}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.usefixtures("checking")
def test_the_sample_imports_with_the_right_counts(police, tmp_path):
    report = import_dataset(SAMPLE, agency=police)
    counts = {name: (c.created, c.updated, c.unchanged) for name, c in report.files.items()}
    assert counts == {"areas.csv": (10, 0, 0), "people.csv": (1510, 0, 0), "incidents.csv": (1500, 0, 0),
                      "parties.csv": (2311, 0, 0), "referrals.csv": (138, 0, 0), "prevention.csv": (25, 0, 0)}
    assert (count(Person), count(Incident), count(Party), count(Referral), count(PreventionActivity),
            count(Area)) == (1510, 1500, 2311, 138, 25, 10)
    assert count(SourceRef) == 1510 + 1500 + 138 + 25
    referrals = db.session.scalars(select(Referral)).all()
    assert {(r.status, r.imported) for r in referrals} == {(ReferralStatus.CLOSED, True)}
    assert db.session.scalar(select(func.sum(PreventionActivity.savings_pence))) == sum(
        round(float(line.split(",")[4]) * 100) for line in (SAMPLE / "prevention.csv").read_text().splitlines()[1:]
        if line.split(",")[4])


def test_a_person_imported_in_bulk_reads_back_through_the_orm(police, tmp_path):
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\nP1,O'Brien,Siân,1980-02-03,,dt11xj,y,n,n")
    import_dataset(folder, agency=police)
    ref = db.session.scalars(select(SourceRef).where(SourceRef.ref == "P1")).one()
    person = db.session.get(Person, ref.record_id)
    assert (person.surname, person.forenames, person.date_of_birth, person.postcode, person.gender) == (
        "O'Brien", "Siân", dt.date(1980, 2, 3), "DT1 1XJ", None)
    assert person.owner_agency_id == police.id and person.mental_health and person.version == 1
    ring = crypto.current()
    found = db.session.scalars(select(Person).where(Person.bi_surname == crypto.index_of(ring, "surname", "obrien"),
                                                    Person.bi_dob == crypto.index_of(ring, "dob", "1980-02-03"))).all()
    assert found == [person]
    raw = db.session.execute(text("SELECT surname FROM person")).scalar_one()
    assert b"O'Brien" not in bytes(raw)


@pytest.mark.usefixtures("checking")
def test_importing_the_same_data_set_twice_changes_nothing(police, tmp_path):
    import_dataset(SAMPLE, agency=police)
    before = snapshot()
    report = import_dataset(SAMPLE, agency=police)
    assert snapshot() == before
    assert all(c.created == c.updated == c.removed == 0 for c in report.files.values())
    assert report.files["people.csv"].unchanged == 1510


@pytest.mark.usefixtures("checking")
def test_a_changed_row_updates_only_its_record(police, tmp_path):
    first = dataset(tmp_path, "first", people=f"{PEOPLE_HEADER}\nP1,Smith,Ann,1980-02-03,female,DT1 1XJ,n,n,n\n"
                                                f"P2,Jones,Bob,,male,,n,n,n")
    import_dataset(first, agency=police)
    before = {p.surname: (p.id, p.surname_sealed, p.forenames_sealed, p.date_of_birth_sealed, p.bi_surname,
                          p.updated_at, p.version) for p in db.session.scalars(select(Person))}
    second = dataset(tmp_path, "second", people=f"{PEOPLE_HEADER}\nP1,Smyth,Ann,1980-02-03,female,DT1 1XJ,n,n,y\n"
                                                  f"P2,Jones,Bob,,male,,n,n,n")
    report = import_dataset(second, agency=police)
    assert (report.files["people.csv"].updated, report.files["people.csv"].unchanged) == (1, 1)
    after = {p.id: p for p in db.session.scalars(select(Person))}
    smyth = after[before["Smith"][0]]
    assert (smyth.surname, smyth.complex_needs, smyth.version) == ("Smyth", True, 2)
    assert smyth.updated_at > before["Smith"][5]
    assert smyth.surname_sealed != before["Smith"][1] and smyth.bi_surname != before["Smith"][4]
    assert (smyth.forenames_sealed, smyth.date_of_birth_sealed) == before["Smith"][2:4]  # unchanged cells kept
    jones = after[before["Jones"][0]]
    assert (jones.id, jones.surname_sealed, jones.forenames_sealed, jones.date_of_birth_sealed, jones.bi_surname,
            jones.updated_at, jones.version) == before["Jones"]


@pytest.mark.usefixtures("checking")
def test_an_incidents_parties_in_the_data_set_replace_those_it_had(police, tmp_path):
    people = f"{PEOPLE_HEADER}\nP1,Smith,,,,,,,\nP2,Jones,,,,,,,\nP3,Brown,,,,,,,"
    incidents = f"{INCIDENT_HEADER}\nI1,2024-05-01,harassment,y,police,,,,,,,\nI2,2024-05-02,theft,n,police,,,,,,,"
    first = dataset(tmp_path, "first", people=people, incidents=incidents, parties=(
        "incident_ref,person_ref,role,cj_status\nI1,P1,victim,\nI1,P2,perpetrator,\nI2,P3,victim,"))
    import_dataset(first, agency=police)
    kept = db.session.execute(select(Party.id, Party.updated_at).join(Person).where(Party.role == PartyRole.VICTIM)
                              .join(Incident).where(Incident.category == Category.HARASSMENT)).one()
    second = dataset(tmp_path, "second", people=people, incidents=incidents, parties=(
        "incident_ref,person_ref,role,cj_status\nI1,P1,victim,\nI1,P3,perpetrator,\nI2,P3,victim,entered"))
    report = import_dataset(second, agency=police)
    counts = report.files["parties.csv"]
    assert (counts.created, counts.updated, counts.unchanged, counts.removed) == (1, 1, 1, 1)
    rows = db.session.execute(
        select(SourceRef.ref, Party.role, Party.cj_status, Party.id, Party.updated_at)
        .join(SourceRef, (SourceRef.record_id == Party.person_id) & (SourceRef.kind == "person"))
        .join(Incident, Incident.id == Party.incident_id).order_by(Incident.occurred_on, SourceRef.ref)).all()
    assert [(r.ref, r.role.value, r.cj_status and r.cj_status.value) for r in rows] == [
        ("P1", "victim", None), ("P3", "perpetrator", None), ("P3", "victim", "entered")]
    assert (rows[0].id, rows[0].updated_at) == tuple(kept)  # the same party is not rewritten


def test_refs_are_the_agencys_own(police, tmp_path):
    council = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\nP0000001,Smith,Ann,,,,,,")
    import_dataset(folder, agency=police)
    import_dataset(folder, agency=council)
    import_dataset(folder, agency=police)
    assert count(Person) == 2
    owners = set(db.session.scalars(select(Person.owner_agency_id)))
    assert owners == {police.id, council.id}


def test_an_area_is_shared_and_owned_by_its_first_importer(police, tmp_path):
    council = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    header = "area,locality,asb_priority,sv_hotspot,rural_hotspot"
    import_dataset(dataset(tmp_path, "a", areas=f"{header}\nWeymouth Town Centre,Weymouth,y,n,n"), agency=police)
    import_dataset(dataset(tmp_path, "b", areas=f"{header}\nWeymouth Town Centre,Weymouth,y,y,n"), agency=council)
    area = db.session.scalars(select(Area)).one()
    assert (area.owner_agency_id, area.sv_hotspot) == (police.id, True)


BAD_INPUTS = [
    pytest.param({"people": f"{PEOPLE_HEADER},nickname\nP1,Smith,,,,,,,,Smudge"},
                 "people.csv:1: nickname: unknown column; the columns of people.csv are", id="unknown column"),
    pytest.param({"people": "person_ref,forenames\nP1,Ann"},
                 "people.csv:1: surname: required column missing from the header", id="required column missing"),
    pytest.param({"people": f"{PEOPLE_HEADER}\nP1,Smith,,03/02/1980,,,,,"},
                 "people.csv:2: date_of_birth: '03/02/1980' is not a date: use YYYY-MM-DD", id="bad date"),
    pytest.param({"people": f"{PEOPLE_HEADER}\nP1,Smith,,1981-02-29,,,,,"},
                 "people.csv:2: date_of_birth: 1981-02-29 is not a real date", id="impossible date"),
    pytest.param({"people": f"{PEOPLE_HEADER}\nP1,Sm\x00ith,,,,,,,"},
                 "people.csv:2: -: a control character (U+0000) at character 6", id="control character"),
    pytest.param({"people": f"{PEOPLE_HEADER}\nP1,Smith,,,,Dorchester,,,"},
                 "people.csv:2: postcode: 'Dorchester' is not a UK postcode", id="not a postcode"),
    pytest.param({"people": f"{PEOPLE_HEADER}\nP1,Smith,,,,,,,\nP2,Jones,,,,,,,\nP1,Brown,,,,,,,"},
                 "people.csv:4: person_ref: P1 is given more than once in people.csv", id="duplicated ref"),
    pytest.param({"incidents": f"{INCIDENT_HEADER}\nI1,2024-05-01,assault,n,police,,,,,,,"},
                 "incidents.csv:2: category: 'assault' is not a category; use one of: homicide,",
                 id="unknown category"),
    pytest.param({"incidents": f"{INCIDENT_HEADER}\nI1,2024-05-01,theft,n,police,,Nowhere Park,,,,,"},
                 "incidents.csv:2: area: no area called 'Nowhere Park' in areas.csv or the system",
                 id="missing area"),
    pytest.param({"parties": "incident_ref,person_ref,role,cj_status\nI9,P9,victim,"},
                 "parties.csv:2: incident_ref: no incident I9 in this data set or from Dorset Police",
                 id="missing incident"),
    pytest.param({"referrals": ("referral_ref,person_ref,type,referred_on,dash_score\n"
                                "R1,P404,idva,2024-05-01,")},
                 "referrals.csv:2: person_ref: no person P404 in this data set or from Dorset Police",
                 id="missing person"),
    pytest.param({"people": f"{PEOPLE_HEADER}\nP1,Smith,,,,,,,",
                  "referrals": ("referral_ref,person_ref,type,referred_on,dash_score,mappa_level\n"
                                "R1,P1,mappa,2024-05-01,12,2")},
                 "referrals.csv:2: dash_score: does not belong to a mappa referral; leave it blank",
                 id="column of another referral type"),
    pytest.param({"prevention": "activity_ref,occurred_on,kind,savings_gbp\nA1,2024-05-01,other,12.345"},
                 "prevention.csv:2: savings_gbp: 12.345 has more than two decimal places", id="money"),
    pytest.param({"peple": f"{PEOPLE_HEADER}\nP1,Smith,,,,,,,"},
                 "peple.csv:1: -: not a file of the exchange format", id="misnamed file"),
]


@pytest.mark.usefixtures("checking")
@pytest.mark.parametrize(("files", "expected"), BAD_INPUTS)
def test_bad_input_is_reported_and_nothing_is_written(police, tmp_path, files, expected):
    good = dataset(tmp_path, "good", people=f"{PEOPLE_HEADER}\nP0,Keep,,,,,,,")
    import_dataset(good, agency=police)
    before = snapshot()
    bad = dataset(tmp_path, "bad", areas="area,locality,asb_priority,sv_hotspot,rural_hotspot\nNew Area,,n,n,n",
                  **{"people": f"{PEOPLE_HEADER}\nP5,Fresh,,,,,,,", **files})
    with pytest.raises(ImportFailed) as failed:
        import_dataset(bad, agency=police)
    assert [p for p in failed.value.problems if p.startswith(expected)], failed.value.problems
    assert snapshot() == before


@pytest.mark.usefixtures("checking")
def test_a_file_that_is_not_utf8_is_reported(police, tmp_path):
    folder = dataset(tmp_path)
    (folder / "people.csv").write_bytes(f"{PEOPLE_HEADER}\r\nP1,Núñez,,,,,,,\r\n".encode("cp1252"))
    with pytest.raises(ImportFailed) as failed:
        import_dataset(folder, agency=police)
    assert failed.value.problems == [
        "people.csv:2: -: not UTF-8 text (byte 0xfa at character 5); save the file as UTF-8"]
    assert count(Person) == 0


@pytest.mark.usefixtures("checking")
def test_every_problem_of_every_file_is_listed(police, tmp_path):
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\nP1,,,,,,,,\nP2,Smith,,1980-13-01,,,,,",
                     incidents=f"{INCIDENT_HEADER}\nI1,2024-05-01,asb,n,police,,,,,,,",
                     parties="incident_ref,person_ref,role,cj_status\nI1,P1,victim,\nI1,P1,victim,\nI1,P7,perpetrator,x")
    with pytest.raises(ImportFailed) as failed:
        import_dataset(folder, agency=police)
    assert failed.value.problems == [
        "people.csv:2: surname: required",
        "people.csv:3: date_of_birth: 1980-13-01 is not a real date",
        "incidents.csv:2: asb_type: required when the category is asb",
        "parties.csv:3: -: P1 is already a victim of incident I1 (line 2)",
        "parties.csv:4: cj_status: 'x' is not a criminal justice status; use one of: entered, withdrew, concluded",
        "parties.csv:4: person_ref: no person P7 in this data set or from Dorset Police",
    ]


@pytest.mark.usefixtures("checking")
def test_a_misnamed_file_is_listed_with_the_other_files_problems(police, tmp_path):
    folder = dataset(tmp_path, peple=f"{PEOPLE_HEADER}\nP1,Smith,,,,,,,", people=f"{PEOPLE_HEADER}\nP1,,,,,,,,")
    with pytest.raises(ImportFailed) as failed:
        import_dataset(folder, agency=police)
    assert sorted(failed.value.problems) == [
        "people.csv:2: surname: required",
        ("peple.csv:1: -: not a file of the exchange format; the files are areas.csv, people.csv, incidents.csv, "
         "parties.csv, referrals.csv, prevention.csv, orders.csv, asb_case_reviews.csv")]
    assert count(Person) == 0


@pytest.mark.usefixtures("checking")
def test_a_generated_ref_spelt_another_way_is_not_answered_by_the_import_itself(police, tmp_path):
    """A record the data set creates with the id of its `casework:<id>` ref answers no other
    reference of the same data set, however the id is spelt: it did not exist before the import."""
    rid = uuid.uuid4()
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\ncasework:{rid},Smith,,,,,,,",
                     incidents=f"{INCIDENT_HEADER}\nI1,2024-05-01,theft,n,police,,,,,,,",
                     parties=f"incident_ref,person_ref,role,cj_status\nI1,casework:{str(rid).upper()},victim,")
    with pytest.raises(ImportFailed) as failed:
        import_dataset(folder, agency=police)
    assert failed.value.problems == [
        f"parties.csv:2: person_ref: no person casework:{str(rid).upper()} in this data set or from Dorset Police"]
    assert count(Party) == count(Person) == 0


@pytest.mark.usefixtures("checking")
def test_a_generated_ref_spelt_two_ways_finds_its_record_both_ways(police, tmp_path):
    import_dataset(dataset(tmp_path, "a", people=f"{PEOPLE_HEADER}\nP1,Smith,,,,,,,"), agency=police)
    pid = db.session.scalars(select(Person.id)).one()
    report = import_dataset(dataset(tmp_path, "b", referrals=(
        "referral_ref,person_ref,type,referred_on\n"
        f"R1,casework:{pid},idva,2024-05-02\nR2,casework:{str(pid).upper()},idva,2024-05-03")), agency=police)
    assert report.files["referrals.csv"].created == 2


@pytest.mark.usefixtures("checking")
def test_references_may_be_to_records_of_an_earlier_import(police, tmp_path):
    import_dataset(dataset(tmp_path, "a", people=f"{PEOPLE_HEADER}\nP1,Smith,,,,,,,",
                           incidents=f"{INCIDENT_HEADER}\nI1,2024-05-01,theft,n,police,,,,,,,"), agency=police)
    report = import_dataset(dataset(tmp_path, "b", parties="incident_ref,person_ref,role,cj_status\nI1,P1,victim,",
                                    referrals="referral_ref,person_ref,type,referred_on\nR1,P1,idva,2024-05-02"),
                            agency=police)
    assert (report.files["parties.csv"].created, report.files["referrals.csv"].created) == (1, 1)


def test_a_byte_order_mark_is_accepted(police, tmp_path):
    folder = dataset(tmp_path)
    (folder / "people.csv").write_bytes(b"\xef\xbb\xbf" + f"{PEOPLE_HEADER}\r\nP1,Smith,,,,,,,\r\n".encode())
    assert import_dataset(folder, agency=police).files["people.csv"].created == 1


def _read_folder(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


@pytest.mark.parametrize("all_agencies", [False, True], ids=["agency", "all agencies"])
def test_an_export_imported_into_an_empty_database_exports_identically(police, tmp_path, all_agencies):
    empty = db.session.begin_nested()  # rolled back below: the database is empty again
    agency = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    import_dataset(SAMPLE, agency=agency)
    # A record made in the web UI (no ref), named in an imported incident.
    person = PersonFactory(surname="Webb", forenames="Una", owner_agency_id=agency.id)
    incident = IncidentFactory(owner_agency_id=agency.id, category=Category.STALKING)
    db.session.add(Party(incident_id=incident.id, person_id=person.id, role=PartyRole.VICTIM))
    db.session.flush()
    first = tmp_path / "first"
    export_dataset(first, agency=None if all_agencies else agency)
    exported = _read_folder(first)
    assert exported["people.csv"].count(b"casework:") == (1511 if all_agencies else 1)
    empty.rollback()
    assert count(Person) == 0

    agency = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    import_dataset(first, agency=agency)
    second = tmp_path / "second"
    export_dataset(second, agency=None if all_agencies else agency)
    assert _read_folder(second) == exported
    assert list(exported) == ["areas.csv", "asb_case_reviews.csv", "incidents.csv", "orders.csv", "parties.csv",
                              "people.csv", "prevention.csv", "referrals.csv"]


def test_an_export_is_sorted_by_ref_with_money_and_flags_in_the_format(police, tmp_path):
    import_dataset(SAMPLE, agency=police)
    out = tmp_path / "out"
    report = export_dataset(out, agency=police)
    assert report.files["people.csv"] == 1510
    people = (out / "people.csv").read_bytes().decode("utf-8").split("\r\n")
    assert people[0] == PEOPLE_HEADER
    refs = [line.split(",")[0] for line in people[1:] if line]
    assert refs == sorted(refs)
    assert (out / "prevention.csv").read_bytes() == (SAMPLE / "prevention.csv").read_bytes()
    assert (out / "incidents.csv").read_bytes() == (SAMPLE / "incidents.csv").read_bytes()


def test_an_agencys_export_carries_the_people_its_records_name(police, tmp_path):
    council = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    import_dataset(dataset(tmp_path, "c", people=f"{PEOPLE_HEADER}\nC1,Smith,,,,,,,\nC2,Other,,,,,,,"),
                   agency=council)
    smith = db.session.scalars(select(Person).where(Person.bi_surname == crypto.index_of(
        crypto.current(), "surname", "Smith"))).one()
    incident = IncidentFactory(owner_agency_id=police.id)
    db.session.add(Party(incident_id=incident.id, person_id=smith.id, role=PartyRole.VICTIM))
    db.session.flush()
    out = tmp_path / "out"
    export_dataset(out, agency=police)
    people = (out / "people.csv").read_text().splitlines()
    assert len(people) == 2 and f"casework:{smith.id},Smith," in people[1]
    assert f"casework:{incident.id},casework:{smith.id},victim," in (out / "parties.csv").read_text()


def test_the_import_command_lists_problems_and_exits_non_zero(runner, police, tmp_path):
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\nP1,Smith,,1980-02-30,,,,,")
    result = runner.invoke(["import", str(folder), "--agency", "Dorset Police"])
    assert result.exit_code == 1
    assert "people.csv:2: date_of_birth: 1980-02-30 is not a real date" in result.stderr
    assert "Traceback" not in result.output
    assert count(Person) == 0


def test_the_import_command_refuses_an_unknown_agency(runner, police):
    result = runner.invoke(["import", str(SAMPLE), "--agency", "Dorset Polise"])
    assert result.exit_code != 0
    assert "No agency called 'Dorset Polise'" in result.output


def test_the_import_and_export_commands_report_their_counts(runner, police, tmp_path):
    result = runner.invoke(["import", str(SAMPLE), "--agency", "dorset police"])
    assert result.exit_code == 0, result.output
    assert "people.csv: 1510 created, 0 updated, 0 unchanged" in result.output
    result = runner.invoke(["export", str(tmp_path / "out"), "--agency", "Dorset Police"])
    assert result.exit_code == 0, result.output
    assert "parties.csv: 2311 rows" in result.output
    assert (tmp_path / "out" / "parties.csv").exists()


def test_an_agencys_incident_recorded_by_another_kind_keeps_its_recorder(police, tmp_path):
    import_dataset(dataset(tmp_path, incidents=f"{INCIDENT_HEADER}\nI1,2024-05-01,arson,n,fire,,,,,,,"),
                   agency=police)
    incident = db.session.scalars(select(Incident)).one()
    assert (incident.recorded_by, incident.owner_agency_id) == (AgencyKind.FIRE, police.id)


@pytest.mark.usefixtures("checking")
def test_the_caller_commits(police, tmp_path):
    """The service flushes only: a rollback of the caller's transaction undoes the import."""
    savepoint = db.session.begin_nested()
    import_dataset(dataset(tmp_path, people=f"{PEOPLE_HEADER}\nP1,Smith,,,,,,,"), agency=police)
    savepoint.rollback()
    assert count(Person) == 0
    assert db.session.get(Agency, police.id) is not None


def _table_rows(database: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in TABLES}


def _children(pid: int) -> set[int]:
    """The process's descendants (the fork server's children are the import's too)."""
    try:
        found = {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()
    return found.union(*(_children(child) for child in found))


@pytest.mark.parametrize("apart_from", ["1000000000", "0"], ids=["checked first", "checked apart"])
@pytest.mark.parametrize("importer", ["Dorset Police", "Dorset Council"], ids=["re-import", "first import"])
def test_a_killed_import_leaves_the_database_as_it_was(tmp_path, apart_from, importer):
    """SIGKILL part way through the writing: the database is as it was before the import, and no
    process checking it apart (or preparing an agency's first import's rows) is left behind."""
    database = tmp_path / "casework.db"
    app = make_test_app(f"sqlite:///{database}", tmp_path)
    upgrade(app)
    with app.app_context():
        agency = agencies.add(name="Dorset Police", kind="police")
        agencies.add(name="Dorset Council", kind="council")
        import_dataset(dataset(tmp_path, "before", people=f"{PEOPLE_HEADER}\nP1,Smith,Ann,,,,,,"), agency=agency)
        db.session.commit()
    app.extensions["casework.engine"].dispose()
    before = _table_rows(database)

    rows = 5000
    big = dataset(tmp_path, "big",
                  people="\n".join([PEOPLE_HEADER, "P1,Smyth,Ann,,,,,,",
                                    *(f"Q{n},Person{n},Ann,1990-01-01,,DT1 1XJ,n,n,n" for n in range(rows))]),
                  incidents="\n".join([INCIDENT_HEADER,
                                       *(f"I{n},2024-05-01,theft,n,police,,,,,,," for n in range(rows))]),
                  parties="\n".join(["incident_ref,person_ref,role,cj_status",
                                     *(f"I{n},Q{n},victim," for n in range(rows))]))
    env = {**os.environ, "CASEWORK_DATABASE_URL": f"sqlite:///{database}", "CASEWORK_INSTANCE_PATH": str(tmp_path),
           "CASEWORK_KEYRING_FILE": str(tmp_path / "keyring.json"),
           "CASEWORK_IMPORT_CHUNK_DELAY": "0.5",  # test-only: a pause after each chunk written
           "CASEWORK_IMPORT_CHECK_APART_BYTES": apart_from}
    process = subprocess.Popen([str(Path(sys.executable).with_name("casework")), "import", str(big),
                                "--agency", importer, "--progress"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in process.stderr:
            lines.append(line)
            if line.startswith("wrote"):  # at least one chunk is in the (uncommitted) transaction
                break
        assert any(line.startswith("wrote") for line in lines), "".join(lines)
        time.sleep(0.2)
        children = _children(process.pid)
        # Checked apart: the check, and for a first import the preparation (and multiprocessing's tracker).
        wanted = 0 if apart_from != "0" else 2 if importer == "Dorset Council" else 1
        assert (len(children) >= wanted and bool(children) == bool(wanted)) or not sys.platform.startswith("linux")
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert _table_rows(database) == before
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{child}").exists() and "zombie" not in Path(f"/proc/{child}/status").read_text()
              for child in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [c for c in children if Path(f"/proc/{c}").exists()
                and "zombie" not in Path(f"/proc/{c}/status").read_text()]


def _index_names() -> set[str]:
    if db.session.get_bind().dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    return set(db.session.scalars(text(query)))


@pytest.mark.usefixtures("checking")
def test_a_bulk_load_builds_the_indexes_again_after_loading(police, monkeypatch):
    monkeypatch.setattr("casework.exchange.importer.BULK_ROWS", 0)  # the sample is small: defer anyway
    before = _index_names()
    assert "ix_person_bi_surname" in before
    import_dataset(SAMPLE, agency=police)
    assert _index_names() == before
    harris = db.session.scalars(select(Person).where(
        Person.bi_surname == crypto.index_of(crypto.current(), "surname", "Harris"))).all()
    assert harris and {p.surname for p in harris} == {"Harris"}


def test_a_large_import_gives_postgresqls_planner_fresh_statistics(police, db_kind, monkeypatch):
    if db_kind != "postgresql":
        pytest.skip("SQLite's plans come from its indexes alone")
    from sqlalchemy import event

    from casework import exchange

    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        monkeypatch.setattr(exchange, "ANALYSE_FROM_ROWS", 10_000)
        import_dataset(SAMPLE, agency=police)  # 5,483 rows: too few
        assert not [s for s in statements if s.startswith("ANALYZE")]
        monkeypatch.setattr(exchange, "ANALYSE_FROM_ROWS", 1000)
        db.session.execute(text("DELETE FROM source_ref"))  # so the sample's records are new again
        import_dataset(SAMPLE, agency=police)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    analysed = [s for s in statements if s.startswith("ANALYZE")]
    assert len(analysed) == 1 and "person" in analysed[0] and "party_mark" in analysed[0]
    assert db.session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'person'")) >= 1510
