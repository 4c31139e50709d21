"""Backups: a consistent, encrypted copy of the database taken while the app runs, and its verified restore.

A backup file is one stream encrypted by `casework.crypto` (AES-256-GCM chunks
under a key derived from the keyring). Inside: one line of JSON, the manifest
(when, which database, its migration, the rows in every table, the app's
version), then the database itself: a SQLite file made with SQLite's online
backup, or a `pg_dump` custom-format archive.

Consistency while the app runs: SQLite's backup copies every page in one step,
inside one read transaction, so the copy is one committed state (in WAL mode
writers carry on meanwhile). On PostgreSQL the rows are counted in a
REPEATABLE READ transaction whose snapshot `pg_dump --snapshot` then dumps, so
the manifest and the archive describe the same moment.

A restore goes only into an empty database, authenticates the whole file
before it writes anything, and refuses a backup of the other engine or of
another migration. It then verifies the result: integrity, migration head,
row counts against the manifest, and a sample of encrypted values decrypting
with the current keyring.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from flask import current_app, has_app_context
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from .. import crypto
from ..db import db
from ..migrate import head_revision
from ..version import __version__
from .backup_checks import Check, migration_of, row_counts, verify

MANIFEST_FORMAT = 1
MAX_MANIFEST_BYTES = 1 << 20
SQLITE = "sqlite"
POSTGRESQL = "postgresql"


class BackupError(Exception):
    """A backup or restore was refused or failed; the message says what is wrong."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, recorded when it was made (and carried inside its encryption)."""

    created_at: str
    database: str
    migration: str | None
    row_counts: dict[str, int]
    app_version: str

    def to_line(self) -> bytes:
        doc = {"format": MANIFEST_FORMAT, "created_at": self.created_at, "database": self.database,
               "migration": self.migration, "row_counts": self.row_counts, "app_version": self.app_version}
        return json.dumps(doc, sort_keys=True).encode("utf-8") + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Manifest:
        try:
            doc = json.loads(line)
            if doc.get("format") != MANIFEST_FORMAT:
                raise BackupError(f"the backup's manifest has an unknown format {doc.get('format')!r}")
            counts = {str(k): int(v) for k, v in doc["row_counts"].items()}
            return cls(created_at=str(doc["created_at"]), database=str(doc["database"]),
                       migration=doc["migration"], row_counts=counts, app_version=str(doc["app_version"]))
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise BackupError(f"the backup's manifest is malformed: {e}") from None

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


@dataclass
class RestoreReport:
    manifest: Manifest
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


# --- backup -------------------------------------------------------------------


def create_backup(*, target: Path, engine: Engine | None = None,
                  ring: crypto.Keyring | None = None) -> Manifest:
    """Write an encrypted backup of the database to `target` (a new file, owner-only).

    Runs beside the app. The file appears only when complete: a failed backup
    leaves nothing at `target`.
    """
    engine = engine or db.engine
    ring = ring or crypto.current()
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} already exists: a backup never overwrites a file, give a new name")
    if not target.parent.is_dir():
        raise BackupError(f"the directory {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            stream = crypto.BackupEncryptor(ring, out)
            kind = engine.dialect.name
            if kind == SQLITE:
                manifest = _backup_sqlite(engine, stream)
            elif kind == POSTGRESQL:
                manifest = _backup_postgresql(engine, stream)
            else:
                raise BackupError(f"backups of {kind} databases are not supported")
            stream.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _backup_sqlite(engine: Engine, stream: crypto.BackupEncryptor) -> Manifest:
    path = _sqlite_path(engine)
    with tempfile.TemporaryDirectory(prefix="casework-backup-") as tmp:  # created mode 700
        copy = Path(tmp) / "casework.db"
        source = sqlite3.connect(path, timeout=_busy_timeout_s())
        try:
            dest = sqlite3.connect(copy)
            try:
                # pages=-1: every page in one step, so one read transaction and one committed state.
                source.backup(dest, pages=-1)
                # A self-contained file: no -wal beside it to forget.
                dest.execute("PRAGMA journal_mode=DELETE")
            finally:
                dest.close()
        except sqlite3.Error as e:
            raise BackupError(f"SQLite's online backup of {path} failed: {e}") from None
        finally:
            source.close()
        copy_engine = create_engine(f"sqlite:///{copy}", poolclass=NullPool)
        try:
            with copy_engine.connect() as conn:
                manifest = _manifest(conn, SQLITE)
        finally:
            copy_engine.dispose()
        stream.write(manifest.to_line())
        with open(copy, "rb") as f:
            shutil.copyfileobj(f, stream, crypto.BACKUP_CHUNK)
    return manifest


def _backup_postgresql(engine: Engine, stream: crypto.BackupEncryptor) -> Manifest:
    pg_dump = _pg_tool("pg_dump")
    conninfo, env = _libpq(engine.url)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        # The counts and the dump read the same snapshot, exported while this transaction stays open.
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        manifest = _manifest(conn, POSTGRESQL)
        stream.write(manifest.to_line())
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--dbname", conninfo],
                stdout=subprocess.PIPE, stderr=errors, env=env,
            )
            assert proc.stdout is not None
            try:
                shutil.copyfileobj(proc.stdout, stream, crypto.BACKUP_CHUNK)
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            code = proc.wait()
            if code != 0:
                raise BackupError(f"pg_dump failed (exit {code}): {_tail(errors)}")
    return manifest


def _manifest(conn: Connection, kind: str) -> Manifest:
    return Manifest(
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        database=kind,
        migration=migration_of(conn),
        row_counts=row_counts(conn),
        app_version=__version__,
    )


# --- restore ------------------------------------------------------------------


def read_backup(*, source: Path, workdir: Path, ring: crypto.Keyring | None = None) -> tuple[Manifest, Path]:
    """Authenticate a whole backup file and unpack it: its manifest, and its database in `workdir`."""
    ring = ring or crypto.current()
    payload = Path(workdir) / "database"
    manifest_line = bytearray()
    manifest: Manifest | None = None
    try:
        with open(source, "rb") as f, open(payload, "wb") as out:
            for chunk in crypto.decrypt_backup(ring, f):
                if manifest is None:
                    manifest_line += chunk
                    end = manifest_line.find(b"\n")
                    if end < 0:
                        if len(manifest_line) > MAX_MANIFEST_BYTES:
                            raise BackupError(f"{source}: the backup has no manifest")
                        continue
                    manifest = Manifest.from_line(bytes(manifest_line[:end]))
                    chunk = bytes(manifest_line[end + 1:])
                out.write(chunk)
    except FileNotFoundError:
        raise BackupError(f"{source}: no such file") from None
    except crypto.BackupFileError as e:
        raise BackupError(f"{source}: {e}") from None
    if manifest is None:
        raise BackupError(f"{source}: the backup has no manifest")
    return manifest, payload


def restore_backup(*, source: Path, engine: Engine | None = None,
                   ring: crypto.Keyring | None = None) -> RestoreReport:
    """Restore a backup into the (empty) database and verify it; refusals change nothing.

    Refused: a database that is not empty, a file that does not authenticate
    with this keyring (another keyring's, altered or truncated), a backup of
    the other engine or of another migration than this code's head.
    """
    engine = engine or db.engine
    ring = ring or crypto.current()
    kind = engine.dialect.name
    if kind not in (SQLITE, POSTGRESQL):
        raise BackupError(f"restoring into {kind} databases is not supported")
    _refuse_unless_empty(engine)
    with tempfile.TemporaryDirectory(prefix="casework-restore-") as tmp:
        manifest, payload = read_backup(source=source, workdir=Path(tmp), ring=ring)
        if manifest.database != kind:
            raise BackupError(
                f"{source} is a backup of a {manifest.database} database and cannot be restored into {kind}: "
                f"restore it into an empty {manifest.database} database "
                "(cross-engine restore is not supported)"
            )
        head = head_revision()
        if manifest.migration != head:
            raise BackupError(
                f"{source} was made at migration {manifest.migration}, and this Casework is at {head}: "
                f"restore it with the Casework version it was made with ({manifest.app_version}), "
                "then upgrade with `casework db upgrade`"
            )
        _refuse_unless_empty(engine)
        if kind == SQLITE:
            checks = _restore_sqlite(engine, payload, manifest, ring)
        else:
            checks = _restore_postgresql(engine, payload, manifest, ring)
    return RestoreReport(manifest=manifest, checks=checks)


def _restore_sqlite(engine: Engine, payload: Path, manifest: Manifest, ring: crypto.Keyring) -> list[Check]:
    # Verify the unpacked copy first: a backup that fails is refused before the target is touched.
    copy_engine = create_engine(f"sqlite:///{payload}", poolclass=NullPool)
    try:
        with copy_engine.connect() as conn:
            before = verify(conn, row_counts=manifest.row_counts, ring=ring)
    finally:
        copy_engine.dispose()
    failed = [c for c in before if not c.ok]
    if failed:
        problems = "; ".join(f"{c.name}: {c.detail}" for c in failed)
        raise BackupError(f"the backup's database fails verification ({problems}); nothing was restored")
    source = sqlite3.connect(payload)
    try:
        dest = sqlite3.connect(_sqlite_path(engine), timeout=_busy_timeout_s())
        try:
            source.backup(dest, pages=-1)  # one step: the target gets all of it or none
        finally:
            dest.close()
    except sqlite3.Error as e:
        raise BackupError(f"copying the backup into {_sqlite_path(engine)} failed: {e}") from None
    finally:
        source.close()
    engine.dispose()  # pooled connections were opened on the empty file
    with engine.connect() as conn:
        return verify(conn, row_counts=manifest.row_counts, ring=ring)


def _restore_postgresql(engine: Engine, payload: Path, manifest: Manifest,
                        ring: crypto.Keyring) -> list[Check]:
    conninfo, env = _libpq(engine.url)
    result = subprocess.run(
        [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
         "--dbname", conninfo, str(payload)],
        capture_output=True, env=env, check=False,
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise BackupError(f"pg_restore failed (exit {result.returncode}), and restoring in one transaction "
                          f"left the database as it was: {message}")
    engine.dispose()
    with engine.connect() as conn:
        return verify(conn, row_counts=manifest.row_counts, ring=ring)


def _refuse_unless_empty(engine: Engine) -> None:
    with engine.connect() as conn:
        if conn.dialect.name == SQLITE:
            names = conn.execute(text(
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                "ORDER BY type <> 'table', name")).scalars().all()
        else:
            names = conn.execute(text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%' "
                "AND n.nspname NOT LIKE 'pg_temp%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
                "ORDER BY c.relkind NOT IN ('r', 'p'), c.relname")).scalars().all()
    if names:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise BackupError(
            f"the database is not empty (it has {shown}); nothing was restored. "
            "Restore only into a new, empty database (create it, and do not run `casework db upgrade` on it)"
        )


# --- helpers ------------------------------------------------------------------


def _sqlite_path(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError("only a SQLite database in a file can be backed up or restored")
    return path


def _busy_timeout_s() -> float:
    ms = current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 10_000) if has_app_context() else 10_000
    return ms / 1000


def _pg_tool(name: str) -> str:
    """pg_dump or pg_restore: from PG_BIN_DIR if set, else the newest installed, else the PATH."""
    configured = current_app.config.get("PG_BIN_DIR") if has_app_context() else None
    candidates = [os.path.join(configured, name)] if configured else []
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                      key=lambda p: [int(x) for x in p.split("/")[4].split(".") if x.isdigit()], reverse=True)
    candidates += versions + [shutil.which(name) or ""]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(f"{name} was not found: install the PostgreSQL client tools or set CASEWORK_PG_BIN_DIR")


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for the database, with the password passed in the environment, not argv."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _tail(f: IO[bytes]) -> str:
    f.seek(0)
    return f.read().decode("utf-8", "replace").strip()[-2000:] or "no message"


def describe(manifest: Manifest) -> str:
    return (f"{manifest.database} database at migration {manifest.migration}, "
            f"{len(manifest.row_counts)} tables, "
            f"{manifest.total_rows} rows, made {manifest.created_at} by Casework {manifest.app_version}")

