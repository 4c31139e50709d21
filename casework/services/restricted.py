"""Restricted records: a person, case or incident that only the users named on it may see.

Who may do what is `casework.policy`'s: a user of the owning agency who may
edit the record marks it restricted (`restrict`) or lifts the restriction
(`lift`); someone named on it who may edit it names others (`name`) or removes
them (`remove`). Who may be named: active users who may view records, of the
owning agency or of an agency the record is shared with (`candidates`).

Nobody is ever locked out by accident:
- whoever marks a record restricted is named on it in the same step, so the
  record never exists restricted with nobody able to see it;
- a removal is refused when it would leave nobody named who could still
  manage the record (an active user who may edit records), or nobody of the
  owning agency who could (`policy.keeper_filter`): a user of an agency the
  record is shared with never hides it from its owner. Removing oneself is
  allowed while someone else could; access ends at once;
- a user who leaves (deactivated, or no longer in a role that edits records)
  is not kept named at the expense of the leaver being deactivated at once;
  when that leaves a restricted record with no keeper of the owning agency,
  the agency's users who edit records see it in their list of records to
  recover (`orphaned`) and one may name themselves on it with a reason
  (`recover`), audited as "restriction.recovered". Until then it stays hidden.
  `users.deactivate` and `users.set_roles` report how many records a change
  left so (`left_unkept`).
Lifting the restriction forgets the names, so restricting the record again
later starts from the user doing it, not from an old list.

Every change is audited: marking and lifting as a change of the `restricted`
field (with the version it produced, so a stale edit form names it); naming
and removing with the user's id, never anything about the record's content.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, func, select, true

from .. import policy
from ..db import db, rowcount
from ..models import Agency, Base, Case, Incident, Person, RestrictedAccess, User
from . import audit, versioning


class RestrictionError(Exception):
    """A restriction could not be changed; the message says why, in the user's words."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAllowed(Exception):
    """The user may not change this record's restriction (callers answer 404 or 403)."""


def _named(record: Any) -> Any:
    kind = policy.kind_of(record)
    return select(RestrictedAccess.user_id).where(RestrictedAccess.record_kind == kind,
                                                  RestrictedAccess.record_id == record.id)


def named_users(record: Any) -> list[User]:
    """The users named on `record`, by name (deactivated ones too: the page says so)."""
    return list(db.session.scalars(select(User).where(User.id.in_(_named(record)))
                                   .order_by(func.lower(User.name), User.email)))


def candidates(record: Any) -> list[User]:
    """The users who may be named on `record` and are not yet (see `policy.nameable_filter`)."""
    return list(db.session.scalars(
        select(User).where(policy.nameable_filter(record, User), User.id.not_in(_named(record)))
        .order_by(func.lower(User.name), User.email)))


def restrict(record: Any, *, by: Any) -> None:
    """Mark `record` restricted and name `by` on it, so they keep seeing it."""
    _lock(record)
    if not policy.can_restrict(by, record):
        raise NotAllowed("Only the owning agency restricts a record")
    if record.restricted:
        raise RestrictionError("This record is already restricted")
    _add_name(record, by)  # before the flag, while `by` can still see the record
    record.restricted = True
    db.session.flush()
    versioning.record_edit(record, action=f"{policy.kind_of(record)}.restrict", fields=["restricted"], user=by)


def lift(record: Any, *, by: Any) -> None:
    """Lift the restriction: the record is seen again by its agency and those it is shared with."""
    _lock(record)
    if not policy.can_restrict(by, record):
        raise NotAllowed("Only the owning agency lifts a restriction")
    if not record.restricted:
        raise RestrictionError("This record is not restricted")
    kind = policy.kind_of(record)
    forgotten = rowcount(db.session.execute(delete(RestrictedAccess).where(
        RestrictedAccess.record_kind == kind, RestrictedAccess.record_id == record.id)))
    record.restricted = False
    db.session.flush()
    audit.record(f"{kind}.unrestrict", user=by, record=record,
                 details={"fields": ["restricted"], "version": record.version, "names_removed": forgotten or 0})


def name(record: Any, *, user: User | None, by: Any) -> None:
    """Name `user` on restricted `record`, so they may see it."""
    _lock(record)
    if not record.restricted:
        raise RestrictionError("This record is not restricted", "user")
    if not policy.can_manage_restriction(by, record):
        raise NotAllowed("Only someone named on the record changes who is named")
    if user is None:
        raise RestrictionError("Select the user to name", "user")
    if db.session.scalar(_named(record).where(RestrictedAccess.user_id == user.id)) is not None:
        raise RestrictionError(f"{user.name} is already named on this record", "user")
    allowed = db.session.scalar(select(User.id).where(User.id == user.id, policy.nameable_filter(record, User)))
    if allowed is None:
        raise RestrictionError("Select a user from the list: an active user of an agency that may see "
                               "this record", "user")
    _add_name(record, user, by=by)


def remove(record: Any, *, user: User | None, by: Any) -> None:
    """Remove `user` from restricted `record`: their access ends at once. Refused when nobody left
    named could still manage the record."""
    _lock(record)
    if not record.restricted:
        raise RestrictionError("This record is not restricted", "user")
    if not policy.can_manage_restriction(by, record):
        raise NotAllowed("Only someone named on the record changes who is named")
    if user is None or db.session.scalar(_named(record).where(RestrictedAccess.user_id == user.id)) is None:
        raise RestrictionError("Select a user named on this record", "user")
    editors = policy.roles_with(policy.Permission.EDIT_RECORDS)
    who = "You are" if user.id == getattr(by, "id", None) else f"{user.name} is"
    if not any(other.id != user.id and other.active and other.roles & editors for other in named_users(record)):
        raise RestrictionError(f"{who} the last person named who can manage this record: name someone "
                               "else first", "user")
    if not _kept(record, without=user.id):
        owner = _agency_name(record.owner_agency_id)
        raise RestrictionError(f"{who} the last person of {owner}, which owns this record, named who can manage "
                               f"it: {owner} must keep someone named. Name another user of {owner} first", "user")
    kind = policy.kind_of(record)
    db.session.execute(delete(RestrictedAccess).where(
        RestrictedAccess.record_kind == kind, RestrictedAccess.record_id == record.id,
        RestrictedAccess.user_id == user.id))
    db.session.flush()
    audit.record("record.restricted_access_removed", user=by, record=record, details={"user_id": str(user.id)})


def _lock(record: Any) -> None:
    """Lock `record`'s row until the transaction ends and read it afresh: changes to who is named are
    made one at a time, each reading the names the one before left (two named users removing each
    other at once would otherwise leave nobody named; a name added while the restriction is lifted
    would outlive it). On SQLite a writing transaction already holds the database's write lock."""
    db.session.refresh(record, with_for_update=True)


def _add_name(record: Any, user: Any, *, by: Any = None) -> None:
    from . import sharing

    sharing.name_on_restricted(record=record, user=user, by=by if by is not None else user)


# --- recovery: a restricted record nobody of its agency can manage any more ------------------------

RECOVERABLE: tuple[type[Base], ...] = (Person, Case, Incident)


def _keepers(model_or_record: Any, kind: str, record_id: Any) -> Any:
    return exists().where(RestrictedAccess.record_kind == kind, RestrictedAccess.record_id == record_id,
                          RestrictedAccess.user_id == User.id, policy.keeper_filter(model_or_record, User))


def _kept(record: Any, *, without: Any = None) -> bool:
    """Whether someone named on `record` keeps it for its owning agency (`policy.keeper_filter`),
    leaving out the user `without`."""
    kind = policy.kind_of(record)
    condition = _keepers(record, kind, record.id)
    if without is not None:
        condition = condition.where(User.id != without)
    return bool(db.session.scalar(select(condition)))


def is_kept(record: Any) -> bool:
    """Whether restricted `record` still has someone named who keeps it for its owning agency."""
    return _kept(record)


def _agency_name(agency_id: Any) -> str:
    agency = db.session.get(Agency, agency_id)
    return agency.name if agency is not None else "the owning agency"


def _unkept(model: type) -> Any:
    kind = policy.kind_of(model)
    merged = getattr(model, "merged_into_id", None)
    return select(model).where(model.restricted.is_(True), merged.is_(None) if merged is not None else true(),  # type: ignore[attr-defined]
                               ~_keepers(model, kind, model.id))  # type: ignore[attr-defined]


def orphaned(*, agency_id: Any) -> list[tuple[str, Any]]:
    """The restricted people, cases and incidents of the agency `agency_id` with nobody named who keeps them
    (kind and record, oldest first): what its users who edit records may recover."""
    found: list[tuple[str, Any]] = []
    for model in RECOVERABLE:
        rows = db.session.scalars(_unkept(model).where(model.owner_agency_id == agency_id)  # type: ignore[attr-defined]
                                  .order_by(model.created_at))
        found += [(policy.kind_of(model), row) for row in rows]
    return found


def left_unkept(user: User) -> int:
    """How many restricted records `user` is named on have nobody named who keeps them for their
    owning agency: after `user` is deactivated or loses a role, what their agency must recover."""
    total = 0
    for model in RECOVERABLE:
        kind = policy.kind_of(model)
        total += db.session.scalar(select(func.count()).select_from(_unkept(model).where(exists().where(
            RestrictedAccess.record_kind == kind, RestrictedAccess.record_id == model.id,
            RestrictedAccess.user_id == user.id)).subquery())) or 0
    return total


def can_recover(user: Any, record: Any) -> bool:
    """Whether `user` may recover `record` now (`policy.can_recover_restriction`)."""
    if not getattr(record, "restricted", False):
        return False
    return policy.can_recover_restriction(user, record, kept=_kept(record))


def recover(record: Any, *, by: Any, reason: str | None) -> None:
    """Name `by` on restricted `record` that nobody named keeps for its owning agency any more (see
    the module docstring), with a reason: audited as "restriction.recovered", the reason stored
    encrypted with the entry (readable on the audit page only)."""
    _lock(record)
    if not can_recover(by, record):
        raise NotAllowed("Only a user of the owning agency recovers a record nobody there can manage")
    text = (reason or "").strip()
    if not text:
        raise RestrictionError("Give the reason you are recovering this record", "reason")
    if len(text) > 1000:
        raise RestrictionError("The reason must be 1000 characters or fewer", "reason")
    kind = policy.kind_of(record)
    if db.session.scalar(_named(record).where(RestrictedAccess.user_id == by.id)) is None:
        db.session.add(RestrictedAccess(record_kind=kind, record_id=record.id, user_id=by.id))
    db.session.flush()
    audit.record("restriction.recovered", user=by, record=record, details={"user_id": str(by.id)}, terms=text)
