"""The demo's cases: what the partners' caseworkers would have opened for the people the imported
incidents name, since cases are not part of the exchange format.

About one case per `INCIDENTS_PER_CASE` incidents, for a seeded sample of victims: domestic-abuse
victims with several incidents, repeat ASB victims, victims of serious violence, stalking and
sexual offences, and some fraud and rural-crime victims. Each case is owned by the person's
agency, links the victim (and the perpetrator, where the incidents name one) and the incidents
of its kind, is assigned to one of the agency's caseworkers when it has any, and has a review
date (some overdue, some to come, counted from the demo's last day), a status (closed ones with
an outcome), notes by the caseworker and tasks for them. Notes and tasks need someone of the agency
to write and own them: an agency with no users (in the demo, the housing association and the fire
service) has its cases unassigned, without notes or tasks, until its staff are added.

The same seed and end give the same cases: people and incidents are told apart by their
agencies' refs (record ids differ from one load to the next). Loading the demo again adds no
case a person already has of that kind.

`casework.demo.case_writer` writes them, in bulk, sealed as the models seal them, each case's
creation on the audit trail.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, select

from ..db import db
from ..models import (
    Agency,
    Case,
    CaseKind,
    CasePerson,
    Category,
    Incident,
    Party,
    PartyRole,
    Person,
    RecordKind,
    SourceRef,
)
from ..models.vocab import SERIOUS_VIOLENCE
from .case_writer import CaseWriter

INCIDENTS_PER_CASE = 50
# The share of the cases of each kind; a kind short of people gives its share to the others.
MIX: tuple[tuple[CaseKind, float], ...] = (
    (CaseKind.DOMESTIC_ABUSE, 0.34), (CaseKind.ASB, 0.20), (CaseKind.SERIOUS_VIOLENCE, 0.14),
    (CaseKind.STALKING, 0.08), (CaseKind.SEXUAL_OFFENCE, 0.08), (CaseKind.RURAL_CRIME, 0.08),
    (CaseKind.FRAUD, 0.08),
)
# Incidents as victim a person needs for a case of the kind (a case for one domestic-abuse or
# ASB incident is rarer; the demo shows the repeat victims).
AT_LEAST = {CaseKind.DOMESTIC_ABUSE: 2, CaseKind.ASB: 2}
MAX_INCIDENTS = 6  # the most recent of the victim's incidents of the kind are linked
BATCH = 1000  # cases per write
CHUNK = 500  # people or incidents per IN list

# The kind of case an incident belongs to, first match wins (domestic abuse before its category).
INCIDENT_KIND = case(
    (Incident.domestic_abuse.is_(True), CaseKind.DOMESTIC_ABUSE.value),
    (Incident.category == Category.SEXUAL_OFFENCE, CaseKind.SEXUAL_OFFENCE.value),
    (Incident.category == Category.STALKING, CaseKind.STALKING.value),
    (Incident.category.in_(sorted(SERIOUS_VIOLENCE)), CaseKind.SERIOUS_VIOLENCE.value),
    (Incident.category == Category.FRAUD, CaseKind.FRAUD.value),
    (Incident.category == Category.ASB, CaseKind.ASB.value),
    (Incident.rural.is_(True), CaseKind.RURAL_CRIME.value),
    else_=None,
)


@dataclass
class Candidate:
    """A victim who could have a case of a kind: their agency, ref and incidents of that kind."""

    person_id: uuid.UUID
    agency_id: uuid.UUID
    ref: str
    kind: CaseKind
    incidents: int
    incident_ids: list[uuid.UUID] = field(default_factory=list)
    perpetrator_id: uuid.UUID | None = None
    last_on: dt.date | None = None


def case_count(incidents: int) -> int:
    """How many cases a demo of `incidents` incidents has."""
    return round(incidents / INCIDENTS_PER_CASE)


def make_cases(*, incidents: int, seed: int, today: dt.date) -> Counter[CaseKind]:
    """Open the demo's cases for the imported people (see the module's docstring); the number made
    of each kind. Flushes, never commits."""
    wanted = case_count(incidents)
    if wanted == 0:
        return Counter()
    rng = random.Random(f"casework-demo-cases:{seed}")
    chosen = _choose(_candidates(), wanted, rng)
    already = _existing_cases()
    chosen = [c for c in chosen if (c.person_id, c.kind) not in already]
    _add_incidents(chosen)
    chosen = [c for c in chosen if c.incident_ids]
    _add_perpetrators(chosen)
    writer = CaseWriter(today=today, rng=rng)
    made: Counter[CaseKind] = Counter()
    for batch in _batches(chosen, BATCH):
        for candidate in batch:
            writer.add(candidate)
            made[candidate.kind] += 1
        writer.write()
    return made


# --- who gets a case --------------------------------------------------------------------------


def _candidates() -> list[Candidate]:
    """Every victim with enough incidents of a kind for a case of it, in a fixed order (by agency
    name and ref), merged and restricted records left out."""
    tagged = (select(Party.person_id, INCIDENT_KIND.label("kind"))
              .join(Incident, Incident.id == Party.incident_id)
              .where(Party.role == PartyRole.VICTIM).subquery("tagged"))
    needed = case(*((tagged.c.kind == kind.value, n) for kind, n in AT_LEAST.items()), else_=1)
    counted = (select(tagged.c.person_id, tagged.c.kind, func.count().label("incidents"))
               .where(tagged.c.kind.is_not(None))
               .group_by(tagged.c.person_id, tagged.c.kind)
               .having(func.count() >= needed).subquery("counted"))
    rows = db.session.execute(
        select(counted.c.person_id, counted.c.kind, counted.c.incidents, Person.owner_agency_id,
               Agency.name, func.min(SourceRef.ref))
        .join(Person, Person.id == counted.c.person_id)
        .join(Agency, Agency.id == Person.owner_agency_id)
        .join(SourceRef, and_(SourceRef.kind == RecordKind.PERSON, SourceRef.record_id == Person.id,
                              SourceRef.agency_id == Person.owner_agency_id))
        .where(Person.merged_into_id.is_(None), Person.restricted.is_(False))
        .group_by(counted.c.person_id, counted.c.kind, counted.c.incidents, Person.owner_agency_id, Agency.name))
    found = [(name, ref, Candidate(person_id=pid, agency_id=aid, ref=ref, kind=CaseKind(kind), incidents=n))
             for pid, kind, n, aid, name, ref in rows]
    found.sort(key=lambda t: (t[0], t[1], t[2].kind.value))
    return [c for _, _, c in found]


def _choose(candidates: list[Candidate], wanted: int, rng: random.Random) -> list[Candidate]:
    """A seeded sample of `wanted` candidates in the proportions of MIX, as far as there are people."""
    by_kind: dict[CaseKind, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_kind[candidate.kind].append(candidate)
    chosen: list[Candidate] = []
    left: list[Candidate] = []
    for kind, share in MIX:
        pool = by_kind.get(kind, [])
        # Repeat victims first: more incidents make a likelier case (a weighted draw without repeats).
        order = sorted(pool, key=lambda c: rng.random() ** (1 / c.incidents), reverse=True)
        quota = min(len(order), round(wanted * share))
        chosen += order[:quota]
        left += order[quota:]
    if len(chosen) < wanted and left:
        chosen += rng.sample(left, min(len(left), wanted - len(chosen)))
    return chosen[:wanted]


def _existing_cases() -> set[tuple[uuid.UUID, CaseKind]]:
    """(person, kind) of every case already there: loading the demo again opens no second one."""
    return {(pid, kind) for pid, kind in db.session.execute(
        select(CasePerson.person_id, Case.kind).join(Case, Case.id == CasePerson.case_id))}


def _add_incidents(chosen: list[Candidate]) -> None:
    """Each candidate's most recent incidents of the case's kind (ties by the incident's ref)."""
    wanted = {(c.person_id, c.kind.value): c for c in chosen}
    for ids in _batches(sorted({c.person_id for c in chosen}), CHUNK):
        rows = db.session.execute(
            select(Party.person_id, INCIDENT_KIND.label("kind"), Incident.id, Incident.occurred_on,
                   func.coalesce(SourceRef.ref, ""))
            .join(Incident, Incident.id == Party.incident_id)
            .outerjoin(SourceRef, and_(SourceRef.kind == RecordKind.INCIDENT, SourceRef.record_id == Incident.id,
                                       SourceRef.agency_id == Incident.owner_agency_id))
            .where(Party.person_id.in_(ids), Party.role == PartyRole.VICTIM))
        found: dict[tuple[uuid.UUID, str], dict[uuid.UUID, tuple[dt.date, str]]] = defaultdict(dict)
        for pid, kind, incident_id, on, ref in rows:
            if (pid, kind) in wanted:
                seen = found[pid, kind].get(incident_id)
                found[pid, kind][incident_id] = min(seen, (on, ref)) if seen else (on, ref)
        for key, incidents in found.items():
            candidate = wanted[key]
            latest = sorted(incidents.items(), key=lambda item: (item[1][0], item[1][1]), reverse=True)
            candidate.incident_ids = [incident_id for incident_id, _ in latest[:MAX_INCIDENTS]]
            candidate.last_on = latest[0][1][0]


def _add_perpetrators(chosen: list[Candidate]) -> None:
    """The perpetrator named most often in each candidate's linked incidents (ties by ref), if any."""
    of_incident: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for ids in _batches(sorted({i for c in chosen for i in c.incident_ids}), CHUNK):
        for incident_id, person_id in db.session.execute(
                select(Party.incident_id, Party.person_id)
                .where(Party.incident_id.in_(ids), Party.role == PartyRole.PERPETRATOR)):
            of_incident[incident_id].append(person_id)
    refs = _person_refs(sorted({p for people in of_incident.values() for p in people}))
    for candidate in chosen:
        named = Counter(p for i in candidate.incident_ids for p in of_incident.get(i, ())
                        if p != candidate.person_id and p in refs)
        if named:
            candidate.perpetrator_id = min(named, key=lambda p: (-named[p], refs[p]))


def _person_refs(person_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The owning agency's ref of each of these people, merged and restricted records left out.
    (Looked up by the people's ids: joined to the parties instead, SQLite without statistics
    reads every person's ref first.)"""
    refs: dict[uuid.UUID, str] = {}
    for ids in _batches(person_ids, CHUNK):
        refs.update((person_id, ref) for person_id, ref in db.session.execute(
            select(SourceRef.record_id, func.min(SourceRef.ref))
            .join(Person, and_(Person.id == SourceRef.record_id, Person.owner_agency_id == SourceRef.agency_id))
            .where(SourceRef.kind == RecordKind.PERSON, SourceRef.record_id.in_(ids),
                   Person.merged_into_id.is_(None), Person.restricted.is_(False))
            .group_by(SourceRef.record_id)))
    return refs


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
