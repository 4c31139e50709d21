"""Editing a person: saved and audited by field name; a stale save is refused showing what changed
meanwhile; a do-not-disclose address stays hidden and unchanged unless deliberately shown."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from bs4 import BeautifulSoup

from casework.db import db
from tests.integration.people_support import audit_actions, dob_fields, make_world


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    return make_world(app_ctx)


def _form(world, person) -> dict[str, object]:  # type: ignore[no-untyped-def]
    soup = BeautifulSoup(world.client.get(f"/people/{person.id}/edit").get_data(as_text=True), "html.parser")
    data: dict[str, object] = {}
    for field in soup.select("form input, form textarea, form select"):
        name = field.get("name")
        if not name or field.get("type") == "submit" or field.name == "button":
            continue
        if field.get("type") == "checkbox":
            if field.has_attr("checked"):
                data.setdefault(name, []).append(field["value"])  # type: ignore[union-attr]
        elif field.name == "select":
            chosen = field.select_one("option[selected]")
            data[name] = chosen["value"] if chosen else ""
        else:
            data[name] = field.text if field.name == "textarea" else field.get("value", "")
    return data


def test_editing_saves_and_audits_the_changed_field_names(world):
    person = world.person(surname="Before", forenames="Ann", postcode="DT1 1XJ")
    db.session.commit()
    data = _form(world, person)
    assert data["surname"] == "Before" and data["postcode"] == "DT1 1XJ"
    response = world.post(f"/people/{person.id}/edit", {**data, "surname": "After", "postcode": "bh151aa"})
    assert response.status_code == 302
    db.session.refresh(person)
    assert (person.surname, person.postcode, person.version) == ("After", "BH15 1AA", 2)
    details = json.loads(next(d for a, d in audit_actions(person.id) if a == "person.update"))
    assert details == {"fields": ["postcode", "surname"], "version": 2}


def test_a_stale_save_is_refused_and_shows_what_changed_meanwhile(world):
    person = world.person(surname="Original", forenames="Ann", phone="01305 000000")
    db.session.commit()
    mine = _form(world, person)
    theirs = _form(world, person)
    assert world.post(f"/people/{person.id}/edit", {**theirs, "phone": "01305 111111"}).status_code == 302
    response = world.post(f"/people/{person.id}/edit", {**mine, "surname": "Mine"})
    assert response.status_code == 409
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    changes = {r.select_one("dt").get_text(strip=True): r.select_one("dd").get_text(strip=True)
               for r in soup.select(".govuk-summary-list__row")}
    assert changes == {"Phone number": "01305 111111"}
    db.session.refresh(person)
    assert (person.surname, person.phone) == ("Original", "01305 111111"), "nothing overwritten"


def test_a_do_not_disclose_address_stays_hidden_and_unchanged_unless_shown(world):
    person = world.person(surname="Guarded", address="1 Secret Row", safe_contact="Text first",
                          do_not_disclose_address=True)
    db.session.commit()
    page = world.client.get(f"/people/{person.id}/edit").get_data(as_text=True)
    assert "1 Secret Row" not in page and "Text first" not in page
    data = _form(world, person)
    assert world.post(f"/people/{person.id}/edit", {**data, "forenames": "Gia"}).status_code == 302
    db.session.refresh(person)
    assert (person.forenames, person.address, person.safe_contact) == ("Gia", "1 Secret Row", "Text first")
    shown = world.post(f"/people/{person.id}/edit", {**_form(world, person), "action": "reveal"})
    assert "1 Secret Row" in shown.get_data(as_text=True)
    assert any(a == "record.view" and d and "address" in d for a, d in audit_actions(person.id))


def test_bad_edits_are_refused_with_nothing_saved(world):
    person = world.person(surname="Steady")
    db.session.commit()
    data = _form(world, person)
    response = world.post(f"/people/{person.id}/edit", {**data, "surname": "", **dob_fields(dt.date(1990, 1, 1))})
    assert response.status_code == 400 and "Enter the person&#39;s surname" in response.get_data(as_text=True)
    db.session.refresh(person)
    assert person.surname == "Steady" and person.date_of_birth is None


def test_another_agencys_person_cannot_be_edited(world):
    theirs = world.person(agency=world.other, surname="Theirs")
    db.session.commit()
    assert world.client.get(f"/people/{theirs.id}/edit").status_code == 404
    assert world.post(f"/people/{theirs.id}/edit", {"surname": "Mine"}).status_code == 404
