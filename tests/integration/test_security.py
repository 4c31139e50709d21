from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from casework import policy
from casework.db import db
from casework.models import Gender
from casework.services import audit, identity, sharing
from tests.conftest import Page, make_test_app
from tests.factories import AgencyFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in
from tests.integration.test_access_policy import _routes, _url
from tests.policy_table import POLICY


def test_every_route_sends_the_security_headers(app_ctx, caseworker_client):
    import uuid
    from types import SimpleNamespace

    ctx = SimpleNamespace(target_user=make_user())
    for method, endpoint, _rule in _routes(app_ctx):
        route = POLICY[(method, endpoint)]
        values = dict(route.args(ctx) if route.args else {})
        if route.record:
            values[route.record_arg or f"{route.record}_id"] = uuid.uuid4()
        url = _url(app_ctx, endpoint, values)
        for client in (app_ctx.test_client(), caseworker_client):
            h = client.open(url, method=method).headers
            csp = h.get("Content-Security-Policy", "")
            assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, (method, url)
            assert "unsafe-inline" not in csp
            assert h.get("X-Content-Type-Options") == "nosniff", (method, url)
            assert h.get("Referrer-Policy") == "no-referrer", (method, url)
            if endpoint != "static":
                assert h.get("Cache-Control") == "no-store", (method, url)


def test_pages_have_no_inline_script_or_style(caseworker_client, admin_client):
    for client, url in ((caseworker_client, "/"), (caseworker_client, "/account"), (admin_client, "/admin/users"),
                        (admin_client, "/admin/users/new"), (admin_client, "/audit")):
        soup = BeautifulSoup(client.get(url).data, "html.parser")
        assert not [s for s in soup.select("script") if (s.string or "").strip()], url
        assert not soup.select("style") and not soup.select("[style]"), url


def test_production_adds_hsts_and_secure_host_cookies(tmp_path, database_url):
    from casework import crypto

    keyring = tmp_path / "keyring.json"
    crypto.Keyring.generate().save(keyring)
    app = make_test_app(database_url, tmp_path, ENV="production", KEYRING_FILE=str(keyring), WTF_CSRF_ENABLED=True)
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/sign-in", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers.get("Set-Cookie", "")
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "HttpOnly" in cookie
    app.extensions["casework.engine"].dispose()


@pytest.fixture()
def csrf_app(database_url, tmp_path):  # type: ignore[no-untyped-def]
    from tests.conftest import upgrade

    app = make_test_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    upgrade(app)
    yield app
    app.extensions["casework.engine"].dispose()


def test_a_form_posted_without_its_csrf_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    refused = client.post("/sign-in", data={"email": "a@example.org", "password": "whatever it is"})
    assert refused.status_code == 400
    page = Page(client.get("/sign-in"))
    token = page.select_one("input[name=csrf_token]")["value"]
    accepted = client.post("/sign-in", data={"email": "a@example.org", "password": "whatever it is",
                                             "csrf_token": token})
    assert accepted.status_code == 400 and "Enter a correct email address and password" in accepted.get_data(True)


def test_identity_matches_show_every_agencys_people_but_only_identity(app_ctx):
    mine, theirs = AgencyFactory(name="Dorset Police"), AgencyFactory(name="Dorset Council")
    viewer = make_user(roles=("caseworker",), agency=mine)
    own = PersonFactory(owner_agency_id=mine.id, surname="Smith", gender=Gender.FEMALE)
    other = PersonFactory(owner_agency_id=theirs.id, surname="Smith")
    hidden = PersonFactory(owner_agency_id=theirs.id, surname="Smith", restricted=True)
    matches = identity.identity_matches(viewer=viewer, people=[own, other, hidden])
    assert [type(m).__name__ for m in matches] == ["IdentityMatch", "IdentityMatch", "RestrictedMatch"]
    assert matches[0].visible and matches[0].known_to == ("Dorset Police",)
    assert not matches[1].visible and matches[1].known_to == ("Dorset Council",)
    assert matches[1].name == other.display_name and matches[1].date_of_birth == other.date_of_birth
    assert matches[2].notice == policy.RESTRICTED_MATCH_NOTICE and matches[2].owner_agency == "Dorset Council"
    assert not hasattr(matches[2], "name")
    # Shared with the viewer's agency: now known to both and openable.
    sharing.share(record=other, agency=mine, via="referral")
    again = identity.identity_matches(viewer=viewer, people=[other])
    assert again[0].visible and again[0].known_to == ("Dorset Council", "Dorset Police")
    # An administrator sees no case data, not even identities.
    admin = make_user(roles=("admin",), agency=mine)
    assert identity.identity_matches(viewer=admin, people=[own, other]) == []


def test_a_restricted_person_is_visible_only_to_the_users_named_on_it(app_ctx):
    agency = AgencyFactory()
    named, colleague = make_user(agency=agency), make_user(agency=agency)
    person = PersonFactory(owner_agency_id=agency.id, restricted=True)
    assert not policy.can_view(named, person) and not policy.can_view(colleague, person)
    sharing.name_on_restricted(record=person, user=named)
    assert policy.can_view(named, person) and not policy.can_view(colleague, person)


def test_an_administrator_sees_no_case_data(app_ctx):
    agency = AgencyFactory()
    admin = make_user(roles=("admin",), agency=agency)
    person = PersonFactory(owner_agency_id=agency.id)
    assert not policy.can_view(admin, person)
    both = make_user(roles=("admin", "caseworker"), agency=agency)
    assert policy.can_view(both, person)


def test_explicit_sharing_needs_a_reason(app_ctx):
    agency, other = AgencyFactory(), AgencyFactory()
    user = make_user(agency=agency)
    person = PersonFactory(owner_agency_id=agency.id)
    with pytest.raises(sharing.SharingError, match="reason"):
        sharing.share(record=person, agency=other, via="explicit", by=user, reason=" ")
    sharing.share(record=person, agency=other, via="explicit", by=user, reason="Moved to their area")
    assert policy.can_view(make_user(agency=other), person)


def test_audit_page_filters_by_user_and_shows_search_terms_to_managers_only(app_ctx):
    agency = AgencyFactory()
    worker = make_user(agency=agency, email="worker@example.org")
    audit.record_search(kind="person", terms="Pemberton", result_count=2, user=worker)
    audit.record("sign_in", user=make_user(agency=AgencyFactory()))
    manager = sign_in(app_ctx, make_user(roles=("manager",), agency=agency))
    page = Page(manager.get("/audit?user=worker@example.org"))
    assert page.status_code == 200 and "Pemberton" in page.text and "1 entries" in page.text
    assert "Search terms: Pemberton" in " ".join(page.select_one("tbody").text.split())
    everyone = Page(manager.get("/audit"))
    assert "sign_in" not in [td.text for td in everyone.select("td")], "another agency's entries"
    admin = sign_in(app_ctx, make_user(roles=("admin",), agency=agency))
    page = Page(admin.get("/audit?user=worker@example.org"))
    assert "Pemberton" not in page.text and "hidden" in page.text
    bad = Page(admin.get("/audit?from=yesterday"))
    assert bad.status_code == 400 and bad.select_one(".govuk-error-summary a")["href"] == "#from"


def test_audit_page_is_paginated(app_ctx):
    app_ctx.config["PAGE_SIZE"] = 5
    try:
        for i in range(12):
            audit.record("test.event", user=None, details={"i": i})
        admin = sign_in(app_ctx, make_user(roles=("admin",)))
        first = Page(admin.get("/audit"))
        assert len(first.select("tbody tr")) == 5
        last = Page(admin.get("/audit?page=3"))
        assert 1 <= len(last.select("tbody tr")) <= 5
    finally:
        app_ctx.config["PAGE_SIZE"] = 25
    assert db.session is not None


def test_the_client_address_is_read_through_the_configured_number_of_proxies(database_url, tmp_path):
    from flask import request

    from casework.auth.guard import public

    app = make_test_app(database_url, tmp_path, PROXY_COUNT=1, SERVER_NAME=None)

    @app.get("/test-address")
    @public
    def address():  # type: ignore[no-untyped-def]
        return request.remote_addr or ""

    client = app.test_client()
    forwarded = {"X-Forwarded-For": "198.51.100.7, 203.0.113.5"}
    assert client.get("/test-address", headers=forwarded).get_data(True) == "203.0.113.5"
    app.extensions["casework.engine"].dispose()
