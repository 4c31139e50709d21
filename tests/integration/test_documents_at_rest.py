"""A document's plaintext never reaches the database file, its write-ahead log, the stored rows on
PostgreSQL, a dump, or a backup; the document survives a backup and restore and a data-key
rotation (its content key re-sealed, its bytes untouched), and still reads the same.

Runs on a database of its own (following `--db`), committed, so what is checked reached the disk."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from casework import crypto
from casework.db import db
from casework.models import Case, CaseKind, CaseStatus, Document, DocumentChunk
from casework.services import backup, documents, keys
from tests.conftest import upgrade
from tests.factories import AgencyFactory
from tests.fixtures_auth import make_user
from tests.integration.test_backup import Databases, new_app
from tests.integration.test_plaintext_at_rest import _pg_dump

PHRASE = b"Pennyroyal-Marchbanks canary statement "
CANARY = PHRASE * 7000  # about 270 KB: five chunks


def _no_canary(data: bytes, where: str) -> None:
    assert len(data) > 0, where
    assert PHRASE[:20] not in data, f"the canary document's plaintext is in {where}"
    assert PHRASE[:20].hex().encode() not in data, f"the canary document's plaintext (as hex) is in {where}"


def test_a_canary_document_is_never_stored_in_plain_and_survives_backup_restore_and_rotation(db_kind, tmp_path):
    dbs = Databases(db_kind, tmp_path)
    source = new_app(dbs.new(), tmp_path / "source")
    target = None
    try:
        upgrade(source)
        with source.app_context():
            agency = AgencyFactory()
            user = make_user(agency=agency)
            case = Case(kind=next(iter(CaseKind)), status=CaseStatus.OPEN, owner_agency_id=agency.id, summary="S")
            db.session.add(case)
            db.session.flush()
            document = documents.add(record=case, upload=io.BytesIO(CANARY), size=len(CANARY), filename="c.txt",
                                     title="Canary", document_date=dt.date(2026, 1, 2), by=user)
            document_id = document.id
            db.session.commit()
            assert document.chunks == 5
            if db_kind == "sqlite":
                database = Path(make_url(source.config["DATABASE_URL"]).database)
                _no_canary(b"".join(p.read_bytes() for p in (database, Path(f"{database}-wal")) if p.exists()),
                           "the SQLite file and its log (while open)")
            else:
                stored = b"".join(bytes(v) for v in db.session.scalars(select(DocumentChunk.sealed)))
                _no_canary(stored, "the stored chunks")
                parsed = make_url(source.config["DATABASE_URL"])
                dump = subprocess.run([_pg_dump(), "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
                                       "-U", parsed.username or "postgres", "--data-only", parsed.database],
                                      capture_output=True, timeout=120, check=True).stdout
                assert b"document_chunk" in dump
                _no_canary(dump, "a plain pg_dump")
            backup_file = tmp_path / "casework.backup"
            backup.create_backup(target=backup_file)
            _no_canary(backup_file.read_bytes(), "the backup file")
            inside = b"".join(crypto.decrypt_backup(crypto.current(), io.BytesIO(backup_file.read_bytes())))
            _no_canary(inside, "the backup's decrypted contents")
        source.extensions["casework.engine"].dispose()
        if db_kind == "sqlite":
            _no_canary(database.read_bytes(), "the SQLite file (closed)")

        target = new_app(dbs.new(), tmp_path / "target", Path(source.config["KEYRING_FILE"]))
        with target.app_context():
            report = backup.restore_backup(source=backup_file)
            assert report.ok, report.checks
            restored = db.session.get(Document, document_id)
            assert b"".join(documents.content(restored)) == CANARY
            ring = crypto.current()
            old_key = ring.active
            result = keys.rotate_data_key(ring=ring, keyring_file=target.config["KEYRING_FILE"])
            assert result.new_key and result.remaining == 0
            keys.retire_data_key(ring=ring, keyring_file=target.config["KEYRING_FILE"], key_id=old_key)
            db.session.expire_all()
            rotated = db.session.get(Document, document_id)
            assert crypto.key_id_of(rotated.content_key_sealed) == ring.active != old_key
            assert b"".join(documents.content(rotated)) == CANARY
            assert db.session.execute(text("SELECT count(*) FROM document_chunk")).scalar_one() == 5
    finally:
        source.extensions["casework.engine"].dispose()
        if target is not None:
            target.extensions["casework.engine"].dispose()
        dbs.close()
