"""The first pass of an import: every row of every file is checked, and nothing is written.

What is kept in memory is only what the checks need: the refs (and area names)
of the data set, to find duplicates and dangling references, and a 64-bit hash
per party row to find repeated parties (a hash seen twice is confirmed by
reading the file again, so a hash collision can never report a false problem).
References to records that are not in the data set are looked up in the
database in batches.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select

from ..db import db
from ..models import Agency, Area, Incident, Locality, Person, RecordKind, SourceRef, locality_key
from .asb_reviews import ASB_CASE_REVIEWS
from .bulk import generated_id
from .reader import NO_COLUMN, Problems, Progress, Row, read_rows, regular_file_problem
from .schema import AREAS, BY_NAME, INCIDENTS, ORDERS, PARTIES, PEOPLE, PREVENTION, REFERRALS, FileSpec

LOOKUP_BATCH = 2000


@dataclass
class Checked:
    """The files of a data set that passed its checks."""

    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # data rows per file

    @property
    def total_bytes(self) -> int:
        return sum(p.lstat().st_size for p in self.files.values())


def find_files(directory: Path, problems: Problems) -> dict[str, Path]:
    """The data set's files by name; a CSV file of another name is a problem (a typo must not
    silently leave a file out), and so is a file of the format that is not a regular file in the
    folder (a symbolic link, say, to a file elsewhere): it is never read, and nothing of it shown."""
    if not directory.is_dir():
        problems.add(str(directory), 0, NO_COLUMN, "not a folder")
        return {}
    found: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.name in BY_NAME or path.name == ASB_CASE_REVIEWS.name:
            problem = regular_file_problem(path)
            if problem is None:
                found[path.name] = path
            else:
                problems.add(path.name, 1, NO_COLUMN, problem)
        elif path.suffix.lower() == ".csv":
            problems.add(path.name, 1, NO_COLUMN,
                         f"not a file of the exchange format; the files are "
                         f"{', '.join([*BY_NAME, ASB_CASE_REVIEWS.name])}")
    return found


TABLES: dict[RecordKind, Table] = {
    RecordKind.PERSON: Person.__table__,
    RecordKind.INCIDENT: Incident.__table__,
}


Position = tuple[str, int, str]  # file, line, column of a reference
Waiting = dict[str, list[Position]]  # refs to look up, with where each was given


class _References:
    """References from rows to people or incidents outside the data set, collected a batch at a
    time and handed to `settle` (a lookup here, or the importing process when the files are
    checked in a process of their own)."""

    def __init__(self, settle: Callable[[RecordKind, Waiting], None]) -> None:
        self.settle_batch = settle
        self.waiting: dict[RecordKind, Waiting] = defaultdict(dict)
        self.size = 0

    def need(self, kind: RecordKind, ref: str, file: str, line: int, column: str) -> None:
        self.waiting[kind].setdefault(ref, []).append((file, line, column))
        self.size += 1
        if self.size >= LOOKUP_BATCH:
            self.settle()

    def settle(self) -> None:
        for kind, waiting in self.waiting.items():
            if waiting:
                self.settle_batch(kind, waiting)
        self.waiting = defaultdict(dict)
        self.size = 0


class Lookup:
    """Looks references up among the agency's records in the database, reporting those missing."""

    def __init__(self, agency: Agency, problems: Problems, *, written: Collection[uuid.UUID] = frozenset()) -> None:
        self.agency = agency
        self.problems = problems
        # Records this import has written already with the ids of their `casework:<id>` refs: they
        # answer no reference (a lookup after the writing must answer as the database before it).
        self.written = written
        self.known: dict[RecordKind, set[str]] = defaultdict(set)  # found already: no query again

    def __call__(self, kind: RecordKind, waiting: Waiting) -> None:
        refs = [ref for ref in waiting if ref not in self.known[kind]]
        for start in range(0, len(refs), LOOKUP_BATCH):
            batch = refs[start:start + LOOKUP_BATCH]
            found = set(db.session.scalars(_existing_refs(self.agency, kind, TABLES[kind], batch)))
            found |= _existing_generated_refs(TABLES[kind], batch, leaving_out=self.written)
            self.known[kind] |= found
            for ref in batch:
                if ref in found:
                    continue
                for file, line, column in waiting[ref]:
                    self.problems.add(file, line, column,
                                      f"no {kind.value} {ref} in this data set or from {self.agency.name}")


def _existing_refs(agency: Agency, kind: RecordKind, table: Table, refs: list[str]) -> Any:
    """The refs among `refs` that the agency has for records that still exist."""
    sr = SourceRef.__table__
    return (select(sr.c.ref).join(table, table.c.id == sr.c.record_id)
            .where(sr.c.agency_id == agency.id, sr.c.kind == kind, sr.c.ref.in_(refs)))


def _existing_generated_refs(table: Table, refs: list[str],
                             leaving_out: Collection[uuid.UUID] = frozenset()) -> set[str]:
    """The refs among `refs` of the form `casework:<id>` (an export's, for a record without the
    agency's own ref) whose record exists (and is not among `leaving_out`)."""
    wanted: dict[uuid.UUID, list[str]] = defaultdict(list)  # one id may be spelt more ways than one
    for ref in refs:
        rid = generated_id(ref)
        if rid is not None and rid not in leaving_out:
            wanted[rid].append(ref)
    if not wanted:
        return set()
    return {ref for rid in db.session.scalars(select(table.c.id).where(table.c.id.in_(list(wanted))))
            for ref in wanted[rid]}


def check_dataset(files: dict[str, Path], *, agency: Agency, problems: Problems,
                  progress: Progress | None = None) -> Checked:
    """Check every row of every file (given by `find_files`), and the references to records outside
    the data set in the database; problems go to `problems`. Writes nothing."""
    return check_files(files, problems=problems, area_names=set(db.session.scalars(select(Area.name))),
                       localities=locality_keys(), settle=Lookup(agency, problems), progress=progress)


def locality_keys() -> set[str]:
    """The partnership's localities, folded as `locality_key` folds a name to match it."""
    return set(db.session.scalars(select(Locality.key)))


def _check_locality(file: str, row: Any, localities: set[str], problems: Problems) -> None:
    value = row.values["locality"]
    if value is not None and locality_key(value) not in localities:
        problems.add(file, row.line, "locality", f"{value!r} is not a locality in the partnership's list "
                                                 f"(`casework localities list`; case and spacing do not count)")


def check_files(files: dict[str, Path], *, problems: Problems, area_names: set[str], localities: set[str],
                settle: Callable[[RecordKind, Waiting], None], progress: Progress | None = None) -> Checked:
    """Check every row of every file (given by `find_files`), without the database: the areas
    that exist are `area_names`, the localities' keys `localities`, and references to people and incidents outside the data set
    go to `settle`, a batch at a time."""
    checked = Checked(files)
    if progress is not None:
        progress.total = max(2 * checked.total_bytes, 1)
    unusable: set[str] = set()
    references = _References(settle)
    area_names = set(area_names)
    dataset_areas: set[str] = set()
    people: set[str] = set()
    incidents: set[str] = set()

    def rows(spec: FileSpec) -> Iterator[Row]:
        path = checked.files.get(spec.name)
        if path is None:
            return
        if progress is not None:
            progress.start(f"checking {spec.name}")
        count = 0
        for row in read_rows(path, spec, problems, progress=progress, unusable=unusable):
            count += 1
            yield row
        checked.rows[spec.name] = count

    for row in rows(AREAS):
        name = row.values["area"]
        if name is None:
            continue
        if name in dataset_areas:
            problems.add(AREAS.name, row.line, "area", f"{name} is given more than once")
        dataset_areas.add(name)
        _check_locality(AREAS.name, row, localities, problems)
    area_names |= dataset_areas

    for _row in _unique_refs(rows(PEOPLE), PEOPLE.name, "person_ref", problems, people):
        pass

    for row in _unique_refs(rows(INCIDENTS), INCIDENTS.name, "incident_ref", problems, incidents):
        area = row.values["area"]
        if area is not None and area not in area_names and AREAS.name not in unusable:
            problems.add(INCIDENTS.name, row.line, "area", f"no area called {area!r} in areas.csv or the system")
        _check_locality(INCIDENTS.name, row, localities, problems)

    def person(ref: str | None, file: str, line: int) -> None:
        if ref is not None and ref not in people and PEOPLE.name not in unusable:
            references.need(RecordKind.PERSON, ref, file, line, "person_ref")

    seen: set[int] = set()
    repeated: set[int] = set()
    for row in rows(PARTIES):
        v = row.values
        if v["incident_ref"] is not None and v["incident_ref"] not in incidents and INCIDENTS.name not in unusable:
            references.need(RecordKind.INCIDENT, v["incident_ref"], PARTIES.name, row.line, "incident_ref")
        person(v["person_ref"], PARTIES.name, row.line)
        if row.ok:
            key = hash((v["incident_ref"], v["person_ref"], v["role"].value))
            if key in seen:
                repeated.add(key)
            seen.add(key)
    seen.clear()
    if repeated:
        _report_repeated_parties(checked.files[PARTIES.name], repeated, problems)

    from .orders import check_references  # orders.csv (issue 17 §2)

    check_references(rows(ORDERS), need=references.need, people=people, incidents=incidents,
                     people_usable=PEOPLE.name not in unusable, incidents_usable=INCIDENTS.name not in unusable,
                     refs_seen=set(), problems=problems)
    incidents.clear()  # no longer needed: let a large data set's refs go before the next files
    for row in _unique_refs(rows(REFERRALS), REFERRALS.name, "referral_ref", problems, set()):
        person(row.values["person_ref"], REFERRALS.name, row.line)
    references.settle()
    people.clear()

    for _row in _unique_refs(rows(PREVENTION), PREVENTION.name, "activity_ref", problems, set()):
        pass
    return checked


def _unique_refs(rows, file: str, column: str, problems: Problems, refs: set[str]):  # type: ignore[no-untyped-def]
    """The rows, noting in `refs` each row's ref and reporting a ref given twice."""
    for row in rows:
        ref = row.values[column]
        if ref is not None:
            if ref in refs:
                problems.add(file, row.line, column, f"{ref} is given more than once in {file}")
            refs.add(ref)
        yield row


def _report_repeated_parties(path: Path, suspects: set[int], problems: Problems) -> None:
    first: dict[tuple[str, str, str], int] = {}
    for row in read_rows(path, PARTIES, Problems(), check_rows=False):
        v = row.values
        if not row.ok:
            continue
        key = (v["incident_ref"], v["person_ref"], v["role"].value)
        if hash(key) not in suspects:
            continue
        if key in first:
            problems.add(PARTIES.name, row.line, NO_COLUMN,
                         f"{key[1]} is already a {key[2]} of incident {key[0]} (line {first[key]})")
        else:
            first[key] = row.line
