"""Stored repeat marks (`party_mark`), kept exact: refresh, check and rebuild.

The marks are the rows of the one repeat rule, `casework.risk.repeats.repeat_marks`,
stored per party so that the measures read them instead of running the rule's
window over every incident. They stay exact because every change that can move
a mark refreshes the marks of the people concerned, in the same transaction:

- ORM flushes: the listeners in `casework.models.mark` note the people of every
  party written or deleted, and of every incident whose date or kind changed or
  that is deleted; `after_flush` refreshes them.
- Statements run through a Session (`session.execute(update(Party)...)`, as a
  merge does): the people the statement touches are found before (and, for an
  UPDATE, after) it runs, and refreshed.
- Bulk writers that go around the Session (the importer's INSERTs) run inside
  `deferred(session)` and add the people of the parties they write; everything
  is refreshed once, set-based, when the block ends.

A person's marks depend only on their own parties (the rule looks back over the
same person's rows in the same role), so refreshing a person recomputes their
whole history: an incident dated late, before others, changes the marks of the
later ones too. `check_repeat_marks` compares the table with the rule;
`rebuild_repeat_marks` remakes it (the nightly job calls both).
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql.elements import BindParameter

from ..models import Incident, Party, Person
from ..models.mark import MARK_KINDS, party_mark
from ..risk.repeats import repeat_marks

PENDING = "casework.marks.pending"    # session.info: people to refresh at the end of this flush
DEFERRED = "casework.marks.deferred"  # session.info: a bulk writer refreshes once, at its end
EVERYONE = "casework.marks.everyone"  # session.info: a change whose people can't be known: rebuild

CHUNK = 500  # people per refresh statement (bound parameters stay well under every limit)
# A refresh of more than this share of everyone is done as one full rebuild: one pass of the
# rule's window over all rows costs less than hundreds of thousands of per-person look-ups.
FULL_REBUILD_SHARE = 0.25

party_table = Party.__table__
incident_table = Incident.__table__
MARKED_PARTY_COLUMNS = frozenset({"person_id", "role", "incident_id", "id"})
MARKED_INCIDENT_COLUMNS = frozenset({"occurred_on", "category", "domestic_abuse", "asb_type", "id"})
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
    if len(ids) > 5 * CHUNK:
        everyone = connection.scalar(select(func.count()).select_from(Person.__table__)) or 0
        if len(ids) >= FULL_REBUILD_SHARE * everyone:
            _rebuild(connection)
            return len(ids)
    remove, add = _refresh_statements()
    for start in range(0, len(ids), CHUNK):
        chunk = {"person_ids": ids[start:start + CHUNK]}
        connection.execute(remove, chunk)
        connection.execute(add, chunk)
    return len(ids)


@functools.cache
def _refresh_statements() -> tuple[Any, Any]:
    """The two statements of a refresh, built once (building the rule's statement costs more
    than running it for a few people); the people are an expanding parameter."""
    people: Any = bindparam("person_ids", expanding=True)
    return (delete(party_mark).where(party_mark.c.person_id.in_(people)),
            insert(party_mark).from_select(COLUMNS, rule_rows(people)))


def rebuild_repeat_marks(session: Session) -> int:
    """Remake every stored mark from the rule; returns the number of rows."""
    return _rebuild(session.connection())


def _rebuild(connection: Connection) -> int:
    connection.execute(delete(party_mark))
    connection.execute(insert(party_mark).from_select(COLUMNS, rule_rows()))
    return int(connection.scalar(select(func.count()).select_from(party_mark)) or 0)


@dataclass(frozen=True)
class Discrepancy:
    """A stored mark row that differs from the rule: `missing` (the rule has it, the table not),
    `stale` (the table has it, the rule not) or `wrong` (both, with different marks)."""

    incident_id: uuid.UUID
    person_id: uuid.UUID
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
        found.append(Discrepancy(*key, problem=problem, expected=want.get(key), stored=have.get(key)))
    return found


def _text(value: Any) -> str:
    return getattr(value, "value", value)


def _normal(row: Any) -> dict[str, Any]:
    values = dict(row)
    values["role"] = _text(values["role"])
    for name in COLUMNS[4:]:
        values[name] = bool(values[name])
    return values


# --- keeping them exact: what the listeners in casework.models.mark call ---------------------


def _pending(session: Session) -> set[uuid.UUID]:
    return session.info.setdefault(PENDING, set())


def party_written(connection: Connection, party: Party, *, inserting: bool = False, deleting: bool = False) -> None:
    """A party is inserted, updated or about to be deleted in a flush: its person (the old one
    too, when it moved) is pending. An update of, say, cj_status alone moves no mark."""
    session = object_session(party)
    if session is None:
        return
    state = inspect(party)
    attrs = state.attrs
    if not (inserting or deleting) and not any(attrs[name].history.has_changes()
                                               for name in MARKED_PARTY_COLUMNS - {"id"}):
        return
    people = _pending(session)
    people.update(attrs.person_id.history.deleted)
    person_id = state.dict.get("person_id")
    if person_id is None and deleting:  # not loaded: read it while the row is still there
        person_id = connection.scalar(select(party_table.c.person_id).where(party_table.c.id == party.id))
    if person_id is not None:
        people.add(person_id)


def incident_updated(connection: Connection, incident: Incident) -> None:
    """An incident's date or kind changed: the people of its parties are pending."""
    session = object_session(incident)
    if session is None:
        return
    state = inspect(incident)
    if not any(state.attrs[name].history.has_changes() for name in MARKED_INCIDENT_COLUMNS - {"id"}):
        return
    _pending(session).update(connection.scalars(
        select(party_table.c.person_id).where(party_table.c.incident_id == incident.id)))


def incident_deleted(connection: Connection, incident: Incident) -> None:
    """An incident is about to be deleted (its parties go with it): their people are pending."""
    session = object_session(incident)
    if session is not None:
        _pending(session).update(connection.scalars(
            select(party_table.c.person_id).where(party_table.c.incident_id == incident.id)))


def after_flush(session: Session) -> None:
    people = session.info.pop(PENDING, None)
    if people:
        _refresh_or_defer(session, people)


def forget_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


def _refresh_or_defer(session: Session, people: set[uuid.UUID], everyone: bool = False) -> None:
    deferred = session.info.get(DEFERRED)
    if deferred is not None:
        deferred.update(people)
        if everyone:
            session.info[EVERYONE] = True
    elif everyone:
        rebuild_repeat_marks(session)
    else:
        refresh_repeat_marks(session, person_ids=people)


@contextlib.contextmanager
def deferred(session: Session) -> Iterator[set[uuid.UUID]]:
    """For bulk writers: within the block, changes are collected rather than refreshed statement by
    statement; the writer adds the people of rows it writes around the Session to the yielded set.
    When the block ends without an error, all of them are refreshed at once (in one full rebuild
    when they are many). An error leaves the refresh to the rollback that follows."""
    if DEFERRED in session.info:  # nested: the outer block refreshes
        yield session.info[DEFERRED]
        return
    collected: set[uuid.UUID] = set()
    session.info[DEFERRED] = collected
    try:
        yield collected
        session.flush()
    finally:
        session.info.pop(DEFERRED, None)
        everyone = session.info.pop(EVERYONE, False)
    if everyone:
        rebuild_repeat_marks(session)
    else:
        refresh_repeat_marks(session, person_ids=collected)


def around_statement(state: Any) -> Any:
    """`do_orm_execute`: an INSERT, UPDATE or DELETE of parties or incidents run through the
    Session (ORM-enabled or Core). Finds the people it touches, runs it, refreshes them."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    statement = state.statement
    table = getattr(getattr(statement, "table", None), "name", None)
    if table not in ("party", "incident"):
        return None
    session: Session = state.session
    params = state.parameters
    param_sets: list[dict[str, Any]] = (list(params) if isinstance(params, (list, tuple))
                                        else [dict(params or {})])
    connection = session.connection()
    people: set[uuid.UUID] = set()
    everyone = False
    if state.is_insert:
        if table == "incident":
            return None  # a new incident has no parties yet
        values = [{_name(k): v for k, v in statement._values.items()}] if statement._values else param_sets
        given = [_value(v.get("person_id")) for v in values]
        if statement.select is not None or not all(isinstance(pid, uuid.UUID) for pid in given):
            everyone = True  # INSERT ... SELECT, or a value only the database knows
        else:
            people.update(given)
        result = state.invoke_statement()
    else:
        set_names = ({_name(k) for k in statement._values} if getattr(statement, "_values", None)
                     else {k for p in param_sets for k in p})
        marked = MARKED_PARTY_COLUMNS if table == "party" else MARKED_INCIDENT_COLUMNS
        if state.is_update and not set_names & marked:
            return None  # e.g. cj_status, or an incident's locality: no mark moves
        where = statement.whereclause
        if where is None and not (state.is_update and all("id" in p for p in param_sets)):
            everyone = True
            result = state.invoke_statement()
        else:
            party_ids = _touched_parties(connection, table, where, param_sets)
            people.update(pid for _, pid in party_ids)
            result = state.invoke_statement()
            if state.is_update and party_ids:
                ids = [party_id for party_id, _ in party_ids]
                for start in range(0, len(ids), CHUNK):
                    people.update(connection.scalars(select(party_table.c.person_id).where(
                        party_table.c.id.in_(ids[start:start + CHUNK]))))
    if people or everyone:
        if statement._returning:
            result = result.freeze()()  # read the rows before other statements run
        _refresh_or_defer(session, people, everyone)
    return result


def _touched_parties(connection: Connection, table: str, where: Any,
                     param_sets: list[dict[str, Any]]) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(party id, person id) of the parties the statement's WHERE (or, for an ORM bulk UPDATE by
    primary key, its ids) picks, or of the parties of the incidents it picks."""
    query = select(party_table.c.id, party_table.c.person_id)
    if table == "incident":
        query = query.join(incident_table, incident_table.c.id == party_table.c.incident_id)
    found: set[tuple[uuid.UUID, uuid.UUID]] = set()
    if where is None:  # ORM bulk UPDATE by primary key: one row per parameter set
        key = party_table.c.id if table == "party" else party_table.c.incident_id
        ids = [p["id"] for p in param_sets]
        for start in range(0, len(ids), CHUNK):
            found.update(tuple(row) for row in connection.execute(query.where(key.in_(ids[start:start + CHUNK]))))
        return found
    query = query.where(where)
    names = {b.key for b in query.compile().binds.values()}
    for params in param_sets:
        found.update(tuple(row) for row in connection.execute(query, {k: v for k, v in params.items() if k in names}))
    return found


def _name(key: Any) -> str:
    return key if isinstance(key, str) else key.key


def _value(value: Any) -> Any:
    """A bound parameter's value (`.values(person_id=...)` holds BindParameters), else the value."""
    return value.value if isinstance(value, BindParameter) else value
