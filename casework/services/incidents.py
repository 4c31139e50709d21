"""Incidents: record, edit, add and remove the people involved, and the repeat marks of an incident.

An incident is owned by the agency of the user who records it, and its
`recorded_by` is that agency's kind. The repeat marks (is this a repeat victim
event, a repeat perpetrator event, of which kinds, for whom) are computed by
`casework.risk.repeats` each time they are shown, so an incident entered late
changes the marks of the incidents after it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import policy
from ..db import db
from ..models import (
    Agency,
    Area,
    AsbType,
    Category,
    CjStatus,
    Incident,
    Party,
    PartyRole,
    Person,
)
from ..risk import repeats
from ..risk.repeats import RepeatKind
from . import audit, localities, versioning


class IncidentError(Exception):
    """Bad details for an incident: `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None,
                 problems: list[tuple[str | None, str]] | None = None) -> None:
        super().__init__(message)
        self.field = field
        #: every (field, message) wrong, in the form's order, so a page can list them all at once
        self.problems = problems or [(field, message)]


@dataclass
class IncidentDetails:
    occurred_on: dt.date
    category: Category
    domestic_abuse: bool = False
    locality: str | None = None
    area_id: uuid.UUID | None = None
    rural: bool = False
    alcohol: bool = False
    drugs: bool = False
    mental_health: bool = False
    asb_type: AsbType | None = None
    reported_on: dt.date | None = None  # the day the agency was told; None: the day it happened

    @classmethod
    def of(cls, incident: Incident) -> IncidentDetails:
        return cls(**{f.name: getattr(incident, f.name) for f in fields(cls)})

    def cleaned(self, *, today: dt.date | None = None, locality_was: str | None = None) -> IncidentDetails:
        """Checked details: IncidentError names the first thing wrong, and in `problems` all of them.
        The locality is one of the partnership's list, as the list spells it; `locality_was`, the
        incident's from before the list, is kept when it is given unchanged
        (`casework.services.localities`)."""
        problems: list[tuple[str | None, str]] = []
        if self.occurred_on is None:
            problems.append(("occurred_on", "Enter the date of the incident"))
        elif self.occurred_on > (today or dt.date.today()):
            problems.append(("occurred_on", "The date of the incident must be today or in the past"))
        if self.reported_on is not None and self.reported_on > (today or dt.date.today()):
            problems.append(("reported_on", "The date reported must be today or in the past"))
        elif self.reported_on is not None and self.occurred_on is not None and self.reported_on < self.occurred_on:
            problems.append(("reported_on", "The date reported must be the same as or after the date of the incident"))
        if self.category is None:
            problems.append(("category", "Select the category"))
        elif self.category == Category.ASB and self.asb_type is None:
            problems.append(("asb_type", "Select the type of anti-social behaviour"))
        elif self.category != Category.ASB and self.asb_type is not None:
            problems.append(("asb_type", ("Only anti-social behaviour has an ASB type: choose the category "
                                          "Anti-social behaviour or no ASB type")))
        locality = None
        try:
            locality = localities.resolve(self.locality, keeping=locality_was)
        except localities.LocalityError as e:
            problems.append(("locality", str(e)))
        if self.area_id is not None and db.session.get(Area, self.area_id) is None:
            problems.append(("area_id", "Select a designated area from the list"))
        if problems:
            field, message = problems[0]
            raise IncidentError(message, field, problems)
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["locality"] = locality
        return IncidentDetails(**values)


INCIDENT_FIELDS = tuple(f.name for f in fields(IncidentDetails))


def _apply(incident: Incident, details: IncidentDetails) -> None:
    for name in INCIDENT_FIELDS:
        value = getattr(details, name)
        if getattr(incident, name) != value:  # setting an equal value would still count as a change
            setattr(incident, name, value)


def record(*, details: IncidentDetails, by: Any) -> Incident:
    """Record an incident for `by`'s agency (its kind is `recorded_by`)."""
    if not policy.can(by, policy.Permission.EDIT_RECORDS):
        raise IncidentError("You cannot record incidents")
    details = details.cleaned()
    agency = db.session.get_one(Agency, by.agency_id)
    incident = Incident(occurred_on=details.occurred_on, category=details.category, recorded_by=agency.kind,
                        owner_agency_id=agency.id)
    _apply(incident, details)
    db.session.add(incident)
    db.session.flush()
    audit.record_change(incident, action="incident.create", fields=INCIDENT_FIELDS, user=by)
    return incident


def update(*, incident: Incident, details: IncidentDetails, version: int | None, by: Any) -> list[str]:
    """Save an incident's details over `version` (StaleEdit when someone saved since)."""
    if not policy.can_edit(by, incident):
        raise IncidentError("You cannot change this incident")
    details = details.cleaned(locality_was=incident.locality)
    versioning.check_version(incident, version, action_prefix="incident")
    _apply(incident, details)
    changed = audit.changed_fields(incident)
    if not changed:
        return []
    versioning.flush_or_stale(incident, int(version or 0), action_prefix="incident")
    versioning.record_edit(incident, action="incident.update", fields=changed, user=by)
    return changed


# --- the people involved ------------------------------------------------------------


def add_party(*, incident: Incident, person: Person, role: PartyRole, cj_status: CjStatus | None, by: Any) -> Party:
    """Add `person` to `incident` in `role`. Both must be visible to `by` (a person only others
    may see is shared first by their agency); the same person twice in one role is refused."""
    if not policy.can_edit(by, incident):
        raise IncidentError("You cannot change this incident")
    if person.merged_into_id is not None or not policy.can_view(by, person):
        raise IncidentError("You can only add a person whose record you can see", "person")
    if role not in PartyRole:
        raise IncidentError("Select the person's role", "role")
    already = IncidentError(f"{person.display_name} is already a {role.label.lower()} in this incident", "role")
    if _is_party(incident, person, role):
        raise already
    party = Party(incident_id=incident.id, person_id=person.id, role=role, cj_status=cj_status)
    # In a savepoint: the same party posted twice at the same moment passes the check above in both
    # requests, and the second insert hits the unique constraint; it is refused as the check would
    # have, and the request's transaction goes on (no server error). Any other integrity error is
    # not hidden.
    try:
        with db.session.begin_nested():
            db.session.add(party)
            db.session.flush()
    except IntegrityError as e:
        if not _is_party(incident, person, role):
            raise
        raise already from e
    audit.record_change(incident, action="incident.party_add", fields=["parties"], user=by)
    return party


def _is_party(incident: Incident, person: Person, role: PartyRole) -> bool:
    return db.session.scalar(select(Party.id).where(Party.incident_id == incident.id, Party.person_id == person.id,
                                                    Party.role == role)) is not None


def remove_party(*, incident: Incident, party_id: uuid.UUID, by: Any) -> None:
    if not policy.can_edit(by, incident):
        raise IncidentError("You cannot change this incident")
    party = db.session.get(Party, party_id)
    if party is None or party.incident_id != incident.id:
        raise IncidentError("That person is not in this incident")
    db.session.delete(party)
    db.session.flush()
    audit.record_change(incident, action="incident.party_remove", fields=["parties"], user=by)


@dataclass(frozen=True)
class PartyView:
    """A party as the incident page shows it: the person (when visible) or their identity only."""

    party: Party
    person: Person | None  # None: the viewer may not open this person's record
    identity: policy.IdentityMatch | policy.RestrictedMatch | None
    repeat_kinds: tuple[RepeatKind, ...]  # kinds of which this incident is a repeat event for them


def parties_of(*, incident: Incident, viewer: Any) -> list[PartyView]:
    """The incident's parties with, for each, the kinds of which the incident is a repeat event."""
    from . import identity

    parties = list(db.session.scalars(select(Party).where(Party.incident_id == incident.id)
                                      .order_by(Party.role, Party.created_at)))
    people = {p.id: p for p in db.session.scalars(select(Person).where(
        Person.id.in_({party.person_id for party in parties})))}
    visible = set(db.session.scalars(select(Person.id).where(
        Person.id.in_(list(people)), policy.visible_filter(viewer, Person)))) if people else set()
    hidden = [p for pid, p in people.items() if pid not in visible]
    identities = dict(zip([p.id for p in hidden], identity.identity_matches(viewer=viewer, people=hidden),
                          strict=True))
    marks = repeat_marks_of(incident, list({party.person_id for party in parties}))
    return [PartyView(party=party, person=people[party.person_id] if party.person_id in visible else None,
                      identity=identities.get(party.person_id),
                      repeat_kinds=marks.get((party.person_id, party.role), ()))
            for party in parties]


def repeat_marks_of(incident: Incident, person_ids: list[uuid.UUID],
                    ) -> dict[tuple[uuid.UUID, PartyRole], tuple[RepeatKind, ...]]:
    """For each (person, role) of the incident (`person_ids`: its parties' people), the kinds of
    which it is a repeat event for them."""
    db.session.flush()
    found: dict[tuple[uuid.UUID, PartyRole], tuple[RepeatKind, ...]] = {}
    for row in repeats.marks_on(db.session, person_ids, incident.occurred_on):
        if row["incident_id"] != incident.id:
            continue
        kinds = tuple(kind for kind in RepeatKind if row[f"repeat_{kind.value}"] == 1)
        found[(row["person_id"], PartyRole(row["role"]))] = kinds
    return found


def repeat_summary(views: list[PartyView]) -> dict[PartyRole, tuple[RepeatKind, ...]]:
    """Whether the incident is a repeat victim event and a repeat perpetrator event, and of which
    kinds: a role's kinds are those in which at least one of its parties is a repeat."""
    summary: dict[PartyRole, tuple[RepeatKind, ...]] = {}
    for role in PartyRole:
        kinds = {k for v in views if v.party.role == role for k in v.repeat_kinds}
        summary[role] = tuple(k for k in RepeatKind if k in kinds)
    return summary
