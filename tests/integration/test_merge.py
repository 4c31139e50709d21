"""Merging two records of one person: everything moves to the survivor, duplicates collapse, the
merged record keeps its details but never matches again, refs follow so re-imports update the survivor."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from casework.db import db
from casework.exchange import import_dataset
from casework.models import (
    Case,
    CaseKind,
    CasePerson,
    CjStatus,
    Party,
    PartyRole,
    Person,
    RecordKind,
    Referral,
    ReferralType,
    Share,
    SourceRef,
)
from tests.integration.people_support import TODAY, audit_actions, make_world

V = PartyRole.VICTIM


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    return make_world(app_ctx)


def _merge(world, survivor, merged, **fields):  # type: ignore[no-untyped-def]
    url = f"/people/{survivor.id}/merge/{merged.id}"
    soup = BeautifulSoup(world.client.get(url).get_data(as_text=True), "html.parser")
    data = {i["name"]: i["value"] for i in soup.select("form input[type=hidden]")}
    for radio in soup.select("form input[type=radio][checked]"):
        data[radio["name"]] = radio["value"]
    data.update({f"field-{k}": v for k, v in fields.items()})
    return world.post(url, data)


def test_merging_moves_everything_to_the_survivor(world):
    survivor = world.person(surname="Jones", forenames="Ann", date_of_birth=None, phone="01305 1")
    merged = world.person(surname="Jones", forenames="Anne", date_of_birth=dt.date(1980, 2, 2), phone="01305 2",
                          mental_health=True, postcode="DT1 1XJ")
    shared_one = world.incident(on=TODAY - dt.timedelta(days=100), parties=((survivor, V),), domestic_abuse=True)
    db.session.add(Party(incident_id=shared_one.id, person_id=merged.id, role=V, cj_status=CjStatus.ENTERED))
    world.incident(on=TODAY - dt.timedelta(days=10), parties=((merged, V),), domestic_abuse=True)
    case = Case(kind=CaseKind.DOMESTIC_ABUSE, owner_agency_id=world.own.id)
    db.session.add(case)
    db.session.flush()
    db.session.add_all([CasePerson(case_id=case.id, person_id=survivor.id),
                        CasePerson(case_id=case.id, person_id=merged.id),
                        Referral(person_id=merged.id, type=ReferralType.HRDA, referred_on=TODAY,
                                 owner_agency_id=world.own.id),
                        Share(record_kind="person", record_id=merged.id, agency_id=world.other.id, via="explicit"),
                        SourceRef(agency_id=world.own.id, kind=RecordKind.PERSON, ref="P2", record_id=merged.id)])
    db.session.commit()
    soup = BeautifulSoup(world.client.get(f"/people/{survivor.id}").get_data(as_text=True), "html.parser")
    assert "Repeat victim: domestic abuse" not in soup.text, "before: neither record is a repeat alone"

    response = _merge(world, survivor, merged, phone="other")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/people/{survivor.id}")
    db.session.expire_all()
    s, m = db.session.get(Person, survivor.id), db.session.get(Person, merged.id)
    assert (s.forenames, s.date_of_birth, s.phone, s.postcode) == ("Ann", dt.date(1980, 2, 2), "01305 2", "DT1 1XJ")
    assert s.mental_health, "a warning marker of either record survives"
    parties = db.session.execute(select(Party.incident_id, Party.person_id, Party.cj_status)).all()
    assert {p.person_id for p in parties} == {survivor.id}
    assert len([p for p in parties if p.incident_id == shared_one.id]) == 1, "duplicate party collapsed"
    assert [p.cj_status for p in parties if p.incident_id == shared_one.id] == [CjStatus.ENTERED]
    assert db.session.scalar(select(func.count()).select_from(CasePerson).where(CasePerson.case_id == case.id)) == 1
    assert db.session.scalar(select(Referral.person_id)) == survivor.id
    assert db.session.scalar(select(Share.record_id).where(Share.agency_id == world.other.id)) == survivor.id
    assert db.session.scalar(select(SourceRef.record_id).where(SourceRef.ref == "P2")) == survivor.id
    assert m.merged_into_id == survivor.id and (m.surname, m.forenames, m.date_of_birth) == (
        "Jones", "Anne", dt.date(1980, 2, 2)), "the merged record's details are kept"
    assert all(getattr(m, f"bi_{n}") is None for n in ("surname", "full_name", "phonetic", "dob", "postcode",
                                                      "phonetic_yob"))
    merge_entry = next(json.loads(d) for a, d in audit_actions(survivor.id) if a == "person.merge")
    assert merge_entry["merged"] == str(merged.id) and "phone" in merge_entry["fields"]
    assert any(a == "person.merged_into" for a, _ in audit_actions(merged.id))
    soup = BeautifulSoup(world.client.get(f"/people/{survivor.id}").get_data(as_text=True), "html.parser")
    assert "Repeat victim: domestic abuse" in [t.get_text(strip=True) for t in soup.select("#flags .govuk-tag")]
    assert "Repeat HRDA" in soup.text
    # The merged record leads to the survivor and is never found again.
    assert world.client.get(f"/people/{merged.id}").headers["Location"].endswith(f"/people/{survivor.id}")
    found = BeautifulSoup(world.client.get("/people?surname=jones").get_data(as_text=True), "html.parser")
    assert "1 person found" in found.text


def test_merging_an_invisible_record_is_not_found(world):
    mine = world.person(surname="Mine")
    theirs = world.person(agency=world.other, surname="Theirs")
    db.session.commit()
    assert world.client.get(f"/people/{mine.id}/merge/{theirs.id}").status_code == 404
    assert world.post(f"/people/{mine.id}/merge/{theirs.id}", {"keep": "this", "survivor_version": "1",
                                                               "merged_version": "1"}).status_code == 404
    assert db.session.get(Person, theirs.id).merged_into_id is None


def test_the_other_record_is_found_by_search_and_bad_terms_are_explained(world):
    mine = world.person(surname="Okafor", forenames="Ada")
    other = world.person(surname="Okafor", forenames="Adaeze")
    db.session.commit()
    status, soup = world.page(f"/people/{mine.id}/merge?surname=okafor&forenames=adaeze")
    assert status == 200
    links = [a["href"] for a in soup.select("table.govuk-table tbody a")]
    assert f"/people/{mine.id}/merge/{other.id}" in links
    # The same terms as the people search, and the same messages (a first name needs a surname).
    status, soup = world.page(f"/people/{mine.id}/merge?forenames=adaeze")
    assert status == 400
    assert "Enter a surname to search by name" in soup.select_one(".govuk-error-summary").text


def test_the_other_record_can_be_chosen_as_the_survivor(world):
    first = world.person(surname="First")
    second = world.person(surname="Second")
    db.session.commit()
    url = f"/people/{first.id}/merge/{second.id}?keep=other"
    soup = BeautifulSoup(world.client.get(url).get_data(as_text=True), "html.parser")
    data = {i["name"]: i["value"] for i in soup.select("form input[type=hidden]")}
    data.update({r["name"]: r["value"] for r in soup.select("form input[type=radio][checked]")})
    assert world.post(f"/people/{first.id}/merge/{second.id}", data).status_code == 302
    assert db.session.get(Person, first.id).merged_into_id == second.id


def test_a_stale_merge_is_refused(world):
    a, b = world.person(surname="Alpha"), world.person(surname="Beta")
    db.session.commit()
    response = world.post(f"/people/{a.id}/merge/{b.id}", {"keep": "this", "survivor_version": str(a.version),
                                                           "merged_version": str(b.version + 5)})
    assert response.status_code == 409
    assert db.session.get(Person, b.id).merged_into_id is None


def _write(directory: Path, name: str, rows: list[str]) -> None:
    (directory / name).write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")


def test_a_reimport_of_a_merged_ref_updates_the_survivor(world, tmp_path):
    people_header = "person_ref,surname,forenames,date_of_birth,gender,postcode,mental_health,substance_misuse," \
                    "complex_needs"
    _write(tmp_path, "people.csv", [people_header, "P1,Kowalski,Jan,1970-01-01,male,DT1 1XJ,n,n,n",
                                    "P2,Kowalsky,Jan,1970-01-01,male,DT1 1XJ,n,n,n"])
    _write(tmp_path, "incidents.csv", [
        ("incident_ref,occurred_on,category,domestic_abuse,recorded_by,locality,area,rural,alcohol,drugs,"
        "mental_health,asb_type"), "I1,2024-01-01,robbery,n,police,Weymouth,,n,n,n,n,"])
    _write(tmp_path, "parties.csv", ["incident_ref,person_ref,role,cj_status", "I1,P2,victim,"])
    import_dataset(tmp_path, agency=world.own)
    db.session.commit()
    ids = dict(db.session.execute(select(SourceRef.ref, SourceRef.record_id).where(
        SourceRef.kind == RecordKind.PERSON)).all())
    survivor, merged = db.session.get(Person, ids["P1"]), db.session.get(Person, ids["P2"])
    assert _merge(world, survivor, merged).status_code == 302
    _write(tmp_path, "people.csv", [people_header, "P1,Kowalski,Jan,1970-01-01,male,DT1 1XJ,n,n,n",
                                    "P2,Kowalski,Janek,1970-01-01,male,BH15 1AA,n,n,n"])
    _write(tmp_path, "parties.csv", ["incident_ref,person_ref,role,cj_status", "I1,P2,victim,concluded"])
    import_dataset(tmp_path, agency=world.own)
    db.session.commit()
    db.session.expire_all()
    survivor = db.session.get(Person, ids["P1"])
    assert (survivor.forenames, survivor.postcode) == ("Janek", "BH15 1AA"), "the merged ref updated the survivor"
    assert db.session.get(Person, ids["P2"]).surname == "Kowalsky", "the stub is untouched"
    parties = db.session.execute(select(Party.person_id, Party.cj_status)).all()
    assert parties == [(survivor.id, CjStatus.CONCLUDED)]


def test_an_import_naming_both_merged_refs_in_one_incident_gives_one_party(world, tmp_path):
    people_header = "person_ref,surname,forenames,date_of_birth,gender,postcode,mental_health,substance_misuse," \
                    "complex_needs"
    incidents_header = ("incident_ref,occurred_on,category,domestic_abuse,recorded_by,locality,area,rural,alcohol,"
                        "drugs,mental_health,asb_type")
    _write(tmp_path, "people.csv", [people_header, "P1,Kowalski,Jan,1970-01-01,male,DT1 1XJ,n,n,n",
                                    "P2,Kowalsky,Jan,1970-01-01,male,DT1 1XJ,n,n,n"])
    import_dataset(tmp_path, agency=world.own)
    db.session.commit()
    ids = dict(db.session.execute(select(SourceRef.ref, SourceRef.record_id).where(
        SourceRef.kind == RecordKind.PERSON)).all())
    survivor, merged = db.session.get(Person, ids["P1"]), db.session.get(Person, ids["P2"])
    assert _merge(world, survivor, merged).status_code == 302
    (tmp_path / "people.csv").unlink()
    _write(tmp_path, "incidents.csv", [incidents_header, "I9,2024-02-01,robbery,n,police,Weymouth,,n,n,n,n,"])
    _write(tmp_path, "parties.csv", ["incident_ref,person_ref,role,cj_status", "I9,P1,victim,", "I9,P2,victim,",
                                     "I9,P2,perpetrator,"])
    import_dataset(tmp_path, agency=world.own)
    db.session.commit()
    parties = sorted(db.session.execute(select(Party.person_id, Party.role)).all(), key=lambda p: p.role.value)
    assert parties == [(survivor.id, PartyRole.PERPETRATOR), (survivor.id, PartyRole.VICTIM)]


def test_a_record_merged_into_another_agencys_record_leaves_its_agency_a_lasting_share(world):
    """The merged record's agency (the only one that may merge it away) keeps seeing the person it
    recorded: a share made by the merge, not one a user chooses, so it is made even when the
    survivor's agency has since been deactivated, and it outlasts the HRDA listing's share that let
    the agency see the survivor."""
    from casework.services import sharing

    survivor = world.person(agency=world.other, surname="Jones", forenames="Ann")
    merged = world.person(surname="Jones", forenames="Anne")
    db.session.add(Share(record_kind="person", record_id=survivor.id, agency_id=world.own.id, via="hrda_meeting"))
    world.other.active = False
    db.session.commit()
    response = _merge(world, survivor, merged)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, merged.id).merged_into_id == survivor.id
    sharing.unshare(record=db.session.get(Person, survivor.id), agency=world.own, via="hrda_meeting")
    db.session.commit()
    assert world.client.get(f"/people/{survivor.id}").status_code == 200
    assert world.client.get(f"/people/{merged.id}").headers["Location"].endswith(f"/people/{survivor.id}")
