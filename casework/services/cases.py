"""Cases: open one, link people and incidents, assign a caseworker, set a review date, move it through
open, active and closed (closing records an outcome), notes forming a timeline, tasks with owners.

Every edit of the case itself is checked against the version its form was filled from
(`services.locking`): two caseworkers never overwrite each other.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, or_, select, true
from sqlalchemy.exc import IntegrityError

from .. import policy
from ..db import db
from ..models import (
    Case,
    CaseIncident,
    CaseKind,
    CaseNote,
    CasePerson,
    CaseStatus,
    CaseTask,
    Incident,
    Party,
    PartyRole,
    Person,
    RecordKind,
    Role,
    SourceRef,
    User,
    UserRole,
)
from ..models.base import utcnow
from ..models.reference import parse_reference
from . import audit, versioning

NOTE_MAX = 5000
TITLE_MAX = 200
OUTCOME_MAX = 2000

# Which status a case may move to from each: closing needs an outcome; a closed case may be reopened.
TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    CaseStatus.OPEN: (CaseStatus.ACTIVE, CaseStatus.CLOSED),
    CaseStatus.ACTIVE: (CaseStatus.CLOSED,),
    CaseStatus.CLOSED: (CaseStatus.ACTIVE,),
}


class CaseError(Exception):
    """A change the case cannot take; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def caseworkers_of(agency_id: uuid.UUID) -> list[Any]:
    """The active caseworkers of an agency, by name: who a case may be assigned to (rows of `id` and
    `name`: a case page lists them all, and whole users cost far more to load)."""
    return list(db.session.execute(
        select(User.id, User.name).join(UserRole, UserRole.user_id == User.id)
        .where(User.agency_id == agency_id, User.active.is_(True), UserRole.role == Role.CASEWORKER)
        .order_by(User.name, User.email)))


def staff_of(agency_id: uuid.UUID) -> list[Any]:
    """The active users of an agency who may own a task (caseworkers and chairs): rows of `id` and `name`."""
    return list(db.session.execute(
        select(User.id, User.name).where(User.agency_id == agency_id, User.active.is_(True),
                                         exists().where(UserRole.user_id == User.id,
                                                        UserRole.role.in_([Role.CASEWORKER, Role.HRDA_CHAIR])))
        .order_by(User.name, User.email)))


def _caseworker(user_id: uuid.UUID | None, *, agency_id: uuid.UUID) -> User | None:
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.id not in {u.id for u in caseworkers_of(agency_id)}:
        raise CaseError("Select a caseworker of your agency", "caseworker")
    return user


def _text(value: str | None, *, limit: int, what: str, field: str, required: bool = False) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise CaseError(f"Enter {what}", field)
    if len(value) > limit:
        raise CaseError(f"{what[0].upper()}{what[1:]} must be {limit} characters or fewer", field)
    return value or None


def open_case(*, kind: CaseKind, by: Any, person: Person | None = None, role: PartyRole | None = None,
              summary: str | None = None, review_on: dt.date | None = None,
              caseworker_id: uuid.UUID | None = None, today: dt.date) -> Case:
    """Open a case of `by`'s agency, optionally for a person (in a role) the user may see."""
    if person is not None and not policy.can_view(by, person):
        raise CaseError("You cannot see this person", "person")
    if review_on is not None and review_on < today:
        raise CaseError("The review date must be today or in the future", "review_on")
    caseworker = _caseworker(caseworker_id, agency_id=by.agency_id)
    case = Case(kind=kind, status=CaseStatus.OPEN, owner_agency_id=by.agency_id, review_on=review_on,
                caseworker_id=caseworker.id if caseworker else None)
    case.summary = _text(summary, limit=NOTE_MAX, what="a summary", field="summary")
    db.session.add(case)
    if person is not None:
        case.people.append(CasePerson(person_id=person.id, role=role))
    db.session.flush()
    versioning.record_edit(case, action="case.create", fields=["kind", "status", "summary", "review_on",
                                                            "caseworker_id", "people"], user=by)
    return case


def update_case(case: Case, *, version: int | None, kind: CaseKind, summary: str | None,
                review_on: dt.date | None, caseworker_id: uuid.UUID | None, by: Any) -> Case:
    """Change a case's kind, summary, review date and caseworker (refused when the form is stale)."""
    versioning.check_version(case, version, action_prefix="case")
    caseworker = _caseworker(caseworker_id, agency_id=case.owner_agency_id)
    case.kind = kind
    case.summary = _text(summary, limit=NOTE_MAX, what="a summary", field="summary")
    case.review_on = review_on
    case.caseworker_id = caseworker.id if caseworker else None
    fields = audit.changed_fields(case)
    if fields:
        versioning.flush_or_stale(case, version or 0, action_prefix="case")
        versioning.record_edit(case, action="case.update", fields=fields, user=by)
    return case


def change_status(case: Case, *, to: CaseStatus, version: int | None, by: Any, outcome: str | None = None) -> Case:
    """Move a case on: open -> active -> closed (with an outcome); closed -> active reopens it."""
    versioning.check_version(case, version, action_prefix="case")
    if to not in TRANSITIONS[case.status]:
        raise CaseError(f"A {case.status.label.lower()} case cannot become {to.label.lower()}", "status")
    if to is CaseStatus.CLOSED:
        case.outcome = _text(outcome, limit=OUTCOME_MAX, what="the outcome of the case", field="outcome",
                             required=True)
        case.closed_at = utcnow()
    else:
        case.closed_at = None  # reopening keeps the last outcome as history until the next closing
    case.status = to
    fields = audit.changed_fields(case)
    versioning.flush_or_stale(case, version or 0, action_prefix="case")
    versioning.record_edit(case, action=f"case.{'close' if to is CaseStatus.CLOSED else 'status'}", fields=fields,
                        user=by)
    return case


def link_person(case: Case, *, person: Person | None, role: PartyRole | None, by: Any) -> CasePerson:
    """Link a person the user may see to the case, in a role (a merged record's survivor instead)."""
    if person is None or not policy.can_view(by, person):
        raise CaseError("Select a person", "person")
    if person.merged_into_id is not None:
        raise CaseError("That record was merged into another: link the record it was merged into", "person")
    already = CaseError("This person is already linked to the case", "person")
    if _linked(case.people, "person_id", person.id):
        raise already
    link = CasePerson(person_id=person.id, role=role)
    _add_link(case, "people", "person_id", link, already)
    versioning.record_edit(case, action="case.link_person", fields=["people"], user=by)
    return link


def link_incident(case: Case, *, incident: Incident | None, by: Any) -> CaseIncident:
    """Link an incident the user may see to the case."""
    if incident is None or not policy.can_view(by, incident):
        raise CaseError("Select an incident", "incident")
    already = CaseError("This incident is already linked to the case", "incident")
    if _linked(case.incidents, "incident_id", incident.id):
        raise already
    link = CaseIncident(incident_id=incident.id)
    _add_link(case, "incidents", "incident_id", link, already)
    versioning.record_edit(case, action="case.link_incident", fields=["incidents"], user=by)
    return link


def _linked(links: list[Any], attribute: str, record_id: uuid.UUID) -> bool:
    return any(getattr(link, attribute) == record_id for link in links)


def _add_link(case: Case, collection: str, attribute: str, link: CasePerson | CaseIncident,
              already: CaseError) -> None:
    """Add `link` to the case's `collection` and flush, in a savepoint: the same link posted twice at
    the same moment (a double click, two tabs) passes both checks, and the second insert hits the
    unique constraint. That one is refused as already linked, its savepoint rolled back, and the
    request's transaction goes on (no server error). Any other integrity error is not hidden."""
    try:
        with db.session.begin_nested():
            getattr(case, collection).append(link)
            db.session.flush()
    except IntegrityError as e:
        db.session.expire(case, [collection])  # read the links again: the other request's is there
        if not _linked(getattr(case, collection), attribute, getattr(link, attribute)):
            raise
        raise already from e


def incident_by_reference(reference: str | None, *, viewer: Any) -> Incident:
    """The incident the viewer may see that their agency knows by `reference` (or whose Casework
    reference it is); CaseError naming the reference box when there is none (an incident the viewer
    may not see is not told apart)."""
    ref = (reference or "").strip()
    if not ref:
        raise CaseError("Enter your agency's reference for the incident", "reference")
    known: ColumnElement[bool] = Incident.id.in_(select(SourceRef.record_id).where(
        SourceRef.agency_id == viewer.agency_id, SourceRef.kind == RecordKind.INCIDENT, SourceRef.ref == ref))
    parsed = parse_reference(ref)  # or the incident's Casework reference, N-...
    if parsed and parsed[0] == "incident":
        known = or_(Incident.reference == parsed[1], known)
    incident = db.session.scalar(select(Incident).where(known, policy.visible_filter(viewer, Incident)))
    if incident is None:
        raise CaseError(f"No incident you can see has your agency's reference {ref}", "reference")
    return incident


def add_note(case: Case, *, text: str | None, by: Any) -> CaseNote:
    """Add an entry to the case's timeline (encrypted at rest)."""
    body = _text(text, limit=NOTE_MAX, what="the note", field="text", required=True)
    note = CaseNote(case_id=case.id, author_id=by.id, at=utcnow())
    note.text = body
    db.session.add(note)
    db.session.flush()
    versioning.record_edit(case, action="case.note", fields=["notes"], user=by)
    return note


def add_task(case: Case, *, title: str | None, due_on: dt.date | None, owner_id: uuid.UUID | None,
             by: Any) -> CaseTask:
    """Add a task with a due date, owned by someone of the user's agency."""
    text = _text(title, limit=TITLE_MAX, what="what needs doing", field="title", required=True)
    if due_on is None:
        raise CaseError("Enter the date the task is due", "due_on")
    if owner_id is None or owner_id not in {u.id for u in staff_of(by.agency_id)}:
        raise CaseError("Select who will do the task", "owner")
    task = CaseTask(case_id=case.id, due_on=due_on, owner_id=owner_id)
    task.title = text
    db.session.add(task)
    db.session.flush()
    versioning.record_edit(case, action="case.task", fields=["tasks"], user=by)
    return task


def complete_task(case: Case, *, task_id: uuid.UUID | None, by: Any) -> CaseTask:
    """Mark a task of the case done (marking it again changes nothing)."""
    task = db.session.get(CaseTask, task_id) if task_id else None
    if task is None or task.case_id != case.id:
        raise CaseError("Select a task of this case", "task")
    if task.done_at is None:
        task.done_at = utcnow()
        task.done_by_id = by.id
        db.session.flush()
        versioning.record_edit(case, action="case.task_done", fields=["tasks"], user=by)
    return task


# --- reading ---------------------------------------------------------------------------------


def visible_cases(viewer: Any) -> Select[Any]:
    """Every case the viewer may see (for listing, sorting and paging)."""
    return select(Case).where(policy.visible_filter(viewer, Case))


def cases_of_person(person: Person, *, viewer: Any) -> list[Case]:
    """The cases linking a person that the viewer may see, newest first."""
    return list(db.session.scalars(
        select(Case).join(CasePerson, CasePerson.case_id == Case.id)
        .where(CasePerson.person_id == person.id, policy.visible_filter(viewer, Case))
        .order_by(Case.created_at.desc())))


def linked_people(case: Case, *, viewer: Any) -> list[tuple[CasePerson, Person | None]]:
    """The case's people, each with the person when the viewer may see them (else None)."""
    ids = [link.person_id for link in case.people]
    seen = {p.id: p for p in db.session.scalars(
        select(Person).where(Person.id.in_(ids), policy.visible_filter(viewer, Person)))} if ids else {}
    return [(link, seen.get(link.person_id)) for link in case.people]


def linked_incidents(case: Case, *, viewer: Any) -> list[Incident]:
    ids = [link.incident_id for link in case.incidents]
    if not ids:
        return []
    return list(db.session.scalars(select(Incident).where(Incident.id.in_(ids),
                                                          policy.visible_filter(viewer, Incident))
                                   .order_by(Incident.occurred_on.desc())))


def candidate_people(case: Case, *, viewer: Any) -> list[Person]:
    """People the user may see who are parties to the case's incidents but not yet on the case."""
    incident_ids = [link.incident_id for link in case.incidents]
    linked = [link.person_id for link in case.people]
    if not incident_ids:
        return []
    people = db.session.scalars(
        select(Person).where(Person.id.in_(select(Party.person_id).where(Party.incident_id.in_(incident_ids))),
                             Person.id.not_in(linked) if linked else true(),
                             Person.merged_into_id.is_(None),
                             policy.visible_filter(viewer, Person)))
    return sorted(people, key=lambda p: p.display_name.lower())


def candidate_incidents(case: Case, *, viewer: Any) -> list[Incident]:
    """Incidents the user may see involving the case's people but not yet on the case."""
    person_ids = [link.person_id for link in case.people]
    linked = [link.incident_id for link in case.incidents]
    if not person_ids:
        return []
    return list(db.session.scalars(
        select(Incident).where(Incident.id.in_(select(Party.incident_id).where(Party.person_id.in_(person_ids))),
                               Incident.id.not_in(linked) if linked else true(),
                               policy.visible_filter(viewer, Incident))
        .order_by(Incident.occurred_on.desc()).limit(200)))
