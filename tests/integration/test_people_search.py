"""Searching people: by normalised and phonetic name, date of birth, postcode and the agency's own
reference; other agencies' people as identity only; every search audited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from casework.db import db
from casework.models import AuditEntry, Person, RecordKind, RestrictedAccess, SourceRef
from tests.integration.people_support import dob_fields, make_world, text_of


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    return make_world(app_ctx)


def _names(soup) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.text.strip() for a in soup.select("table.govuk-table tbody a.govuk-link")]


def test_o_brien_written_loosely_finds_o_brien(world):
    world.person(surname="O'Brien", forenames="Niamh")
    world.person(surname="Brien", forenames="Other")
    db.session.commit()
    status, soup = world.page("/people?surname=o+brien")
    assert status == 200
    assert _names(soup) == ["Niamh O'Brien"]
    assert "Same surname" in text_of(soup)


def test_a_name_that_sounds_alike_is_found_after_exact_matches(world):
    world.person(surname="Smyth", forenames="Alan")
    world.person(surname="Smith", forenames="Beth")
    db.session.commit()
    _status, soup = world.page("/people?surname=Smith")
    assert _names(soup) == ["Beth Smith", "Alan Smyth"]
    rows = [r.get_text(" ", strip=True) for r in soup.select("tbody tr")]
    assert rows[0].endswith("Same surname") and rows[1].endswith("Sounds like")


def test_full_name_matches_rank_first(world):
    world.person(surname="Smith", forenames="Zoe")
    world.person(surname="Smith", forenames="Amy")
    db.session.commit()
    _status, soup = world.page("/people?surname=smith&forenames=amy")
    assert _names(soup)[0] == "Amy Smith"
    assert "Same name" in soup.select("tbody tr")[0].get_text()


def test_search_by_date_of_birth_and_by_postcode(world):
    world.person(surname="Ali", forenames="Sara", date_of_birth=dt.date(1990, 7, 8), postcode="DT1 1XJ")
    world.person(surname="Ali", forenames="Omar", date_of_birth=dt.date(1991, 7, 8), postcode="BH15 2AB")
    db.session.commit()
    _s, soup = world.page("/people?" + "&".join(f"{k}={v}" for k, v in dob_fields(dt.date(1990, 7, 8)).items()))
    assert _names(soup) == ["Sara Ali"]
    _s, soup = world.page("/people?postcode=bh152ab")
    assert _names(soup) == ["Omar Ali"]


def test_search_by_reference_uses_only_the_users_agencys_refs(world):
    mine = world.person(surname="Kaur")
    theirs = world.person(surname="Singh")
    db.session.add_all([
        SourceRef(agency_id=world.own.id, kind=RecordKind.PERSON, ref="P123", record_id=mine.id),
        SourceRef(agency_id=world.other.id, kind=RecordKind.PERSON, ref="P999", record_id=theirs.id),
    ])
    db.session.commit()
    _s, soup = world.page("/people?reference=P123")
    assert _names(soup) == ["Jane Kaur"]
    _s, soup = world.page("/people?reference=P999")
    assert "0 people found" in text_of(soup)


def test_other_agencies_people_show_identity_only_and_restricted_ones_nothing(world, user_factory):
    world.person(agency=world.other, surname="Evans", forenames="Rhys", date_of_birth=dt.date(1970, 1, 1),
                 postcode="SP7 8AA", phone="07700 900123")
    secret = world.person(agency=world.other, surname="Evans", forenames="Hidden", restricted=True,
                          postcode="SP7 9ZZ")
    named = user_factory(agency=world.other)
    db.session.add(RestrictedAccess(record_kind="person", record_id=secret.id, user_id=named.id))
    db.session.commit()
    status, soup = world.page("/people?surname=Evans")
    page = text_of(soup)
    assert status == 200 and "1 person found" in page, "a restricted person is never a result, only a notice"
    assert "Rhys Evans, born 1 January 1970" in page and "Known to Dorset Council" in page
    assert "A restricted record may match; ask its owner." in text_of(soup.select_one("#restricted-notices"))
    for leaked in ("SP7", "07700", "Hidden"):
        assert leaked not in page
    links = [a["href"] for a in soup.select("table.govuk-table tbody a.govuk-link")]
    assert all(href.startswith("/share-requests/new/") for href in links), "no links to records the user may not open"
    assert len(links) == 1, "only the way to ask the owner to share the record"


def test_every_search_is_audited_with_encrypted_terms_and_the_result_count(world):
    world.person(surname="Baker")
    db.session.commit()
    world.page("/people?surname=Baker&postcode=dt11xj")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "search")
                              .order_by(AuditEntry.position.desc()).limit(1))
    assert entry.user_id == world.user.id and entry.record_kind == "person"
    assert entry.result_count == 0
    assert entry.terms == "surname: Baker; postcode: DT1 1XJ"
    assert b"Baker" not in bytes(entry.terms_sealed)


def test_results_are_paginated(world, app_ctx):
    for n in range(app_ctx.config["PAGE_SIZE"] + 2):
        world.person(surname="Moss", forenames=f"Person{n:02d}")
    db.session.commit()
    _s, first = world.page("/people?surname=Moss")
    _s, second = world.page("/people?surname=Moss&page=2")
    assert len(_names(first)) == app_ctx.config["PAGE_SIZE"] and len(_names(second)) == 2
    assert not set(_names(first)) & set(_names(second))
    assert first.select_one(".govuk-pagination__next a") is not None


@pytest.mark.parametrize("query,message", [
    # An empty search used to answer nothing at all; it says what to enter.
    ("surname=&postcode=", "Enter a name, date of birth, postcode or reference"),
    ("postcode=zzz", "Enter a real postcode"),
    ("forenames=Amy", "Enter a surname"),
    ("date_of_birth-day=40&date_of_birth-month=1&date_of_birth-year=1990", "must be a real date"),
])
def test_unusable_terms_are_explained(world, query, message):
    status, soup = world.page(f"/people?{query}")
    if message is None:
        assert status == 200 and soup.select_one(".govuk-error-summary") is None
        return
    assert status == 400 and message in soup.select_one(".govuk-error-summary").text


def test_merged_records_are_never_found(world):
    survivor = world.person(surname="Reed")
    world.person(surname="Reed", merged_into_id=survivor.id)
    db.session.commit()
    _s, soup = world.page("/people?surname=Reed")
    assert "1 person found" in text_of(soup)


def test_a_postcode_finds_only_people_the_user_may_see(world, user_factory):
    """An address is never identity: a match from a postcode among records the user may not open
    would tell them where that person lives (or that a restricted person lives there)."""
    world.person(agency=world.own, surname="Evans", forenames="Own", postcode="SP7 8AA")
    world.person(agency=world.other, surname="Evans", forenames="Rhys", date_of_birth=dt.date(1970, 1, 1),
                 postcode="SP7 8AA")
    secret = world.person(agency=world.other, surname="Jones", forenames="Hidden", restricted=True,
                          postcode="SP7 8AA")
    named = user_factory(agency=world.other)
    db.session.add(RestrictedAccess(record_kind="person", record_id=secret.id, user_id=named.id))
    db.session.commit()
    for query in ("postcode=sp78aa", "surname=Evans&postcode=SP7+8AA", "surname=Jones&postcode=SP7+8AA",
                  "postcode=SP7+8AA&date_of_birth-day=1&date_of_birth-month=1&date_of_birth-year=1970"):
        status, soup = world.page(f"/people?{query}")
        page = text_of(soup)
        assert status == 200, query
        assert "Rhys" not in page and "restricted record" not in page, query
    _status, soup = world.page("/people?postcode=sp78aa")
    assert _names(soup) == ["Own Evans"] and "1 person found" in text_of(soup)
    _status, soup = world.page("/people?surname=Evans")
    assert "Rhys Evans, born 1 January 1970" in text_of(soup), "a name still finds them, as identity only"


def test_a_part_of_a_double_barrelled_surname_finds_the_person_after_the_same_surname(world):
    """O'Connor found nothing of "O'Connor-Núñez"."""
    world.person(surname="O'Connor-Núñez", forenames="Ana")
    world.person(surname="O'Connor", forenames="Bea")
    world.person(surname="de la Cruz", forenames="Cai")
    db.session.commit()
    _s, soup = world.page("/people?surname=O%27Connor")
    assert _names(soup) == ["Bea O'Connor", "Ana O'Connor-Núñez"]
    assert "Part of the surname" in text_of(soup)
    _s, soup = world.page("/people?surname=nunez")
    assert _names(soup) == ["Ana O'Connor-Núñez"]
    _s, soup = world.page("/people?surname=Cruz")
    assert _names(soup) == ["Cai de la Cruz"]


def test_people_with_the_forename_searched_come_first_in_every_tier(world):
    """Jones with Zoe listed every Jones, newest first, whatever their forename."""
    world.person(surname="Jones", forenames="Zoe Ann")  # oldest
    world.person(surname="Smith-Jones", forenames="Zoe")
    world.person(surname="Jones", forenames="Adam")
    world.person(surname="Jonas", forenames="Zoe")
    world.person(surname="Jones", forenames="Zoe")
    world.person(surname="Jones", forenames="Beth")  # newest
    db.session.commit()
    _s, soup = world.page("/people?surname=Jones&forenames=Zoe")
    assert _names(soup) == ["Zoe Jones", "Zoe Ann Jones", "Zoe Smith-Jones", "Zoe Jonas",
                            "Beth Jones", "Adam Jones"]
    assert "6 people found" in text_of(soup)


def test_transposed_letters_find_the_name_through_the_phonetic_index_when_nothing_closer_does(world):
    world.person(surname="Smith", forenames="Ann")
    world.person(surname="Brown", forenames="Bob")
    db.session.commit()
    _s, soup = world.page("/people?surname=Smyht")
    assert _names(soup) == ["Ann Smith"]
    assert "Letters swapped" in text_of(soup)
    _s, soup = world.page("/people?surname=Smith")  # typed right: no names one swap away
    assert _names(soup) == ["Ann Smith"]
    _s, soup = world.page("/people?surname=Smhyt")  # two swaps: documented as not found
    assert _names(soup) == []


@pytest.mark.parametrize(("terms", "swapped"), [
    ({"surname": "Evans"}, False),
    ({"surname": "Evans", "forenames": "Rhys"}, False),
    ({"surname": "Evans", "date_of_birth": dt.date(1970, 1, 1)}, False),
    ({"surname": "Smyht"}, True),
    ({"date_of_birth": dt.date(1970, 1, 1)}, False),
    ({"postcode": "SP7 8AA"}, False),
])
def test_each_tier_counts_exactly_the_people_it_lists(world, user_factory, terms, swapped):
    # A tier's count is its blind indexes' count less the restricted people hidden from the viewer
    # (counted in the index alone): the same number as counting the tier's own rows, in every tier.
    from casework import crypto
    from casework.services import people_search

    born = dt.date(1970, 1, 1)
    for agency in (world.own, world.other):
        for surname in ("Evans", "Evens", "Evans-Lloyd", "Lloyd-Evans", "Ivens", "Smith"):
            for forenames in ("Rhys", "Sian"):
                for restricted in (False, True):
                    world.person(agency=agency, surname=surname, forenames=forenames, date_of_birth=born,
                                 postcode="SP7 8AA", restricted=restricted)
    named = world.person(surname="Evans", forenames="Rhys", date_of_birth=born, postcode="SP7 8AA", restricted=True)
    db.session.add(RestrictedAccess(record_kind="person", record_id=named.id, user_id=world.user.id))
    db.session.commit()
    cleaned = people_search.clean_terms(**{"surname": None, "forenames": None, "date_of_birth": None,
                                           "postcode": None, "reference": None, **terms})
    tiers = people_search._tiers(cleaned, world.user, crypto.current(), swapped_letters=swapped)
    listed = [db.session.scalar(select(func.count()).select_from(Person).where(tier.condition)) for tier in tiers]
    assert people_search._sizes(tiers, world.user) == listed
    assert sum(listed) > 0 and len(tiers) >= 1
    # the restricted person the viewer is named on is a result; those hidden from them never
    found = people_search.search(viewer=world.user, terms=cleaned, size=500)
    ids = {row.person.id for row in found.rows if row.person is not None} | {
        row.match.person_id for row in found.rows if row.person is None and hasattr(row.match, "person_id")}
    assert found.total == sum(listed) == len(found.rows)
    if not swapped and "postcode" not in terms:
        assert named.id in ids
