"""The columns of each file of the data exchange format (docs/data-exchange.md), their types and
the rules between columns of one row.

A parser takes a cell with its surrounding spaces removed and returns the value to store, or
raises `Invalid` with a message for the user. Blank cells never reach a parser: they read as the
column's `blank` value ("not known", or `n` for a flag).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .. import crypto, values
from ..models.order import OrderKind, OrderStatus
from ..models.vocab import (
    AgencyKind,
    AsbType,
    Category,
    CjStatus,
    Gender,
    HrdaCriteria,
    PartyRole,
    PreventionKind,
    ProgrammeOutcome,
    RecordKind,
    ReferralType,
)

MAX_REF = 64
MAX_TEXT = values.MAX_LINE  # every text column is one line: a name, a place, an area


class Invalid(ValueError):
    """A cell that is not a value of its column's type; the message is shown to the user."""


def ref(text: str) -> str:
    if len(text) > MAX_REF:
        raise Invalid(f"a ref is at most {MAX_REF} characters (this one has {len(text)})")
    if not text.isprintable():
        raise Invalid("a ref may hold printable characters only")
    _no_formula(text)
    return text


def text(value: str) -> str:
    """A text cell: at most `MAX_TEXT` characters, and nothing a spreadsheet would run as a formula
    (`casework.values`, the rule the forms apply too)."""
    problem = values.length_problem(value, MAX_TEXT)
    if problem:
        raise Invalid(problem)
    _no_formula(value)
    return value


def _no_formula(value: str) -> None:
    problem = values.formula_problem(value)
    if problem:
        raise Invalid(f"{value[:20]!r}{'...' if len(value) > 20 else ''} {problem}")


def date(value: str) -> dt.date:
    digits = value[:4] + value[5:7] + value[8:]
    if len(value) != 10 or value[4] != "-" or value[7] != "-" or not (digits.isascii() and digits.isdigit()):
        raise Invalid(f"{value!r} is not a date: use YYYY-MM-DD")
    try:
        return dt.date(int(value[:4]), int(value[5:7]), int(value[8:]))
    except ValueError:
        raise Invalid(f"{value} is not a real date") from None


def date_of_birth(value: str) -> dt.date:
    """A date that is today or in the past (`casework.values`, the rule the person form applies)."""
    born = date(value)
    problem = values.date_of_birth_problem(born)
    if problem:
        raise Invalid(f"{value} {problem}")
    return born


_FLAGS = {"y": True, "yes": True, "true": True, "1": True, "n": False, "no": False, "false": False, "0": False}


def flag(value: str) -> bool:
    try:
        return _FLAGS[value.lower()]
    except KeyError:
        raise Invalid(f"{value!r} is not a flag: use y or n") from None


def whole(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not (value.isascii() and value.isdigit()):
            raise Invalid(f"{value!r} is not a whole number" + (" of 0 or more" if low == 0 and high is None else ""))
        number = int(value)
        if number < low or (high is not None and number > high):
            raise Invalid(f"{number} is out of range ({low} to {high})" if high is not None
                          else f"{number} is below {low}")
        return number
    return parse


_MONEY = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


def money_pence(value: str) -> int:
    """Pounds with at most two decimal places, as whole pence (never through floating point)."""
    m = _MONEY.fullmatch(value)
    if m is None:
        raise Invalid(f"{value!r} is not an amount of money: use pounds, like 1234.50")
    if m[1]:
        raise Invalid(f"{value} is negative")
    if m[3] and len(m[3]) > 2:
        raise Invalid(f"{value} has more than two decimal places")
    return int(m[2]) * 100 + int((m[3] or "").ljust(2, "0"))


def postcode(value: str) -> str:
    normal = crypto.normalise_postcode(value)
    if normal is None:
        raise Invalid(f"{value!r} is not a UK postcode")
    return normal


def choice(kind: type[enum.Enum], what: str) -> Callable[[str], Any]:
    members = {m.value: m for m in kind}

    def parse(value: str) -> Any:
        member = members.get(value) or members.get(value.lower())
        if member is None:
            raise Invalid(f"{value!r} is not {what}; use one of: {', '.join(members)}")
        return member
    return parse


def level(value: str) -> int:
    if value not in ("1", "2", "3"):
        raise Invalid(f"{value!r} is not 1, 2 or 3")
    return int(value)


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    required: bool = False
    blank: Any = None


def _flag(name: str) -> Column:
    return Column(name, flag, blank=False)


Problem = tuple[str, str]  # (column, message)


@dataclass(frozen=True)
class FileSpec:
    """One file of a data set: its columns, the column holding its ref and its own row rules."""

    name: str
    columns: tuple[Column, ...]
    ref_column: str | None = None
    kind: RecordKind | None = None
    check: Callable[[dict[str, Any]], Iterator[Problem]] | None = None
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


def _check_incident(row: dict[str, Any]) -> Iterator[Problem]:
    if row["category"] is Category.ASB and row["asb_type"] is None:
        yield "asb_type", "required when the category is asb"
    elif row["category"] not in (Category.ASB, None) and row["asb_type"] is not None:
        yield "asb_type", f"only for asb incidents, not {row['category'].value}"


def _check_party(row: dict[str, Any]) -> Iterator[Problem]:
    if row["role"] is PartyRole.PERPETRATOR and row["cj_status"] is not None:
        yield "cj_status", "a victim's progress; leave it blank for a perpetrator"


# Which of the type-specific referral columns each type may fill in.
REFERRAL_TYPE_COLUMNS: dict[ReferralType, frozenset[str]] = {
    ReferralType.HRDA: frozenset({"criteria", "dash_score"}),
    ReferralType.IDVA: frozenset(),
    ReferralType.MAPPA: frozenset({"mappa_category", "mappa_level"}),
    ReferralType.PERPETRATOR_PROGRAMME: frozenset({"started_on", "ended_on", "outcome"}),
}
TYPE_SPECIFIC = frozenset().union(*REFERRAL_TYPE_COLUMNS.values())


def _check_referral(row: dict[str, Any]) -> Iterator[Problem]:
    kind = row["type"]
    if kind is None:
        return
    allowed = REFERRAL_TYPE_COLUMNS[kind]
    for name in sorted(TYPE_SPECIFIC - allowed):
        if row[name] is not None:
            yield name, f"does not belong to a {kind.value} referral; leave it blank"
    started, ended = row["started_on"], row["ended_on"]
    if started and ended and ended < started and "ended_on" in allowed:
        yield "ended_on", f"{ended} is before started_on {started}"


AREAS = FileSpec("areas.csv", (
    Column("area", text, required=True),
    Column("locality", text),
    _flag("asb_priority"), _flag("sv_hotspot"), _flag("rural_hotspot"),
))

PEOPLE = FileSpec("people.csv", (
    Column("person_ref", ref, required=True),
    Column("surname", text, required=True),
    Column("forenames", text),
    Column("date_of_birth", date_of_birth),
    Column("gender", choice(Gender, "a gender")),
    Column("postcode", postcode),
    _flag("mental_health"), _flag("substance_misuse"), _flag("complex_needs"),
), ref_column="person_ref", kind=RecordKind.PERSON)

INCIDENTS = FileSpec("incidents.csv", (
    Column("incident_ref", ref, required=True),
    Column("occurred_on", date, required=True),
    Column("category", choice(Category, "a category"), required=True),
    _flag("domestic_abuse"),
    Column("recorded_by", choice(AgencyKind, "an agency kind"), required=True),
    Column("locality", text),
    Column("area", text),
    _flag("rural"), _flag("alcohol"), _flag("drugs"), _flag("mental_health"),
    Column("asb_type", choice(AsbType, "an asb type")),
    Column("reported_on", date),  # the day the agency was told; blank: occurred_on (asb-case-review.md)
), ref_column="incident_ref", kind=RecordKind.INCIDENT, check=_check_incident)

PARTIES = FileSpec("parties.csv", (
    Column("incident_ref", ref, required=True),
    Column("person_ref", ref, required=True),
    Column("role", choice(PartyRole, "a role"), required=True),
    Column("cj_status", choice(CjStatus, "a criminal justice status")),
), check=_check_party)

REFERRALS = FileSpec("referrals.csv", (
    Column("referral_ref", ref, required=True),
    Column("person_ref", ref, required=True),
    Column("type", choice(ReferralType, "a referral type"), required=True),
    Column("referred_on", date, required=True),
    Column("started_on", date),
    Column("ended_on", date),
    Column("outcome", choice(ProgrammeOutcome, "an outcome")),
    Column("criteria", choice(HrdaCriteria, "a criterion")),
    Column("dash_score", whole(0, 24)),
    Column("mappa_category", level),
    Column("mappa_level", level),
), ref_column="referral_ref", kind=RecordKind.REFERRAL, check=_check_referral)

PREVENTION = FileSpec("prevention.csv", (
    Column("activity_ref", ref, required=True),
    Column("occurred_on", date, required=True),
    Column("kind", choice(PreventionKind, "a kind of prevention work"), required=True),
    Column("friends_recruited", whole(0)),
    Column("savings_gbp", money_pence),
), ref_column="activity_ref", kind=RecordKind.ACTIVITY)

def refs(value: str) -> tuple[str, ...]:
    """Refs separated by `;` (spaces around each ignored; an empty one refused, a repeated one kept once)."""
    found = [part.strip() for part in value.split(";")]
    if any(not part for part in found):
        raise Invalid(f"{value!r} has an empty ref: separate refs with a single ;")
    return tuple(dict.fromkeys(ref(part) for part in found))


def _check_order(row: dict[str, Any]) -> Iterator[Problem]:
    """The dates' rules of the order form (`casework.services.orders.date_problems`)."""
    from types import SimpleNamespace

    from ..services.orders import date_problems

    dates = SimpleNamespace(**{name: row[name] for name in ("applied_on", "issued_on", "served_on", "expires_on",
                                                            "review_on", "status")})
    yield from date_problems(dates, today=dt.date.today())


# orders and powers (issue 17 §2; docs/orders.md): held by the importing agency
ORDERS = FileSpec("orders.csv", (
    Column("order_ref", ref, required=True),
    Column("person_ref", ref, required=True),
    Column("kind", choice(OrderKind, "a kind of order or power"), required=True),
    Column("status", choice(OrderStatus, "an order's status"), required=True),
    Column("applied_on", date),
    Column("issued_on", date),
    Column("served_on", date),
    Column("expires_on", date),
    Column("review_on", date),
    Column("incident_refs", refs, blank=()),
), ref_column="order_ref", kind=RecordKind.ORDER, check=_check_order)

# In the order they are checked and written: every file refers only to files before it.
FILES: tuple[FileSpec, ...] = (AREAS, PEOPLE, INCIDENTS, PARTIES, REFERRALS, PREVENTION, ORDERS)
BY_NAME = {spec.name: spec for spec in FILES}
