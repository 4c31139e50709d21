"""Keeping the derived measures data exact: what the listeners in `casework.models.mark` call.

Every change that can move a stored repeat mark (`casework.services.marks`) or a stored monthly
figure (`casework.services.monthly`) is caught in the transaction that makes it:

- ORM flushes: mapper events note the people and months of each party, incident, referral and
  prevention activity written; `after_flush` refreshes them.
- Statements run through a Session (`session.execute(update(Party)...)`, as a merge does): the
  rows a statement picks are read before (and, for an UPDATE, after) it runs; their people and
  months are refreshed.
- Bulk writers that go around the Session (the importer's INSERTs) run inside `deferred(session)`
  and add the people of the parties they write; at the end the marks of all of them are refreshed
  and every monthly figure is rebuilt.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql.elements import BindParameter

from ..models import Area, Incident, Party, PreventionActivity, Referral
from . import monthly
from .marks import CHUNK, refresh_repeat_marks

PENDING = "casework.marks.pending"    # session.info: people to refresh at the end of this flush
DEFERRED = "casework.marks.deferred"  # session.info: a bulk writer refreshes once, at its end
EVERYONE = "casework.marks.everyone"  # session.info: a change whose people can't be known

party_table, incident_table = Party.__table__, Incident.__table__
referral_table, activity_table = Referral.__table__, PreventionActivity.__table__
MARKED_PARTY_COLUMNS = frozenset({"person_id", "role", "incident_id"})
# (the locality too: the monthly summaries of people are per locality)
MARKED_INCIDENT_COLUMNS = frozenset({"occurred_on", "category", "domestic_abuse", "asb_type", "locality"})
AREA_FLAGS = frozenset({"asb_priority", "sv_hotspot", "rural_hotspot"})
# The columns read of the rows a statement picks, per table.
READ = {
    "party": ("id", "person_id", "incident_id"),
    "incident": ("id", "occurred_on"),
    "referral": ("id", "person_id", "type", "referred_on", "started_on"),
    "prevention_activity": ("id", "occurred_on"),
}
TABLES = {"party": party_table, "incident": incident_table, "referral": referral_table,
          "prevention_activity": activity_table}


def _pending(session: Session) -> set[uuid.UUID]:
    return session.info.setdefault(PENDING, set())


def _values(state: Any, name: str) -> set[Any]:
    """An attribute's current value and, when it changed in this flush, its old one."""
    history = state.attrs[name].history
    found = {*history.added, *history.deleted, *history.unchanged}
    found.discard(None)
    return found


# --- ORM flushes -------------------------------------------------------------------------------


def party_written(connection: Connection, party: Party, *, inserting: bool = False, deleting: bool = False) -> None:
    """A party is inserted, updated or about to be deleted: its person (old and new) is pending, and
    its incident's month (a victim's criminal justice status counts there too)."""
    session = object_session(party)
    if session is None:
        return
    state = inspect(party)
    incidents = _values(state, "incident_id")
    if deleting and not incidents:
        incidents = set(connection.scalars(select(party_table.c.incident_id).where(party_table.c.id == party.id)))
    monthly.note(session, monthly.incident_months(connection, incidents))
    if not (inserting or deleting) and not any(state.attrs[n].history.has_changes() for n in MARKED_PARTY_COLUMNS):
        return  # e.g. only cj_status changed: no mark moves
    people = _values(state, "person_id")
    if not people and deleting:  # not loaded: read it while the row is still there
        people = set(connection.scalars(select(party_table.c.person_id).where(party_table.c.id == party.id)))
    _pending(session).update(people)


def incident_written(connection: Connection, incident: Incident, *, inserting: bool = False,
                     deleting: bool = False) -> None:
    """An incident is inserted, updated or about to be deleted: its months (old and new), or a new
    one's figures to add to its month's; and when its date or kind changed, or it goes, the people
    of its parties."""
    session = object_session(incident)
    if session is None:
        return
    state = inspect(incident)
    if inserting:
        monthly.note_new_incident(session, incident.id, incident.occurred_on)
    else:
        monthly.note(session, (monthly.month(d) for d in _values(state, "occurred_on")))
    if deleting or any(state.attrs[n].history.has_changes() for n in MARKED_INCIDENT_COLUMNS):
        _pending(session).update(connection.scalars(
            select(party_table.c.person_id).where(party_table.c.incident_id == incident.id)))


def referral_written(connection: Connection, referral: Referral) -> None:
    """A referral is inserted, updated or deleted: its months (an HRDA referral's and the year
    after, a programme start's), old and new, and its people's programme starts."""
    session = object_session(referral)
    if session is None:
        return
    state = inspect(referral)
    for kind in _values(state, "type"):
        for referred_on in _values(state, "referred_on"):
            monthly.note(session, monthly.referral_months(kind, referred_on, None))
    monthly.note(session, (monthly.month(d) for d in _values(state, "started_on")))
    monthly.note(session, monthly.programme_months(connection, list(_values(state, "person_id"))))


def activity_written(activity: PreventionActivity) -> None:
    session = object_session(activity)
    if session is not None:
        monthly.note(session, (monthly.month(d) for d in _values(inspect(activity), "occurred_on")))


def area_updated(area: Area) -> None:
    """An area's designations changed: incidents of any month may count differently."""
    session = object_session(area)
    state = inspect(area)
    if session is not None and any(state.attrs[n].history.has_changes() for n in AREA_FLAGS):
        monthly.note_all(session)


def after_flush(session: Session) -> None:
    people = session.info.pop(PENDING, None)
    if people:
        _refresh_or_defer(session, people)
    monthly.flush_months(session)


def forget_pending(session: Session) -> None:
    session.info.pop(PENDING, None)
    monthly.forget(session)


def _refresh_or_defer(session: Session, people: set[uuid.UUID], everyone: bool = False) -> None:
    deferred = session.info.get(DEFERRED)
    if deferred is not None:
        deferred.update(people)
        if everyone:
            session.info[EVERYONE] = True
    elif everyone:
        from .marks import rebuild_repeat_marks

        rebuild_repeat_marks(session)
    else:
        refresh_repeat_marks(session, person_ids=people)


@contextlib.contextmanager
def deferred(session: Session) -> Iterator[set[uuid.UUID]]:
    """For bulk writers: within the block, changes are collected rather than refreshed statement by
    statement; the writer adds the people of rows it writes around the Session to the yielded set.
    When the block ends without an error, their marks are refreshed at once (in one full rebuild
    when they are many) and every monthly figure is rebuilt. An error leaves it to the rollback."""
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
        monthly.forget(session)
    if everyone:
        from .marks import rebuild_repeat_marks

        rebuild_repeat_marks(session)  # the monthly figures too
        return
    # What the writer wrote around the Session may lie in any month: every monthly figure is remade,
    # once, when the marks' refresh flushes the months (or just after, when it had nobody to refresh).
    monthly.note_all(session)
    refresh_repeat_marks(session, person_ids=collected)
    monthly.flush_months(session)


# --- statements run through a Session ---------------------------------------------------------------


def around_statement(state: Any) -> Any:
    """`do_orm_execute`: an INSERT, UPDATE or DELETE of parties, incidents, referrals, activities or
    areas run through the Session (ORM-enabled or Core). Reads the rows it picks, runs it, and
    refreshes the people and months concerned."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    statement = state.statement
    table = getattr(getattr(statement, "table", None), "name", None)
    if table not in (*TABLES, "area"):
        return None
    session: Session = state.session
    params = state.parameters
    param_sets: list[dict[str, Any]] = list(params) if isinstance(params, (list, tuple)) else [dict(params or {})]
    connection = session.connection()
    set_names = ({_name(k) for k in statement._values} if getattr(statement, "_values", None)
                 else {k for p in param_sets for k in p})
    if table == "area":
        if state.is_update and set_names & AREA_FLAGS or state.is_delete:
            monthly.note_all(session)
        return _finish(session, state.invoke_statement(), statement, set(), False)
    if state.is_insert:
        values = [{_name(k): _value(v) for k, v in statement._values.items()}] if statement._values else param_sets
        before: list[dict[str, Any]] = [] if statement.select is not None else values
        if statement.select is not None or any(not _known(v, READ[table][1:]) for v in values):
            monthly.note_all(session)
            before = []
            everyone = table == "party"
        else:
            everyone = False
        result = state.invoke_statement()
        return _finish(session, result, statement, _effects(connection, session, table, before, []), everyone)
    where = statement.whereclause
    if where is None and not (state.is_update and all("id" in p for p in param_sets)):
        monthly.note_all(session)
        return _finish(session, state.invoke_statement(), statement, set(), table in ("party", "incident"))
    before = _matched(connection, table, where, param_sets)
    marks_move = state.is_delete or bool(set_names & (MARKED_PARTY_COLUMNS if table == "party"
                                                      else MARKED_INCIDENT_COLUMNS))
    # An incident's parties go with it: read their people first.
    people = _incident_people(connection, [r["id"] for r in before]) if table == "incident" and marks_move else set()
    result = state.invoke_statement()
    after = _by_ids(connection, table, [row["id"] for row in before]) if state.is_update else []
    people |= _effects(connection, session, table, before, after, people=marks_move)
    return _finish(session, result, statement, people, False)


def _incident_people(connection: Connection, incident_ids: list[Any]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for start in range(0, len(incident_ids), CHUNK):
        found.update(connection.scalars(select(party_table.c.person_id).where(
            party_table.c.incident_id.in_(incident_ids[start:start + CHUNK]))))
    return found


def _effects(connection: Connection, session: Session, table: str, before: list[dict[str, Any]],
             after: list[dict[str, Any]], *, people: bool = True) -> set[uuid.UUID]:
    """Note the months of the rows (before and after the statement); the people whose marks move."""
    rows = [*before, *after]
    found: set[uuid.UUID] = set()
    if table == "party":
        monthly.note(session, monthly.incident_months(connection, (r["incident_id"] for r in rows)))
        if people:
            found.update(r["person_id"] for r in rows)
    elif table == "incident":
        monthly.note(session, (monthly.month(r["occurred_on"]) for r in rows))  # its people: read before
    elif table == "referral":
        for r in rows:
            monthly.note(session, monthly.referral_months(r["type"], r["referred_on"], r.get("started_on")))
        monthly.note(session, monthly.programme_months(connection, list({r["person_id"] for r in rows})))
    else:
        monthly.note(session, (monthly.month(r["occurred_on"]) for r in rows))
    found.discard(None)  # type: ignore[arg-type]
    return found


def _finish(session: Session, result: Any, statement: Any, people: set[uuid.UUID], everyone: bool) -> Any:
    if statement._returning:
        result = result.freeze()()  # read the rows before other statements run
    if people or everyone:
        _refresh_or_defer(session, people, everyone)
    monthly.flush_months(session)
    return result


def _matched(connection: Connection, table: str, where: Any, param_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows the statement's WHERE picks (for an ORM bulk UPDATE by primary key: its ids)."""
    if where is None:
        return _by_ids(connection, table, [p["id"] for p in param_sets])
    t = TABLES[table]
    query = select(*(t.c[name] for name in READ[table])).where(where)
    names = {b.key for b in query.compile().binds.values()}
    found: dict[Any, dict[str, Any]] = {}
    for params in param_sets:
        for row in connection.execute(query, {k: v for k, v in params.items() if k in names}).mappings():
            found[row["id"]] = dict(row)
    return list(found.values())


def _by_ids(connection: Connection, table: str, ids: Iterable[Any]) -> list[dict[str, Any]]:
    t, ids = TABLES[table], list(ids)
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), CHUNK):
        rows.extend(dict(r) for r in connection.execute(select(*(t.c[name] for name in READ[table])).where(
            t.c.id.in_(ids[start:start + CHUNK]))).mappings())
    return rows


def _known(values: dict[str, Any], names: Iterable[str]) -> bool:
    """Whether an INSERT's values give every column we read (else only the database knows them)."""
    return all(name in values and not isinstance(values[name], BindParameter) for name in names
               if name not in ("started_on",)) and isinstance(values.get("person_id", uuid.UUID(int=0)), uuid.UUID)


def _name(key: Any) -> str:
    return key if isinstance(key, str) else key.key


def _value(value: Any) -> Any:
    """A bound parameter's value (`.values(person_id=...)` holds BindParameters), else the value."""
    return value.value if isinstance(value, BindParameter) else value
