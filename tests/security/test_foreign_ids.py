"""Every route, as users of the home agency in each case role, with the ids of records they must not
see: another agency's (of every kind), restricted ones they are not named on, one they were removed
from, a merged stub, an erased record. Ids go in the path, in the query (the parameters the views
read) and in the forms (the fields that name a record). A hidden record's id must get exactly the
answer an id that does not exist gets (so a page never tells the two apart), never a canary value of
the hidden record, and never change data about it.

Cases are generated from app.url_map, the views' query parameters and the forms' fields, so a new
route, parameter or field is attacked without a change here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Uuid, func, or_, select

import casework
from casework.db import db
from casework.models import Base
from tests.fixtures_auth import sign_in
from tests.policy_table import POLICY
from tests.security.conftest import record_kind, rules, text_of, url, uuid_arguments
from tests.security.world import CASE_ROLES, World

VIEWS = Path(casework.__file__).parent / "views"
CSRF = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*"')
XMLNS = re.compile(r' xmlns:\w+="[^"]*"')  # an .ods export names the namespaces it happened to use


def query_parameters() -> set[str]:
    """The query parameters the views read (request.args.get("name"))."""
    found: set[str] = set()
    for source in VIEWS.rglob("*.py"):  # every journey's package and the shared one
        found |= set(re.findall(r'request\.args\.get\(\s*"(\w+)"', source.read_text()))
    return found


def form_fields() -> set[str]:
    """Every field name of every form of the app."""
    from casework.forms import Form

    names: set[str] = set()
    pending = list(Form.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        names |= {name for name in dir(form) if hasattr(getattr(form, name, None), "field_class")}
    return names


@dataclass(frozen=True)
class Attempt:
    method: str
    endpoint: str
    where: str  # "path person_id", "query assessment", "form person"
    variant: str
    actor: str
    path_values: dict[str, Any]
    query: dict[str, str]
    form: dict[str, str]
    hidden_id: uuid.UUID

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.method, self.endpoint, self.where, self.variant)

    def label(self) -> str:
        return f"{self.method} {self.endpoint} [{self.where} = {self.variant}] as {self.actor}"


def attempts(world: World) -> Iterator[Attempt]:
    app = world.app
    kinds = set(world.hidden)
    queries = sorted(query_parameters() & kinds)
    fields = sorted(form_fields() & kinds)
    assert queries and fields, (queries, fields)
    for method, rule in rules(app):
        route = POLICY[(method, rule.endpoint)]
        actors = [role for role in CASE_ROLES if role in route.allowed]
        if not actors or route.public:
            continue
        base = dict(route.args(world.ctx) if route.args else {})
        ids = uuid_arguments(rule)
        for name in ids:
            kind = record_kind(rule.endpoint, name, base)
            if kind is not None:
                base[name] = world.own[kind]
        targets: list[tuple[str, str, str]] = [("path", name, kind) for name in ids
                                                if (kind := record_kind(rule.endpoint, name, base))]
        if method == "GET":
            targets += [("query", name, name) for name in queries]
        else:
            targets += [("form", name, name) for name in fields]
        for where, name, kind in targets:
            for variant, hidden_id in world.hidden_ids(kind):
                actor = "removed_user" if variant == "removed from" else actors[0]
                if actor == "removed_user" and "caseworker" not in route.allowed:
                    continue
                values, query, form = dict(base), {}, {}
                {"path": values, "query": query, "form": form}[where][name] = hidden_id
                yield Attempt(method, rule.endpoint, f"{where} {name}", variant, actor, values,
                              {k: str(v) for k, v in query.items()}, {k: str(v) for k, v in form.items()},
                              hidden_id)


def _references(ids: list[uuid.UUID]) -> dict[str, int]:
    """How many rows of each table name any of `ids` (in any id column)."""
    counts = {}
    with db.session.no_autoflush:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, Uuid) and c.name != "id"]
            if not columns or table.name in ("audit_entry",):
                continue
            where = or_(*[c.in_(ids) for c in columns])
            counts[table.name] = db.session.scalar(select(func.count()).select_from(table).where(where))
    return counts


def _normalised(response, ids: list[str]) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    body = XMLNS.sub("", CSRF.sub(r'\1"', text_of(response)))
    location = response.headers.get("Location", "")
    for i in ids:
        body, location = body.replace(i, "ID"), location.replace(i, "ID")
    return response.status_code, body, location


def _answer(client, app, attempt: Attempt, record_id: uuid.UUID):  # type: ignore[no-untyped-def]
    def swap(values: dict[str, Any]) -> dict[str, Any]:
        return {k: (record_id if str(v) == str(attempt.hidden_id) else v) for k, v in values.items()}

    path = url(app, attempt.endpoint, {**swap(attempt.path_values), **swap(attempt.query)})
    with client.session_transaction() as s:
        s.pop("_flashes", None)  # left by an earlier request whose redirect was not followed
    return client.open(path, method=attempt.method, data=swap(attempt.form))


def run(world: World, part: int = 0, parts: int = 1) -> tuple[list[str], int]:
    app = world.app
    clients = {role: sign_in(app, world.users[role]) for role in CASE_ROLES}
    clients["removed_user"] = sign_in(app, world.removed_user)
    hidden = [i for ids in world.hidden.values() for _, i in ids]
    baseline = _references(hidden)
    problems, tried = [], 0
    for attempt in list(attempts(world))[part::parts]:
        tried += 1
        client = clients[attempt.actor]
        missing = uuid.uuid4()
        got = _answer(client, app, attempt, attempt.hidden_id)
        body = text_of(got) + got.headers.get("Location", "")
        leaked = [c for c in world.canaries if c in body]
        if got.status_code >= 500:
            problems.append(f"{attempt.label()}: server error {got.status_code}")
        elif leaked:
            problems.append(f"{attempt.label()}: shows the hidden record's {leaked}")
        elif attempt.where.startswith("path") and got.status_code not in (403, 404):
            problems.append(f"{attempt.label()}: answered {got.status_code}, not 403/404")
        elif attempt.method == "GET" or got.status_code >= 400:
            # (A refused request changed nothing, so the same request with an id that does not exist
            # meets the same data; a form that was accepted may have changed it, and is judged by
            # what it wrote instead.)
            expected = _answer(client, app, attempt, missing)
            ids = [str(attempt.hidden_id), str(missing)]
            if _normalised(got, ids) != _normalised(expected, ids):
                problems.append(f"{attempt.label()}: answered {got.status_code}, unlike an id that does not "
                                f"exist ({expected.status_code}): the page tells them apart")
        if got.status_code < 400 and attempt.method != "GET" and _references(hidden) != baseline:
            problems.append(f"{attempt.label()}: wrote a row naming the hidden record")
            baseline = _references(hidden)
    return problems, tried


PARTS = 3  # the walk in parts, so the suite's workers share it


@pytest.mark.parametrize("part", range(PARTS))
def test_no_route_lets_a_user_reach_a_record_they_may_not_see(world, part):
    problems, tried = run(world, part, PARTS)
    assert tried > 150 // PARTS, f"only {tried} attempts: the walk lost its routes"
    assert not problems, f"{len(problems)} of {tried} attempts:\n" + "\n".join(problems)


def test_every_hidden_variant_is_attacked(world):
    assert {v for ids in world.hidden.values() for v, _ in ids} >= {
        "other agency's", "restricted", "removed from", "merged into a restricted", "other agency's erased"}
