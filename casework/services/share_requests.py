"""Asking another agency to share a person's record (issue 14 §6). A user who may share records and
sees a person by identity only (another agency's record, not restricted) asks the owning agency,
giving a reason; the owning agency's managers see the request on their home page and accept it (the
record is shared with the requesting agency: `services.sharing`, via "request") or decline it with a
reason the requester sees. Each step is audited."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from .. import crypto, policy
from ..db import db
from ..models import Agency, Person, ShareRequest, User
from ..models.base import utcnow
from ..models.share_request import ACCEPTED, DECLINED, WAITING
from . import audit, sharing

REASON_MAX = 2000
RECENT = 10


class ShareRequestError(Exception):
    """A request or a decision that cannot be made: `field` names the form field at fault."""

    def __init__(self, message: str, field: str = "reason") -> None:
        super().__init__(message)
        self.field = field


def askable(person: Person | None, *, by: Any) -> bool:
    """Whether `by` may ask for `person`'s record: one they see by identity only."""
    if person is None or person.merged_into_id is not None:
        return False
    if not policy.can(by, policy.Permission.SHARE_RECORDS) or person.owner_agency_id == by.agency_id:
        return False
    # A restricted person they are not named on is never matched by identity: nothing to ask for here.
    return not person.restricted and not policy.can_view(by, person)


def ask_token(person_id: uuid.UUID, *, viewer: Any) -> str:
    """An opaque reference to a person seen by identity only, for the link that asks for their record:
    a page showing a match gives no person's id (`services.person_names`), so the id is sealed, bound
    to the viewer, and only they can use the link."""
    sealed = crypto.seal(crypto.current(), person_id.bytes, table="share_request", column="ask",
                         row_id=viewer.id)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def person_of_token(token: str, *, viewer: Any) -> Person | None:
    """The person an `ask_token` refers to, if it was made for `viewer` (else None)."""
    try:
        sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        raw = crypto.unseal(crypto.current(), sealed, table="share_request", column="ask", row_id=viewer.id)
        return db.session.get(Person, uuid.UUID(bytes=raw))
    except (ValueError, crypto.DecryptionError):
        return None


def _reason(text: str | None, *, what: str, field: str) -> str:
    value = (text or "").strip()
    if not value:
        raise ShareRequestError(f"Enter {what}", field)
    if len(value) > REASON_MAX:
        raise ShareRequestError(f"{what[0].upper()}{what[1:]} must be {REASON_MAX} characters or fewer", field)
    return value


def waiting_request(person: Person, *, agency_id: uuid.UUID) -> ShareRequest | None:
    return db.session.scalar(select(ShareRequest).where(
        ShareRequest.person_id == person.id, ShareRequest.requesting_agency_id == agency_id,
        ShareRequest.status == WAITING).limit(1))


def ask(person: Person, *, reason: str | None, by: Any) -> ShareRequest:
    """Ask the person's owning agency to share their record with `by`'s agency."""
    if not askable(person, by=by):
        raise ShareRequestError("You cannot ask for this record", "person")
    if waiting_request(person, agency_id=by.agency_id) is not None:
        raise ShareRequestError("Your agency has already asked for this record: the request is waiting for a "
                                "decision", "reason")
    request = ShareRequest(person_id=person.id, owner_agency_id=person.owner_agency_id,
                           requesting_agency_id=by.agency_id, requested_by_id=by.id, status=WAITING)
    request.reason = _reason(reason, what="why your agency needs the record", field="reason")
    db.session.add(request)
    db.session.flush()
    audit.record("share_request.create", user=by, record=request,
                 details={"person_id": str(person.id), "agency_id": str(person.owner_agency_id)})
    return request


def for_decision(request_id: uuid.UUID, *, by: Any) -> ShareRequest | None:
    """A waiting or decided request to `by`'s agency, if `by` may decide such requests."""
    if not policy.can(by, policy.Permission.DECIDE_SHARE_REQUESTS):
        return None
    return db.session.scalar(select(ShareRequest).where(ShareRequest.id == request_id,
                                                        ShareRequest.owner_agency_id == by.agency_id))


def decide(request: ShareRequest, *, accept: bool | None, reason: str | None, by: Any) -> ShareRequest:
    """Accept (the record is shared with the requesting agency) or decline (with a reason)."""
    if not policy.can(by, policy.Permission.DECIDE_SHARE_REQUESTS) or request.owner_agency_id != by.agency_id:
        raise ShareRequestError("You cannot decide this request", "decision")
    if request.status != WAITING:
        raise ShareRequestError("This request has already been decided", "decision")
    if accept is None:
        raise ShareRequestError("Select whether to share the record", "decision")
    if accept:
        person = db.session.get(Person, request.person_id)
        agency = db.session.get(Agency, request.requesting_agency_id)
        if person is None or agency is None:
            raise ShareRequestError("The record or the agency no longer exists", "decision")
        sharing.share(record=person, agency=agency, via="request", by=by, reason=request.reason)
        request.status = ACCEPTED
    else:
        request.decline_reason = _reason(reason, what="why the record will not be shared", field="decline_reason")
        request.status = DECLINED
    request.decided_by_id, request.decided_at = by.id, utcnow()
    db.session.flush()
    audit.record(f"share_request.{request.status}", user=by, record=request,
                 details={"person_id": str(request.person_id), "agency_id": str(request.requesting_agency_id)})
    return request


@dataclass(frozen=True)
class Shown:
    request: ShareRequest
    person: Any  # what the viewer is shown of the person (`person_names.PersonName`)
    agency: str  # the other agency: the requester's for the owner, the owner's for the requester
    by: str


def _shown(rows: list[ShareRequest], *, viewer: Any, other: str) -> list[Shown]:
    from . import person_names

    if not rows:
        return []
    people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_({r.person_id for r in rows})))}
    names = person_names.many_for_viewer(viewer, people.values())
    agencies = {i: name for i, name in db.session.execute(select(Agency.id, Agency.name).where(
        Agency.id.in_({getattr(r, other) for r in rows})))}
    users = {i: name for i, name in db.session.execute(select(User.id, User.name).where(
        User.id.in_({r.requested_by_id for r in rows})))}
    return [Shown(request=r, person=names[r.person_id], agency=agencies.get(getattr(r, other), ""),
                  by=users.get(r.requested_by_id, "")) for r in rows]


def waiting_for(manager: Any) -> list[Shown]:
    """The requests to the manager's agency waiting for a decision, oldest first."""
    if not policy.can(manager, policy.Permission.DECIDE_SHARE_REQUESTS):
        return []
    rows = list(db.session.scalars(select(ShareRequest).where(
        ShareRequest.owner_agency_id == manager.agency_id, ShareRequest.status == WAITING)
        .order_by(ShareRequest.created_at, ShareRequest.id)))
    return _shown(rows, viewer=manager, other="requesting_agency_id")


def made_by(user: Any) -> list[Shown]:
    """The user's own requests, newest first (the last few), with their decisions."""
    rows = list(db.session.scalars(select(ShareRequest).where(ShareRequest.requested_by_id == user.id)
                                   .order_by(ShareRequest.created_at.desc(), ShareRequest.id).limit(RECENT)))
    return _shown(rows, viewer=user, other="owner_agency_id")
