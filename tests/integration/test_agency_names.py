"""Agency names are unique whatever their case, in the database too: two names differing only in case
saved at the same moment end with one agency and the other refused with the usual message; migration
0012 stops, naming them, on a database that already holds such a pair."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import func, select, text

from casework.db import db
from casework.migrate import alembic_config
from casework.models import Agency, AgencyKind
from casework.services import agencies
from tests.conftest import fresh_postgres_database, make_test_app
from tests.factories import AgencyFactory


def _agencies_named(name: str) -> list[str]:
    return sorted(db.session.scalars(select(Agency.name).where(func.lower(Agency.name) == func.lower(name))))


def _check_misses_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's check finds nothing the first time: as when the other agency was saved just after it."""
    real = agencies._name_taken
    calls = []

    def check(name: str, **kwargs: Any) -> bool:
        calls.append(name)
        return False if len(calls) == 1 else real(name, **kwargs)

    monkeypatch.setattr(agencies, "_name_taken", check)


def test_an_agency_added_with_a_name_saved_a_moment_before_in_another_case_is_refused(session, monkeypatch):
    AgencyFactory(name="NHS Dorset", kind=AgencyKind.HEALTH)
    _check_misses_once(monkeypatch)
    with pytest.raises(agencies.AgencyError, match="^An agency called nhs dorset already exists$") as refused:
        agencies.add(name="nhs dorset", kind="health")
    assert refused.value.field == "name"
    assert _agencies_named("NHS Dorset") == ["NHS Dorset"]
    assert agencies.add(name="Dorset HealthCare", kind="health").name == "Dorset HealthCare"  # the session goes on


def test_an_agency_renamed_to_a_name_saved_a_moment_before_in_another_case_is_refused(session, monkeypatch):
    AgencyFactory(name="NHS Dorset", kind=AgencyKind.HEALTH)
    other = AgencyFactory(name="Dorset HealthCare", kind=AgencyKind.HEALTH)
    _check_misses_once(monkeypatch)
    with pytest.raises(agencies.AgencyError, match="^An agency called NHS DORSET already exists$"):
        agencies.update(agency=other, name="NHS DORSET", kind="other", by=None)
    assert (other.name, other.kind) == ("Dorset HealthCare", AgencyKind.HEALTH)
    assert _agencies_named("NHS Dorset") == ["NHS Dorset"]


def test_two_agencies_added_at_the_same_moment_differing_only_in_case_end_as_one(durable_app):
    """On PostgreSQL neither check sees the other's uncommitted agency: both were saved. On SQLite the
    second waits for the write lock and its check sees the first."""
    tag = uuid.uuid4().hex[:8]
    first_flushed = threading.Event()
    results: dict[str, str] = {}

    def add(name: str, *, hold: float = 0.0) -> str:
        with durable_app.app_context():
            try:
                agencies.add(name=name, kind="health")
                first_flushed.set()
                time.sleep(hold)
                db.session.commit()
                return "added"
            except agencies.AgencyError as e:
                db.session.rollback()
                return f"refused: {e}"
            finally:
                first_flushed.set()

    def first() -> None:
        results["first"] = add(f"NHS Dorset {tag}", hold=1.0)

    def second() -> None:
        first_flushed.wait(10)
        results["second"] = add(f"nhs dorset {tag}")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {"first": "added", "second": f"refused: An agency called nhs dorset {tag} already exists"}
    with durable_app.app_context():
        assert _agencies_named(f"NHS Dorset {tag}") == [f"NHS Dorset {tag}"]


# --- the migration -------------------------------------------------------------------------------


@pytest.fixture()
def at_0011(db_kind: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database of its own, migrated up to 0011 (before the index)."""
    urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'casework.db'}"]) if db_kind == "sqlite" else (
        fresh_postgres_database())
    app = make_test_app(next(urls), tmp_path)
    with app.app_context():
        command.upgrade(alembic_config(), "0011")
    yield app
    app.extensions["casework.engine"].dispose()
    for _ in urls:  # let the PostgreSQL generator drop its database
        pass


def _revision() -> str:
    return db.session.scalar(text("SELECT version_num FROM alembic_version"))


def test_the_migration_stops_naming_agencies_whose_names_differ_only_in_case(at_0011):
    with at_0011.app_context():
        for name in ("NHS Dorset", "nhs dorset", "Dorset Police", "DORSET POLICE", "Dorset Council"):
            db.session.add(Agency(name=name, kind=AgencyKind.OTHER, active=True))
        db.session.commit()
        with pytest.raises(SystemExit) as stopped:
            command.upgrade(alembic_config(), "head")
        message = str(stopped.value)
        assert "'DORSET POLICE' and 'Dorset Police'; 'NHS Dorset' and 'nhs dorset'" in message
        assert "Dorset Council" not in message and "casework agencies rename" in message
        db.session.rollback()
        assert _revision() == "0011"

        db.session.execute(text("UPDATE agency SET name = 'NHS Dorset (old)' WHERE name = 'nhs dorset'"))
        db.session.execute(text("UPDATE agency SET name = 'Dorset Police (old)' WHERE name = 'DORSET POLICE'"))
        db.session.commit()
        command.upgrade(alembic_config(), "0012")
        assert _revision() == "0012"
        with pytest.raises(agencies.AgencyError, match="already exists"):
            agencies.add(name="NHS DORSET", kind="health")
