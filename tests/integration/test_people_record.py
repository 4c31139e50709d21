"""Recording a person: likely duplicates across the partnership first, identity only; bad input
refused with nothing saved; the owner is always the user's agency."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from casework.db import db
from casework.models import Person, RestrictedAccess
from tests.integration.people_support import (
    audit_actions,
    dob_fields,
    make_world,
    text_of,
)


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    return make_world(app_ctx)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Person).where(Person.merged_into_id.is_(None))) or 0


def test_recording_a_person_saves_them_for_the_users_agency_and_audits_it(world):
    response = world.post("/people/new", {
        "surname": "  Okafor ", "forenames": "Ada", **dob_fields(dt.date(1990, 4, 2)), "gender": "female",
        "postcode": "dt11xj", "owner_agency_id": str(world.other.id), "markers": ["complex_needs"],
        "do_not_disclose_address": "y", "address": "1 High Street"})
    assert response.status_code == 302
    person = db.session.scalar(select(Person).where(Person.bi_surname.is_not(None)).order_by(Person.created_at.desc()))
    assert (person.surname, person.forenames, person.postcode) == ("Okafor", "Ada", "DT1 1XJ")
    assert person.owner_agency_id == world.own.id, "a posted owner is ignored"
    assert person.complex_needs and person.do_not_disclose_address and not person.mental_health
    assert response.headers["Location"].endswith(f"/people/{person.id}")
    actions = audit_actions(person.id)
    assert actions[0][0] == "person.create" and "surname" in actions[0][1] and "Okafor" not in actions[0][1]


def test_a_likely_duplicate_in_another_agency_is_shown_by_identity_before_saving(world):
    known = world.person(agency=world.other, surname="O'Brien", forenames="Sean", date_of_birth=dt.date(1980, 1, 2),
                         postcode="BH15 1AA", address="secret address")
    db.session.commit()
    before = _count()
    data = {"surname": "obrien", "forenames": "Seán", **dob_fields(dt.date(1980, 1, 2))}
    response = world.post("/people/new", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This person may already be known" in page
    assert "Sean O&#39;Brien" in page and "Dorset Council" in page
    assert "secret address" not in page and "BH15" not in page, "identity only"
    assert f"/people/{known.id}" not in page, "not visible: no link to open it"
    assert _count() == before, "nothing saved until the caseworker confirms"
    confirmed = world.post("/people/new", {**data, "confirm": "yes"})
    assert confirmed.status_code == 302
    assert _count() == before + 1


@pytest.mark.parametrize("rule,existing,typed", [
    ("same surname and date of birth", {"surname": "Walker", "forenames": "Tom", "date_of_birth": dt.date(1975, 5, 5)},
     {"surname": "WALKER", "forenames": "Thomas", "date_of_birth": dt.date(1975, 5, 5)}),
    ("same phonetic surname and year of birth", {"surname": "Smith", "date_of_birth": dt.date(1975, 5, 5)},
     {"surname": "Smyth", "date_of_birth": dt.date(1975, 12, 31)}),
    ("same surname and postcode", {"surname": "Hughes", "postcode": "DT4 8UT"},
     {"surname": "hughes", "postcode": "dt48ut"}),
])
def test_each_duplicate_rule_finds_the_existing_person(world, rule, existing, typed):
    person = world.person(agency=world.own, **existing)
    db.session.commit()
    dob = typed.pop("date_of_birth", None)
    response = world.post("/people/new", {**typed, **dob_fields(dob)})
    assert response.status_code == 200, rule
    assert f"/people/{person.id}" in response.get_data(as_text=True), f"{rule}: the visible record is linked"


def test_a_different_person_is_not_a_duplicate(world):
    world.person(surname="Walker", date_of_birth=dt.date(1975, 5, 5), postcode="DT4 8UT")
    db.session.commit()
    response = world.post("/people/new", {"surname": "Walker", **dob_fields(dt.date(1991, 5, 5))})
    assert response.status_code == 302


def test_a_restricted_match_shows_only_that_one_may_match(world, user_factory):
    hidden = world.person(agency=world.other, surname="Zielinski", forenames="Marta",
                          date_of_birth=dt.date(1985, 3, 3), restricted=True)
    named = user_factory(agency=world.other)
    db.session.add(RestrictedAccess(record_kind="person", record_id=hidden.id, user_id=named.id))
    db.session.commit()
    response = world.post("/people/new", {"surname": "Zielinski", **dob_fields(dt.date(1985, 3, 3))})
    page = response.get_data(as_text=True)
    assert "A restricted record may match; ask its owner." in page and "Dorset Council" in page
    assert "Marta" not in page


@pytest.mark.parametrize("data,target,message", [
    ({"surname": " "}, "surname", "Enter the person's surname"),
    ({"surname": "Lee", "postcode": "not a postcode"}, "postcode", "Enter a real postcode"),
    ({"surname": "Lee", **dob_fields(dt.date.today() + dt.timedelta(days=1))}, "date_of_birth-day",
     "today or in the past"),
    ({"surname": "Lee", "date_of_birth-day": "31", "date_of_birth-month": "2", "date_of_birth-year": "1990"},
     "date_of_birth-day", "must be a real date"),
    ({"surname": "Lee", "date_of_birth-day": "3", "date_of_birth-year": "1990"}, "date_of_birth-month",
     "include a month"),
])
def test_bad_details_are_refused_with_an_error_linking_to_the_field(world, data, target, message):
    """The link goes to the field's input (a date's first part in error), which focuses it."""
    db.session.commit()
    before = _count()
    response = world.post("/people/new", data)
    assert response.status_code == 400
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    link = soup.select_one(".govuk-error-summary a")
    assert link["href"] == f"#{target}" and message in link.text
    assert soup.select_one(f"#{target}").name == "input", "the link's target is an input"
    assert _count() == before


def test_a_manager_cannot_record_a_person(app_ctx, manager_client):
    assert manager_client.get("/people/new").status_code == 403


def test_recording_a_person_for_an_incident_returns_to_it(world):
    incident = world.incident(on=dt.date(2024, 1, 1))
    db.session.commit()
    response = world.post("/people/new", {"surname": "Novak", "incident": str(incident.id), "role": "victim"})
    assert response.status_code == 302
    assert f"/incidents/{incident.id}/people/" in response.headers["Location"] and "role=victim" in \
        response.headers["Location"]
    status, soup = world.page(response.headers["Location"])
    assert status == 200 and "Add Novak" in text_of(soup)


def test_the_same_surname_and_postcode_is_a_duplicate_only_among_records_the_user_may_see(world):
    """The same surname at a postcode shown as a match of another agency's person would tell the user
    where that person lives; the same name and date of birth still finds them."""
    world.person(agency=world.other, surname="Hughes", forenames="Ffion", date_of_birth=dt.date(1980, 4, 4),
                 postcode="DT4 8UT")
    db.session.commit()
    response = world.post("/people/new", {"surname": "Hughes", "postcode": "dt48ut"})
    assert response.status_code == 302, "nothing of the other agency's record is shown"
    response = world.post("/people/new", {"surname": "Hughes", "forenames": "Ffion", "postcode": "dt48ut",
                                          **dob_fields(dt.date(1980, 4, 4))})
    assert response.status_code == 200 and "Ffion Hughes" in response.get_data(as_text=True)
