"""The stored figures' upkeep in the open: a statement writing what the figures are made from must be
announced (the trip-wire raises under test, logs in production), and a database upgraded from
before the derived tables existed gets them built by `casework db upgrade`, after the migrations."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid

import pytest
from sqlalchemy import func, select, text, update

from casework import crypto, figures
from casework.db import db
from casework.models import Incident, Party, PartyRole, Person
from casework.models.mark import measure_month, party_mark
from tests.conftest import CliRunner, fresh_postgres_database, make_test_app
from tests.integration.test_measures_engine import Records
from tests.integration.test_measures_marks import exact

D = dt.date


def test_a_statement_writing_a_watched_column_unannounced_trips_the_wire(session):
    records = Records(session)
    survivor, duplicate = records.people(2)
    records.da(D(2024, 5, 1), victims=[duplicate])
    with pytest.raises(figures.NotAnnounced, match=r"party \(person_id\)"):
        session.execute(update(Party).where(Party.person_id == duplicate.id).values(person_id=survivor.id))
    with pytest.raises(figures.NotAnnounced, match="incident"):
        session.execute(update(Incident), [{"id": session.scalar(select(Incident.id)), "alcohol": True}])
    # Columns no figure reads, and the figures' own tables, need no announcement.
    session.execute(update(Person).where(Person.id == survivor.id).values(restricted=True))
    session.execute(update(Party).where(Party.person_id == duplicate.id).values(updated_at=func.now()))
    session.execute(update(party_mark).values(repeat_da=False))


def test_in_production_an_unannounced_write_is_logged_as_an_error(session, monkeypatch, caplog):
    records = Records(session)
    victim = records.person()
    incident = records.da(D(2024, 5, 1), victims=[victim])
    monkeypatch.setitem(figures._settings, "strict", False)
    with caplog.at_level(logging.ERROR, logger="casework.figures"):
        session.execute(update(Incident).where(Incident.id == incident.id).values(occurred_on=D(2023, 1, 1)))
    assert "without announcing it" in caplog.text and "occurred_on" in caplog.text


def test_an_announced_change_inside_a_bulk_writer_waits_for_its_end(session):
    records = Records(session)
    survivor, duplicate = records.people(2)
    records.da(D(2024, 5, 1), victims=[survivor])
    records.da(D(2024, 6, 1), victims=[duplicate])
    with figures.bulk(session) as changed:
        session.execute(update(Party).where(Party.person_id == duplicate.id).values(person_id=survivor.id))
        changed.changed(people=[survivor.id, duplicate.id])
        assert not session.scalar(select(func.count()).select_from(party_mark).where(party_mark.c.repeat_da))
    assert session.scalar(select(func.count()).select_from(party_mark).where(party_mark.c.repeat_da)) == 1
    assert exact(session)


# --- a database from before the stored figures ------------------------------------------------------


@contextlib.contextmanager
def _database(db_kind: str, tmp_path):  # type: ignore[no-untyped-def]
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'before.db'}"
    else:
        yield from fresh_postgres_database()


def test_upgrading_a_database_with_records_from_before_0005_builds_exact_figures(db_kind, tmp_path):
    with _database(db_kind, tmp_path) as url:
        app = make_test_app(url, tmp_path)
        runner = CliRunner(app)
        assert runner.invoke(args=["db", "upgrade", "0004"]).exit_code == 0
        ring = app.extensions["casework.keyring"]
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        hexed = (lambda u: u.hex) if db_kind == "sqlite" else (lambda u: u)
        with app.app_context():
            agency, victim, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            db.session.execute(text("INSERT INTO agency (id, name, kind, created_at, updated_at) "
                                    "VALUES (:id, 'Police', 'police', :now, :now)"), {"id": hexed(agency), "now": now})
            for pid, surname in ((victim, "Smith"), (other, "Jones")):
                db.session.execute(text(
                    "INSERT INTO person (id, surname, owner_agency_id, do_not_disclose_address, mental_health, "
                    "substance_misuse, complex_needs, restricted, version, created_at, updated_at) "
                    "VALUES (:id, :surname, :agency, false, false, false, false, false, 1, :now, :now)"),
                    {"id": hexed(pid), "agency": hexed(agency), "now": now,
                     "surname": crypto.seal(ring, surname.encode(), table="person", column="surname", row_id=pid)})
            # Two DA incidents of one victim a month apart (the second a repeat), one of the other's,
            # and an ASB incident with nobody recorded.
            for day, person, category, da in ((D(2024, 5, 1), victim, "violence_with_injury", True),
                                              (D(2024, 6, 1), victim, "violence_with_injury", True),
                                              (D(2024, 6, 2), other, "harassment", True),
                                              (D(2024, 6, 3), None, "asb", False)):
                incident = uuid.uuid4()
                db.session.execute(text(
                    "INSERT INTO incident (id, occurred_on, category, domestic_abuse, recorded_by, rural, alcohol, "
                    "drugs, mental_health, restricted, owner_agency_id, version, locality, created_at, updated_at) "
                    "VALUES (:id, :on, :category, :da, 'police', false, false, false, false, false, :agency, 1, "
                    "'Weymouth', :now, :now)"),
                    {"id": hexed(incident), "on": day, "category": category, "da": da, "agency": hexed(agency),
                     "now": now})
                if person is not None:
                    db.session.execute(text(
                        "INSERT INTO party (id, incident_id, person_id, role, created_at, updated_at) "
                        "VALUES (:id, :incident, :person, 'victim', :now, :now)"),
                        {"id": hexed(uuid.uuid4()), "incident": hexed(incident), "person": hexed(person), "now": now})
            db.session.execute(text(
                "INSERT INTO referral (id, person_id, type, referred_on, status, imported, owner_agency_id, version, "
                "created_at, updated_at) VALUES (:id, :person, 'hrda', :on, 'submitted', false, :agency, 1, :now, :now)"),
                {"id": hexed(uuid.uuid4()), "person": hexed(victim), "on": D(2024, 6, 5), "agency": hexed(agency),
                 "now": now})
            db.session.commit()

        result = runner.invoke(args=["db", "upgrade"])

        assert result.exit_code == 0, result.output
        assert "Built the stored figures" in result.output and "party_mark" in result.output
        with app.app_context():
            assert figures.unbuilt(db.session) == []
            assert exact(db.session)
            marks = db.session.execute(select(party_mark.c.occurred_on, party_mark.c.repeat_da).where(
                party_mark.c.person_id == victim, party_mark.c.role == PartyRole.VICTIM)).all()
            assert sorted((str(on), bool(repeat)) for on, repeat in marks) == [
                ("2024-05-01", False), ("2024-06-01", True)]
            figures_stored = {(r.figure, int(r.value)) for r in db.session.execute(
                select(measure_month).where(measure_month.c.month == D(2024, 6, 1)))}
            assert {("da", 2), ("da_repeat_victim", 1), ("hrda_referrals", 1), ("ASB1", 1)} <= figures_stored
        # Once built, a further upgrade has nothing to build.
        again = runner.invoke(args=["db", "upgrade"])
        assert again.exit_code == 0 and "Built" not in again.output
        app.extensions["casework.engine"].dispose()


def test_db_upgrade_builds_the_figures_a_migration_left_empty(db_kind, tmp_path):
    """At the latest revision, derived tables left empty while records exist (as migrations 0005,
    0008, 0009 and 0011 leave them) are built by `casework db upgrade`; plain Alembic leaves them."""
    with _database(db_kind, tmp_path) as url:
        app = make_test_app(url, tmp_path)
        runner = CliRunner(app)
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        with app.app_context():
            records = Records(db.session)
            victim = records.person()
            records.da(D(2024, 5, 1), victims=[victim])
            records.da(D(2024, 6, 1), victims=[victim])
            records.referral(victim, D(2024, 6, 5))
            db.session.commit()
            connection = db.session.connection()
            for table in ("party_mark", "person_year_mark", "person_month_mark", "person_year_count",
                          "measure_month"):
                connection.execute(text(f"DELETE FROM {table}"))
            db.session.commit()
            assert sorted(figures.unbuilt(db.session)) == sorted(
                ["party_mark", "person_year_mark", "person_month_mark", "person_year_count", "measure_month"])
            db.session.rollback()

        result = runner.invoke(args=["db", "upgrade"])

        assert result.exit_code == 0 and "Built the stored figures" in result.output, result.output
        with app.app_context():
            assert figures.unbuilt(db.session) == [] and exact(db.session)
            assert db.session.scalar(select(func.count()).select_from(party_mark).where(party_mark.c.repeat_da)) == 1
        app.extensions["casework.engine"].dispose()


def test_the_nightly_figures_job_fails_naming_how_many_stored_figures_differ(session):
    from casework.scheduler import JobFailed, jobs

    records = Records(session)
    victim = records.person()
    records.da(D(2024, 5, 1), victims=[victim])
    records.da(D(2024, 6, 1), victims=[victim])
    session.flush()
    assert jobs.figures().startswith("stored figures agree with the records; audit trail intact")
    session.execute(update(party_mark).values(repeat_da=False))  # what a missed upkeep would leave
    with pytest.raises(JobFailed, match=r"^[1-9]\d* stored repeat marks and \d+ monthly figures differ from the "
                                        r"records; `casework measures rebuild` remakes them$"):
        jobs.figures()
