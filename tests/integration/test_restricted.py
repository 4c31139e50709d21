"""Restricted people and cases (and incidents, where their rules are the same): marking one restricted names whoever did it, named users see it and
nobody else does, naming and removing users (never locking everyone out), lifting the restriction,
who may be named, and the audit trail."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from casework import policy
from casework.db import db
from casework.models import AuditEntry, Case, CaseKind, Person, Share
from casework.services import restricted
from tests.conftest import Page
from tests.factories import AgencyFactory, IncidentFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in


@pytest.fixture()
def agency(app_ctx):  # type: ignore[no-untyped-def]
    return AgencyFactory(name="Dorset Police")


@pytest.fixture()
def owner(agency):  # type: ignore[no-untyped-def]
    return make_user(roles=("caseworker",), agency=agency, email="owner@example.org")


@pytest.fixture()
def colleague(agency):  # type: ignore[no-untyped-def]
    return make_user(roles=("caseworker",), agency=agency, email="colleague@example.org")


def _case(agency_id):  # type: ignore[no-untyped-def]
    case = Case(kind=CaseKind.DOMESTIC_ABUSE, owner_agency_id=agency_id)
    db.session.add(case)
    db.session.commit()
    return case


def _restricted_person(agency, *named):  # type: ignore[no-untyped-def]
    person = PersonFactory(owner_agency_id=agency.id)
    db.session.commit()
    restricted.restrict(person, by=named[0])
    for user in named[1:]:
        restricted.name(person, user=user, by=named[0])
    db.session.commit()
    return person


def _named_emails(page: Page) -> list[str]:
    return [row.select("td")[0].get_text(" ", strip=True) for row in page.select("#named-users tbody tr")]


def test_marking_a_person_restricted_names_whoever_marked_it(app_ctx, owner, colleague):
    person = PersonFactory(owner_agency_id=owner.agency_id)
    db.session.commit()
    client = sign_in(app_ctx, owner)
    section = Page(client.get(f"/people/{person.id}")).select_one("#restriction")
    assert section is not None and "Restrict this person" in section.text
    response = client.post(f"/people/{person.id}/restriction", data={"confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/people/{person.id}#restriction")
    db.session.expire_all()
    assert person.restricted
    page = Page(client.get(f"/people/{person.id}"))
    assert page.status_code == 200, "the user who marked it still sees it"
    assert _named_emails(page) == ["Test User (you)"]
    assert sign_in(app_ctx, colleague).get(f"/people/{person.id}").status_code == 404
    change = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "person.restrict"))
    assert json.loads(change.details)["fields"] == ["restricted"] and change.record_id == person.id


def test_restricting_needs_a_confirmation(app_ctx, owner):
    person = PersonFactory(owner_agency_id=owner.agency_id)
    db.session.commit()
    page = Page(sign_in(app_ctx, owner).post(f"/people/{person.id}/restriction", data={}))
    assert page.status_code == 400 and "Confirm that only the users named will see it" in page.text
    db.session.expire_all()
    assert not person.restricted


def test_a_named_user_sees_it_an_unnamed_colleague_gets_404_and_a_removed_user_loses_access_at_once(
        app_ctx, owner, colleague):
    person = _restricted_person(owner.agency, owner)
    owner_client, colleague_client = sign_in(app_ctx, owner), sign_in(app_ctx, colleague)
    assert colleague_client.get(f"/people/{person.id}").status_code == 404
    assert colleague_client.get(f"/people/{person.id}/restriction").status_code == 404
    page = Page(owner_client.get(f"/people/{person.id}"))
    offered = {o["value"] for o in page.select("#restriction select[name=user] option")}
    assert str(colleague.id) in offered
    assert owner_client.post(f"/people/{person.id}/restriction/users",
                             data={"user": str(colleague.id)}).status_code == 302
    assert colleague_client.get(f"/people/{person.id}").status_code == 200
    assert owner_client.post(f"/people/{person.id}/restriction/users/remove",
                             data={"user": str(colleague.id)}).status_code == 302
    assert colleague_client.get(f"/people/{person.id}").status_code == 404, "access ends at once"
    actions = [(e.action, json.loads(e.details).get("user_id")) for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.record_id == person.id, AuditEntry.action.like("record.restricted%"))
        .order_by(AuditEntry.position))]
    assert actions == [("record.restricted_access", str(owner.id)), ("record.restricted_access", str(colleague.id)),
                       ("record.restricted_access_removed", str(colleague.id))]


def test_the_last_person_who_could_manage_the_record_cannot_be_removed(app_ctx, agency, owner):
    manager = make_user(roles=("manager",), agency=agency)  # may view, not edit: cannot manage it
    gone = make_user(roles=("caseworker",), agency=agency)
    person = _restricted_person(agency, owner, manager, gone)
    from casework.services import users

    users.deactivate(user=gone)
    db.session.commit()
    client = sign_in(app_ctx, owner)
    page = Page(client.post(f"/people/{person.id}/restriction/users/remove", data={"user": str(owner.id)}))
    assert page.status_code == 400
    assert "You are the last person named who can manage this record: name someone else first" in page.text
    assert page.select_one(".govuk-error-summary a")["href"] == "#named-users"
    assert policy.can_view(owner, person)
    # The manager named on it sees it, and no forms to change who is named.
    manager_page = Page(sign_in(app_ctx, manager).get(f"/people/{person.id}"))
    assert manager_page.status_code == 200 and manager_page.select_one("#restriction") is None


def test_removing_oneself_is_allowed_while_someone_else_can_manage_it(app_ctx, owner, colleague):
    person = _restricted_person(owner.agency, owner, colleague)
    client = sign_in(app_ctx, owner)
    response = client.post(f"/people/{person.id}/restriction/users/remove", data={"user": str(owner.id)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert client.get(f"/people/{person.id}").status_code == 404
    assert sign_in(app_ctx, colleague).get(f"/people/{person.id}").status_code == 200


def test_who_may_be_named(app_ctx, agency, owner):
    shared_with, elsewhere = AgencyFactory(name="Dorset Council"), AgencyFactory(name="NHS Dorset")
    partner = make_user(roles=("caseworker",), agency=shared_with)
    stranger = make_user(roles=("caseworker",), agency=elsewhere)
    admin_only = make_user(roles=("admin",), agency=agency)
    inactive = make_user(roles=("caseworker",), agency=agency, active=False)
    person = _restricted_person(agency, owner)
    db.session.add(Share(record_kind="person", record_id=person.id, agency_id=shared_with.id, via="explicit"))
    db.session.commit()
    assert [u.id for u in restricted.candidates(person)] == [partner.id]
    client = sign_in(app_ctx, owner)
    for refused in (stranger, admin_only, inactive):
        page = Page(client.post(f"/people/{person.id}/restriction/users", data={"user": str(refused.id)}))
        assert page.status_code == 400 and "Select a user from the list" in page.text
    page = Page(client.post(f"/people/{person.id}/restriction/users", data={"user": str(owner.id)}))
    assert page.status_code == 400 and "already named" in page.text
    assert client.post(f"/people/{person.id}/restriction/users", data={"user": str(partner.id)}).status_code == 302
    assert policy.can_view(partner, person) and not policy.can_view(stranger, person)


@pytest.mark.parametrize("kind,factory,prefix", [("person", PersonFactory, "people"),
                                                  ("incident", IncidentFactory, "incidents")])
def test_only_the_owning_agency_restricts_a_record(app_ctx, agency, kind, factory, prefix):
    other = AgencyFactory(name="Dorset Council")
    record = factory(owner_agency_id=other.id)
    db.session.add(Share(record_kind=kind, record_id=record.id, agency_id=agency.id, via="explicit"))
    db.session.commit()
    partner = make_user(roles=("caseworker",), agency=agency)
    client = sign_in(app_ctx, partner)
    assert Page(client.get(f"/{prefix}/{record.id}")).select_one("#restriction") is None
    page = Page(client.get(f"/{prefix}/{record.id}/restriction"))
    assert page.status_code == 200 and "Only Dorset Council, which owns it, can restrict it" in page.text
    assert client.post(f"/{prefix}/{record.id}/restriction", data={"confirm": "y"}).status_code == 403
    db.session.expire_all()
    assert not db.session.get(type(record), record.id).restricted


def test_lifting_the_restriction_forgets_the_names(app_ctx, owner, colleague):
    person = _restricted_person(owner.agency, owner)
    client = sign_in(app_ctx, owner)
    assert client.post(f"/people/{person.id}/restriction/lift", data={}).status_code == 400
    assert client.post(f"/people/{person.id}/restriction/lift", data={"confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert not person.restricted and restricted.named_users(person) == []
    assert sign_in(app_ctx, colleague).get(f"/people/{person.id}").status_code == 200
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "person.unrestrict"))
    assert json.loads(entry.details)["fields"] == ["restricted"]


def test_a_case_is_restricted_from_its_page(app_ctx, owner, colleague):
    case = _case(owner.agency_id)
    client = sign_in(app_ctx, owner)
    assert "Restrict this case" in Page(client.get(f"/cases/{case.id}")).select_one("#restriction").text
    assert client.post(f"/cases/{case.id}/restriction", data={"confirm": "y"}).status_code == 302
    page = Page(client.get(f"/cases/{case.id}"))
    assert page.status_code == 200 and _named_emails(page) == ["Test User (you)"]
    colleague_client = sign_in(app_ctx, colleague)
    assert colleague_client.get(f"/cases/{case.id}").status_code == 404
    assert client.post(f"/cases/{case.id}/restriction/users", data={"user": str(colleague.id)}).status_code == 302
    assert colleague_client.get(f"/cases/{case.id}").status_code == 200
    assert client.post(f"/cases/{case.id}/restriction/users/remove",
                       data={"user": str(colleague.id)}).status_code == 302
    assert colleague_client.get(f"/cases/{case.id}").status_code == 404


def test_naming_on_an_unrestricted_record_is_refused(app_ctx, owner, colleague):
    person = PersonFactory(owner_agency_id=owner.agency_id)
    db.session.commit()
    page = Page(sign_in(app_ctx, owner).post(f"/people/{person.id}/restriction/users",
                                              data={"user": str(colleague.id)}))
    assert page.status_code == 400 and "This record is not restricted" in page.text


def test_merging_a_restricted_record_keeps_the_merging_user_named(app_ctx, owner, colleague):
    from casework.services import merge

    survivor = PersonFactory(owner_agency_id=owner.agency_id, surname="Hardy")
    merged = _restricted_person(owner.agency, owner)
    merge.merge(survivor=survivor, merged=merged, choices={}, survivor_version=survivor.version,
                merged_version=merged.version, by=owner)
    db.session.commit()
    survivor = db.session.get(Person, survivor.id)
    assert survivor.restricted
    assert policy.can_view(owner, survivor) and not policy.can_view(colleague, survivor)
    assert [u.id for u in restricted.named_users(survivor)] == [owner.id]


def _remove_in_a_request_of_its_own(app, person_id, *, user_id, by_id, removed, then=None):  # type: ignore[no-untyped-def]
    """Remove `user_id` from the person as `by_id` would in a request: its own session and transaction,
    committed unless refused. `removed` (an Event) is set once the removal is flushed; `then` runs
    before the commit (to hold the transaction open while another request runs)."""
    from casework.models import User

    with app.app_context():
        try:
            person, by = db.session.get(Person, person_id), db.session.get(User, by_id)
            restricted.remove(person, user=db.session.get(User, user_id), by=by)
            db.session.flush()
            removed.set()
            if then is not None:
                then()
            db.session.commit()
            return "removed"
        except (restricted.RestrictionError, restricted.NotAllowed) as e:
            db.session.rollback()
            return f"refused: {e}"
        finally:
            removed.set()


def test_two_named_users_removing_each_other_at_once_never_leave_nobody_named(durable_app):
    """Each removal alone leaves someone who can manage the record; both at once, each reading the
    names before the other's commit, left nobody named and everyone locked out (PostgreSQL)."""
    import threading
    import time
    import uuid

    with durable_app.app_context():
        agency = AgencyFactory(name=f"Race {uuid.uuid4().hex[:8]}")
        first, second = (make_user(roles=("caseworker",), agency=agency) for _ in range(2))
        person = PersonFactory(owner_agency_id=agency.id)
        db.session.commit()
        restricted.restrict(person, by=first)
        restricted.name(person, user=second, by=first)
        db.session.commit()
        ids = person.id, first.id, second.id
    person_id, first_id, second_id = ids
    first_flushed, second_flushed = threading.Event(), threading.Event()
    results: dict[str, str] = {}

    def first_removes_second() -> None:
        results["first"] = _remove_in_a_request_of_its_own(
            durable_app, person_id, user_id=second_id, by_id=first_id, removed=first_flushed,
            then=lambda: time.sleep(1.0))

    def second_removes_first() -> None:
        first_flushed.wait(10)
        results["second"] = _remove_in_a_request_of_its_own(
            durable_app, person_id, user_id=first_id, by_id=second_id, removed=second_flushed)

    threads = [threading.Thread(target=first_removes_second), threading.Thread(target=second_removes_first)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results["first"] == "removed"
    assert results["second"].startswith("refused"), results
    with durable_app.app_context():
        person = db.session.get(Person, person_id)
        assert [u.id for u in restricted.named_users(person)] == [first_id]


@pytest.mark.parametrize("restrict,post,message,box", [
    (False, {"user": "x"}, "This record is not restricted", "confirm"),  # the name box is not on the page
    (True, {}, "Select the user to name", "user"),
])
def test_a_naming_error_links_to_a_box_on_the_page(app_ctx, owner, restrict, post, message, box):
    person = _restricted_person(owner.agency, owner) if restrict else PersonFactory(owner_agency_id=owner.agency_id)
    db.session.commit()
    page = Page(sign_in(app_ctx, owner).post(f"/people/{person.id}/restriction/users", data=post))
    link = page.select_one(".govuk-error-summary a")
    assert page.status_code == 400 and message in link.text and link["href"] == f"#{box}"
    assert page.select_one(f"main #{box}").name in ("input", "select")
