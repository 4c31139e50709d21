"""People: create, edit, find likely duplicates, and read a person's incidents.

A person is owned by the agency of the user who records them. Before a new
person is saved, the partnership's records are searched for likely duplicates
through the blind indexes (never by decrypting anyone), and the matches are
shown as identities only (`services.identity`), so the caseworker opens the
existing record, asks its agency to share it, or confirms a new one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Select, SQLColumnExpression, and_, func, or_, select

from .. import crypto, policy
from .. import values as rules
from ..db import db
from ..models import Gender, Incident, Party, PartyRole, Person
from . import audit, identity, lookups, versioning

MAX_DUPLICATES = 20


class PersonError(Exception):
    """Bad details for a person: `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None,
                 problems: list[tuple[str | None, str]] | None = None) -> None:
        super().__init__(message)
        self.field = field
        #: every (field, message) wrong, in the form's order, so a page can list them all at once
        self.problems = problems or [(field, message)]


@dataclass
class PersonDetails:
    """What a caseworker types about a person (the owner and indexes are never typed)."""

    surname: str
    forenames: str | None = None
    date_of_birth: dt.date | None = None
    gender: Gender | None = None
    postcode: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    safe_contact: str | None = None
    do_not_disclose_address: bool = False
    mental_health: bool = False
    substance_misuse: bool = False
    complex_needs: bool = False

    @classmethod
    def of(cls, person: Person) -> PersonDetails:
        return cls(**{f.name: getattr(person, f.name) for f in fields(cls)})

    def cleaned(self, *, today: dt.date | None = None) -> PersonDetails:
        """The details with text trimmed and the postcode normalised; PersonError when invalid."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, value in values.items():
            if isinstance(value, str):
                values[name] = value.strip() or None
        problems: list[tuple[str | None, str]] = []
        if not values["surname"]:
            problems.append(("surname", "Enter the person's surname"))
        dob = values["date_of_birth"]
        if dob is not None and (problem := rules.date_of_birth_problem(dob, today=today)):
            problems.append(("date_of_birth", f"Date of birth {problem}"))  # as an import says it
        if values["postcode"]:
            normal = crypto.normalise_postcode(values["postcode"])
            if normal is None:
                problems.append(("postcode", "Enter a real postcode, like DT1 1XJ"))
            values["postcode"] = normal
        if values["email"] and "@" not in values["email"]:
            problems.append(("email", "Enter an email address in the correct format, like name@example.com"))
        if problems:
            field, message = problems[0]
            raise PersonError(message, field, problems)
        return PersonDetails(**values)


PERSON_FIELDS = tuple(f.name for f in fields(PersonDetails))


# --- likely duplicates ---------------------------------------------------------------


def duplicate_condition(details: PersonDetails, ring: crypto.Keyring | None = None, *,
                        postcode_among: Any = None) -> Any:
    """The SQL condition for a likely duplicate of `details` (through the blind indexes): the same
    full name and date of birth; the same surname and date of birth; the same phonetic surname and
    year of birth; or the same surname and postcode, among the rows `postcode_among` (a condition:
    an address is never identity, so a match by postcode is offered only where the viewer may see
    the record). None when nothing can be compared."""
    ring = ring or crypto.current()
    idx = crypto.person_indexes(ring, surname=details.surname, forenames=details.forenames,
                                date_of_birth=details.date_of_birth, postcode=details.postcode)
    rules = []
    if idx.full_name and idx.dob:
        rules.append(and_(Person.bi_full_name == idx.full_name, Person.bi_dob == idx.dob))
    if idx.surname and idx.dob:
        rules.append(and_(Person.bi_surname == idx.surname, Person.bi_dob == idx.dob))
    if idx.phonetic_yob:
        rules.append(Person.bi_phonetic_yob == idx.phonetic_yob)
    if idx.surname and idx.postcode:
        same_address = and_(Person.bi_surname == idx.surname, Person.bi_postcode == idx.postcode)
        rules.append(same_address if postcode_among is None else and_(same_address, postcode_among))
    return or_(*rules) if rules else None


def likely_duplicates(*, details: PersonDetails, viewer: Any, exclude: Any = None, limit: int = MAX_DUPLICATES,
                      notices: bool = True) -> list[policy.IdentityMatch | policy.RestrictedMatch]:
    """Possible duplicates of `details` across the partnership, as `viewer` may be shown them. A
    restricted person the viewer is not named on is never among them: with `notices`, the
    restricted records of the same surname add a notice each owning agency, whatever the other
    details (`identity.restricted_notices`), so a date of birth typed here confirms nothing."""
    condition = duplicate_condition(details, postcode_among=policy.visible_filter(viewer, Person))
    if condition is None:
        return []
    query = select(Person).where(condition, Person.merged_into_id.is_(None), ~identity.hidden_restricted(viewer))
    if exclude is not None:
        query = query.where(Person.id != exclude)
    people = list(db.session.scalars(query.order_by(Person.created_at).limit(limit)))
    found: list[policy.IdentityMatch | policy.RestrictedMatch] = list(
        identity.identity_matches(viewer=viewer, people=people))
    if notices:
        found += identity.restricted_notices(viewer=viewer, surname=details.surname).notices
    return found


# --- create and edit -----------------------------------------------------------------


def _apply(person: Person, details: PersonDetails) -> None:
    for name in PERSON_FIELDS:
        value = getattr(details, name)
        if getattr(person, name) != value:  # setting an equal value would still count as a change
            setattr(person, name, value)


def create(*, details: PersonDetails, by: Any) -> Person:
    """Record a new person, owned by `by`'s agency (the caller has shown the likely duplicates)."""
    if not policy.can(by, policy.Permission.EDIT_RECORDS):
        raise PersonError("You cannot record people")
    details = details.cleaned()
    person = Person(surname=details.surname, owner_agency_id=by.agency_id)
    _apply(person, details)
    db.session.add(person)
    db.session.flush()
    audit.record_change(person, action="person.create", fields=[n for n in PERSON_FIELDS if getattr(details, n)],
                        user=by)
    return person


def update(*, person: Person, details: PersonDetails, version: int | None, by: Any) -> list[str]:
    """Save a person's details over `version`; StaleEdit when someone saved since. Returns the
    names of the fields changed."""
    if not policy.can_edit(by, person):
        raise PersonError("You cannot change this person")
    details = details.cleaned()
    versioning.check_version(person, version, action_prefix="person")
    _apply(person, details)
    changed = audit.changed_fields(person)
    if not changed:
        return []
    versioning.flush_or_stale(person, int(version or 0), action_prefix="person")
    versioning.record_edit(person, action="person.update", fields=changed, user=by)
    return changed


# --- what a person's page lists --------------------------------------------------------

INCIDENT_SORTS: dict[str, tuple[SQLColumnExpression[Any], ...]] = {
    "date": (Incident.occurred_on.asc(), Incident.id),
    "-date": (Incident.occurred_on.desc(), Incident.id),
    "category": (Incident.category.asc(), Incident.occurred_on.desc(), Incident.id),  # the id: pages never
    "-category": (Incident.category.desc(), Incident.occurred_on.desc(), Incident.id),  # overlap on a tie
}


@dataclass
class PageOf:
    """One page of a listing, with what the page's links need."""

    rows: list[Any]
    total: int
    page: int
    size: int
    sort: str

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def incidents_of(*, person: Person, role: PartyRole, viewer: Any, sort: str = "-date", page: int = 1,
                 size: int = 25) -> PageOf:
    """The incidents `viewer` may see in which `person` had `role`, sorted and paginated."""
    sort = sort if sort in INCIDENT_SORTS else "-date"
    base: Select[Any] = (select(Incident).join(Party, Party.incident_id == Incident.id)
                         .where(Party.person_id == person.id, Party.role == role,
                                policy.visible_filter(viewer, Incident)))
    found = lookups.bounded_page(base.order_by(*INCIDENT_SORTS[sort]), page=page, size=size)
    return PageOf(rows=found.rows, total=found.total, page=found.page, size=size, sort=sort)


def hidden_incident_count(*, person: Person, viewer: Any, since: dt.date | None = None) -> int:
    """How many of the person's incidents (dated from `since`) `viewer` may not see."""
    query = (select(func.count(func.distinct(Incident.id))).join(Party, Party.incident_id == Incident.id)
             .where(Party.person_id == person.id, ~policy.visible_filter(viewer, Incident)))
    if since is not None:
        query = query.where(Incident.occurred_on >= since)
    return db.session.scalar(query) or 0


def visible_ids(viewer: Any, people_ids: list[Any]) -> set[Any]:
    """Which of these people `viewer` may open."""
    if not people_ids:
        return set()
    return set(db.session.scalars(select(Person.id).where(Person.id.in_(people_ids),
                                                          policy.visible_filter(viewer, Person))))

