"""Exporting records in the data exchange format: the files an import reads, sorted by ref,
money with two decimals, flags as y/n, CRLF line ends (RFC 4180), UTF-8 without a byte-order mark.

What is exported
    With an agency: the records it owns or holds a ref for, every party of its
    incidents, and the people those parties and its referrals name (whoever
    owns them: an export has to import on its own). All areas (they are the
    partnership's). Without an agency: every record. People merged into
    another are exported as the survivor.

What is written of a person
    An agency's export follows the rule of the pages (`policy.agency_open_filter`):
    - a person the agency owns, or one shared with it, that is not restricted:
      every column;
    - another agency's person not shared with it: the identity only (surname,
      forenames, date of birth, gender), as the agency's users see a match;
      postcode and the complex-needs markers are left blank ("not known");
    - a restricted person, whoever owns it and with or without an agency: the
      ref, the surname `WITHHELD_SURNAME` (the format requires one) and every
      other column blank. A restricted person is only ever seen by the users
      named on it, never by a whole agency, and the format cannot carry a
      restriction: whatever left in a file would be open to all in the system
      that imports it. The row keeps the parties and referrals that name the
      person importable, so the incidents keep their victims and perpetrators.
    Such a row is a stand-in, not the record. Importing the export back into the
    system it came from writes no blanks over the records: the import leaves
    restricted records and other agencies' records as they are (see
    `casework.exchange.importer`).

What is written of a restricted incident
    The same rule, whoever owns it and with or without an agency: the row is
    kept with what the measures count (date, category, domestic abuse, who
    recorded it, rural, the factors, the ASB type), so figures worked out from
    the export agree with the system's, but its locality and designated area
    are blank, and nothing links it to a person: its parties are left out of
    parties.csv, and an order's `incident_refs` leave it out. Nobody but the
    users named on it learns where it happened or who was involved; importing
    the export back leaves the incident, its parties and the orders' links to
    it as they are (`casework.exchange.importer`, `casework.exchange.orders`). An export hands records to another system; it
    is not a backup of this one.

Refs
    With an agency, a record is exported with that agency's ref for it (the
    first in sort order, when merges gave it several). A record the agency has
    no ref for (created in the web UI, or another agency's person named in its
    incidents) gets a generated ref, `casework:<record id>`. An export of all
    agencies uses generated refs for every record: agencies' refs collide with
    each other (the police's and the council's P0000001 are different people),
    record ids never do, and neither changes, so repeated exports give the same
    refs. Importing a generated ref creates the record with that id when it is
    free, so importing an export into an empty database and exporting it again
    gives the same files byte for byte.

Formulas
    No cell an export writes is text a spreadsheet would run as a formula (`casework.values`): such
    text is refused wherever it enters, by forms and imports alike, and written exactly as stored
    (the round trip stays exact: nothing is prefixed or escaped). A value stored before that rule
    could still trip it: then the export writes nothing (`ExportRefused`), listing each such cell
    by file, line, column and the record's ref, to be corrected on its page first.
    `casework export DIR --check` lists them without writing anything (run it after upgrading).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, and_, case, or_, select

from .. import crypto, policy, values
from ..db import db
from ..models import Agency, Person, RecordKind
from . import asb_reviews as asb_file
from .bulk import generated_ref
from .importer import AREA
from .orders import ORDER
from .orders import export_rows as export_orders
from .records import ACTIVITY, INCIDENT, PARTY, PERSON, REFERRAL, SECRETS, SOURCE_REF
from .schema import (
    AREAS,
    INCIDENTS,
    ORDERS,
    PARTIES,
    PEOPLE,
    PREVENTION,
    REFERRAL_TYPE_COLUMNS,
    REFERRALS,
    FileSpec,
)

WITHHELD_SURNAME = "Restricted"  # the surname of a restricted person's stand-in row (see the docstring)


class ExportRefused(Exception):
    """Values stored before the formula rule that a spreadsheet would run: nothing was written.
    `.problems` are `file:line: column: message`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} value(s) a spreadsheet would run as a formula; nothing was exported")
        self.problems = problems


@dataclass
class ExportReport:
    """The rows written to each file."""

    agency: str | None
    files: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [f"{name}: {rows} rows" for name, rows in self.files.items()]


def cell(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "y"
    if value is False:
        return "n"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def pounds(pence: int | None) -> str:
    return "" if pence is None else f"{pence // 100}.{pence % 100:02d}"


class _Refs:
    """The ref each exported record goes by (see the module's docstring)."""

    def __init__(self, agency: Agency | None) -> None:
        self.own: dict[RecordKind, dict[uuid.UUID, str]] = {kind: {} for kind in RecordKind}
        self.taken: dict[RecordKind, set[str]] = {kind: set() for kind in RecordKind}
        if agency is None:
            return
        query = (select(SOURCE_REF.c.kind, SOURCE_REF.c.ref, SOURCE_REF.c.record_id)
                 .where(SOURCE_REF.c.agency_id == agency.id))
        for kind, ref, record_id in db.session.execute(query):
            kind = RecordKind(kind)
            known = self.own[kind].get(record_id)
            if known is None or ref < known:
                self.own[kind][record_id] = ref
            self.taken[kind].add(ref)

    def __call__(self, kind: RecordKind, record_id: uuid.UUID) -> str:
        ref = self.own[kind].get(record_id)
        if ref is not None:
            return ref
        ref = generated_ref(record_id)
        # The agency may hold this very text as a ref of another record (imported from
        # another system's export): keep the file's refs unique.
        while ref in self.taken[kind]:
            ref += "~"
        return ref


def _mine(table: Table, kind: RecordKind, agency: Agency | None) -> Any:
    """Rows of `table` an agency's export holds: those it owns or has a ref for."""
    if agency is None:
        return True
    refs = select(SOURCE_REF.c.record_id).where(SOURCE_REF.c.agency_id == agency.id, SOURCE_REF.c.kind == kind)
    return or_(table.c.owner_agency_id == agency.id, table.c.id.in_(refs))


def export_dataset(directory: Path, *, agency: Agency | None = None, check: bool = False) -> ExportReport:
    """Write the records of `agency` (or of every agency) as a data set into `directory`.

    Reads only; the six files are replaced whole, and together (each written aside, then all
    renamed). A cell a spreadsheet would run as a formula (stored before the rule) raises
    `ExportRefused` and nothing is written; `check` writes nothing in any case.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    session = db.session
    session.flush()
    report = ExportReport(agency.name if agency else None)
    staged = _Staged(directory)
    try:
        _export(staged, report, agency)
    except BaseException:
        staged.discard()
        raise
    if staged.problems or check:
        staged.discard()
        if staged.problems:
            raise ExportRefused(staged.problems)
        return report
    staged.commit()
    # The audit trail records the export here, once: agency, folder and report.files.
    from ..services import audit

    audit.record_exchange("export", agency_id=agency.id if agency else None, file_name=directory.name,
                          counts=dict(report.files))
    return report


class _Staged:
    """The files of an export written aside, renamed into place together; the cells that trip the
    formula rule (`casework.values`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: list[tuple[Path, Path]] = []
        self.problems: list[str] = []

    def commit(self) -> None:
        for aside, target in self.files:
            os.replace(aside, target)

    def discard(self) -> None:
        for aside, _ in self.files:
            aside.unlink(missing_ok=True)


def _export(staged: _Staged, report: ExportReport, agency: Agency | None) -> None:
    session = db.session
    ref = _Refs(agency)
    ring = crypto.current()

    merged = {r.id: r.merged_into_id for r in session.execute(
        select(PERSON.c.id, PERSON.c.merged_into_id).where(PERSON.c.merged_into_id.is_not(None)))}

    def survivor(person_id: uuid.UUID) -> uuid.UUID:
        seen = set()
        while person_id in merged and person_id not in seen:
            seen.add(person_id)
            person_id = merged[person_id]
        return person_id

    areas = session.execute(select(AREA).order_by(AREA.c.name)).all()
    area_names = {a.id: a.name for a in areas}
    _write(staged, AREAS, report, ([a.name, a.locality, a.asb_priority, a.sv_hotspot, a.rural_hotspot]
                                      for a in areas), sort=False)

    incident_filter = _mine(INCIDENT, RecordKind.INCIDENT, agency)
    incidents = [
        [ref(RecordKind.INCIDENT, i.id), i.occurred_on, i.category, i.domestic_abuse, i.recorded_by,
         None if i.restricted else i.locality,  # where a restricted incident happened is withheld
         area_names.get(i.area_id) if i.area_id and not i.restricted else None,
         i.rural, i.alcohol, i.drugs, i.mental_health, i.asb_type, i.reported_on]
        for i in session.execute(select(INCIDENT).where(incident_filter))
    ]
    _write(staged, INCIDENTS, report, incidents)
    del incidents

    survivors: set[uuid.UUID] = set()  # people named through one merged into them
    parties: dict[tuple[str, str, str], list[Any]] = {}
    # Nothing links a restricted incident to a person: its parties and orders' links are withheld.
    linkable = and_(incident_filter, INCIDENT.c.restricted.is_(False))
    party_linkable = PARTY.c.incident_id.in_(select(INCIDENT.c.id).where(linkable))
    party_query = select(PARTY).where(party_linkable)
    for p in session.execute(party_query):
        person_id = survivor(p.person_id)
        if person_id != p.person_id:
            survivors.add(person_id)
        key = (ref(RecordKind.INCIDENT, p.incident_id), ref(RecordKind.PERSON, person_id), p.role.value)
        # Two parties can become one when their people were merged; a known status wins.
        if key not in parties or parties[key][3] is None:
            parties[key] = [*key, p.cj_status]
    _write(staged, PARTIES, report, parties.values())
    del parties

    referrals = []
    referral_filter = _mine(REFERRAL, RecordKind.REFERRAL, agency)
    for r in session.execute(select(REFERRAL).where(referral_filter)):
        person_id = survivor(r.person_id)
        if person_id != r.person_id:
            survivors.add(person_id)
        allowed = REFERRAL_TYPE_COLUMNS[r.type]
        referrals.append([ref(RecordKind.REFERRAL, r.id), ref(RecordKind.PERSON, person_id), r.type, r.referred_on]
                         + [getattr(r, name) if name in allowed else None
                            for name in ("started_on", "ended_on", "outcome", "criteria", "dash_score",
                                         "mappa_category", "mappa_level")])
    _write(staged, REFERRALS, report, referrals)
    del referrals

    order_rows, order_people = export_orders(session, ref=ref, mine=_mine(ORDER, RecordKind.ORDER, agency),
                                             incident_filter=linkable, survivor=survivor)
    _write(staged, ORDERS, report, order_rows)  # orders.csv (issue 17 §2)
    survivors |= order_people
    del order_rows

    applications, survivors_named = asb_file.export_rows(agency, ref, survivor)  # asb_case_reviews.csv
    survivors |= survivors_named
    _write(staged, asb_file.ASB_CASE_REVIEWS, report, applications)
    del applications

    people = []
    columns = [PERSON.c[name] for name in ("id", "merged_into_id", *SECRETS["person"], "gender", "mental_health",
                                           "substance_misuse", "complex_needs")]
    person_filter = _mine(PERSON, RecordKind.PERSON, agency)
    if agency is not None:
        # An agency's export carries the people its parties and referrals name, whoever owns them.
        person_filter = or_(
            person_filter,
            PERSON.c.id.in_(select(PARTY.c.person_id).where(party_linkable)),
            PERSON.c.id.in_(select(REFERRAL.c.person_id).where(referral_filter)),
            PERSON.c.id.in_(list(survivors)),
        )
    full = PERSON.c.restricted.is_(False) if agency is None else policy.agency_open_filter(agency.id, Person)
    shown = select(*columns, PERSON.c.restricted, case((full, True), else_=False).label("full"))
    for p in session.execute(shown.where(person_filter)):
        if p.merged_into_id is not None:
            continue  # its refs and parties are the survivor's
        people.append(_person_row(ring, ref(RecordKind.PERSON, p.id), p))
    _write(staged, PEOPLE, report, people)
    del people

    activities = [[ref(RecordKind.ACTIVITY, a.id), a.occurred_on, a.kind, a.friends_recruited,
                   pounds(a.savings_pence)]
                  for a in session.execute(select(ACTIVITY).where(_mine(ACTIVITY, RecordKind.ACTIVITY, agency)))]
    _write(staged, PREVENTION, report, activities)


def _person_row(ring: crypto.Keyring, person_ref: str, p: Any) -> list[Any]:
    """What the export writes of a person (see the module's docstring): all of it, the identity
    only, or a stand-in holding nothing but the ref."""
    if p.restricted:
        return [person_ref, WITHHELD_SURNAME, None, None, None, None, None, None, None]
    identity = [_unseal(ring, name, p.id, getattr(p, name)) for name in ("surname", "forenames", "date_of_birth")]
    if not p.full:
        return [person_ref, *identity, p.gender, None, None, None, None]
    postcode = _unseal(ring, "postcode", p.id, p.postcode)
    return [person_ref, *identity, p.gender, postcode, p.mental_health, p.substance_misuse, p.complex_needs]


def _unseal(ring: crypto.Keyring, column: str, row_id: uuid.UUID, sealed: bytes | None) -> Any:
    if sealed is None:
        return None
    kind = dt.date if column == "date_of_birth" else str
    return crypto.decode_plain(crypto.unseal(ring, sealed, table="person", column=column, row_id=row_id), kind)


def _write(staged: _Staged, spec: FileSpec, report: ExportReport, rows: Iterable[list[Any]], *,
           sort: bool = True) -> None:
    target = staged.directory / spec.name
    aside = staged.directory / f".{spec.name}.part"
    texts = [[cell(v) for v in row] for row in rows]
    if sort:
        texts.sort()
    may_be_formula = values.may_be_formula
    for line, row in enumerate(texts, start=2):
        if not any(map(may_be_formula, row)):
            continue
        for column, text in zip(spec.header, row):
            if values.formula_problem(text):
                staged.problems.append(
                    f"{spec.name}:{line}: {column}: the record {row[0]!r} holds text a spreadsheet would run as a "
                    "formula (stored before the rule that now refuses it): correct it on its page, then export again")
    staged.files.append((aside, target))
    with aside.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(spec.header)
        writer.writerows(texts)
    report.files[spec.name] = len(texts)
