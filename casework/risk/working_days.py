"""Working days: Monday to Friday, except the bank holidays of England and Wales as the `holidays`
library publishes them (one-off days, such as a coronation, and substitute days included)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any


@functools.lru_cache(maxsize=64)
def _holidays(first_year: int, last_year: int) -> Any:
    import holidays

    return holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year, day.year)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (`start` itself is not counted): "within N
    working days of D" means on or before `add_working_days(D, N)`."""
    off = _holidays(start.year, start.year + 1 + days // 200)
    day, left = start, days
    while left > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            left -= 1
    return day


def working_days_before(day: dt.date, days: int) -> dt.date:
    """The working day `days` working days before `day` (`day` itself when 0 and a working day; the
    working day before it when it is not)."""
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    for _ in range(days):
        day -= dt.timedelta(days=1)
        while not is_working_day(day):
            day -= dt.timedelta(days=1)
    return day
