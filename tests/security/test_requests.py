"""Forged and tampered requests against every route of app.url_map: CSRF (no token, a wrong one,
another session's), methods a route does not take (and method-override tricks), GETs that would
change data, and redirects to another site through `next` and its look-alikes."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any
from urllib.parse import urlsplit

import pytest

from casework import crypto
from casework.db import db
from tests.fixtures_auth import PASSWORD, make_user, sign_in
from tests.integration.test_access_policy import _fingerprint
from tests.policy_table import POLICY, ROLES
from tests.security.conftest import METHODS, record_kind, rules, url, uuid_arguments
from tests.security.world import World

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
EVIL = ["//evil.example", "/\\evil.example", "https://evil.example/", "http:evil.example", "\\\\evil.example",
        "/\t/evil.example", "%2F%2Fevil.example", "//evil.example/%2F..", "/%5Cevil.example",
        "javascript:alert(1)", "https:/evil.example", " //evil.example"]
REDIRECT_PARAMETERS = ("next", "return_to", "back", "url", "redirect", "continue")


def _own_url(world: World, method: str, rule: Any) -> tuple[str, str | None]:
    """The route's URL with the home agency's records, and the role that may use it (None: public)."""
    route = POLICY[(method, rule.endpoint)]
    values = dict(route.args(world.ctx) if route.args else {})
    for name in uuid_arguments(rule):
        kind = record_kind(rule.endpoint, name, values)
        if kind is not None:
            values[name] = world.own[kind]
    # A route none of these roles may use (the ASB case review coordinator's steps): a caseworker, refused.
    actor = None if route.public else next((r for r in ("caseworker", "hrda_chair", "manager", "admin")
                                            if r in route.allowed), "caseworker")
    return url(world.app, rule.endpoint, values), actor


def _token(client, path: str) -> str:  # type: ignore[no-untyped-def]
    from flask import g

    g.pop("csrf_token", None)  # Flask-WTF keeps the token on `g`, which the tests' requests share
    match = TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def test_every_post_without_its_own_sessions_csrf_token_is_refused(world, monkeypatch):
    app = world.app
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    clients = {role: sign_in(app, world.users[role]) for role in ROLES}
    clients[None] = app.test_client()
    stranger = sign_in(app, make_user(roles=("caseworker",), agency=world.home))
    foreign_token = _token(stranger, "/account")
    anonymous_token = _token(app.test_client(), "/sign-in")
    posts = [(method, rule, *_own_url(world, method, rule)) for method, rule in rules(app) if method != "GET"]
    before = _fingerprint()
    problems, tried = [], 0
    for method, rule, path, actor in posts:
        client = clients[actor]
        for name, data in (("no token", {}), ("a wrong token", {"csrf_token": "x" * 40}),
                           ("another session's token", {"csrf_token": foreign_token}),
                           ("a signed-out visitor's token", {"csrf_token": anonymous_token})):
            tried += 1
            response = client.open(path, method=method, data=data)
            if response.status_code != 400 or "CSRF" not in response.get_data(as_text=True):
                problems.append(f"{method} {rule.rule} with {name}: {response.status_code}")
            header = client.open(path, method=method, headers={"X-CSRFToken": data.get("csrf_token", "")})
            if header.status_code != 400:
                problems.append(f"{method} {rule.rule} with {name} in a header: {header.status_code}")
    assert tried > 100
    assert not problems, "\n".join(problems)
    assert _fingerprint() == before
    # The forged requests signed nobody out.
    for role in ROLES:
        assert clients[role].get("/account").status_code == 200, role
    # The check is the token's, not a refusal of everything: the session's own token is accepted.
    client = clients["caseworker"]
    accepted = client.post("/account/password", data={"csrf_token": _token(client, "/account")})
    assert accepted.status_code == 400 and "CSRF" not in accepted.get_data(as_text=True)


def test_a_method_a_path_does_not_take_is_refused_and_changes_nothing(world):
    app = world.app
    clients = {role: sign_in(app, world.users[role]) for role in ROLES}
    clients[None] = app.test_client()
    taken: dict[str, set[str]] = {}
    for method, rule in rules(app):
        taken.setdefault(rule.rule, set()).add(method)
    paths = {}
    for method, rule in rules(app):
        if rule.rule not in paths and method == min(taken[rule.rule]):  # GET before POST
            paths[rule.rule] = _own_url(world, method, rule)
    before = _fingerprint()
    problems = []
    for rule, (path, actor) in paths.items():
        client = clients[actor]
        for method in set(METHODS) - taken[rule]:
            status = client.open(path, method=method).status_code
            if status != 405:
                problems.append(f"{method} {rule}: {status}, not 405")
        if taken[rule] == {"POST"}:
            for trick in ({"headers": {"X-HTTP-Method-Override": "POST"}}, {"query_string": {"_method": "POST"}}):
                status = client.open(path, method="GET", **trick).status_code
                if status != 405:
                    problems.append(f"GET {rule} with {trick}: {status}, not 405")
    assert not problems, "\n".join(problems)
    assert _fingerprint() == before


def test_no_get_changes_business_data(world):
    """Reading any page, as any role, leaves every record as it was (only the audit trail and
    sessions may grow)."""
    app = world.app
    clients = {role: sign_in(app, world.users[role]) for role in ROLES}
    clients[None] = app.test_client()
    pages = [_own_url(world, method, rule) for method, rule in rules(app) if method == "GET"]
    before = _fingerprint()
    for path, actor in pages:
        for client in {id(c): c for c in (clients[actor], clients["caseworker"])}.values():
            assert client.get(path).status_code < 500, path
    assert _fingerprint() == before


def _off_site(location: str) -> bool:
    if not location:
        return False
    parts = urlsplit(location.strip())
    return (parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "localhost")
            or location.strip().startswith(("//", "/\\", "\\")))


@pytest.mark.usefixtures("reset_throttles")
def test_no_route_redirects_to_another_site(world):
    app = world.app
    clients = {None: app.test_client(), "caseworker": sign_in(app, world.users["caseworker"])}
    problems = []
    for method, rule in rules(app):
        if method != "GET":
            continue
        path, actor = _own_url(world, method, rule)
        for client in {None: clients[None], actor: clients.get(actor) or sign_in(app, world.users[actor])}.values():
            for evil in EVIL:
                bare, _, own = path.partition("?")  # (a confirmation step's URL carries its own query)
                query = {**dict(urllib.parse.parse_qsl(own)), **{name: evil for name in REDIRECT_PARAMETERS}}
                location = client.get(bare, query_string=query).headers.get("Location", "")
                if _off_site(location):
                    problems.append(f"GET {rule.rule}?next={evil!r}: Location {location!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.usefixtures("reset_throttles")
@pytest.mark.parametrize("evil", EVIL)
def test_signing_in_with_a_next_to_another_site_lands_on_this_one(app_ctx, evil):
    user = make_user()
    client = app_ctx.test_client()
    first = client.post("/sign-in", query_string={"next": evil}, data={"email": user.email, "password": PASSWORD})
    assert first.status_code == 302 and not _off_site(first.headers["Location"])
    done = client.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)})
    assert done.status_code == 302
    assert not _off_site(done.headers["Location"]), done.headers["Location"]
    assert done.headers["Location"].startswith("/"), done.headers["Location"]
    db.session.rollback()


def test_a_path_to_return_to_after_signing_in_is_kept(app_ctx):
    """The same check lets this site's own paths through (it is not a refusal of every `next`)."""
    user = make_user()
    client = app_ctx.test_client()
    client.post("/sign-in", query_string={"next": "/people?surname=Smith"},
                data={"email": user.email, "password": PASSWORD})
    done = client.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)})
    assert done.headers["Location"] == "/people?surname=Smith"
