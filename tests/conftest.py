"""Test fixtures: one database per session (SQLite or PostgreSQL, `--db`), migrations applied,
each test inside a savepoint that rolls back."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import sessionmaker

from casework import create_app
from casework.db import db

pytest_plugins = ["tests.fixtures_auth"]

# Property tests judge what the code gives, not how fast examples are made: on a busy two-core
# machine Hypothesis's own timing checks (a slow example, slow generation) fail a correct test.
settings.register_profile("casework", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("casework")

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "data" / "sample"
SAMPLE_EXPECTED = HERE / "data" / "sample-expected-2024-25.json"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=("sqlite", "postgresql"), default=os.environ.get("CASEWORK_TEST_DB", "sqlite"),
                     help="which database the suite runs against")


# The modules whose tests take longest (a whole-suite run's --durations): run first, so the two workers
# share them from the start and neither is left finishing one while the other has nothing to do.
LONGEST_FIRST = ("tests/security/test_faults.py", "tests/integration/test_wheel.py",
                 "tests/integration/test_access_policy.py", "tests/security/test_foreign_ids.py",
                 "tests/security/test_requests.py", "tests/integration/test_plaintext_at_rest.py",
                 "tests/integration/test_measures_marks.py", "tests/integration/test_import_prepared.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    first = {module: rank for rank, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: first.get(item.nodeid.split("::", 1)[0], len(first)))  # (stable: else as collected)


def pytest_report_header(config: pytest.Config) -> str:
    return f"casework database: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def db_kind(pytestconfig: pytest.Config) -> str:
    return pytestconfig.getoption("--db")


@pytest.fixture(scope="session")
def database_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database for the session."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'casework.db'}"
        return
    yield from fresh_postgres_database()


def fresh_postgres_database() -> Iterator[str]:
    admin_url = make_url(os.environ.get("CASEWORK_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    name = f"casework_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001 - any failure to reach PostgreSQL
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and could not be reached: {e}")
        pytest.skip(f"PostgreSQL not reachable: {e}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        admin.dispose()
        drop_postgres_database_later(admin_url, name)


# DROP DATABASE makes PostgreSQL checkpoint, which takes seconds while other databases are busy (85 s of a
# 460-second run of the tests using the most databases): a process of its own drops each, so no test
# waits for it. It outlives the test process if it has to; any error it meets is printed.
_DROP = """import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[2])"""


def drop_postgres_database_later(admin_url: URL, name: str) -> None:
    dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    # (A shell starts it in the background and ends: the process is nobody's child here, to wait for.)
    subprocess.run(["sh", "-c", '"$0" -c "$1" "$2" "$3" </dev/null >/dev/null &', sys.executable, _DROP, dsn, name],
                   check=True)


def make_test_app(database_url: str, instance: Path, **extra: object) -> Flask:
    config = {
        "TESTING": True,
        "ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "KEYRING_FILE": str(instance / "keyring.json"),
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost",
        "PARTNERSHIP_NAME": "Dorset Community Safety Partnership",
    }
    config.update(extra)
    return create_app(config)


def upgrade(app: Flask) -> None:
    from alembic import command

    from casework.migrate import alembic_config

    with app.app_context():
        command.upgrade(alembic_config(), "head")


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    application = make_test_app(database_url, instance)
    upgrade(application)
    yield application
    application.extensions["casework.engine"].dispose()


@pytest.fixture()
def app_ctx(app: Flask) -> Iterator[Flask]:
    """The app with a database connection whose work is rolled back after the test."""
    engine = app.extensions["casework.engine"]
    original = app.extensions["casework.sessionmaker"]
    with engine.connect() as connection:
        outer = connection.begin()
        app.extensions["casework.sessionmaker"] = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            with app.app_context():
                yield app
        finally:
            app.extensions["casework.sessionmaker"] = original
            outer.rollback()


@pytest.fixture()
def session(app_ctx: Flask):  # type: ignore[no-untyped-def]
    return db.session


@pytest.fixture()
def client(app_ctx: Flask) -> FlaskClient:
    return app_ctx.test_client()


class CliRunner:
    """Runs the `casework` command group against the test app."""

    def __init__(self, app: Flask) -> None:
        self._runner = app.test_cli_runner()

    def invoke(self, args: list[str], **kwargs):  # type: ignore[no-untyped-def]
        from casework.cli import main

        return self._runner.invoke(main, args=args, **kwargs)


@pytest.fixture()
def runner(app_ctx: Flask) -> CliRunner:
    return CliRunner(app_ctx)


class Page:
    """A parsed HTML response, so a test reads `page.select_one('h1').text`."""

    def __init__(self, response) -> None:  # type: ignore[no-untyped-def]
        self.response = response
        self.status_code = response.status_code
        self.soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")

    def select_one(self, selector: str):  # type: ignore[no-untyped-def]
        return self.soup.select_one(selector)

    def select(self, selector: str):  # type: ignore[no-untyped-def]
        return self.soup.select(selector)

    @property
    def h1(self) -> str:
        h1 = self.soup.select_one("h1")
        return h1.get_text(" ", strip=True) if h1 else ""

    @property
    def text(self) -> str:
        return self.soup.get_text(" ", strip=True)


@pytest.fixture()
def get_page(client: FlaskClient):  # type: ignore[no-untyped-def]
    def _get(url: str, **kwargs) -> Page:  # type: ignore[no-untyped-def]
        return Page(client.get(url, **kwargs))

    return _get
