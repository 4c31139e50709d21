"""The raw figures the measures are made of, each defined once: which rows it counts (its
source), the condition a row must meet, and how rows are counted (rows, distinct incidents,
distinct people, or a sum). The same definition gives a period's figure, a month's (the
charts), a locality's (the breakdowns) and the list of records behind it.

A source is a FROM clause with the date that puts a row in a period (an incident's
`occurred_on`, a referral's `referred_on`, a programme start, an activity's date), the
locality where it has one, and the record each row stands for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Date, Integer, and_, case, exists, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.sql.selectable import FromClause

from ..models import Area, Locality, PreventionActivity
from ..models.mark import party_mark
from ..models.vocab import (
    AgencyKind,
    Category,
    CjStatus,
    PartyRole,
    PreventionKind,
    ReferralType,
)
from ..risk.repeats import (
    RepeatKind,
    incident_table,
    is_kind,
    is_repeat_referral,
    party_table,
    referral_table,
    repeat_marks,
    shift_days,
)

FOLLOW_UP_DAYS = 365  # DA4 follows each starter for a year
area_table = Area.__table__
locality_table = Locality.__table__
prevention_table = PreventionActivity.__table__

INCIDENT, MARK, SO_VICTIM, HRDA, STARTER, ACTIVITY = "incident", "mark", "so_victim", "hrda", "starter", "activity"
LOCALITY_SOURCES = frozenset({INCIDENT, MARK, SO_VICTIM})  # incidents have a locality; the others not


# The breakdowns' group of the values recorded before the list that match none of it (no name of
# the list starts with a space: `casework.services.localities` trims them).
UNRECOGNISED = " unrecognised"


def listed_locality(column: ColumnElement[Any]) -> ColumnElement[str]:
    """A stored locality as the breakdowns group it: a name of the partnership's list as it is, ""
    for none, and UNRECOGNISED for any other value, whose text is never shown to anyone there."""
    return case((column.in_(select(locality_table.c.name)), column),
                (func.coalesce(column, "") == "", literal("")), else_=literal(UNRECOGNISED))


@dataclass(frozen=True)
class Frame:
    """A source's rows between two dates."""

    from_: FromClause
    date: ColumnElement[Any]
    locality: ColumnElement[Any] | None  # None: the source has no locality
    record: ColumnElement[Any]  # the incident or referral each row stands for
    record_kind: str  # "incident", "referral" or "activity"
    c: SimpleNamespace  # the columns conditions use
    where: tuple[ColumnElement[bool], ...] = ()
    person: ColumnElement[Any] | None = None  # whom a row is about, for figures counting people


def frame(source: str, first: dt.date, last: dt.date, *, stored_marks: bool = True,
          locality: bool = False) -> Frame:
    """The rows of `source` dated from `first` to `last` (look-backs reach before `first`);
    `locality`: the locality is needed (the marks then join their incidents)."""
    i, a = incident_table, area_table
    if source == INCIDENT:
        return Frame(i.outerjoin(a, a.c.id == i.c.area_id), i.c.occurred_on, i.c.locality, i.c.id, "incident",
                     SimpleNamespace(i=i.c, a=a.c, table=i))
    if source == MARK:
        m = marks_source(first, last, stored_marks=stored_marks)
        from_ = m.join(i, i.c.id == m.c.incident_id) if locality else m
        return Frame(from_, m.c.occurred_on, i.c.locality if locality else None, m.c.incident_id,
                     "incident", SimpleNamespace(m=m.c), person=m.c.person_id)
    if source == SO_VICTIM:
        p = party_table
        return Frame(p.join(i, i.c.id == p.c.incident_id), i.c.occurred_on, i.c.locality, i.c.id, "incident",
                     SimpleNamespace(p=p.c), (so1(i.c), p.c.role == PartyRole.VICTIM))
    if source == HRDA:
        r = referral_table.alias("r")
        return Frame(r, r.c.referred_on, None, r.c.id, "referral", SimpleNamespace(r=r),
                     (r.c.type == ReferralType.HRDA,))
    if source == STARTER:
        r = referral_table
        starts = (select(r.c.person_id, func.min(r.c.started_on).label("started_on"))
                  .where(r.c.type == ReferralType.PERPETRATOR_PROGRAMME, r.c.started_on.is_not(None))
                  .group_by(r.c.person_id).subquery("starts"))
        first_start = referral_table.alias("first_start")  # the referral(s) that started it
        joined = starts.join(first_start, and_(first_start.c.person_id == starts.c.person_id,
                                               first_start.c.type == ReferralType.PERPETRATOR_PROGRAMME,
                                               first_start.c.started_on == starts.c.started_on))
        return Frame(joined, starts.c.started_on, None, first_start.c.id, "referral", SimpleNamespace(s=starts.c),
                     person=starts.c.person_id)
    if source == ACTIVITY:
        p = prevention_table
        return Frame(p, p.c.occurred_on, None, p.c.id, "activity", SimpleNamespace(a=p.c))
    raise ValueError(f"unknown source {source!r}")


def marks_source(first: dt.date, last: dt.date, *, stored_marks: bool = True) -> Any:
    """The repeat marks of the parties of incidents dated from `first` to `last`: the stored ones,
    or the rule run afresh (the same columns either way; the tests compare the two)."""
    if stored_marks:
        return select(party_mark).where(party_mark.c.occurred_on.between(first, last)).subquery("marks")
    rule = repeat_marks(occurred_from=first, occurred_to=last).subquery("rule")
    keys = ("incident_id", "person_id", "role", "occurred_on")
    # The rule's 0/1 flags as the stored booleans, so both read alike.
    return select(*(rule.c[c.name] if c.name in keys else (rule.c[c.name] == 1).label(c.name)
                    for c in party_mark.c)).subquery("marks")


class financial_year(FunctionElement[int]):
    """The financial year a date is in, as the calendar year it starts in (2025-03-31 -> 2024)."""

    type = Integer()
    inherit_cache = True
    name = "financial_year"


@compiles(financial_year, "sqlite")
def _financial_year_sqlite(element: financial_year, compiler: Any, **kw: Any) -> str:
    d = compiler.process(element.clauses, **kw)
    return f"(CAST(substr({d}, 1, 4) AS INTEGER) - (substr({d}, 6, 2) < '04'))"


@compiles(financial_year)
def _financial_year_default(element: financial_year, compiler: Any, **kw: Any) -> str:
    d = compiler.process(element.clauses, **kw)
    return f"(CAST(EXTRACT(YEAR FROM {d}) AS INTEGER) - CASE WHEN EXTRACT(MONTH FROM {d}) < 4 THEN 1 ELSE 0 END)"


class first_of_month(FunctionElement[dt.date]):
    """The first day of a date's month, as a date."""

    type = Date()
    inherit_cache = True
    name = "first_of_month"


@compiles(first_of_month, "sqlite")
def _first_of_month_sqlite(element: first_of_month, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


@compiles(first_of_month)
def _first_of_month_default(element: first_of_month, compiler: Any, **kw: Any) -> str:
    return f"CAST(date_trunc('month', {compiler.process(element.clauses, **kw)}) AS date)"


# --- conditions ----------------------------------------------------------------------


def police(i: Any) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = i.recorded_by == AgencyKind.POLICE
    return condition


def so1(i: Any) -> ColumnElement[bool]:
    return and_(i.category == Category.SEXUAL_OFFENCE, police(i))


def asb1(i: Any) -> ColumnElement[bool]:
    return and_(i.category == Category.ASB, police(i))


def rur1(i: Any) -> ColumnElement[bool]:
    return and_(i.rural.is_(True), police(i))


def _mark(kind: str, role: PartyRole, *, repeat: bool) -> Callable[[SimpleNamespace], ColumnElement[bool]]:
    def condition(s: SimpleNamespace) -> ColumnElement[bool]:
        flag = s.m[f"repeat_{kind}"] if repeat else s.m[f"is_{kind}"]
        return and_(flag.is_(True), s.m.role == role)
    return condition


def _reoffended(s: SimpleNamespace) -> ColumnElement[bool]:
    """DA4: a perpetrator in a DA incident from S + 1 to S + 365 (S: the first programme start)."""
    p, i = party_table.alias("p"), incident_table.alias("i")
    return exists().where(
        p.c.person_id == s.s.person_id, p.c.role == PartyRole.PERPETRATOR, i.c.id == p.c.incident_id,
        is_kind(RepeatKind.DA, i), i.c.occurred_on > s.s.started_on,
        i.c.occurred_on <= shift_days(s.s.started_on, FOLLOW_UP_DAYS))


# --- the raw figures ------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """One raw figure: rows of `source` meeting `condition`, counted as `count`: "rows",
    "incidents" or "people" (distinct), or "sum" of `amount` (a blank amount counts as 0)."""

    key: str
    source: str
    condition: Callable[[SimpleNamespace], ColumnElement[bool]] | None
    count: str = "rows"
    amount: Callable[[SimpleNamespace], ColumnElement[Any]] | None = None
    unit: str = "incidents"  # what the figure counts, in words
    person_year: tuple[str, PartyRole, bool] | None = None  # (kind, role, repeat) of person_year_mark


def _people(key: str, kind: str, role: PartyRole, *, repeat: bool) -> Raw:
    """A figure of distinct people with (repeat) kind-K marks in a role: from the marks, or from
    their per-person, per-year summary (`person_year_mark`) for whole financial years."""
    return Raw(key, MARK, _mark(kind, role, repeat=repeat), "people", unit="people",
               person_year=(kind, role, repeat))


V, P = PartyRole.VICTIM, PartyRole.PERPETRATOR
RAW: tuple[Raw, ...] = (
    Raw("da", INCIDENT, lambda s: is_kind(RepeatKind.DA, s.table)),
    Raw("DA2", INCIDENT, lambda s: and_(s.i.category == Category.STALKING, s.i.domestic_abuse.is_(True),
                                        police(s.i))),
    Raw("SO1", INCIDENT, lambda s: so1(s.i)),
    Raw("so1_alcohol", INCIDENT, lambda s: and_(so1(s.i), s.i.alcohol.is_(True))),
    Raw("ASB1", INCIDENT, lambda s: asb1(s.i)),
    Raw("ASB2", INCIDENT, lambda s: and_(asb1(s.i), s.a.asb_priority.is_(True))),
    Raw("asb1_alcohol", INCIDENT, lambda s: and_(asb1(s.i), s.i.alcohol.is_(True))),
    Raw("asb1_drugs", INCIDENT, lambda s: and_(asb1(s.i), s.i.drugs.is_(True))),
    Raw("asb1_mental_health", INCIDENT, lambda s: and_(asb1(s.i), s.i.mental_health.is_(True))),
    Raw("RUR1", INCIDENT, lambda s: rur1(s.i)),
    Raw("RUR2", INCIDENT, lambda s: and_(rur1(s.i), s.a.rural_hotspot.is_(True))),
    Raw("RUR3", INCIDENT, lambda s: s.i.category == Category.FLY_TIPPING),
    Raw("SV1", INCIDENT, lambda s: and_(is_kind(RepeatKind.SV, s.table), police(s.i))),
    Raw("SV2", INCIDENT, lambda s: and_(is_kind(RepeatKind.SV, s.table), police(s.i), s.a.sv_hotspot.is_(True))),
    Raw("da_repeat_victim", MARK, _mark("da", V, repeat=True), "incidents"),
    Raw("da_repeat_perpetrator", MARK, _mark("da", P, repeat=True), "incidents"),
    _people("pasb_victims", "personal_asb", V, repeat=False),
    _people("pasb_repeat_victims", "personal_asb", V, repeat=True),
    _people("asb_perpetrators", "asb", P, repeat=False),
    _people("asb_repeat_perpetrators", "asb", P, repeat=True),
    _people("sv_victims", "sv", V, repeat=False),
    _people("sv_repeat_victims", "sv", V, repeat=True),
    _people("sv_perpetrators", "sv", P, repeat=False),
    _people("sv_repeat_perpetrators", "sv", P, repeat=True),
    Raw("so1_victims_withdrew", SO_VICTIM, lambda s: s.p.cj_status == CjStatus.WITHDREW, unit="victims"),
    Raw("so1_victims_in_cj", SO_VICTIM, lambda s: s.p.cj_status.in_([c.value for c in CjStatus]), unit="victims"),
    Raw("hrda_referrals", HRDA, None, unit="referrals"),
    Raw("hrda_repeats", HRDA, lambda s: is_repeat_referral(s.r), unit="referrals"),
    Raw("starters", STARTER, None, "people", unit="people"),
    Raw("starters_reoffended", STARTER, _reoffended, "people", unit="people"),
    Raw("FR1", ACTIVITY, lambda s: s.a.kind == PreventionKind.FRIENDS_AGAINST_SCAMS, "sum",
        amount=lambda s: s.a.friends_recruited, unit="friends"),
    Raw("savings_pence", ACTIVITY, None, "sum", amount=lambda s: s.a.savings_pence, unit="pence"),
)
BY_KEY: dict[str, Raw] = {raw.key: raw for raw in RAW}

# The columns the raw figures read, per table (the stored repeat marks aside): what a stored monthly
# figure depends on. The figures' upkeep (`casework.figures`) refreshes a month when one of these
# changes; a test fails when a figure reads a column that is not listed here.
READS: dict[str, frozenset[str]] = {
    "incident": frozenset({"id", "occurred_on", "category", "domestic_abuse", "recorded_by", "locality", "area_id",
                           "rural", "alcohol", "drugs", "mental_health"}),
    "area": frozenset({"id", "asb_priority", "sv_hotspot", "rural_hotspot"}),
    "party": frozenset({"incident_id", "person_id", "role", "cj_status"}),
    "referral": frozenset({"id", "person_id", "type", "referred_on", "started_on"}),
    "prevention_activity": frozenset({"id", "occurred_on", "kind", "friends_recruited", "savings_pence"}),
}
