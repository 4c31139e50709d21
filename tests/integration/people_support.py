"""Shared set-up for the people, incident and merge tests: two agencies, a caseworker of the first,
and quick ways to make people, incidents and parties."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.db import db
from casework.models import (
    Agency,
    AgencyKind,
    AuditEntry,
    Category,
    Incident,
    Party,
    PartyRole,
    Person,
    Share,
    User,
)
from tests.factories import AgencyFactory
from tests.fixtures_auth import make_user, sign_in

TODAY = dt.date.today()


@dataclass
class World:
    app: Flask
    own: Agency
    other: Agency
    user: User
    client: FlaskClient

    def person(self, *, agency: Agency | None = None, **values: Any) -> Person:
        values.setdefault("surname", "Smith")
        values.setdefault("forenames", "Jane")
        person = Person(owner_agency_id=(agency or self.own).id, **values)
        db.session.add(person)
        db.session.flush()
        return person

    def incident(self, *, on: dt.date, agency: Agency | None = None, parties: tuple[tuple[Person, PartyRole], ...] = (),
                 **values: Any) -> Incident:
        values.setdefault("category", Category.VIOLENCE_WITHOUT_INJURY)
        incident = Incident(occurred_on=on, recorded_by=AgencyKind.POLICE, owner_agency_id=(agency or self.own).id,
                            **values)
        db.session.add(incident)
        db.session.flush()
        for person, role in parties:
            db.session.add(Party(incident_id=incident.id, person_id=person.id, role=role))
        db.session.flush()
        return incident

    def share(self, record: Any, kind: str) -> None:
        db.session.add(Share(record_kind=kind, record_id=record.id, agency_id=self.own.id, via="explicit"))
        db.session.flush()

    def page(self, url: str, **kwargs: Any) -> tuple[int, BeautifulSoup]:
        response = self.client.get(url, **kwargs)
        return response.status_code, BeautifulSoup(response.get_data(as_text=True), "html.parser")

    def post(self, url: str, data: dict[str, Any]) -> Any:
        return self.client.post(url, data=data)


def make_world(app: Flask) -> World:
    own = AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)
    other = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    user = make_user(roles=("caseworker",), agency=own)
    return World(app=app, own=own, other=other, user=user, client=sign_in(app, user))


def audit_actions(record_id: Any) -> list[tuple[str, str | None]]:
    return [(e.action, e.details) for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.record_id == record_id).order_by(AuditEntry.position))]


def text_of(soup: BeautifulSoup) -> str:
    return soup.get_text(" ", strip=True)


def dob_fields(day: dt.date | None, name: str = "date_of_birth") -> dict[str, str]:
    if day is None:
        return {}
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}
