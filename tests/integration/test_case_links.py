"""Linking people and incidents to a case from its page: anyone the caseworker may see, found with the
people search (audited) and linked in a role; other agencies' people as identity only with nothing to
link; an incident by the agency's own reference. Refusals change nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from casework.db import db
from casework.models import (
    AuditEntry,
    Case,
    PartyRole,
    RecordKind,
    RestrictedAccess,
    SourceRef,
)
from tests.fixtures_auth import sign_in
from tests.integration.people_support import World, audit_actions, make_world, text_of


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    return make_world(app_ctx)


def _open_case(world: World) -> Case:
    victim = world.person(surname="Hardy", forenames="Ann")
    db.session.commit()
    response = world.post(f"/people/{victim.id}/cases/new", data={"kind": "domestic_abuse", "role": "victim"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.get(Case, uuid.UUID(response.headers["Location"].rsplit("/", 1)[-1].split("#")[0]))


def _link_form(soup: BeautifulSoup, person_id: Any) -> tuple[str, dict[str, str]] | None:
    """The "Link to the case" form of a person in the results, as the browser would post it."""
    hidden = soup.select_one(f'form input[name="person"][value="{person_id}"]')
    if hidden is None:
        return None
    form = hidden.find_parent("form")
    data = {i["name"]: i.get("value", "") for i in form.select("input")}
    for chosen in form.select("select"):
        data[chosen["name"]] = ""
    return form["action"], data


def _people_on(case: Case) -> set[tuple[uuid.UUID, PartyRole | None]]:
    db.session.refresh(case)
    return {(p.person_id, p.role) for p in case.people}


def test_the_case_page_searches_for_anyone_to_link_without_javascript(world):
    case = _open_case(world)
    status, soup = world.page(f"/cases/{case.id}")
    assert status == 200
    search = soup.select_one(f'form[action="/cases/{case.id}/people/find"]')
    assert search is not None and search["method"] == "get"
    assert {i["name"] for i in search.select("input")} >= {"surname", "reference", "date_of_birth-day"}


def test_a_person_on_no_incident_of_the_case_is_found_and_linked_in_their_role(world):
    case = _open_case(world)
    partner = world.person(surname="Hardy", forenames="Mark", date_of_birth=dt.date(1985, 3, 4))
    db.session.commit()
    status, soup = world.page(f"/cases/{case.id}/people/find?surname=Hardy")
    assert status == 200 and "2 found" in text_of(soup)
    action, data = _link_form(soup, partner.id)
    assert action == f"/cases/{case.id}/people"
    assert soup.select_one(f'label[for="role-{partner.id}"]') is not None
    assert [o["value"] for o in soup.select(f"#role-{partner.id} option")] == ["", "victim", "perpetrator"]
    response = world.post(action, data={**data, "role": "perpetrator"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case.id}#people")
    assert (partner.id, PartyRole.PERPETRATOR) in _people_on(case)
    assert "case.link_person" in [a for a, _ in audit_actions(case.id)]
    status, soup = world.page(f"/cases/{case.id}")
    assert "Mark Hardy linked to the case as perpetrator" in text_of(soup)
    assert "Mark Hardy" in [a.text for a in soup.select("#people table a")]


def test_the_search_from_the_case_page_is_audited_with_its_terms(world):
    case = _open_case(world)
    world.page(f"/cases/{case.id}/people/find?surname=Hardy&date_of_birth-day=4&date_of_birth-month=3"
               "&date_of_birth-year=2015")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "search")
                              .order_by(AuditEntry.position.desc()).limit(1))
    assert entry.user_id == world.user.id and entry.record_kind == "person"
    assert entry.terms == "surname: Hardy; date of birth: 2015-03-04" and entry.result_count == 0


def test_someone_already_on_the_case_has_no_button(world):
    case = _open_case(world)
    status, soup = world.page(f"/cases/{case.id}/people/find?surname=Hardy")
    assert status == 200 and "Already on the case" in text_of(soup)
    assert _link_form(soup, case.people[0].person_id) is None


def test_a_child_found_by_the_agencys_reference_is_linked_with_no_role(world):
    case = _open_case(world)
    child = world.person(surname="Cole", forenames="Billy", date_of_birth=dt.date(2015, 3, 4))
    db.session.add(SourceRef(agency_id=world.own.id, kind=RecordKind.PERSON, ref="P-77", record_id=child.id))
    db.session.commit()
    _status, soup = world.page(f"/cases/{case.id}/people/find?reference=P-77")
    action, data = _link_form(soup, child.id)
    assert world.post(action, data=data).status_code == 302
    assert (child.id, None) in _people_on(case)


def test_other_agencies_people_show_as_identity_only_with_nothing_to_link(world, user_factory):
    case = _open_case(world)
    theirs = world.person(agency=world.other, surname="Hardy", forenames="Rhys", date_of_birth=dt.date(1970, 1, 1),
                          postcode="SP7 8AA", phone="07700 900123")
    secret = world.person(agency=world.other, surname="Hardy", forenames="Hidden", restricted=True,
                          postcode="SP7 9ZZ")
    db.session.add(RestrictedAccess(record_kind="person", record_id=secret.id,
                                    user_id=user_factory(agency=world.other).id))
    db.session.commit()
    status, soup = world.page(f"/cases/{case.id}/people/find?surname=Hardy")
    page = text_of(soup)
    assert status == 200 and "2 found" in page  # the restricted person is a notice, not a result
    assert "Rhys Hardy, born 1 January 1970" in page and "Known to Dorset Council" in page
    assert "A restricted record may match; ask its owner." in page
    for leaked in ("SP7", "07700", "Hidden", str(theirs.id), str(secret.id)):
        assert leaked not in str(soup)
    assert len(soup.select('form input[name="person"]')) == 0  # the only person they may open is on the case


@pytest.mark.parametrize("kind", ["other agency", "restricted", "no such person"])
def test_a_person_the_user_may_not_see_cannot_be_linked(world, kind):
    case = _open_case(world)
    target = uuid.uuid4()
    if kind != "no such person":
        agency = world.other if kind == "other agency" else world.own
        target = world.person(agency=agency, surname="Hardy", restricted=kind == "restricted").id
    db.session.commit()
    before = _people_on(case)
    response = world.post(f"/cases/{case.id}/people", data={"person": str(target), "role": "victim"})
    assert response.status_code == 404
    assert _people_on(case) == before
    assert "case.link_person" not in [a for a, _ in audit_actions(case.id)]


def test_a_case_the_user_may_not_change_offers_no_search(world, user_factory):
    case = _open_case(world)
    outsider = sign_in(world.app, user_factory(agency=world.other))
    assert outsider.get(f"/cases/{case.id}/people/find?surname=Hardy").status_code == 404
    assert outsider.post(f"/cases/{case.id}/people",
                         data={"person": str(case.people[0].person_id)}).status_code == 404


def test_an_unusable_search_is_explained_on_the_find_page(world):
    case = _open_case(world)
    status, soup = world.page(f"/cases/{case.id}/people/find?postcode=zzz")
    assert status == 400
    assert "Enter a real postcode" in soup.select_one(".govuk-error-summary").text
    assert soup.select_one(".govuk-error-summary a")["href"] == "#postcode"


def test_a_role_not_in_the_list_is_refused_and_nothing_linked(world):
    case = _open_case(world)
    child = world.person(surname="Hardy", forenames="Billy")
    db.session.commit()
    before = _people_on(case)
    response = world.post(f"/cases/{case.id}/people", data={"person": str(child.id), "role": "bystander"})
    assert response.status_code == 400
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert "Select a role from the list" in soup.select_one(".govuk-error-summary").text
    assert _people_on(case) == before


def test_a_merged_record_is_refused_naming_why(world):
    case = _open_case(world)
    survivor = world.person(surname="Hardy", forenames="Carl")
    merged = world.person(surname="Hardy", forenames="Karl", merged_into_id=survivor.id)
    db.session.commit()
    before = _people_on(case)
    response = world.post(f"/cases/{case.id}/people", data={"person": str(merged.id)})
    assert response.status_code == 400 and "merged into another" in response.get_data(as_text=True)
    assert _people_on(case) == before


# --- incidents by reference -------------------------------------------------------------------


def test_an_incident_is_linked_by_the_agencys_reference(world):
    case = _open_case(world)
    incident = world.incident(on=dt.date(2024, 5, 1))
    db.session.add(SourceRef(agency_id=world.own.id, kind=RecordKind.INCIDENT, ref="INC-42", record_id=incident.id))
    db.session.commit()
    _status, soup = world.page(f"/cases/{case.id}")
    form = soup.select_one("#incident_reference").find_parent("form")
    assert form["action"] == f"/cases/{case.id}/incidents" and form["method"] == "post"
    response = world.post(form["action"], data={"incident_reference": " INC-42 "})
    assert response.status_code == 302 and response.headers["Location"].endswith("#incidents")
    db.session.refresh(case)
    assert [i.incident_id for i in case.incidents] == [incident.id]
    assert "case.link_incident" in [a for a, _ in audit_actions(case.id)]


@pytest.mark.parametrize("ref,message", [
    ("", "Enter your agency's reference for the incident"),
    ("INC-THEIRS", "No incident you can see has your agency's reference INC-THEIRS"),
    ("INC-HIDDEN", "No incident you can see has your agency's reference INC-HIDDEN"),
    ("INC-NONE", "No incident you can see has your agency's reference INC-NONE"),
])
def test_an_incident_reference_that_finds_nothing_the_user_may_see_is_refused(world, ref, message):
    case = _open_case(world)
    theirs = world.incident(on=dt.date(2024, 5, 1), agency=world.other)
    hidden = world.incident(on=dt.date(2024, 5, 2), agency=world.other)
    db.session.add_all([
        # Another agency's reference is not the user's; the user's own reference of a record they may
        # no longer see finds nothing either.
        SourceRef(agency_id=world.other.id, kind=RecordKind.INCIDENT, ref="INC-THEIRS", record_id=theirs.id),
        SourceRef(agency_id=world.own.id, kind=RecordKind.INCIDENT, ref="INC-HIDDEN", record_id=hidden.id),
    ])
    db.session.commit()
    response = world.post(f"/cases/{case.id}/incidents", data={"incident_reference": ref})
    assert response.status_code == 400
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    summary = soup.select_one(".govuk-error-summary")
    assert message in summary.text and summary.select_one("a")["href"] == "#incident_reference"
    db.session.refresh(case)
    assert case.incidents == []


@pytest.mark.parametrize("kind", ["other agency", "no such incident"])
def test_an_incident_the_user_may_not_see_cannot_be_linked_and_answers_404(world, kind):
    """As for a person: an incident the user may not see answers as one that does not exist (through
    `visible_or_404`, which audits the refusal)."""
    case = _open_case(world)
    target = uuid.uuid4() if kind == "no such incident" else world.incident(on=dt.date(2024, 5, 1),
                                                                             agency=world.other).id
    db.session.commit()
    response = world.post(f"/cases/{case.id}/incidents", data={"incident": str(target)})
    assert response.status_code == 404
    db.session.refresh(case)
    assert case.incidents == []
