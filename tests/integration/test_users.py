from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select, update

from casework import crypto
from casework.db import db
from casework.models import AuditEntry, Role, User
from casework.models.base import utcnow
from casework.services import users
from tests.conftest import Page
from tests.factories import AgencyFactory
from tests.fixtures_auth import make_user, sign_in


def _setup_token(page: Page) -> str:
    return re.search(r"/set-up/([\w-]+)", page.select_one("#setup-link").text).group(1)


def test_an_admin_adds_a_user_who_sets_up_with_the_one_time_link(app_ctx, admin_client):
    agency = AgencyFactory(name="Dorset Council")
    db.session.commit()
    form = Page(admin_client.get("/admin/users/new"))
    assert form.status_code == 200
    page = Page(admin_client.post("/admin/users/new", data={
        "email": " New.Person@Example.org ", "name": "New Person", "agency": str(agency.id),
        "roles": ["caseworker", "hrda_chair"]}))
    assert page.status_code == 200, page.text
    token = _setup_token(page)
    user = users.by_email("new.person@example.org")
    assert user.roles == {Role.CASEWORKER, Role.HRDA_CHAIR} and user.password_hash is None
    newcomer = app_ctx.test_client()
    weak = Page(newcomer.post(f"/set-up/{token}", data={"password": "password1234", "confirm": "password1234"}))
    assert weak.status_code == 400 and "commonly used" in weak.text
    done = newcomer.post(f"/set-up/{token}", data={"password": "a brand new passphrase",
                                                     "confirm": "a brand new passphrase"})
    assert done.headers["Location"].endswith("/sign-in/set-up-authenticator")
    assert newcomer.get(f"/set-up/{token}").status_code == 404, "the link works once"


def test_bad_new_user_input_names_each_field_and_saves_nothing(admin_client):
    page = Page(admin_client.post("/admin/users/new", data={"email": "not-an-email", "name": "", "agency": ""}))
    assert page.status_code == 400
    hrefs = {a["href"] for a in page.select(".govuk-error-summary a")}
    assert {"#name", "#agency"} <= hrefs
    assert db.session.scalar(select(User).where(User.email == "not-an-email")) is None


def test_a_set_up_link_expires_after_72_hours(app_ctx):
    agency = AgencyFactory()
    invitation = users.create(email="late@example.org", name="Late", agency=agency, roles=["caseworker"])
    db.session.execute(update(User).where(User.id == invitation.user.id)
                       .values(setup_expires_at=utcnow() - dt.timedelta(minutes=1)))
    db.session.commit()
    assert app_ctx.test_client().get(f"/set-up/{invitation.token}").status_code == 404


def test_admin_changes_roles_resets_the_authenticator_and_cannot_see_case_data(app_ctx, admin_client):
    target = make_user(roles=("caseworker",))
    assert admin_client.post(f"/admin/users/{target.id}/roles", data={"roles": ["manager"]}).status_code == 302
    assert admin_client.post(f"/admin/users/{target.id}/reset-second-factor").status_code == 302
    db.session.expire_all()
    target = db.session.get(User, target.id)
    assert target.roles == {Role.MANAGER} and not target.totp_enrolled and target.totp_secret is None
    none = Page(admin_client.post(f"/admin/users/{target.id}/roles", data={}))
    assert none.status_code == 400 and "Select at least one role" in none.text


def test_admin_adds_an_agency(admin_client):
    assert admin_client.post("/admin/agencies", data={"name": "NHS Dorset", "kind": "health"}).status_code == 302
    page = Page(admin_client.get("/admin/agencies"))
    assert "NHS Dorset" in page.text
    dup = Page(admin_client.post("/admin/agencies", data={"name": "nhs dorset", "kind": "health"}))
    assert dup.status_code == 400 and "already exists" in dup.text


def test_cli_creates_lists_and_deactivates_users(runner, app_ctx):
    AgencyFactory(name="Dorset Police")
    db.session.commit()
    result = runner.invoke(["users", "create", "--email", "pc@example.org", "--agency", "dorset police",
                            "--role", "caseworker", "--role", "manager"])
    assert result.exit_code == 0, result.output
    assert re.search(r"/set-up/[\w-]{40,}", result.output)
    listed = runner.invoke(["users", "list"]).output
    assert "pc@example.org\tDorset Police\tcaseworker,manager\tnot set up" in listed
    again = runner.invoke(["users", "create", "--email", "PC@example.org", "--agency", "Dorset Police",
                           "--role", "caseworker"])
    assert again.exit_code != 0 and "already exists" in again.output
    user = users.by_email("pc@example.org")
    client = sign_in(app_ctx, user)
    assert runner.invoke(["users", "deactivate", "pc@example.org"]).exit_code == 0
    assert client.get("/").status_code == 302
    assert "deactivated" in runner.invoke(["users", "list"]).output


def test_demo_users_one_per_role_and_their_sign_ins(runner, app_ctx):
    made = users.create_demo_users()
    db.session.commit()
    assert {r for u in made for r in u.roles} == set(Role)
    output = runner.invoke(["users", "demo-sign-ins"]).output
    assert users.DEMO_PASSWORD in output and "caseworker@demo.casework.test" in output
    assert runner.invoke(["users", "totp", "caseworker@demo.casework.test"]).exit_code != 0, "not enrolled yet"
    user = users.by_email("caseworker@demo.casework.test")
    user.totp_secret = crypto.new_totp_secret()
    db.session.commit()
    code = runner.invoke(["users", "totp", "caseworker@demo.casework.test"]).output.strip()
    assert code == crypto.totp_now(user.totp_secret)


def test_totp_codes_are_never_printed_in_production(runner, app_ctx):
    app_ctx.config["ENV"] = "production"
    try:
        result = runner.invoke(["users", "totp", "anyone@example.org"])
    finally:
        app_ctx.config["ENV"] = "testing"
    assert result.exit_code != 0 and "production" in result.output


def test_user_changes_are_audited_with_field_names_only(app_ctx, admin_client):
    target = make_user(roles=("caseworker",))
    admin_client.post(f"/admin/users/{target.id}/deactivate")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.deactivate"))
    assert entry is not None and entry.record_id == target.id


def test_a_form_posted_after_the_session_timed_out_is_kept_for_after_sign_in(app_ctx):
    from casework.models import UserSession

    agency = AgencyFactory()
    db.session.commit()
    admin = make_user(roles=("admin",), agency=agency)
    client = sign_in(app_ctx, admin)
    db.session.execute(update(UserSession).where(UserSession.user_id == admin.id)
                       .values(last_seen_at=utcnow() - dt.timedelta(minutes=45)))
    db.session.commit()
    posted = {"email": "kept@example.org", "name": "Kept Person", "agency": str(agency.id), "roles": ["manager"]}
    response = client.post("/admin/users/new", data=posted)
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    assert users.by_email("kept@example.org") is None
    page = Page(client.get("/sign-in"))
    assert "signed out" in page.text
    from tests.fixtures_auth import PASSWORD

    client.post("/sign-in", data={"email": admin.email, "password": PASSWORD})
    back = client.post("/sign-in/code", data={"code": crypto.totp_now(admin.totp_secret)})
    assert back.headers["Location"].endswith("/admin/users/new")
    form = Page(client.get("/admin/users/new"))
    assert form.select_one("#email")["value"] == "kept@example.org"
    assert form.select_one("#name")["value"] == "Kept Person"
    assert form.select_one("input[name=roles][value=manager]").has_attr("checked")
    again = Page(client.get("/admin/users/new"))
    assert not again.select_one("#email").get("value"), "the kept form is used once"


def test_admin_journey_on_a_committing_database_keeps_a_valid_chain(durable_app):
    """Real transactions (no test savepoints): audit entries of write requests are written after the
    request's own transaction, in their own, and the chain stays intact."""
    from casework.services import audit_chain

    with durable_app.app_context():
        agency = AgencyFactory()
        admin = make_user(roles=("admin",), agency=agency)
        client = sign_in(durable_app, admin)
        agency_id, admin_id = agency.id, admin.id
    response = client.post("/admin/users/new", data={"email": "durable@example.org", "name": "Durable",
                                                      "agency": str(agency_id), "roles": ["caseworker"]})
    assert response.status_code == 200
    with durable_app.app_context():
        target = users.by_email("durable@example.org")
        target_id = target.id
    assert client.post(f"/admin/users/{target_id}/deactivate").status_code == 302
    with durable_app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.user_id == admin_id)
                                          .order_by(AuditEntry.position)))
        assert actions == ["user.create", "user.deactivate"]
        assert audit_chain.verify(path=None).ok
