"""Writing many rows fast: ids made in batches, and INSERTs sent to the driver as executemany
through the session's own connection (so within its transaction), bypassing Core's per-row
statement machinery, which costs more than the database itself at a million rows."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import uuid
from collections.abc import Callable, Iterator
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Boolean, Date, Enum, LargeBinary, Table, Uuid, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from ..models.base import UTCDateTime, new_ids, uuid_of_int

GENERATED_PREFIX = "casework:"

# SQLite's page cache while an import writes (the default is 2 MiB): with millions of rows the
# indexes' pages are otherwise read and spilled again and again. Memory is taken only as used.
SQLITE_CACHE_KIB = 128 * 1024


@contextlib.contextmanager
def sqlite_cache(session: Session, kib: int) -> Iterator[None]:
    """A larger page cache on the session's SQLite connection for the duration (a setting of the
    connection alone, safe inside the transaction; restored after)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {before}")


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector, for the duration, as the import's other processes have it
    (`apart._fewer_collections`): what the process holds already is left out of every collection,
    and the youngest generation is collected once 50,000 containers are allocated, not 700. The
    writer makes millions of short-lived rows and holds large maps of refs to ids, which every
    older collection would walk again (a quarter of a re-import's time, measured)."""
    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def generated_ref(record_id: uuid.UUID) -> str:
    """The ref an export gives a record its agency has no ref for."""
    return f"{GENERATED_PREFIX}{record_id}"


def generated_id(ref: str) -> uuid.UUID | None:
    """The record id inside a generated ref, or None for any other ref."""
    if not ref.startswith(GENERATED_PREFIX):
        return None
    try:
        return uuid.UUID(ref[len(GENERATED_PREFIX):])
    except ValueError:
        return None


class Ids:
    """New record ids (`casework.models.base.new_ids`, time-ordered) made a batch at a time and
    handed out in ascending order."""

    def __init__(self, batch: int = 4096) -> None:
        self.batch = batch
        self.pool: list[uuid.UUID] = []
        self.last = 0

    def __call__(self) -> uuid.UUID:
        if not self.pool:
            self.pool = new_ids(self.batch, after_millisecond=self.last >> 80)
            self.last = self.pool[-1].int
            self.pool.reverse()  # pop() takes from the end
        return self.pool.pop()


class DeferredIndexes:
    """The secondary indexes `deferred_indexes` dropped: `build(table)` builds a table's again as soon
    as it is loaded; the rest are built when the block ends."""

    def __init__(self, session: Session, indexes: list[Any]) -> None:
        self.session = session
        self.pending = indexes

    def build(self, table: Table | None = None) -> None:
        """Build the dropped indexes of `table` (of every table: None) now."""
        connection = self.session.connection()
        for index in [i for i in self.pending if table is None or i.table is table]:
            index.create(bind=connection)
            self.pending.remove(index)


@contextlib.contextmanager
def deferred_indexes(session: Session, tables: list[Table]) -> Iterator[DeferredIndexes]:
    """On SQLite, the tables' secondary (non-unique) indexes are dropped while rows are loaded
    and built again (by the end of the block, or when `build` is called), in the same transaction:
    building an index from all its rows at once costs a fraction of keeping it up to date row by row
    (the person table has seven), and a crash or kill rolls the drop back with everything else.
    Unique indexes stay, so every constraint is checked as rows arrive. PostgreSQL: nothing is
    deferred (DROP INDEX would lock readers out of the table until the import commits)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or not tables:
        yield DeferredIndexes(session, [])
        return
    indexes = [index for table in tables for index in sorted(table.indexes, key=lambda i: str(i.name))
               if not index.unique]
    for index in indexes:
        index.drop(bind=connection)
    deferred = DeferredIndexes(session, indexes)
    try:
        yield deferred
    finally:
        deferred.build()


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]], *, now: dt.datetime) -> None:
    """INSERT the rows (dicts with the same keys) into `table`: one executemany on SQLite, one COPY on
    PostgreSQL, in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    names, params = driver_rows(table, rows, dialect=connection.dialect, now=now)
    insert_params(session, table, names, params)


def driver_rows(table: Table, rows: list[dict[str, Any]], *, dialect: Any, now: dt.datetime,
                text: bool = False) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The rows (dicts with the same keys) as the driver takes them: the column names, and a tuple of
    values per row, converted as SQLAlchemy's bind processing would (ids as 32 hex digits and dates as
    ISO text on SQLite). `text=True` gives ids and dates as text on PostgreSQL too (COPY parses them):
    plain strings cross from one process to another cheaply."""
    names = list(rows[0])
    # The values in column order, then the columns that need converting converted (an explicit loop:
    # a generator per row costs twice as much at millions of rows).
    values_of = itemgetter(*names)
    convert = [(i, f) for i, n in enumerate(names)
               if (f := _processor(table.c[n].type, dialect, now, text=text)) is not None]
    params = []
    for row in rows:
        values = list(values_of(row)) if len(names) > 1 else [values_of(row)]
        for i, f in convert:
            if (v := values[i]) is not None:
                values[i] = f(v)
        params.append(tuple(values))
    return names, params


def insert_params(session: Session, table: Table, names: list[str], params: list[tuple[Any, ...]]) -> None:
    """INSERT rows given as `driver_rows` makes them: one executemany on SQLite, one COPY on
    PostgreSQL, through the session's connection (so within its transaction)."""
    if not params:
        return
    connection = session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(n) for n in names)
    if dialect.name == "postgresql":
        # COPY: one stream of rows, not a statement per row (psycopg adapts each value by its type).
        driver: Any = connection.connection.driver_connection  # (psycopg's, always there while connected)
        with driver.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
            for values in params:
                copy.write_row(values)
        return
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({columns}) "
                               f"VALUES ({', '.join([marker] * len(names))})", params)


def _processor(kind: Any, dialect: Any, now: dt.datetime, *, text: bool = False) -> Callable[[Any], Any] | None:
    """How a value goes to the driver: as SQLAlchemy's bind processing sends it, with the common
    types done directly (they are millions of calls)."""
    if isinstance(kind, UTCDateTime):
        # Every timestamp an import writes is the same instant: convert it once.
        process = kind._cached_bind_processor(dialect) or (lambda value: value)
        converted = process(now)
        return lambda value: converted if value is now else process(value)
    if isinstance(kind, Enum):
        return attrgetter("value")  # the enum's value, as enum_column stores it
    if isinstance(kind, (Boolean, LargeBinary)):
        return None  # both drivers take bool and bytes as they are
    if dialect.name == "sqlite":
        if isinstance(kind, Uuid):
            return attrgetter("hex")  # SQLite keeps a UUID as 32 hex digits
        if isinstance(kind, Date):
            return dt.date.isoformat
    elif text:
        if isinstance(kind, Uuid):
            return str
        if isinstance(kind, Date):
            return dt.date.isoformat
    processor: Callable[[Any], Any] | None = kind._cached_bind_processor(dialect)
    return processor


# --- reading many rows fast ---------------------------------------------------------


def as_driver_gives(column: Any) -> ColumnElement[Any]:
    """The column read as the driver gives it, without SQLAlchemy's result processing (on SQLite a
    UUID is 32 hex digits and a timestamp text): `as_uuid` and `as_utc` convert them several times
    faster, which counts at millions of rows."""
    return type_coerce(column, NullType()).label(column.name)


def as_uuid(value: Any) -> uuid.UUID:
    """A record id read through `as_driver_gives`."""
    return value if type(value) is uuid.UUID else uuid_of_int(int(value, 16))


def as_utc(value: Any) -> dt.datetime:
    """A timestamp read through `as_driver_gives`: SQLite's text (naive, in UTC) or PostgreSQL's aware
    datetime, as an aware datetime."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
