"""Sharing records with other agencies, and naming the users who may see a restricted record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from .. import policy
from ..db import db, rowcount
from ..models import Agency, RestrictedAccess, Share
from ..models.base import utcnow
from . import audit

VIA = ("referral", "hrda_meeting", "explicit", "request")  # request: a share request accepted


class SharingError(Exception):
    """A record could not be shared."""


def share(*, record: Any, agency: Agency, via: str, by: Any = None, reason: str | None = None,
          chosen: bool = True) -> Share:
    """Share `record` (person, incident, case, referral) with `agency`. An explicit share needs a reason
    and a user who may see the record, and is refused to an inactive agency when a user chose it
    (`chosen`; a merge keeping the merged record's agency in sight of its person chooses nothing);
    sharing again what is already shared changes nothing."""
    if via not in VIA:
        raise SharingError(f"Unknown kind of sharing {via!r}")
    if via == "explicit":
        if not (reason or "").strip():
            raise SharingError("Give the reason for sharing")
        if not policy.can(by, policy.Permission.SHARE_RECORDS) or not policy.can_view(by, record):
            raise SharingError("You cannot share this record")
        if chosen and not agency.active:
            raise SharingError(f"{agency.name} is no longer an active agency")
    kind = policy.kind_of(record)
    same = select(Share).where(Share.record_kind == kind, Share.record_id == record.id,
                               Share.agency_id == agency.id, Share.revoked_at.is_(None))
    if not chosen:
        # Made to keep an agency in sight of its own data (a merge): it must outlast a share that
        # ends on its own (an HRDA listing's, revoked when the actions are done).
        same = same.where(Share.via == via)
    existing = db.session.scalar(same.limit(1))
    if existing is not None:
        return existing
    row = Share(record_kind=kind, record_id=record.id, agency_id=agency.id, via=via,
                shared_by_id=getattr(by, "id", None))
    row.reason = reason.strip() if reason else None
    db.session.add(row)
    db.session.flush()
    audit.record("record.share", user=by, record=record, details={"agency_id": str(agency.id), "via": via})
    return row


def unshare(*, record: Any, agency: Agency, via: str, by: Any = None) -> int:
    """End the shares of `record` with `agency` made `via` (e.g. when an HRDA case's actions are done)."""
    kind = policy.kind_of(record)
    result = db.session.execute(update(Share).where(
        Share.record_kind == kind, Share.record_id == record.id, Share.agency_id == agency.id, Share.via == via,
        Share.revoked_at.is_(None)).values(revoked_at=utcnow()))
    if rowcount(result):
        audit.record("record.unshare", user=by, record=record, details={"agency_id": str(agency.id), "via": via})
    return rowcount(result) or 0


def name_on_restricted(*, record: Any, user: Any, by: Any = None) -> None:
    """Let `user` see a restricted record."""
    kind = policy.kind_of(record)
    if db.session.scalar(select(RestrictedAccess).where(
            RestrictedAccess.record_kind == kind, RestrictedAccess.record_id == record.id,
            RestrictedAccess.user_id == user.id)) is None:
        db.session.add(RestrictedAccess(record_kind=kind, record_id=record.id, user_id=user.id))
        db.session.flush()
        audit.record("record.restricted_access", user=by, record=record, details={"user_id": str(user.id)})
