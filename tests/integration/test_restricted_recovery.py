"""Restricted records are never lost to their owner: a user of an agency the record is shared with
cannot remove the owning agency's last keeper; deactivating a user or taking away their roles is
never refused, but reports the records left with nobody to manage them, and the owning agency
recovers such a record (audited as "restriction.recovered", seen by its managers)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework import policy
from casework.db import db
from casework.models import AuditEntry, Case, CaseKind
from casework.services import restricted, sharing, users
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    police, housing = AgencyFactory(name="Dorset Police"), AgencyFactory(name="Housing")
    owner = make_user(agency=police)
    person = PersonFactory(owner_agency_id=police.id)
    db.session.commit()
    sharing.share(record=person, agency=housing, via="explicit", by=owner, reason="Joint work")
    restricted.restrict(person, by=owner)
    db.session.commit()
    return {"police": police, "housing": housing, "owner": owner, "person": person,
            "colleague": make_user(agency=police), "housing_worker": make_user(agency=housing),
            "admin": make_user(roles=("admin",), agency=police), "manager": make_user(roles=("manager",), agency=police)}


def test_a_shared_agency_cannot_remove_the_owning_agencys_last_keeper(app_ctx, world):
    person, owner, worker = world["person"], world["owner"], world["housing_worker"]
    restricted.name(person, user=worker, by=owner)
    db.session.commit()
    client = sign_in(app_ctx, worker)
    page = Page(client.post(f"/people/{person.id}/restriction/users/remove", data={"user": str(owner.id)}))
    assert page.status_code == 400
    assert "the last person of Dorset Police, which owns this record, named who can manage it" in page.text
    db.session.expire_all()
    assert policy.can_view(owner, person)
    # The owner may not leave it to the shared agency alone either.
    page = Page(sign_in(app_ctx, owner).post(f"/people/{person.id}/restriction/users/remove",
                                             data={"user": str(owner.id)}))
    assert page.status_code == 400 and "Dorset Police must keep someone named" in page.text
    # With another keeper of the owning agency named, the removal goes through.
    restricted.name(person, user=world["colleague"], by=owner)
    db.session.commit()
    assert client.post(f"/people/{person.id}/restriction/users/remove", data={"user": str(owner.id)}).status_code == 302
    db.session.expire_all()
    assert not policy.can_view(owner, person) and policy.can_view(world["colleague"], person)


def test_deactivating_the_last_keeper_is_not_refused_and_says_what_is_left(app_ctx, world):
    admin = sign_in(app_ctx, world["admin"])
    response = admin.post(f"/admin/users/{world['owner'].id}/deactivate")
    assert response.status_code == 302
    page = Page(admin.get(response.headers["Location"]))
    assert "is deactivated" in page.text
    assert "1 restricted record is now left with nobody named who can manage it for its agency" in page.text
    db.session.expire_all()
    assert not world["owner"].active
    assert sign_in(app_ctx, world["colleague"]).get(f"/people/{world['person'].id}").status_code == 404


def test_taking_away_the_roles_that_edit_records_reports_the_records_left(app_ctx, world):
    left = users.set_roles(user=world["owner"], roles=["manager"], by=world["admin"])
    assert left == 1
    assert restricted.orphaned(agency_id=world["police"].id) == [("person", world["person"])]
    assert users.set_roles(user=world["colleague"], roles=["manager"], by=world["admin"]) == 0


def test_the_cli_reports_the_records_left_on_deactivation(app_ctx, world, runner):
    result = runner.invoke(["users", "deactivate", world["owner"].email])
    assert result.exit_code == 0, result.output
    assert "1 restricted record(s) they were named on now have nobody named" in result.output


def test_the_owning_agency_recovers_a_record_nobody_can_manage_and_managers_see_it(app_ctx, world):
    person, colleague = world["person"], world["colleague"]
    recover = f"/restricted-records/person/{person.id}/recover"
    client = sign_in(app_ctx, colleague)
    assert client.get(recover).status_code == 404, "nothing to recover while the owner keeps it"
    assert str(person.id) not in client.get("/restricted-records").get_data(as_text=True)
    users.deactivate(user=world["owner"], by=world["admin"])
    db.session.commit()
    assert Page(client.get("/")).select_one("#orphaned-restricted")["href"] == "/restricted-records"
    listing = Page(client.get("/restricted-records"))
    assert listing.select_one(f"#orphaned a[href='{recover}']") is not None
    assert client.get(f"/people/{person.id}").status_code == 404, "hidden until recovered"
    # Not by another agency's user, even one it is shared with, nor without a reason.
    assert sign_in(app_ctx, world["housing_worker"]).get(recover).status_code == 404
    assert sign_in(app_ctx, world["housing_worker"]).post(recover, data={"reason": "x"}).status_code == 404
    page = Page(client.post(recover, data={"reason": "  "}))
    assert page.status_code == 400 and "Give the reason you are recovering this record" in page.text
    assert page.select_one(".govuk-error-summary a")["href"] == "#reason"
    assert not policy.can_view(colleague, person)
    response = client.post(recover, data={"reason": "PC Owner has left; the case is mine now"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/people/{person.id}#restriction")
    db.session.expire_all()
    assert policy.can_view(colleague, person)
    assert client.get(recover).status_code == 404, "recovered: it has a keeper again"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "restriction.recovered"))
    assert entry.user_id == colleague.id and entry.record_id == person.id
    audit_page = Page(sign_in(app_ctx, world["manager"]).get(f"/audit?record={person.id}"))
    assert "restriction.recovered" in audit_page.text
    assert "PC Owner has left; the case is mine now" in audit_page.text
    cell = next(td for td in audit_page.select("td") if "PC Owner has left" in td.text)
    assert cell.text.strip().startswith("Reason for recovery:"), "a reason is not a search's terms"
    assert "Words entered" in [th.text for th in audit_page.select("th")]


def test_a_restricted_case_is_recovered_the_same_way(app_ctx, world):
    case = Case(kind=CaseKind.DOMESTIC_ABUSE, owner_agency_id=world["police"].id)
    db.session.add(case)
    db.session.commit()
    restricted.restrict(case, by=world["owner"])
    users.deactivate(user=world["owner"], by=world["admin"])
    db.session.commit()
    client = sign_in(app_ctx, world["colleague"])
    recover = f"/restricted-records/case/{case.id}/recover"
    assert Page(client.get(recover)).status_code == 200
    assert client.post(recover, data={"reason": "Owner left"}).status_code == 302
    db.session.expire_all()
    assert policy.can_view(world["colleague"], case)
    # A manager (views records, does not edit them) cannot recover.
    assert sign_in(app_ctx, world["manager"]).get("/restricted-records").status_code == 403
