"""Stored XSS and formula payloads: every free-text field of the records a page may show holds a
payload, and every page (each route of app.url_map, as each role) and every export is read. A page
never contains a payload as markup (only escaped); an export is never served as a page.

The fields are generated from the models (every encrypted text attribute and plain text column of
the tables below), so a new field is attacked without a change here."""

from __future__ import annotations

import csv
import json
import re
from typing import Any

import pytest
from sqlalchemy import Enum, String, Text, select

from casework.db import db
from casework.models import Base, secret_columns
from tests.fixtures_auth import sign_in
from tests.policy_table import ROLES
from tests.security.conftest import rules, text_of
from tests.security.test_requests import _own_url
from tests.security.world import World

# Tables of what users write and pages show; codes, hashes and JSON are not free text.
TABLES = ("person", "incident", "case", "case_note", "case_task", "case_person", "referral", "risk_assessment",
          "meeting", "meeting_case", "meeting_research", "meeting_action", "reminder", "agency", "user_account",
          "area", "share", "document", "asb_case_review", "asb_recommendation")
NOT_FREE_TEXT = {"email", "password_hash", "totp_secret", "answers", "criteria_held", "record_kind", "via", "kind",
                 "reference",  # (a record's short reference is made by the service, never typed)
                 "content_key", "media_type"}  # (a document's key and its kind, decided from its bytes)


def payload(n: int) -> str:
    return f'"><svg onload=alert({n})><script>x({n})</script>'


def raw(n: int) -> tuple[str, str]:
    return f"<svg onload=alert({n})>", f"<script>x({n})"


def free_text_fields() -> dict[type, list[str]]:
    models = {m.class_.__tablename__: m.class_ for m in Base.registry.mappers}
    fields: dict[type, list[str]] = {}
    for table in TABLES:
        model = models[table]
        names = [name for name, secret in secret_columns(model).items() if secret.kind is str]
        names += [c.key for c in model.__mapper__.column_attrs
                  if len(c.columns) == 1 and isinstance(c.columns[0].type, String | Text)
                  and not isinstance(c.columns[0].type, Enum) and not c.key.endswith("_sealed")]
        fields[model] = [n for n in names if n not in NOT_FREE_TEXT]
    return fields


def fill(world: World) -> dict[int, str]:
    """A payload in every free-text field of every row of TABLES; returns which field each number is."""
    import datetime as dt

    from casework.models import CaseNote, CaseTask, Document, Research
    from tests.policy_table import _asb_review

    _asb_review(world.ctx)  # an ASB case review application its caseworker sees, with a recommendation
    case_id, meeting_case = world.own["case"], world.own["meeting_case"]
    author = world.users["caseworker"]
    db.session.add_all([
        CaseNote(case_id=case_id, author_id=author.id, text="note"),
        CaseTask(case_id=case_id, title="task", due_on=dt.date(2030, 1, 1), owner_id=author.id),
        Research(meeting_case_id=meeting_case, agency_id=world.home.id, facts="f", opinion="o",
                 checked_on=dt.date(2029, 12, 1), author_id=author.id),
        Document(record_kind="case", record_id=case_id, title="t", filename="f.txt", document_date=dt.date(2029, 1, 1),
                 media_type="text/plain", size=0, chunks=0, added_by_id=author.id)])
    db.session.flush()
    which: dict[int, str] = {}
    n = 1000
    for model, names in free_text_fields().items():
        for record in db.session.scalars(select(model)):
            for name in names:
                n += 1
                which[n] = f"{model.__tablename__}.{name}"
                # (A checklist's notes are JSON, by question number.)
                value = json.dumps({"1": payload(n)}) if (model.__tablename__, name) == ("risk_assessment", "notes") \
                    else payload(n)
                setattr(record, name, value)
    db.session.commit()
    return which


def test_no_page_shows_a_stored_payload_as_markup(world):
    which = fill(world)
    app = world.app
    clients = {role: sign_in(app, world.users[role]) for role in ROLES}
    problems: list[str] = []
    seen: set[int] = set()
    pages = [(method, rule.rule, *_own_url(world, method, rule)) for method, rule in rules(app)
             if rule.endpoint != "auth.sign_out"]
    for method, rule, path, actor in sorted(pages, key=lambda p: p[0]):  # GETs first: a POST may change data
        for role in ROLES if actor is not None else ("caseworker",):
            response = clients[role].open(path, method=method, data={})
            body = text_of(response)
            html = "html" in response.headers.get("Content-Type", "")
            for n in which:
                if f"alert({n})" not in body:
                    continue
                seen.add(n)
                if html and any(r in body for r in raw(n)):
                    problems.append(f"{method} {rule} as {role}: {which[n]} shown as markup")
            if not html and response.status_code == 200:
                assert response.headers.get("X-Content-Type-Options") == "nosniff", path
    assert not problems, "\n".join(sorted(set(problems)))
    # The walk did show the fields (so it could have found them unescaped).
    shown = {which[n] for n in seen}
    for field in ("person.surname", "person.address", "incident.locality", "case.summary", "case_note.text",
                  "case_task.title", "document.title", "referral.reason", "meeting_action.text", "agency.name",
                  "user_account.name", "asb_case_review.behaviour", "asb_recommendation.text"):
        assert field in shown, f"no page showed {field}: the walk lost its pages"


# Every export a user can download, as (method, endpoint) of the routes that serve one.
def test_exports_are_downloads_not_pages(world):
    fill(world)
    app = world.app
    client = sign_in(app, world.users["manager"])
    exports = [(m, r) for m, r in rules(app) if "export" in r.endpoint]
    assert exports
    for method, rule in exports:
        path, _ = _own_url(world, method, rule)
        response = client.open(path, method=method)
        assert response.status_code == 200, path
        assert "html" not in response.headers["Content-Type"], path
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
        assert "attachment" in response.headers.get("Content-Disposition", ""), path


FORMULAS = ["=1+1", "@SUM(1)", "+2+3", "-2+3", "=HYPERLINK(\"http://evil.example\")", "\t=1+1"]
FORMULA_START = re.compile(r"^[\t\r ]*[=+\-@]")


def test_the_data_exchange_export_holds_no_formula(world, tmp_path):
    """Values stored before the formula rule (issue 20 finding 12) are never written: the export
    refuses, listing them, and writes no file."""
    from casework.exchange import export_dataset
    from casework.exchange.exporter import ExportRefused

    fill(world)
    from casework.models import Incident, Person

    people = list(db.session.scalars(select(Person).where(Person.owner_agency_id == world.home.id)))
    for person, formula in zip(people, FORMULAS, strict=False):
        person.surname = person.forenames = formula
    for incident in db.session.scalars(select(Incident).where(Incident.owner_agency_id == world.home.id)):
        incident.locality = FORMULAS[0]
    db.session.commit()
    with pytest.raises(ExportRefused):
        export_dataset(tmp_path, agency=world.home)
    assert not list(tmp_path.glob("*.csv"))
    cells: list[tuple[str, Any]] = []
    for path in tmp_path.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as f:
            cells += [(path.name, cell) for row in csv.reader(f) for cell in row]
    formulas = [(name, cell) for name, cell in cells if FORMULA_START.match(cell)]
    assert not formulas, formulas
