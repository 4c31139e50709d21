"""Key management: which key seals what, rotating the data key, rotating the blind-index keys,
retiring a data key.

Every encrypted column is found generically (each mapped class's `Secret` attributes), so a
new model with encrypted fields is covered without a change here.

Unlike other services these functions commit: a rotation is a long job that runs beside the
web app and may be killed at any moment, so it works in batches, each its own transaction.

Data-key rotation (`rotate_data_key`)
    1. When every value is already under the active key, a new active key is made and the
       keyring saved (atomically, owner-only) BEFORE anything is sealed under it.
       When values remain under older keys a rotation is in progress: it is resumed and no
       new key is made. So a rerun after a kill resumes; `resume_only=True` never makes a key.
    2. Rows holding any value not under the active key are re-sealed in batches, one
       transaction each: a kill loses at most the batch in hand, and those values are still
       under their old key, which stays in the keyring until `retire_data_key`.
    Each re-sealed value is decrypted again before it is written, and written only if the
    cell still holds the ciphertext it was read from (a concurrent edit wins; a later pass
    picks it up if needed).

Blind-index rotation (`rotate_index_keys`)
    Pending index keys are saved to the keyring first; then every person's indexes (all of
    `crypto.PersonIndexes`: the surname's parts and the first forename too, whose keys are
    derived from the pending surname and full-name keys) are
    recomputed under them in ONE transaction (all or nothing; on PostgreSQL the person table
    is locked against writers meanwhile, SQLite's write lock does it there), committed, and
    only then are the pending keys made current and the keyring saved. The records' import
    digests (`casework.exchange.digest`), keyed from the index keys, are cleared in that
    transaction. A kill between the
    commit and that save leaves the keyring with pending keys: `status` warns, and a rerun
    recomputes under the same pending keys (idempotent) and finishes.

Running web workers take up a rewritten keyring file on their next use of the keys
(`crypto.current` reloads it when it changes), so they read values under the new key at once.
A lock file beside the keyring keeps two key operations from running at the same time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    LargeBinary,
    Table,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)

from .. import crypto
from ..db import db
from ..models import Base, Person, secret_columns

DEFAULT_BATCH_SIZE = 1000
# Passes over the tables before giving up on values that concurrent writers keep re-sealing
# under an old key (a web worker that has not yet taken up the new keyring).
MAX_PASSES = 3


class KeyManagementError(Exception):
    """A key operation was refused or could not be completed."""


class _Bar(Protocol):
    def update(self, n_steps: int) -> None: ...


class Progress(Protocol):
    """Makes a progress bar; `click.progressbar` is one."""

    def __call__(self, *, length: int, label: str) -> AbstractContextManager[_Bar]: ...


class _NoBar:
    def update(self, n_steps: int) -> None:
        pass


@contextlib.contextmanager
def _no_progress(*, length: int, label: str) -> Iterator[_Bar]:
    yield _NoBar()


# --- the encrypted columns ---------------------------------------------------------------


@dataclass(frozen=True)
class SealedColumn:
    """One encrypted column: `table.name` in the database, `<name>_sealed` on the model."""

    model: type
    name: str
    column: Column[Any]

    @property
    def table(self) -> Table:
        return self.column.table

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.name}"


def sealed_columns() -> list[SealedColumn]:
    """Every encrypted column of every mapped model, in a stable order."""
    found: dict[tuple[str, str], SealedColumn] = {}
    for mapper in Base.registry.mappers:
        for name in secret_columns(mapper.class_):
            column = mapper.attrs[f"{name}_sealed"].columns[0]
            # Subclasses sharing a table share its columns: count each once.
            found.setdefault((column.table.name, column.name), SealedColumn(mapper.class_, name, column))
    return [found[k] for k in sorted(found)]


def _by_table() -> dict[str, list[SealedColumn]]:
    tables: dict[str, list[SealedColumn]] = {}
    for sc in sealed_columns():
        tables.setdefault(sc.table.name, []).append(sc)
    return tables


def _header(column: Column[Any]) -> Any:
    # substr counts bytes on SQLite BLOBs and PostgreSQL bytea alike; literal positions so that
    # PostgreSQL sees the same expression in SELECT and GROUP BY.
    return func.substr(column, literal_column("1"), literal_column(str(crypto.HEADER.size)), type_=LargeBinary)


def _key_id_bytes(column: Column[Any]) -> Any:
    return func.substr(column, literal_column("2"), literal_column("4"), type_=LargeBinary)


def _packed_key_id(key_id: int) -> bytes:
    return crypto.HEADER.pack(crypto.FORMAT_VERSION, key_id)[1:]


def _not_under(column: Column[Any], key_id: int) -> Any:
    return and_(column.isnot(None), _key_id_bytes(column) != _packed_key_id(key_id))


def _under(column: Column[Any], key_id: int) -> Any:
    return and_(column.isnot(None), _key_id_bytes(column) == _packed_key_id(key_id))


def _count(where: Any, columns: list[SealedColumn]) -> int:
    return sum(db.session.scalar(select(func.count()).select_from(sc.table).where(where(sc.column))) or 0
               for sc in columns)


def values_not_under(key_id: int) -> int:
    """How many stored values are sealed under some key other than `key_id`."""
    return _count(lambda c: _not_under(c, key_id), sealed_columns())


def values_under(key_id: int) -> int:
    """How many stored values are sealed under `key_id`."""
    return _count(lambda c: _under(c, key_id), sealed_columns())


# --- status ---------------------------------------------------------------------------------


@dataclass
class KeyStatus:
    active: int
    keys: list[int]
    # (table.column, key id) -> number of values; key id None for a value whose header is
    # not a known format (it cannot be read by any key).
    counts: dict[tuple[str, int | None], int] = field(default_factory=dict)
    index_rotation_pending: bool = False

    def total_under(self, key_id: int | None) -> int:
        return sum(n for (_, k), n in self.counts.items() if k == key_id)

    @property
    def remaining(self) -> int:
        """Values not yet under the active key: a data-key rotation is unfinished while > 0."""
        return sum(n for (_, k), n in self.counts.items() if k != self.active)


def status(*, ring: crypto.Keyring) -> KeyStatus:
    """Count the stored values under each key, column by column (from the ciphertext headers)."""
    ring.reload_if_changed()
    db.session.flush()
    result = KeyStatus(active=ring.active, keys=sorted(ring.data_keys),
                       index_rotation_pending=bool(ring.pending_index_keys))
    for sc in sealed_columns():
        header = _header(sc.column)
        rows = db.session.execute(
            select(header, func.count()).where(sc.column.isnot(None)).group_by(header)
        ).all()
        for raw, n in rows:
            raw = bytes(raw)
            key_id: int | None = None
            if len(raw) == crypto.HEADER.size:
                version, kid = crypto.HEADER.unpack(raw)
                key_id = kid if version == crypto.FORMAT_VERSION else None
            result.counts[(sc.label, key_id)] = result.counts.get((sc.label, key_id), 0) + n
    return result


# --- locking and saving the keyring ---------------------------------------------------------


@contextlib.contextmanager
def _exclusive(keyring_file: str | os.PathLike[str]) -> Iterator[None]:
    """One key operation at a time (two rotations could each make a different key N)."""
    lock_path = Path(f"{keyring_file}.lock")
    lock_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KeyManagementError(
                f"another key operation is running (it holds {lock_path}); wait for it to finish"
            ) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


# --- data-key rotation ----------------------------------------------------------------------


@dataclass(frozen=True)
class RotationResult:
    key_id: int  # the active key at the end
    new_key: bool  # whether this run made it
    resealed: int  # values re-sealed by this run
    remaining: int  # values still under older keys (0 unless concurrent writers raced us)


def rotate_data_key(
    *,
    ring: crypto.Keyring,
    keyring_file: str | os.PathLike[str],
    batch_size: int = DEFAULT_BATCH_SIZE,
    resume_only: bool = False,
    progress: Progress | None = None,
) -> RotationResult:
    """Move every stored value under the active key, first making a new one unless a rotation
    is already in progress (values remain under older keys), which is then resumed.

    Commits once per batch. A value that cannot be decrypted stops the run with a
    `DecryptionError` naming its cell; the batches before it stay committed.
    """
    if batch_size < 1:
        raise KeyManagementError("the batch size must be at least 1")
    progress = progress or _no_progress
    db.session.flush()  # Core statements below do not autoflush
    with _exclusive(keyring_file):
        ring.reload_if_changed()  # another process may have rotated since this one started
        new_key = False
        if values_not_under(ring.active) == 0:
            if resume_only:
                return RotationResult(key_id=ring.active, new_key=False, resealed=0, remaining=0)
            _add_key_and_save(ring, keyring_file)
            new_key = True
        db.session.commit()  # end the counting transaction: each batch gets its own
        resealed = 0
        for _ in range(MAX_PASSES):
            for columns in _by_table().values():
                resealed += _reseal_table(ring, columns, batch_size, progress)
            remaining = values_not_under(ring.active)
            db.session.commit()
            if remaining == 0:
                break
        return RotationResult(key_id=ring.active, new_key=new_key, resealed=resealed, remaining=remaining)


def _add_key_and_save(ring: crypto.Keyring, keyring_file: str | os.PathLike[str]) -> None:
    previous = ring.active
    new_id = ring.add_data_key()
    try:
        ring.save(keyring_file)
    except BaseException:
        # Nothing may be sealed under a key that is not safely on disk.
        ring.active = previous
        ring.data_keys.pop(new_id, None)
        raise


def _reseal_table(ring: crypto.Keyring, columns: list[SealedColumn], batch_size: int, progress: Progress) -> int:
    table = columns[0].table
    active = ring.active
    needs_work = or_(*(_not_under(sc.column, active) for sc in columns))
    total = db.session.scalar(select(func.count()).select_from(table).where(needs_work)) or 0
    if total == 0:
        return 0
    # Re-sealing is not an edit: leave columns such as updated_at as they are.
    keep = {c.key: c for c in table.c if c.onupdate is not None}
    updates = {
        sc.name: update(table)
        .where(table.c.id == bindparam("row_id"), sc.column == bindparam("old"))
        .values({sc.column.key: bindparam("new"), **keep})
        for sc in columns
    }
    resealed = 0
    last_id: uuid.UUID | None = None
    with progress(length=total, label=f"Re-encrypting {table.name}") as bar:
        while True:
            query = select(table.c.id, *(sc.column for sc in columns)).where(needs_work)
            if last_id is not None:
                query = query.where(table.c.id > last_id)
            rows = db.session.execute(query.order_by(table.c.id).limit(batch_size)).all()
            if not rows:
                break
            params: dict[str, list[dict[str, Any]]] = {sc.name: [] for sc in columns}
            for row in rows:
                for sc, old in zip(columns, row[1:], strict=True):
                    if old is None or _sealed_under(bytes(old), active):
                        continue
                    params[sc.name].append({"row_id": row[0], "old": bytes(old),
                                            "new": _reseal_checked(ring, bytes(old), sc, row[0])})
            for name, batch in params.items():
                if batch:
                    db.session.execute(updates[name], batch)
                    resealed += len(batch)
            db.session.commit()
            last_id = rows[-1][0]
            bar.update(len(rows))
    return resealed


def _sealed_under(sealed: bytes, key_id: int) -> bool:
    try:
        return crypto.key_id_of(sealed) == key_id
    except crypto.DecryptionError:
        return False  # malformed: `_reseal_checked` reports it with its cell


def _reseal_checked(ring: crypto.Keyring, old: bytes, sc: SealedColumn, row_id: uuid.UUID) -> bytes:
    table, column = sc.table.name, sc.name
    plain = crypto.unseal(ring, old, table=table, column=column, row_id=row_id)
    new = crypto.seal(ring, plain, table=table, column=column, row_id=row_id)
    if crypto.unseal(ring, new, table=table, column=column, row_id=row_id) != plain:  # never write a value we could not read back
        raise KeyManagementError(f"{sc.label} of row {row_id}: the re-sealed value does not read back")
    return new


# --- retiring a data key --------------------------------------------------------------------


def retire_data_key(*, ring: crypto.Keyring, keyring_file: str | os.PathLike[str], key_id: int) -> None:
    """Remove a data key from the keyring; refused while any stored value is sealed under it."""
    db.session.flush()  # Core statements below do not autoflush
    with _exclusive(keyring_file):
        ring.reload_if_changed()
        if key_id not in ring.data_keys:
            known = ", ".join(str(k) for k in sorted(ring.data_keys))
            raise KeyManagementError(f"there is no data key {key_id} in the keyring (it holds {known})")
        if key_id == ring.active:
            raise KeyManagementError(f"key {key_id} is the active key: rotate to a new key before retiring it")
        left = values_under(key_id)
        if left:
            raise KeyManagementError(
                f"{left} stored value(s) are still sealed under key {key_id}: "
                "run `casework keys rotate` to finish moving them first"
            )
        material = ring.data_keys[key_id]
        ring.retire_data_key(key_id)
        try:
            ring.save(keyring_file)
        except BaseException:
            ring.data_keys[key_id] = material
            raise


# --- blind-index rotation -------------------------------------------------------------------


@dataclass(frozen=True)
class IndexRotationResult:
    people: int  # people whose indexes were recomputed
    resumed: bool  # whether pending keys from an interrupted run were used


_INDEX_FIELDS = tuple(f.name for f in dataclasses.fields(crypto.PersonIndexes))
_INDEXED_VALUES = ("surname", "forenames", "date_of_birth", "postcode")


def rotate_index_keys(
    *,
    ring: crypto.Keyring,
    keyring_file: str | os.PathLike[str],
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> IndexRotationResult:
    """Replace the blind-index keys and recompute every person's indexes under them, atomically."""
    if batch_size < 1:
        raise KeyManagementError("the batch size must be at least 1")
    progress = progress or _no_progress
    db.session.flush()  # Core statements below do not autoflush
    with _exclusive(keyring_file):
        ring.reload_if_changed()
        resumed = bool(ring.pending_index_keys)
        if not resumed:
            ring.begin_index_rotation()
            try:
                ring.save(keyring_file)  # the pending keys must be on disk before any index uses them
            except BaseException:
                ring.pending_index_keys = None
                raise
        db.session.commit()  # start the one transaction the recomputation runs in
        people = _recompute_indexes(ring, batch_size, progress)
        _forget_import_digests()
        db.session.commit()
        ring.finish_index_rotation()
        ring.save(keyring_file)
        return IndexRotationResult(people=people, resumed=resumed)


def _forget_import_digests() -> None:
    """Clear every record's import digest (`casework.exchange.digest`), in the rotation's transaction:
    its key is derived from the index keys being retired, and nothing keyed by a retired key is kept.
    The next import compares each record in full, once, and stores its digest under the new key.
    Not an edit (`updated_at` stays), and through the connection: nothing the stored figures read
    changes."""
    connection = db.session.connection()
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if isinstance(table, Table) and "import_digest" in table.c:
            connection.execute(update(table).where(table.c.import_digest.is_not(None))
                               .values(import_digest=None, import_digest_at=None, updated_at=table.c.updated_at))
        if isinstance(table, Table) and "parties_digest" in table.c:  # an incident's parties: the same key
            connection.execute(update(table).where(table.c.parties_digest.is_not(None))
                               .values(parties_digest=None, parties_at=None, updated_at=table.c.updated_at))


def _recompute_indexes(ring: crypto.Keyring, batch_size: int, progress: Progress) -> int:
    table: Table = Person.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        # Writers would index new people under the old keys while we work: hold them off.
        db.session.execute(text("LOCK TABLE person IN SHARE ROW EXCLUSIVE MODE"))
    secrets_of = secret_columns(Person)
    value_columns = [getattr(Person, f"{name}_sealed").property.columns[0] for name in _INDEXED_VALUES]
    keep = {c.key: c for c in table.c if c.onupdate is not None}
    statement = (update(table).where(table.c.id == bindparam("row_id"))
                 .values({f"bi_{f}": bindparam(f"new_{f}") for f in _INDEX_FIELDS} | keep))
    total = db.session.scalar(select(func.count()).select_from(table)) or 0
    done = 0
    last_id: uuid.UUID | None = None
    with progress(length=total, label="Recomputing blind indexes") as bar:
        while True:
            query = select(table.c.id, table.c.merged_into_id, *value_columns)
            if last_id is not None:
                query = query.where(table.c.id > last_id)
            rows = db.session.execute(query.order_by(table.c.id).limit(batch_size)).all()
            if not rows:
                break
            params = []
            for row in rows:
                values: dict[str, Any] = {}
                if row.merged_into_id is not None:  # a merged record matches no search, as its flush leaves it
                    params.append({"row_id": row[0], **{f"new_{f}": None for f in _INDEX_FIELDS}})
                    continue
                for name, sealed in zip(_INDEXED_VALUES, row[2:], strict=True):
                    values[name] = None if sealed is None else crypto.decode_plain(
                        crypto.unseal(ring, bytes(sealed), table=table.name, column=name, row_id=row[0]),
                        secrets_of[name].kind,
                    )
                idx = crypto.person_indexes(ring, pending=True, **values)
                params.append({"row_id": row[0], **{f"new_{f}": getattr(idx, f) for f in _INDEX_FIELDS}})
            db.session.execute(statement, params)
            done += len(rows)
            last_id = rows[-1][0]
            bar.update(len(rows))
    return done
