from __future__ import annotations

import contextlib
import re
import stat
import warnings
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from casework import create_app
from casework.config import DEFAULTS, NUMERIC_RANGES, ConfigurationError
from casework.db import db
from casework.migrate import head_revision
from casework.models import Base, Person
from tests.conftest import CliRunner, Page, fresh_postgres_database, make_test_app
from tests.factories import AgencyFactory, PersonFactory


def test_healthz_reports_database_and_migration_head(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "reachable", "migration": head_revision(),
                              "migration_head": head_revision()}


def test_healthz_is_unavailable_before_migrating_and_without_a_database(tmp_path):
    empty = make_test_app(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
    response = empty.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "reachable", "migration": None,
                             "migration_head": head_revision()}
    nowhere = make_test_app(f"sqlite:///{tmp_path / 'no-such-folder' / 'casework.db'}", tmp_path)
    response = nowhere.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_the_govuk_frontend_it_serves_is_6_3_0_built_with_the_services_fonts(caseworker_client):
    page = Page(caseworker_client.get("/"))
    stylesheet = caseworker_client.get(page.select_one("link[rel=stylesheet]")["href"])
    assert stylesheet.status_code == 200
    css = stylesheet.get_data(as_text=True)
    assert re.search(r'--govuk-frontend-version:\s*"6.3.0"', css)
    assert "Segoe UI" in css and "@font-face" not in css and "GDS Transport" not in css
    assert caseworker_client.get("/assets/fonts/light-94a07e06a1-v2.woff2").status_code == 404


def test_db_upgrade_downgrade_and_current_round_trip(db_kind, tmp_path):
    """`casework db upgrade`, `current` and `downgrade base` on an empty database of each kind."""
    if db_kind == "sqlite":
        database = contextlib.nullcontext(f"sqlite:///{tmp_path / 'round.db'}")
    else:
        database = contextlib.contextmanager(fresh_postgres_database)()
    with database as url:
        app = make_test_app(url, tmp_path)
        runner = CliRunner(app)

        def run(*args: str) -> str:
            result = runner.invoke(args=["db", *args])
            assert result.exit_code == 0, result.output
            return result.output

        def tables() -> set[str]:
            with app.app_context():
                return set(inspect(db.engine).get_table_names())

        head = head_revision()
        assert run("current") == f"current: None\nhead:    {head}\n"
        assert run("upgrade") == f"Database at {head}\n"
        assert run("current") == f"current: {head}\nhead:    {head}\n"
        assert run("downgrade", "base") == "Database at None\n"
        assert tables() <= {"alembic_version"}
        assert run("upgrade") == f"Database at {head}\n"
        assert {"person", "incident", "party", "source_ref"} <= tables()
        app.extensions["casework.engine"].dispose()


# Indexes on an expression: SQLite's reflection cannot read them, so autogenerate skips them there
# (with a warning, which is otherwise an error); `test_expression_indexes_are_in_the_database` checks them.
EXPRESSION_INDEXES = {"uq_agency_lower_name": ("agency", "lower(name)")}


def test_models_and_migrations_agree(app_ctx):
    conn = db.session.connection()
    with warnings.catch_warnings():
        if conn.dialect.name == "sqlite":
            for name in EXPRESSION_INDEXES:
                warnings.filterwarnings("ignore", f"Skipped unsupported reflection of expression-based index {name}$")
                warnings.filterwarnings("ignore", f"autogenerate skipping metadata-specified expression-based "
                                                  f"index '{name}'")
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_expression_indexes_are_in_the_database(app_ctx):
    """Each index on an expression exists, unique, on its expression (a batch migration on SQLite
    recreates a table from what it reflects, and would drop such an index silently)."""
    conn = db.session.connection()
    for name, (table, expression) in EXPRESSION_INDEXES.items():
        if conn.dialect.name == "sqlite":
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"),
                               {"name": name}).scalar_one()
        else:
            sql = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                               {"name": name}).scalar_one()
        assert "UNIQUE" in sql.upper() and table in sql and expression in sql.replace("::text", "").replace("((name))", "(name)"), sql


def test_start_page_uses_the_govuk_layout(caseworker_client):
    page = Page(caseworker_client.get("/"))
    assert page.status_code == 200
    assert page.h1 == "Casework"
    assert page.select_one("link[href$='build/main.css']") is not None
    assert not [s for s in page.select("script") if s.string and s.string.strip()], "no inline script"


def test_unknown_page_is_a_govuk_404(get_page):
    page = get_page("/no-such-page")
    assert page.status_code == 404
    assert page.h1 == "Page not found"


def test_personal_fields_are_stored_encrypted_and_read_back(session):
    person = PersonFactory(surname="O'Brien", forenames="Siân", postcode="DT1 1XJ")
    session.flush()
    raw = session.execute(text("SELECT surname, forenames FROM person WHERE id = :id"),
                          {"id": person.id.hex if db.engine.dialect.name == "sqlite" else person.id}).one()
    assert b"O'Brien" not in bytes(raw.surname)
    session.expire_all()
    again = session.scalar(select(Person).where(Person.id == person.id))
    assert (again.surname, again.forenames) == ("O'Brien", "Siân")


def test_setting_an_unchanged_value_writes_no_new_ciphertext(session):
    person = PersonFactory(surname="Nunez")
    session.flush()
    before = person.surname_sealed
    person.surname = "Nunez"
    assert person.surname_sealed == before
    assert not session.dirty


def test_production_refuses_to_start_without_explicit_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match="CASEWORK_SECRET_KEY, CASEWORK_KEYRING_FILE, CASEWORK_DATABASE_URL, "
                                                 "CASEWORK_PARTNERSHIP_NAME must be set"):
        create_app({"ENV": "production"})


def test_production_names_only_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("CASEWORK_PARTNERSHIP_NAME", "Wessex Community Safety Partnership")
    with pytest.raises(ConfigurationError, match=r"CASEWORK_KEYRING_FILE, CASEWORK_DATABASE_URL must be set") as refused:
        create_app({"ENV": "production"})
    assert "CASEWORK_SECRET_KEY" not in str(refused.value) and "PARTNERSHIP" not in str(refused.value)
    with pytest.raises(ConfigurationError, match="the keyring file .*nowhere.json does not exist"):
        create_app({"ENV": "production", "KEYRING_FILE": str(tmp_path / "nowhere.json"),
                    "DATABASE_URL": "sqlite://"})


def test_configuration_layers_apply_in_order(tmp_path, monkeypatch):
    """Built-in defaults, then instance/config.py, then CASEWORK_* variables, then test_config."""
    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text("REMINDER_DAYS_AHEAD = 3\nRETENTION_BATCH = 11\nENDED_SESSIONS_KEEP_DAYS = 5\n")
    monkeypatch.setenv("CASEWORK_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("CASEWORK_RETENTION_BATCH", "22")
    monkeypatch.setenv("CASEWORK_ENDED_SESSIONS_KEEP_DAYS", "6")
    app = create_app({"DATABASE_URL": "sqlite://", "ENDED_SESSIONS_KEEP_DAYS": 7})
    assert app.config["IMPORT_CHECK_APART_BYTES"] == DEFAULTS["IMPORT_CHECK_APART_BYTES"]  # a default
    assert app.config["REMINDER_DAYS_AHEAD"] == 3  # instance/config.py over the default
    assert app.config["RETENTION_BATCH"] == 22  # the environment over instance/config.py
    assert app.config["ENDED_SESSIONS_KEEP_DAYS"] == 7  # test_config over the environment


def test_development_makes_an_existing_instance_folder_private(tmp_path, monkeypatch):
    """A clone's `instance/` is readable by all: the first start makes it the owner's alone."""
    instance = tmp_path / "inst"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    monkeypatch.setenv("CASEWORK_INSTANCE_PATH", str(instance))
    create_app({"DATABASE_URL": "sqlite://"})
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700


def test_development_creates_private_instance_files(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_INSTANCE_PATH", str(tmp_path / "inst"))
    create_app({"DATABASE_URL": "sqlite://"})
    for name in ("secret_key", "keyring.json"):
        mode = stat.S_IMODE(Path(tmp_path / "inst" / name).stat().st_mode)
        assert mode == 0o600, name
    assert stat.S_IMODE((tmp_path / "inst").stat().st_mode) == 0o700


def test_agencies_add_and_list(runner):
    result = runner.invoke(args=["agencies", "add", "Dorset Council", "--kind", "council"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["agencies", "add", "dorset council", "--kind", "council"])
    assert result.exit_code != 0 and "already exists" in result.output
    result = runner.invoke(args=["agencies", "list"])
    assert "Dorset Council\tcouncil" in result.output


def test_factory_agency(session):
    assert AgencyFactory().id is not None


def test_sqlite_connections_are_hardened(app_ctx, db_kind):
    if db_kind != "sqlite":
        pytest.skip("SQLite settings")
    conn = db.session.connection()
    pragmas = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
               for name in ("journal_mode", "foreign_keys", "secure_delete", "busy_timeout")}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "secure_delete": 1, "busy_timeout": 10_000}


def test_sqlite_write_transactions_take_the_write_lock_up_front(app_ctx, db_kind, tmp_path):
    """BEGIN IMMEDIATE: a second writer waits (then fails cleanly) instead of failing half-way."""
    if db_kind != "sqlite":
        pytest.skip("SQLite locking")
    from sqlalchemy.exc import OperationalError

    from casework.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}", busy_timeout_ms=100)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with engine.connect() as first, engine.connect() as second:
        first.begin()
        first.exec_driver_sql("SELECT count(*) FROM t").scalar()  # a read, yet the lock is held
        with pytest.raises(OperationalError, match="locked"):
            second.begin()
        first.rollback()
    engine.dispose()


def test_development_database_file_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.delenv("CASEWORK_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["DATABASE_URL"].endswith("casework.db")
    assert stat.S_IMODE((tmp_path / "inst" / "casework.db").stat().st_mode) == 0o600


def test_a_waiting_sqlite_writer_begins_as_soon_as_the_lock_is_released(app_ctx, db_kind, tmp_path):
    """A second writer waits for the first and begins right after its commit (not on SQLite's own
    schedule of ever longer sleeps), and nothing of either is lost."""
    if db_kind != "sqlite":
        pytest.skip("SQLite locking")
    import threading
    import time

    from casework.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}", busy_timeout_ms=5_000)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    released = []
    with engine.connect() as first:
        first.begin()
        first.exec_driver_sql("INSERT INTO t VALUES (1)")

        def commit_later() -> None:
            time.sleep(0.3)
            released.append(time.monotonic())
            first.commit()

        thread = threading.Thread(target=commit_later)
        thread.start()
        with engine.begin() as second:  # waits for the first
            began = time.monotonic()
            second.exec_driver_sql("INSERT INTO t VALUES (2)")
        thread.join()
    assert began >= released[0]
    assert began - released[0] < 1.0  # well within the busy timeout, however busy the machine
    with engine.connect() as conn:
        assert sorted(r[0] for r in conn.exec_driver_sql("SELECT x FROM t")) == [1, 2]
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5_000
    engine.dispose()


def test_a_page_size_of_nought_refuses_to_start_naming_the_setting(tmp_path, monkeypatch):
    """CASEWORK_PAGE_SIZE=0 used to start and answer 500 from the people search."""
    monkeypatch.setenv("CASEWORK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CASEWORK_PAGE_SIZE", "0")
    with pytest.raises(ConfigurationError, match=r"CASEWORK_PAGE_SIZE must be from 1 to 500, not 0"):
        create_app({"DATABASE_URL": "sqlite://"})
    monkeypatch.setenv("CASEWORK_PAGE_SIZE", "lots")
    with pytest.raises(ConfigurationError, match=r"CASEWORK_PAGE_SIZE must be a whole number from 1 to 500, not 'lots'"):
        create_app({"DATABASE_URL": "sqlite://"})


@pytest.mark.parametrize("name", sorted(NUMERIC_RANGES))
def test_every_numeric_setting_below_its_range_refuses_to_start(name, tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_INSTANCE_PATH", str(tmp_path))
    least, _greatest = NUMERIC_RANGES[name]
    with pytest.raises(ConfigurationError, match=rf"CASEWORK_{name} must be .*not {least - 1}\b"):
        create_app({"DATABASE_URL": "sqlite://", name: least - 1})
    with pytest.raises(ConfigurationError, match=rf"CASEWORK_{name} must be a whole number"):
        create_app({"DATABASE_URL": "sqlite://", name: "1.5"})


def test_settings_that_must_agree_refuse_to_start_naming_both(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match="CASEWORK_DASH_MEDIUM_FROM .14. must be less than CASEWORK_DASH_HIGH_FROM"):
        create_app({"DATABASE_URL": "sqlite://", "DASH_MEDIUM_FROM": 14})
    with pytest.raises(ConfigurationError, match="CASEWORK_PASSWORD_HASH_MEMORY_KIB must be at least 8 for each"):
        create_app({"DATABASE_URL": "sqlite://", "PASSWORD_HASH_PARALLELISM": 4, "PASSWORD_HASH_MEMORY_KIB": 16})


def test_the_command_line_refuses_an_out_of_range_setting_with_its_name(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "CASEWORK_INSTANCE_PATH": str(tmp_path), "CASEWORK_PAGE_SIZE": "0",
           "CASEWORK_DATABASE_URL": "sqlite://"}
    casework = Path(sys.executable).with_name("casework")
    done = subprocess.run([str(casework), "agencies", "list"], check=False, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "CASEWORK_PAGE_SIZE must be from 1 to 500, not 0" in done.stderr


def test_a_server_checkpoints_the_sqlite_wal_after_a_response_not_in_a_commit(db_kind, tmp_path):
    """wsgi.py's `checkpoint_after_responses`: the WAL is copied into the database file after the
    response has been sent (at most once every `every_s`), and a commit checkpoints by itself only
    past SERVER_AUTOCHECKPOINT_PAGES. Left to SQLite, each commit past 1,000 pages checkpointed while
    readers held the WAL, half of all commits waiting on `fdatasync` at the 1M demo."""
    if db_kind != "sqlite":
        pytest.skip("SQLite's WAL")
    import contextlib
    import sqlite3

    from flask import Flask

    from casework.db import SERVER_AUTOCHECKPOINT_PAGES, checkpoint_after_responses, make_engine

    path = tmp_path / "wal.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with contextlib.closing(sqlite3.connect(path)) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def in_the_database_file() -> int:  # the rows the database file holds, the WAL left aside
        with contextlib.closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as file:
            return int(file.execute("SELECT count(*) FROM t").fetchone()[0])

    def server(every_s: float) -> Flask:
        app = Flask(__name__)
        app.extensions["casework.engine"] = engine
        checkpoint_after_responses(app, every_s=every_s)

        @app.get("/")
        def write() -> str:
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            return "written"

        return app

    response = server(every_s=0).test_client().get("/")
    assert response.status_code == 200 and in_the_database_file() == 0, "committed, in the WAL only"
    response.close()  # the server has sent it
    assert in_the_database_file() == 1
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == SERVER_AUTOCHECKPOINT_PAGES
    response = server(every_s=3600).test_client().get("/")
    response.close()
    assert in_the_database_file() == 1, "not again within every_s"
    engine.dispose()
