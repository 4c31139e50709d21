"""A person's page: who may open it, what it audits, the hidden address, incidents, and flags
computed from every agency's records at their boundary dates."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.db import db
from casework.models import Category, PartyRole, Referral, ReferralType
from casework.models.vocab import AsbType
from tests.fixtures_auth import make_user, sign_in
from tests.integration.people_support import TODAY, audit_actions, make_world, text_of

V, P = PartyRole.VICTIM, PartyRole.PERPETRATOR


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    return make_world(app_ctx)


def _flags(world, person) -> list[str]:  # type: ignore[no-untyped-def]
    status, soup = world.page(f"/people/{person.id}")
    assert status == 200
    return [t.get_text(strip=True) for t in soup.select("#flags .govuk-tag")]


def _ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def test_another_agencys_person_is_not_found_and_a_shared_one_is(world):
    theirs = world.person(agency=world.other, surname="Hidden")
    shared = world.person(agency=world.other, surname="Shared")
    world.share(shared, "person")
    db.session.commit()
    assert world.client.get(f"/people/{theirs.id}").status_code == 404
    assert world.client.get(f"/people/{shared.id}").status_code == 200


def test_opening_a_person_is_audited(world):
    person = world.person(surname="Viewed")
    db.session.commit()
    world.client.get(f"/people/{person.id}")
    assert ("record.view", None) in audit_actions(person.id)


def test_a_do_not_disclose_address_is_shown_only_on_request_and_each_showing_audited(world):
    person = world.person(surname="Safe", address="12 Hidden Lane", safe_contact="Only after 6pm",
                          postcode="DT1 1XJ", do_not_disclose_address=True)
    db.session.commit()
    _s, soup = world.page(f"/people/{person.id}")
    page = text_of(soup)
    assert "12 Hidden Lane" not in page and "Only after 6pm" not in page and "DT1 1XJ" not in page
    for _ in range(2):
        response = world.client.post(f"/people/{person.id}/address")
        assert response.status_code == 200
        assert "12 Hidden Lane" in response.get_data(as_text=True)
    shown = [d for a, d in audit_actions(person.id) if a == "record.view" and d and "address" in d]
    assert len(shown) == 2


def test_an_address_without_the_marker_is_shown_at_once(world):
    person = world.person(surname="Open", address="3 Open Road")
    db.session.commit()
    _s, soup = world.page(f"/people/{person.id}")
    assert "3 Open Road" in text_of(soup)


def test_incidents_as_victim_and_perpetrator_are_listed_sorted_and_only_the_visible_ones(world):
    person = world.person(surname="Listed")
    world.incident(on=dt.date(2024, 1, 5), parties=((person, V),), category=Category.ROBBERY)
    world.incident(on=dt.date(2024, 3, 5), parties=((person, V),), category=Category.ARSON)
    world.incident(on=dt.date(2024, 2, 5), parties=((person, P),))
    world.incident(on=dt.date(2024, 4, 5), agency=world.other, parties=((person, V),), category=Category.FRAUD)
    db.session.commit()
    _s, soup = world.page(f"/people/{person.id}")
    victim, perpetrator = soup.select("#incidents table")
    assert [r.select("td")[0].text for r in victim.select("tbody tr")] == ["5 March 2024", "5 January 2024"]
    assert len(perpetrator.select("tbody tr")) == 1
    assert "Fraud" not in text_of(soup)
    _s, soup = world.page(f"/people/{person.id}?victim_sort=date")
    victim = soup.select("#incidents table")[0]
    assert [r.select("td")[0].text for r in victim.select("tbody tr")] == ["5 January 2024", "5 March 2024"]


@pytest.mark.parametrize("first,second,flagged", [
    (364 + 365, 364, True),   # the repeat incident is 364 days old: still current
    (365 + 365, 365, False),  # 365 days old: no longer current
    (365 + 10, 10, True),     # the earlier incident 365 days before: still a repeat
    (366 + 10, 10, False),    # 366 days before: too long ago
])
def test_repeat_victim_flag_at_its_boundaries(world, first, second, flagged):
    person = world.person(surname="Boundary")
    world.incident(on=_ago(first), parties=((person, V),), domestic_abuse=True)
    world.incident(on=_ago(second), parties=((person, V),), domestic_abuse=True)
    db.session.commit()
    assert ("Repeat victim: domestic abuse" in _flags(world, person)) is flagged


def test_repeat_flags_per_kind_and_role(world):
    person = world.person(surname="Kinds")
    for days in (100, 50):
        world.incident(on=_ago(days), parties=((person, P),), category=Category.ASB, asb_type=AsbType.PERSONAL)
        world.incident(on=_ago(days), parties=((person, V),), category=Category.ROBBERY)
    db.session.commit()
    flags = _flags(world, person)
    assert {"Repeat perpetrator: personal ASB", "Repeat perpetrator: ASB", "Repeat victim: serious violence"} <= \
        set(flags)
    assert "Repeat victim: ASB" not in flags and "Repeat perpetrator: serious violence" not in flags


def test_flags_count_other_agencies_incidents_and_say_so(world):
    person = world.person(surname="Partnership")
    world.incident(on=_ago(200), agency=world.other, parties=((person, V),), domestic_abuse=True)
    world.incident(on=_ago(20), parties=((person, V),), domestic_abuse=True)
    db.session.commit()
    _status, soup = world.page(f"/people/{person.id}")
    assert "Repeat victim: domestic abuse *" in [t.get_text(strip=True) for t in soup.select("#flags .govuk-tag")]
    assert "belong to an agency whose records you cannot see" in soup.select_one("#flags-note").text
    assert len(soup.select("#incidents table tbody tr")) == 1, "the other agency's incident is not listed"


def test_potential_escalation_needs_three_da_incidents_within_a_year(world):
    person = world.person(surname="Escalating")
    world.incident(on=_ago(300), parties=((person, V),), domestic_abuse=True)
    world.incident(on=_ago(200), parties=((person, V),), domestic_abuse=True)
    db.session.commit()
    assert "Potential escalation" not in _flags(world, person)
    world.incident(on=_ago(1), parties=((person, V),), domestic_abuse=True)
    db.session.commit()
    assert "Potential escalation" in _flags(world, person)


@pytest.mark.parametrize("age,flagged", [(0, True), (364, True), (365, False)])
def test_repeat_hrda_while_the_last_hrda_referral_is_less_than_a_year_old(world, age, flagged):
    person = world.person(surname="Referred")
    db.session.add(Referral(person_id=person.id, type=ReferralType.HRDA, referred_on=_ago(age),
                            owner_agency_id=world.own.id))
    db.session.commit()
    assert ("Repeat HRDA" in _flags(world, person)) is flagged


def test_asb_case_review_threshold(world):
    person = world.person(surname="Complainant")
    for days in (150, 90):
        world.incident(on=_ago(days), parties=((person, V),), category=Category.ASB, asb_type=AsbType.NUISANCE)
    db.session.commit()
    assert "ASB case review threshold met" not in _flags(world, person)
    world.incident(on=_ago(5), parties=((person, V),), category=Category.ASB, asb_type=AsbType.NUISANCE)
    db.session.commit()
    assert "ASB case review threshold met" in _flags(world, person)


def test_mappa_from_the_latest_mappa_referral_and_the_complex_needs_markers(world):
    person = world.person(surname="Managed", complex_needs=True, substance_misuse=True)
    for on, category, level in ((dt.date(2023, 1, 1), 1, 1), (dt.date(2024, 1, 1), 2, 3)):
        db.session.add(Referral(person_id=person.id, type=ReferralType.MAPPA, referred_on=on,
                                mappa_category=category, mappa_level=level, owner_agency_id=world.own.id))
    db.session.commit()
    flags = _flags(world, person)
    assert "MAPPA category 2, level 3" in flags and "MAPPA category 1, level 1" not in flags
    assert {"Complex needs", "Substance misuse"} <= set(flags) and "Mental health" not in flags


def test_managers_see_who_has_looked_and_caseworkers_do_not(world, app_ctx):
    person = world.person(surname="Watched")
    db.session.commit()
    world.client.get(f"/people/{person.id}")
    _s, soup = world.page(f"/people/{person.id}")
    assert soup.select_one("#viewers") is None
    manager = sign_in(app_ctx, make_user(roles=("manager",), agency=world.own))
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(manager.get(f"/people/{person.id}").get_data(as_text=True), "html.parser")
    rows = soup.select("#viewers tbody tr")
    assert len(rows) >= 2 and world.user.email in text_of(soup.select_one("#viewers"))
