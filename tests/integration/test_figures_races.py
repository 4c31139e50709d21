"""Two requests recording incidents at the same moment keep the stored figures and marks exact, on both
databases (on PostgreSQL each refresh waits for the other's turn; SQLite has one writer at a time)."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

from sqlalchemy import select

from casework.db import db
from casework.figures import months as monthly
from casework.models import AgencyKind, Category, Incident, Party, PartyRole, Person
from casework.models.mark import measure_month, party_mark
from casework.services import agencies

MARCH = dt.date(2024, 3, 1)


def _record(app, agency_id: uuid.UUID, locality: str, *, flushed: threading.Event, hold: float) -> str:
    with app.app_context():
        try:
            person = Person(owner_agency_id=agency_id, surname="Racer", forenames="Ann")
            incident = Incident(occurred_on=dt.date(2024, 3, 10), category=Category.HARASSMENT, domestic_abuse=True,
                                recorded_by=AgencyKind.POLICE, owner_agency_id=agency_id, locality=locality)
            db.session.add_all([person, incident])
            db.session.flush()
            db.session.add(Party(incident_id=incident.id, person_id=person.id, role=PartyRole.VICTIM))
            db.session.flush()  # the marks and the month's figures are refreshed here
            flushed.set()
            time.sleep(hold)
            db.session.commit()
            return "recorded"
        except Exception as e:  # noqa: BLE001 - the test reports what went wrong
            db.session.rollback()
            return f"{type(e).__name__}: {e}"
        finally:
            flushed.set()


def test_two_incidents_recorded_at_once_in_one_month_are_both_counted(durable_app):
    tag = uuid.uuid4().hex[:8]
    locality = f"Racetown {tag}"
    with durable_app.app_context():
        agency_id = agencies.add(name=f"Figures {tag}", kind="police").id
        db.session.commit()
    first_flushed, second_flushed = threading.Event(), threading.Event()
    results: dict[str, str] = {}

    def first() -> None:
        results["first"] = _record(durable_app, agency_id, locality, flushed=first_flushed, hold=1.0)

    def second() -> None:
        first_flushed.wait(10)  # the first has refreshed March, and holds its transaction open
        results["second"] = _record(durable_app, agency_id, locality, flushed=second_flushed, hold=0.0)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {"first": "recorded", "second": "recorded"}
    with durable_app.app_context():
        connection = db.session.connection()
        stored = {(r.figure, int(r.value)) for r in connection.execute(
            select(measure_month).where(measure_month.c.locality == locality))}
        expected = {(r["figure"], r["value"]) for r in monthly.month_rows(connection, MARCH, dt.date(2024, 3, 31))
                    if r["locality"] == locality}
        assert stored == expected and stored  # nothing lost: the figures count both incidents
        marked = connection.execute(select(party_mark.c.is_da).join(
            Incident, Incident.id == party_mark.c.incident_id).where(Incident.locality == locality)).scalars().all()
        assert sorted(marked) == [True, True]  # both incidents' marks stored
