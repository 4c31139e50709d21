"""The same person or incident linked to a case, or the same person added to an incident, twice at the
same moment: one is linked, the other refused with "already" (never a server error), on both databases."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from casework.db import db
from casework.models import (
    Agency,
    AgencyKind,
    Case,
    CaseIncident,
    CaseKind,
    CasePerson,
    Category,
    Incident,
    Party,
    PartyRole,
    Person,
    User,
)
from casework.services import agencies, cases, incidents
from tests.fixtures_auth import make_user
from tests.integration.people_support import World, make_world

TODAY = dt.date.today()


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    return make_world(app_ctx)


def _count(model: type, **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query) or 0


def _misses_once(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    """The service's "already there?" check answers no the first time: as in a request whose check ran
    just before another request's same link was committed."""
    real = getattr(module, name)
    calls = []

    def check(*args: Any) -> bool:
        calls.append(args)
        return False if len(calls) == 1 else real(*args)

    monkeypatch.setattr(module, name, check)


# --- a forced race through the pages: the insert hits the unique constraint ---------------------


def _case_of(world: World) -> Case:
    case = cases.open_case(kind=CaseKind.DOMESTIC_ABUSE, by=world.user, today=TODAY)
    db.session.commit()
    return case


def test_a_person_linked_to_a_case_by_another_request_a_moment_before_is_refused_not_a_500(world, monkeypatch):
    case = _case_of(world)
    person = world.person(surname="Hardy")
    db.session.execute(insert(CasePerson).values(id=uuid.uuid4(), case_id=case.id, person_id=person.id))
    db.session.commit()
    _misses_once(monkeypatch, cases, "_linked")
    response = world.post(f"/cases/{case.id}/people", {"person": str(person.id), "role": "victim"})
    assert response.status_code == 400
    assert "This person is already linked to the case" in response.get_data(as_text=True)
    assert _count(CasePerson, case_id=case.id) == 1


def test_an_incident_linked_to_a_case_by_another_request_a_moment_before_is_refused_not_a_500(world, monkeypatch):
    case = _case_of(world)
    incident = world.incident(on=dt.date(2024, 5, 1))
    db.session.execute(insert(CaseIncident).values(id=uuid.uuid4(), case_id=case.id, incident_id=incident.id))
    db.session.commit()
    _misses_once(monkeypatch, cases, "_linked")
    response = world.post(f"/cases/{case.id}/incidents", {"incident": str(incident.id)})
    assert response.status_code == 400
    assert "This incident is already linked to the case" in response.get_data(as_text=True)
    assert _count(CaseIncident, case_id=case.id) == 1


def test_a_person_added_to_an_incident_by_another_request_a_moment_before_is_refused_not_a_500(world, monkeypatch):
    person = world.person(surname="Hardy", forenames="Ann")
    incident = world.incident(on=dt.date(2024, 5, 1), parties=((person, PartyRole.VICTIM),))
    db.session.commit()
    _misses_once(monkeypatch, incidents, "_is_party")
    response = world.post(f"/incidents/{incident.id}/people/{person.id}", {"role": "victim"})
    assert response.status_code == 400
    assert "Ann Hardy is already a victim in this incident" in response.get_data(as_text=True)
    assert _count(Party, incident_id=incident.id) == 1


def test_an_integrity_error_that_is_not_the_same_link_is_not_hidden(world, monkeypatch):
    case = _case_of(world)
    person = world.person(surname="Hardy")
    db.session.commit()
    monkeypatch.setattr(cases, "_linked", lambda *args: False)  # as if it were never there
    db.session.execute(insert(CasePerson).values(id=uuid.uuid4(), case_id=case.id, person_id=person.id))
    with pytest.raises(IntegrityError):
        cases.link_person(case, person=person, role=None, by=world.user)


# --- two requests at the same moment, each in its own transaction ------------------------------


def _request(app: Flask, work: Callable[[], Any], *, flushed: threading.Event, hold: float = 0.0) -> str:
    """Run `work()` as a request would: a session and transaction of its own, committed unless refused;
    `flushed` is set once its writes are flushed, and the commit waits `hold` seconds after that."""
    with app.app_context():
        try:
            work()
            db.session.flush()
            flushed.set()
            time.sleep(hold)
            db.session.commit()
            return "linked"
        except (cases.CaseError, incidents.IncidentError) as e:
            db.session.rollback()
            return f"refused: {e}"
        finally:
            flushed.set()


def _link(kind: str, ids: dict[str, uuid.UUID]) -> Callable[[], Any]:
    def work() -> Any:
        user = db.session.get(User, ids["user"])
        if kind == "case person":
            return cases.link_person(db.session.get(Case, ids["case"]), person=db.session.get(Person, ids["person"]),
                                     role=PartyRole.VICTIM, by=user)
        if kind == "case incident":
            return cases.link_incident(db.session.get(Case, ids["case"]),
                                       incident=db.session.get(Incident, ids["incident"]), by=user)
        return incidents.add_party(incident=db.session.get(Incident, ids["incident"]),
                                   person=db.session.get(Person, ids["person"]), role=PartyRole.VICTIM,
                                   cj_status=None, by=user)
    return work


@pytest.mark.parametrize("kind", ["case person", "case incident", "incident party"])
def test_the_same_link_posted_twice_at_the_same_moment_is_made_once(durable_app, kind):
    """On PostgreSQL both requests' checks find nothing (neither sees the other's uncommitted link) and
    the second insert waits for the first's commit, then hits the unique constraint: it was a server
    error. On SQLite the second waits for the write lock and its check sees the link."""
    tag = uuid.uuid4().hex[:8]
    with durable_app.app_context():
        agency = agencies.add(name=f"Racing {tag}", kind="police")
        user = make_user(roles=("caseworker",), agency=db.session.get(Agency, agency.id))
        person = Person(owner_agency_id=agency.id, surname=f"Racer{tag}", forenames="Ann")
        incident = Incident(occurred_on=dt.date(2024, 5, 1), category=Category.HARASSMENT,
                            recorded_by=AgencyKind.POLICE, owner_agency_id=agency.id)
        db.session.add_all([person, incident])
        db.session.flush()
        case = cases.open_case(kind=CaseKind.DOMESTIC_ABUSE, by=user, today=TODAY)
        db.session.commit()
        ids = {"user": user.id, "person": person.id, "incident": incident.id, "case": case.id}
    first_flushed, second_flushed = threading.Event(), threading.Event()
    results: dict[str, str] = {}

    def first() -> None:
        results["first"] = _request(durable_app, _link(kind, ids), flushed=first_flushed, hold=1.0)

    def second() -> None:
        first_flushed.wait(10)
        results["second"] = _request(durable_app, _link(kind, ids), flushed=second_flushed)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results["first"] == "linked"
    assert results["second"].startswith("refused: ") and "already" in results["second"], results
    with durable_app.app_context():
        if kind == "case person":
            assert _count(CasePerson, case_id=ids["case"]) == 1
        elif kind == "case incident":
            assert _count(CaseIncident, case_id=ids["case"]) == 1
        else:
            assert _count(Party, incident_id=ids["incident"]) == 1
