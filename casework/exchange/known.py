"""What the writing of a chunk of records reads first of the records its refs name (one query):
their ids, whether the import leaves them as they are (`Writer._protected`), and their import
digests, which tell the rows that are unchanged without reading or decrypting the records
(`digest`)."""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

from sqlalchemy import Table, false, select
from sqlalchemy.orm import Session

from ..models import RecordKind
from .bulk import as_driver_gives, as_uuid
from .reader import Row
from .records import SOURCE_REF, Records


class Found(NamedTuple):
    """A record that exists, as a chunk's writing first reads it."""

    id: uuid.UUID
    digest: bytes | None
    current: bool  # its `updated_at` is still the one its digest was stored at
    protected: bool  # left as it is: restricted, or another agency's (`Writer._protected`)


class KnownRecords:
    """Reads `Found` records for one agency's import."""

    def __init__(self, session: Session, *, agency_id: uuid.UUID, make: Records) -> None:
        self.session = session
        self.agency_id = agency_id
        self.make = make

    def by_refs(self, kind: RecordKind, table: Table, refs: list[str], found: dict[uuid.UUID, Found]) -> dict[str, uuid.UUID]:
        """The agency's refs among `refs` whose records exist, with their record ids (`Writer._lookup`,
        without the `casework:<id>` refs); their records are added to `found`."""
        sr = SOURCE_REF
        query = (select(sr.c.ref, *self._columns(table)).join(table, table.c.id == sr.c.record_id)
                 .where(sr.c.agency_id == self.agency_id, sr.c.kind == kind, sr.c.ref.in_(refs)))
        by_ref = {}
        for row in self.session.execute(query):
            by_ref[row.ref] = self._add(row, found)
        return by_ref

    def by_ids(self, table: Table, record_ids: list[uuid.UUID], found: dict[uuid.UUID, Found]) -> None:
        """Add the records among `record_ids` to `found`."""
        for row in self.session.execute(select(*self._columns(table)).where(table.c.id.in_(record_ids))):
            self._add(row, found)

    def same(self, table: Table, rows: list[tuple[str, dict[str, Any]]], lines: list[Row],
             existing: dict[str, uuid.UUID], found: dict[uuid.UUID, Found]) -> set[str]:
        """The refs whose rows (ref, the record's values; `lines`, the rows as read) are what their
        records hold, as their import digests say. A record left as it is never counts: it is counted so."""
        same = set()
        digest = self.make.digest
        for (ref, values), line in zip(rows, lines):
            record = found.get(existing.get(ref))  # type: ignore[arg-type]
            if (record is not None and record.digest is not None and record.current and not record.protected
                    and digest(table, line, values) == record.digest):
                same.add(ref)
        return same

    def _columns(self, table: Table) -> list[Any]:
        owner, restricted = table.c.get("owner_agency_id"), table.c.get("restricted")
        protected: Any = false()  # as `Writer._protected` decides, in the query
        if owner is not None:
            protected = owner != self.agency_id
            if restricted is not None:
                protected = protected | restricted.is_(True)
        return [as_driver_gives(table.c.id), table.c.import_digest,
                (table.c.import_digest_at == table.c.updated_at).label("current"), protected.label("protected")]

    @staticmethod
    def _add(row: Any, found: dict[uuid.UUID, Found]) -> uuid.UUID:
        record_id = as_uuid(row.id)
        found[record_id] = Found(record_id, row.import_digest, bool(row.current), bool(row.protected))
        return record_id
