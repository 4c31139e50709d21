"""Writing the demo's cases: each case as a caseworker would have left it, written in bulk.

Thousands of cases (20,000 for a million incidents) through the ORM's unit of work cost about a
minute; as rows they take seconds. The rows are what the models would write: ids made by the
application, personal values sealed with `crypto.seal` and the associated data the `Secret`
attributes use (table, column, row id), as `casework.exchange.importer` does, so they read back
through the ORM like any case. Each case's creation is on the audit trail.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, insert, select

from .. import crypto
from ..db import db
from ..models import Case, CaseIncident, CaseNote, CasePerson, CaseStatus, CaseTask, PartyRole, User
from ..models.base import new_ids
from ..services import audit
from ..services.cases import caseworkers_of, staff_of
from .case_texts import NOTES, OUTCOMES, SUMMARIES, TASKS

if TYPE_CHECKING:
    from .cases import Candidate

CASE = Case.__table__
CASE_PERSON = CasePerson.__table__
CASE_INCIDENT = CaseIncident.__table__
CASE_NOTE = CaseNote.__table__
CASE_TASK = CaseTask.__table__
# What a case's creation entry names (field names only, as every audit entry).
FIELDS = ["caseworker_id", "incidents", "kind", "notes", "outcome", "people", "review_on", "status", "summary",
          "tasks"]


@dataclass
class Staff:
    """Who of an agency works its cases: caseworkers to assign, staff to own tasks, anyone to write notes."""

    caseworkers: list[Any]  # rows of id and name (casework.services.cases.caseworkers_of)
    task_owners: list[Any]
    writers: list[User]


@dataclass
class CaseWriter:
    """Collects cases as rows (`add`) and writes them (`write`), in the session's transaction."""

    today: dt.date
    rng: random.Random
    ring: crypto.Keyring = field(default_factory=crypto.current)
    staff: dict[uuid.UUID, Staff] = field(default_factory=dict)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    entries: list[tuple[User | None, uuid.UUID, dict[str, Any]]] = field(default_factory=list)
    ids: list[uuid.UUID] = field(default_factory=list)

    def add(self, candidate: Candidate) -> None:
        """The case a caseworker would have opened for the candidate."""
        rng, today, kind = self.rng, self.today, candidate.kind.value
        team = self._staff(candidate.agency_id)
        opened_on = min(today, (candidate.last_on or today) + dt.timedelta(days=rng.randint(1, 10)))
        status = _status((today - opened_on).days, rng)
        caseworker = rng.choice(team.caseworkers) if team.caseworkers else None
        if status is CaseStatus.OPEN and rng.random() < 0.2:
            caseworker = None  # waiting for allocation
        writer = caseworker or (team.task_owners or team.writers or [None])[0]
        closed_on = (min(today, opened_on + dt.timedelta(days=rng.randint(30, 240)))
                     if status is CaseStatus.CLOSED else None)
        ends_on = closed_on or today
        case_id = self._id()
        opened_at = last = _at(opened_on, rng)

        self._row(CASE_PERSON, case_id=case_id, person_id=candidate.person_id, role=PartyRole.VICTIM, at=opened_at)
        if candidate.perpetrator_id is not None:
            self._row(CASE_PERSON, case_id=case_id, person_id=candidate.perpetrator_id, role=PartyRole.PERPETRATOR,
                      at=opened_at)
        for incident_id in candidate.incident_ids:
            self._row(CASE_INCIDENT, case_id=case_id, incident_id=incident_id, at=opened_at)
        if writer is not None:
            for text in rng.sample(NOTES[kind], min(len(NOTES[kind]), rng.randint(2, 3))):
                note_at = _at(_between(opened_on, ends_on, rng), rng)
                self._row(CASE_NOTE, case_id=case_id, author_id=writer.id, sealed={"text": text}, at=note_at,
                          extra={"at": note_at})
                last = max(last, note_at)
        if team.task_owners:
            owner: Any = caseworker if caseworker in team.task_owners else team.task_owners[0]
            for title in rng.sample(TASKS[kind], rng.randint(1, 2)):
                due_on = (_between(opened_on, ends_on, rng) if closed_on
                          else today + dt.timedelta(days=rng.randint(-7, 28)))
                done = closed_on is not None or rng.random() < 0.2
                self._row(CASE_TASK, case_id=case_id, due_on=due_on, owner_id=owner.id, sealed={"title": title},
                          at=opened_at, done_at=_at(min(due_on, ends_on), rng) if done else None,
                          done_by_id=owner.id if done else None)
        closed_at = max(last, _at(closed_on, rng)) if closed_on else None
        self._row(CASE, row_id=case_id, kind=candidate.kind, status=status, owner_agency_id=candidate.agency_id,
                  caseworker_id=caseworker.id if caseworker else None, restricted=False, version=1,
                  review_on=None if closed_on else today + dt.timedelta(days=rng.randint(-21, 42)),
                  closed_at=closed_at, at=opened_at, updated_at=closed_at or last,
                  sealed={"summary": rng.choice(SUMMARIES[kind]),
                          "outcome": rng.choice(OUTCOMES[kind]) if closed_on else None})
        self.entries.append((writer, case_id, {"fields": FIELDS, "version": 1, "demo": True}))

    def write(self) -> None:
        """INSERT the cases collected so far (parents first) and audit their creation; start afresh."""
        for table in (CASE, CASE_PERSON, CASE_INCIDENT, CASE_NOTE, CASE_TASK):
            rows = self.rows.pop(table.name, None)
            if rows:
                db.session.execute(insert(table), rows)
        audit.record_many("case.create", [(user, "case", case_id, details) for user, case_id, details
                                          in self.entries])
        self.entries = []

    def _row(self, table: Table, *, at: dt.datetime, row_id: uuid.UUID | None = None,
             sealed: dict[str, str | None] | None = None, updated_at: dt.datetime | None = None,
             extra: dict[str, Any] | None = None, **values: Any) -> None:
        row_id = row_id or self._id()
        row = {"id": row_id, "created_at": at, "updated_at": updated_at or at, **values, **(extra or {})}
        for column, value in (sealed or {}).items():
            row[column] = None if value is None else crypto.seal(self.ring, crypto.encode_plain(value),
                                                                 table=table.name, column=column, row_id=row_id)
        self.rows.setdefault(table.name, []).append(row)

    def _id(self) -> uuid.UUID:
        if not self.ids:
            self.ids = new_ids(4096)
            self.ids.reverse()  # pop() takes the smallest
        return self.ids.pop()

    def _staff(self, agency_id: uuid.UUID) -> Staff:
        team = self.staff.get(agency_id)
        if team is None:
            writers = list(db.session.scalars(select(User).where(User.agency_id == agency_id, User.active.is_(True))
                                              .order_by(User.email)))
            team = self.staff[agency_id] = Staff(caseworkers=caseworkers_of(agency_id),
                                                 task_owners=staff_of(agency_id), writers=writers)
        return team


def _status(age_days: int, rng: random.Random) -> CaseStatus:
    """Older cases are mostly closed; recent ones mostly open or active."""
    draw = rng.random()
    if age_days > 270:
        return CaseStatus.CLOSED if draw < 0.7 else CaseStatus.ACTIVE
    if age_days > 60:
        return CaseStatus.CLOSED if draw < 0.3 else CaseStatus.ACTIVE if draw < 0.85 else CaseStatus.OPEN
    return CaseStatus.OPEN if draw < 0.45 else CaseStatus.ACTIVE if draw < 0.95 else CaseStatus.CLOSED


def _between(first: dt.date, last: dt.date, rng: random.Random) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    """A time in the working day of `day` (UTC)."""
    return dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randint(0, 480))
