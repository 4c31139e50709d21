"""Mass assignment: fields a form does not have are ignored, so a user cannot set who owns a record,
whether it is restricted or merged, its id, or anyone's roles or agency by adding them to a post.
And fields that name a user (a caseworker, a task's owner) take only users the record's agency may
give work to."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

from sqlalchemy import select

import casework
from casework.db import db
from casework.models import Case, CaseTask, Incident, Person, User
from tests.fixtures_auth import make_user, sign_in
from tests.security.test_foreign_ids import form_fields

VIEWS = Path(casework.__file__).parent / "views"
OTHER = uuid.UUID("00000000-0000-4000-8000-00000000dead")


def extras(world) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What an attacker adds: every attribute that decides ownership, visibility or rights."""
    other = str(world.other.id)
    return {"id": str(OTHER), "owner_agency_id": other, "agency_id": other, "agency": other, "restricted": "y",
            "merged_into_id": str(world.own["person"]), "roles": "admin", "role_ids": "admin", "active": "y",
            "status": "closed", "created_at": "2000-01-01", "password_hash": "x", "totp_secret": "x",
            "receiving_agency_id": other, "imported": "y", "version": "1"}


def test_no_form_has_a_field_that_decides_ownership_or_rights():
    protected = {"id", "owner_agency_id", "agency_id", "restricted", "merged_into_id", "role_ids", "password_hash",
                 "totp_secret", "active", "created_at", "imported", "locked_until", "failed_attempts"}
    assert not form_fields() & protected


def test_views_read_no_post_field_but_their_forms_and_a_known_few():
    """A view that read request.form wholesale (to_dict, **request.form) would take any field."""
    read = set()
    for source in VIEWS.rglob("*.py"):  # every journey's package and the shared one
        text = source.read_text()
        assert not re.search(r"request\.form\.(to_dict|items|keys|values)\(|\*\*request\.form", text), source.name
        read |= set(re.findall(r'request\.form\.get\(f?"([\w-]+)', text))
    assert read <= {"action", "confirm", "back", "keep", "version", "survivor_version", "merged_version", "field-"}, read


def test_extra_fields_on_the_forms_that_make_records_are_ignored(world):
    client = sign_in(world.app, world.users["caseworker"])
    bad = extras(world)
    made = client.post("/people/new", data={**bad, "surname": "Extrafield", "confirm": "yes"})
    assert made.status_code == 302, made.status_code
    person = db.session.scalars(select(Person).where(Person.owner_agency_id == world.home.id)
                                .order_by(Person.created_at.desc())).first()
    assert person.surname == "Extrafield" and person.id != OTHER
    assert not person.restricted and person.merged_into_id is None
    day = dt.date.today() - dt.timedelta(days=2)
    made = client.post("/incidents/new", data={**bad, "occurred_on-day": day.day, "occurred_on-month": day.month,
                                               "occurred_on-year": day.year, "category": "criminal_damage"})
    assert made.status_code == 302
    incident = db.session.get(Incident, uuid.UUID(made.headers["Location"].rsplit("/", 1)[1]))
    assert incident.owner_agency_id == world.home.id and not incident.restricted and incident.id != OTHER
    made = client.post(f"/people/{person.id}/cases/new", data={**bad, "kind": "domestic_abuse"})
    assert made.status_code == 302, made.status_code
    case = db.session.get(Case, uuid.UUID(made.headers["Location"].rsplit("/", 1)[1]))
    assert case.owner_agency_id == world.home.id and not case.restricted and case.status.value == "open"


def test_extra_fields_change_no_ones_roles_or_agency(world):
    user = world.users["caseworker"]
    client = sign_in(world.app, user)
    client.post("/account/password", data=extras(world))
    admin = sign_in(world.app, world.users["admin"])
    target = make_user(roles=("caseworker",), agency=world.home)
    admin.post(f"/admin/users/{target.id}/roles", data={**extras(world), "roles": "caseworker"})
    db.session.expire_all()
    for who in (user, target):
        again = db.session.get(User, who.id)
        assert again.agency_id == world.home.id and again.active
        assert {r.value for r in again.roles} == {"caseworker"}


def test_a_task_or_case_given_to_another_agencys_user_is_refused(world):
    client = sign_in(world.app, world.users["caseworker"])
    stranger = make_user(roles=("caseworker",), agency=world.other)
    case_id = world.own["case"]
    day = dt.date.today() + dt.timedelta(days=5)
    client.post(f"/cases/{case_id}/tasks", data={"title": "Visit", "due_on-day": day.day,
                                                 "due_on-month": day.month, "due_on-year": day.year,
                                                 "owner": str(stranger.id)})
    assert db.session.scalars(select(CaseTask).where(CaseTask.owner_id == stranger.id)).first() is None
    colleague = world.users["hrda_chair"]
    client.post(f"/cases/{case_id}/tasks", data={"title": "Visit", "due_on-day": day.day,
                                                 "due_on-month": day.month, "due_on-year": day.year,
                                                 "owner": str(colleague.id)})
    assert db.session.scalars(select(CaseTask).where(CaseTask.owner_id == colleague.id)).first() is not None
    person = world.own["person"]
    client.post(f"/people/{person}/cases/new", data={"kind": "domestic_abuse", "caseworker": str(stranger.id)})
    assert db.session.scalars(select(Case).where(Case.caseworker_id == stranger.id)).first() is None
