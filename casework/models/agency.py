from __future__ import annotations

from sqlalchemy import Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column
from .vocab import AgencyKind


class Agency(Base):
    """A partner organisation: it owns the records its staff create or import.

    An inactive agency (one that has left the partnership, or was added by mistake) keeps its
    records, shares and history, but is no longer offered where an agency is chosen, and has no
    active users (see the agencies service)."""

    __tablename__ = "agency"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[AgencyKind] = enum_column(AgencyKind)
    active: Mapped[bool] = mapped_column(default=True)


# Names are unique whatever their case. The service checks first, with a message; this holds when two
# names differing only in case are added or renamed at the same moment (each check saw neither).
Index("uq_agency_lower_name", func.lower(Agency.__table__.c.name), unique=True)
