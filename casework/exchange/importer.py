"""The second pass of an import: a checked data set is written, in chunks, in the session's
transaction (one transaction: the caller commits, or a crash leaves the database as it was).

Rows go to the database through bulk statements, not the ORM: ids are made here,
personal values are sealed with `crypto.seal` and the same associated data the
`Secret` attribute uses (table, column, row id), and blind indexes computed with
`crypto.person_indexes` (`records.Records`), so the records read back through the
ORM like any other. An agency's first large import has those rows made by another
process (`prepare`), and only inserts them here (`Writer.write_prepared`).

A ref the agency already has updates its record (unless the record is restricted, or
held by another agency after a merge: those are left as they are, and counted so): the record's current values
(personal ones decrypted) are compared with the row's, and only a record that
differs is written, and only in the columns that differ (with `updated_at` and
`version` bumped). An unchanged record is not touched at all. Before that, a re-import
finds the rows of people.csv and incidents.csv (with the incidents' parties) that are
what their records hold, by their import digests, in one query a file (`unchanged`),
and passes over them unparsed; any other row is checked against its record's digest
(`digest`, read with the ref: `known`): when they match, the record is unchanged
without being read or decrypted. A record found unchanged the long way is given its
digest (its `updated_at` kept).

Parties: when a data set holds an incident and a parties.csv, the incident's
parties become exactly its rows in parties.csv (a party that is the same is
left as it is, a missing one is removed). Parties of an incident the data set
only refers to (one already in the system) are added or updated, never removed.
The parties of an incident left as it is (restricted, or another agency's) are
left as they are too, and counted so.

A ref of the form `casework:<uuid>` (what an export writes for a record that
has no ref of the exporting agency) creates its record with that id when the id
is free, so an export imported into an empty database exports identically.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import (
    Table,
    bindparam,
    delete,
    exists,
    func,
    select,
    update,
)

from .. import crypto
from ..db import db
from ..models import (
    Agency,
    Area,
    Locality,
    RecordKind,
)
from ..models.base import utcnow
from .bulk import (
    GENERATED_PREFIX,
    DeferredIndexes,
    Ids,
    as_driver_gives,
    as_uuid,
    deferred_indexes,
    generated_id,
    insert_params,
    insert_rows,
)
from .digest import DIGESTED
from .errors import ImportFailed
from .known import Found, KnownRecords
from .orders import write_orders
from .prepare import NotFresh, PrepareApart
from .reader import Problems, Progress, Row, read_rows
from .records import ACTIVITY, INCIDENT, PARTY, PERSON, REFERRAL, SECRETS, SOURCE_REF, TABLES, Records
from .report import FileCounts, ImportReport
from .schema import AREAS, FILES, INCIDENTS, PARTIES, PEOPLE, PREVENTION, REFERRALS, FileSpec
from .unchanged import PartySums, Unchanged, party_sums, passing_over
from .usable import NOT_USABLE, Usable

CHUNK = 2000
SPECS = {spec.name: spec for spec in FILES}
BULK_ROWS = 50_000  # from this many rows for a table, its secondary indexes are built after loading

AREA = Area.__table__
LOCALITY = Locality.__table__


class KnownParty(NamedTuple):
    """What the writing of parties reads of a party that exists."""

    id: uuid.UUID
    cj_status: Any


def _chunks(rows: Iterable[Row]) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Writer:
    """Writes the files of one checked data set for one agency."""

    def __init__(self, files: dict[str, Path], *, agency: Agency, progress: Progress | None,
                 rows: dict[str, int] | None = None, prepared: PrepareApart | None = None) -> None:
        self.files = files
        self.prepared = prepared  # a fresh data set's rows, prepared by another process (`prepare`)
        self.rows = rows or {}  # data rows per file, as counted by the check
        self.agency_id = agency.id
        self.report = ImportReport(agency.name)
        self.progress = progress
        self.now = utcnow()
        self.session = db.session
        self.new_id = Ids()
        self.areas: dict[str, uuid.UUID] = {}
        self.localities = dict(self.session.execute(select(LOCALITY.c.key, LOCALITY.c.name)).all())
        self.make = Records(crypto.current(), agency_id=agency.id, now=self.now, areas=self.areas,
                            localities=self.localities, new_id=self.new_id)
        self.known = KnownRecords(self.session, agency_id=agency.id, make=self.make)
        self.unchanged = Unchanged(self.session, agency_id=agency.id, make=self.make)
        self.party_sums: PartySums | None = None  # parties.csv's rows by incident (`unchanged`)
        self.skipped_people: set[str] = set()  # people.csv's refs found unchanged (`_find_unchanged`)
        self.skipped_incidents: set[str] = set()  # incidents.csv's refs found unchanged, parties and all
        self.skipped_parties = 0  # their rows in parties.csv
        self.delay = float(current_app.config.get("IMPORT_CHUNK_DELAY") or 0)
        self.person_ids: dict[str, uuid.UUID] = {}
        self.incident_ids: dict[str, uuid.UUID] = {}
        self.old_incidents: set[uuid.UUID] = set()  # incidents that existed before this import
        # Incidents left as they are (restricted, or another agency's): their parties too.
        self.protected_incidents: set[uuid.UUID] = set()
        self.replaced: set[uuid.UUID] = set()  # old incidents in incidents.csv: their parties are replaced
        self.kept_parties: set[uuid.UUID] = set()
        self.seen_incidents: set[uuid.UUID] = set()  # old incidents whose parties were read (all of them)
        self.seen_parties: set[uuid.UUID] = set()  # the parties read of replaced incidents
        self.generated: set[uuid.UUID] = set()  # new records given the ids of their `casework:<id>` refs
        # People of the parties written or removed here, and incidents changed here: announced to the
        # stored figures at the end of the import (casework.figures.bulk), which refresh them once.
        self.party_people: set[uuid.UUID] = set()
        self.changed_incidents: set[uuid.UUID] = set()
        # `casework:<id>` refs naming records the agency may not use (`usable`): reported at the end.
        self.usable = Usable(agency.id)
        self.not_usable = Problems()
        # Whether the agency had refs of a kind before: a first import skips every lookup.
        self.prior = {kind: bool(self.session.scalar(select(exists().where(
            SOURCE_REF.c.agency_id == self.agency_id, SOURCE_REF.c.kind == kind)))) for kind in RecordKind}

    def write(self) -> ImportReport:
        self.write_areas()
        if self.prepared is None:
            self._find_unchanged()
        with deferred_indexes(self.session, self._bulk_tables()) as indexes:
            if self.prepared is not None:
                self.write_prepared(self.prepared, indexes)
                write_orders(self)
                if self.not_usable:
                    raise ImportFailed(self.not_usable.listed())
                return self.report
            # Each table's deferred indexes are built once it is loaded (source refs' at the end).
            # The rows found unchanged (`_find_unchanged`) are passed over.
            self._records(PEOPLE, PERSON, RecordKind.PERSON, self.make.person, self.person_ids,
                          skip=self.skipped_people)
            self.skipped_people = set()
            indexes.build(PERSON)
            self._records(INCIDENTS, INCIDENT, RecordKind.INCIDENT, self.make.incident, self.incident_ids,
                          skip=self.skipped_incidents)
            indexes.build(INCIDENT)
            written = len(self.incident_ids)  # the refs of incidents.csv come first in it (parties' next)
            self.write_parties()
            self._store_parties_digests(written)
            indexes.build(PARTY)
            self._records(REFERRALS, REFERRAL, RecordKind.REFERRAL,
                          lambda v: self.make.referral(v, self._person_id(v["person_ref"])), None)
            self._records(PREVENTION, ACTIVITY, RecordKind.ACTIVITY, self.make.activity, None)
            write_orders(self)  # orders.csv, after the people and incidents it names (issue 17 §2)
        if self.not_usable:
            # Every such ref of the data set is listed; the caller's savepoint drops what was written.
            raise ImportFailed(self.not_usable.listed())
        return self.report

    def _named_existing(self, ref: str | None, record_id: uuid.UUID) -> bool:
        """Whether `ref` is a `casework:<id>` ref naming, by its id, `record_id`, a record that existed
        before this import (what `usable` decides about)."""
        # The prefix first: it rules out nearly every ref without hashing a UUID (millions of calls).
        return (ref is not None and ref.startswith(GENERATED_PREFIX) and generated_id(ref) == record_id
                and record_id not in self.generated)

    def _find_unchanged(self) -> None:
        """A re-import first finds the rows of people.csv and incidents.csv (with their parties) that
        are what their records hold (`unchanged`), before anything is written or an index dropped."""
        if PEOPLE.name in self.files and self.prior[RecordKind.PERSON]:
            self.skipped_people = self.unchanged.people(self.files[PEOPLE.name])
        if PARTIES.name in self.files:
            self.party_sums = party_sums(self.files[PARTIES.name], self.make.digests)
        if INCIDENTS.name in self.files and self.prior[RecordKind.INCIDENT]:
            self.skipped_incidents = self.unchanged.incidents(self.files[INCIDENTS.name], self.party_sums)
            if self.party_sums is not None:
                self.skipped_parties = sum(self.party_sums.count(ref) for ref in self.skipped_incidents)

    def _bulk_tables(self) -> list[Table]:
        """The tables this import loads in bulk: many rows, at least as many as they hold already
        (rebuilding the indexes of a big table for a small import would cost more than it saves).
        Rows found unchanged are not loaded."""
        rows = {PERSON: self.rows.get(PEOPLE.name, 0) - len(self.skipped_people),
                INCIDENT: self.rows.get(INCIDENTS.name, 0) - len(self.skipped_incidents),
                PARTY: self.rows.get(PARTIES.name, 0) - self.skipped_parties, REFERRAL: self.rows.get(REFERRALS.name, 0)}
        rows[SOURCE_REF] = rows[PERSON] + rows[INCIDENT] + rows[REFERRAL] + self.rows.get(PREVENTION.name, 0)
        return [table for table, n in rows.items()
                if n >= BULK_ROWS and n >= (self.session.scalar(select(func.count()).select_from(table)) or 0)]

    # --- reading -------------------------------------------------------------

    def _rows(self, spec: FileSpec, *, skip: set[str] | None = None, column: str | None = None) -> Iterator[Row]:
        """The file's rows; those whose `column` (the ref) holds one of `skip` are passed over unparsed
        and counted unchanged (`unchanged`)."""
        path = self.files.get(spec.name)
        if path is None:
            return
        if self.progress is not None:
            self.progress.start(f"writing {spec.name}")
        counts = self.report.files.setdefault(spec.name, FileCounts())  # a file of only a header shows too
        if skip and (passed := self._all_passed(spec, skip)) is not None:
            counts.unchanged += passed  # every row was found unchanged: nothing to read
            return
        problems = Problems()
        wanted = passing_over(path, spec, column or spec.ref_column or "", skip, counts) if skip else None
        for row in read_rows(path, spec, problems, progress=self.progress, wanted=wanted):
            if problems.count:
                break  # a row with a problem is never written
            yield row
        if problems:
            # Checked first: the files changed between the two passes. Checked apart: the check
            # reports what is wrong (`casework.exchange.apart`). Either way nothing is written.
            raise ImportFailed(["the data set changed while it was being imported", *problems.listed()])

    def _all_passed(self, spec: FileSpec, skip: set[str]) -> int | None:
        """The file's number of rows when every one of them is passed over (`skip` holds the ref of
        each row of people.csv or incidents.csv, or the incident of each row of parties.csv), else None."""
        if spec is PARTIES:
            passed = self.skipped_parties  # the rows of the incidents in `skip`
            return passed if self.party_sums is not None and passed == self.party_sums.rows else None
        return len(skip) if self.unchanged.rows.get(spec.name) == len(skip) else None

    def _written(self, spec: FileSpec, rows: int) -> None:
        if self.progress is not None:
            self.progress.note(f"wrote {rows} rows of {spec.name}")
        if self.delay:
            time.sleep(self.delay)  # IMPORT_CHUNK_DELAY: a test-only setting to land a kill mid-write

    # --- areas (shared by the partnership, unique by name) ----------------------

    def write_areas(self) -> None:
        current = {r.name: r for r in self.session.execute(select(AREA))}
        self.areas.update({name: r.id for name, r in current.items()})
        if AREAS.name not in self.files:
            return
        counts = self.report.files[AREAS.name]
        inserts: list[dict[str, Any]] = []
        for row in self._rows(AREAS):
            v = row.values
            values = {"locality": self.make.locality(v["locality"]), "asb_priority": v["asb_priority"],
                      "sv_hotspot": v["sv_hotspot"], "rural_hotspot": v["rural_hotspot"]}
            old = current.get(v["area"])
            if old is None:
                area_id = self.new_id()
                inserts.append({"id": area_id, "name": v["area"], "owner_agency_id": self.agency_id,
                                "created_at": self.now, "updated_at": self.now, **values})
                self.areas[v["area"]] = area_id
                counts.created += 1
                continue
            changed = {k: val for k, val in values.items() if getattr(old, k) != val}
            if changed:
                self.session.execute(update(AREA).where(AREA.c.id == old.id).values(updated_at=self.now, **changed))
                counts.updated += 1
            else:
                counts.unchanged += 1
        if inserts:
            insert_rows(self.session, AREA, inserts, now=self.now)

    # --- a fresh data set, prepared by another process ------------------------------

    def write_prepared(self, prepared: PrepareApart, indexes: DeferredIndexes) -> None:
        """Insert the rows `prepared` sends. Every record is new (the agency had no refs: `self.prior`):
        a `casework:<id>` ref naming a record that existed before raises `NotFresh`. A table's deferred
        indexes are built once its file is done, while the next file is prepared."""
        loading: Table | None = None
        assert not any(self.prior.values()), "a data set is prepared apart only for an agency's first import"
        prepared.start(ring=self.make.ring, agency_id=self.agency_id, now=self.now, areas=self.areas,
                       localities=self.localities,
                       driver=self.session.connection().engine.url.drivername)
        for message in prepared.messages():
            what = message[0]
            if what in ("file", "party people") and loading is not None:
                indexes.build(loading)
                loading = None
            if what == "file":
                if self.progress is not None:
                    self.progress.start(f"writing {message[1]}")
                self.report.files.setdefault(message[1], FileCounts())
            elif what == "rows":
                _, name, table_name, names, params, ref_names, ref_params, made, referenced, advanced = message
                loading = table = TABLES[table_name]
                self._settle_generated(table, made, referenced)
                insert_params(self.session, table, names, params)
                insert_params(self.session, SOURCE_REF, ref_names, ref_params)
                self.report.files[name].created += len(params)
                if self.progress is not None:
                    self.progress.advance(advanced)
                self._written(SPECS[name], len(params))
            elif what == "party people":
                ids = message[1]
                self.party_people.update(uuid.UUID(bytes=ids[i:i + 16]) for i in range(0, len(ids), 16))
            elif what == "problem":
                raise ImportFailed([message[1]])

    def _settle_generated(self, table: Table, made: list[uuid.UUID], referenced: list[tuple[str, uuid.UUID]]) -> None:
        """The ids of the chunk's `casework:<id>` refs: those given to new records must be free, and an
        incident referred to must be one this import made (the parties of an incident that existed
        are matched with its own); a person referred to that exists is simply that person."""
        if made:
            if self.session.scalar(select(exists().where(table.c.id.in_(made)))):
                raise NotFresh(f"a casework ref in {table.name} names a record that exists")
            self.generated.update(made)
        if any(kind == RecordKind.INCIDENT.value and record_id not in self.generated for kind, record_id in referenced):
            raise NotFresh("a casework ref of an incident names one that exists")
        people = {record_id for kind, record_id in referenced
                  if kind == RecordKind.PERSON.value and record_id not in self.generated}
        if people:
            existing = set(self.session.scalars(select(PERSON.c.id).where(PERSON.c.id.in_(list(people)))))
            if existing - self.usable.linkable_people(existing):
                # Written again record by record, which lists each such ref (`usable`).
                raise NotFresh("a casework ref names a person the agency may not use")

    # --- records with a ref -------------------------------------------------------

    def _records(self, spec: FileSpec, table: Table, kind: RecordKind,
                 values_of: Callable[[dict[str, Any]], dict[str, Any]], ids: dict[str, uuid.UUID] | None,
                 skip: set[str] | None = None) -> None:
        assert spec.ref_column is not None
        for chunk in _chunks(self._rows(spec, skip=skip)):
            if table is REFERRAL:
                # The people the chunk's referrals name, in one query (not one a referral).
                self._resolve_people({r.values["person_ref"] for r in chunk})
            written, old = self._record_chunk(spec, table, kind, [(r.values[spec.ref_column], values_of(r.values))
                                                                 for r in chunk], chunk)
            if ids is not None:
                ids.update(written)
            if table is INCIDENT:
                self.old_incidents |= old
                if PARTIES.name in self.files:
                    self.replaced |= old
            self._written(spec, len(chunk))

    def _record_chunk(self, spec: FileSpec, table: Table, kind: RecordKind, rows: list[tuple[str, dict[str, Any]]],
                      lines: list[Row]) -> tuple[dict[str, uuid.UUID], set[uuid.UUID]]:
        """Write one chunk; the ids of its refs, and which of them existed before."""
        counts = self.report.files[spec.name]
        secrets = SECRETS.get(table.name, ())
        # The records of `existing`: id, import digest, updated_at, and whether the import leaves them as they are.
        found: dict[uuid.UUID, Found] = {}
        existing = self.known.by_refs(kind, table, [ref for ref, _ in rows], found) if self.prior[kind] else {}
        free, taken = self._generated_ids(table, [ref for ref, _ in rows if ref not in existing])
        existing.update(taken)  # an export's `casework:<id>` of a record that exists is that record
        if taken:
            self.known.by_ids(table, list(taken.values()), found)
        current = {}
        protected = {record_id for record_id, record in found.items() if record.protected}
        same: set[str] = set()  # refs whose rows match their record's import digest: unchanged
        if existing:
            same = self.known.same(table, rows, lines, existing, found)
            compare = [existing[ref] for ref, _ in rows if ref in existing and ref not in same]
            if compare:
                columns = [table.c.id, *(table.c[name] for name in rows[0][1])]
                current = {r.id: r for r in self.session.execute(select(*columns).where(table.c.id.in_(compare)))}
        refused = self._not_usable(spec, table, kind, rows, lines, existing, current, same)
        ids: dict[str, uuid.UUID] = {}
        inserts: list[dict[str, Any]] = []
        refs: list[dict[str, Any]] = []
        updates: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
        digests: list[dict[str, Any]] = []  # unchanged records whose digest is stored afresh
        # A record two refs of the chunk lead to (records merged here) may get the columns of both rows:
        # no digest could say which, so it is given none (the next import compares it in full).
        shared = {rid for rid, n in Counter(existing[ref] for ref, _ in rows if ref in existing).items() if n > 1}
        for (ref, values), line in zip(rows, lines):
            record_id = existing.get(ref)
            if ref in refused:
                ids[ref] = record_id  # type: ignore[assignment]  # the import fails: nothing is kept
                continue
            if record_id is not None and record_id in protected:
                ids[ref] = record_id  # its parties and referrals still resolve to it
                counts.protected += 1
                continue
            if record_id is not None and record_id in found:
                ids[ref] = record_id
                if ref in same:
                    counts.unchanged += 1
                    continue
                changed = self._changes(table, current[record_id], values, secrets)
                if changed:
                    if table.name in DIGESTED:
                        changed["import_digest"] = (None if record_id in shared
                                                    else self.make.digest(table, line, values))
                        changed["import_digest_at"] = self.now
                    updates[frozenset(changed)].append({"row_id": record_id, **{f"new_{k}": v
                                                                               for k, v in changed.items()}})
                    counts.updated += 1
                else:
                    counts.unchanged += 1
                    if table.name in DIGESTED and record_id not in shared:
                        digests.append({"row_id": record_id, "new_digest": self.make.digest(table, line, values)})
                continue
            record_id = free.get(ref)
            if record_id is not None:
                self.generated.add(record_id)
            else:
                record_id = self.new_id()
            ids[ref] = record_id
            row, ref_row = self.make.new_record(table, kind, ref, values, record_id, line)
            inserts.append(row)
            refs.append(ref_row)
            counts.created += 1
        for names, params in updates.items():
            sets: dict[str, Any] = {name: bindparam(f"new_{name}") for name in names}
            sets["updated_at"] = self.now
            if "version" in table.c:
                sets["version"] = table.c.version + 1
            self.session.execute(update(table).where(table.c.id == bindparam("row_id")).values(sets), params)
            if table is INCIDENT:
                self.changed_incidents.update(p["row_id"] for p in params)
        if digests:
            # Not an edit: `updated_at` stays (the digest is bound to it), and nothing the stored
            # figures read changes, so the statement goes around the Session.
            self.session.connection().execute(update(table).where(table.c.id == bindparam("row_id")).values(
                import_digest=bindparam("new_digest"), import_digest_at=table.c.updated_at,
                updated_at=table.c.updated_at), digests)
        if inserts:
            if self.prior[kind]:
                # A ref whose record no longer exists is given to the new record.
                self.session.execute(delete(SOURCE_REF).where(
                    SOURCE_REF.c.agency_id == self.agency_id, SOURCE_REF.c.kind == kind,
                    SOURCE_REF.c.ref.in_([r["ref"] for r in refs])))
            insert_rows(self.session, table, inserts, now=self.now)
            insert_rows(self.session, SOURCE_REF, refs, now=self.now)
        if table is INCIDENT:
            self.protected_incidents |= protected
        return ids, set(found) - protected - {existing[ref] for ref in refused if ref in existing}

    def _not_usable(self, spec: FileSpec, table: Table, kind: RecordKind, rows: list[tuple[str, dict[str, Any]]],
                    lines: list[Row], existing: dict[str, uuid.UUID], current: dict[uuid.UUID, Any],
                    same: set[str]) -> set[str]:
        """The refs of the chunk's rows that name, or link, a record the agency may not use (`usable`),
        each reported on its line: a row's own `casework:<id>` ref naming an existing record, and a
        referral's person named so (unless the referral exists and names that person already)."""
        refused: set[str] = set()
        named = {ref: existing[ref] for ref, _ in rows if ref in existing and self._named_existing(ref, existing[ref])}
        if named:
            usable = self.usable.records(kind, set(named.values()))
            for (ref, _), row in zip(rows, lines):
                if ref in named and named[ref] not in usable:
                    self.not_usable.add(spec.name, row.line, spec.ref_column or "-", NOT_USABLE)
                    refused.add(ref)
        if table is REFERRAL:
            people = {values["person_id"] for (_, values), row in zip(rows, lines)
                      if self._named_existing(row.values["person_ref"], values["person_id"])}
            linkable = self.usable.linkable_people(people) if people else set()
            for (ref, values), row in zip(rows, lines):
                person_id = values["person_id"]
                if person_id not in people or person_id in linkable:
                    continue
                if not self._named_existing(row.values["person_ref"], person_id):
                    continue
                if ref in same:
                    continue  # unchanged (its digest says so): the referral names them already
                record = current.get(existing.get(ref))  # type: ignore[arg-type]
                if record is not None and record.person_id == person_id:
                    continue  # the referral names them already: nothing new is linked
                self.not_usable.add(spec.name, row.line, "person_ref", NOT_USABLE)
                refused.add(ref)
        return refused

    def _protected(self, table: Table, record_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """The records among `record_ids` this import leaves as they are: a restricted one (only the
        users named on it change it), and one another agency holds (the agency's ref leads there
        after a merge). An agency's export writes such records only as far as it may see them, so
        importing it back must not write those blanks over them."""
        owner = table.c.get("owner_agency_id")
        if owner is None:
            return set()
        condition = owner != self.agency_id
        if "restricted" in table.c:
            condition = condition | table.c.restricted.is_(True)
        return set(self.session.scalars(select(table.c.id).where(table.c.id.in_(record_ids), condition)))

    def _changes(self, table: Table, current: Any, values: dict[str, Any], secrets: tuple[str, ...]) -> dict[str, Any]:
        changed: dict[str, Any] = {}
        for name, value in values.items():
            if name in secrets:
                if self.make.unseal(table, name, current.id, getattr(current, name)) != value:
                    changed[name] = self.make.seal(table, name, current.id, value)
            elif getattr(current, name) != value:
                changed[name] = value
        if changed.keys() & set(secrets):
            changed.update(self.make.derived(table, values))
        return changed

    def _lookup(self, kind: RecordKind, table: Table, refs: list[str]) -> dict[str, uuid.UUID]:
        """The agency's refs among `refs` whose records exist, with their record ids."""
        sr = SOURCE_REF
        query = (select(sr.c.ref, sr.c.record_id).join(table, table.c.id == sr.c.record_id)
                 .where(sr.c.agency_id == self.agency_id, sr.c.kind == kind, sr.c.ref.in_(refs)))
        found = {r.ref: r.record_id for r in self.session.execute(query)}
        found.update(self._generated_ids(table, [ref for ref in refs if ref not in found])[1])
        return found

    def _generated_ids(self, table: Table, refs: list[str]) -> tuple[dict[str, uuid.UUID], dict[str, uuid.UUID]]:
        """The ids inside the generated refs among `refs`: those free (a new record takes its id) and
        those of records that exist (the ref is that record, as an export of this system wrote it)."""
        wanted = {ref: rid for ref in refs if (rid := generated_id(ref)) is not None}
        if not wanted:
            return {}, {}
        taken = set(self.session.scalars(select(table.c.id).where(table.c.id.in_(list(wanted.values())))))
        return ({ref: rid for ref, rid in wanted.items() if rid not in taken},
                {ref: rid for ref, rid in wanted.items() if rid in taken})

    def _person_id(self, ref: str) -> uuid.UUID:
        found = self.person_ids.get(ref)
        if found is None:
            found = self._lookup(RecordKind.PERSON, PERSON, [ref])[ref]
            self.person_ids[ref] = found
        return found

    # --- parties ------------------------------------------------------------------

    def write_parties(self) -> None:
        if PARTIES.name not in self.files:
            return
        counts = self.report.files[PARTIES.name]
        # Two refs of this agency may lead to one person (records merged in Casework): their rows for
        # one incident and role are one party. Only such people can collide, so only they are tracked.
        merged = self._people_with_several_refs()
        written: set[tuple[uuid.UUID, uuid.UUID, str]] = set()
        for chunk in _chunks(self._rows(PARTIES, skip=self.skipped_incidents, column="incident_ref")):
            self._resolve_incidents({r.values["incident_ref"] for r in chunk})
            self._resolve_people({r.values["person_ref"] for r in chunk})
            old = {self.incident_ids[r.values["incident_ref"]] for r in chunk} & self.old_incidents
            existing: dict[tuple[uuid.UUID, uuid.UUID, str], KnownParty] = {}
            if old:
                for p in self.session.execute(select(
                        as_driver_gives(PARTY.c.id), as_driver_gives(PARTY.c.incident_id),
                        as_driver_gives(PARTY.c.person_id), PARTY.c.role, PARTY.c.cj_status)
                        .where(PARTY.c.incident_id.in_(list(old)))):
                    incident_id = as_uuid(p.incident_id)
                    known = existing[(incident_id, as_uuid(p.person_id), p.role.value)] = KnownParty(
                        as_uuid(p.id), p.cj_status)
                    if incident_id in self.replaced:
                        self.seen_parties.add(known.id)
                self.seen_incidents |= old
            inserts, updates = [], []
            usable = self._usable_in_parties(chunk)
            for row in chunk:
                v = row.values
                incident_id = self.incident_ids[v["incident_ref"]]
                person_id = self.person_ids[v["person_ref"]]
                if self._named_existing(v["incident_ref"], incident_id) and incident_id not in usable:
                    self.not_usable.add(PARTIES.name, row.line, "incident_ref", NOT_USABLE)
                    continue
                if (self._named_existing(v["person_ref"], person_id) and person_id not in usable
                        and (incident_id, person_id, v["role"].value) not in existing):
                    # A link the database holds already is no new link (an export imported back).
                    self.not_usable.add(PARTIES.name, row.line, "person_ref", NOT_USABLE)
                    continue
                if incident_id in self.protected_incidents:
                    counts.protected += 1
                    continue
                key = (incident_id, person_id, v["role"].value)
                if person_id in merged:
                    if key in written:
                        counts.unchanged += 1
                        continue
                    written.add(key)
                party = existing.get(key)
                if party is None:
                    new = self.make.party(v, incident_id, person_id)
                    party_id = new["id"]
                    inserts.append(new)
                    counts.created += 1
                else:
                    party_id = party.id
                if incident_id in self.replaced:
                    self.kept_parties.add(party_id)
                if party is None:
                    continue
                if party.cj_status != v["cj_status"]:
                    updates.append({"row_id": party.id, "new_cj_status": v["cj_status"]})
                    counts.updated += 1
                else:
                    counts.unchanged += 1
            if updates:
                self.session.execute(update(PARTY).where(PARTY.c.id == bindparam("row_id")).values(
                    cj_status=bindparam("new_cj_status"), updated_at=self.now), updates)
            if inserts:
                insert_rows(self.session, PARTY, inserts, now=self.now)
                self.party_people.update(row["person_id"] for row in inserts)
            self._written(PARTIES, len(chunk))
        self._remove_replaced_parties(counts)

    def _usable_in_parties(self, chunk: list[Row]) -> set[uuid.UUID]:
        """Of the incidents and people the chunk names through `casework:<id>` refs of records that
        existed, those the agency may use (`usable`): incidents open to it, people it may link."""
        incidents, people = set(), set()
        for row in chunk:
            v = row.values
            if self._named_existing(v["incident_ref"], incident_id := self.incident_ids[v["incident_ref"]]):
                incidents.add(incident_id)
            if self._named_existing(v["person_ref"], person_id := self.person_ids[v["person_ref"]]):
                people.add(person_id)
        return ((self.usable.records(RecordKind.INCIDENT, incidents) if incidents else set())
                | (self.usable.linkable_people(people) if people else set()))

    def _people_with_several_refs(self) -> set[uuid.UUID]:
        rows = self.session.execute(
            select(SOURCE_REF.c.record_id)
            .where(SOURCE_REF.c.agency_id == self.agency_id, SOURCE_REF.c.kind == RecordKind.PERSON)
            .group_by(SOURCE_REF.c.record_id).having(func.count() > 1))
        return {row.record_id for row in rows}

    def _remove_replaced_parties(self, counts: FileCounts) -> None:
        """Remove the parties of the replaced incidents that parties.csv did not name: of those it
        names, the parties read already (every party of such an incident was); of the others, every
        party, read here."""
        gone = list(self.seen_parties - self.kept_parties)
        unseen = [incident_id for incident_id in self.replaced if incident_id not in self.seen_incidents]
        for start in range(0, len(unseen), CHUNK):
            gone += [pid for raw in self.session.scalars(select(as_driver_gives(PARTY.c.id))
                                                         .where(PARTY.c.incident_id.in_(unseen[start:start + CHUNK])))
                     if (pid := as_uuid(raw)) not in self.kept_parties]
        for start in range(0, len(gone), CHUNK):
            # The people of the parties removed: their marks move (announced at the end).
            self.party_people.update(self.session.scalars(
                delete(PARTY).where(PARTY.c.id.in_(gone[start:start + CHUNK])).returning(PARTY.c.person_id)))
        counts.removed += len(gone)

    def _store_parties_digests(self, written: int) -> None:
        """Each incident of incidents.csv written here (the first `written` of `incident_ids`), whose
        parties are now exactly its rows in parties.csv, keeps its parties digest (`digest`): the sum
        of those rows, and the latest `updated_at` of its parties. Not an edit (`updated_at` stays, and
        the stored figures read neither), so it goes around the Session. An incident parties.csv only
        refers to keeps its parties besides, so it gets none."""
        if self.party_sums is None or not written:
            return
        left = self.protected_incidents
        params = []
        for ref, incident_id in islice(self.incident_ids.items(), written):
            if incident_id not in left:
                digest, _count = self.party_sums.digest(ref)
                params.append({"row_id": incident_id, "new_digest": digest})
        latest = select(func.max(PARTY.c.updated_at)).where(PARTY.c.incident_id == INCIDENT.c.id).scalar_subquery()
        statement = update(INCIDENT).where(INCIDENT.c.id == bindparam("row_id")).values(
            parties_digest=bindparam("new_digest"), parties_at=latest, updated_at=INCIDENT.c.updated_at)
        for start in range(0, len(params), CHUNK):
            self.session.connection().execute(statement, params[start:start + CHUNK])

    def _resolve_incidents(self, refs: set[str]) -> None:
        missing = [ref for ref in refs if ref not in self.incident_ids]
        if missing:
            found = self._lookup(RecordKind.INCIDENT, INCIDENT, missing)
            self.incident_ids.update(found)
            self.old_incidents.update(found.values())
            self.protected_incidents |= self._protected(INCIDENT, list(found.values()))

    def _resolve_people(self, refs: set[str]) -> None:
        missing = [ref for ref in refs if ref not in self.person_ids]
        if missing:
            self.person_ids.update(self._lookup(RecordKind.PERSON, PERSON, missing))
