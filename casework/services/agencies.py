"""Partner agencies: adding, renaming, changing their kind, deactivating and reactivating them.

Names are unique whatever their case and spacing ("NHS  dorset" is "NHS Dorset"): checked first,
with a message; a unique index on lower(name) holds it when two names differing only in case are
saved at the same moment (each check saw neither), and the second is refused with the same message.

An inactive agency is one that has left the partnership (or was added by
mistake). Its records, shares, users and audit history stay exactly as they
were, and its name still shows wherever those records are shown; it is simply
no longer offered where an agency is chosen (a new user's agency, the
receiving agency of a referral, the agencies invited to an HRDA meeting or
given an action, an explicit share), and services refuse it there too.

An agency is deactivated only once it has no active users: deactivating one
that still has some is refused with a message saying how many to deactivate
first. That keeps one simple invariant (an inactive agency never has a user
who can sign in) without deactivating people as a side effect of another
page. For the same reason a user of an inactive agency is not reactivated.

Every change is audited with the names of the fields changed, never their values.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..db import db
from ..models import Agency, AgencyKind, User
from . import audit

NAME_MAX = 120


class AgencyError(Exception):
    """An agency could not be added or changed; the message says why, in the user's words."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise AgencyError("Enter the agency's name", "name")
    if len(name) > NAME_MAX:
        raise AgencyError(f"The agency's name must be {NAME_MAX} characters or fewer", "name")
    return name


def _clean_kind(kind: str | AgencyKind | None) -> AgencyKind:
    try:
        return AgencyKind(kind or "")  # (None, like "", is no kind)
    except ValueError:
        raise AgencyError(f"Unknown agency kind {kind!r}: use one of {', '.join(k.value for k in AgencyKind)}",
                          "kind") from None


def _name_taken(name: str, *, other_than: Agency | None = None) -> bool:
    # The database's lower(), as its unique index uses (SQLite's folds ASCII letters only).
    query = select(Agency.id).where(func.lower(Agency.name) == func.lower(name))
    if other_than is not None:
        query = query.where(Agency.id != other_than.id)
    return db.session.scalar(query) is not None


def _check_unique(name: str, *, other_than: Agency | None = None) -> None:
    if _name_taken(name, other_than=other_than):
        raise AgencyError(f"An agency called {name} already exists", "name")


@contextmanager
def _saved_unique(name: str, *, other_than: Agency | None = None) -> Iterator[None]:
    """Make the changes of the block and flush them in a savepoint. Another agency of the same name
    whatever its case, saved at the same moment, makes the flush hit the unique index: the savepoint
    is rolled back and the name refused as `_check_unique` refuses it. Any other integrity error is
    not hidden."""
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except IntegrityError:
        _check_unique(name, other_than=other_than)
        raise


def add(*, name: str, kind: str | AgencyKind, by: Any = None) -> Agency:
    """Add an agency; names are unique, whatever their case."""
    name = _clean_name(name)
    agency_kind = _clean_kind(kind)
    _check_unique(name)
    agency = Agency(name=name, kind=agency_kind, active=True)
    with _saved_unique(name):
        db.session.add(agency)
    audit.record("agency.create", user=by, record=agency, details={"fields": ["kind", "name"]})
    return agency


def update(*, agency: Agency, name: str | None, kind: str | AgencyKind | None, by: Any = None) -> list[str]:
    """Rename an agency and/or change its kind; returns the fields changed (none: nothing is written)."""
    new_name = _clean_name(name)
    new_kind = _clean_kind(kind)
    _check_unique(new_name, other_than=agency)
    changed = [field for field, differs in (("name", new_name != agency.name), ("kind", new_kind is not agency.kind))
               if differs]
    if changed:
        with _saved_unique(new_name, other_than=agency):
            agency.name, agency.kind = new_name, new_kind
        audit.record("agency.update", user=by, record=agency, details={"fields": changed})
    return changed


def active_user_count(agency: Agency) -> int:
    return db.session.scalar(select(func.count()).select_from(User)
                             .where(User.agency_id == agency.id, User.active.is_(True))) or 0


def deactivate(*, agency: Agency, by: Any = None) -> None:
    """Stop offering an agency; refused while it has active users (see the module's docstring)."""
    lock(agency)
    if not agency.active:
        raise AgencyError(f"{agency.name} is already inactive")
    users = active_user_count(agency)
    if users:
        raise AgencyError(f"{agency.name} still has {users} active user{'s' if users != 1 else ''}: "
                          f"deactivate {'them' if users != 1 else 'that user'} first")
    agency.active = False
    db.session.flush()
    audit.record("agency.deactivate", user=by, record=agency, details={"fields": ["active"]})


def reactivate(*, agency: Agency, by: Any = None) -> None:
    """Offer an inactive agency again."""
    if agency.active:
        raise AgencyError(f"{agency.name} is already active")
    agency.active = True
    db.session.flush()
    audit.record("agency.reactivate", user=by, record=agency, details={"fields": ["active"]})


def lock(agency: Agency, *, shared: bool = False) -> None:
    """Lock the agency's row until the transaction ends and read it afresh. Deactivating takes it
    exclusively, adding or reactivating one of its users `shared`: so an agency is never deactivated
    while a user is being added to it (each would read the other's state from before its commit and
    leave an inactive agency with an active user). SQLite's writers hold the write lock already."""
    db.session.refresh(agency, with_for_update={"read": True} if shared else True)


def require_active(agency: Agency, *, field: str | None = None) -> None:
    """Refuse an inactive agency where one is chosen (services call this beside their own checks)."""
    if not agency.active:
        raise AgencyError(f"{agency.name} is no longer an active agency: choose another", field)


def listing() -> list[Agency]:
    """Every agency, active or not, by name (the admin page)."""
    return list(db.session.scalars(select(Agency).order_by(func.lower(Agency.name))))


def offered() -> list[Agency]:
    """The agencies offered where one is chosen: the active ones, by name."""
    return list(db.session.scalars(select(Agency).where(Agency.active.is_(True))
                                   .order_by(func.lower(Agency.name))))


def get(agency_id: Any) -> Agency | None:
    return db.session.get(Agency, agency_id)


def by_name(name: str) -> Agency | None:
    return db.session.scalar(select(Agency).where(func.lower(Agency.name) == " ".join(name.split()).lower()))


def partners() -> list[Agency]:
    """The partnership's active agencies by name: the controllers the privacy notice names."""
    return list(db.session.scalars(select(Agency).where(Agency.active).order_by(func.lower(Agency.name))))
