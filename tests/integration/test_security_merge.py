"""Issue 20, finding 1: a merge never takes a record out of the sight of the agency that owns it.

The attack: an agency a victim is shared with makes a decoy, restricts it naming only its own user,
and merges the victim into it (or the decoy into the victim): the owner then got 404 for both and a
search found nobody, and the victim's details were erased on the stub."""

from __future__ import annotations

import datetime as dt

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from casework import crypto
from casework.db import db
from casework.models import AuditEntry, Person
from casework.services import restricted
from tests.fixtures_auth import make_user, sign_in
from tests.integration.people_support import make_world, text_of

BORN = dt.date(1984, 3, 9)


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    return make_world(app_ctx)


def _form(client, url):  # type: ignore[no-untyped-def]
    response = client.get(url)
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    data = {i["name"]: i["value"] for i in soup.select("form input[type=hidden]")}
    for radio in soup.select("form input[type=radio][checked]"):
        data[radio["name"]] = radio["value"]
    return response, soup, data


def _attacker(world):  # type: ignore[no-untyped-def]
    """A caseworker of the other agency, which the victim was shared with, and their restricted decoy."""
    user = make_user(roles=("caseworker",), agency=world.other)
    decoy = world.person(agency=world.other, surname="Decoy", forenames="Dee")
    db.session.commit()
    restricted.restrict(decoy, by=user)
    db.session.commit()
    return user, sign_in(world.app, user), decoy


def _victim(world):  # type: ignore[no-untyped-def]
    victim = world.person(surname="Okonkwo", forenames="Grace", date_of_birth=BORN, postcode="DT1 1XJ",
                          address="1 High Street, Dorchester")
    from casework.models import Share

    db.session.add(Share(record_kind="person", record_id=victim.id, agency_id=world.other.id, via="referral"))
    db.session.commit()
    return victim


def _owner_still_sees(world, victim):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    assert db.session.get(Person, victim.id).merged_into_id is None
    assert world.client.get(f"/people/{victim.id}").status_code == 200, "the owner still opens the victim"
    found = BeautifulSoup(world.client.get("/people?surname=okonkwo").get_data(as_text=True), "html.parser")
    assert f"/people/{victim.id}" in [a.get("href") for a in found.select("a")], "the owner still finds the victim"


@pytest.mark.parametrize("keep", ["this", "other"])
def test_another_agency_cannot_merge_a_victim_it_was_shared_into_its_restricted_decoy(world, keep):
    victim = _victim(world)
    _, attacker, decoy = _attacker(world)
    url = f"/people/{decoy.id}/merge/{victim.id}"
    # keep=this: the victim merged away into the decoy; keep=other: the decoy merged into the victim,
    # which would make the victim restricted to the attacker.
    response, soup, data = _form(attacker, f"{url}?keep={keep}")
    assert response.status_code == 200
    warning = soup.select_one("#refused").get_text(" ", strip=True)
    assert "Dorset Police" in warning if keep == "this" else "restricted" in warning
    assert soup.select_one("form button") is None, "the refused merge offers no button"
    data.update({"keep": keep, "survivor_version": "1", "merged_version": "1"})
    response = attacker.post(url, data=data)
    assert response.status_code == 403
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    summary = page.select_one(".govuk-error-summary").get_text(" ", strip=True)
    if keep == "this":
        assert "Only Dorset Police" in summary and "Contact Dorset Police" in summary
    else:
        assert "A restricted record cannot be merged with a record of another agency" in summary
    _owner_still_sees(world, victim)
    db.session.expire_all()
    assert db.session.get(Person, decoy.id).merged_into_id is None


def test_a_restricted_record_is_never_the_survivor_of_a_merge_across_agencies(world):
    """The owner merging its own record into another agency's restricted record it is named on would
    leave that record to the named users only; refused both ways round."""
    theirs = world.person(agency=world.other, surname="Hidden", forenames="Hal")
    owner_user = make_user(roles=("caseworker",), agency=world.other)
    restricted.restrict(theirs, by=owner_user)
    world.share(theirs, "person")
    restricted.name(theirs, user=world.user, by=owner_user)
    mine = world.person(surname="Hidden", forenames="Hal")
    db.session.commit()
    url = f"/people/{theirs.id}/merge/{mine.id}"
    _, _, data = _form(world.client, f"{url}?keep=this")
    data.update({"keep": "this", "survivor_version": str(theirs.version), "merged_version": str(mine.version)})
    response = world.client.post(url, data=data)
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Person, mine.id).merged_into_id is None
    assert world.client.get(f"/people/{mine.id}").status_code == 200


def test_the_owner_merges_its_own_record_into_a_shared_one_and_keeps_it_in_sight(world):
    theirs = world.person(agency=world.other, surname="Bloggs", forenames="Jo")
    world.share(theirs, "person")
    mine = world.person(surname="Bloggs", forenames="Joanne", date_of_birth=BORN, address="2 Low Road")
    db.session.commit()
    url = f"/people/{theirs.id}/merge/{mine.id}"
    _, _, data = _form(world.client, url)
    assert world.client.post(url, data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, mine.id).merged_into_id == theirs.id
    assert world.client.get(f"/people/{mine.id}").headers["Location"].endswith(f"/people/{theirs.id}")


def test_a_merge_keeps_the_merged_records_details_sealed_and_unsearchable(world):
    survivor = world.person(surname="Okonkwo", forenames="Grace")
    merged = world.person(surname="Okonkwo", forenames="Gracie", date_of_birth=BORN, postcode="DT1 1XJ",
                          address="1 High Street, Dorchester", phone="01305 123456")
    db.session.commit()
    url = f"/people/{survivor.id}/merge/{merged.id}"
    _, _, data = _form(world.client, url)
    assert world.client.post(url, data=data).status_code == 302
    db.session.expire_all()
    stub = db.session.get(Person, merged.id)
    assert stub.merged_into_id == survivor.id
    assert (stub.surname, stub.forenames, stub.date_of_birth, stub.postcode, stub.address, stub.phone) == (
        "Okonkwo", "Gracie", BORN, "DT1 1XJ", "1 High Street, Dorchester", "01305 123456"), "nothing erased"
    assert all(getattr(stub, f"bi_{n}") is None for n in ("surname", "full_name", "phonetic", "dob", "postcode",
                                                         "phonetic_yob")), "the stub never matches a search"
    raw = db.session.execute(select(Person.__table__.c.address).where(Person.id == merged.id)).scalar()
    assert raw is not None and b"High Street" not in bytes(raw), "kept sealed"
    found = BeautifulSoup(world.client.get("/people?surname=okonkwo").get_data(as_text=True), "html.parser")
    assert "1 person found" in found.text
    # The owning agency reads the merged record's details on the survivor's page.
    page = BeautifulSoup(world.client.get(f"/people/{survivor.id}").get_data(as_text=True), "html.parser")
    section = text_of(page.select_one("#merged-records"))
    assert "Gracie" in section and "9 March 1984" in section and "1 High Street, Dorchester" in section
    assert any(e.action == "record.view" and e.details and "merged details" in e.details
               for e in db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == merged.id)))
    entry = next(e for e in db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == merged.id))
                 if e.action == "person.merged_into")
    assert "address" in entry.details and "High Street" not in entry.details


def test_another_agency_does_not_read_the_merged_records_details(world):
    survivor = world.person(agency=world.other, surname="Okonkwo", forenames="Grace")
    world.share(survivor, "person")
    merged = world.person(surname="Okonkwo", forenames="Gracie", address="1 High Street, Dorchester")
    db.session.commit()
    url = f"/people/{survivor.id}/merge/{merged.id}"
    _, _, data = _form(world.client, url)
    assert world.client.post(url, data=data).status_code == 302
    other_user = make_user(roles=("caseworker",), agency=world.other)
    page = BeautifulSoup(sign_in(world.app, other_user).get(f"/people/{survivor.id}").get_data(as_text=True),
                         "html.parser")
    assert page.select_one("#merged-records") is None


@pytest.fixture()
def ring(app_ctx):  # type: ignore[no-untyped-def]
    """The app's keyring, its file restored after the test (as tests/integration/test_keys.py does)."""
    from pathlib import Path

    from casework.config import write_private

    ring = crypto.current()
    saved = ring.to_json()
    yield ring
    write_private(Path(ring.path), saved.encode())
    ring._stamp = None
    ring.reload_if_changed()


def test_rotating_the_index_keys_leaves_a_merged_record_unsearchable(world, app_ctx, ring):
    from casework.services import keys

    survivor = world.person(surname="Okonkwo", forenames="Grace")
    merged = world.person(surname="Okonkwo", forenames="Gracie", date_of_birth=BORN)
    db.session.commit()
    url = f"/people/{survivor.id}/merge/{merged.id}"
    _, _, data = _form(world.client, url)
    assert world.client.post(url, data=data).status_code == 302
    keys.rotate_index_keys(ring=ring, keyring_file=app_ctx.config["KEYRING_FILE"])
    db.session.expire_all()
    stub = db.session.get(Person, merged.id)
    assert stub.bi_surname is None and stub.bi_dob is None and stub.surname == "Okonkwo"
