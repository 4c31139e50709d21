"""Subject access: everything Casework holds about a person, decrypted, with who has seen it.

The document gathers the person's record and their merged duplicates; every row with a
foreign key to them (parties, case memberships, referrals, assessments and any later kind);
the incidents they are party to and the cases they are on, with those records' own rows
(notes, tasks...); the panel and recommendations of their ASB case review applications; the documents kept with any of these (what each is, not its bytes); the reasons the records were shared; and the audit trail of every view and
change of any of these records, with the user and agency. Other people on the same incidents
and cases appear only as their role (before disclosure the controller still reviews third
parties' information in notes and reasons, as the law requires).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import json
import uuid
from typing import Any

from sqlalchemy import Table, inspect, select

from ..db import db
from ..models import (
    Agency,
    AsbReview,
    AuditEntry,
    Base,
    Case,
    CasePerson,
    Erasure,
    Incident,
    MeetingCase,
    Order,
    Party,
    Person,
    Referral,
    Share,
    ShareRequest,
    User,
)
from ..models.base import utcnow
from . import audit, documents
from .retention import INDEX_COLUMNS, _children

FORMAT = "casework-subject-access/1"


class SubjectAccessError(Exception):
    """No such person."""


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _mapped(table: Table) -> type[Base] | None:
    for mapper in Base.registry.mappers:
        if mapper.local_table is table:
            return mapper.class_
    return None


def row_document(obj: Any) -> dict[str, Any]:
    """Every column of an ORM object, encrypted ones decrypted; blind indexes left out (they are
    keyed hashes of the values shown, meaningless on their own)."""
    doc: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        key = attr.key
        if key in INDEX_COLUMNS:
            continue
        if key.endswith("_sealed"):
            name = key.removesuffix("_sealed")
            doc[name] = _plain(getattr(obj, name))
        else:
            doc[key] = _plain(getattr(obj, key))
    return doc


def _rows_referring(table: Table, ids: list[uuid.UUID], person_ids: list[uuid.UUID], *,
                    skip: frozenset[str] = frozenset()) -> dict[str, list[dict[str, Any]]]:
    """Rows of every table with a foreign key to `table.id` among `ids`, by table name; of rows that
    name a person (a `person_id`), only this person's."""
    found: dict[str, list[dict[str, Any]]] = {}
    for child, column in _children(table):
        if child.name in skip or not ids:
            continue
        model = _mapped(child)
        if model is None:
            continue
        query = select(model).where(column.in_(ids))
        if "person_id" in child.c and column.name != "person_id":
            query = query.where(child.c.person_id.in_(person_ids))
        rows = db.session.scalars(query.order_by(model.id)).all()
        if rows:
            found.setdefault(child.name, []).extend(row_document(r) for r in rows)
    return found


def _shares(kind: str, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = db.session.scalars(select(Share).where(Share.record_kind == kind, Share.record_id.in_(ids))
                              .order_by(Share.created_at)).all()
    return [row_document(s) for s in rows]


def _audit(records: dict[str, list[uuid.UUID]]) -> list[dict[str, Any]]:
    ids = [i for group in records.values() for i in group]
    if not ids:
        return []
    rows = db.session.execute(
        select(AuditEntry.at, AuditEntry.action, AuditEntry.record_kind, AuditEntry.record_id,
               AuditEntry.details, User.email, User.name, Agency.name.label("agency"))
        .outerjoin(User, User.id == AuditEntry.user_id).outerjoin(Agency, Agency.id == AuditEntry.agency_id)
        .where(AuditEntry.record_id.in_(ids)).order_by(AuditEntry.position))
    return [{"at": _plain(r.at), "action": r.action, "record_kind": r.record_kind,
             "record_id": _plain(r.record_id), "user_email": r.email, "user_name": r.name, "agency": r.agency,
             "details": json.loads(r.details) if r.details else None} for r in rows]


def document(*, person_id: uuid.UUID, by: Any = None) -> dict[str, Any]:
    """The subject access document for a person (audited as a disclosure of everything in it)."""
    person = db.session.get(Person, person_id)
    if person is None:
        raise SubjectAccessError(f"there is no person with id {person_id}")
    people = [person] + _merged_into(person.id)
    person_ids = [p.id for p in people]
    incident_ids = list(db.session.scalars(select(Party.incident_id).where(Party.person_id.in_(person_ids))
                                           .distinct()))
    case_ids = list(db.session.scalars(select(CasePerson.case_id).where(CasePerson.person_id.in_(person_ids))
                                       .distinct()))
    incidents = db.session.scalars(select(Incident).where(Incident.id.in_(incident_ids))
                                   .order_by(Incident.occurred_on)).all() if incident_ids else []
    cases = db.session.scalars(select(Case).where(Case.id.in_(case_ids)).order_by(Case.created_at)).all() \
        if case_ids else []
    erasures = db.session.scalars(select(Erasure).where(Erasure.record_kind == "person",
                                                        Erasure.record_id.in_(person_ids))).all()
    # Other people on the same incidents and cases: their role, never who they are.
    others = db.session.execute(select(Party.incident_id, Party.role).where(
        Party.incident_id.in_(incident_ids), Party.person_id.not_in(person_ids))).all() if incident_ids else []
    held_documents = _documents(person_ids, incident_ids, case_ids)
    # Their ASB case review applications (as the victim) are held with the person (above); the
    # panel and recommendations of those applications are held with the applications.
    review_ids = list(db.session.scalars(select(AsbReview.id).where(AsbReview.person_id.in_(person_ids))))
    doc = {
        "format": FORMAT,
        "generated_at": _plain(utcnow()),
        "person_id": str(person.id),
        "person": row_document(person),
        "merged_duplicates": [row_document(p) for p in people[1:]],
        "erasures": [row_document(e) for e in erasures],
        "held_with_the_person": _rows_referring(Person.__table__, person_ids, person_ids),
        "incidents": [dict(row_document(i), other_parties=[
            _plain(role) for iid, role in others if iid == i.id]) for i in incidents],
        "held_with_the_incidents": _rows_referring(Incident.__table__, incident_ids, person_ids,
                                                   skip=frozenset({"party"})),
        "cases": [row_document(c) for c in cases],
        "held_with_the_cases": _rows_referring(Case.__table__, case_ids, person_ids,
                                               skip=frozenset({"case_person"})),
        "held_with_the_asb_case_reviews": _rows_referring(AsbReview.__table__, review_ids, person_ids),
        "documents": held_documents,
        "shares": _shares("person", person_ids) + _shares("incident", incident_ids) + _shares("case", case_ids),
        # Requests to share the person's record are held with the person (above); who asked and who
        # decided is in the requests' own audit entries.
        "audit": _audit({"person": person_ids, "incident": incident_ids, "case": case_ids, "asb_review": review_ids,
                         "document": [uuid.UUID(d["id"]) for d in held_documents],
                         "share_request": list(db.session.scalars(select(ShareRequest.id).where(
                             ShareRequest.person_id.in_(person_ids))))}),
    }
    audit.record("person.subject_access", user=by, record=person,
                 details={"counts": {"incidents": len(incidents), "cases": len(cases),
                                     "audit_entries": len(doc["audit"])}})
    return doc


def _documents(person_ids: list[uuid.UUID], incident_ids: list[uuid.UUID],
               case_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """The documents held with the person, their referrals and those referrals' HRDA meeting cases,
    their orders, their incidents and their cases: what each is (its title, name, date, type and size)."""
    referral_ids = list(db.session.scalars(select(Referral.id).where(Referral.person_id.in_(person_ids))))
    meeting_case_ids = list(db.session.scalars(select(MeetingCase.id).where(
        MeetingCase.referral_id.in_(referral_ids)))) if referral_ids else []
    order_ids = list(db.session.scalars(select(Order.id).where(Order.person_id.in_(person_ids))))
    return documents.held({"person": person_ids, "referral": referral_ids, "meeting_case": meeting_case_ids,
                           "order": order_ids, "incident": incident_ids, "case": case_ids})


def _merged_into(person_id: uuid.UUID) -> list[Person]:
    found, queue = [], [person_id]
    while queue:
        parent = queue.pop()
        for p in db.session.scalars(select(Person).where(Person.merged_into_id == parent)):
            found.append(p)
            queue.append(p.id)
    return found


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False, default=_plain)


