"""Which rows of a re-imported data set are what their records hold, found for a whole file at once.

A partner's extract comes again and again, and nearly all of its rows are unchanged. Each such row
would cost a lookup, a digest and a comparison in the writing (`importer.Writer`); here they are
found before the writing, without parsing a cell: the file's rows are read as CSV, each row's import
digest (`digest`) is computed from its cells, the refs and digests go into a temporary table, and
one query says which refs lead to a record whose digest is the row's and which nobody has changed
since (its `updated_at` is still `import_digest_at`). The writing then passes over those rows
unparsed (`reader.read_rows`, `wanted`) and counts them unchanged; everything else is written as
before. An incident is passed over only with its parties: its row unchanged, and its rows in
parties.csv the same (the sum of their digests and their number) as the parties the last import
left, none changed since (the latest `updated_at` of its parties is still `parties_at`).

Never passed over, so always compared in full as before (`importer`): a row whose ref (or, for an
incident, one of its parties' refs) is a `casework:<id>` ref (the agency's right to name that record
is checked row by row: `usable`); a record the import leaves as it is (restricted, or another
agency's: counted as such); a record two of the agency's refs lead to (records merged in Casework).

The rows are read again by the check (`validate`, the same checks as ever): a file that is not
good fails the import whatever was found here, and nothing is written.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from ..models import RecordKind
from .bulk import GENERATED_PREFIX, insert_params
from .digest import Digests, incident_context, parties_digest
from .reader import open_data_file
from .records import INCIDENT, PARTY, PERSON, SOURCE_REF, Records
from .schema import INCIDENTS, PARTIES, PEOPLE, FileSpec

BATCH = 10_000  # rows sent to the temporary table at a time

SEEN = Table("casework_import_seen", MetaData(), Column("ref", String), Column("digest", LargeBinary),
             Column("parties", LargeBinary), Column("parties_count", Integer))


@contextmanager
def raw_rows(path: Path) -> Iterator[tuple[list[str], Iterator[list[str]]]]:
    """A file's header and rows as CSV cells, as given (nothing parsed or checked: the check does that)."""
    with open_data_file(path) as stream, io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape",
                                                          newline="") as text:
        reader = csv.reader(text)
        yield next(reader, []), reader


class PartySums(NamedTuple):
    """The rows of parties.csv by incident ref: each incident's sum of its rows' digests and their
    number (`packed`: the sum shifted up 32 bits, plus the number), and the incidents one of whose
    rows holds a `casework:<id>` ref."""

    packed: dict[str, int]
    generated: set[str]

    def count(self, incident_ref: str) -> int:
        """The incident's number of rows."""
        return self.packed.get(incident_ref, 0) & 0xFFFFFFFF

    def digest(self, incident_ref: str) -> tuple[bytes | None, int]:
        """The incident's parties digest (None when it has no row) and its number of rows."""
        packed = self.packed.get(incident_ref)
        if packed is None:
            return None, 0
        return parties_digest(packed >> 32), packed & 0xFFFFFFFF


def party_sums(path: Path, digests: Digests) -> PartySums:
    """Read parties.csv once (`PartySums`); one definition for the first import (`prepare`), which
    stores each new incident's parties digest, and for a re-import, which compares them."""
    packed: dict[str, int] = {}
    generated: set[str] = set()
    with raw_rows(path) as (header, rows):
        prefix = digests.prefix(PARTY.name, tuple(header))
        at = _positions(header, PARTIES, "incident_ref", "person_ref")
        if at is None:
            return PartySums(packed, generated)
        incident_at, person_at = at
        width = len(header)
        row_digest = digests.row
        get = packed.get
        for cells in rows:
            if len(cells) != width:
                continue  # the check reports it
            ref = cells[incident_at].strip()
            packed[ref] = get(ref, 0) + ((int.from_bytes(row_digest(prefix, cells)) << 32) | 1)
            if ref.startswith(GENERATED_PREFIX) or cells[person_at].strip().startswith(GENERATED_PREFIX):
                generated.add(ref)
    return PartySums(packed, generated)


def passing_over(path: Path, spec: FileSpec, column: str, refs: set[str],
                 counts: Any) -> Callable[[list[str]], bool] | None:
    """For `reader.read_rows`'s `wanted`: refuses the rows whose `column` holds one of `refs` (found
    unchanged), counting each in `counts.unchanged`. None when there is nothing to pass over."""
    if not refs:
        return None
    with raw_rows(path) as (header, _rows):
        at = _positions(header, spec, column)
    if at is None:
        return None
    (ref_at,) = at

    def wanted(cells: list[str]) -> bool:
        if cells[ref_at].strip() in refs:
            counts.unchanged += 1
            return False
        return True

    return wanted


def _positions(header: list[str], spec: FileSpec, *names: str) -> tuple[int, ...] | None:
    """Where the named columns are in the header (as the reader finds them), or None when one is missing."""
    stripped = [name.strip() for name in header]
    if any(name not in stripped for name in names):
        return None
    return tuple(stripped.index(name) for name in names)


class Unchanged:
    """Finds the unchanged rows of one agency's re-imported people.csv and incidents.csv."""

    def __init__(self, session: Session, *, agency_id: uuid.UUID, make: Records) -> None:
        self.session = session
        self.agency_id = agency_id
        self.make = make
        self.digests = make.digests

    def people(self, path: Path) -> set[str]:
        """The refs of people.csv whose rows are what their records hold."""
        with raw_rows(path) as (header, rows):
            at = _positions(header, PEOPLE, "person_ref")
            if at is None:
                return set()
            prefix, width, (ref_at,) = self.digests.prefix(PERSON.name, tuple(header)), len(header), at
            row_digest = self.digests.row

            def seen() -> Iterator[tuple[Any, ...]]:
                for cells in rows:
                    if len(cells) == width and not (ref := cells[ref_at].strip()).startswith(GENERATED_PREFIX):
                        yield ref, row_digest(prefix, cells), None, 0

            return self._same(PERSON, RecordKind.PERSON, seen())

    def incidents(self, path: Path, parties: PartySums | None) -> set[str]:
        """The refs of incidents.csv whose rows, and rows in parties.csv (`parties`; None when the data
        set has no parties.csv, whose incidents keep their parties), are what the database holds."""
        with raw_rows(path) as (header, rows):
            at = _positions(header, INCIDENTS, "incident_ref", "area", "locality")
            if at is None:
                return set()
            prefix, width, (ref_at, area_at, locality_at) = (self.digests.prefix(INCIDENT.name, tuple(header)),
                                                             len(header), at)
            row_digest, areas, locality = self.digests.row, self.make.areas, self.make.locality
            generated = parties.generated if parties is not None else set()

            def seen() -> Iterator[tuple[Any, ...]]:
                for cells in rows:
                    if len(cells) != width or (ref := cells[ref_at].strip()).startswith(GENERATED_PREFIX):
                        continue
                    if ref in generated:
                        continue
                    # What `Records.incident` takes from the database: the area's id, the locality's spelling.
                    area = cells[area_at].strip()
                    area_id = (areas.get(area) or uuid.UUID(int=0)) if area else None
                    context = incident_context(area_id, locality(cells[locality_at].strip() or None))
                    digest, count = parties.digest(ref) if parties is not None else (None, -1)
                    yield ref, row_digest(prefix, cells, context), digest, count

            return self._same(INCIDENT, RecordKind.INCIDENT, seen())

    def _same(self, table: Table, kind: RecordKind, seen: Iterator[tuple[Any, ...]]) -> set[str]:
        """Of the (ref, digest, parties digest, number of parties) rows, the refs whose records match."""
        connection = self.session.connection()
        postgres = connection.dialect.name == "postgresql"
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SEEN.name}")
        blob = "bytea" if postgres else "blob"
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {SEEN.name} (ref text, digest {blob}, "
                                   f"parties {blob}, parties_count integer)")
        try:
            names = [c.name for c in SEEN.c]
            batch: list[tuple[Any, ...]] = []
            for row in seen:
                batch.append(row)
                if len(batch) >= BATCH:
                    insert_params(self.session, SEEN, names, batch)
                    batch = []
            insert_params(self.session, SEEN, names, batch)
            # Without an index or statistics, a planner may scan the whole table for each of the agency's
            # refs (SQLite did: minutes at 200,000 rows).
            connection.exec_driver_sql(f"CREATE INDEX {SEEN.name}_ref ON {SEEN.name} (ref)")
            connection.exec_driver_sql(f"ANALYZE {SEEN.name}")
            return set(connection.execute(self._query(table, kind)).scalars())
        finally:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SEEN.name}")

    def _query(self, table: Table, kind: RecordKind) -> Any:
        sr, other = SOURCE_REF, SOURCE_REF.alias("other_ref")
        conditions = [
            table.c.import_digest == SEEN.c.digest,
            table.c.import_digest_at == table.c.updated_at,
            # Not left as it is (`Writer._protected`): the agency's own, not restricted.
            table.c.owner_agency_id == self.agency_id,
            table.c.restricted.is_(false()),
            # Reached by no other ref of the agency (records merged in Casework).
            ~exists().where(other.c.agency_id == self.agency_id, other.c.kind == kind,
                            other.c.record_id == table.c.id, other.c.ref != sr.c.ref),
        ]
        if table is INCIDENT:
            party = PARTY
            count = select(func.count()).where(party.c.incident_id == table.c.id).scalar_subquery()
            latest = select(func.max(party.c.updated_at)).where(party.c.incident_id == table.c.id).scalar_subquery()
            conditions.append(or_(
                SEEN.c.parties_count == -1,  # no parties.csv: the incident's parties are not the data set's
                and_(SEEN.c.parties_count == 0, ~exists().where(party.c.incident_id == table.c.id)),
                and_(SEEN.c.parties_count > 0, table.c.parties_digest == SEEN.c.parties,
                     count == SEEN.c.parties_count, table.c.parties_at == latest)))
        return (select(SEEN.c.ref)
                .join(sr, and_(sr.c.agency_id == self.agency_id, sr.c.kind == kind, sr.c.ref == SEEN.c.ref))
                .join(table, table.c.id == sr.c.record_id)
                .where(*conditions))
