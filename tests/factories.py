"""factory-boy factories for the data model; they add to the current app context's session."""

from __future__ import annotations

import datetime as dt

import factory

from casework.db import db
from casework.models import (
    Agency,
    AgencyKind,
    Area,
    Category,
    Incident,
    Party,
    PartyRole,
    Person,
    PreventionActivity,
    PreventionKind,
    Referral,
    ReferralRoute,
    ReferralStatus,
    ReferralType,
)


class _Factory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session
        sqlalchemy_session_persistence = "flush"


class AgencyFactory(_Factory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")
    kind = AgencyKind.POLICE


class AreaFactory(_Factory):
    class Meta:
        model = Area

    name = factory.Sequence(lambda n: f"Area {n}")
    locality = "Weymouth"
    owner_agency_id = factory.LazyFunction(lambda: AgencyFactory().id)


class PersonFactory(_Factory):
    class Meta:
        model = Person

    surname = factory.Faker("last_name", locale="en_GB")
    forenames = factory.Faker("first_name", locale="en_GB")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=16, maximum_age=90)
    postcode = "DT1 1XJ"
    owner_agency_id = factory.LazyFunction(lambda: AgencyFactory().id)


class IncidentFactory(_Factory):
    class Meta:
        model = Incident

    occurred_on = dt.date(2024, 6, 1)
    category = Category.VIOLENCE_WITH_INJURY
    recorded_by = AgencyKind.POLICE
    owner_agency_id = factory.LazyFunction(lambda: AgencyFactory().id)


class PartyFactory(_Factory):
    class Meta:
        model = Party

    incident = factory.SubFactory(IncidentFactory)
    person_id = factory.LazyFunction(lambda: PersonFactory().id)
    role = PartyRole.VICTIM


class ReferralFactory(_Factory):
    class Meta:
        model = Referral

    person_id = factory.LazyFunction(lambda: PersonFactory().id)
    type = ReferralType.HRDA
    referred_on = dt.date(2024, 6, 1)
    status = ReferralStatus.SUBMITTED
    owner_agency_id = factory.LazyFunction(lambda: AgencyFactory().id)


class PreventionActivityFactory(_Factory):
    class Meta:
        model = PreventionActivity

    occurred_on = dt.date(2024, 6, 1)
    kind = PreventionKind.SCAM_INTERVENTION
    owner_agency_id = factory.LazyFunction(lambda: AgencyFactory().id)


def victim(person: Person, *, occurred_on: dt.date = dt.date(2020, 1, 15)) -> Person:
    """Make the person a victim (a DASH checklist and an HRDA referral are only for victims): a party
    as victim to an old incident that is not domestic abuse, so no DA count or flag changes."""
    PartyFactory(incident=IncidentFactory(occurred_on=occurred_on, domestic_abuse=False,
                                          category=Category.THEFT, owner_agency_id=person.owner_agency_id),
                 person_id=person.id, role=PartyRole.VICTIM)
    return person


def routed(kind: ReferralType | str, agency: Agency, *, role: str | None = None) -> ReferralRoute:
    """A referral route of `kind` to `agency` (the type's usual deciding role unless `role`), with an
    active user there who can decide along it, as `referral_routes.services` needs."""
    from casework.models import Role, User, UserRole
    from casework.services import referral_routes
    from tests.fixtures_auth import make_user

    kind = ReferralType(kind)
    chosen = Role(role) if role else referral_routes.default_role(kind)
    route = referral_routes.route_to(kind, agency.id)
    if route is None:
        route = ReferralRoute(type=kind, agency_id=agency.id, role=chosen)
        db.session.add(route)
        db.session.flush()
    if db.session.query(User).join(UserRole).filter(User.agency_id == agency.id, User.active.is_(True),
                                                    UserRole.role == route.role).first() is None:
        make_user(roles=(route.role.value,), agency=agency)
    return route
