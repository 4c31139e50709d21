"""Issue 20, finding 5: the people search confirmed a restricted person's date of birth (the surname
with the right date gave "a restricted record may match", with another date 0 people). Now the
notice depends on the surname alone, and a user shown notices too often is paused and flagged."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from casework.db import db
from casework.models import AuditEntry, RestrictedAccess
from tests.integration.people_support import dob_fields, make_world, text_of

BORN = dt.date(1970, 1, 1)
NOTICE = "A restricted record may match; ask its owner. (owner: Dorset Council)"


@pytest.fixture()
def world(app_ctx, user_factory):  # type: ignore[no-untyped-def]
    world = make_world(app_ctx)
    secret = world.person(agency=world.other, surname="Evans", forenames="Hidden", restricted=True,
                          date_of_birth=BORN, postcode="SP7 9ZZ")
    named = user_factory(agency=world.other)
    db.session.add(RestrictedAccess(record_kind="person", record_id=secret.id, user_id=named.id))
    db.session.commit()
    world.secret, world.named = secret, named  # type: ignore[attr-defined]
    return world


def _query(**terms: str) -> str:
    return "&".join(f"{k}={v}" for k, v in terms.items())


def _results(world, query: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """What the search page says after the form: the count heading, and the notices."""
    status, soup = world.page(f"/people?{query}")
    assert status == 200, query
    notices = soup.select_one("#restricted-notices")
    return soup.select_one("#results").get_text(" ", strip=True), text_of(notices) if notices else ""


def test_a_date_of_birth_added_to_the_surname_confirms_nothing(world):
    right = dob_fields(BORN)
    wrong = dob_fields(dt.date(1971, 2, 2))
    with_right = _results(world, _query(surname="Evans", **right))
    with_wrong = _results(world, _query(surname="Evans", **wrong))
    assert with_right == with_wrong == ("0 people found", ""), "the same page whichever date is given"
    # The surname alone gives the notice, and forenames do not change it.
    assert _results(world, "surname=Evans") == ("0 people found", NOTICE)
    assert _results(world, "surname=Evans&forenames=Hidden") == _results(world, "surname=Evans&forenames=Other")
    # A date of birth alone says nothing of them either.
    assert _results(world, _query(**right)) == ("0 people found", "")


def test_the_likely_duplicates_depend_on_the_surname_alone(world):
    def duplicates(day: dt.date) -> str:
        response = world.post("/people/new", {"surname": "Evans", "forenames": "Someone", **dob_fields(day)})
        from bs4 import BeautifulSoup

        found = BeautifulSoup(response.get_data(as_text=True), "html.parser").select_one("#duplicates")
        return text_of(found.select_one("ul")) if found is not None else ""

    assert duplicates(BORN) == duplicates(dt.date(1985, 6, 6)) == NOTICE


def test_a_user_named_on_the_record_finds_it_and_gets_no_notice(world, app_ctx):
    from tests.fixtures_auth import sign_in

    client = sign_in(app_ctx, world.named)
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(client.get("/people?" + _query(surname="Evans", **dob_fields(BORN))).get_data(
        as_text=True), "html.parser")
    assert "1 person found" in text_of(soup) and "Hidden Evans" in text_of(soup)
    assert soup.select_one("#restricted-notices") is None


def _entries(world, action: str) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.user_id == world.user.id, AuditEntry.action == action)) or 0


def test_repeated_probing_is_paused_at_the_limit_and_flagged_once(world, app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "RESTRICTED_NOTICE_LIMIT", "3 per hour")
    for _ in range(3):
        assert _results(world, "surname=Evans")[1] == NOTICE
    assert _entries(world, "search.restricted_notice") == 3
    assert _entries(world, "search.restricted_probing") == 0
    # The fourth search in the hour: no notice, and the trail flags the user.
    heading, notices = _results(world, "surname=Evans")
    assert heading == "0 people found" and "Notices of restricted records are paused" in notices
    assert "Dorset Council" not in notices
    assert _entries(world, "search.restricted_probing") == 1
    _results(world, "surname=Evans")
    assert _entries(world, "search.restricted_probing") == 1, "flagged once a window"
    assert _entries(world, "search.restricted_notice") == 3
    # The notice entry names the restricted record, so its owner can see who asked about it.
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "search.restricted_notice").limit(1))
    assert str(world.secret.id) in entry.details and "Evans" not in entry.details
