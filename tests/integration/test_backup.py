"""`casework backup` / `casework restore`: consistent while the app runs, encrypted, verified on restore.

Each test gets databases of its own (files on SQLite, fresh databases on
PostgreSQL, following `--db`), apart from the session's test database.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, insert, select, text

from casework import crypto
from casework.cli import main
from casework.db import db
from casework.migrate import head_revision
from casework.models import Agency, AgencyKind, Person
from casework.services import backup as service
from tests.conftest import fresh_postgres_database, make_test_app, upgrade
from tests.factories import AgencyFactory, IncidentFactory, PartyFactory, PersonFactory

CANARY_SURNAME = "Quillfeather-Zebedee"
CANARY_AGENCY = "Canary Xylophone Outreach Trust"  # stored in plain: agency names are not personal


class Databases:
    """Makes fresh, empty databases of one engine and drops them at the end."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind, self.tmp, self._postgres = kind, tmp, []

    def new(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / uuid.uuid4().hex[:10]}.db"
        gen = fresh_postgres_database()
        url = next(gen)
        self._postgres.append(gen)
        return url

    def close(self) -> None:
        for gen in self._postgres:
            gen.close()


def new_app(url: str, instance: Path, keyring: Path | None = None) -> Flask:
    instance.mkdir(parents=True, exist_ok=True)
    return make_test_app(url, instance, **({"KEYRING_FILE": str(keyring)} if keyring else {}))


@pytest.fixture(scope="module")
def source(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A migrated database with people (one of them the canary) while the app 'runs'."""
    tmp = tmp_path_factory.mktemp("backup-source")
    dbs = Databases(db_kind, tmp)
    app = new_app(dbs.new(), tmp / "instance")
    upgrade(app)
    with app.app_context():
        agency = AgencyFactory(name=CANARY_AGENCY)
        PersonFactory(surname=CANARY_SURNAME, forenames="Ottoline", owner_agency_id=agency.id)
        for _ in range(4):
            PartyFactory(incident=IncidentFactory(owner_agency_id=agency.id))
        db.session.commit()
    yield app
    app.extensions["casework.engine"].dispose()
    dbs.close()


@pytest.fixture()
def databases(db_kind: str, tmp_path: Path) -> Iterator[Databases]:
    dbs = Databases(db_kind, tmp_path)
    yield dbs
    dbs.close()


@pytest.fixture()
def target(databases: Databases, source: Flask, tmp_path: Path) -> Iterator[Flask]:
    """An app on a new, empty database with the source's keyring."""
    app = new_app(databases.new(), tmp_path / "target", Path(source.config["KEYRING_FILE"]))
    yield app
    app.extensions["casework.engine"].dispose()


@pytest.fixture(scope="module")
def empty_target(db_kind: str, source: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on an empty database with the source's keyring, for restores that must be refused."""
    tmp = tmp_path_factory.mktemp("backup-empty")
    dbs = Databases(db_kind, tmp)
    app = new_app(dbs.new(), tmp / "instance", Path(source.config["KEYRING_FILE"]))
    yield app
    app.extensions["casework.engine"].dispose()
    dbs.close()


@pytest.fixture(scope="module")
def pristine_backup(source: Flask, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backup-file") / "casework.backup"
    with source.app_context():
        service.create_backup(target=path)
    return path


@pytest.fixture()
def backup_file(pristine_backup: Path, tmp_path: Path) -> Path:
    """A copy of the source's backup that a test may damage."""
    path = tmp_path / "casework.backup"
    path.write_bytes(pristine_backup.read_bytes())
    return path


def counts(app: Flask) -> dict[str, int]:
    from casework.services.backup_checks import row_counts

    with app.app_context(), db.engine.connect() as conn:
        return row_counts(conn)


def table_count(app: Flask) -> int:
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one()
        return conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar_one()


def restore(app: Flask, path: Path) -> service.RestoreReport:
    with app.app_context():
        return service.restore_backup(source=path)


def assert_refused(app: Flask, path: Path, match: str) -> None:
    with pytest.raises(service.BackupError, match=match):
        restore(app, path)
    assert table_count(app) == 0, "a refused restore must leave the database as it was"


def test_backup_while_another_connection_reads_restores_and_verifies(source, target, tmp_path):
    path = tmp_path / "during-read.backup"
    with source.app_context(), db.engine.connect() as reader, reader.begin():
        reader.execute(select(func.count()).select_from(Person.__table__)).scalar_one()
        manifest = service.create_backup(target=path)
    assert manifest.migration == head_revision()
    assert manifest.row_counts == counts(source)

    report = restore(target, path)

    assert report.ok, report.checks
    assert [c.name for c in report.checks] == ["integrity", "migration", "row counts", "decryption"]
    assert "sampled encrypted values decrypt" in report.checks[3].detail
    assert counts(target) == counts(source)
    with target.app_context():
        person = db.session.scalars(select(Person).where(Person.forenames_sealed.is_not(None))).first()
        assert person is not None and person.surname == CANARY_SURNAME


def test_backup_during_an_uncommitted_write_holds_only_committed_rows(source, target, tmp_path):
    path = tmp_path / "during-write.backup"
    before = counts(source)
    with source.app_context(), db.engine.connect() as writer:
        tx = writer.begin()  # BEGIN IMMEDIATE on SQLite: this connection holds the write lock
        writer.execute(insert(Agency.__table__).values(
            id=uuid.uuid4(), name="Uncommitted Agency", kind=AgencyKind.COUNCIL,
            created_at=dt.datetime.now(dt.UTC), updated_at=dt.datetime.now(dt.UTC)))
        manifest = service.create_backup(target=path)
        tx.rollback()
    assert manifest.row_counts == before

    report = restore(target, path)

    assert report.ok, report.checks
    assert counts(target) == before


def test_restore_refuses_a_database_that_is_not_empty(target, pristine_backup):
    backup_file = pristine_backup
    upgrade(target)
    with target.app_context():
        AgencyFactory(name="Already Here")
        db.session.commit()
    before = counts(target)

    with pytest.raises(service.BackupError, match="not empty.*nothing was restored"):
        restore(target, backup_file)
    assert counts(target) == before


@pytest.mark.parametrize("where", ["key id", "chunk size", "nonce prefix", "middle", "last byte"])
def test_restore_refuses_a_tampered_backup(empty_target, backup_file, where):
    data = bytearray(backup_file.read_bytes())
    index = {"key id": 12, "chunk size": 20, "nonce prefix": 25, "middle": len(data) // 2,
             "last byte": len(data) - 1}[where]
    data[index] ^= 0x01
    backup_file.write_bytes(bytes(data))

    assert_refused(empty_target, backup_file, "made with a different keyring" if where == "key id"
                   else r"the backup file is damaged: chunk \d+ does not authenticate")


@pytest.mark.parametrize("keep", [0, 10, 40, -1000, -1])
def test_restore_refuses_a_truncated_backup(empty_target, backup_file, keep):
    data = backup_file.read_bytes()
    backup_file.write_bytes(data[:keep])

    assert_refused(empty_target, backup_file, "not a Casework backup|truncated|damaged")


def test_a_backup_cut_at_a_chunk_boundary_is_refused():
    ring = crypto.Keyring.generate()
    out = io.BytesIO()
    with crypto.BackupEncryptor(ring, out, chunk_size=64) as stream:
        stream.write(b"x" * 64 * 5 + b"y")
    whole = out.getvalue()
    assert b"".join(crypto.decrypt_backup(ring, io.BytesIO(whole))) == b"x" * 320 + b"y"
    cut = crypto.BACKUP_HEADER.size + 3 * (64 + crypto.TAG_BYTES)
    chunks = whole[crypto.BACKUP_HEADER.size:]
    swapped = whole[:crypto.BACKUP_HEADER.size] + chunks[80:160] + chunks[:80] + chunks[160:]

    for damaged in (whole[:cut], swapped, whole + whole[-17:]):
        with pytest.raises(crypto.BackupFileError, match="damaged"):
            b"".join(crypto.decrypt_backup(ring, io.BytesIO(damaged)))


def test_restore_with_another_keyring_is_refused(empty_target, pristine_backup, tmp_path):
    # The same empty database, but an app with a keyring of its own (generated).
    other = new_app(empty_target.config["DATABASE_URL"], tmp_path / "other")
    try:
        assert_refused(other, pristine_backup, "made with a different keyring")
    finally:
        other.extensions["casework.engine"].dispose()


def test_restore_refuses_a_backup_whose_values_do_not_decrypt_with_the_keyring(
        databases, source, pristine_backup, tmp_path):
    backup_file = pristine_backup
    # Same audit key (so the file decrypts), but the data key that sealed the values is gone.
    ring = crypto.Keyring.load(source.config["KEYRING_FILE"])
    ring.add_data_key()
    ring.data_keys = {ring.active: ring.data_keys[ring.active]}
    ring.save(tmp_path / "rotated-and-retired.json")
    app = new_app(databases.new(), tmp_path / "retired", tmp_path / "rotated-and-retired.json")

    if databases.kind == "sqlite":
        assert_refused(app, backup_file, "fails verification.*do not decrypt with this keyring")
    else:
        report = restore(app, backup_file)
        assert not report.ok
        assert "do not decrypt with this keyring" in report.checks[3].detail


def test_backup_file_holds_no_plaintext_personal_value(source, pristine_backup, tmp_path):
    backup_file = pristine_backup
    data = backup_file.read_bytes()
    for value in (CANARY_SURNAME, CANARY_AGENCY, "Ottoline"):
        for encoded in (value.encode("utf-8"), value.encode("utf-16-le")):
            assert encoded not in data
    assert backup_file.stat().st_mode & 0o077 == 0
    with source.app_context():
        manifest, payload = service.read_backup(source=backup_file, workdir=tmp_path)
    if manifest.database == "sqlite":  # the unencrypted copy does hold it: the check above can fail
        assert CANARY_AGENCY.encode() in payload.read_bytes()


@pytest.mark.parametrize("field,value,match", [
    ("database", "other", "cannot be restored into"),
    ("migration", "0001", "was made at migration 0001"),
])
def test_restore_refuses_another_engine_or_migration(empty_target, field, value, match, tmp_path):
    manifest = service.Manifest(created_at="2025-01-01T00:00:00+00:00", database=target_kind(empty_target),
                                migration=head_revision(), row_counts={}, app_version="0.1.0")
    manifest = service.Manifest(**{**manifest.__dict__, field: value})
    path = tmp_path / "crafted.backup"
    with (path.open("wb") as f, empty_target.app_context(),
          crypto.BackupEncryptor(crypto.current(), f) as stream):
        stream.write(manifest.to_line() + b"not a database")

    assert_refused(empty_target, path, match)


def target_kind(app: Flask) -> str:
    with app.app_context():
        return db.engine.dialect.name


def test_backup_and_restore_commands(source, target, tmp_path):
    path = tmp_path / "cli.backup"
    made = source.test_cli_runner().invoke(main, ["backup", str(path)])
    assert made.exit_code == 0, made.output
    assert "Backed up the" in made.output and path.exists()

    again = source.test_cli_runner().invoke(main, ["backup", str(path)])
    assert again.exit_code == 1 and "already exists" in again.output

    restored = target.test_cli_runner().invoke(main, ["restore", str(path)])
    assert restored.exit_code == 0, restored.output
    assert "FAILED" not in restored.output and restored.output.rstrip().endswith("Verified.")

    refused = target.test_cli_runner().invoke(main, ["restore", str(path)])
    assert refused.exit_code == 1 and "not empty" in refused.output


def test_postgresql_backup_restores_into_a_fresh_database(db_kind, tmp_path):
    if db_kind == "postgresql":
        pytest.skip("under --db postgresql every round trip above runs on PostgreSQL")
    databases = Databases("postgresql", tmp_path)
    try:
        source_app = new_app(databases.new(), tmp_path / "pg-source")
        upgrade(source_app)
        with source_app.app_context():
            PartyFactory(person_id=PersonFactory(surname=CANARY_SURNAME).id)
            db.session.commit()
        path = tmp_path / "pg.backup"
        with source_app.app_context():
            manifest = service.create_backup(target=path)
        assert manifest.database == "postgresql" and manifest.row_counts["person"] == 1
        target_app = new_app(databases.new(), tmp_path / "pg-target", Path(source_app.config["KEYRING_FILE"]))

        report = restore(target_app, path)

        assert report.ok, report.checks
        assert counts(target_app) == counts(source_app)
        with target_app.app_context():
            assert db.session.scalars(select(Person)).one().surname == CANARY_SURNAME
        for app in (source_app, target_app):
            app.extensions["casework.engine"].dispose()
    finally:
        databases.close()


def test_restore_refuses_a_file_that_is_not_a_backup(empty_target, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert_refused(empty_target, path, "not a Casework backup")
    assert_refused(empty_target, tmp_path / "missing.backup", "no such file")

