"""Keeping the stored figures exact: what changed, and the refresh it calls for.

Two ways in, both in the transaction that makes the change:

- ORM flushes of single rows: the mapper events `casework.figures.install` registers note the
  people and months of each party, incident, referral, prevention activity and area written
  (only when a column the figures read changed); `after_flush` refreshes them.
- Everything else is announced by the writer, next to the write: `changing(...)` around statements
  (a merge moving parties), `changed(...)` after a write the Session never saw, `bulk(...)` around a
  writer of many rows (an import), whose people are refreshed once at its end and every month
  rebuilt. A statement on a watched column that is not announced trips `casework.figures.tripwire`.

What is watched comes from the definitions themselves: the repeat rule's `READS`
(`casework.risk.repeats`), the raw figures' `READS` (`casework.measures.figures`) and the columns
the per-person summaries read (`SUMMARY_READS`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.state import InstanceState

from ..measures.figures import READS as FIGURE_READS
from ..models import Incident, Party, Referral
from ..models.vocab import ReferralType
from ..risk.repeats import READS as RULE_READS
from . import months as monthly
from .marks import CHUNK, rebuild_repeat_marks, refresh_repeat_marks

PEOPLE = "casework.figures.people"  # session.info: people whose marks to refresh after this flush
ANNOUNCED = "casework.figures.announced"  # session.info: how many announced blocks are open

# The per-person monthly summaries are kept per locality: an incident's locality moves them too.
SUMMARY_READS: dict[str, frozenset[str]] = {"incident": frozenset({"id", "locality"})}


def _union(*reads: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for one in reads:
        for table, columns in one.items():
            found[table] = found.get(table, frozenset()) | columns
    return found


MARK_READS = _union(RULE_READS, SUMMARY_READS)  # what moves a repeat mark
MONTH_READS = _union(FIGURE_READS)  # what moves a monthly figure
WATCHED = _union(MARK_READS, MONTH_READS)  # what the trip-wire watches

party_table, incident_table, referral_table = Party.__table__, Incident.__table__, Referral.__table__


def _pending(session: Session) -> set[uuid.UUID]:
    people: set[uuid.UUID] = session.info.setdefault(PEOPLE, set())
    return people


def _history(state: InstanceState[Any], name: str) -> set[Any]:
    """An attribute's current value and, when it changed in this flush, its old one."""
    history = state.attrs[name].history
    found = {*history.added, *history.deleted, *history.unchanged}
    found.discard(None)
    return found


def _changed(state: InstanceState[Any], columns: frozenset[str]) -> bool:
    """Whether any of the columns changed in this flush (columns and attributes share names)."""
    return any(state.attrs[name].history.has_changes() for name in columns if name in state.attrs)


# --- ORM flushes (mapper events) -----------------------------------------------------------------


def party_written(connection: Connection, party: Party, *, inserting: bool = False, deleting: bool = False) -> None:
    """A party is inserted, updated or about to be deleted: its incident's month (a victim's criminal
    justice status counts there) and, when a column the rule reads moved, its person (old and new)."""
    session = object_session(party)
    if session is None:
        return
    state = inspect(party)
    whole = inserting or deleting
    if not (whole or _changed(state, WATCHED["party"])):
        return
    incidents = _history(state, "incident_id")
    if deleting and not incidents:
        incidents = set(connection.scalars(select(party_table.c.incident_id).where(party_table.c.id == party.id)))
    monthly.note(session, monthly.incident_months(connection, incidents))
    if not (whole or _changed(state, MARK_READS["party"])):
        return
    people = _history(state, "person_id")
    if not people and deleting:  # not loaded: read it while the row is still there
        people = set(connection.scalars(select(party_table.c.person_id).where(party_table.c.id == party.id)))
    _pending(session).update(people)


def incident_written(connection: Connection, incident: Incident, *, inserting: bool = False,
                     deleting: bool = False) -> None:
    """An incident is inserted, updated or about to be deleted: its months (old and new), or a new
    one's figures to add to its month's; and when a column the marks read changed, or it goes, the
    people of its parties."""
    session = object_session(incident)
    if session is None:
        return
    state = inspect(incident)
    if inserting:
        monthly.note_new_incident(session, incident.id, incident.occurred_on)
    elif deleting or _changed(state, MONTH_READS["incident"]):
        monthly.note(session, (monthly.month(d) for d in _history(state, "occurred_on")))
    if deleting or (not inserting and _changed(state, MARK_READS["incident"])):
        _pending(session).update(connection.scalars(
            select(party_table.c.person_id).where(party_table.c.incident_id == incident.id)))


def referral_written(connection: Connection, referral: Referral, *, whole: bool = False) -> None:
    """A referral is inserted, updated or deleted: its months (an HRDA referral's and the year
    after, a programme start's), old and new, and its people's programme starts."""
    session = object_session(referral)
    state = inspect(referral)
    if session is None or not (whole or _changed(state, MONTH_READS["referral"])):
        return
    for kind in _history(state, "type"):
        for referred_on in _history(state, "referred_on"):
            monthly.note(session, monthly.referral_months(kind, referred_on, None))
    monthly.note(session, (monthly.month(d) for d in _history(state, "started_on")))
    monthly.note(session, monthly.programme_months(connection, list(_history(state, "person_id"))))


def activity_written(activity: Any, *, whole: bool = False) -> None:
    session = object_session(activity)
    state = inspect(activity)
    if session is not None and (whole or _changed(state, MONTH_READS["prevention_activity"])):
        monthly.note(session, (monthly.month(d) for d in _history(state, "occurred_on")))


def area_updated(area: Any) -> None:
    """An area's designations changed: incidents of any month may count differently."""
    session = object_session(area)
    if session is not None and _changed(inspect(area), MONTH_READS["area"] - {"id"}):
        monthly.note_all(session)


def after_flush(session: Session) -> None:
    people = session.info.pop(PEOPLE, None)
    if people:
        bulk = session.info.get(monthly.BULK)
        if bulk is not None:
            bulk.people.update(people)
        else:
            refresh_repeat_marks(session, person_ids=people)
    monthly.flush_months(session)


def forget_pending(session: Session) -> None:
    session.info.pop(PEOPLE, None)
    monthly.forget(session)


# --- announced changes ------------------------------------------------------------------------------

Incidents = Iterable[uuid.UUID] | Select[Any]


@dataclass
class Bulk:
    """What a bulk writer changed, collected while it writes (`bulk`)."""

    people: set[uuid.UUID] = field(default_factory=set)
    incidents: set[uuid.UUID] = field(default_factory=set)
    everything: bool = False
    # The writer wrote no row at all (a re-imported extract found wholly unchanged): nothing to refresh.
    nothing_written: bool = False

    def changed(self, *, people: Iterable[uuid.UUID | None] = (), incidents: Iterable[uuid.UUID] = ()) -> None:
        """The people whose parties the writer wrote, inserted or removed, and the incidents whose
        columns it changed (their parties' people are refreshed at the end)."""
        self.people.update(p for p in people if p is not None)
        self.incidents.update(incidents)


def announced(session: Session) -> bool:
    """Whether a writer has announced the statements now running (`changing` or `bulk`)."""
    return bool(session.info.get(ANNOUNCED))


@contextlib.contextmanager
def _announcing(session: Session) -> Iterator[None]:
    session.info[ANNOUNCED] = session.info.get(ANNOUNCED, 0) + 1
    try:
        yield
    finally:
        session.info[ANNOUNCED] -= 1


def _ids(connection: Connection, incidents: Incidents) -> list[uuid.UUID]:
    if isinstance(incidents, Select):
        return list(connection.scalars(incidents))
    return [i for i in set(incidents) if i is not None]


def _party_people(connection: Connection, incident_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for start in range(0, len(incident_ids), CHUNK):
        found.update(connection.scalars(select(party_table.c.person_id).where(
            party_table.c.incident_id.in_(incident_ids[start:start + CHUNK]))))
    return found


def _people_months(connection: Connection, people: list[uuid.UUID]) -> set[dt.date]:
    """The months a person's records count in: their incidents', their referrals' (an HRDA
    referral's year after too) and their programme starts'."""
    found: set[dt.date] = set()
    p, i, r = party_table, incident_table, referral_table
    for start in range(0, len(people), CHUNK):
        chunk = people[start:start + CHUNK]
        found.update(m for d in connection.scalars(select(i.c.occurred_on).select_from(
            p.join(i, i.c.id == p.c.incident_id)).where(p.c.person_id.in_(chunk)).distinct())
            if (m := monthly.month(d)) is not None)
        for row in connection.execute(select(r.c.type, r.c.referred_on, r.c.started_on).where(
                r.c.person_id.in_(chunk), r.c.type.in_([ReferralType.HRDA, ReferralType.PERPETRATOR_PROGRAMME]))):
            found |= monthly.referral_months(row.type, row.referred_on, row.started_on)
    return found


def _touched(connection: Connection, people: set[uuid.UUID], incident_ids: list[uuid.UUID],
             ) -> tuple[set[uuid.UUID], set[dt.date]]:
    """The people whose marks may move and the months whose figures may, as the database is now."""
    everyone = people | _party_people(connection, incident_ids)
    found = _people_months(connection, sorted(everyone)) | monthly.incident_months(connection, incident_ids)
    return everyone, found


def changed(session: Session, *, people: Iterable[uuid.UUID | None] = (), incidents: Incidents = (),
            months: Iterable[dt.date | None] = (), everything: bool = False) -> None:
    """Refresh, now, the figures a change made around the unit of work may have moved: the marks of
    `people` and of the parties of `incidents` (their whole history), the months those records count
    in, and `months`; `everything`: all of them. Within `bulk`, the work waits for its end."""
    connection = session.connection()
    ids = _ids(connection, incidents)
    bulk: Bulk | None = session.info.get(monthly.BULK)
    if bulk is not None:
        bulk.changed(people=people, incidents=ids)
        bulk.everything = bulk.everything or everything
        return
    if everything:
        rebuild_repeat_marks(session)
        return
    everyone, found = _touched(connection, {p for p in people if p is not None}, ids)
    monthly.note(session, [*found, *(monthly.month(m) for m in months)])
    refresh_repeat_marks(session, person_ids=everyone)  # the months noted are refreshed with the marks
    monthly.flush_months(session)


@contextlib.contextmanager
def changing(session: Session, *, people: Iterable[uuid.UUID | None] = (), incidents: Incidents = (),
             months: Iterable[dt.date | None] = (), everything: bool = False) -> Iterator[None]:
    """Around statements that change the records of `people`, or `incidents` (ids, or a SELECT of
    them run before the block), or the records of `months`: what they count in is read before the
    block and after it, and refreshed after it (`changed`). An error leaves it to the rollback."""
    session.flush()
    connection = session.connection()
    wanted = {p for p in people if p is not None}
    ids = _ids(connection, incidents)
    before_people, before_months = _touched(connection, wanted, ids)
    with _announcing(session):
        yield
    changed(session, people=wanted | before_people, incidents=ids,
            months=[*before_months, *months], everything=everything)


@contextlib.contextmanager
def bulk(session: Session) -> Iterator[Bulk]:
    """For writers of many rows: within the block, changes are collected rather than refreshed
    statement by statement (the block's statements count as announced); the writer tells the
    yielded `Bulk` the people and incidents it changed around the Session. When the block ends
    without an error, their marks are refreshed at once (in one full rebuild when they are many)
    and every monthly figure is rebuilt. An error leaves it to the rollback."""
    if monthly.BULK in session.info:  # nested: the outer block refreshes
        with _announcing(session):
            yield session.info[monthly.BULK]
        return
    collected = Bulk()
    session.info[monthly.BULK] = collected
    try:
        with _announcing(session):
            yield collected
            session.flush()
    finally:
        session.info.pop(monthly.BULK, None)
        monthly.forget(session)
    if collected.everything:
        rebuild_repeat_marks(session)  # the monthly figures too
        return
    if collected.nothing_written and not collected.people and not collected.incidents:
        return
    connection = session.connection()
    people = collected.people | _party_people(connection, sorted(collected.incidents))
    # What the writer wrote around the Session may lie in any month: every monthly figure is remade,
    # once, when the marks' refresh flushes the months (or just after, when it had nobody to refresh).
    monthly.note_all(session)
    refresh_repeat_marks(session, person_ids=people)
    monthly.flush_months(session)
