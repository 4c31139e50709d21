"""Referral routes: for each referral type, the receiving service or services (an agency, and the
role of its people who decide the referral). A referral is made only along a route whose service has
at least one active user in that role (`deciders`); deactivating that last user, or taking the role
away, is refused with a message naming the route (`guard_user_change`), as the restricted records'
last-manager rule refuses removing the last person named who can manage a record.

The role must be one that decides the type (`policy.can_decide_referral`): an HRDA chair for HRDA,
a caseworker for the others. Referrals made before routes existed to an agency that has no route
for their type are listed by `unrouted` for an administrator to move (`reroute`, audited).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, select

from .. import policy
from ..db import db
from ..models import Agency, Referral, ReferralRoute, ReferralStatus, ReferralType, Role, User, UserRole
from ..risk.working_days import add_working_days
from . import audit


class RouteError(Exception):
    """A route that cannot be set, removed or used; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def needed_permission(kind: ReferralType) -> policy.Permission:
    return policy.Permission.CHAIR_HRDA if kind is ReferralType.HRDA else policy.Permission.DECIDE_REFERRALS


def default_role(kind: ReferralType) -> Role:
    return Role.HRDA_CHAIR if kind is ReferralType.HRDA else Role.CASEWORKER


def roles_for(kind: ReferralType) -> list[Role]:
    """The roles that may decide a referral of this kind, in the vocabulary's order."""
    allowed = policy.roles_with(needed_permission(kind))
    return [r for r in Role if r in allowed]


def describe(route: ReferralRoute) -> str:
    """How messages name a route: "HRDA referrals to Dorset Police (HRDA chair)"."""
    return f"{route.type.label} referrals to {route.agency.name} ({route.role.label})"


def listing(kind: ReferralType | None = None) -> list[ReferralRoute]:
    query = select(ReferralRoute).join(Agency, Agency.id == ReferralRoute.agency_id)
    if kind is not None:
        query = query.where(ReferralRoute.type == kind)
    routes = list(db.session.scalars(query.order_by(ReferralRoute.type, Agency.name)))
    order = list(ReferralType)
    return sorted(routes, key=lambda r: (order.index(r.type), r.agency.name.lower()))


def route_to(kind: ReferralType, agency_id: Any) -> ReferralRoute | None:
    return db.session.scalar(select(ReferralRoute).where(ReferralRoute.type == kind,
                                                         ReferralRoute.agency_id == agency_id))


def receives(agency_id: Any) -> bool:
    """Whether a route leads to the agency (of any type of referral): whether it receives referrals."""
    return db.session.scalar(select(ReferralRoute.id).where(ReferralRoute.agency_id == agency_id).limit(1)) is not None


def _deciders_query(route: ReferralRoute) -> Any:
    return (select(User).join(UserRole, UserRole.user_id == User.id)
            .where(User.agency_id == route.agency_id, User.active.is_(True), UserRole.role == route.role))


def deciders(route: ReferralRoute) -> list[User]:
    """The active users of the route's agency with its role: who can decide referrals along it."""
    return list(db.session.scalars(_deciders_query(route).order_by(User.name)))


def usable(route: ReferralRoute) -> bool:
    return route.agency.active and (db.session.scalar(
        select(func.count()).select_from(_deciders_query(route).subquery())) or 0) > 0


def services(kind: ReferralType) -> list[ReferralRoute]:
    """The routes a referral of this kind may be made along now: each with an active agency and at
    least one active user who can decide on it."""
    return [r for r in listing(kind) if usable(r)]


def set_route(kind: ReferralType, *, agency: Agency | None, role: Role | None = None, by: Any) -> ReferralRoute:
    """Route referrals of `kind` to `agency`, decided by its users with `role` (the type's usual role
    when none is given). A second route of the kind adds a service; setting one again changes its role."""
    if agency is None:
        raise RouteError("Select the agency receiving these referrals", "agency")
    if not agency.active:
        raise RouteError(f"{agency.name} is no longer an active agency: choose another", "agency")
    role = role or default_role(kind)
    if role not in roles_for(kind):
        allowed = " or ".join(r.label.lower() for r in roles_for(kind))
        raise RouteError(f"A {kind.label} referral is decided by a user with the role {allowed}, "
                         f"not {role.label.lower()}", "role")
    route = route_to(kind, agency.id)
    if route is None:
        route = ReferralRoute(type=kind, agency_id=agency.id, role=role)
        route.agency = agency
        db.session.add(route)
        action = "referral_route.set"
    else:
        route.role = role
        action = "referral_route.change"
    db.session.flush()
    if not deciders(route):
        raise RouteError(f"{agency.name} has no active user with the role {role.label.lower()} to decide "
                         f"{kind.label} referrals: give one that role first", "agency")
    audit.record(action, user=by, record_kind="referral_route", record_id=route.id,
                 details={"type": kind.value, "agency_id": str(agency.id), "role": role.value})
    return route


def remove_route(route: ReferralRoute, *, by: Any) -> None:
    """Stop routing referrals of the type to this service. Referrals already made along it stay with
    it; submitted ones are listed for re-routing (`unrouted`)."""
    details = {"type": route.type.value, "agency_id": str(route.agency_id), "role": route.role.value}
    route_id = route.id
    db.session.delete(route)
    db.session.flush()
    audit.record("referral_route.remove", user=by, record_kind="referral_route", record_id=route_id,
                 details=details)


def guard_user_change(user: User, *, roles_after: frozenset[Role] | set[Role], active_after: bool) -> None:
    """Refuse a change to `user` (deactivating them, or taking a role away) that leaves a route
    with nobody who can decide on it, naming the route."""
    for route in db.session.scalars(select(ReferralRoute).where(ReferralRoute.agency_id == user.agency_id)):
        if route.role not in user.roles or (active_after and route.role in roles_after):
            continue
        others = [u for u in deciders(route) if u.id != user.id]
        if not others:
            what = "deactivated" if not active_after else f"lose the role {route.role.label.lower()}"
            raise RouteError(f"{user.name} is the last active user who can decide {describe(route)}, so cannot "
                             f"be {what}: give another user of {route.agency.name} that role first, or change "
                             "the route", "roles")


def unrouted() -> list[Referral]:
    """Submitted referrals (never imported history) to an agency that has no route for their type:
    nobody is sure to act on them, so an administrator moves them, oldest first."""
    return list(db.session.scalars(
        select(Referral).outerjoin(ReferralRoute, and_(ReferralRoute.type == Referral.type,
                                                        ReferralRoute.agency_id == Referral.receiving_agency_id))
        .where(Referral.imported.is_(False), Referral.status == ReferralStatus.SUBMITTED,
               ReferralRoute.id.is_(None))
        .order_by(Referral.referred_on, Referral.created_at)))


def reroute(referral: Referral, *, route: ReferralRoute | None, by: Any) -> Referral:
    """Move a submitted referral to a service of its type's routes (audited with both agencies)."""
    if referral.imported or referral.status is not ReferralStatus.SUBMITTED:
        raise RouteError("Only a submitted referral is moved", "route")
    if route is None or route.type is not referral.type or not usable(route):
        raise RouteError(f"Select a service that receives {referral.type.label} referrals", "route")
    before = referral.receiving_agency_id
    referral.receiving_agency_id = route.agency_id
    db.session.flush()
    audit.record("referral.reroute", user=by, record=referral,
                 details={"from_agency_id": str(before) if before else None, "to_agency_id": str(route.agency_id)})
    from . import referrals

    referrals.tell_receivers(referral)
    return referral


# --- when a referral is overdue ------------------------------------------------------------------

DECISION_DAYS = {ReferralType.HRDA: 2}
DEFAULT_DECISION_DAYS = 5


def decision_due(referral: Referral) -> dt.date:
    """The last working day a referral may wait for its decision: 2 working days for HRDA, 5 for the others."""
    return add_working_days(referral.referred_on, DECISION_DAYS.get(referral.type, DEFAULT_DECISION_DAYS))


def is_overdue(referral: Referral, *, today: dt.date) -> bool:
    """A submitted referral (not imported) with no decision after its working days."""
    return (not referral.imported and referral.status is ReferralStatus.SUBMITTED
            and today > decision_due(referral))
