"""The measures engine: every measure for a set of periods, computed set-based in SQL.

Each raw figure (`casework.measures.figures`) is defined once; one aggregate query
per source (incidents, repeat marks, sexual offence victims, HRDA referrals,
programme starters, prevention activities) computes all of a source's figures
for every group asked for at once: periods (the measures), months (the charts)
or localities (the breakdowns). The same definitions give the records behind a
figure. Records entered late, edited or merged count the next time the measures
are computed: incidents and referrals are read as they are, and the stored repeat
marks are kept exact by `casework.figures`.

The repeat rules come from `casework.risk.repeats`, shared with the on-screen flags.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import Integer, case, func, literal, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import String

from ..risk.repeats import unindexed
from . import stored
from .definitions import MEASURES, Measure
from .figures import BY_KEY, FOLLOW_UP_DAYS, LOCALITY_SOURCES, RAW, UNRECOGNISED, Frame, Raw, frame, listed_locality
from .periods import Period


@dataclass(frozen=True)
class Figure:
    """One measure's figures for one period. `value` is an int (counts, FR1), a Decimal rounded
    half up to 4 places or None (proportions), or a Decimal of pounds with 2 places (FR2)."""

    value: int | Decimal | None
    numerator: int | None = None
    denominator: int | None = None


def proportion(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator rounded to 4 decimal places, halves up (1/32 -> 0.0313); None for 0/0.

    Integer arithmetic, so no float or context precision can turn a half into a near-half."""
    if denominator == 0:
        return None
    quotient = (2 * numerator * 10_000 + denominator) // (2 * denominator)
    return Decimal(quotient).scaleb(-4)


def pounds(pence: int) -> Decimal:
    """Whole pence as pounds with exactly two decimal places."""
    return (Decimal(pence) / 100).quantize(Decimal("0.01"))


# What each measure is made of: its parts (value, or numerator and denominator) as raw figures.
PARTS: dict[str, dict[str, str]] = {
    "DA1": {"numerator": "da_repeat_victim", "denominator": "da"},
    "DA3": {"numerator": "da_repeat_perpetrator", "denominator": "da"},
    "DA4": {"numerator": "starters_reoffended", "denominator": "starters"},
    "SO2": {"numerator": "so1_alcohol", "denominator": "SO1"},
    "SO3": {"numerator": "so1_victims_withdrew", "denominator": "so1_victims_in_cj"},
    "ASB3": {"numerator": "pasb_repeat_victims", "denominator": "pasb_victims"},
    "ASB4": {"numerator": "asb_repeat_perpetrators", "denominator": "asb_perpetrators"},
    "ASB5": {"numerator": "asb1_alcohol", "denominator": "ASB1"},
    "ASB6": {"numerator": "asb1_drugs", "denominator": "ASB1"},
    "ASB7": {"numerator": "asb1_mental_health", "denominator": "ASB1"},
    "SV3": {"numerator": "sv_repeat_victims", "denominator": "sv_victims"},
    "SV4": {"numerator": "sv_repeat_perpetrators", "denominator": "sv_perpetrators"},
    "HRDA1": {"numerator": "hrda_repeats", "denominator": "hrda_referrals"},
    "FR2": {"value": "savings_pence"},
}
for _m in MEASURES:
    PARTS.setdefault(_m.id, {"value": _m.id})


def parts_of(measure: Measure) -> dict[str, Raw]:
    """The raw figures a measure is made of, by part ("value", or "numerator" and "denominator")."""
    return {part: BY_KEY[key] for part, key in PARTS[measure.id].items()}


def has_locality(measure: Measure) -> bool:
    """Whether the measure's records have a locality (incidents do; referrals and activities not)."""
    return all(raw.source in LOCALITY_SOURCES for raw in parts_of(measure).values())


# --- groups: periods, months, localities ----------------------------------------------------


class month_of(FunctionElement[str]):
    """A date's month as `YYYY-MM` text, on SQLite (ISO text dates) and PostgreSQL alike."""

    type = String()
    inherit_cache = True
    name = "month_of"


@compiles(month_of, "sqlite")
def _month_of_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@compiles(month_of)
def _month_of_default(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


class Grouping:
    """How rows are grouped; `first` to `last` is the span of dates read."""

    first: dt.date
    last: dt.date
    locality: ClassVar[bool] = False

    def key(self, f: Frame) -> ColumnElement[Any] | tuple[ColumnElement[Any], ...] | None:
        raise NotImplementedError

    def label(self, value: Any) -> Hashable:
        shown: Hashable = value
        return shown


class ByPeriods(Grouping):
    def __init__(self, periods: Iterable[Period]) -> None:
        self.periods = sorted(set(periods))
        self.first, self.last = self.periods[0].first_day, self.periods[-1].last_day

    def key(self, f: Frame) -> ColumnElement[Any]:
        return case(*[(f.date.between(p.first_day, p.last_day), literal(n)) for n, p in enumerate(self.periods)],
                    else_=None)

    def label(self, value: Any) -> Hashable:
        return self.periods[int(value)]


class ByMonth(Grouping):
    def __init__(self, first: dt.date, last: dt.date) -> None:
        self.first, self.last = first.replace(day=1), last

    def key(self, f: Frame) -> ColumnElement[Any]:
        return month_of(f.date)

    def label(self, value: Any) -> Hashable:
        return dt.date.fromisoformat(f"{value}-01")


class ByMonthAndLocality(Grouping):
    """(month, locality) pairs: the stored monthly figures; a source without locality gives ""."""

    locality = True

    def __init__(self, first: dt.date, last: dt.date) -> None:
        self.first, self.last = first.replace(day=1), last

    def key(self, f: Frame) -> tuple[ColumnElement[Any], ...]:
        return (month_of(f.date), func.coalesce(f.locality, "") if f.locality is not None else literal(""))

    def label(self, value: Any) -> Hashable:
        return dt.date.fromisoformat(f"{value[0]}-01"), value[1] or ""


class ByLocality(Grouping):
    """The localities of the partnership's list (`figures.listed_locality`)."""

    locality = True

    def __init__(self, period: Period) -> None:
        self.first, self.last = period.first_day, period.last_day

    def key(self, f: Frame) -> ColumnElement[Any] | None:
        return None if f.locality is None else listed_locality(f.locality)

    def label(self, value: Any) -> Hashable:
        return value or None  # None: no locality recorded


# What a breakdown's rows are called besides the list's localities (a locality of either name is
# refused: `casework.services.localities`).
UNRECOGNISED_LOCALITY = "Unrecognised locality"  # values recorded before the list, matching none of it
NO_LOCALITY = "No locality recorded"


def locality_row(group: Any) -> str | None:
    """The breakdown's row of a locality as `figures.listed_locality` groups it: its name,
    UNRECOGNISED_LOCALITY, or None for no locality."""
    return UNRECOGNISED_LOCALITY if group == UNRECOGNISED else group or None


# --- the queries ------------------------------------------------------------------------


def _aggregate(raw: Raw, f: Frame) -> ColumnElement[int]:
    condition = raw.condition(f.c) if raw.condition is not None else None
    if raw.count == "sum":
        assert raw.amount is not None
        amount = func.coalesce(raw.amount(f.c), 0)  # a blank amount counts as 0
        return func.coalesce(func.sum(amount if condition is None else case((condition, amount), else_=0)), 0)
    if raw.count == "rows":
        if condition is None:
            return func.count()
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)
    column = f.record if raw.count == "incidents" else f.person
    assert column is not None
    return func.count(func.distinct(column if condition is None else case((condition, column), else_=None)))


def raw_figures(conn: Session | Connection, grouping: Grouping, keys: Iterable[str] | None = None, *,
                stored_marks: bool = True, records: Collection[Any] | None = None,
                whole: bool = False) -> dict[Hashable, dict[str, int]]:
    """The raw figures (all, or those named) for each group that has any rows; with `records`, of
    those records' rows alone (the incidents, referrals or activities the rows stand for). `whole`:
    the grouping's dates span every row, so the tables are read whole, not through a date index
    (which would read nearly every row, each at random)."""
    wanted = [raw for raw in RAW if keys is None or raw.key in set(keys)]
    by_source: dict[str, list[Raw]] = defaultdict(list)
    for raw in wanted:
        by_source[raw.source].append(raw)
    result: dict[Hashable, dict[str, int]] = defaultdict(dict)
    for source, raws in by_source.items():
        f = frame(source, grouping.first, grouping.last, stored_marks=stored_marks, locality=grouping.locality)
        key = grouping.key(f)
        if key is None:
            continue
        buckets = [column.label(f"bucket{n}") for n, column in enumerate(key if isinstance(key, tuple) else (key,))]
        query = (select(*buckets, *(_aggregate(raw, f).label(raw.key) for raw in raws))
                 .select_from(f.from_).where(*f.where, (unindexed(f.date) if whole else f.date)
                                             .between(grouping.first, grouping.last))
                 .group_by(*buckets))
        if records is not None:
            query = query.where(f.record.in_(list(records)))
        if all(raw.condition is not None for raw in raws):
            # Rows meeting none of the conditions add nothing: leave them out early.
            query = query.where(or_(*(raw.condition(f.c) for raw in raws)))  # type: ignore[misc]
        for row in conn.execute(query).mappings():
            value = tuple(row[b.name] for b in buckets) if isinstance(key, tuple) else row["bucket0"]
            if value is None and not grouping.locality:
                continue  # between the periods asked for, in none of them
            result[grouping.label(value)].update({raw.key: int(row[raw.key] or 0) for raw in raws})
    return result


def compute(conn: Session | Connection, periods: Sequence[Period], *, stored_marks: bool = True,
            precomputed: bool = True) -> dict[Period, dict[str, Figure]]:
    """Every measure for each of `periods` (typically one and its previous), keyed by measure id.

    By default the figures are read from the stored monthly figures and per-person yearly marks
    (kept exact by `casework.figures`). `precomputed=False` computes them from the
    records and the stored repeat marks; `stored_marks=False` also runs the repeat rule's window
    instead of reading the marks. All three give the same figures (the tests compare them)."""
    periods = sorted(set(periods))
    if stored_marks and precomputed:
        raw = stored.period_figures(conn, periods, BY_KEY)
    else:
        raw = raw_figures(conn, ByPeriods(periods), stored_marks=stored_marks)
    return {p: {m.id: figure(m, raw.get(p, {})) for m in MEASURES} for p in periods}


def figure(measure: Measure, raw: dict[str, int]) -> Figure:
    """A measure's figure from the raw figures (a missing one is 0)."""
    parts = PARTS[measure.id]
    if "numerator" in parts:
        num, den = raw.get(parts["numerator"], 0), raw.get(parts["denominator"], 0)
        return Figure(proportion(num, den), num, den)
    value = raw.get(parts["value"], 0)
    return Figure(pounds(value) if measure.money else value)


def measure_figures(conn: Session | Connection, measure: Measure, periods: Sequence[Period]) -> dict[Period, Figure]:
    """One measure for some periods (only its own raw figures are computed)."""
    raw = stored.period_figures(conn, sorted(set(periods)), PARTS[measure.id].values())
    return {p: figure(measure, raw.get(p, {})) for p in periods}


def monthly(conn: Session | Connection, measure: Measure, *, first: dt.date, last: dt.date,
            precomputed: bool = True) -> list[tuple[dt.date, Figure]]:
    """The measure month by month from `first`'s month to `last` (each month as its own period:
    repeats still look back before it), by the month of the date that puts a record in a period."""
    keys = PARTS[measure.id].values()
    if precomputed:
        raw = _merge(stored.month_figures(conn, first.replace(day=1), last, keys),
                     stored.people_figures(conn, keys, first=first.replace(day=1), last=last, by="month"))
    else:
        raw = raw_figures(conn, ByMonth(first, last), keys)
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append((day, figure(measure, raw.get(day, {}))))
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def by_locality(conn: Session | Connection, measure: Measure, period: Period, *,
                precomputed: bool = True) -> list[tuple[str | None, Figure]] | None:
    """The measure per locality of its incidents in the period (None when its records have no
    locality); a person counted in a measure of people counts in each locality they were in.

    Only the partnership's localities are named: a value recorded before the list that matches
    none of it counts under UNRECOGNISED_LOCALITY, its text never shown; None: no locality."""
    if not has_locality(measure):
        return None
    keys = PARTS[measure.id].values()
    if precomputed:
        raw = _merge(stored.locality_figures(conn, period, keys),
                     stored.people_figures(conn, keys, first=period.first_day, last=period.last_day, by="locality"))
    else:
        raw = raw_figures(conn, ByLocality(period), keys)
    # Localities with none of the measure's records (only other incidents) are left out.
    rows = [(locality_row(loc), figure(measure, values)) for loc, values in raw.items() if any(values.values())]
    return sorted(rows, key=lambda item: (item[0] is None, item[0] == UNRECOGNISED_LOCALITY, item[0] or ""))


def _merge(*parts: dict[Hashable, dict[str, int]]) -> dict[Hashable, dict[str, int]]:
    merged: dict[Hashable, dict[str, int]] = defaultdict(dict)
    for part in parts:
        for group, values in part.items():
            merged[group].update(values)
    return merged


def records_behind(raw: Raw, period: Period, *, with_locality: bool = False) -> tuple[str, Any]:
    """The records behind a raw figure in a period: their kind ("incident" or "referral") and a
    SELECT of their distinct ids (for a figure of people: the records that put them in it);
    `with_locality`: and the locality each counts in (as `by_locality` groups it: `locality_row`
    names its row), for a source with localities."""
    f = frame(raw.source, period.first_day, period.last_day, locality=with_locality)
    columns = [f.record.label("record_id")]
    if with_locality and f.locality is not None:
        columns.append(listed_locality(f.locality).label("locality"))
    query = select(*columns).select_from(f.from_).where(*f.where, f.date.between(period.first_day, period.last_day))
    if raw.condition is not None:
        query = query.where(raw.condition(f.c))
    return f.record_kind, query.distinct()


def follow_up_complete(period: Period, as_of: dt.date) -> bool:
    """DA4's follow-up is complete when the as-of date is on or after the period's last day + 365."""
    return as_of >= period.last_day + dt.timedelta(days=FOLLOW_UP_DAYS)
