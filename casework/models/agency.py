from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column
from .vocab import AgencyKind


class Agency(Base):
    """A partner organisation: it owns the records its staff create or import."""

    __tablename__ = "agency"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[AgencyKind] = enum_column(AgencyKind)
