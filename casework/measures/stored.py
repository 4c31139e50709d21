"""Reading the stored figures: the monthly raw figures (`measure_month`), summed into periods,
months or localities, and the per-person, per-year and per-month marks (`person_year_mark`,
`person_month_mark`, and the per-year counts of the former, `person_year_count`), counted into the
figures of distinct people. Both are kept exact by `casework.figures` (which owns the tables'
upkeep; reading stays here, with the engine that asks, so that the figures depend on the measures'
definitions and not the other way round). Reading them costs a few hundred rows instead of a pass
over every incident."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..models.mark import measure_month, person_month_mark, person_year_count, person_year_mark
from .figures import BY_KEY, MARK, listed_locality
from .periods import Period

mm, py, pm, yc = measure_month, person_year_mark, person_month_mark, person_year_count


def is_monthly(key: str) -> bool:
    """Whether a raw figure is stored month by month (all but those counting distinct people)."""
    raw = BY_KEY[key]
    return not (raw.source == MARK and raw.count == "people")


def period_figures(conn: Session | Connection, periods: Sequence[Period],
                   keys: Iterable[str]) -> dict[Hashable, dict[str, int]]:
    """The raw figures named, per period, from the stored tables."""
    keys = list(keys)
    result: dict[Hashable, dict[str, int]] = defaultdict(dict)
    monthly_keys = [k for k in keys if is_monthly(k)]
    if monthly_keys:
        bucket = case(*[(mm.c.month.between(p.first_day, p.last_day), literal(n)) for n, p in enumerate(periods)],
                      else_=None).label("bucket")
        query = (select(bucket, mm.c.figure, func.sum(mm.c.value).label("value"))
                 .where(mm.c.figure.in_(monthly_keys),
                        mm.c.month.between(min(p.first_day for p in periods), max(p.last_day for p in periods)))
                 .group_by(bucket, mm.c.figure))
        for row in conn.execute(query):
            if row.bucket is not None:
                result[periods[int(row.bucket)]][row.figure] = int(row.value)
    people = [BY_KEY[k] for k in keys if not is_monthly(k)]
    if people:
        query = (select(yc.c.start_year, yc.c.kind, yc.c.role, yc.c.people, yc.c.repeats)
                 .where(yc.c.start_year.in_([p.start_year for p in periods])))
        counts = {(r.start_year, r.kind, getattr(r.role, "value", r.role)): (int(r.people), int(r.repeats or 0))
                  for r in conn.execute(query)}
        for period in periods:
            for raw in people:
                assert raw.person_year is not None
                kind, role, repeat = raw.person_year
                found = counts.get((period.start_year, kind, role.value), (0, 0))
                result[period][raw.key] = found[1] if repeat else found[0]
    return result


def month_figures(conn: Session | Connection, first: dt.date, last: dt.date,
                  keys: Iterable[str]) -> dict[Hashable, dict[str, int]]:
    """Monthly raw figures (only those stored month by month), per first day of the month."""
    result: dict[Hashable, dict[str, int]] = defaultdict(dict)
    query = (select(mm.c.month, mm.c.figure, func.sum(mm.c.value).label("value"))
             .where(mm.c.figure.in_([k for k in keys if is_monthly(k)]), mm.c.month.between(first, last))
             .group_by(mm.c.month, mm.c.figure))
    for row in conn.execute(query):
        result[_date(row.month)][row.figure] = int(row.value)
    return result


def locality_figures(conn: Session | Connection, period: Period, keys: Iterable[str]) -> dict[Hashable, dict[str, int]]:
    """A period's raw figures (only those stored month by month) per locality of the list (None:
    none recorded; `figures.UNRECOGNISED`: a value not in the list)."""
    result: dict[Hashable, dict[str, int]] = defaultdict(dict)
    locality = listed_locality(mm.c.locality).label("locality")
    query = (select(locality, mm.c.figure, func.sum(mm.c.value).label("value"))
             .where(mm.c.figure.in_([k for k in keys if is_monthly(k)]),
                    mm.c.month.between(period.first_day, period.last_day))
             .group_by(locality, mm.c.figure))
    for row in conn.execute(query):
        result[row.locality or None][row.figure] = int(row.value)
    return result


def people_figures(conn: Session | Connection, keys: Iterable[str], *, first: dt.date, last: dt.date,
                   by: str) -> dict[Hashable, dict[str, int]]:
    """The figures of distinct people named, per month (`by="month"`) or per locality of the
    span (`by="locality"`; a person counts in each locality they were in), from
    `person_month_mark`."""
    result: dict[Hashable, dict[str, int]] = defaultdict(dict)
    group = pm.c.month if by == "month" else listed_locality(pm.c.locality)
    for key in keys:
        raw = BY_KEY[key]
        if is_monthly(key) or raw.person_year is None:
            continue
        kind, role, repeat = raw.person_year
        query = (select(group.label("group"), func.count(func.distinct(pm.c.person_id)).label("people"))
                 .where(pm.c.kind == kind, pm.c.role == role, pm.c.month.between(first, last))
                 .group_by(group))
        if repeat:
            query = query.where(pm.c.repeat.is_(True))
        for row in conn.execute(query):
            label = _date(row.group) if by == "month" else (row.group or None)
            result[label][key] = int(row.people)
    return result


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
