"""Administrators and the users they manage (issue 20): no one changes their own roles, the
administrator role never goes with a role that sees case data (finding 3), and set-up links are made
at the configured public address, never the request's Host (finding 13)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.db import db
from casework.models import AuditEntry, Role, User
from casework.services import users
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in


def _admin(app_ctx, **kwargs):  # type: ignore[no-untyped-def]
    admin = make_user(roles=("admin",), **kwargs)
    return admin, sign_in(app_ctx, admin)


def test_an_admin_cannot_give_themselves_a_caseworker_role_and_read_case_data(app_ctx):
    agency = AgencyFactory()
    admin, client = _admin(app_ctx, agency=agency)
    person = PersonFactory(owner_agency_id=agency.id)
    db.session.commit()
    page = Page(client.post(f"/admin/users/{admin.id}/roles", data={"roles": ["admin", "caseworker"]}))
    assert page.status_code == 400
    assert users.OWN_ROLES in page.select_one(".govuk-error-summary").get_text(" ", strip=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).roles == {Role.ADMIN}
    assert client.get(f"/people/{person.id}").status_code == 403
    refused = db.session.scalars(select(AuditEntry.action).where(AuditEntry.record_id == admin.id)).all()
    assert "user.roles_refused" in refused


@pytest.mark.parametrize("roles", [["caseworker"], ["admin"], ["admin", "manager"]])
def test_no_one_changes_their_own_roles_at_all(app_ctx, roles):
    admin, client = _admin(app_ctx)
    assert client.post(f"/admin/users/{admin.id}/roles", data={"roles": roles}).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, admin.id).roles == {Role.ADMIN}


def test_the_admin_page_says_so_and_offers_no_roles_form_for_ones_own_account(app_ctx):
    admin, client = _admin(app_ctx)
    page = Page(client.get(f"/admin/users/{admin.id}"))
    assert page.select_one(f"form[action='/admin/users/{admin.id}/roles']") is None
    assert users.OWN_ROLES in page.text
    other = make_user(roles=("caseworker",))
    theirs = Page(client.get(f"/admin/users/{other.id}"))
    assert theirs.select_one(f"form[action='/admin/users/{other.id}/roles']") is not None
    assert "never also a caseworker, HRDA chair or manager" in theirs.text


@pytest.mark.parametrize("case_role", ["caseworker", "hrda_chair", "manager"])
def test_another_admin_cannot_give_an_administrator_a_case_data_role(app_ctx, case_role):
    _me, client = _admin(app_ctx)
    colleague = make_user(roles=("admin",))
    page = Page(client.post(f"/admin/users/{colleague.id}/roles", data={"roles": ["admin", case_role]}))
    assert page.status_code == 400
    assert "cannot be given with" in page.select_one(".govuk-error-summary").get_text(" ", strip=True)
    assert page.select_one(".govuk-error-summary a")["href"] == "#roles"
    db.session.expire_all()
    assert db.session.get(User, colleague.id).roles == {Role.ADMIN}


def test_a_caseworker_cannot_be_made_an_administrator_too_but_roles_may_be_swapped(app_ctx):
    _me, client = _admin(app_ctx)
    worker = make_user(roles=("caseworker",))
    assert client.post(f"/admin/users/{worker.id}/roles", data={"roles": ["caseworker", "admin"]}).status_code == 400
    assert client.post(f"/admin/users/{worker.id}/roles", data={"roles": ["manager"]}).status_code == 302
    assert client.post(f"/admin/users/{worker.id}/roles", data={"roles": ["admin"]}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, worker.id).roles == {Role.ADMIN}


def test_a_new_user_is_never_made_an_administrator_with_case_data(app_ctx):
    agency = AgencyFactory()
    _me, client = _admin(app_ctx, agency=agency)
    db.session.commit()
    page = Page(client.post("/admin/users/new", data={"email": "both@example.org", "name": "Both",
                                                      "agency": str(agency.id), "roles": ["admin", "caseworker"]}))
    assert page.status_code == 400 and "cannot be given with caseworker" in page.text
    assert users.by_email("both@example.org") is None
    with pytest.raises(users.UserError, match="administrator role"):
        users.create(email="cli@example.org", name="Cli", agency=agency, roles=["admin", "hrda_chair"])


# --- set-up links at the configured public address --------------------------------------------


@pytest.fixture()
def public_url(app_ctx):  # type: ignore[no-untyped-def]
    app_ctx.config["PUBLIC_URL"] = "https://casework.example.gov.uk"
    yield app_ctx.config["PUBLIC_URL"]
    app_ctx.config["PUBLIC_URL"] = None


def _link(page: Page) -> str:
    return page.select_one("#setup-link").get_text(strip=True)


def test_a_new_users_set_up_link_is_at_the_public_address_not_the_requests_host(app_ctx, public_url):
    agency = AgencyFactory()
    _me, client = _admin(app_ctx, agency=agency)
    db.session.commit()
    page = Page(client.post("/admin/users/new", base_url="http://localhost", headers={"X-Forwarded-Host": "evil.example"},
                            data={"email": "linked@example.org", "name": "Linked", "agency": str(agency.id),
                                  "roles": ["caseworker"]}))
    assert page.status_code == 200
    assert _link(page).startswith("https://casework.example.gov.uk/set-up/")


def test_a_renewed_set_up_link_is_at_the_public_address(app_ctx, public_url):
    _me, client = _admin(app_ctx)
    target = make_user(roles=("caseworker",))
    page = Page(client.post(f"/admin/users/{target.id}/set-up-link"))
    assert _link(page).startswith("https://casework.example.gov.uk/set-up/")


def test_in_production_no_link_is_made_without_a_public_address(app_ctx):
    agency = AgencyFactory()
    _me, client = _admin(app_ctx, agency=agency)
    db.session.commit()
    app_ctx.config["ENV"] = "production"
    try:
        page = Page(client.post("/admin/users/new", data={"email": "nolink@example.org", "name": "No Link",
                                                          "agency": str(agency.id), "roles": ["caseworker"]}))
    finally:
        app_ctx.config["ENV"] = "testing"
    assert page.status_code == 400 and "CASEWORK_PUBLIC_URL" in page.text
    assert users.by_email("nolink@example.org") is None, "nothing is kept"
