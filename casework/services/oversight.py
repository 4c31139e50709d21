"""What a manager looks at first: the partnership measures that worsened, their agency's overdue case
reviews, and the referrals waiting for their agency's decision."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from .. import policy
from ..db import db
from ..models import Case, CaseStatus, Referral, ReferralStatus
from . import measure_pages

SHOWN = 10  # rows of each list; the count says how many there are in all


@dataclass(frozen=True)
class Listed:
    rows: list[Any]
    total: int


def worsened_measures(*, as_of: dt.date) -> tuple[Any, list[measure_pages.Row]]:
    """The last full financial year, and its measures that moved against their target from the year
    before (as the measures page tags them)."""
    period = measure_pages.current_period(as_of).previous
    _document, groups = measure_pages.dashboard(period=period, as_of=as_of, suppress=False)
    return period, [row for rows in groups.values() for row in rows if row.trend == "worsening"]


def overdue_reviews(viewer: Any, *, today: dt.date) -> Listed:
    """The viewer's agency's open cases whose review date has passed, most overdue first."""
    where = (Case.owner_agency_id == viewer.agency_id, Case.status != CaseStatus.CLOSED,
             Case.review_on.is_not(None), Case.review_on < today, policy.visible_filter(viewer, Case))
    return Listed(list(db.session.scalars(select(Case).where(*where).order_by(Case.review_on, Case.id).limit(SHOWN))),
                  db.session.scalar(select(func.count()).select_from(Case).where(*where)) or 0)


def referrals_waiting(viewer: Any) -> Listed:
    """Referrals to the viewer's agency that nobody there has decided yet, longest waiting first."""
    where = (Referral.receiving_agency_id == viewer.agency_id, Referral.status == ReferralStatus.SUBMITTED,
             Referral.imported.is_(False), policy.visible_filter(viewer, Referral))
    return Listed(list(db.session.scalars(select(Referral).where(*where)
                                          .order_by(Referral.referred_on, Referral.created_at).limit(SHOWN))),
                  db.session.scalar(select(func.count()).select_from(Referral).where(*where)) or 0)
