"""Which existing records an agency's import may name through `casework:<id>` refs (issue 20).

A `casework:<id>` ref (what an export writes for a record the agency has no ref of its own for) names
a record by its id. An import may name that way only a record the importing agency could use on the
pages, as a whole agency (`policy.agency_open_filter`: its own or shared with it, and not restricted);
anything else is the problem `not a record this agency may use`, and nothing is written:

- a person the data set links (a party, or a referral's subject): one open to the agency and not
  merged into another, as the pages let a user add to an incident (`services.incidents.add_party`);
- a person's own row in people.csv (which changes only the agency's own records): a person open to
  the agency, one it owns, or one its incidents' parties or its referrals name already;
- an incident: one the agency owns or that is open to it; a referral: one it owns, receives or that
  is shared with it; a prevention activity: one it owns.

The one exception keeps an agency's export importable back into the system it came from (which
writes people its incidents name whoever holds them, restricted ones as stand-ins): a row that
repeats a link the database already holds (the same party of the same incident, a referral naming
the same person) links nothing new, and is accepted. Records the import made itself with the ids of
their refs are its own, and usable.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import Table, or_, select

from .. import policy
from ..db import db
from ..models import Incident, Person, RecordKind, Referral
from .records import ACTIVITY, INCIDENT, PARTY, PERSON, REFERRAL

NOT_USABLE = "not a record this agency may use"
BATCH = 2000


class Usable:
    """Answers, with a cache, which records of those named the agency `agency_id` may use."""

    def __init__(self, agency_id: uuid.UUID) -> None:
        self.agency_id = agency_id
        self.session = db.session
        self.answers: dict[tuple[str, uuid.UUID], bool] = {}

    def linkable_people(self, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """The people among `ids` a party or referral of the agency may name: open to it, not merged."""
        return self._ask("link", ids, lambda batch: select(PERSON.c.id).where(
            PERSON.c.id.in_(batch), PERSON.c.merged_into_id.is_(None),
            policy.agency_open_filter(self.agency_id, Person)))

    def nameable_people(self, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """The people among `ids` the agency's people.csv may name: linkable, its own, or named by its
        incidents' parties or its referrals already (what its export writes)."""
        linkable = self.linkable_people(ids)
        rest = [i for i in ids if i not in linkable]
        if not rest:
            return linkable
        named_by_parties = select(PARTY.c.person_id).join(INCIDENT, INCIDENT.c.id == PARTY.c.incident_id).where(
            INCIDENT.c.owner_agency_id == self.agency_id)
        named_by_referrals = select(REFERRAL.c.person_id).where(REFERRAL.c.owner_agency_id == self.agency_id)
        return linkable | self._ask("name", rest, lambda batch: select(PERSON.c.id).where(
            PERSON.c.id.in_(batch), PERSON.c.merged_into_id.is_(None),
            or_(PERSON.c.owner_agency_id == self.agency_id, PERSON.c.id.in_(named_by_parties.where(
                PARTY.c.person_id.in_(batch))), PERSON.c.id.in_(named_by_referrals.where(
                    REFERRAL.c.person_id.in_(batch))))))

    def records(self, kind: RecordKind, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """The records among `ids` (of a kind other than people) the agency may name."""
        if kind is RecordKind.PERSON:
            return self.nameable_people(ids)
        if kind is RecordKind.INCIDENT:
            return self._ask("incident", ids, lambda batch: select(INCIDENT.c.id).where(
                INCIDENT.c.id.in_(batch), or_(INCIDENT.c.owner_agency_id == self.agency_id,
                                              policy.agency_open_filter(self.agency_id, Incident))))
        if kind is RecordKind.REFERRAL:
            return self._ask("referral", ids, lambda batch: select(REFERRAL.c.id).where(
                REFERRAL.c.id.in_(batch), or_(REFERRAL.c.receiving_agency_id == self.agency_id,
                                              policy.agency_open_filter(self.agency_id, Referral))))
        return self._ask("activity", ids, lambda batch: select(ACTIVITY.c.id).where(
            ACTIVITY.c.id.in_(batch), ACTIVITY.c.owner_agency_id == self.agency_id))

    def _ask(self, question: str, ids: Collection[uuid.UUID], query: Any) -> set[uuid.UUID]:
        wanted = [i for i in set(ids) if (question, i) not in self.answers]
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start:start + BATCH]
            yes = set(self.session.scalars(query(batch)))
            for record_id in batch:
                self.answers[(question, record_id)] = record_id in yes
        return {i for i in ids if self.answers[(question, i)]}


TABLE_KINDS: dict[str, RecordKind] = {"person": RecordKind.PERSON, "incident": RecordKind.INCIDENT,
                                      "referral": RecordKind.REFERRAL, "prevention_activity": RecordKind.ACTIVITY}


def kind_of_table(table: Table) -> RecordKind:
    return TABLE_KINDS[table.name]
