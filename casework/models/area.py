from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Area(Base):
    """A designated place and the priorities it is designated for (shared across the partnership)."""

    __tablename__ = "area"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    locality: Mapped[str | None] = mapped_column(String(200))
    asb_priority: Mapped[bool] = mapped_column(default=False)
    sv_hotspot: Mapped[bool] = mapped_column(default=False)
    rural_hotspot: Mapped[bool] = mapped_column(default=False)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))


class Locality(Base):
    """A town or parish of the partnership's list: the only localities an incident (or an area) may
    name, and so the only ones the measures' breakdowns show (the localities service).

    `key` is the name folded for matching (`locality_key`: "  west   MOORS" finds West Moors)."""

    __tablename__ = "locality"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)


def locality_key(name: str) -> str:
    """A locality's name folded for matching: case and runs of spaces do not count."""
    return " ".join(name.split()).casefold()
