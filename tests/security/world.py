"""Two agencies' records for the attack tests: what a user of the home agency ("A") may use, and
what they must never see (another agency's records, restricted ones they are not named on, merged
stubs, erased records, a restricted record they were removed from), each carrying canary values
that must never appear in a response to them.

Built from the policy table's record makers (tests/policy_table.py, tests/integration/
test_access_policy.py), so a record kind the access test knows is one this suite can use.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from flask import Flask

from casework.db import db
from casework.models import (
    Agency,
    AgencyKind,
    AsbType,
    Case,
    Category,
    Incident,
    Meeting,
    Order,
    OrderKind,
    PartyRole,
    Person,
    Referral,
    Reminder,
    RiskAssessment,
    User,
)
from casework.services import restricted, retention, sharing
from tests.factories import AgencyFactory, PartyFactory, PersonFactory
from tests.fixtures_auth import make_user
from tests.integration.test_access_policy import Context
from tests.policy_table import _action, _assessment, _meeting, _order

CASE_ROLES = ("caseworker", "hrda_chair", "manager")


@dataclass
class World:
    app: Flask
    home: Agency
    other: Agency
    users: dict[str, User]  # role -> a user of the home agency holding only that role
    colleague: User  # another caseworker of the home agency (named on the restricted records)
    removed_user: User  # a caseworker of the home agency removed from a restricted person
    ctx: Context  # the home agency's records, as the policy table's args make them
    own: dict[str, uuid.UUID] = field(default_factory=dict)  # kind -> a record the home users may use
    hidden: dict[str, list[tuple[str, uuid.UUID]]] = field(default_factory=dict)  # kind -> [(variant, id)]
    canaries: list[str] = field(default_factory=list)  # values of hidden records no response may show
    erased_canaries: list[str] = field(default_factory=list)  # values erased from a home record

    def canary(self, tag: str) -> str:
        value = f"Zq{tag}{uuid.uuid4().hex[:6]}"
        self.canaries.append(value)
        return value

    def hidden_ids(self, kind: str) -> list[tuple[str, uuid.UUID]]:
        return self.hidden.get(kind, [])


def _fill_person(world: World, person: Person, tag: str, *, identity: bool) -> None:
    """Canary values in a hidden person's fields; `identity` too when no agency may see even their
    name (another agency's person is found by name across the partnership)."""
    if identity:
        person.surname = world.canary(f"{tag}Sur")
        person.forenames = world.canary(f"{tag}Fore")
    person.address = world.canary(f"{tag}Addr")
    person.safe_contact = world.canary(f"{tag}Safe")
    person.phone = world.canary(f"{tag}Tel")
    person.email = f"{world.canary(f'{tag}Mail')}@example.org"


def build(app: Flask) -> World:
    home, other = AgencyFactory(name="Home Agency"), AgencyFactory(name="Other Agency")
    users = {role: make_user(roles=(role,), agency=home) for role in (*CASE_ROLES, "admin")}
    colleague = make_user(roles=("caseworker",), agency=home)
    removed_user = make_user(roles=("caseworker",), agency=home)
    other_user = make_user(roles=("caseworker", "hrda_chair"), agency=other)
    ctx = Context(app=app, own_agency=home, other_agency=other, users=users, target_user=users["caseworker"],
                  records={})
    world = World(app=app, home=home, other=other, users=users, colleague=colleague, removed_user=removed_user,
                  ctx=ctx)
    _own(world)
    _hidden(world, other_user)
    db.session.commit()
    return world


def _own(world: World) -> None:
    ctx = world.ctx
    for kind in ("person", "incident", "case", "referral"):
        world.own[kind] = ctx.record_id(kind, "own")
    world.own["assessment"] = _assessment(ctx, "draft")["assessment_id"]
    meeting = _meeting(ctx, case=True)
    world.own["meeting"], world.own["meeting_case"] = meeting["meeting_id"], meeting["case_id"]
    world.own["action"] = _action(ctx)["action_id"]
    incident = db.session.get(Incident, world.own["incident"])
    world.own["party"] = PartyFactory(incident=incident, person_id=world.own["person"], role=PartyRole.VICTIM).id
    world.own["reminder"] = _reminder(world.users["caseworker"], world.own["case"]).id
    world.own["order"] = _order(ctx)["order_id"]


def _reminder(user: User, case_id: uuid.UUID) -> Reminder:
    reminder = Reminder(user_id=user.id, kind="case_review", record_kind="case", record_id=case_id,
                        due_on=dt.date(2030, 1, 1), text="Review the case")
    db.session.add(reminder)
    db.session.flush()
    return reminder


def _hidden(world: World, other_user: User) -> None:
    home, other = world.home, world.other
    octx = Context(app=world.app, own_agency=other, other_agency=home, users={}, target_user=other_user, records={})
    hide = world.hidden.setdefault

    # Another agency's records, of every kind.
    person = db.session.get(Person, octx.record_id("person", "own"))
    _fill_person(world, person, "Oth", identity=False)
    hide("person", []).append(("other agency's", person.id))
    incident = db.session.get(Incident, octx.record_id("incident", "own"))
    incident.locality = world.canary("OthLoc")
    hide("incident", []).append(("other agency's", incident.id))
    party = PartyFactory(incident=incident, person_id=person.id, role=PartyRole.VICTIM)
    hide("party", []).append(("other agency's", party.id))
    case = db.session.get(Case, octx.record_id("case", "own"))
    case.summary = world.canary("OthSummary")
    hide("case", []).append(("other agency's", case.id))
    referral = db.session.get(Referral, octx.record_id("referral", "own"))
    referral.reason = world.canary("OthReason")
    hide("referral", []).append(("other agency's", referral.id))
    for status in ("draft", "complete"):
        assessment = db.session.get(RiskAssessment, _assessment(octx, status)["assessment_id"])
        assessment.notes = world.canary(f"Oth{status}Notes")
        hide("assessment", []).append((f"other agency's {status}", assessment.id))
    meeting = _meeting(octx, case=True)
    hide("meeting", []).append(("other agency's", meeting["meeting_id"]))
    hide("meeting_case", []).append(("other agency's", meeting["case_id"]))
    action = _action(octx)["action_id"]
    hide("action", []).append(("other agency's", action))
    hide("reminder", []).append(("other user's", _reminder(other_user, case.id).id))
    db.session.get(Meeting, meeting["meeting_id"]).place = world.canary("OthPlace")
    order = db.session.get(Order, _order(octx)["order_id"])
    order.conditions = world.canary("OthConditions")
    hide("order", []).append(("other agency's", order.id))

    # The home agency's restricted person and case, naming only a colleague.
    secret = PersonFactory(owner_agency_id=home.id, restricted=True)
    _fill_person(world, secret, "Res", identity=True)
    sharing.name_on_restricted(record=secret, user=world.colleague)
    hide("person", []).append(("restricted", secret.id))
    secret_order = Order(person_id=secret.id, kind=OrderKind.DAPO, owner_agency_id=home.id, issued_on=dt.date(2025, 2, 3))
    secret_order.conditions = world.canary("ResConditions")
    db.session.add(secret_order)
    hide("order", []).append(("restricted person's", secret_order.id))
    secret_case = Case(kind=case.kind, owner_agency_id=home.id, restricted=True)
    secret_case.summary = world.canary("ResSummary")
    db.session.add(secret_case)
    db.session.flush()
    sharing.name_on_restricted(record=secret_case, user=world.colleague)
    hide("case", []).append(("restricted", secret_case.id))
    secret_incident = Incident(occurred_on=dt.date(2025, 2, 1), category=Category.ASB, asb_type=AsbType.NUISANCE,
                               recorded_by=AgencyKind.POLICE, owner_agency_id=home.id, restricted=True)
    secret_incident.locality = world.canary("ResLoc")
    db.session.add(secret_incident)
    db.session.flush()
    sharing.name_on_restricted(record=secret_incident, user=world.colleague)
    hide("incident", []).append(("restricted", secret_incident.id))

    # A restricted person the removed user was named on, then removed from.
    was_named = PersonFactory(owner_agency_id=home.id, restricted=True)
    _fill_person(world, was_named, "Rem", identity=True)
    for user in (world.colleague, world.removed_user):
        sharing.name_on_restricted(record=was_named, user=user)
    restricted.remove(was_named, user=world.removed_user, by=world.colleague)
    hide("person", []).append(("removed from", was_named.id))

    # A home record merged into the restricted person (its stub answers as the survivor does).
    stub = PersonFactory(owner_agency_id=home.id)
    _fill_person(world, stub, "Mer", identity=False)
    stub.merged_into_id = secret.id
    hide("person", []).append(("merged into a restricted", stub.id))

    # Another agency's person, erased.
    erased = PersonFactory(owner_agency_id=other.id)
    _fill_person(world, erased, "Era", identity=True)
    db.session.flush()
    retention.erase(kind="person", record_id=erased.id, cause="request", reason="test")
    hide("person", []).append(("other agency's erased", erased.id))

    # The home agency's own person, erased: still its record, but the values must be gone everywhere.
    own_erased = PersonFactory(owner_agency_id=home.id)
    values = [f"Zq{tag}{uuid.uuid4().hex[:6]}" for tag in ("EsSur", "EsAddr", "EsSafe")]
    own_erased.surname, own_erased.address, own_erased.safe_contact = values
    db.session.flush()
    retention.erase(kind="person", record_id=own_erased.id, cause="request", reason="test")
    world.erased_canaries = values
    world.own["erased person"] = own_erased.id
    db.session.flush()
