"""Every route and method against the declared policy table (tests/policy_table.py), for an anonymous
user and each role, and for record routes: a record of the user's own agency, another agency's,
one shared with the user's agency, and an id that does not exist."""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Dialect

from casework.db import db
from casework.models import Agency, Base, Share, User
from tests.factories import (
    AgencyFactory,
    IncidentFactory,
    PersonFactory,
    ReferralFactory,
    victim,
)
from tests.fixtures_auth import make_user, sign_in
from tests.policy_table import POLICY, ROLES, Route

# Tables whose rows a refused request may add: the trail of the refusal, sessions being checked.
NOT_BUSINESS_DATA = {"audit_entry", "user_session", "form_stash", "alembic_version"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _case_maker(agency_id: uuid.UUID) -> Any:
    from casework.models import Case, CaseKind

    case = Case(kind=CaseKind.DOMESTIC_ABUSE, owner_agency_id=agency_id)
    db.session.add(case)
    db.session.flush()
    return case


RECORD_MAKERS = {
    # a victim, so the DASH checklist and HRDA referral routes are open to the roles that may use them
    "person": lambda agency_id: victim(PersonFactory(owner_agency_id=agency_id)),
    "incident": lambda agency_id: IncidentFactory(owner_agency_id=agency_id),
    "case": _case_maker,
    "referral": lambda agency_id: ReferralFactory(owner_agency_id=agency_id),
}


@dataclass
class Context:
    app: Flask
    own_agency: Agency
    other_agency: Agency
    users: dict[str, User]
    target_user: User
    records: dict[tuple[str, str], Any]

    def record_id(self, kind: str, variant: str) -> uuid.UUID:
        if variant == "missing":
            return uuid.uuid4()
        if (kind, variant) not in self.records:
            agency = self.own_agency if variant == "own" else self.other_agency
            record = RECORD_MAKERS[kind](agency.id)
            if variant == "shared":
                db.session.add(Share(record_kind=kind, record_id=record.id, agency_id=self.own_agency.id,
                                     via="explicit"))
                db.session.flush()
            self.records[(kind, variant)] = record
        return self.records[(kind, variant)].id


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & set(METHODS)):
            found.append((method, rule.endpoint, rule.rule))
    return found


def _fingerprint() -> str:
    """A hash of every row of business data, as the database holds it (read through the driver's own
    cursor, in the test's transaction: the same rows as through the ORM, without building a statement
    for each of the ~70 tables on every call, which made this most of the route walk's time)."""
    digest = hashlib.sha256()
    with db.session.no_autoflush:
        db.session.flush()
    connection = db.session.connection()
    cursor = connection.connection.cursor()
    try:
        for statement in _fingerprint_statements(connection.dialect):
            cursor.execute(statement)
            for row in cursor.fetchall():
                digest.update(repr(tuple(row)).encode())
    finally:
        cursor.close()
    return digest.hexdigest()


@functools.cache
def _fingerprint_statements(dialect: Dialect) -> tuple[str, ...]:
    """`SELECT *` of each business table in a fixed order (its primary key; every column if it has none)."""
    quote = dialect.identifier_preparer.quote
    statements = []
    for table in Base.metadata.sorted_tables:
        if table.name in NOT_BUSINESS_DATA:
            continue
        order = list(table.primary_key.columns) or list(table.columns)
        statements.append(f"SELECT * FROM {quote(table.name)} ORDER BY {', '.join(quote(c.name) for c in order)}")
    return tuple(statements)


def _url(app: Flask, endpoint: str, values: dict[str, Any]) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def test_every_route_is_declared_in_the_policy_table(app):
    missing = [(m, e, r) for m, e, r in _routes(app) if (m, e) not in POLICY]
    assert not missing, f"routes missing from tests/policy_table.py: {missing}"
    stale = set(POLICY) - {(m, e) for m, e, _ in _routes(app)}
    assert not stale, f"tests/policy_table.py declares routes that do not exist: {stale}"


PARTS = 6  # the walk in parts, so the suite's workers share it (it is the suite's longest test)


@pytest.mark.parametrize("part", range(PARTS))
def test_routes_answer_as_the_policy_table_declares(app_ctx, reset_throttles, part):
    app = app_ctx
    own, other = AgencyFactory(), AgencyFactory()
    ctx = Context(app=app, own_agency=own, other_agency=other,
                  users={role: make_user(roles=(role,), agency=own) for role in ROLES},
                  target_user=make_user(roles=("caseworker",), agency=own), records={})
    problems: list[str] = []
    for method, endpoint, _rule in _routes(app)[part::PARTS]:
        route = POLICY[(method, endpoint)]
        variants = ("own", "shared", "other", "missing") if route.record else (None,)
        for variant in variants:
            values = dict(route.args(ctx) if route.args else {})
            if route.record:
                values[route.record_arg or f"{route.record}_id"] = ctx.record_id(route.record, variant)
            url = _url(app, endpoint, values)
            for actor in ("anonymous", *ROLES):
                problem = _check(ctx, route, method, url, actor, variant)
                if problem:
                    problems.append(f"{method} {url} as {actor}"
                                    f"{f' ({variant} record)' if variant else ''}: {problem}")
    assert not problems, "\n".join(problems)


def _check(ctx: Context, route: Route, method: str, url: str, actor: str, variant: str | None) -> str | None:
    client = ctx.app.test_client() if actor == "anonymous" else sign_in(ctx.app, ctx.users[actor])
    before = _fingerprint() if method != "GET" else None
    data = route.data(ctx) if route.data else {}
    response = client.open(url, method=method, data=data)
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if route.public:
        return None if status < 400 or status in route.also_ok else f"public route answered {status}"
    refused = False
    if actor == "anonymous":
        if status != 302 or "/sign-in" not in response.headers.get("Location", ""):
            return f"expected a redirect to sign in, got {status}"
        refused = True
    elif actor not in route.allowed:
        if status != 403:
            return f"expected 403, got {status}"
        refused = True
    elif variant in ("other", "missing"):
        if status != 404:
            return f"expected 404, got {status}"
        refused = True
    elif status >= 400 and status not in route.also_ok:
        return f"expected to be allowed, got {status}"
    if refused and before is not None and _fingerprint() != before:
        return "business data changed although the request was refused"
    return None


def test_the_board_officer_reaches_only_the_routes_the_table_gives_it(app_ctx, reset_throttles):
    """The board officer (the plan and the measures, no case data) on every route: refused (403,
    nothing changed) wherever the table does not name the role. A route whose decorator already
    refuses the role's permissions is settled without a request (the walk above proves decorators
    hold); the others are asked, with a record of the officer's own agency where they name one."""
    from casework import policy
    from casework.auth.guard import access_of
    from casework.models import Role

    app = app_ctx
    held = policy.ROLE_PERMISSIONS[Role.BOARD_OFFICER]
    own, other = AgencyFactory(), AgencyFactory()
    officer = make_user(roles=("board_officer",), agency=own)
    ctx = Context(app=app, own_agency=own, other_agency=other, users={"board_officer": officer},
                  target_user=make_user(roles=("caseworker",), agency=own), records={})
    problems, asked = [], 0
    for method, endpoint, _rule in _routes(app):
        route = POLICY[(method, endpoint)]
        access = access_of(app, endpoint)
        if "board_officer" not in route.allowed and access is not None and not set(access.permissions) <= held:
            continue  # refused by its decorator
        values = dict(route.args(ctx) if route.args else {})
        if route.record:
            values[route.record_arg or f"{route.record}_id"] = ctx.record_id(route.record, "own")
        url = _url(app, endpoint, values)
        asked += 1
        problem = _check(ctx, route, method, url, "board_officer", "own" if route.record else None)
        if problem:
            problems.append(f"{method} {url}: {problem}")
    assert not problems, "\n".join(problems)
    assert asked > 20  # the routes it may use, and those that check more than a permission


@pytest.mark.parametrize("variant,expected", [("own", True), ("shared", True), ("other", False)])
def test_visible_filter_agrees_with_can_view(app_ctx, variant, expected):
    from sqlalchemy import select

    from casework import policy
    from casework.models import Person

    own, other = AgencyFactory(), AgencyFactory()
    user = make_user(roles=("caseworker",), agency=own)
    ctx = Context(app=app_ctx, own_agency=own, other_agency=other, users={}, target_user=user, records={})
    person_id = ctx.record_id("person", variant)
    person = db.session.get(Person, person_id)
    assert policy.can_view(user, person) is expected
    listed = db.session.scalars(select(Person.id).where(policy.visible_filter(user, Person))).all()
    assert (person_id in listed) is expected
    assert db.session.execute(text("SELECT 1")).scalar() == 1
