"""An agency's export writes of each person what the agency's users may see, as the pages do."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from casework.db import db
from casework.exchange import export_dataset, import_dataset
from casework.exchange.exporter import WITHHELD_SURNAME
from casework.models import AgencyKind, AuditEntry, Party, PartyRole, Person, Share
from casework.models.base import utcnow
from tests.factories import AgencyFactory, IncidentFactory, PersonFactory, ReferralFactory


@pytest.fixture()
def police(session):
    return AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)


@pytest.fixture()
def council(session):
    return AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)


def person(owner, **values) -> Person:
    values = {"surname": "Quennell", "forenames": "Ottoline", "date_of_birth": dt.date(1981, 4, 17),
              "postcode": "BH15 1AA", "mental_health": True, "substance_misuse": True, "complex_needs": True,
              **values}
    return PersonFactory(owner_agency_id=owner.id, **values)


def victim_of_an_incident_of(agency, someone: Person) -> None:
    incident = IncidentFactory(owner_agency_id=agency.id)
    db.session.add(Party(incident_id=incident.id, person_id=someone.id, role=PartyRole.VICTIM))
    db.session.flush()


def share(someone: Person, agency, *, revoked: bool = False) -> None:
    db.session.add(Share(record_kind="person", record_id=someone.id, agency_id=agency.id, via="explicit",
                         revoked_at=utcnow() if revoked else None))
    db.session.flush()


def exported_people(folder: Path) -> dict[str, list[str]]:
    with (folder / "people.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return {row[0]: row[1:] for row in rows[1:]}


def ref(someone: Person) -> str:
    return f"casework:{someone.id}"


FULL = ["Quennell", "Ottoline", "1981-04-17", "", "BH15 1AA", "y", "y", "y"]
IDENTITY = ["Quennell", "Ottoline", "1981-04-17", "", "", "", "", ""]
STAND_IN = [WITHHELD_SURNAME, "", "", "", "", "", "", ""]


def test_the_agencys_own_person_is_exported_whole(police, tmp_path):
    own = person(police)
    export_dataset(tmp_path / "out", agency=police)
    assert exported_people(tmp_path / "out") == {ref(own): FULL}


def test_another_agencys_person_shared_with_the_agency_is_exported_whole(police, council, tmp_path):
    theirs = person(council)
    share(theirs, police)
    victim_of_an_incident_of(police, theirs)
    export_dataset(tmp_path / "out", agency=police)
    assert exported_people(tmp_path / "out") == {ref(theirs): FULL}


@pytest.mark.parametrize("how", ["party", "referral", "revoked share"])
def test_another_agencys_person_not_shared_is_exported_as_identity_only(police, council, tmp_path, how):
    theirs = person(council)
    if how == "referral":
        ReferralFactory(person_id=theirs.id, owner_agency_id=police.id)
    else:
        victim_of_an_incident_of(police, theirs)
    if how == "revoked share":
        share(theirs, police, revoked=True)
    export_dataset(tmp_path / "out", agency=police)
    assert exported_people(tmp_path / "out") == {ref(theirs): IDENTITY}
    assert b"BH15" not in (tmp_path / "out" / "people.csv").read_bytes()


@pytest.mark.parametrize("owner", ["own", "another agency's, shared", "another agency's"])
def test_a_restricted_person_is_a_stand_in_whoever_owns_them(police, council, tmp_path, owner):
    restricted = person(police if owner == "own" else council, restricted=True)
    if owner == "another agency's, shared":
        share(restricted, police)
    victim_of_an_incident_of(police, restricted)
    export_dataset(tmp_path / "out", agency=police)
    assert exported_people(tmp_path / "out") == {ref(restricted): STAND_IN}
    people = (tmp_path / "out" / "people.csv").read_bytes()
    assert b"Quennell" not in people and b"Ottoline" not in people and b"1981" not in people
    assert f",{ref(restricted)},victim," in (tmp_path / "out" / "parties.csv").read_text()


def test_an_export_of_every_agency_writes_a_restricted_person_as_a_stand_in(police, council, tmp_path):
    restricted = person(council, restricted=True)
    other = person(police, surname="Ashdown")
    export_dataset(tmp_path / "out")
    assert exported_people(tmp_path / "out") == {ref(restricted): STAND_IN, ref(other): ["Ashdown", *FULL[1:]]}


def test_an_export_with_withheld_people_imports_into_an_empty_database(session, tmp_path):
    empty = db.session.begin_nested()
    police = AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)
    council = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    own = person(police, surname="Ashdown")
    victim_of_an_incident_of(police, own)
    victim_of_an_incident_of(police, person(council))
    victim_of_an_incident_of(police, person(council, surname="Fairweather", restricted=True))
    ReferralFactory(person_id=person(council, surname="Pembury", restricted=True).id, owner_agency_id=police.id)
    first = tmp_path / "first"
    export_dataset(first, agency=police)
    empty.rollback()

    police = AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)
    report = import_dataset(first, agency=police)
    assert (report.files["people.csv"].created, report.files["parties.csv"].created,
            report.files["referrals.csv"].created) == (4, 3, 1)
    people = db.session.scalars(select(Person)).all()
    assert sorted(p.surname for p in people) == ["Ashdown", "Quennell", WITHHELD_SURNAME, WITHHELD_SURNAME]
    imported = {p.surname: p for p in people}
    assert {p.forenames for p in people if p.surname == WITHHELD_SURNAME} == {None}
    assert (imported["Ashdown"].postcode, imported["Quennell"].postcode) == ("BH15 1AA", None)
    second = tmp_path / "second"
    export_dataset(second, agency=police)
    assert exported_people(second)[ref(own)] == exported_people(first)[ref(own)] == ["Ashdown", *FULL[1:]]


def test_the_export_is_audited_with_its_counts(police, council, tmp_path):
    victim_of_an_incident_of(police, person(council, restricted=True))
    victim_of_an_incident_of(police, person(council))
    export_dataset(tmp_path / "out", agency=police)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "exchange.export")
                               .order_by(AuditEntry.position.desc())).first()
    assert entry is not None
    details = json.loads(entry.details)
    assert details["agency_id"] == str(police.id) and details["counts"]["people.csv"] == 2


def test_importing_an_export_back_changes_nothing_and_duplicates_nobody(police, council, tmp_path):
    own = person(police, surname="Ashdown")
    restricted = person(police, surname="Beaminster", restricted=True)
    theirs = person(council, surname="Corfe")
    for someone in (own, restricted, theirs):
        victim_of_an_incident_of(police, someone)
    before = {p.id: (p.surname_sealed, p.postcode_sealed, p.version) for p in db.session.scalars(select(Person))}
    export_dataset(tmp_path / "out", agency=police)
    report = import_dataset(tmp_path / "out", agency=police)
    db.session.expire_all()
    after = {p.id: (p.surname_sealed, p.postcode_sealed, p.version) for p in db.session.scalars(select(Person))}
    assert after == before  # no blanks written over the withheld people, no duplicates of anyone
    counts = report.files["people.csv"]
    assert (counts.created, counts.updated, counts.unchanged, counts.protected) == (0, 0, 1, 2)
    assert any("2 left as they are (restricted, or held by another agency)" in line for line in report.lines())
    assert db.session.get(Person, restricted.id).surname == "Beaminster"
    assert db.session.get(Person, theirs.id).postcode == "BH15 1AA"
