"""The orders and powers measures ORD1, ORD2 and ORD3 (issue 17 §2; exact definitions in
docs/orders.md), extra to the plan's 24: not in the spec's document unless asked for
(`casework measures --orders`), and on a page of their own.

The counting rules are pure functions of plain rows (`escalation`, `breached`), so their boundaries
are tested alone; the queries only fetch the rows. Orders are counted on the day they were made or
issued (`issued_on`); one only applied for is not counted anywhere.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..models.order import Order, OrderBreach, OrderKind
from .definitions import Measure, MeasureType, Priority, Target
from .engine import Figure, proportion
from .periods import Period

ESCALATION_DAYS = 365  # "within 12 months": a further notice or order on day 1 to day 365 after the warning
# What counts as a further notice or order after a community protection warning: every kind but the
# warning itself and the acceptable behaviour contract (a voluntary agreement, neither notice nor order).
FURTHER_KINDS = frozenset(OrderKind) - {OrderKind.CPW, OrderKind.ABC}

ORDER_MEASURES: tuple[Measure, ...] = (
    Measure("ORD1", MeasureType.COUNT, Target.INCREASE, Priority.ASB, "Orders and powers issued",
            "Orders, notices, warnings and agreements made or issued, of every kind and agency."),
    Measure("ORD2", MeasureType.PROPORTION, Target.REDUCE, Priority.ASB, "Warnings escalated",
            "Share of people given a community protection warning who were given a further notice or order "
            "within 12 months of it."),
    Measure("ORD3", MeasureType.PROPORTION, Target.REDUCE, Priority.ASB, "Orders breached",
            "Share of the orders and powers issued that were breached by the end of the year."),
)
BY_ID = {m.id: m for m in ORDER_MEASURES}


def escalation(warnings: Iterable[tuple[Any, dt.date]], further: Iterable[tuple[Any, dt.date]]) -> tuple[int, int]:
    """ORD2's (numerator, denominator): the distinct people of `warnings` (person, day a warning in
    the period was issued), and those of them with a further notice or order (`further`: person,
    day issued) from the day after one of their warnings to `ESCALATION_DAYS` days after it, both
    included. A further one on the warning's own day is not an escalation."""
    warned: dict[Any, list[dt.date]] = defaultdict(list)
    for person, day in warnings:
        warned[person].append(day)
    later: dict[Any, list[dt.date]] = defaultdict(list)
    for person, day in further:
        if person in warned:
            later[person].append(day)
    escalated = sum(1 for person, days in warned.items()
                    if any(1 <= (f - w).days <= ESCALATION_DAYS for w in days for f in later[person]))
    return escalated, len(warned)


def breached(orders: Iterable[tuple[Any, dt.date]], breaches: Iterable[tuple[Any, dt.date]], *,
             last_day: dt.date) -> tuple[int, int]:
    """ORD3's (numerator, denominator): the orders (id, day issued in the period), and those with a
    breach dated from their issue day to `last_day` (the period's last day), both included."""
    issued = dict(orders)
    hit = {order for order, day in breaches if order in issued and issued[order] <= day <= last_day}
    return len(hit), len(issued)


def _issued_in(period: Period) -> Any:
    return Order.issued_on.between(period.first_day, period.last_day)


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def compute_orders(conn: Session | Connection, period: Period) -> dict[str, Figure]:
    """ORD1, ORD2 and ORD3 for one period."""
    issued = [(r.id, _date(r.issued_on), OrderKind(r.kind), r.person_id)
              for r in conn.execute(select(Order.id, Order.issued_on, Order.kind, Order.person_id)
                                    .where(_issued_in(period)))]
    warnings = [(person, day) for _, day, kind, person in issued if kind is OrderKind.CPW]
    warned = list({person for person, _ in warnings})
    further: list[tuple[uuid.UUID, dt.date]] = []
    for start in range(0, len(warned), 1000):
        further += [(r.person_id, _date(r.issued_on)) for r in conn.execute(
            select(Order.person_id, Order.issued_on).where(
                Order.person_id.in_(warned[start:start + 1000]), Order.kind.in_(sorted(FURTHER_KINDS)),
                Order.issued_on.between(period.first_day + dt.timedelta(days=1),
                                        period.last_day + dt.timedelta(days=ESCALATION_DAYS))))]
    breaches = [(r.order_id, _date(r.breached_on)) for r in conn.execute(
        select(OrderBreach.order_id, OrderBreach.breached_on).join(Order, Order.id == OrderBreach.order_id)
        .where(_issued_in(period), OrderBreach.breached_on <= period.last_day))]
    e_num, e_den = escalation(warnings, further)
    b_num, b_den = breached(((i, day) for i, day, _, _ in issued), breaches, last_day=period.last_day)
    return {"ORD1": Figure(len(issued)),
            "ORD2": Figure(proportion(e_num, e_den), e_num, e_den),
            "ORD3": Figure(proportion(b_num, b_den), b_num, b_den)}


def follow_up_complete(period: Period, as_of: dt.date) -> bool:
    """Whether every warning of the period has had its 12 months to escalate by `as_of`."""
    return as_of >= period.last_day + dt.timedelta(days=ESCALATION_DAYS)


def issued_by_kind_and_agency(conn: Session | Connection, period: Period) -> Counter[tuple[OrderKind, uuid.UUID]]:
    """ORD1 broken down: orders made or issued in the period by kind and holding agency."""
    return Counter({(OrderKind(r.kind), r.owner_agency_id): r.n for r in conn.execute(
        select(Order.kind, Order.owner_agency_id, _count()).where(_issued_in(period))
        .group_by(Order.kind, Order.owner_agency_id))})


def issued_by_month(conn: Session | Connection, period: Period) -> list[tuple[dt.date, int]]:
    """ORD1 month by month through the period (every month, none left out)."""
    counts: Counter[tuple[int, int]] = Counter(
        (d.year, d.month) for d in (_date(v) for v in conn.scalars(select(Order.issued_on).where(_issued_in(period)))))
    months = [dt.date(period.start_year + (m >= 13), (m - 1) % 12 + 1, 1) for m in range(4, 16)]
    return [(month, counts[(month.year, month.month)]) for month in months]


def _count() -> Any:
    from sqlalchemy import func

    return func.count().label("n")


def add_to_document(document: dict[str, Any], conn: Session | Connection, period: Period, *, as_of: dt.date,
                    suppress: bool = False) -> dict[str, Any]:
    """The measures document (`casework.measures.report`) with ORD1 to ORD3 after the plan's
    measures, in the same shape (ORD2 has `follow_up_complete`, as DA4)."""
    from .report import figure_fields, trend

    now, before = compute_orders(conn, period), compute_orders(conn, period.previous)
    for measure in ORDER_MEASURES:
        entry: dict[str, Any] = {"type": measure.type.value, "target": measure.target.value}
        entry.update(figure_fields(measure, now[measure.id], suppress))
        if measure.id == "ORD2":
            entry["follow_up_complete"] = follow_up_complete(period, as_of)
        entry["previous"] = figure_fields(measure, before[measure.id], suppress)
        entry["trend"] = trend(measure.target, now[measure.id].value, before[measure.id].value)
        document["measures"][measure.id] = entry
    return document
