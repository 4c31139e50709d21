"""Which rows of a re-imported data set are what their records hold, found for a whole file at once.

A partner's extract comes again and again, and nearly all of its rows are unchanged. Each such row
would cost a lookup, a digest and a comparison in the writing (`importer.Writer`); here they are
found before the writing, without parsing a cell: the file's rows are read as CSV, each row's import
digest (`digest`) is computed from its cells, and one query reads the agency's records that nobody
has changed since their digest was stored (their `updated_at` is still `import_digest_at`), with
their refs and digests, to compare. The writing then passes over those rows
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

from sqlalchemy import Table, exists, false, func, select
from sqlalchemy.orm import Session

from ..models import RecordKind
from .bulk import GENERATED_PREFIX
from .digest import Digests, incident_context, parties_digest
from .reader import open_data_file
from .records import INCIDENT, PARTY, PERSON, SOURCE_REF, Records
from .schema import INCIDENTS, PARTIES, PEOPLE, FileSpec


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
    rows: int  # the file's rows (blank lines aside)

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
            return PartySums(packed, generated, -1)
        incident_at, person_at = at
        read = 0
        width = len(header)
        row_digest = digests.row
        get = packed.get
        for cells in rows:
            read += bool(cells)
            if len(cells) != width:
                continue  # the check reports it
            ref = cells[incident_at].strip()
            packed[ref] = get(ref, 0) + ((int.from_bytes(row_digest(prefix, cells)) << 32) | 1)
            if ref.startswith(GENERATED_PREFIX) or cells[person_at].strip().startswith(GENERATED_PREFIX):
                generated.add(ref)
    return PartySums(packed, generated, read)


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
        self.rows: dict[str, int] = {}  # the rows (blank lines aside) of each file read, by name

    def people(self, path: Path) -> set[str]:
        """The refs of people.csv whose rows are what their records hold."""
        with raw_rows(path) as (header, rows):
            at = _positions(header, PEOPLE, "person_ref")
            if at is None:
                return set()
            prefix, width, (ref_at,) = self.digests.prefix(PERSON.name, tuple(header)), len(header), at
            row_digest = self.digests.row

            def seen() -> Iterator[tuple[Any, ...]]:
                read = 0
                for cells in rows:
                    read += bool(cells)
                    if len(cells) == width and not (ref := cells[ref_at].strip()).startswith(GENERATED_PREFIX):
                        yield ref, row_digest(prefix, cells), None, 0
                self.rows[PEOPLE.name] = read

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
                read = 0
                for cells in rows:
                    read += bool(cells)
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
                self.rows[INCIDENTS.name] = read

            return self._same(INCIDENT, RecordKind.INCIDENT, seen())

    def _same(self, table: Table, kind: RecordKind, seen: Iterator[tuple[Any, ...]]) -> set[str]:
        """Of the file's (ref, digest, parties digest, number of parties) rows, the refs whose records
        match: the agency's records that could be passed over are read in one query (a ref, its
        digest and, for an incident, what its parties are now) and compared here."""
        rows = {ref: (digest, parties, count) for ref, digest, parties, count in seen}
        if not rows:
            return set()
        with_parties = table is INCIDENT and any(count != -1 for _, _, count in rows.values())
        same = set()
        for record in self._fetch(self._query(table, kind, with_parties=with_parties)):
            row = rows.get(record[0])
            if row is None or row[0] != record[1]:
                continue
            if with_parties:
                parties, count = row[1], row[2]
                if count == 0:
                    if record[3]:  # it has parties, the file none
                        continue
                elif not (record[3] == count and record[2] == parties and record[4]):
                    continue
            same.add(record[0])
        return same

    def _fetch(self, query: Any) -> Iterator[tuple[Any, ...]]:
        """The rows of `query` as the driver gives them, in the session's transaction: hundreds of
        thousands of rows, for which SQLAlchemy's rows would double the time. Its only values are the
        agency's id and a kind, rendered in the statement."""
        connection = self.session.connection()
        sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql)
            while batch := cursor.fetchmany(10_000):
                yield from batch
        finally:
            cursor.close()

    def _query(self, table: Table, kind: RecordKind, *, with_parties: bool) -> Any:
        """The agency's records of `table` that could be passed over: digested and not changed since,
        its own and not restricted (not left as they are: `Writer._protected`), and reached by no other
        ref of the agency (records merged in Casework). Each with its ref and digest and, `with_parties`,
        its parties digest, its number of parties, and whether their latest `updated_at` is `parties_at`."""
        sr, other = SOURCE_REF, SOURCE_REF.alias("other_ref")
        columns: list[Any] = [sr.c.ref, table.c.import_digest]
        if with_parties:
            party = PARTY
            count = select(func.count()).where(party.c.incident_id == table.c.id).scalar_subquery()
            latest = select(func.max(party.c.updated_at)).where(party.c.incident_id == table.c.id).scalar_subquery()
            columns += [table.c.parties_digest, count, table.c.parties_at == latest]
        return (select(*columns)
                .join(table, table.c.id == sr.c.record_id)
                .where(sr.c.agency_id == self.agency_id, sr.c.kind == kind,
                       table.c.import_digest.is_not(None),
                       table.c.import_digest_at == table.c.updated_at,
                       table.c.owner_agency_id == self.agency_id,
                       table.c.restricted.is_(false()),
                       ~exists().where(other.c.agency_id == self.agency_id, other.c.kind == kind,
                                       other.c.record_id == table.c.id, other.c.ref != sr.c.ref)))
