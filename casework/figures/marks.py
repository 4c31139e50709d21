"""The stored repeat marks (`party_mark`) and their per-person summaries: refresh, check, rebuild.

The marks are the rows of the one repeat rule, `casework.risk.repeats.repeat_marks`, stored per
party so that the measures read them instead of running the rule's window over every incident.
They stay exact because every change that can move a mark refreshes the marks of the people
concerned, in the same transaction (`casework.figures.upkeep` says who calls `refresh_repeat_marks`).

A person's marks depend only on their own parties (the rule looks back over the same person's rows
in the same role), so refreshing a person recomputes their whole history: an incident dated late,
before others, changes the marks of the later ones too. `check_repeat_marks` compares the table
with the rule; `rebuild_repeat_marks` remakes it (`casework measures check` / `rebuild`).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Select,
    String,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..measures.figures import financial_year, first_of_month
from ..models import Incident, Person
from ..models.mark import MARK_KINDS, party_mark, person_month_mark, person_year_count, person_year_mark
from ..risk.repeats import repeat_marks
from . import months as monthly

CHUNK = 500  # people per refresh statement (bound parameters stay well under every limit)
# A refresh of more than this share of everyone is done as one full rebuild: one pass of the
# rule's window over all rows costs less than hundreds of thousands of per-person look-ups.
FULL_REBUILD_SHARE = 0.25

YEAR_COLUMNS = ("start_year", "person_id", "role", "kind", "repeat")
COUNT_COLUMNS = ("start_year", "kind", "role", "people", "repeats")
MONTH_COLUMNS = ("month", "locality", "person_id", "role", "kind", "repeat")
COLUMNS = ("incident_id", "person_id", "role", "occurred_on", *(f"is_{k}" for k in MARK_KINDS),
           *(f"repeat_{k}" for k in MARK_KINDS))


# --- the rule's rows, as stored -----------------------------------------------------------------


def rule_rows(person_ids: list[uuid.UUID] | None = None) -> Select[Any]:
    """What `party_mark` must hold (for some people, or everyone): the rule's rows, flags as booleans."""
    m = repeat_marks(person_ids=person_ids).subquery("rule")
    return select(m.c.incident_id, m.c.person_id, m.c.role, m.c.occurred_on,
                  *((m.c[f"is_{k}"] == 1).label(f"is_{k}") for k in MARK_KINDS),
                  *((m.c[f"repeat_{k}"] == 1).label(f"repeat_{k}") for k in MARK_KINDS))


def refresh_repeat_marks(session: Session, *, person_ids: Iterable[uuid.UUID | None]) -> int:
    """Recompute every mark of the given people from the rule (their whole history); returns how
    many people were refreshed. Many people at once are refreshed by a full rebuild."""
    ids = sorted({pid for pid in person_ids if pid is not None})
    if not ids:
        return 0
    connection = session.connection()
    monthly.lock_figures(connection)
    if len(ids) > 5 * CHUNK:
        everyone = connection.scalar(select(func.count()).select_from(Person.__table__)) or 0
        if len(ids) >= FULL_REBUILD_SHARE * everyone:
            _rebuild(connection)
            monthly.note_all(session)
            monthly.flush_months(session)
            return len(ids)
    statements = _refresh_statements(connection.dialect.name)
    months: set[Any] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        before = set(connection.execute(statements[0], {"person_ids": chunk}))
        for statement in statements[1:]:
            connection.execute(statement, {"person_ids": chunk})
        after = set(connection.execute(statements[0], {"person_ids": chunk}))
        # The monthly figures of the months whose marks moved, and of the people's programme
        # starts (DA4 counts a starter's reoffending in the month of their start).
        months.update(monthly.month(row.occurred_on) for row in before ^ after)
        months.update(monthly.programme_months(connection, chunk))
    monthly.note(session, months)
    monthly.flush_months(session)
    return len(ids)


@functools.cache
def _refresh_statements(dialect: str) -> tuple[Any, ...]:
    """The statements of a refresh (the marks before, then replacing them and the person-year
    summaries, their counts following), built once per kind of database (building the rule's
    statement costs more than running it for a few people); the people are an expanding parameter."""
    people: Any = bindparam("person_ids", expanding=True)
    return (select(*(party_mark.c[name] for name in COLUMNS)).where(party_mark.c.person_id.in_(people)),
            delete(party_mark).where(party_mark.c.person_id.in_(people)),
            insert(party_mark).from_select(COLUMNS, rule_rows(people)),
            _add_counts(dialect, people, sign=-1),
            delete(person_year_mark).where(person_year_mark.c.person_id.in_(people)),
            insert(person_year_mark).from_select(YEAR_COLUMNS, person_year_rows(people)),
            _add_counts(dialect, people, sign=1),
            delete(person_month_mark).where(person_month_mark.c.person_id.in_(people)),
            insert(person_month_mark).from_select(MONTH_COLUMNS, person_month_rows(people)))


def person_year_counts(person_ids: Any = None, *, sign: int = 1) -> Select[Any]:
    """`person_year_mark` counted per year, kind and role (of some people, times `sign`), as
    `person_year_count` holds it for everyone."""
    py = person_year_mark
    query = (select(py.c.start_year, py.c.kind, py.c.role, (sign * func.count()).label("people"),
                    (sign * func.sum(case((py.c.repeat.is_(True), 1), else_=0))).label("repeats"))
             .group_by(py.c.start_year, py.c.kind, py.c.role))
    if person_ids is not None:
        query = query.where(py.c.person_id.in_(person_ids))
    return query


def _add_counts(dialect: str, person_ids: Any, *, sign: int) -> Any:
    """Add (sign 1) or subtract (sign -1) the people's person-year rows to or from the counts: an
    INSERT of the groups not yet counted that adds to those that are."""
    return monthly.adding(dialect, person_year_count, keys=("start_year", "kind", "role"), added=("people", "repeats"),
                          rows=(COUNT_COLUMNS, person_year_counts(person_ids, sign=sign)))


def person_year_rows(person_ids: Any = None) -> Any:
    """What `person_year_mark` must hold: from the stored marks, per person, financial year, role and
    kind, whether any of their kind-K incidents that year was a repeat for them."""
    selects = []
    for kind in MARK_KINDS:
        year = financial_year(party_mark.c.occurred_on)
        query = (select(year.label("start_year"), party_mark.c.person_id, party_mark.c.role,
                        literal(kind, String(16)).label("kind"),
                        (func.max(case((party_mark.c[f"repeat_{kind}"].is_(True), 1), else_=0)) == 1).label("repeat"))
                 .where(party_mark.c[f"is_{kind}"].is_(True)).group_by(year, party_mark.c.person_id, party_mark.c.role))
        if person_ids is not None:
            query = query.where(party_mark.c.person_id.in_(person_ids))
        selects.append(query)
    return union_all(*selects)


def person_month_rows(person_ids: Any = None) -> Any:
    """What `person_month_mark` must hold: as `person_year_rows`, per month and locality."""
    i = Incident.__table__
    selects = []
    for kind in MARK_KINDS:
        month, locality = first_of_month(party_mark.c.occurred_on), func.coalesce(i.c.locality, "")
        query = (select(month.label("month"), locality.label("locality"), party_mark.c.person_id, party_mark.c.role,
                        literal(kind, String(16)).label("kind"),
                        (func.max(case((party_mark.c[f"repeat_{kind}"].is_(True), 1), else_=0)) == 1).label("repeat"))
                 .select_from(party_mark.join(i, i.c.id == party_mark.c.incident_id))
                 .where(party_mark.c[f"is_{kind}"].is_(True))
                 .group_by(month, locality, party_mark.c.person_id, party_mark.c.role))
        if person_ids is not None:
            query = query.where(party_mark.c.person_id.in_(person_ids))
        selects.append(query)
    return union_all(*selects)


def rebuild_repeat_marks(session: Session) -> int:
    """Remake every stored mark from the rule, the person-year summaries and the monthly figures;
    returns the number of marks."""
    rows = _rebuild(session.connection())
    monthly.rebuild_months(session)
    return rows


def _rebuild(connection: Connection) -> int:
    """Every row written afresh, in primary key order; on SQLite with the secondary indexes built once
    after (inserting hundreds of thousands of rows in random key order into live indexes costs more
    than computing them; SQLite readers keep their snapshot meanwhile, whereas PostgreSQL would
    lock the tables against readers for the whole rebuild)."""
    monthly.lock_figures(connection)
    rebuild_indexes = connection.dialect.name == "sqlite"
    for table, columns, rows in ((party_mark, COLUMNS, rule_rows()),
                                 (person_year_mark, YEAR_COLUMNS, person_year_rows()),
                                 (person_month_mark, MONTH_COLUMNS, person_month_rows())):
        connection.execute(delete(table))
        indexes = list(table.indexes) if rebuild_indexes else []
        for index in indexes:
            index.drop(connection)
        ordered = rows.subquery("fresh")
        key = [ordered.c[c.name] for c in table.primary_key.columns]
        connection.execute(insert(table).from_select(columns, select(*(ordered.c[c] for c in columns)).order_by(*key)))
        for index in indexes:
            index.create(connection)
    rebuild_counts(connection)
    return int(connection.scalar(select(func.count()).select_from(party_mark)) or 0)


def rebuild_counts(connection: Connection) -> None:
    """Remake `person_year_count` from `person_year_mark` (the migration that adds it uses this too)."""
    connection.execute(delete(person_year_count))
    connection.execute(insert(person_year_count).from_select(COUNT_COLUMNS, person_year_counts()))


@dataclass(frozen=True)
class Discrepancy:
    """A stored mark row that differs from the rule: `missing` (the rule has it, the table not),
    `stale` (the table has it, the rule not) or `wrong` (both, with different marks); or `year`,
    a person's yearly summary that differs from their marks; or `count`, a year's count of people
    that differs from the yearly summaries."""

    incident_id: uuid.UUID | None
    person_id: uuid.UUID | None
    role: str
    problem: str
    expected: dict[str, Any] | None
    stored: dict[str, Any] | None

    def describe(self) -> str:
        if self.problem == "wrong":
            assert self.expected is not None and self.stored is not None
            fields = ", ".join(f"{k} {self.stored[k]} (should be {self.expected[k]})"
                               for k in COLUMNS if self.stored[k] != self.expected[k])
            return f"incident {self.incident_id}, person {self.person_id} as {self.role}: {fields}"
        if self.problem == "count":
            assert self.stored is not None
            return (f"{self.stored['kind']} {self.role} in {self.stored['start_year']}: counted "
                    f"{self.stored.get('people', 0)} people ({self.stored.get('repeats', 0)} repeats), should be "
                    f"{(self.expected or {}).get('people', 0)} ({(self.expected or {}).get('repeats', 0)})")
        if self.problem == "year":
            assert self.stored is not None
            return (f"person {self.person_id} as {self.role}, {self.stored['kind']} in {self.stored['start_year']}: "
                    "the yearly or monthly summary differs from the marks")
        what = "no stored marks" if self.problem == "missing" else "stored marks the rule does not give"
        return f"incident {self.incident_id}, person {self.person_id} as {self.role}: {what}"


def check_repeat_marks(session: Session, *, limit: int | None = None) -> list[Discrepancy]:
    """Recompute every mark with the rule and compare with the table; the differences (at most
    `limit` rows of each side), empty when the stored marks are exact."""
    stored = select(*(party_mark.c[name] for name in COLUMNS))
    expected = rule_rows()
    only_expected = expected.except_(stored)
    only_stored = stored.except_(expected)
    if limit is not None:
        only_expected, only_stored = only_expected.limit(limit), only_stored.limit(limit)
    connection = session.connection()

    def keyed(query: Any) -> dict[tuple[Any, ...], dict[str, Any]]:
        rows = connection.execute(query).mappings()
        return {(r["incident_id"], r["person_id"], _text(r["role"])): _normal(r) for r in rows}

    want, have = keyed(only_expected), keyed(only_stored)
    found = []
    for key in sorted(want.keys() | have.keys(), key=str):
        problem = "wrong" if key in want and key in have else "missing" if key in want else "stale"
        found.append(Discrepancy(key[0], key[1], key[2], problem=problem, expected=want.get(key),
                                 stored=have.get(key)))
    # The per-person yearly and monthly summaries, against the marks.
    for table, rows, columns, when in ((person_year_mark, person_year_rows, YEAR_COLUMNS, "start_year"),
                                       (person_month_mark, person_month_rows, MONTH_COLUMNS, "month")):
        summed = rows().subquery("summed")
        from_marks = select(*(summed.c[name] for name in columns))
        kept = select(*(table.c[name] for name in columns))
        differing = [*connection.execute(kept.except_(from_marks)), *connection.execute(from_marks.except_(kept))]
        for row in differing:
            found.append(Discrepancy(None, row.person_id, _text(row.role), problem="year",
                                     expected=None, stored={"start_year": getattr(row, when), "kind": row.kind}))
    # The counts per year, kind and role, against the yearly summaries (a group counted down to
    # nobody may stay as a row of zeros).
    def counts(query: Any) -> dict[tuple[Any, ...], dict[str, int]]:
        return {(r.start_year, r.kind, _text(r.role)): {"people": int(r.people), "repeats": int(r.repeats or 0)}
                for r in connection.execute(query) if r.people or r.repeats}

    kept_counts, fresh_counts = counts(select(person_year_count)), counts(person_year_counts())
    for key in sorted(kept_counts.keys() | fresh_counts.keys(), key=str):
        if kept_counts.get(key) != fresh_counts.get(key):
            found.append(Discrepancy(None, None, key[2], problem="count", expected=fresh_counts.get(key),
                                     stored={"start_year": key[0], "kind": key[1], **kept_counts.get(key, {})}))
    return found


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))


def _normal(row: Any) -> dict[str, Any]:
    values = dict(row)
    values["role"] = _text(values["role"])
    for name in COLUMNS[4:]:
        values[name] = bool(values[name])
    return values
