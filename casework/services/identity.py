"""Identity-only matches across the partnership, so that nobody creates a duplicate person.

Whoever may search people sees every match's identity (name, date of birth,
gender and which agencies know them), whatever agency owns it; a restricted
person they are not named on shows only as "a restricted record may match; ask
its owner". Opening the full record still needs `policy.can_view`. Finding the
candidates (through the blind indexes) is the search's job; this turns them
into what the viewer may be shown.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from .. import policy
from ..db import db
from ..models import Agency, Person, Share, SourceRef
from ..models.vocab import RecordKind


def identity_matches(*, viewer: Any, people: Iterable[Person]) -> list[policy.IdentityMatch | policy.RestrictedMatch]:
    """What `viewer` may be shown of each candidate, in the order given (nothing for a viewer
    who may not search people)."""
    people = list(people)
    if not people or not policy.can(viewer, policy.Permission.SEARCH_PEOPLE):
        return []
    ids = [p.id for p in people]
    visible = set(db.session.scalars(select(Person.id).where(Person.id.in_(ids),
                                                            policy.visible_filter(viewer, Person))))
    known = _known_to(ids, {p.id: p.owner_agency_id for p in people})
    names = {row.id: row.name for row in db.session.execute(select(Agency.id, Agency.name))}
    shown = []
    for person in people:
        view = policy.identity_view(
            viewer, person, visible=person.id in visible, owner_agency=names.get(person.owner_agency_id, ""),
            known_to=tuple(sorted(names[a] for a in known[person.id] if a in names)))
        if view is not None:
            shown.append(view)
    return shown


def _known_to(ids: list[uuid.UUID], owners: dict[uuid.UUID, uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The agencies that know each person: the owner, those whose own records refer to them, and
    those it has been shared with."""
    known: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for person_id, agency_id in owners.items():
        known[person_id].add(agency_id)
    for record_id, agency_id in db.session.execute(
            select(SourceRef.record_id, SourceRef.agency_id)
            .where(SourceRef.kind == RecordKind.PERSON, SourceRef.record_id.in_(ids))):
        known[record_id].add(agency_id)
    for record_id, agency_id in db.session.execute(
            select(Share.record_id, Share.agency_id)
            .where(Share.record_kind == "person", Share.record_id.in_(ids), Share.revoked_at.is_(None))):
        known[record_id].add(agency_id)
    return known
