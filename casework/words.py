"""How pages write times, percentages and changes: one way each, in the users' words.

Times are stored in UTC (`models.base.UTCDateTime`) and always shown in Europe/London time, the
partnership's clock, so a note written at 09:30 in July reads 09:30, not 08:30 UTC. The template
filters (registered by `create_app`) are these functions: `{{ note.at | when }}`,
`{{ case.created_at | day }}`, `{{ 0.26 | percent }}`. No Flask here: the measures and the CLI
use the same functions.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
ONE_PLACE = Decimal("0.1")


def in_london(at: dt.datetime) -> dt.datetime:
    """An instant on the London clock (a naive datetime is taken to be UTC, as stored)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(LONDON)


def when(at: dt.datetime | None, *, seconds: bool = False) -> str:
    """`7 July 2026, 09:30` in London time (with seconds for the operators' pages); empty for None."""
    if at is None:
        return ""
    local = in_london(at)
    return f"{local.day} {local:%B %Y, %H:%M}" + (f":{local:%S}" if seconds else "")


def day(at: dt.datetime | dt.date | None) -> str:
    """`7 July 2026`: the London date of an instant, or a date as it is; empty for None."""
    if at is None:
        return ""
    if isinstance(at, dt.datetime):
        at = in_london(at).date()
    return f"{at.day} {at:%B %Y}"


def percent(fraction: Any, *, of_hundred: bool = False) -> str:
    """A proportion as a percentage to one decimal place, always: `0.26` gives `26.0%`.
    `of_hundred=True` for a value already in percent (`26` gives `26.0%`). Halves round up."""
    if fraction is None:
        return ""
    value = Decimal(str(fraction)) * (1 if of_hundred else 100)
    return f"{value.quantize(ONE_PLACE, rounding=ROUND_HALF_UP)}%"


def percentage_points(before: Any, after: Any) -> Decimal:
    """The change between two proportions in percentage points, to the one place a page shows."""
    points = (Decimal(str(after)) - Decimal(str(before))) * 100
    return points.quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


FILTERS = {"when": when, "day": day, "percent": percent}
