"""The MARAC data return's rules, pure (docs/marac-return.md): the quarter, ages, which equality
answers count, and SafeLives' benchmarks."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from ..models.equality import ETHNICITIES, PREFER_NOT, Disability, GenderIdentity, SexualOrientation


class QuarterError(ValueError):
    """A quarter that is not one; the message says what is wrong and what is expected."""


QUARTER = re.compile(r"^(\d{4})-(\d{2})-Q([1-4])$")
EXAMPLE = "e.g. 2025-26-Q2 for July to September 2025"


@dataclass(frozen=True, order=True)
class Quarter:
    """A quarter of a UK financial year (April to March): `start_year` 2025, `number` 2 is
    2025-26-Q2, July to September 2025."""

    start_year: int
    number: int

    @property
    def name(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}-Q{self.number}"

    @property
    def first(self) -> dt.date:
        month = 4 + 3 * (self.number - 1)
        return dt.date(self.start_year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def last(self) -> dt.date:
        return self.next.first - dt.timedelta(days=1)

    @property
    def next(self) -> Quarter:
        return Quarter(self.start_year + (self.number == 4), self.number % 4 + 1)

    @property
    def previous(self) -> Quarter:
        return Quarter(self.start_year - (self.number == 1), (self.number - 2) % 4 + 1)

    @property
    def months(self) -> str:
        return f"{self.first:%B} to {self.last:%B %Y}"


def parse_quarter(text: str | None) -> Quarter:
    """`2025-26-Q2` (the financial year, then the quarter); anything else is refused, saying why."""
    value = (text or "").strip()
    if not value:
        raise QuarterError(f"Enter a quarter, {EXAMPLE}")
    match = QUARTER.match(value.upper())
    if match is None:
        raise QuarterError(f"{value!r} is not a quarter: write the financial year and the quarter, {EXAMPLE}")
    year, second, number = int(match[1]), int(match[2]), int(match[3])
    if second != (year + 1) % 100:
        raise QuarterError(f"{value!r} is not a financial year: {year} is followed by "
                           f"{(year + 1) % 100:02d}, {EXAMPLE}")
    if not 2000 <= year <= 2100:
        raise QuarterError(f"{value!r}: the year must be from 2000 to 2100")
    return Quarter(year, number)


def quarter_of(day: dt.date) -> Quarter:
    """The financial quarter holding `day`."""
    start_year = day.year if day.month >= 4 else day.year - 1
    return Quarter(start_year, (day.month - 4) % 12 // 3 + 1)


def age_on(born: dt.date, day: dt.date) -> int:
    """Whole years of age on `day`: a birthday on `day` counts (born 29 February: 1 March in a year
    without one)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# --- equality answers: True, False, or None (not known) ------------------------------------

MINORITISED = frozenset(code for code, _, _ in ETHNICITIES if code != "white_british")
KNOWN_ETHNICITIES = frozenset(code for code, _, _ in ETHNICITIES)


def black_and_minoritised(ethnicity: str | None) -> bool | None:
    """Every census group but White British (docs/marac-return.md); not recorded or "prefers not to
    say": not known."""
    if ethnicity not in KNOWN_ETHNICITIES:
        return None
    return ethnicity in MINORITISED


def disabled(disability: str | None) -> bool | None:
    if disability in (None, PREFER_NOT) or disability not in {d.value for d in Disability}:
        return None
    return disability in (Disability.A_LOT, Disability.A_LITTLE)


def lgbt(orientation: str | None, identity: str | None) -> bool | None:
    """LGBT+: a sexual orientation other than straight, or a gender identity different from the sex
    registered at birth. Known when either answer says yes, or both say no."""
    gay = None if orientation in (None, PREFER_NOT) else orientation != SexualOrientation.STRAIGHT
    trans = None if identity in (None, PREFER_NOT) else identity == GenderIdentity.DIFFERENT
    if gay or trans:
        return True
    if gay is False and trans is False:
        return False
    return None


# --- SafeLives' benchmarks ---------------------------------------------------------------------

CASES_PER_10000_WOMEN_A_YEAR = 40


@dataclass(frozen=True)
class Range:
    low: Decimal
    high: Decimal | None = None  # None: a single expected level

    def text(self) -> str:
        def pct(v: Decimal) -> str:
            return f"{(v * 100).normalize():f}%"

        return pct(self.low) if self.high is None else f"{pct(self.low)} to {pct(self.high)}"


# SafeLives' recommended levels for a MARAC (docs/marac-return.md gives the sources).
BENCHMARKS: dict[str, Range] = {
    "repeats": Range(Decimal("0.28"), Decimal("0.40")),
    "police": Range(Decimal("0.60"), Decimal("0.75")),
    "male": Range(Decimal("0.05"), Decimal("0.10")),
    "disabled": Range(Decimal("0.19")),
    "lgbt": Range(Decimal("0.025")),
}


def expected_cases(adult_women: int | None) -> int | None:
    """SafeLives' expected cases for a quarter: 40 a year per 10,000 adult women, for a quarter a
    fourth of it (rounded to the nearest case)."""
    if not adult_women:
        return None
    return round(Decimal(adult_women) * CASES_PER_10000_WOMEN_A_YEAR / 10_000 / 4)
