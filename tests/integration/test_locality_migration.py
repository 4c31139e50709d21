"""Migration 0017 (issue 20, finding 6): the list of localities, and the localities already recorded.

A value that is a locality of the list whatever its case and spacing takes the list's name, and the
stored monthly figures and per-person marks keyed by it move with it (the figures stay exact); a
value that matches none stays on its record as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import func, select, text

from casework.db import db
from casework.measures import engine
from casework.measures.definitions import BY_ID
from casework.measures.periods import Period
from casework.migrate import alembic_config
from casework.models import Agency, AgencyKind, Area, Category, Incident, Party, PartyRole, Person
from casework.models.mark import measure_month, person_month_mark
from tests.conftest import fresh_postgres_database, make_test_app
from tests.integration.test_measures_marks import exact

D = dt.date


@pytest.fixture()
def before_the_list(db_kind: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database of its own, migrated up to 0016 (just before the list)."""
    urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'casework.db'}"]) if db_kind == "sqlite" else (
        fresh_postgres_database())
    app = make_test_app(next(urls), tmp_path)
    with app.app_context():
        command.upgrade(alembic_config(), "0016")
    yield app
    app.extensions["casework.engine"].dispose()
    for _ in urls:  # let the PostgreSQL generator drop its database
        pass


@contextlib.contextmanager
def _todays_columns() -> Iterator[None]:
    """Today's models write rows into the older schema: the columns added since are there while they
    do (nullable, unindexed, empty) and gone again before the migration runs."""
    from sqlalchemy import inspect

    connection = db.session.connection()
    added: list[tuple[str, str]] = []
    for model in (Agency, Person, Area, Incident, Party):
        table = model.__table__  # type: ignore[attr-defined]
        existing = {c["name"] for c in inspect(connection).get_columns(table.name)}
        for column in table.columns:
            if column.name not in existing:
                kind = column.type.compile(dialect=connection.dialect)
                connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}'))
                added.append((table.name, column.name))
    yield
    for table_name, column_name in added:
        db.session.execute(text(f"ALTER TABLE {table_name} DROP COLUMN {column_name}"))
    db.session.commit()


def test_the_migration_gives_recorded_localities_the_lists_names_and_keeps_the_figures_exact(before_the_list):
    with before_the_list.app_context():
        with _todays_columns():
            agency = Agency(name="Dorset Council", kind=AgencyKind.COUNCIL, active=True)
            db.session.add(agency)
            db.session.flush()
            someone = Person(owner_agency_id=agency.id, surname="Smith", forenames="Ann")
            db.session.add(someone)
            db.session.add(Area(name="Harbourside", locality=" weymouth", owner_agency_id=agency.id))
            # One person, victim of ASB in the same month under three spellings of Weymouth (a repeat
            # under one of them), and under a value that is no locality.
            for day, value in enumerate(("Weymouth", "weymouth ", "WEYMOUTH", "Flat 2, 14 Smith Street", None), 1):
                incident = Incident(occurred_on=D(2024, 6, day), category=Category.ASB, asb_type="personal",
                                    recorded_by=AgencyKind.POLICE, owner_agency_id=agency.id, locality=value)
                db.session.add(incident)
                db.session.flush()
                db.session.add(Party(incident_id=incident.id, person_id=someone.id, role=PartyRole.VICTIM))
            db.session.commit()
            spellings = set(db.session.scalars(select(measure_month.c.locality).distinct()))
            assert {"Weymouth", "weymouth ", "WEYMOUTH"} <= spellings
        db.session.rollback()

        command.upgrade(alembic_config(), "0017")
        db.session.rollback()
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == "0017"
        by_value = dict(db.session.execute(select(Incident.locality, func.count()).group_by(Incident.locality)).all())
        assert by_value == {"Weymouth": 3, "Flat 2, 14 Smith Street": 1, None: 1}
        assert db.session.scalar(select(Area.locality)) == "Weymouth"
        assert set(db.session.scalars(select(measure_month.c.locality).distinct())) == {
            "Weymouth", "Flat 2, 14 Smith Street", ""}
        assert set(db.session.scalars(select(person_month_mark.c.locality).distinct())) == {
            "Weymouth", "Flat 2, 14 Smith Street", ""}
        assert exact(db.session)  # the stored figures and marks are what the records give
        for measure in ("ASB1", "ASB3"):
            rows = engine.by_locality(db.session, BY_ID[measure], Period(2024))
            assert rows == engine.by_locality(db.session, BY_ID[measure], Period(2024), precomputed=False)
            assert [place for place, _ in rows] == ["Weymouth", "Unrecognised locality", None]
        assert dict(engine.by_locality(db.session, BY_ID["ASB1"], Period(2024)))["Weymouth"].value == 3

        db.session.rollback()
        command.downgrade(alembic_config(), "0016")
        assert not db.session.connection().dialect.has_table(db.session.connection(), "locality")
        db.session.rollback()
