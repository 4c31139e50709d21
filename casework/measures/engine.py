"""The measures engine: every measure for a set of periods, computed set-based in SQL.

Six aggregate queries (incidents, repeat victims and perpetrators, sexual offence
victims, HRDA referrals, perpetrator programme starters, prevention activities)
each cover every period asked for at once, grouping rows into periods with a
CASE on the date. Nothing is cached: the
figures come from the tables each time, so records entered late, edited or
merged count the next time the measures are computed.

The repeat rules come from `casework.risk.repeats`, shared with the on-screen flags.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, and_, case, exists, func, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..models import Area, PreventionActivity
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
from .definitions import MEASURES
from .periods import Period

FOLLOW_UP_DAYS = 365  # DA4 follows each starter for a year
area_table = Area.__table__
prevention_table = PreventionActivity.__table__


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


def compute(conn: Session | Connection, periods: Sequence[Period], *,
            stored_marks: bool = True) -> dict[Period, dict[str, Figure]]:
    """Every measure for each of `periods` (typically one and its previous), keyed by measure id.

    Repeat victims and perpetrators come from the stored marks (`party_mark`, kept exact by
    `casework.services.marks`); `stored_marks=False` runs the rule's window instead, which gives
    the same figures, slower (the tests compare the two)."""
    periods = sorted(set(periods))
    raw: dict[Period, dict[str, int]] = {p: {} for p in periods}
    for query in (_incident_figures, _sexual_offence_figures, _hrda_figures, _programme_figures,
                  _prevention_figures):
        for period, figures in query(conn, periods).items():
            raw[period].update(figures)
    for period, figures in _party_figures(conn, periods, stored_marks=stored_marks).items():
        raw[period].update(figures)
    return {p: _measures(raw[p]) for p in periods}


# --- the queries -------------------------------------------------------------------


def _bucket(column: ColumnElement[Any], periods: Sequence[Period]) -> ColumnElement[Any]:
    """The index of the period a date falls in (None when in none)."""
    return case(*[(column.between(p.first_day, p.last_day), literal(n)) for n, p in enumerate(periods)],
                else_=None)


def _in_any(column: ColumnElement[Any], periods: Sequence[Period]) -> ColumnElement[bool]:
    return column.between(min(p.first_day for p in periods), max(p.last_day for p in periods))


def _sum_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


def _count_distinct_if(condition: ColumnElement[bool], column: ColumnElement[Any]) -> ColumnElement[int]:
    return func.count(func.distinct(case((condition, column), else_=None)))


def _run(conn: Session | Connection, query: Any, periods: Sequence[Period]) -> dict[Period, dict[str, int]]:
    result: dict[Period, dict[str, int]] = {p: {} for p in periods}
    for row in conn.execute(query).mappings():
        if row["bucket"] is not None:
            result[periods[row["bucket"]]] = {k: int(v or 0) for k, v in row.items() if k != "bucket"}
    return result


def _incident_figures(conn: Session | Connection, periods: Sequence[Period]) -> dict[Period, dict[str, int]]:
    i, a = incident_table, area_table
    police = i.c.recorded_by == AgencyKind.POLICE
    so1 = and_(i.c.category == Category.SEXUAL_OFFENCE, police)
    asb1 = and_(i.c.category == Category.ASB, police)
    rur1 = and_(i.c.rural.is_(True), police)
    sv1 = and_(is_kind(RepeatKind.SV, i), police)
    bucket = _bucket(i.c.occurred_on, periods).label("bucket")
    query = (
        select(
            bucket,
            _sum_if(is_kind(RepeatKind.DA, i)).label("da"),
            _sum_if(and_(i.c.category == Category.STALKING, i.c.domestic_abuse.is_(True), police)).label("DA2"),
            _sum_if(so1).label("SO1"),
            _sum_if(and_(so1, i.c.alcohol.is_(True))).label("so1_alcohol"),
            _sum_if(asb1).label("ASB1"),
            _sum_if(and_(asb1, a.c.asb_priority.is_(True))).label("ASB2"),
            _sum_if(and_(asb1, i.c.alcohol.is_(True))).label("asb1_alcohol"),
            _sum_if(and_(asb1, i.c.drugs.is_(True))).label("asb1_drugs"),
            _sum_if(and_(asb1, i.c.mental_health.is_(True))).label("asb1_mental_health"),
            _sum_if(rur1).label("RUR1"),
            _sum_if(and_(rur1, a.c.rural_hotspot.is_(True))).label("RUR2"),
            _sum_if(i.c.category == Category.FLY_TIPPING).label("RUR3"),
            _sum_if(sv1).label("SV1"),
            _sum_if(and_(sv1, a.c.sv_hotspot.is_(True))).label("SV2"),
        )
        .select_from(i.outerjoin(a, a.c.id == i.c.area_id))
        .where(_in_any(i.c.occurred_on, periods))
        .group_by(bucket)
    )
    return _run(conn, query, periods)


def marks_source(periods: Sequence[Period], *, stored_marks: bool = True) -> Any:
    """The repeat marks of the parties of incidents dated in `periods`: the stored ones, or the
    rule run afresh (the same columns either way)."""
    first, last = min(p.first_day for p in periods), max(p.last_day for p in periods)
    if stored_marks:
        return (select(party_mark).where(party_mark.c.occurred_on.between(first, last))
                .subquery("marks"))
    rule = repeat_marks(occurred_from=first, occurred_to=last).subquery("rule")
    # The rule's 0/1 flags as the stored booleans, so both read alike.
    keys = ("incident_id", "person_id", "role", "occurred_on")
    return select(*(rule.c[c.name] if c.name in keys else (rule.c[c.name] == 1).label(c.name)
                    for c in party_mark.c)).subquery("marks")


def _party_figures(conn: Session | Connection, periods: Sequence[Period], *,
                   stored_marks: bool = True) -> dict[Period, dict[str, int]]:
    """Repeat victims and perpetrators: one pass over the parties of DA, ASB and SV incidents."""
    m = marks_source(periods, stored_marks=stored_marks)
    victim, perpetrator = m.c.role == PartyRole.VICTIM, m.c.role == PartyRole.PERPETRATOR

    def of(kind: RepeatKind) -> ColumnElement[bool]:
        return m.c[f"is_{kind.value}"].is_(True)

    def repeat(kind: RepeatKind) -> ColumnElement[bool]:
        return m.c[f"repeat_{kind.value}"].is_(True)

    da, pasb, asb, sv = RepeatKind.DA, RepeatKind.PERSONAL_ASB, RepeatKind.ASB, RepeatKind.SV
    bucket = _bucket(m.c.occurred_on, periods).label("bucket")
    query = select(
        bucket,
        _count_distinct_if(and_(repeat(da), victim), m.c.incident_id).label("da_repeat_victim"),
        _count_distinct_if(and_(repeat(da), perpetrator), m.c.incident_id).label("da_repeat_perpetrator"),
        _count_distinct_if(and_(of(pasb), victim), m.c.person_id).label("pasb_victims"),
        _count_distinct_if(and_(repeat(pasb), victim), m.c.person_id).label("pasb_repeat_victims"),
        _count_distinct_if(and_(of(asb), perpetrator), m.c.person_id).label("asb_perpetrators"),
        _count_distinct_if(and_(repeat(asb), perpetrator), m.c.person_id).label("asb_repeat_perpetrators"),
        _count_distinct_if(and_(of(sv), victim), m.c.person_id).label("sv_victims"),
        _count_distinct_if(and_(repeat(sv), victim), m.c.person_id).label("sv_repeat_victims"),
        _count_distinct_if(and_(of(sv), perpetrator), m.c.person_id).label("sv_perpetrators"),
        _count_distinct_if(and_(repeat(sv), perpetrator), m.c.person_id).label("sv_repeat_perpetrators"),
    ).group_by(bucket)
    return _run(conn, query, periods)


def _sexual_offence_figures(conn: Session | Connection, periods: Sequence[Period]) -> dict[Period, dict[str, int]]:
    """SO3: rows of victims of police-recorded sexual offences by their criminal justice progress."""
    i, p = incident_table, party_table
    bucket = _bucket(i.c.occurred_on, periods).label("bucket")
    query = (
        select(
            bucket,
            _sum_if(p.c.cj_status == CjStatus.WITHDREW).label("so1_victims_withdrew"),
            _sum_if(p.c.cj_status.in_([s.value for s in CjStatus])).label("so1_victims_in_cj"),
        )
        .select_from(p.join(i, i.c.id == p.c.incident_id))
        .where(_in_any(i.c.occurred_on, periods), i.c.category == Category.SEXUAL_OFFENCE,
               i.c.recorded_by == AgencyKind.POLICE, p.c.role == PartyRole.VICTIM)
        .group_by(bucket)
    )
    return _run(conn, query, periods)


def _hrda_figures(conn: Session | Connection, periods: Sequence[Period]) -> dict[Period, dict[str, int]]:
    r = referral_table.alias("r")
    bucket = _bucket(r.c.referred_on, periods).label("bucket")
    query = (
        select(bucket, func.count().label("hrda_referrals"), _sum_if(is_repeat_referral(r)).label("hrda_repeats"))
        .where(r.c.type == ReferralType.HRDA, _in_any(r.c.referred_on, periods))
        .group_by(bucket)
    )
    return _run(conn, query, periods)


def _programme_figures(conn: Session | Connection, periods: Sequence[Period]) -> dict[Period, dict[str, int]]:
    """DA4: each person's first programme start S (whatever its date) puts them in S's period's
    cohort; they reoffend when a perpetrator in a DA incident from S + 1 to S + 365."""
    r = referral_table
    starts = (
        select(r.c.person_id, func.min(r.c.started_on).label("started_on"))
        .where(r.c.type == ReferralType.PERPETRATOR_PROGRAMME, r.c.started_on.is_not(None))
        .group_by(r.c.person_id)
        .subquery("starts")
    )
    p, i = party_table.alias("p"), incident_table.alias("i")
    reoffended = exists().where(
        p.c.person_id == starts.c.person_id,
        p.c.role == PartyRole.PERPETRATOR,
        i.c.id == p.c.incident_id,
        is_kind(RepeatKind.DA, i),
        i.c.occurred_on > starts.c.started_on,
        i.c.occurred_on <= shift_days(starts.c.started_on, FOLLOW_UP_DAYS),
    )
    bucket = _bucket(starts.c.started_on, periods).label("bucket")
    query = (
        select(bucket, func.count().label("starters"), _sum_if(reoffended).label("starters_reoffended"))
        .where(_in_any(starts.c.started_on, periods))
        .group_by(bucket)
    )
    return _run(conn, query, periods)


def _prevention_figures(conn: Session | Connection, periods: Sequence[Period]) -> dict[Period, dict[str, int]]:
    a = prevention_table
    bucket = _bucket(a.c.occurred_on, periods).label("bucket")
    query = (
        select(
            bucket,
            # A blank amount counts as 0.
            func.coalesce(func.sum(case((a.c.kind == PreventionKind.FRIENDS_AGAINST_SCAMS,
                                         func.coalesce(a.c.friends_recruited, 0)), else_=0)), 0).label("FR1"),
            func.coalesce(func.sum(func.coalesce(a.c.savings_pence, 0)), 0).label("savings_pence"),
        )
        .where(_in_any(a.c.occurred_on, periods))
        .group_by(bucket)
    )
    return _run(conn, query, periods)


# --- from raw figures to measures ------------------------------------------------------------

# Proportions: (numerator, denominator) among the raw figures.
_PROPORTIONS = {
    "DA1": ("da_repeat_victim", "da"),
    "DA3": ("da_repeat_perpetrator", "da"),
    "DA4": ("starters_reoffended", "starters"),
    "SO2": ("so1_alcohol", "SO1"),
    "SO3": ("so1_victims_withdrew", "so1_victims_in_cj"),
    "ASB3": ("pasb_repeat_victims", "pasb_victims"),
    "ASB4": ("asb_repeat_perpetrators", "asb_perpetrators"),
    "ASB5": ("asb1_alcohol", "ASB1"),
    "ASB6": ("asb1_drugs", "ASB1"),
    "ASB7": ("asb1_mental_health", "ASB1"),
    "SV3": ("sv_repeat_victims", "sv_victims"),
    "SV4": ("sv_repeat_perpetrators", "sv_perpetrators"),
    "HRDA1": ("hrda_repeats", "hrda_referrals"),
}


def _measures(raw: dict[str, int]) -> dict[str, Figure]:
    figures: dict[str, Figure] = {}
    for measure in MEASURES:
        if measure.id in _PROPORTIONS:
            num_key, den_key = _PROPORTIONS[measure.id]
            num, den = raw.get(num_key, 0), raw.get(den_key, 0)
            figures[measure.id] = Figure(proportion(num, den), num, den)
        elif measure.money:
            figures[measure.id] = Figure(pounds(raw.get("savings_pence", 0)))
        else:
            figures[measure.id] = Figure(raw.get(measure.id, 0))
    return figures


def follow_up_complete(period: Period, as_of: dt.date) -> bool:
    """DA4's follow-up is complete when the as-of date is on or after the period's last day + 365."""
    return as_of >= period.last_day + dt.timedelta(days=FOLLOW_UP_DAYS)
