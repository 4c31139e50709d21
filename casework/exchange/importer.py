"""The second pass of an import: a checked data set is written, in chunks, in the session's
transaction (one transaction: the caller commits, or a crash leaves the database as it was).

Rows go to the database through bulk statements, not the ORM: ids are made here,
personal values are sealed with `crypto.seal` and the same associated data the
`Secret` attribute uses (table, column, row id), and blind indexes computed with
`crypto.person_indexes`, so the records read back through the ORM like any other.

A ref the agency already has updates its record (unless the record is restricted, or
held by another agency after a merge: those are left as they are, and counted so): the record's current values
(personal ones decrypted) are compared with the row's, and only a record that
differs is written, and only in the columns that differ (with `updated_at` and
`version` bumped). An unchanged record is not touched at all.

Parties: when a data set holds an incident and a parties.csv, the incident's
parties become exactly its rows in parties.csv (a party that is the same is
left as it is, a missing one is removed). Parties of an incident the data set
only refers to (one already in the system) are added or updated, never removed.

A ref of the form `casework:<uuid>` (what an export writes for a record that
has no ref of the exporting agency) creates its record with that id when the id
is free, so an export imported into an empty database exports identically.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

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
    Incident,
    Party,
    Person,
    PreventionActivity,
    RecordKind,
    Referral,
    ReferralStatus,
    SourceRef,
)
from ..models.base import utcnow
from .bulk import (
    Ids,
    deferred_indexes,
    generated_id,
    insert_rows,
)
from .errors import ImportFailed
from .reader import Problems, Progress, Row, read_rows
from .report import FileCounts, ImportReport
from .schema import AREAS, INCIDENTS, PARTIES, PEOPLE, PREVENTION, REFERRALS, FileSpec

CHUNK = 2000
BULK_ROWS = 50_000  # from this many rows for a table, its secondary indexes are built after loading

AREA = Area.__table__
PERSON = Person.__table__
INCIDENT = Incident.__table__
PARTY = Party.__table__
REFERRAL = Referral.__table__
ACTIVITY = PreventionActivity.__table__
SOURCE_REF = SourceRef.__table__


def _chunks(rows: Iterable[Row]) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# Columns a new record gets that the exchange format does not carry.
NEW_DEFAULTS: dict[str, dict[str, Any]] = {
    "person": {"address": None, "phone": None, "email": None, "safe_contact": None,
               "do_not_disclose_address": False, "restricted": False, "merged_into_id": None, "version": 1},
    "incident": {"restricted": False, "version": 1},
    "referral": {"status": ReferralStatus.CLOSED, "imported": True, "receiving_agency_id": None,
                 "children_in_household": None, "version": 1},
    "prevention_activity": {},
}
SECRETS: dict[str, tuple[str, ...]] = {"person": ("surname", "forenames", "date_of_birth", "postcode")}


class Writer:
    """Writes the files of one checked data set for one agency."""

    def __init__(self, files: dict[str, Path], *, agency: Agency, progress: Progress | None,
                 rows: dict[str, int] | None = None) -> None:
        self.files = files
        self.rows = rows or {}  # data rows per file, as counted by the check
        self.agency_id = agency.id
        self.report = ImportReport(agency.name)
        self.progress = progress
        self.ring = crypto.current()
        self.now = utcnow()
        self.session = db.session
        self.new_id = Ids()
        self.delay = float(current_app.config.get("IMPORT_CHUNK_DELAY") or 0)
        self.areas: dict[str, uuid.UUID] = {}
        self.person_ids: dict[str, uuid.UUID] = {}
        self.incident_ids: dict[str, uuid.UUID] = {}
        self.old_incidents: set[uuid.UUID] = set()  # incidents that existed before this import
        self.replaced: set[uuid.UUID] = set()  # old incidents in incidents.csv: their parties are replaced
        self.kept_parties: set[uuid.UUID] = set()
        self.generated: set[uuid.UUID] = set()  # new records given the ids of their `casework:<id>` refs
        # People of the parties written here, around the Session: their repeat marks are refreshed
        # at the end (casework.services.marks.deferred; updates and deletes are seen by the Session).
        self.party_people: set[uuid.UUID] = set()
        # Whether the agency had refs of a kind before: a first import skips every lookup.
        self.prior = {kind: bool(self.session.scalar(select(exists().where(
            SOURCE_REF.c.agency_id == self.agency_id, SOURCE_REF.c.kind == kind)))) for kind in RecordKind}

    def write(self) -> ImportReport:
        with deferred_indexes(self.session, self._bulk_tables()):
            self.write_areas()
            self._records(PEOPLE, PERSON, RecordKind.PERSON, self._person_values, self.person_ids)
            self._records(INCIDENTS, INCIDENT, RecordKind.INCIDENT, self._incident_values, self.incident_ids)
            self.write_parties()
            self._records(REFERRALS, REFERRAL, RecordKind.REFERRAL, self._referral_values, None)
            self._records(PREVENTION, ACTIVITY, RecordKind.ACTIVITY, self._activity_values, None)
        return self.report

    def _bulk_tables(self) -> list[Table]:
        """The tables this import loads in bulk: many rows, at least as many as they hold already
        (rebuilding the indexes of a big table for a small import would cost more than it saves)."""
        rows = {PERSON: self.rows.get(PEOPLE.name, 0), INCIDENT: self.rows.get(INCIDENTS.name, 0),
                PARTY: self.rows.get(PARTIES.name, 0), REFERRAL: self.rows.get(REFERRALS.name, 0)}
        rows[SOURCE_REF] = rows[PERSON] + rows[INCIDENT] + rows[REFERRAL] + self.rows.get(PREVENTION.name, 0)
        return [table for table, n in rows.items()
                if n >= BULK_ROWS and n >= self.session.scalar(select(func.count()).select_from(table))]

    # --- reading -------------------------------------------------------------

    def _rows(self, spec: FileSpec) -> Iterator[Row]:
        path = self.files.get(spec.name)
        if path is None:
            return
        if self.progress is not None:
            self.progress.start(f"writing {spec.name}")
        self.report.files.setdefault(spec.name, FileCounts())  # a file of only a header shows too
        problems = Problems()
        for row in read_rows(path, spec, problems, progress=self.progress):
            if problems.count:
                break  # a row with a problem is never written
            yield row
        if problems:
            # Checked first: the files changed between the two passes. Checked apart: the check
            # reports what is wrong (`casework.exchange.apart`). Either way nothing is written.
            raise ImportFailed(["the data set changed while it was being imported", *problems.listed()])

    def _written(self, spec: FileSpec, rows: int) -> None:
        if self.progress is not None:
            self.progress.note(f"wrote {rows} rows of {spec.name}")
        if self.delay:
            time.sleep(self.delay)  # IMPORT_CHUNK_DELAY: a test-only setting to land a kill mid-write

    # --- areas (shared by the partnership, unique by name) ----------------------

    def write_areas(self) -> None:
        current = {r.name: r for r in self.session.execute(select(AREA))}
        self.areas = {name: r.id for name, r in current.items()}
        if AREAS.name not in self.files:
            return
        counts = self.report.files[AREAS.name]
        inserts: list[dict[str, Any]] = []
        for row in self._rows(AREAS):
            v = row.values
            values = {"locality": v["locality"], "asb_priority": v["asb_priority"],
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

    # --- the row's values, as the record's columns --------------------------------

    def _person_values(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"surname": v["surname"], "forenames": v["forenames"], "date_of_birth": v["date_of_birth"],
                "postcode": v["postcode"], "gender": v["gender"], "mental_health": v["mental_health"],
                "substance_misuse": v["substance_misuse"], "complex_needs": v["complex_needs"]}

    def _incident_values(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"occurred_on": v["occurred_on"], "category": v["category"], "domestic_abuse": v["domestic_abuse"],
                "recorded_by": v["recorded_by"], "locality": v["locality"],
                "area_id": self.areas[v["area"]] if v["area"] is not None else None,
                "rural": v["rural"], "alcohol": v["alcohol"], "drugs": v["drugs"],
                "mental_health": v["mental_health"], "asb_type": v["asb_type"]}

    def _referral_values(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"person_id": self._person_id(v["person_ref"]), "type": v["type"], "referred_on": v["referred_on"],
                "started_on": v["started_on"], "ended_on": v["ended_on"], "outcome": v["outcome"],
                "criteria": v["criteria"], "dash_score": v["dash_score"],
                "mappa_category": v["mappa_category"], "mappa_level": v["mappa_level"]}

    def _activity_values(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"occurred_on": v["occurred_on"], "kind": v["kind"], "friends_recruited": v["friends_recruited"],
                "savings_pence": v["savings_gbp"]}

    def _derived(self, table: Table, values: dict[str, Any]) -> dict[str, Any]:
        """Columns computed from the plain values: a person's blind indexes."""
        if table is not PERSON:
            return {}
        idx = crypto.person_indexes(self.ring, surname=values["surname"], forenames=values["forenames"],
                                    date_of_birth=values["date_of_birth"], postcode=values["postcode"])
        return {"bi_surname": idx.surname, "bi_full_name": idx.full_name, "bi_phonetic": idx.phonetic,
                "bi_dob": idx.dob, "bi_postcode": idx.postcode, "bi_phonetic_yob": idx.phonetic_yob}

    def _seal(self, table: Table, column: str, row_id: uuid.UUID, value: Any) -> bytes | None:
        if value is None:
            return None
        return crypto.seal(self.ring, crypto.encode_plain(value), table=table.name, column=column, row_id=row_id)

    def _unseal(self, table: Table, column: str, row_id: uuid.UUID, sealed: bytes | None) -> Any:
        if sealed is None:
            return None
        kind = dt.date if column == "date_of_birth" else str
        return crypto.decode_plain(crypto.unseal(self.ring, sealed, table=table.name, column=column, row_id=row_id),
                                   kind)

    # --- records with a ref -------------------------------------------------------

    def _records(self, spec: FileSpec, table: Table, kind: RecordKind,
                 values_of: Callable[[dict[str, Any]], dict[str, Any]], ids: dict[str, uuid.UUID] | None) -> None:
        assert spec.ref_column is not None
        for chunk in _chunks(self._rows(spec)):
            written, old = self._record_chunk(spec, table, kind, [(r.values[spec.ref_column], values_of(r.values))
                                                                 for r in chunk])
            if ids is not None:
                ids.update(written)
            if table is INCIDENT:
                self.old_incidents |= old
                if PARTIES.name in self.files:
                    self.replaced |= old
            self._written(spec, len(chunk))

    def _record_chunk(self, spec: FileSpec, table: Table, kind: RecordKind,
                      rows: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, uuid.UUID], set[uuid.UUID]]:
        """Write one chunk; the ids of its refs, and which of them existed before."""
        counts = self.report.files[spec.name]
        secrets = SECRETS.get(table.name, ())
        existing = self._lookup(kind, table, [ref for ref, _ in rows]) if self.prior[kind] else {}
        free, taken = self._generated_ids(table, [ref for ref, _ in rows if ref not in existing])
        existing.update(taken)  # an export's `casework:<id>` of a record that exists is that record
        current = {}
        protected: set[uuid.UUID] = set()
        if existing:
            columns = [table.c.id, *(table.c[name] for name in rows[0][1])]
            current = {r.id: r for r in self.session.execute(select(*columns).where(
                table.c.id.in_(list(existing.values()))))}
            protected = self._protected(table, list(current))
        ids: dict[str, uuid.UUID] = {}
        inserts: list[dict[str, Any]] = []
        refs: list[dict[str, Any]] = []
        updates: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
        for ref, values in rows:
            record_id = existing.get(ref)
            if record_id is not None and record_id in protected:
                ids[ref] = record_id  # its parties and referrals still resolve to it
                counts.protected += 1
                continue
            if record_id is not None and record_id in current:
                ids[ref] = record_id
                changed = self._changes(table, current[record_id], values, secrets)
                if changed:
                    updates[frozenset(changed)].append({"row_id": record_id, **{f"new_{k}": v
                                                                               for k, v in changed.items()}})
                    counts.updated += 1
                else:
                    counts.unchanged += 1
                continue
            record_id = free.get(ref)
            if record_id is not None:
                self.generated.add(record_id)
            else:
                record_id = self.new_id()
            ids[ref] = record_id
            row = {"id": record_id, "created_at": self.now, "updated_at": self.now,
                   "owner_agency_id": self.agency_id, **NEW_DEFAULTS[table.name], **values,
                   **self._derived(table, values)}
            for name in secrets:
                row[name] = self._seal(table, name, record_id, values[name])
            inserts.append(row)
            refs.append({"id": self.new_id(), "agency_id": self.agency_id, "kind": kind, "ref": ref,
                         "record_id": record_id, "created_at": self.now, "updated_at": self.now})
            counts.created += 1
        for columns, params in updates.items():
            sets: dict[str, Any] = {name: bindparam(f"new_{name}") for name in columns}
            sets["updated_at"] = self.now
            if "version" in table.c:
                sets["version"] = table.c.version + 1
            self.session.execute(update(table).where(table.c.id == bindparam("row_id")).values(sets), params)
        if inserts:
            if self.prior[kind]:
                # A ref whose record no longer exists is given to the new record.
                self.session.execute(delete(SOURCE_REF).where(
                    SOURCE_REF.c.agency_id == self.agency_id, SOURCE_REF.c.kind == kind,
                    SOURCE_REF.c.ref.in_([r["ref"] for r in refs])))
            insert_rows(self.session, table, inserts, now=self.now)
            insert_rows(self.session, SOURCE_REF, refs, now=self.now)
        return ids, set(current) - protected

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
                if self._unseal(table, name, current.id, getattr(current, name)) != value:
                    changed[name] = self._seal(table, name, current.id, value)
            elif getattr(current, name) != value:
                changed[name] = value
        if changed.keys() & set(secrets):
            changed.update(self._derived(table, values))
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
        for chunk in _chunks(self._rows(PARTIES)):
            self._resolve_incidents({r.values["incident_ref"] for r in chunk})
            self._resolve_people({r.values["person_ref"] for r in chunk})
            old = {self.incident_ids[r.values["incident_ref"]] for r in chunk} & self.old_incidents
            existing: dict[tuple[uuid.UUID, uuid.UUID, str], Any] = {}
            if old:
                for p in self.session.execute(select(PARTY).where(PARTY.c.incident_id.in_(list(old)))):
                    existing[(p.incident_id, p.person_id, p.role.value)] = p
            inserts, updates = [], []
            for row in chunk:
                v = row.values
                incident_id = self.incident_ids[v["incident_ref"]]
                person_id = self.person_ids[v["person_ref"]]
                key = (incident_id, person_id, v["role"].value)
                if person_id in merged:
                    if key in written:
                        counts.unchanged += 1
                        continue
                    written.add(key)
                party = existing.get(key)
                if party is None:
                    party_id = self.new_id()
                    inserts.append({"id": party_id, "incident_id": incident_id, "person_id": person_id,
                                    "role": v["role"], "cj_status": v["cj_status"],
                                    "created_at": self.now, "updated_at": self.now})
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

    def _people_with_several_refs(self) -> set[uuid.UUID]:
        rows = self.session.execute(
            select(SOURCE_REF.c.record_id)
            .where(SOURCE_REF.c.agency_id == self.agency_id, SOURCE_REF.c.kind == RecordKind.PERSON)
            .group_by(SOURCE_REF.c.record_id).having(func.count() > 1))
        return {row.record_id for row in rows}

    def _remove_replaced_parties(self, counts: FileCounts) -> None:
        replaced = list(self.replaced)
        for start in range(0, len(replaced), CHUNK):
            batch = replaced[start:start + CHUNK]
            gone = [pid for pid in self.session.scalars(select(PARTY.c.id).where(PARTY.c.incident_id.in_(batch)))
                    if pid not in self.kept_parties]
            if gone:
                self.session.execute(delete(PARTY).where(PARTY.c.id.in_(gone)))
                counts.removed += len(gone)

    def _resolve_incidents(self, refs: set[str]) -> None:
        missing = [ref for ref in refs if ref not in self.incident_ids]
        if missing:
            found = self._lookup(RecordKind.INCIDENT, INCIDENT, missing)
            self.incident_ids.update(found)
            self.old_incidents.update(found.values())

    def _resolve_people(self, refs: set[str]) -> None:
        missing = [ref for ref in refs if ref not in self.person_ids]
        if missing:
            self.person_ids.update(self._lookup(RecordKind.PERSON, PERSON, missing))
