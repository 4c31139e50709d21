from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, ImportDigest, enum_column
from .vocab import PreventionKind


class PreventionActivity(ImportDigest, Base):
    """Fraud prevention work: Friends Against Scams recruitment, scam interventions."""

    __tablename__ = "prevention_activity"

    occurred_on: Mapped[dt.date] = mapped_column(index=True)
    kind: Mapped[PreventionKind] = enum_column(PreventionKind)
    friends_recruited: Mapped[int | None]
    savings_pence: Mapped[int | None]  # money in whole pence: no penny lost to floating point
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)

    @property
    def savings_gbp(self) -> Decimal | None:
        return None if self.savings_pence is None else Decimal(self.savings_pence) / 100
