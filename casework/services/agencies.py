"""Partner agencies."""

from __future__ import annotations

from sqlalchemy import func, select

from ..db import db
from ..models import Agency, AgencyKind


class AgencyError(Exception):
    """An agency could not be added or changed."""


def add(*, name: str, kind: str | AgencyKind) -> Agency:
    """Add an agency; names are unique, whatever their case."""
    name = " ".join(name.split())
    if not name:
        raise AgencyError("The agency needs a name")
    try:
        kind = AgencyKind(kind)
    except ValueError:
        raise AgencyError(f"Unknown agency kind {kind!r}: use one of {', '.join(k.value for k in AgencyKind)}") from None
    if db.session.scalar(select(Agency).where(func.lower(Agency.name) == name.lower())):
        raise AgencyError(f"An agency called {name} already exists")
    agency = Agency(name=name, kind=kind)
    db.session.add(agency)
    db.session.flush()
    return agency


def by_name(name: str) -> Agency | None:
    return db.session.scalar(select(Agency).where(func.lower(Agency.name) == " ".join(name.split()).lower()))
