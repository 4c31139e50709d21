"""Stored monthly figures (`measure_month`): the measures' additive raw figures per month and
locality, so that a period's figures are a sum over twelve months instead of a pass over a
million incidents. Kept exact like the repeat marks, in the same transaction as the change:

- the upkeep (`casework.figures.upkeep`) notes the months a flush or an announced change touches
  (an incident's old and new month; a party's incident's month; an HRDA referral's month and the
  year after it, whose referrals it can make repeats; a programme start's month; an activity's
  month);
- the repeat marks' refresh adds the months whose marks changed and the months of the people's
  programme starts (their reoffending is counted there);
- a change whose months can't be known (an area's flags, a bulk writer) rebuilds every month.

A new incident (recorded through the ORM) changes only the figures counted from incidents, each by
what it adds (they are sums over incidents): those are added to its month's stored figures, from
the same definitions run over that incident alone, rather than its month being computed again.
Its parties, written with it or later, note the month as any party does.

Figures counting distinct people (ASB3, ASB4, SV3, SV4) are not additive over months; they come
from `person_year_mark`, refreshed with the marks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select, text, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..measures import engine
from ..measures.figures import INCIDENT, MARK, RAW
from ..models import Incident, PreventionActivity, Referral
from ..models.mark import measure_month
from ..models.vocab import ReferralType

ADDITIVE = tuple(raw.key for raw in RAW if not (raw.source == MARK and raw.count == "people"))
# The figures counted from incidents alone: a new incident adds to them and to nothing else.
FROM_INCIDENTS = tuple(raw.key for raw in RAW if raw.source == INCIDENT)
MONTHS = "casework.figures.months"  # session.info: months to refresh after this flush
ALL = "casework.figures.all_months"  # session.info: rebuild every month
NEW_INCIDENTS = "casework.figures.new_incidents"  # session.info: incident id -> month, to add
BULK = "casework.figures.bulk"  # session.info: a bulk writer's changes, refreshed once at its end
LOOKBACK_DAYS = 365
CHUNK = 500


def month(day: dt.date | str | None) -> dt.date | None:
    if day is None:
        return None
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    return day.replace(day=1)


def months_after(day: dt.date | None, days: int = LOOKBACK_DAYS) -> set[dt.date]:
    """The months from `day`'s to that of `day + days` (an HRDA referral on `day` can make those
    months' referrals repeats)."""
    if day is None:
        return set()
    found, current, last = set(), day.replace(day=1), day + dt.timedelta(days=days)
    while current <= last:
        found.add(current)
        current = (current + dt.timedelta(days=32)).replace(day=1)
    return found


# --- computing and storing ---------------------------------------------------------------------


def month_rows(connection: Connection | Session, first: dt.date, last: dt.date,
               only: set[dt.date] | None = None, *, whole: bool = False) -> list[dict[str, Any]]:
    """The stored rows of the months from `first` to `last` (or only those in `only`); `whole`: those
    months span every record (`engine.raw_figures`)."""
    figures = engine.raw_figures(connection, engine.ByMonthAndLocality(first, last), ADDITIVE, whole=whole)
    return [{"month": key[0], "locality": key[1], "figure": name, "value": value}  # type: ignore[index]
            for key, values in figures.items() if only is None or key[0] in only  # type: ignore[index]
            for name, value in values.items() if value]


# pg_advisory_xact_lock key serialising the refreshes of the stored figures ("figures" in ASCII).
FIGURES_LOCK_KEY = 0x66696775726573


def lock_figures(connection: Connection) -> None:
    """Before a refresh of stored figures or marks: on PostgreSQL, wait for any other transaction
    refreshing them to end, and hold the turn until this one ends. A refresh deletes rows and
    writes them again from what it reads; two at once would each miss the other's records (a
    figure one short) or write the same key twice. Each statement after the wait reads what the
    other committed (READ COMMITTED). SQLite has one writer at a time already."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FIGURES_LOCK_KEY})


def refresh_months(session: Session, months: Iterable[dt.date]) -> int:
    """Recompute the stored figures of the given months; returns how many months."""
    wanted = sorted(set(months))
    if not wanted:
        return 0
    connection = session.connection()
    lock_figures(connection)
    # Consecutive months are computed by one query each run of them; lone months by their own.
    runs: list[list[dt.date]] = []
    for m in wanted:
        if runs and (runs[-1][-1] + dt.timedelta(days=32)).replace(day=1) == m:
            runs[-1].append(m)
        else:
            runs.append([m])
    for run in runs:
        last = (run[-1] + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        connection.execute(delete(measure_month).where(measure_month.c.month.between(run[0], run[-1])))
        rows = month_rows(connection, run[0], last)
        if rows:
            connection.execute(insert(measure_month), rows)
    return len(wanted)


def add_incidents(session: Session, new: dict[Any, dt.date]) -> None:
    """Add new incidents' figures (incident id -> month) to the stored ones of their months (see the
    module's note). An incident gone again since adds nothing: the figures are read from the rows."""
    if not new:
        return
    connection = session.connection()
    lock_figures(connection)
    last = (max(new.values()) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    figures = engine.raw_figures(connection, engine.ByMonthAndLocality(min(new.values()), last),
                                 FROM_INCIDENTS, records=list(new))
    rows = [{"month": key[0], "locality": key[1], "figure": name, "value": value}  # type: ignore[index]
            for key, values in figures.items() for name, value in values.items() if value]
    if rows:
        connection.execute(adding(connection.dialect.name, measure_month, keys=("month", "figure", "locality"),
                                  added=("value",)), rows)


def adding(dialect: str, table: Any, *, keys: tuple[str, ...], added: tuple[str, ...],
           rows: tuple[tuple[str, ...], Any] | None = None) -> Any:
    """An INSERT into `table` whose row, where one with the same `keys` is stored, is added to it
    instead (its `added` columns summed; ON CONFLICT, on both databases). Its rows are given when
    it runs, or are `rows`, a (columns, SELECT) pair."""
    from sqlalchemy.dialects import postgresql, sqlite

    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    if rows is not None:
        upsert = upsert.from_select(*rows)
    return upsert.on_conflict_do_update(index_elements=list(keys),
                                        set_={c: table.c[c] + upsert.excluded[c] for c in added})


def _span(connection: Connection) -> tuple[dt.date, dt.date] | None:
    i, r, a = Incident.__table__, Referral.__table__, PreventionActivity.__table__
    dates = union_all(select(func.min(i.c.occurred_on).label("lo"), func.max(i.c.occurred_on).label("hi")),
                      select(func.min(r.c.referred_on), func.max(r.c.referred_on)),
                      select(func.min(r.c.started_on), func.max(r.c.started_on)),
                      select(func.min(a.c.occurred_on), func.max(a.c.occurred_on))).subquery()
    lo, hi = connection.execute(select(func.min(dates.c.lo), func.max(dates.c.hi))).one()
    if lo is None:
        return None
    return month(lo), dt.date.fromisoformat(str(hi)[:10]) if isinstance(hi, str) else hi  # type: ignore[return-value]


def rebuild_months(session: Session) -> int:
    """Remake every stored monthly figure; returns the number of rows."""
    return rebuild_months_on(session.connection())


def rebuild_months_on(connection: Connection) -> int:
    """`rebuild_months` on a connection (the migration that adds the table uses it)."""
    lock_figures(connection)
    connection.execute(delete(measure_month))
    span = _span(connection)
    if span is None:
        return 0
    rows = month_rows(connection, *span, whole=True)
    for start in range(0, len(rows), 5000):
        connection.execute(insert(measure_month), rows[start:start + 5000])
    return len(rows)


def check_months(session: Session) -> list[str]:
    """The stored monthly figures that differ from a fresh computation, described."""
    connection = session.connection()
    span = _span(connection)
    expected = {(r["month"], r["locality"], r["figure"]): r["value"] for r in month_rows(connection, *span, whole=True)} \
        if span else {}
    stored = {(month(r.month), r.locality, r.figure): int(r.value) for r in connection.execute(select(measure_month))}
    return [f"{key[0]:%Y-%m} {key[2]} in {key[1] or 'no locality'}: stored {stored.get(key, 0)}, "
            f"should be {expected.get(key, 0)}"
            for key in sorted(expected.keys() | stored.keys(), key=str) if expected.get(key, 0) != stored.get(key, 0)]


# --- which months a change touches ---------------------------------------------------------------


def note(session: Session, months: Iterable[dt.date | None]) -> None:
    session.info.setdefault(MONTHS, set()).update(m for m in months if m is not None)


def note_all(session: Session) -> None:
    session.info[ALL] = True


def note_new_incident(session: Session, incident_id: Any, occurred_on: dt.date | None) -> None:
    session.info.setdefault(NEW_INCIDENTS, {})[incident_id] = month(occurred_on)


def programme_months(connection: Connection, person_ids: list[Any]) -> set[dt.date]:
    """The months of the people's programme starts (DA4 counts reoffending in the first one's)."""
    r = Referral.__table__
    found: set[dt.date] = set()
    for start in range(0, len(person_ids), CHUNK):
        found.update(m for d in connection.scalars(select(r.c.started_on).where(
            r.c.person_id.in_(person_ids[start:start + CHUNK]),
            r.c.type == ReferralType.PERPETRATOR_PROGRAMME, r.c.started_on.is_not(None))) if (m := month(d)))
    return found


def incident_months(connection: Connection, incident_ids: Iterable[Any]) -> set[dt.date]:
    ids = [i for i in set(incident_ids) if i is not None]
    i = Incident.__table__
    found: set[dt.date] = set()
    for start in range(0, len(ids), CHUNK):
        found.update(m for d in connection.scalars(select(i.c.occurred_on).where(
            i.c.id.in_(ids[start:start + CHUNK]))) if (m := month(d)))
    return found


def referral_months(referral_type: Any, referred_on: Any, started_on: Any) -> set[dt.date]:
    """The months a referral's figures live in: an HRDA referral's and the year after (repeats), a
    programme start's."""
    kind = getattr(referral_type, "value", referral_type)
    found = months_after(_date(referred_on)) if kind == ReferralType.HRDA.value else set()
    if started_on is not None:
        found.add(month(started_on))  # type: ignore[arg-type]
    return found


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def flush_months(session: Session) -> None:
    """After a flush or statement (and the marks' refresh): refresh the months noted."""
    if session.info.get(BULK) is not None:
        return  # a bulk writer: everything is rebuilt at its end
    new = session.info.pop(NEW_INCIDENTS, None) or {}
    if session.info.pop(ALL, False):
        session.info.pop(MONTHS, None)
        rebuild_months(session)  # the new incidents with the rest
        return
    months = session.info.pop(MONTHS, None) or set()
    if months:
        refresh_months(session, months)  # the new incidents of these months with the rest
    add_incidents(session, {incident: m for incident, m in new.items() if m is not None and m not in months})


def forget(session: Session) -> None:
    session.info.pop(MONTHS, None)
    session.info.pop(ALL, None)
    session.info.pop(NEW_INCIDENTS, None)
