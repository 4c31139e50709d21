"""The repeat rules, once: repeat victims and perpetrators, potential escalation, repeat HRDA
referrals and the ASB case review threshold.

Everything here is a SQLAlchemy Core builder over the `incident`, `party` and
`referral` tables (or a small function that runs one on a Session or
Connection), with no Flask import, so the measures and the on-screen flags
share one definition of each rule.

Dates: SQLite stores them as ISO text, PostgreSQL as `date`. Boundaries known
in Python are pushed as parameters; boundaries relative to another row's date
use `shift_days` / `shift_months`, which compile to the right thing on each
database (month arithmetic clamps to the month's last day on both).

Merged people: a person merged into another (`Person.merged_into_id`) has
their parties and referrals moved to the survivor by the merge, so counting by
`party.person_id` and `referral.person_id` is all the rules need to do.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import functools
import uuid
from typing import Any, ClassVar

from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.sql.selectable import FromClause
from sqlalchemy.sql.visitors import InternalTraversal

from ..models import Incident, Party, Referral
from ..models.vocab import SERIOUS_VIOLENCE, AsbType, Category, PartyRole, ReferralType

LOOKBACK_DAYS = 365

incident_table = Incident.__table__
party_table = Party.__table__
referral_table = Referral.__table__

# The columns the repeat rule (`repeat_marks`, whose rows are stored) reads, per table. The stored
# marks' upkeep (`casework.figures`) refreshes a person's marks when one of these changes and watches
# nothing else for them; a test fails when the rule reads a column that is not listed here.
READS: dict[str, frozenset[str]] = {
    "party": frozenset({"incident_id", "person_id", "role"}),
    "incident": frozenset({"id", "occurred_on", "category", "domestic_abuse", "asb_type"}),
}


# --- portable date arithmetic --------------------------------------------------


class shift_days(FunctionElement[dt.date]):
    """`date_column + n` days, on SQLite and PostgreSQL alike."""

    type = Date()
    inherit_cache = True
    name = "shift_days"
    _traverse_internals: ClassVar = [*FunctionElement._traverse_internals, ("days", InternalTraversal.dp_plain_obj)]  # type: ignore[misc]

    def __init__(self, expr: ColumnElement[Any], days: int) -> None:
        self.days = int(days)
        super().__init__(expr)


class shift_months(FunctionElement[dt.date]):
    """`date_column + n` months, clamped to the last day of the month (31 Aug - 6 months = 29 Feb)."""

    type = Date()
    inherit_cache = True
    name = "shift_months"
    _traverse_internals: ClassVar = [*FunctionElement._traverse_internals, ("months", InternalTraversal.dp_plain_obj)]  # type: ignore[misc]

    def __init__(self, expr: ColumnElement[Any], months: int) -> None:
        self.months = int(months)
        super().__init__(expr)


# The day and month counts are ints checked in __init__, so inlining them is safe and keeps the
# expression usable inside index range conditions.
@compiles(shift_days, "sqlite")
def _shift_days_sqlite(element: shift_days, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '{element.days:+d} days')"


@compiles(shift_days)
def _shift_days_default(element: shift_days, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} + {element.days:d})"


@compiles(shift_months, "sqlite")
def _shift_months_sqlite(element: shift_months, compiler: Any, **kw: Any) -> str:
    # SQLite rolls 31 Aug - 6 months over to 2 Mar; the last day of the target month caps it.
    x = compiler.process(element.clauses, **kw)
    n = element.months
    return (f"min(date({x}, '{n:+d} months'), "
            f"date({x}, 'start of month', '{n + 1:+d} months', '-1 days'))")


@compiles(shift_months)
def _shift_months_default(element: shift_months, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} + interval '{element.months:d} months' AS date)"


class unindexed(FunctionElement[Any]):
    """The expression as it is, but not to be looked up or ordered by an index: SQLite's no-op
    unary `+` (for a condition that selects nearly every row, or an order an index would give only
    at the price of reading the rows at random). Elsewhere the expression itself."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, expr: ColumnElement[Any]) -> None:
        super().__init__(expr)
        self.type = expr.type


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(unindexed)
def _unindexed_default(element: unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


class day_number(FunctionElement[int]):
    """A date as a whole number of days (for window frames counted in days)."""

    type = Integer()
    inherit_cache = True
    name = "day_number"


@compiles(day_number, "sqlite")
def _day_number_sqlite(element: day_number, compiler: Any, **kw: Any) -> str:
    return f"julianday({compiler.process(element.clauses, **kw)})"


@compiles(day_number)
def _day_number_default(element: day_number, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (or earlier), clamped to the month's end, as `shift_months`."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


# --- kinds -------------------------------------------------------------------------


class RepeatKind(str, enum.Enum):
    """The kinds of incident the repeat rules look at."""

    DA = "da"                      # domestic_abuse = y
    PERSONAL_ASB = "personal_asb"  # category asb, asb_type personal
    ASB = "asb"                    # category asb
    SV = "sv"                      # the serious violence categories


def is_kind(kind: RepeatKind, incident: FromClause = incident_table) -> ColumnElement[bool]:
    """The SQL predicate "this incident is of kind K"."""
    c = incident.c
    if kind is RepeatKind.DA:
        return c.domestic_abuse.is_(True)
    if kind is RepeatKind.ASB:
        return c.category == Category.ASB
    if kind is RepeatKind.PERSONAL_ASB:
        return and_(c.category == Category.ASB, c.asb_type == AsbType.PERSONAL)
    if kind is RepeatKind.SV:
        return c.category.in_(sorted(SERIOUS_VIOLENCE))
    raise ValueError(f"unknown kind {kind!r}")


# --- repeat victims and perpetrators -------------------------------------------------------


class _earlier_count(FunctionElement[int]):
    """For each party row: how many rows of the same person in the same role, matching
    `condition`, are dated from d - days to d - 1 (d: the row's date). One window, sorted once
    however many conditions use it; the frame is inlined so that every use is the same window."""

    type = Integer()
    inherit_cache = True
    name = "earlier_count"
    _traverse_internals: ClassVar = [*FunctionElement._traverse_internals, ("days", InternalTraversal.dp_plain_obj)]  # type: ignore[misc]

    def __init__(self, condition: ColumnElement[bool], person_id: ColumnElement[Any], role: ColumnElement[Any],
                 occurred_on: ColumnElement[Any], days: int) -> None:
        self.days = int(days)
        # SQLite must not read the parties in the order of their (person, role) index to spare the
        # window its sort: that order visits the incidents at random, one index search each, five
        # times slower at a million parties than reading them in order and sorting. Where the rows
        # are limited to some people, the index still finds them.
        super().__init__(condition, unindexed(person_id), role, day_number(occurred_on))


@compiles(_earlier_count)
def _earlier_count_sql(element: _earlier_count, compiler: Any, **kw: Any) -> str:
    condition, person_id, role, day = (compiler.process(c, **kw) for c in element.clauses.clauses)
    return (f"count(CASE WHEN {condition} THEN 1 END) OVER (PARTITION BY {person_id}, {role} ORDER BY {day} "
            f"RANGE BETWEEN {element.days:d} PRECEDING AND 1 PRECEDING)")


def repeat_marks(*, occurred_from: dt.date | None = None, occurred_to: dt.date | None = None,
                 person_ids: list[uuid.UUID] | None = None, kinds: tuple[RepeatKind, ...] = tuple(RepeatKind),
                 lookback_days: int = LOOKBACK_DAYS, looked_back_from: Any = None) -> Select[Any]:
    """The repeat rule, once. One row per party of an incident of any of `kinds`, dated from
    `occurred_from` to `occurred_to` (either may be open), with columns incident_id, person_id,
    role, occurred_on and, for each kind K (`K.value`): `is_K`, 1 when the incident is of kind K,
    and `repeat_K`, 1 when it is and the person had the same role in an earlier kind-K incident.

    Earlier means `occurred_on` from d - 365 to d - 1 where d is the incident's
    date: the same day never counts. Incidents of every recorder count, and the
    look-back reaches before `occurred_from`. Set-based: a window over each
    person's rows in date order, so a person with a long history costs a sort,
    not a scan of their history for every incident.

    The bounds and people may be bound parameters (a statement built once, run for many people);
    then `looked_back_from`, the first day the look-back reaches, is one too.
    """
    i = incident_table.alias("i")
    p = party_table.alias("p")
    columns: list[Any] = [p.c.incident_id, p.c.person_id, p.c.role, i.c.occurred_on]
    for kind in kinds:
        columns.append(case((is_kind(kind, i), 1), else_=0).label(f"is_{kind.value}"))
        columns.append(_earlier_count(is_kind(kind, i), p.c.person_id, p.c.role, i.c.occurred_on, lookback_days)
                       .label(f"earlier_{kind.value}"))
    rows = (
        select(*columns)
        .select_from(p.join(i, i.c.id == p.c.incident_id))
        .where(or_(*(is_kind(kind, i) for kind in kinds)))
    )
    if occurred_from is not None:
        if looked_back_from is None:
            looked_back_from = occurred_from - dt.timedelta(days=lookback_days)
        rows = rows.where(i.c.occurred_on >= looked_back_from)
    if occurred_to is not None:
        rows = rows.where(i.c.occurred_on <= occurred_to)
    if person_ids is not None:
        rows = rows.where(p.c.person_id.in_(person_ids))  # whole partitions: the window is per person
    m = rows.subquery("marks")
    query = select(
        m.c.incident_id, m.c.person_id, m.c.role, m.c.occurred_on,
        *(m.c[f"is_{kind.value}"] for kind in kinds),
        *(case((and_(m.c[f"is_{kind.value}"] == 1, m.c[f"earlier_{kind.value}"] > 0), 1), else_=0)
          .label(f"repeat_{kind.value}") for kind in kinds),
    )
    if occurred_from is not None:
        query = query.where(m.c.occurred_on >= occurred_from)
    return query


def repeat_events(kind: RepeatKind, role: PartyRole, *, occurred_from: dt.date | None = None,
                  occurred_to: dt.date | None = None,
                  person_ids: list[uuid.UUID] | None = None) -> Select[Any]:
    """(incident_id, person_id, occurred_on) of every repeat event of kind K for role R.

    A row means: the incident is of kind K, the person has role R in it, and
    they had role R in an earlier kind-K incident. Optionally limited to
    incidents dated from `occurred_from` to `occurred_to` and to some people.
    """
    marks = repeat_marks(occurred_from=occurred_from, occurred_to=occurred_to, person_ids=person_ids,
                         kinds=(kind,)).subquery()
    return select(marks.c.incident_id, marks.c.person_id, marks.c.occurred_on).where(
        marks.c.role == role, marks.c[f"repeat_{kind.value}"] == 1)


def current_repeat_flags(conn: Session | Connection, person_id: uuid.UUID, *, today: dt.date,
                         ) -> dict[tuple[RepeatKind, PartyRole], bool]:
    """A person's current repeat flags: for each kind and role, whether they have a kind-K
    incident dated from today - 364 to today that is a repeat for them."""
    since = today - dt.timedelta(days=LOOKBACK_DAYS - 1)
    held = set()
    for row in conn.execute(_current_marks(), {"person_ids": [person_id], "since": since, "until": today,
                                               "looked_back_from": since - dt.timedelta(days=LOOKBACK_DAYS)}).mappings():
        for kind in RepeatKind:
            if row[f"repeat_{kind.value}"] == 1:
                held.add((kind, PartyRole(row["role"])))
    return {(kind, role): (kind, role) in held for kind in RepeatKind for role in PartyRole}


def marks_on(conn: Session | Connection, person_ids: list[uuid.UUID], day: dt.date) -> Any:
    """`repeat_marks` for the people's incidents dated `day` (an incident's page), as mappings: the
    statement built once, the people and the day its parameters."""
    return conn.execute(_current_marks(), {"person_ids": person_ids, "since": day, "until": day,
                                           "looked_back_from": day - dt.timedelta(days=LOOKBACK_DAYS)}).mappings()


# A person's page asks these for one person at a time: the statements are built once, with the person
# and the dates as parameters (building one costs more than running it).


@functools.cache
def _current_marks() -> Select[Any]:
    # Parameters stand where the rule takes values (typed Any: the rule is typed for the values).
    since: Any = bindparam("since", type_=Date())
    until: Any = bindparam("until", type_=Date())
    person_ids: Any = bindparam("person_ids", expanding=True)
    return repeat_marks(occurred_from=since, occurred_to=until, person_ids=person_ids,
                        looked_back_from=bindparam("looked_back_from", type_=Date()))


def _cluster_in_window(events: Select[Any], *, strictly_after: bool) -> Any:
    """Whether any of `events` (for the people in the parameter) is dated in the window from
    the parameter `since` (or strictly after it) to `until`."""
    e = events.subquery()
    since = bindparam("since", type_=Date())
    return select(exists(select(e.c.incident_id).where(
        e.c.occurred_on > since if strictly_after else e.c.occurred_on >= since,
        e.c.occurred_on <= bindparam("until", type_=Date()))))


def repeat_people(kind: RepeatKind, role: PartyRole, *, today: dt.date) -> Select[Any]:
    """The distinct people whose current repeat flag of kind K and role R holds on `today`."""
    events = repeat_events(kind, role, occurred_from=today - dt.timedelta(days=LOOKBACK_DAYS - 1),
                           occurred_to=today).subquery()
    return select(events.c.person_id).distinct()


# --- clusters: potential escalation, ASB case review ---------------------------------------


def _cluster_events(kind: RepeatKind, role: PartyRole, *, count: int, window_start: Any,
                    person_ids: list[uuid.UUID] | None) -> Select[Any]:
    """(incident_id, person_id, occurred_on) of incidents that complete a cluster: together with
    the person's other kind-K incidents in that role dated from `window_start(d)` to d (same-day
    incidents counted separately), there are at least `count` of them."""
    if count < 1:
        raise ValueError("a cluster needs at least one incident")
    i = incident_table.alias("i")
    p = party_table.alias("p")
    other = incident_table.alias("other_incident")
    other_party = party_table.alias("other_party")
    in_window = (
        select(func.count())
        .select_from(other_party.join(other, other.c.id == other_party.c.incident_id))
        .where(
            other_party.c.person_id == p.c.person_id,
            other_party.c.role == role,
            is_kind(kind, other),
            other.c.occurred_on <= i.c.occurred_on,
            other.c.occurred_on >= window_start(i.c.occurred_on),
        )
        .scalar_subquery()
    )
    query = (
        select(p.c.incident_id, p.c.person_id, i.c.occurred_on)
        .select_from(p.join(i, i.c.id == p.c.incident_id))
        .where(p.c.role == role, is_kind(kind, i), in_window >= literal(count))
    )
    if person_ids is not None:
        query = query.where(p.c.person_id.in_(person_ids))
    return query


def escalation_events(*, incidents: int = 3, window_days: int = 365,
                      person_ids: list[uuid.UUID] | None = None) -> Select[Any]:
    """Potential escalation (HRDA criterion 3): DA incidents that make `incidents` or more DA
    incidents with the same person as victim dated within `window_days` of each other (from
    d - window_days to d). Config: ESCALATION_INCIDENTS, ESCALATION_WINDOW_DAYS."""
    return _cluster_events(RepeatKind.DA, PartyRole.VICTIM, count=incidents,
                           window_start=lambda d: shift_days(d, -window_days), person_ids=person_ids)


def potential_escalation(conn: Session | Connection, person_id: uuid.UUID, *, today: dt.date,
                         incidents: int = 3, window_days: int = 365) -> bool:
    """Whether a DA incident dated from today - (window_days - 1) to today completes a potential
    escalation cluster for the person (the same "current" window as the repeat flags)."""
    query = _escalation(incidents, window_days)
    return bool(conn.execute(query, {"person_ids": [person_id], "since": today - dt.timedelta(days=window_days - 1),
                                     "until": today}).scalar())


@functools.cache
def _escalation(incidents: int, window_days: int) -> Any:
    events = escalation_events(incidents=incidents, window_days=window_days,
                               person_ids=bindparam("person_ids", expanding=True))  # type: ignore[arg-type]
    return _cluster_in_window(events, strictly_after=False)


def asb_review_events(*, complaints: int = 3, window_months: int = 6,
                      person_ids: list[uuid.UUID] | None = None) -> Select[Any]:
    """ASB case review (community trigger) threshold: ASB incidents that make `complaints` or
    more ASB incidents with the same person as victim within `window_months` (from d minus the
    months to d). Config: ASB_REVIEW_COMPLAINTS, ASB_REVIEW_WINDOW_MONTHS."""
    return _cluster_events(RepeatKind.ASB, PartyRole.VICTIM, count=complaints,
                           window_start=lambda d: shift_months(d, -window_months), person_ids=person_ids)


def asb_review_threshold(conn: Session | Connection, person_id: uuid.UUID, *, today: dt.date,
                         complaints: int = 3, window_months: int = 6) -> bool:
    """Whether an ASB incident dated within the last `window_months` (after today minus the months,
    to today) brings the person to the case review threshold."""
    query = _asb_review(complaints, window_months)
    return bool(conn.execute(query, {"person_ids": [person_id], "since": add_months(today, -window_months),
                                     "until": today}).scalar())


@functools.cache
def _asb_review(complaints: int, window_months: int) -> Any:
    events = asb_review_events(complaints=complaints, window_months=window_months,
                               person_ids=bindparam("person_ids", expanding=True))  # type: ignore[arg-type]
    return _cluster_in_window(events, strictly_after=True)


# --- repeat HRDA referrals ----------------------------------------------------------------


def is_repeat_referral(referral: FromClause, *, lookback_days: int = LOOKBACK_DAYS) -> ColumnElement[bool]:
    """The SQL predicate "the person of this HRDA referral had an earlier HRDA referral with
    `referred_on` from d - 365 to d - 1" (measure HRDA1; HRDA criterion 4)."""
    earlier = referral_table.alias("earlier_referral")
    return exists().where(
        earlier.c.type == ReferralType.HRDA,
        earlier.c.person_id == referral.c.person_id,
        earlier.c.referred_on < referral.c.referred_on,
        earlier.c.referred_on >= shift_days(referral.c.referred_on, -lookback_days),
    )


def repeat_hrda_referrals(*, referred_from: dt.date | None = None,
                          referred_to: dt.date | None = None) -> Select[Any]:
    """(referral_id, person_id, referred_on) of every HRDA referral that is a repeat referral."""
    r = referral_table.alias("r")
    query = select(r.c.id.label("referral_id"), r.c.person_id, r.c.referred_on).where(
        r.c.type == ReferralType.HRDA, is_repeat_referral(r))
    if referred_from is not None:
        query = query.where(r.c.referred_on >= referred_from)
    if referred_to is not None:
        query = query.where(r.c.referred_on <= referred_to)
    return query


def would_be_repeat_hrda(conn: Session | Connection, person_id: uuid.UUID, *, referred_on: dt.date) -> bool:
    """Whether a new HRDA referral of the person dated `referred_on` would be a repeat referral:
    they have an HRDA referral dated from referred_on - 365 to referred_on - 1."""
    query = select(referral_table.c.id).where(
        referral_table.c.type == ReferralType.HRDA,
        referral_table.c.person_id == person_id,
        referral_table.c.referred_on < referred_on,
        referral_table.c.referred_on >= referred_on - dt.timedelta(days=LOOKBACK_DAYS),
    )
    return bool(conn.execute(select(exists(query))).scalar())
