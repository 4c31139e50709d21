"""Periods: financial years written `2024/25` (1 April 2024 to 31 March 2025, both included)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
_PERIOD = re.compile(r"(\d{4})/(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PeriodError(ValueError):
    """A period or date argument that cannot be understood; the message says why."""


@dataclass(frozen=True, order=True)
class Period:
    """A financial year, named by the calendar year it starts in."""

    start_year: int

    @property
    def name(self) -> str:
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.start_year, 4, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.start_year + 1, 3, 31)

    @property
    def previous(self) -> Period:
        return Period(self.start_year - 1)

    def __contains__(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day

    def __str__(self) -> str:
        return self.name


def parse_period(text: str) -> Period:
    """`2024/25` -> Period(2024); anything else raises PeriodError naming what is wrong."""
    match = _PERIOD.fullmatch(text.strip()) if text else None
    if match is None:
        raise PeriodError(f"period {text!r} is not a financial year written like 2024/25")
    start = int(match.group(1))
    if not 1901 <= start <= 9998:
        raise PeriodError(f"period {text!r}: the year {start} is out of range")
    if int(match.group(2)) != (start + 1) % 100:
        raise PeriodError(f"period {text!r} is not a financial year: {start} is followed by "
                          f"{(start + 1) % 100:02d}, so write {Period(start).name}")
    return Period(start)


def parse_date(text: str, *, what: str = "date") -> dt.date:
    """A `YYYY-MM-DD` date; anything else raises PeriodError."""
    if not text or _DATE.fullmatch(text.strip()) is None:
        raise PeriodError(f"{what} {text!r} is not a date written like 2026-01-01")
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as e:
        raise PeriodError(f"{what} {text!r} is not a date: {e}") from None


def today_in_london(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Europe/London (the default as-of date)."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(LONDON).date()
