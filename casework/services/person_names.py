"""How a person is named to a viewer on a page or in an export about another record.

A page whose own record the viewer may see (a referral, an HRDA meeting, the queue) often names the
person it is about. The viewer may not be allowed to see that person's record. A person is one
identity across the partnership, so an unrestricted person is then shown by identity only (name and
date of birth, as a match is: an HRDA chair must know who is referred before accepting), with no link
or id. A restricted person is seen only by the users named on it: to anyone else it is "A restricted
person", with no name, date of birth, link or id. Every page and export asks here (`for_viewer`, `many_for_viewer`) so
the rule is written once; who may see whom is `casework.policy`'s.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from .. import policy
from ..db import db
from ..models import Person

RESTRICTED = "A restricted person"


@dataclass(frozen=True)
class PersonName:
    """What a viewer is shown of a person: `person_id` (a link) only when they may see the record, the
    name and `date_of_birth` unless the person is restricted and they are not named on it."""

    text: str
    person_id: uuid.UUID | None = None
    date_of_birth: date | None = None

    @property
    def visible(self) -> bool:
        return self.person_id is not None

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(self.text))


def _shown(person: Person, visible: bool) -> PersonName:
    if visible:
        return PersonName(text=person.display_name, person_id=person.id, date_of_birth=person.date_of_birth)
    if person.restricted:
        return PersonName(text=RESTRICTED)
    return PersonName(text=person.display_name, date_of_birth=person.date_of_birth)  # identity only


def many_for_viewer(viewer: Any, people: Iterable[Person | None]) -> dict[Any, PersonName]:
    """What `viewer` is shown of each of `people`, by person id, with one query for them all."""
    found = {p.id: p for p in people if p is not None}
    if not found:
        return {}
    visible = set(db.session.scalars(select(Person.id).where(
        Person.id.in_(list(found)), policy.visible_filter(viewer, Person))))
    return {pid: _shown(person, pid in visible) for pid, person in found.items()}


def for_viewer(viewer: Any, person: Person) -> PersonName:
    """What `viewer` is shown of `person` (see the module docstring)."""
    return _shown(person, policy.can_view(viewer, person))
