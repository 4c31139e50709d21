"""Orders and powers (issue 17 §2): record one for a person, change it (its holding agency only),
record a breach, list a person's, and the reviews and expiries due for an agency's home page.

Who sees and changes what is `casework.policy`'s (`can_view_order`, `can_edit_order`,
`can_record_breach`, `order_filter`); docs/orders.md explains the rules of the dates.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select

from .. import policy
from ..db import db
from ..models import Agency, Incident, Order, OrderBreach, OrderIncident, OrderKind, OrderStatus, Party, Person
from . import audit, versioning

REMINDER_DAYS = 14  # a review or expiry this many days ahead (or fewer) shows on the holding agency's home page
OPEN_STATUSES = (OrderStatus.IN_FORCE, OrderStatus.VARIED)


class OrderError(Exception):
    """An order or breach that cannot be saved; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class OrderDetails:
    """What a form or an import gives of an order."""

    kind: OrderKind
    agency_id: uuid.UUID
    status: OrderStatus
    applied_on: dt.date | None = None
    issued_on: dt.date | None = None
    served_on: dt.date | None = None
    expires_on: dt.date | None = None
    review_on: dt.date | None = None
    conditions: str | None = None


def date_problems(d: Any, *, today: dt.date) -> list[tuple[str, str]]:
    """The dates' problems as (field, message): pure, shared by the form and the import. `d` has the
    five dates and the status (an `OrderDetails`, or what a form has of one).

    An order is applied for or made/issued (at least one date); nothing but the review and the
    expiry is in the future; it is made on or after it was applied for, served on or after it was
    made, and expires on or after it was made (or served). An order recorded as expired has expired."""
    found: list[tuple[str, str]] = []
    if d.applied_on is None and d.issued_on is None:
        found.append(("issued_on", "Enter the date it was made or issued, or the date it was applied for"))
    for name, label in (("applied_on", "applied for"), ("issued_on", "made or issued"), ("served_on", "served")):
        value = getattr(d, name)
        if value is not None and value > today:
            found.append((name, f"The date it was {label} must be today or in the past"))
    if d.applied_on and d.issued_on and d.issued_on < d.applied_on:
        found.append(("issued_on", "The date it was made or issued must be on or after the date it was applied for"))
    if d.served_on and d.issued_on and d.served_on < d.issued_on:
        found.append(("served_on", "The date it was served must be on or after the date it was made or issued"))
    if d.served_on and d.issued_on is None:
        found.append(("issued_on", "Enter the date it was made or issued: it was served"))
    start = d.issued_on or d.applied_on
    if d.expires_on and start and d.expires_on < start:
        found.append(("expires_on", "The expiry date must be on or after the date it was made or issued"))
    if d.status is OrderStatus.EXPIRED and (d.expires_on is None or d.expires_on > today):
        found.append(("expires_on", "Enter an expiry date of today or before for an expired order"))
    return found


def _agency(agency_id: uuid.UUID) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None or not agency.active:
        raise OrderError("Select the agency that holds the order", "agency")
    return agency


def linkable_incidents(person: Person, *, viewer: Any) -> list[Incident]:
    """The person's incidents (as a party) the viewer may see, newest first: those an order may name."""
    return list(db.session.scalars(
        select(Incident).where(Incident.id.in_(select(Party.incident_id).where(Party.person_id == person.id)),
                               policy.visible_filter(viewer, Incident))
        .order_by(Incident.occurred_on.desc(), Incident.id)))


def _incident_ids(person: Person, ids: Collection[uuid.UUID], *, viewer: Any, field: str = "incidents") -> set[uuid.UUID]:
    wanted = set(ids)
    allowed = {i.id for i in linkable_incidents(person, viewer=viewer)}
    if wanted - allowed:
        raise OrderError(f"Choose from {person.display_name}'s incidents that you can see", field)
    return wanted


def _apply(order: Order, d: OrderDetails, *, today: dt.date) -> None:
    problems = date_problems(d, today=today)
    if problems:
        field, message = problems[0]
        raise OrderError(message, field)
    _agency(d.agency_id)
    order.kind = d.kind
    order.owner_agency_id = d.agency_id
    order.status = d.status
    order.applied_on, order.issued_on, order.served_on = d.applied_on, d.issued_on, d.served_on
    order.expires_on, order.review_on = d.expires_on, d.review_on
    order.conditions = (d.conditions or "").strip() or None


def _link(order: Order, incident_ids: set[uuid.UUID]) -> None:
    current = {link.incident_id: link for link in order.incidents}
    for incident_id in set(current) - incident_ids:
        order.incidents.remove(current[incident_id])
    for incident_id in incident_ids - set(current):
        order.incidents.append(OrderIncident(order_id=order.id, incident_id=incident_id))


def record(person: Person, d: OrderDetails, *, by: Any, incident_ids: Collection[uuid.UUID] = (),
           today: dt.date) -> Order:
    """Record an order or power given to `person` (the user must be able to edit the person)."""
    if not policy.can_edit(by, person) or person.merged_into_id is not None:
        raise OrderError("You cannot record an order for this person")
    links = _incident_ids(person, incident_ids, viewer=by)
    order = Order(person_id=person.id, recorded_by_id=by.id, kind=d.kind, owner_agency_id=d.agency_id)
    order.person = person
    _apply(order, d, today=today)
    _link(order, links)
    db.session.add(order)
    db.session.flush()
    versioning.record_edit(order, action="order.create", fields=["kind", "dates", "conditions", "status"], user=by)
    return order


def update(order: Order, d: OrderDetails, *, version: int, by: Any, incident_ids: Collection[uuid.UUID],
           today: dt.date) -> Order:
    """Change an order (a variation, a discharge, new dates): its holding agency only. The holding
    agency may hand it to another (then only that one changes it)."""
    if not policy.can_edit_order(by, order):
        raise OrderError("Only the agency holding the order can change it")
    versioning.check_version(order, version, action_prefix="order")
    links = _incident_ids(order.person, incident_ids, viewer=by)
    # Links to incidents the user may not see are kept: they cannot be shown on the form, so they
    # were not removed by it.
    hidden = {link.incident_id for link in order.incidents} - {i.id for i in linkable_incidents(order.person, viewer=by)}
    _apply(order, d, today=today)
    _link(order, links | hidden)
    fields = audit.changed_fields(order)
    versioning.flush_or_stale(order, version, action_prefix="order")
    versioning.record_edit(order, action="order.update", fields=fields, user=by)
    return order


def record_breach(order: Order, *, by: Any, breached_on: dt.date, incident_id: uuid.UUID | None,
                  details: str | None, today: dt.date) -> OrderBreach:
    """A breach of `order` on `breached_on`: on or after the day it was made or issued, and not in
    the future; optionally the incident (of the person, that the user may see) it was recorded as."""
    if not policy.can_record_breach(by, order):
        raise OrderError("You cannot record a breach of this order")
    if order.issued_on is None:
        raise OrderError("Record the date the order was made or issued before recording a breach of it", "breached_on")
    if breached_on > today:
        raise OrderError("The date of the breach must be today or in the past", "breached_on")
    if breached_on < order.issued_on:
        raise OrderError(f"The date of the breach must be on or after the date the order was made or issued "
                         f"({order.issued_on.day} {order.issued_on:%B %Y})", "breached_on")
    if incident_id is not None:
        _incident_ids(order.person, {incident_id}, viewer=by, field="incident")
    breach = OrderBreach(order_id=order.id, person_id=order.person_id, breached_on=breached_on, incident_id=incident_id,
                         details=(details or "").strip() or None, recorded_by_id=by.id)
    order.breaches.append(breach)
    db.session.flush()
    audit.record("order.breach", user=by, record=order, details={"breach": str(breach.id)})
    return breach


def of_person(person: Person, *, viewer: Any) -> list[Order]:
    """The person's orders, newest first (none when the viewer may not see the person)."""
    if not policy.can_view(viewer, person):
        return []
    return list(db.session.scalars(
        select(Order).where(Order.person_id == person.id)
        .order_by(Order.issued_on.desc().nulls_last(), Order.applied_on.desc(), Order.created_at.desc())))


@dataclass(frozen=True)
class Due:
    order: Order
    what: str  # "review" or "expiry"
    on: dt.date


def due_for_agency(user: Any, *, today: dt.date, within_days: int = REMINDER_DAYS) -> list[Due]:
    """The orders in force (or varied) held by the user's agency whose review or expiry falls from
    today to `within_days` days ahead (both included), of people the user may see, soonest first."""
    if not policy.can(user, policy.Permission.VIEW_RECORDS):
        return []
    last = today + dt.timedelta(days=within_days)
    rows = db.session.scalars(select(Order).where(
        Order.owner_agency_id == user.agency_id, Order.status.in_(OPEN_STATUSES),
        or_(and_(Order.review_on >= today, Order.review_on <= last),
            and_(Order.expires_on >= today, Order.expires_on <= last)),
        policy.order_filter(user, Order)))
    found = []
    for order in rows:
        for what, on in (("review", order.review_on), ("expiry", order.expires_on)):
            if on is not None and today <= on <= last:
                found.append(Due(order=order, what=what, on=on))
    return sorted(found, key=lambda d: (d.on, d.what, str(d.order.id)))
